"""The package's pg_cron jobs: installed by migration 0010, reported by status and health.

Which jobs exist, what they run and when is data: the rows of
``analytics.schedules`` (``sql/schema/schedules_v1.sql``). This module puts
them into pg_cron wherever the server allows, takes them out again, and looks
them up for ``view_status()`` and ``check_health()``.

Where the jobs go:

- this database is pg_cron's (``cron.database_name``): ``cron.schedule``, in
  the migration's transaction. A missing extension is created first when the
  deploying role may create it.
- pg_cron lives in another database: ``cron.schedule_in_database`` there, over
  a second connection with the same credentials, whose transaction commits or
  rolls back with the migration's.
- no usable pg_cron (not installed on the server, not preloaded, too old, not
  allowed): no jobs. The reason and the fix are recorded in
  ``analytics.schedules`` and logged as a warning; in strict mode the deploy
  fails instead and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import create_engine, event, pool, text
from sqlalchemy.engine import URL, Connection, Engine, RowMapping
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.db import Bind, NotInstalledError, connect, sqlstate
from soleflip_analytics.deploy import STRICT_SCHEDULES_OPTION

logger = logging.getLogger(__name__)

JOB_PREFIX = "soleflip_analytics:"
STRICT_SCHEDULES_ENVIRONMENT = "SOLEFLIP_ANALYTICS_STRICT_SCHEDULES"
MINIMUM_PG_CRON = (1, 4)
_NAME_BYTES = 63  # cron.job.jobname is of type name
_CONNECT_TIMEOUT_SECONDS = 10
_REINSTALL = (
    "then run `soleflip-analytics db install-schedules` "
    "(or soleflip_analytics.install_schedules(url))"
)
_INSTEAD = (
    "Until then the views are refreshed only by the application (refresh_views, events) or "
    "by another scheduler calling CALL analytics.run_scheduled_refreshes() every 15 minutes. "
    f"Strict mode (alembic -x {STRICT_SCHEDULES_OPTION}=true, "
    f"or {STRICT_SCHEDULES_ENVIRONMENT}=1) makes the deploy fail instead."
)


# Without privileges to look into schema cron (to_regclass would raise).
_HAS_PG_CRON = text(
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')"
)


class SchedulesNotInstalledError(RuntimeError):
    """The package's pg_cron jobs could not be installed (strict mode, or an explicit install)."""


# --------------------------------------------------------------------------
# Where the jobs can go.

@dataclass(frozen=True)
class CronServer:
    """What the server of this database says about pg_cron."""

    database: str
    """The current database (the one holding schema analytics)."""
    available: bool
    """pg_cron's files are installed on the server (pg_available_extensions)."""
    preloaded: bool
    """pg_cron is in shared_preload_libraries: its settings exist."""
    cron_database: str | None
    """cron.database_name; None when not preloaded or not readable by this role."""
    version: str | None
    """Version of the extension in this database; None when not created here."""


@dataclass(frozen=True)
class Placement:
    """Where the jobs go: pg_cron's database, or nowhere and why."""

    cron_database: str | None
    create_extension: bool = False
    reason: str | None = None


def _preload_fix(database: str) -> str:
    return (
        f"Set shared_preload_libraries = 'pg_cron' and cron.database_name = '{database}' in "
        "postgresql.conf (managed services: the same settings as server parameters or flags; "
        "see 'Refresh schedules' in the soleflip-analytics README) and restart the server; "
        f"{_REINSTALL}."
    )


def _is_supported(version: str) -> bool:
    """pg_cron 1.4 or later: named jobs, schedule_in_database, job_run_details."""
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    return numbers >= MINIMUM_PG_CRON


def place(server: CronServer) -> Placement:
    """Where the jobs can go on this server; a pure function of what it says."""
    database = server.database
    if not server.available:
        return Placement(None, reason=(
            "pg_cron is not installed on the database server. Install it (Debian and Ubuntu: "
            "apt-get install postgresql-<major>-cron) or enable it on a managed service. "
            + _preload_fix(database)
        ))
    if not server.preloaded:
        return Placement(None, reason="pg_cron is not in shared_preload_libraries. "
                         + _preload_fix(database))
    if server.cron_database is None:
        return Placement(None, reason=(
            "pg_cron is loaded, but the deploying role may not read which database it uses "
            "(cron.database_name), and extension pg_cron is not created in this database. If "
            f"this database ({database}) is pg_cron's, a superuser runs CREATE EXTENSION pg_cron "
            "in it; otherwise a superuser runs GRANT pg_read_all_settings TO the deploying role; "
            f"{_REINSTALL}."
        ))
    if server.cron_database != database:
        return Placement(server.cron_database)
    if server.version is None:
        return Placement(database, create_extension=True)
    if not _is_supported(server.version):
        return Placement(None, reason=(
            f"pg_cron {server.version} is older than 1.4. Update it (ALTER EXTENSION pg_cron "
            f"UPDATE, after installing a newer package); {_REINSTALL}."
        ))
    return Placement(database)


def _read_cron_server(connection: Connection) -> CronServer:
    row = connection.execute(text(
        "SELECT current_database() AS database, "
        "EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'pg_cron') "
        "AS available, "
        "(SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') AS version"
    )).mappings().one()
    try:
        with connection.begin_nested():
            setting = connection.execute(
                text("SELECT current_setting('cron.database_name', true)")
            ).scalar_one()
        preloaded, cron_database = setting is not None, setting
    except DBAPIError as error:
        if sqlstate(error) != "42501":  # insufficient_privilege
            raise
        # The setting exists (pg_cron is preloaded) but only superusers and
        # pg_read_all_settings may read it. The extension can only be created
        # in pg_cron's database, and pg_monitor may see its launcher.
        preloaded = True
        cron_database = row["database"] if row["version"] else connection.execute(text(
            "SELECT datname::text FROM pg_catalog.pg_stat_activity "
            "WHERE backend_type = 'pg_cron launcher' LIMIT 1"
        )).scalar()
    return CronServer(row["database"], row["available"], preloaded, cron_database,
                      row["version"])


def cron_job_name(database: str, job: str) -> str:
    """soleflip_analytics:<database>:<job>, shortened with a hash to fit cron.job's name type."""
    name = f"{JOB_PREFIX}{database}:{job}"
    if len(name.encode()) <= _NAME_BYTES:
        return name
    digest = hashlib.sha256(database.encode()).hexdigest()[:8]
    room = _NAME_BYTES - len(f"{JOB_PREFIX}~{digest}:{job}".encode())
    short = database.encode()[:room].decode(errors="ignore")
    return f"{JOB_PREFIX}{short}~{digest}:{job}"


# --------------------------------------------------------------------------
# A second connection, to pg_cron's database, in step with the first.

def _database_url(connection: Connection, database: str) -> URL:
    """The URL of ``connection`` with another database, through psycopg2."""
    return connection.engine.url.set(drivername="postgresql+psycopg2", database=database)


def _short_engine(url: URL) -> Engine:
    return create_engine(url, poolclass=pool.NullPool,
                         connect_args={"connect_timeout": _CONNECT_TIMEOUT_SECONDS})


class _LinkedTransaction:
    """A transaction in another database that commits and rolls back with a connection's.

    It commits just before the main transaction does: only a failure of that
    very commit could leave jobs without their migration, and upgrading again
    replaces them.
    """

    def __init__(self, main: Connection, database: str) -> None:
        self._engine = _short_engine(_database_url(main, database))
        try:
            self.connection = self._engine.connect()
        except DBAPIError:
            self._engine.dispose()
            raise
        self.connection.begin()
        self._main = main
        self._database = database
        event.listen(main, "commit", self._commit)
        event.listen(main, "rollback", self._rollback)

    def _commit(self, _main: Connection) -> None:
        self._end(self.connection.commit)

    def _rollback(self, _main: Connection) -> None:
        self._end(self.connection.rollback)

    def _end(self, finish: Callable[[], None]) -> None:
        if _linked(self._main).pop(self._database, None) is not self:
            return  # already ended
        try:
            finish()
        finally:
            self.connection.close()
            self._engine.dispose()


def _linked(main: Connection) -> dict[str, _LinkedTransaction]:
    return main.info.setdefault("soleflip_analytics_linked_transactions", {})


def linked_connection(main: Connection, database: str) -> Connection:
    """A connection to ``database`` whose work commits with ``main``'s transaction."""
    linked = _linked(main)
    if database not in linked:
        linked[database] = _LinkedTransaction(main, database)
    return linked[database].connection


# --------------------------------------------------------------------------
# Installing and removing the jobs.

@dataclass(frozen=True)
class InstallOutcome:
    installed: bool
    cron_database: str | None
    """pg_cron's database, where the jobs are."""
    reason: str | None
    """Why they are not installed, and how to fix it."""


def _one_line(error: BaseException) -> str:
    message = str(getattr(error, "orig", None) or error)
    return " ".join(message.split())


def parse_flag(value: str | bool | None) -> bool:
    """The value of strict_schedules: a bool, or true/false, 1/0, yes/no, on/off."""
    if value is None or isinstance(value, bool):
        return bool(value)
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{STRICT_SCHEDULES_OPTION} must be true or false, not {value!r}")


def strict_requested() -> bool:
    """Strict mode for this migration run.

    From ``alembic -x strict_schedules=...``, else from the caller
    (``upgrade(url, strict_schedules=...)``, ``db upgrade --strict-schedules``),
    else from SOLEFLIP_ANALYTICS_STRICT_SCHEDULES; off by default.
    """
    from alembic import context

    value = context.get_x_argument(as_dictionary=True).get(STRICT_SCHEDULES_OPTION)
    if value is None:
        value = context.config.attributes.get(STRICT_SCHEDULES_OPTION)
    if value is None:
        value = os.environ.get(STRICT_SCHEDULES_ENVIRONMENT)
    return parse_flag(value)


def install_jobs(connection: Connection, *, strict: bool) -> InstallOutcome:
    """Install (or replace) the jobs of analytics.schedules, in the caller's transaction.

    Without a usable pg_cron: record why, and log a warning; or, when
    ``strict``, raise SchedulesNotInstalledError.
    """
    server = _read_cron_server(connection)
    placement = place(server)
    reason = placement.reason or _schedule_jobs(connection, server, placement)
    if reason is None:
        return InstallOutcome(True, placement.cron_database, None)
    if strict:
        raise SchedulesNotInstalledError(f"refresh schedules could not be installed: {reason}")
    connection.execute(
        text("UPDATE analytics.schedules SET installed = false, cron_job_name = NULL, "
             "cron_database = NULL, cron_username = NULL, reason = :reason"),
        {"reason": reason},
    )
    logger.warning("soleflip-analytics: refresh schedules are NOT installed: %s %s",
                   reason, _INSTEAD)
    return InstallOutcome(False, None, reason)


def _schedule_jobs(connection: Connection, server: CronServer,
                   placement: Placement) -> str | None:
    """Schedule every job; the reason when that is not possible."""
    database = server.database
    cron_database = placement.cron_database
    assert cron_database is not None
    if placement.create_extension:
        error = _create_extension(connection)
        if error:
            return (
                f"pg_cron's database is this one ({database}), but extension pg_cron is not "
                f"created in it and the deploying role could not create it ({error}). "
                f"A superuser runs CREATE EXTENSION pg_cron in {database}; {_REINSTALL}."
            )
    if cron_database == database:
        cron = connection
    else:
        try:
            cron = linked_connection(connection, cron_database)
        except DBAPIError as error:
            return (
                f"pg_cron's database is {cron_database} (cron.database_name), and the deploying "
                f"role could not connect to it with the same credentials ({_one_line(error)}). "
                f"Let it connect there, or set cron.database_name = '{database}' and restart the "
                f"server; {_REINSTALL}."
            )
        problem = _schedule_in_database_problem(cron, cron_database)
        if problem:
            return problem
    jobs = connection.execute(text(
        "SELECT job, schedule, command, runs_in FROM analytics.schedules ORDER BY job"
    )).mappings().all()
    try:
        with cron.begin_nested():
            owner = cron.execute(text("SELECT current_user::text")).scalar_one()
            for job in jobs:
                name = cron_job_name(database, job["job"])
                _unschedule(cron, name, owner)
                target = database if job["runs_in"] == "this_database" else cron_database
                _schedule(cron, name, job["schedule"], job["command"], target, cron_database)
                connection.execute(
                    text("UPDATE analytics.schedules SET installed = true, cron_job_name = :name, "
                         "cron_database = :cron_database, cron_username = :owner, reason = NULL "
                         "WHERE job = :job"),
                    {"name": name, "cron_database": cron_database, "owner": owner,
                     "job": job["job"]},
                )
    except DBAPIError as error:
        return (f"pg_cron in database {cron_database} refused the jobs ({_one_line(error)}); "
                f"fix that, {_REINSTALL}.")
    return None


def _create_extension(connection: Connection) -> str | None:
    """CREATE EXTENSION pg_cron, or the error (the transaction goes on either way)."""
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION pg_cron"))
            connection.execute(text("UPDATE analytics.schedule_state SET created_pg_cron = true"))
    except DBAPIError as error:
        return _one_line(error)
    return None


def _schedule_in_database_problem(cron: Connection, cron_database: str) -> str | None:
    row = cron.execute(text(
        "SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') "
        "AS version, current_user::text AS role"
    )).mappings().one()
    if row["version"] is None:
        return (f"extension pg_cron is not created in pg_cron's database {cron_database}. "
                f"A superuser runs CREATE EXTENSION pg_cron there; {_REINSTALL}.")
    if not _is_supported(row["version"]):
        return (f"pg_cron {row['version']} in database {cron_database} is older than 1.4, which "
                f"brought cron.schedule_in_database. Update it (ALTER EXTENSION pg_cron UPDATE); "
                f"{_REINSTALL}.")
    allowed = cron.execute(text(
        "SELECT has_function_privilege("
        "'cron.schedule_in_database(text, text, text, text, text, boolean)', 'EXECUTE')"
    )).scalar_one()
    if not allowed:
        return (
            f"role {row['role']} may not schedule jobs for other databases. In {cron_database} a "
            "superuser runs GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, "
            f"text, text, boolean) TO {row['role']} (or sets cron.database_name to this "
            f"database); {_REINSTALL}."
        )
    return None


def _unschedule(cron: Connection, name: str, owner: str) -> None:
    """Remove a job by name if it exists (cron.unschedule of a missing name raises)."""
    cron.execute(
        text("SELECT cron.unschedule(jobid) FROM cron.job "
             "WHERE jobname = :name AND username = :owner"),
        {"name": name, "owner": owner},
    )


def _schedule(cron: Connection, name: str, schedule: str, command: str, database: str,
              cron_database: str) -> None:
    if database == cron_database:
        cron.execute(text("SELECT cron.schedule(:name, :schedule, :command)"),
                     {"name": name, "schedule": schedule, "command": command})
    else:
        cron.execute(
            text("SELECT cron.schedule_in_database(:name, :schedule, :command, :database)"),
            {"name": name, "schedule": schedule, "command": command, "database": database},
        )


def remove_jobs(connection: Connection) -> None:
    """Unschedule the installed jobs that are still there.

    Extension pg_cron goes too when the migration created it and no job is left.
    """
    jobs = connection.execute(text(
        "SELECT cron_job_name, cron_database, cron_username FROM analytics.schedules "
        "WHERE installed ORDER BY job"
    )).mappings().all()
    if not jobs:
        return
    cron_database = jobs[0]["cron_database"]
    names = [job["cron_job_name"] for job in jobs]
    here = connection.execute(text("SELECT current_database()")).scalar_one()
    try:
        cron = connection if cron_database == here else linked_connection(connection,
                                                                          cron_database)
    except DBAPIError as error:
        logger.warning(
            "soleflip-analytics: could not connect to pg_cron's database %s to remove the "
            "package's jobs (%s). Remove them there by hand: SELECT cron.unschedule(jobid) "
            "FROM cron.job WHERE jobname IN (%s);",
            cron_database, _one_line(error), ", ".join(f"'{name}'" for name in names),
        )
        return
    if not cron.execute(_HAS_PG_CRON).scalar_one():
        return  # pg_cron was dropped, and its jobs with it
    for job in jobs:
        _unschedule(cron, job["cron_job_name"], job["cron_username"])
    if cron is connection:
        _drop_extension_if_ours(connection)


def _drop_extension_if_ours(connection: Connection) -> None:
    ours = connection.execute(
        text("SELECT created_pg_cron FROM analytics.schedule_state")
    ).scalar_one()
    if not ours or connection.execute(text("SELECT EXISTS (SELECT FROM cron.job)")).scalar_one():
        return
    try:
        with connection.begin_nested():
            connection.execute(text("DROP EXTENSION pg_cron"))
    except DBAPIError as error:
        logger.warning("soleflip-analytics: extension pg_cron, created by the migration, was "
                       "left in place: %s", _one_line(error))


def install_schedules(bind: Bind) -> InstallOutcome:
    """Install or replace the package's pg_cron jobs, for instance after enabling pg_cron.

    The migrations do this on upgrade; this is for a database that is already
    at revision 0010 or later. Raises SchedulesNotInstalledError, saying why and
    how to fix it, when pg_cron cannot take them.
    """
    with connect(bind) as connection:
        with connection.begin():
            _require_schedules(connection)
            return install_jobs(connection, strict=True)


def _require_schedules(connection: Connection) -> None:
    if not connection.execute(
        text("SELECT to_regclass('analytics.schedules') IS NOT NULL")
    ).scalar_one():
        raise NotInstalledError(
            "This database lacks soleflip-analytics' schedules (analytics.schedules, migration "
            "0010): apply the migrations first: `soleflip-analytics db upgrade` (in Python: "
            "soleflip_analytics.upgrade(url); with Alembic: `alembic -x url=... upgrade head`)."
        )


# --------------------------------------------------------------------------
# Reporting on the jobs.

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
    """The job is in cron.job now; None when pg_cron's tables could not be read."""
    cron_schedule: str | None
    """The schedule pg_cron has for it now (schedule, unless changed by hand)."""
    active: bool | None
    last_run_status: str | None
    """succeeded or failed: the latest run that ended (cron.job_run_details)."""
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
    if not cron.execute(_HAS_PG_CRON).scalar_one():
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
    engine = _short_engine(_database_url(connection, cron_database))
    try:
        with engine.connect() as cron:
            return _read_jobs(cron, names, owner)
    except DBAPIError as error:
        return {}, f"cannot read pg_cron's jobs in database {cron_database}: {_one_line(error)}"
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
