"""What every command shares: the database option, the connection helper, the error style
and the exit codes.

Exit codes, for every verb: 0 success; 1 the operation failed or found
problems (drift, a failed refresh, an unhealthy database, a missing source
contract); 2 it could not start (cannot connect, no database URL, a malformed or
unsupported URL, bad usage);
130 interrupted.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import click
from sqlalchemy import pool
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.catalog import UnknownTableError, UnknownViewError
from soleflip_analytics.contract import SourceContractError
from soleflip_analytics.dashboards.client import MetabaseError
from soleflip_analytics.dashboards.validate import TemplateError
from soleflip_analytics.db import (
    INSUFFICIENT_PRIVILEGE,
    DatabaseUrlMissing,
    InvalidDatabaseUrl,
    NotInstalledError,
    StandbyError,
    engine_from_url,
    one_line,
    sqlstate,
)
from soleflip_analytics.db import display_url as display
from soleflip_analytics.demo.server import LocalServerError
from soleflip_analytics.drift import NotDeployedError
from soleflip_analytics.names import (
    DEFAULT_ROLE_NAMES_V1,
    ENVIRONMENT_VARIABLES,
    READER,
    REFRESHER,
)
from soleflip_analytics.schedules import SchedulesNotInstalledError

EXIT_FAILED = 1
EXIT_CANNOT_START = 2
EXIT_INTERRUPTED = 130


class CannotConnect(RuntimeError):
    """The database server could not be reached or refused us."""


class CommandFailed(RuntimeError):
    """An operation failed in a way the user can act on; the message says how."""


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _grant_hint(command: str | None, error: DBAPIError) -> str:
    """For a permission error, which role the login needs."""
    if sqlstate(error) != INSUFFICIENT_PRIVILEGE:
        return ""
    names = {purpose: os.environ.get(ENVIRONMENT_VARIABLES[purpose]) or name
             for purpose, name in DEFAULT_ROLE_NAMES_V1.items()}
    if command in ("refresh", "status", "health"):
        return (f" (`soleflip-analytics {command}` needs the refresher role: "
                f"GRANT {names[REFRESHER]} TO the login of your database URL)")
    if command == "preview":
        return (f" (the dashboards need the reader role: GRANT {names[READER]} TO the login "
                "of your database URL)")
    return (f" (`soleflip-analytics {command}` runs as the role that owns the shop tables "
            "and deploys the views)")


class Commands(click.Group):
    """A group whose commands' errors become one line and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CannotConnect as error:
            fail(str(error), EXIT_CANNOT_START)
        except DatabaseUrlMissing:
            fail("no database URL: pass --database-url or set DATABASE_URL "
                 "(postgresql://user:password@host:port/dbname)", EXIT_CANNOT_START)
        except InvalidDatabaseUrl as error:
            fail(str(error), EXIT_CANNOT_START)
        except (UnknownViewError, UnknownTableError) as error:
            fail(str(error), EXIT_CANNOT_START)
        except (SourceContractError, NotDeployedError, NotInstalledError, StandbyError,
                LocalServerError, SchedulesNotInstalledError, MetabaseError, TemplateError,
                CommandFailed) as error:
            fail(str(error))
        except DBAPIError as error:
            fail(one_line(error) + _grant_hint(ctx.invoked_subcommand, error))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


database_url_option = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    metavar="URL",
    help="postgresql://user:password@host:port/dbname (default: $DATABASE_URL).",
)


@contextlib.contextmanager
def connected(database_url: str | None) -> Iterator[Engine]:
    """An engine for the database, after one successful connection."""
    engine = engine_from_url(database_url, poolclass=pool.NullPool)
    try:
        try:
            with engine.connect():
                pass
        except DBAPIError as error:
            raise CannotConnect(
                f"cannot connect to {display(engine.url)}: {one_line(error)}"
            ) from None
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr, fed with (done, total)."""
    with click.progressbar(length=max(total, 1), label=label, file=sys.stderr,
                           show_pos=True, width=30) as bar:
        def update(done: int, _total: int) -> None:
            bar.update(done - bar.pos)
        yield update
