"""Are the views fit to be read? ``check_health()`` lists each problem in plain words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import exists, select, table, text
from sqlalchemy.engine import Connection

from soleflip_analytics import arguments
from soleflip_analytics.db import (
    AsyncBind,
    Bind,
    NotInstalledError,
    connect,
    require_installed,
    run_async,
)
from soleflip_analytics.drift import check_drift
from soleflip_analytics.schedules import ScheduleStatus, read_schedule_status
from soleflip_analytics.status import ViewStatus, read_view_status, replay_lag

# How old a view's data may get, by refresh tier: the schedule's period plus slack.
DEFAULT_MAX_AGE: Mapping[str, timedelta] = {
    "hourly": timedelta(hours=2),
    "daily": timedelta(hours=26),
    "weekly": timedelta(days=8),
}


@dataclass(frozen=True)
class HealthProblem:
    view: str | None
    check: str
    """not_installed, missing, not_populated, empty, never_refreshed, too_old,
    refresh_failed, refresh_interrupted or (a warning) definition_drift; for a pg_cron job
    (view None): schedule_missing, schedule_inactive or schedule_failed; on a hot standby
    (view None, a warning): replay_lag."""
    message: str
    warning: bool = False
    """A warning only: the view can be read, but something is off."""


@dataclass(frozen=True)
class HealthReport:
    checked_at: datetime
    views: tuple[str, ...]
    problems: tuple[HealthProblem, ...]
    replay_lag: timedelta | None = None
    """Checked on a hot standby: how far its replay is behind the primary (see
    ViewStatus.replay_lag). None on a primary."""

    @property
    def healthy(self) -> bool:
        """No problems but warnings."""
        return all(problem.warning for problem in self.problems)

    def __str__(self) -> str:
        if not self.problems:
            return f"healthy: {len(self.views)} views checked" + self._standby_note()
        lines = [f"{len(self.problems)} problem(s) in {len(self.views)} views:"]
        lines += [f"- {problem.message}" for problem in self.problems]
        return "\n".join(lines) + self._standby_note()

    def _standby_note(self) -> str:
        if self.replay_lag is None:
            return ""
        return f" (on a hot standby, replay lag {_words(self.replay_lag, seconds=True)})"


_SOURCES = text(
    "SELECT DISTINCT source_schema, source_name FROM analytics.view_sources "
    "WHERE view_name = :view ORDER BY 1, 2"
)
# SECURITY DEFINER: a refresher may not read the shop's tables themselves.
_SOURCES_HAVE_ROWS = text("SELECT analytics.sources_have_rows(:view)")


def _refresh_hint(view: str) -> str:
    return (f"`soleflip-analytics refresh {view}` "
            f"(in Python: soleflip_analytics.refresh_views(engine, [{view!r}])).")


def check_health(
    bind: Bind,
    *,
    max_age: Mapping[str, timedelta] | None = None,
    expected_views: Iterable[str] | None = None,
) -> HealthReport:
    """Check every expected view (by default those the migrations registered).

    Each must exist and be populated; must not be empty while its source tables
    hold rows that changed since its last refresh; must not be older than its
    tier allows (``max_age``, keyed by tier or view name, over DEFAULT_MAX_AGE);
    and its latest refresh must not have failed.

    On a hot standby nothing is written (neither the refresh log nor a scratch schema
    for the definitions, which are the primary's), the report carries the standby's
    replay lag, and a lag beyond what a checked view's tier allows is a warning.
    """
    max_age = arguments.max_ages("max_age", max_age)
    expected_views = arguments.names("expected_views", expected_views)
    limits = {**DEFAULT_MAX_AGE, **(max_age or {})}
    checked_at = datetime.now(timezone.utc)
    with connect(bind) as connection:
        try:
            require_installed(connection)
        except NotInstalledError as error:
            return HealthReport(checked_at, (), (HealthProblem(None, "not_installed", str(error)),))
        with connection.begin():
            statuses = {status.name: status for status in read_view_status(connection, False)}
            expected = (
                sorted(expected_views) if expected_views is not None
                else sorted(name for name, status in statuses.items() if status.tier is not None)
            )
            problems = [
                problem
                for name in expected
                for problem in _check_view(connection, name, statuses.get(name), limits)
            ]
            problems += [problem for job in read_schedule_status(connection)
                         for problem in _check_schedule(job)]
            problems += _check_definitions(connection, expected)
            lag = replay_lag(connection)
            problems += _check_replay_lag(lag, [statuses.get(name) for name in expected],
                                          limits)
    return HealthReport(checked_at, tuple(expected), tuple(problems), lag)


async def acheck_health(
    bind: AsyncBind,
    *,
    max_age: Mapping[str, timedelta] | None = None,
    expected_views: Iterable[str] | None = None,
) -> HealthReport:
    """check_health() for asyncio code, without blocking the event loop."""
    return await run_async(check_health, bind, max_age=max_age, expected_views=expected_views)


def _check_view(
    connection: Connection, name: str, status: ViewStatus | None,
    limits: Mapping[str, timedelta],
) -> list[HealthProblem]:
    view = f"analytics.{name}"
    if status is None or not status.exists:
        return [HealthProblem(
            name, "missing",
            f"{view} does not exist. Apply the migrations (soleflip-analytics db upgrade); if "
            "they are applied, someone dropped it: downgrade and upgrade its migration to "
            "rebuild it.",
        )]
    problems = []
    if not status.populated:
        problems.append(HealthProblem(
            name, "not_populated",
            f"{view} is not populated, so every query on it fails. Refresh it: "
            + _refresh_hint(name),
        ))
    elif status.stale and not _has_rows(connection, "analytics", name):
        if connection.execute(_SOURCES_HAVE_ROWS, {"view": name}).scalar_one():
            sources = connection.execute(_SOURCES, {"view": name}).all()
            problems.append(HealthProblem(
                name, "empty",
                f"{view} is empty although its sources ("
                + ", ".join(f"{schema}.{table_name}" for schema, table_name in sources)
                + ") hold rows that changed since its last successful refresh. Refresh it: "
                + _refresh_hint(name),
            ))
    limit = limits.get(name, limits.get(status.tier or ""))
    if status.data_as_of is None:
        problems.append(HealthProblem(
            name, "never_refreshed",
            f"{view} has no successful refresh on record. Check that its refresh schedule "
            f"({status.tier or 'none'}) runs, or refresh it by hand: "
            + _refresh_hint(name),
        ))
    elif limit is not None and status.age is not None and status.age > limit:
        problems.append(HealthProblem(
            name, "too_old",
            f"{view} shows data as of {status.data_as_of:%Y-%m-%d %H:%M:%S %Z}, "
            f"{_words(status.age)} ago; its {status.tier or 'configured'} schedule allows "
            f"{_words(limit)}. Check that the refresh schedule runs and look for errors in "
            "analytics.refresh_log.",
        ))
    if status.last_attempt_status == "interrupted":
        problems.append(HealthProblem(
            name, "refresh_interrupted",
            f"The latest refresh of {view} was interrupted: its server process ended before it "
            "finished (a killed client, a terminated session or a server restart). The view "
            "still shows its previous data; see analytics.refresh_log and refresh it again.",
        ))
    if status.last_attempt_status == "failed":
        problems.append(HealthProblem(
            name, "refresh_failed",
            f"The latest refresh of {view} failed at "
            f"{status.last_error_at:%Y-%m-%d %H:%M:%S %Z}: {status.last_error}. The view "
            "still shows its previous data. See analytics.refresh_log (column detail) for "
            "the hint, fix the cause and refresh it again.",
        ))
    return problems


def _check_replay_lag(lag: timedelta | None, statuses: list[ViewStatus | None],
                      limits: Mapping[str, timedelta]) -> list[HealthProblem]:
    """A warning when a standby's replay is further behind than a checked view's tier
    (or the view itself) allows its data to be old."""
    allowances = {}  # the tier's allowance, or the view's own where one is given
    for status in statuses:
        key = None if status is None else (
            status.name if status.name in limits else status.tier)
        if key in limits:
            allowances[key] = limits[key]
    tightest = min(allowances.items(), key=lambda allowance: allowance[1], default=None)
    if lag is None or tightest is None or lag <= tightest[1]:
        return []
    key, limit = tightest
    allowing = f"the {key} tier" if key in DEFAULT_MAX_AGE else f"analytics.{key}"
    return [HealthProblem(
        None, "replay_lag",
        f"warning: this hot standby's replay is {_words(lag, seconds=True)} behind the "
        f"primary, more than {allowing} allows ({_words(limit, seconds=True)}): Metabase "
        "reading it shows older numbers than the primary holds, whatever the refresh "
        "schedule does. See "
        "pg_stat_replication on the primary and this server's log (conflicts with "
        "recovery, a replay waiting for long queries).",
        warning=True,
    )]


# A hot standby (in recovery) is a copy of the primary's definitions and cannot
# create the scratch schema: `db check` runs on the primary.
_MAY_CREATE_SCHEMAS = text(
    "SELECT has_database_privilege(current_database(), 'CREATE') "
    "AND NOT pg_catalog.pg_is_in_recovery()"
)


def _check_definitions(connection: Connection, views: list[str]) -> list[HealthProblem]:
    """Warnings for views that no longer match their SQL files (``db check``), where the
    role may build the files in a scratch schema; others run ``db check`` as the owner."""
    if not connection.execute(_MAY_CREATE_SCHEMAS).scalar_one():
        return []
    wanted = set(views)
    return [
        HealthProblem(drift.view, "definition_drift",
                      f"warning: {drift}. Run `soleflip-analytics db check` for every "
                      "difference; rebuild the view with a new migration or undo the change.",
                      warning=True)
        for drift in check_drift(connection).drifts
        if drift.view in wanted and "missing from the database" not in drift.problem
    ]


def _check_schedule(job: ScheduleStatus) -> list[HealthProblem]:
    """Problems of an installed job. Jobs the deploy could not install are no
    problem here (it warned; the views' age shows whether they are refreshed)."""
    where = f"pg_cron job {job.cron_job_name} (database {job.cron_database})"
    if job.found is False:
        return [HealthProblem(
            None, "schedule_missing",
            f"{where} is gone: it was unscheduled by hand or pg_cron was dropped, so its views "
            "are no longer refreshed on time. Install it again: "
            "soleflip-analytics db install-schedules.",
        )]
    if job.active is False:
        return [HealthProblem(
            None, "schedule_inactive",
            f"{where} is inactive and does not run. Install it again "
            "(soleflip-analytics db install-schedules), or activate it: SELECT "
            f"cron.alter_job(jobid, active => true) FROM cron.job WHERE jobname = "
            f"'{job.cron_job_name}'.",
        )]
    if job.last_run_status == "failed":
        return [HealthProblem(
            None, "schedule_failed",
            f"The latest run of {where} failed at {job.last_run_started_at:%Y-%m-%d %H:%M:%S %Z}: "
            f"{job.last_run_message}. See cron.job_run_details in that database; fix the cause "
            "and check the next run.",
        )]
    return []


def _has_rows(connection: Connection, schema: str, name: str) -> bool:
    return connection.execute(select(exists().select_from(table(name, schema=schema)))).scalar_one()


def _words(interval: timedelta, seconds: bool = False) -> str:
    """The interval in days, hours and minutes (and ``seconds`` under an hour)."""
    whole_seconds = int(interval.total_seconds())
    minutes, rest = divmod(whole_seconds, 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    if seconds and whole_seconds < 3600:
        parts = [f"{minutes} min"] * bool(minutes) + [f"{rest} s"]
    return " ".join(parts)
