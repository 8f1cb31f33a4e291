"""``soleflip-analytics db``: deploy, inspect and check the packaged migrations."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import click
from sqlalchemy.engine import Engine

from soleflip_analytics import deploy
from soleflip_analytics.cli.common import connected, database_url_option, display, fail
from soleflip_analytics.drift import check_drift
from soleflip_analytics.schedules import install_schedules


class _EchoMigrationSteps(logging.Handler):
    """Print Alembic's "Running upgrade 0001 -> 0002, ..." lines as they happen."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Running "):
            step = message.removeprefix("Running ").replace("  -> ", " base -> ")
            click.echo(f"  {step}", err=True)


@contextlib.contextmanager
def _migration_steps_echoed() -> Iterator[None]:
    logger = logging.getLogger("alembic.runtime.migration")
    handler = _EchoMigrationSteps()
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def upgrade(engine: Engine, revision: str = "head", strict_schedules: bool = False) -> None:
    """Upgrade, each revision committing on its own and echoed on stderr."""
    with engine.connect() as connection, _migration_steps_echoed():
        deploy.upgrade(connection, revision, strict_schedules=strict_schedules or None)
        connection.commit()


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return deploy.current_revision(connection)


def _revision_label(revision: str | None) -> str:
    return revision or "base (nothing deployed)"


@click.group()
def db() -> None:
    """Deploy, inspect and check the packaged migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.option("--strict-schedules", is_flag=True,
              help="Fail, changing nothing, if the refresh schedules cannot be installed in "
                   "pg_cron (default: warn; also SOLEFLIP_ANALYTICS_STRICT_SCHEDULES=1).")
@database_url_option
def db_upgrade(revision: str, strict_schedules: bool, database_url: str | None) -> None:
    """Apply the migrations up to REVISION (default: head), each committing on its own."""
    with connected(database_url) as engine:
        before = _current_revision(engine)
        upgrade(engine, revision, strict_schedules)
        after = _current_revision(engine)
    if before == after:
        click.echo(f"already at {_revision_label(after)}")
    else:
        click.echo(f"upgraded {_revision_label(before)} -> {_revision_label(after)}")


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help='Do not ask before "base" drops everything.')
@database_url_option
def db_downgrade(revision: str, yes: bool, database_url: str | None) -> None:
    """Revert the migrations down to REVISION ("base" drops everything the package made)."""
    with connected(database_url) as engine:
        if revision == "base" and not yes:
            click.confirm(f"Drop every view, role grant and schedule of soleflip-analytics "
                          f"in {display(engine.url)}?", abort=True, err=True)
        before = _current_revision(engine)
        with engine.connect() as connection, _migration_steps_echoed():
            deploy.downgrade(connection, revision)
            connection.commit()
        after = _current_revision(engine)
    click.echo(f"downgraded {_revision_label(before)} -> {_revision_label(after)}")


@db.command("current")
@database_url_option
def db_current(database_url: str | None) -> None:
    """Show the deployed revision and whether it is the newest."""
    with connected(database_url) as engine:
        current = _current_revision(engine)
    head = deploy.head_revision()
    if current == head:
        click.echo(f"{current} (head)")
    elif current is None:
        click.echo(f"base: nothing deployed (head is {head}: run `soleflip-analytics db upgrade`)")
    else:
        click.echo(f"{current} (head is {head}: run `soleflip-analytics db upgrade`)")


@db.command("install-schedules")
@database_url_option
def db_install_schedules(database_url: str | None) -> None:
    """Install (or replace) the refresh schedules in pg_cron, e.g. after enabling pg_cron.

    Exit 1, saying why and how to fix it, when pg_cron cannot take them.
    """
    with connected(database_url) as engine:
        outcome = install_schedules(engine)
    click.echo(f"refresh schedules installed in pg_cron (database {outcome.cron_database})")


@db.command("history")
def db_history() -> None:
    """List the packaged migrations, newest first."""
    deploy.history()


@db.command("check")
@database_url_option
def db_check(database_url: str | None) -> None:
    """Compare each deployed view with its SQL file; exit 1 on drift.

    Definitions, columns, indexes and comments are compared, by building each
    file's view WITH NO DATA in a transaction that is rolled back.
    """
    with connected(database_url) as engine, engine.connect() as connection:
        report = check_drift(connection)
    for drift in report.drifts:
        click.echo(str(drift))
    if report.drifts:
        fail(f"{len(report.drifts)} difference(s) between the deployed views and their SQL "
             "files; `soleflip-analytics db upgrade` does not repair them: rebuild the view "
             "with a new migration or undo the change by hand")
    click.echo(f"no drift: {len(report.checked)} views match their SQL files")
