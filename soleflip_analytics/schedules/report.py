"""Reporting on the jobs, for ``view_status()`` and ``check_health()``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.db import Bind, connect, one_line
from soleflip_analytics.schedules.linked import database_url, short_engine
from soleflip_analytics.schedules.placement import HAS_PG_CRON


@dataclass(frozen=True)
class ScheduleStatus:
    """One pg_cron job of the package: as declared, as installed, and how it runs."""

    job: str
    """tiers, stale or purge."""
    description: str
    schedule: str
    """Cron expression, evaluated by pg_cron in GMT."""
    command: str
    installed: bool
    reason: str | None
    """Why it is not installed, and how to fix that."""
    cron_job_name: str | None
    cron_database: str | None
    """The database whose cron.job holds it."""
    found: bool | None
    """pg_cron has it now; null when pg_cron's tables could not be read (lookup_error)."""
    cron_schedule: str | None
    """The schedule pg_cron has for it now (schedule, unless changed by hand)."""
    active: bool | None
    last_run_status: str | None
    """succeeded or failed: the latest run that ended."""
    last_run_started_at: datetime | None
    last_run_ended_at: datetime | None
    last_run_message: str | None
    lookup_error: str | None
    """Why pg_cron's tables could not be read; the job's state is then unknown."""


_JOBS = text(
    """
    SELECT j.jobname::text AS name, j.schedule, j.active, r.status, r.start_time, r.end_time,
           r.return_message
    FROM cron.job j
    LEFT JOIN LATERAL (
        SELECT d.status, d.start_time, d.end_time, d.return_message
        FROM cron.job_run_details d
        WHERE d.jobid = j.jobid AND d.status IN ('succeeded', 'failed')
        ORDER BY d.runid DESC
        LIMIT 1
    ) r ON true
    WHERE j.jobname = ANY (CAST(:names AS text[])) AND j.username = :owner
    """
)

# pg_cron shows each role its own jobs (row-level security), except to superusers.
_CAN_SEE_JOBS = text(
    """
    SELECT has_schema_privilege('cron', 'USAGE')
       AND (current_user = :owner OR r.rolsuper OR r.rolbypassrls
            OR pg_has_role(c.relowner, 'USAGE'))
    FROM pg_catalog.pg_roles r, pg_catalog.pg_class c
    WHERE r.rolname = current_user
      AND c.relnamespace = 'cron'::regnamespace AND c.relname = 'job'
    """
)


def _read_jobs(cron: Connection, names: list[str],
               owner: str) -> tuple[dict[str, RowMapping], str | None]:
    if not cron.execute(HAS_PG_CRON).scalar_one():
        return {}, None  # pg_cron is gone, and the jobs with it
    if not cron.execute(_CAN_SEE_JOBS, {"owner": owner}).scalar_one():
        return {}, (f"this role may not see the jobs: pg_cron shows them only to their owner "
                    f"({owner}) and superusers, to roles with USAGE on schema cron; connect as "
                    f"{owner} to see them")
    rows = cron.execute(_JOBS, {"names": names, "owner": owner}).mappings().all()
    return {row["name"]: row for row in rows}, None


def _look_up(connection: Connection,
             installed: list[RowMapping]) -> tuple[dict[str, RowMapping], str | None]:
    cron_database = installed[0]["cron_database"]
    owner = installed[0]["cron_username"]
    names = [row["cron_job_name"] for row in installed]
    if cron_database == connection.execute(text("SELECT current_database()")).scalar_one():
        return _read_jobs(connection, names, owner)
    if connection.dialect.is_async:
        return {}, (f"the jobs are in pg_cron's database {cron_database}, which asyncio code "
                    "does not look into (a second connection would block the event loop); "
                    "call schedule_status() in a thread")
    engine = short_engine(database_url(connection, cron_database))
    try:
        with engine.connect() as cron:
            return _read_jobs(cron, names, owner)
    except DBAPIError as error:
        return {}, f"cannot read pg_cron's jobs in database {cron_database}: {one_line(error)}"
    finally:
        engine.dispose()


def read_schedule_status(connection: Connection) -> list[ScheduleStatus]:
    """The package's jobs, inside the caller's transaction.

    None before migration 0010, or for a role that may not read analytics.schedules.
    """
    if not connection.execute(text(
        "SELECT CASE WHEN to_regclass('analytics.schedules') IS NOT NULL "
        "THEN has_table_privilege('analytics.schedules', 'SELECT') ELSE false END"
    )).scalar_one():
        return []
    rows = connection.execute(
        text("SELECT * FROM analytics.schedules ORDER BY job")
    ).mappings().all()
    installed = [row for row in rows if row["installed"]]
    jobs, lookup_error = _look_up(connection, installed) if installed else ({}, None)
    statuses = []
    for row in rows:
        job = jobs.get(row["cron_job_name"])
        known = row["installed"] and lookup_error is None
        statuses.append(ScheduleStatus(
            job=row["job"],
            description=row["description"],
            schedule=row["schedule"],
            command=row["command"],
            installed=row["installed"],
            reason=row["reason"],
            cron_job_name=row["cron_job_name"],
            cron_database=row["cron_database"],
            found=(job is not None) if known else None,
            cron_schedule=job["schedule"] if job else None,
            active=job["active"] if job else None,
            last_run_status=job["status"] if job else None,
            last_run_started_at=job["start_time"] if job else None,
            last_run_ended_at=job["end_time"] if job else None,
            last_run_message=job["return_message"] if job else None,
            lookup_error=lookup_error if row["installed"] else None,
        ))
    return statuses


def schedule_status(bind: Bind) -> list[ScheduleStatus]:
    """The package's pg_cron jobs: schedule, whether installed (or why not), active, last run."""
    with connect(bind) as connection:
        with connection.begin():
            return read_schedule_status(connection)
