"""``soleflip-analytics refresh``, ``status`` and ``health``: the views at run time."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click
from sqlalchemy.engine import Engine

from soleflip_analytics import console
from soleflip_analytics.catalog import select_views
from soleflip_analytics.cli.common import (
    EXIT_FAILED,
    CannotConnect,
    connected,
    database_url_option,
    fail,
)
from soleflip_analytics.db import (
    DatabaseUrlMissing,
    InvalidDatabaseUrl,
    require_installed,
    require_primary,
)
from soleflip_analytics.health import HealthProblem, HealthReport, check_health
from soleflip_analytics.names import TIERS
from soleflip_analytics.refresh import FAILED, RefreshResult, refresh_views
from soleflip_analytics.schedules import ScheduleStatus, schedule_status
from soleflip_analytics.status import ViewStatus, view_status


def refresh(engine: Engine, views: tuple[str, ...], tier: str | None,
             affected_by: tuple[str, ...], only_stale: bool,
             concurrently: bool) -> list[RefreshResult]:
    """Refresh the selected views one by one, a progress line each."""
    with engine.connect() as connection:
        require_installed(connection)
        require_primary(connection)
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


@click.command("refresh")
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
    with connected(database_url) as engine:
        results = refresh(engine, views, tier, affected_by, stale, concurrently)
    if not results:
        click.echo("no view matches")
        return
    click.echo(_refresh_summary(results))
    failed = sorted({r.view for r in results if r.status == FAILED})
    if failed:
        fail(f"{len(failed)} of {len(results)} refreshes failed: {', '.join(failed)}")


def status_table(statuses: list[ViewStatus]) -> str:
    """One row per view; read on a hot standby, its replay lag beside the last refresh."""
    standby = any(s.replay_lag is not None for s in statuses)
    return console.table(
        ["view", "rows", "size", "indexes", "last refresh",
         *["replay lag"] * standby, "age", "stale", "schedule"],
        [(f"analytics.{s.name}" + ("" if s.exists else " (missing)"),
          s.row_count if s.populated else "not populated",
          console.size(s.size_bytes),
          len(s.indexes),
          s.last_refreshed_at,
          *[s.replay_lag] * standby,
          s.age,
          s.stale,
          s.tier or "none") for s in statuses],
    )


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


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list, one object per view).")
@database_url_option
def status_command(as_json: bool, database_url: str | None) -> None:
    """Each view's rows, size, indexes, last refresh, age, staleness and schedule."""
    with connected(database_url) as engine:
        statuses = view_status(engine)
        jobs = [] if as_json else schedule_status(engine)
    if as_json:
        click.echo(console.to_json(statuses))
        return
    click.echo(status_table(statuses))
    click.echo("\n" + _schedules_report(jobs))
    for status in statuses:
        if status.last_attempt_status == FAILED:
            click.echo(f"analytics.{status.name}: latest refresh failed at "
                       f"{status.last_error_at}: {status.last_error}")


def _health_json(report: HealthReport) -> str:
    return console.to_json({"healthy": report.healthy, "checked_at": report.checked_at,
                            "views": report.views, "problems": report.problems,
                            "replay_lag": report.replay_lag})


@click.command("health")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@database_url_option
def health_command(as_json: bool, database_url: str | None) -> None:
    """For monitoring: exit 0 healthy, 1 problems (one line each), 2 cannot connect."""
    try:
        with connected(database_url) as engine:
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
        sys.exit(EXIT_FAILED)
