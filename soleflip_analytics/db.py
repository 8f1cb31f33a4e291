"""What the library's functions accept as a database: an Engine, a Connection or a URL.

The async variants also accept SQLAlchemy's AsyncEngine and AsyncConnection and
never block the event loop: on those they run through ``run_sync`` (every
statement is awaited on the async driver), on anything else in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from sqlalchemy import URL, create_engine, make_url, pool, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Bind: TypeAlias = Engine | Connection | str
AsyncBind: TypeAlias = "AsyncEngine | AsyncConnection | Engine | Connection | str"
T = TypeVar("T")


def _async_classes() -> tuple[type, type] | None:
    """(AsyncEngine, AsyncConnection), or None where SQLAlchemy's asyncio is not installed."""
    try:
        from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
    except ImportError:  # no greenlet: then nobody can have an AsyncEngine either
        return None
    return AsyncEngine, AsyncConnection


# The oldest PostgreSQL major supported: CI runs the core tests on it, on 15 and on 18.
OLDEST_SUPPORTED_MAJOR = 14
# Seconds the package's own connections from a URL string wait for the server,
# unless the URL sets connect_timeout itself (postgresql://…/shop?connect_timeout=30).
CONNECT_TIMEOUT = 10
DRIVERS = ("psycopg2", "psycopg")
_URL_FORM = "postgresql://user:password@host:port/dbname"
INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE of "permission denied"


class DatabaseUrlMissing(RuntimeError):
    """No database URL was given."""


class InvalidDatabaseUrl(ValueError):
    """The database URL is malformed, or names no PostgreSQL driver the package has."""


class CannotConnectError(RuntimeError):
    """The database server could not be reached, or refused the connection."""


class UnsupportedServerError(RuntimeError):
    """The PostgreSQL server is older than OLDEST_SUPPORTED_MAJOR."""


def resolve_url(url: str | None) -> str:
    """The URL given, else DATABASE_URL, with psycopg2 as the driver unless one is named.

    postgres:// (as some hosting services write it) is accepted too. A malformed URL,
    or one of another database or driver, raises InvalidDatabaseUrl.
    """
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        raise DatabaseUrlMissing(
            "No database URL: set DATABASE_URL or pass one "
            "(alembic -x url=postgresql://user@host/db upgrade head)."
        )
    for bare in ("postgres://", "postgresql://"):
        if url.startswith(bare):
            url = "postgresql+psycopg2://" + url[len(bare):]
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 (parsed on access: a port that is no number raises)
    except (ArgumentError, ValueError):  # their messages may quote the password
        raise InvalidDatabaseUrl(f"malformed database URL: write it as {_URL_FORM}") from None
    if parsed.get_backend_name() != "postgresql" or parsed.get_driver_name() not in DRIVERS:
        raise InvalidDatabaseUrl(
            f"unsupported database URL {parsed.drivername}://…: soleflip-analytics needs "
            f"PostgreSQL through psycopg2 or psycopg ({_URL_FORM}, or "
            f"postgresql+psycopg://…)"
        )
    return url


def engine_from_url(url: str | None, **options: Any) -> Engine:
    """An Engine for a URL string (None: DATABASE_URL), psycopg2 unless the URL names
    a driver, with a connect timeout of CONNECT_TIMEOUT seconds unless it sets one."""
    resolved = make_url(resolve_url(url))
    connect_args = {} if "connect_timeout" in resolved.query else {
        "connect_timeout": CONNECT_TIMEOUT}
    return create_engine(resolved, connect_args=connect_args, **options)


def display_url(url: str | URL) -> str:
    """The URL as a user writes it, password hidden."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=True)


def require_supported_server(connection: Connection) -> None:
    """Raise UnsupportedServerError for a server older than OLDEST_SUPPORTED_MAJOR."""
    major = connection.dialect.server_version_info[0]
    if major < OLDEST_SUPPORTED_MAJOR:
        raise UnsupportedServerError(
            f"PostgreSQL {major} is not supported: soleflip-analytics needs PostgreSQL "
            f"{OLDEST_SUPPORTED_MAJOR} or later; nothing was changed."
        )


def one_line(error: BaseException) -> str:
    """The driver's message (or the exception's) on one line, without libpq's severity prefixes."""
    message = str(getattr(error, "orig", None) or error)
    lines = [" ".join(line.replace("FATAL:  ", "").replace("ERROR:  ", "").split())
             for line in message.splitlines()]
    return "; ".join(line for line in lines if line)


class NotInstalledError(RuntimeError):
    """The database lacks the package's objects (the migrations were not applied)."""


@contextmanager
def connect(bind: Bind) -> Iterator[Connection]:
    """A connection with no transaction open, on which the caller begins its own."""
    if isinstance(bind, Connection):
        if bind.in_transaction():
            raise ValueError(
                "soleflip_analytics runs each step in a transaction of its own, but the "
                "connection it was given has one open: commit or roll it back first, or pass "
                "the Engine instead."
            )
        yield _transactional(bind)
    elif isinstance(bind, Engine):
        with bind.connect() as connection:
            yield _transactional(connection)
    elif isinstance(bind, str):
        engine = engine_from_url(bind, poolclass=pool.NullPool)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()
    else:
        raise TypeError(
            f"expected a SQLAlchemy Engine or Connection or a database URL, not "
            f"{type(bind).__name__} (for an AsyncEngine use the a… variant, e.g. arefresh_views)"
        )


def _transactional(connection: Connection) -> Connection:
    if getattr(connection.connection.dbapi_connection, "autocommit", False):
        raise ValueError(
            "soleflip_analytics needs real transactions (for its per-view timeouts and "
            "locks), but the connection it was given is in AUTOCOMMIT mode: pass an Engine "
            "or a connection without isolation_level='AUTOCOMMIT'."
        )
    return connection


def sync_engine(bind: Engine | str | AsyncEngine) -> Engine:
    """A synchronous Engine for a background thread: the Engine itself, or a new one."""
    if isinstance(bind, Engine):
        return bind
    if isinstance(bind, str):
        return engine_from_url(bind)
    async_classes = _async_classes()
    if async_classes and isinstance(bind, async_classes[0]):
        # The same database through psycopg2 (a dependency of this package).
        return create_engine(bind.url.set(drivername="postgresql+psycopg2"))
    raise TypeError(
        f"expected a SQLAlchemy Engine, AsyncEngine or a database URL, not {type(bind).__name__}"
        " (a Connection cannot be shared with a background thread)"
    )


async def run_async(function: Callable[..., T], bind: AsyncBind, *args: object,
                    **kwargs: object) -> T:
    """Run ``function(sync_bind, *args, **kwargs)`` without blocking the event loop."""
    async_engine, async_connection = _async_classes() or ((), ())
    if isinstance(bind, async_engine):
        async with bind.connect() as connection:
            return await connection.run_sync(function, *args, **kwargs)
    if isinstance(bind, async_connection):
        return await bind.run_sync(function, *args, **kwargs)
    return await asyncio.to_thread(function, bind, *args, **kwargs)


def require_installed(connection: Connection) -> None:
    """Raise NotInstalledError unless the refresh objects (revisions 0009 and 0011) exist."""
    installed = connection.execute(
        text(
            "SELECT to_regprocedure("
            "'analytics.refresh_view(text, boolean, text, boolean, boolean)') IS NOT NULL "
            "AND to_regprocedure("
            "'analytics.log_refresh_failure(text, text, timestamptz, text, text)') IS NOT NULL"
        )
    ).scalar_one()
    connection.rollback()
    if not installed:
        raise NotInstalledError(
            "This database lacks soleflip-analytics' refresh objects "
            "(analytics.refresh_view, analytics.log_refresh_failure, analytics.refresh_log): "
            "apply the migrations first: `soleflip-analytics db upgrade` (in Python: "
            "soleflip_analytics.upgrade(url); with Alembic: `alembic -x url=... upgrade head`)."
        )


class StandbyError(RuntimeError):
    """The server is a hot standby (read-only), and the call writes."""


def require_primary(connection: Connection) -> None:
    """Raise StandbyError on a hot standby, where nothing can be written."""
    in_recovery = connection.execute(text("SELECT pg_catalog.pg_is_in_recovery()")).scalar_one()
    connection.rollback()
    if in_recovery:
        raise StandbyError(
            "This server is a hot standby (read-only): refresh on the primary, whose "
            "refreshes the standby replays; status and health work on both."
        )


def sqlstate(error: DBAPIError) -> str | None:
    """The SQLSTATE of a driver error (psycopg2 calls it pgcode, psycopg sqlstate)."""
    return getattr(error.orig, "pgcode", None) or getattr(error.orig, "sqlstate", None)
