"""Alembic environment for soleflip-analytics.

The database URL comes from ``alembic -x url=...``, from the caller
(soleflip_analytics.upgrade), or from DATABASE_URL. The whole upgrade runs in
one transaction: it applies completely or not at all. Each view it builds is
logged as a refresh (triggered by "migration"), so that status and health
count it as one. On the alembic command
line a missing or bad URL, an unreachable database or an unsupported server is
one line (exit 1), not a traceback.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.db import (
    CannotConnectError,
    DatabaseUrlMissing,
    InvalidDatabaseUrl,
    UnsupportedServerError,
    display_url,
    engine_from_url,
    one_line,
    require_supported_server,
)
from soleflip_analytics.names import DEPLOY_BOOKKEEPING_MARK, VERSION_TABLE, VERSION_TABLE_SCHEMA

# How long DDL waits for a lock held by a reader before the deploy gives up,
# instead of queueing every dashboard query behind it.
LOCK_TIMEOUT = "30s"


def _drop_version_table_if_empty(connection: Connection) -> None:
    """After a downgrade to base, leave no trace of the package behind."""
    table = f'"{VERSION_TABLE_SCHEMA}"."{VERSION_TABLE}"'
    exists = connection.execute(
        text("SELECT to_regclass(:name) IS NOT NULL"), {"name": table}
    ).scalar_one()
    if exists and connection.execute(text(f"SELECT NOT EXISTS (SELECT FROM {table})")).scalar_one():
        connection.execute(text(f"DROP TABLE {table}"))


# The deploy's own bookkeeping (logging the views it built) is marked, so that
# tests/test_frozen_migrations.py tells it apart from what the revisions send.
_MARK = DEPLOY_BOOKKEEPING_MARK
_VIEWS = text(
    _MARK + "SELECT c.relname::text, c.oid FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'analytics' AND c.relkind = 'm' AND c.relispopulated"
)
_START = text(_MARK + "SELECT clock_timestamp(), pg_current_snapshot()::text")
_CAN_LOG = text(_MARK + "SELECT to_regprocedure('analytics.log_refresh(text, text, text, text, "
                "timestamptz, bigint, text, text, pg_snapshot)') IS NOT NULL")
_LOG_BUILD = text(
    _MARK + "SELECT analytics.log_refresh(:view, 'migration', 'succeeded', 'plain', :started, "
    ":rows, NULL, 'built by the migration', CAST(:snapshot AS pg_snapshot))"
)


def _log_builds(connection: Connection, views_before: dict[str, int], started: object,
                snapshot: str) -> None:
    """Log each view the migrations built (populated, and new or rebuilt) as a refresh,
    taken when the deploy started: status and health then count it as one."""
    if not connection.execute(_CAN_LOG).scalar_one():
        return
    quote = connection.dialect.identifier_preparer.quote
    for view, oid in connection.execute(_VIEWS).all():
        if views_before.get(view) != oid:
            rows = connection.execute(text(f"{_MARK}SELECT count(*) FROM analytics.{quote(view)}"))
            connection.execute(_LOG_BUILD, {"view": view, "started": started,
                                            "rows": rows.scalar_one(), "snapshot": snapshot})


def _run(connection: Connection) -> None:
    require_supported_server(connection)
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        version_table_schema=VERSION_TABLE_SCHEMA,
    )
    with context.begin_transaction():
        connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        started, snapshot = connection.execute(_START).one()
        views_before = dict(connection.execute(_VIEWS).all())
        context.run_migrations()
        _log_builds(connection, views_before, started, snapshot)
        _drop_version_table_if_empty(connection)


def run_migrations_online() -> None:
    config = context.config
    # A caller (such as pytest-alembic) may hand over its own Connection or Engine.
    connectable = config.attributes.get("connection")
    if isinstance(connectable, Connection):
        _run(connectable)
        return
    if connectable is None:
        x_args = context.get_x_argument(as_dictionary=True)
        url = x_args.get("url") or config.attributes.get("url")
        connectable = engine_from_url(url, poolclass=pool.NullPool)
    try:
        connection = connectable.connect()
    except DBAPIError as error:
        raise CannotConnectError(
            f"cannot connect to {display_url(connectable.url)}: {one_line(error)}"
        ) from error
    with connection:
        _run(connection)
        connection.commit()


@contextmanager
def _one_line_errors_on_the_command_line() -> Iterator[None]:
    """Under the alembic command, the package's errors as one line and exit 1."""
    if context.config.cmd_opts is None:  # soleflip_analytics.upgrade() or a test
        yield
        return
    try:
        yield
    except (DatabaseUrlMissing, InvalidDatabaseUrl, CannotConnectError,
            UnsupportedServerError) as error:
        sys.exit(f"soleflip-analytics: {error}")
    except DBAPIError as error:
        sys.exit(f"soleflip-analytics: the migration failed and changed nothing: "
                 f"{one_line(error)}")


if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)
if context.is_offline_mode():
    raise SystemExit(
        "soleflip-analytics migrations check the database before they change it; "
        "offline (--sql) mode is not supported."
    )
with _one_line_errors_on_the_command_line():
    run_migrations_online()
