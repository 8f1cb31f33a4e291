"""Installing and removing the jobs: in migration 0010's transaction, or on request."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.db import Bind, NotInstalledError, connect, one_line
from soleflip_analytics.names import STRICT_SCHEDULES_ENVIRONMENT, STRICT_SCHEDULES_OPTION
from soleflip_analytics.schedules.linked import database_url, linked_connection, short_engine
from soleflip_analytics.schedules.placement import (
    HAS_PG_CRON,
    INSTEAD,
    REINSTALL,
    CronServer,
    Placement,
    SchedulesNotInstalledError,
    cron_job_name,
    is_supported,
    place,
    read_cron_server,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InstallOutcome:
    installed: bool
    cron_database: str | None
    """pg_cron's database, where the jobs are."""
    reason: str | None
    """Why they are not installed, and how to fix it."""


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
    server = read_cron_server(connection)
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
                   reason, INSTEAD)
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
                f"A superuser runs CREATE EXTENSION pg_cron in {database}; {REINSTALL}."
            )
    if cron_database == database:
        cron = connection
    else:
        try:
            cron = linked_connection(connection, cron_database)
        except DBAPIError as error:
            return _cannot_connect(cron_database, database, error)
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
        return (f"pg_cron in database {cron_database} refused the jobs ({one_line(error)}); "
                f"fix that, {REINSTALL}.")
    return None


def _cannot_connect(cron_database: str, database: str, error: DBAPIError) -> str:
    return (
        f"pg_cron's database is {cron_database} (cron.database_name), and the deploying "
        f"role could not connect to it with the same credentials ({one_line(error)}). "
        f"Let it connect there, or set cron.database_name = '{database}' and restart the "
        f"server; {REINSTALL}."
    )


def check_strict_schedules(connection: Connection) -> None:
    """Raise SchedulesNotInstalledError for what keeps pg_cron from taking the jobs and
    can be seen without changing anything: a deploy whose revisions commit one by one
    checks before the first of them, so that strict mode still changes nothing."""
    server = read_cron_server(connection)
    placement = place(server)
    reason = placement.reason
    if reason is None and placement.cron_database != server.database:
        assert placement.cron_database is not None
        engine = short_engine(database_url(connection, placement.cron_database))
        try:
            with engine.connect() as cron:
                reason = _schedule_in_database_problem(cron, placement.cron_database)
        except DBAPIError as error:
            reason = _cannot_connect(placement.cron_database, server.database, error)
        finally:
            engine.dispose()
    if reason is not None:
        raise SchedulesNotInstalledError(f"refresh schedules could not be installed: {reason}")


def _create_extension(connection: Connection) -> str | None:
    """CREATE EXTENSION pg_cron, or the error (the transaction goes on either way)."""
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION pg_cron"))
            connection.execute(text("UPDATE analytics.schedule_state SET created_pg_cron = true"))
    except DBAPIError as error:
        return one_line(error)
    return None


def _schedule_in_database_problem(cron: Connection, cron_database: str) -> str | None:
    row = cron.execute(text(
        "SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') "
        "AS version, current_user::text AS role"
    )).mappings().one()
    if row["version"] is None:
        return (f"extension pg_cron is not created in pg_cron's database {cron_database}. "
                f"A superuser runs CREATE EXTENSION pg_cron there; {REINSTALL}.")
    if not is_supported(row["version"]):
        return (f"pg_cron {row['version']} in database {cron_database} is older than 1.4, which "
                f"brought cron.schedule_in_database. Update it (ALTER EXTENSION pg_cron UPDATE); "
                f"{REINSTALL}.")
    allowed = cron.execute(text(
        "SELECT has_function_privilege("
        "'cron.schedule_in_database(text, text, text, text, text, boolean)', 'EXECUTE')"
    )).scalar_one()
    if not allowed:
        return (
            f"role {row['role']} may not schedule jobs for other databases. In {cron_database} a "
            "superuser runs GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, "
            f"text, text, boolean) TO {row['role']} (or sets cron.database_name to this "
            f"database); {REINSTALL}."
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
            cron_database, one_line(error), ", ".join(f"'{name}'" for name in names),
        )
        return
    if not cron.execute(HAS_PG_CRON).scalar_one():
        return  # pg_cron was dropped, and its jobs with it
    for job in jobs:
        _unschedule(cron, job["cron_job_name"], job["cron_username"])
    if cron is connection:
        _drop_extension_if_ours(connection)
    else:
        logger.warning(
            "soleflip-analytics: extension pg_cron stays in database %s, pg_cron's database "
            "for the whole server, which this package did not create it in for itself; drop "
            "it there once no job needs it: DROP EXTENSION pg_cron;", cron_database,
        )


def _drop_extension_if_ours(connection: Connection) -> None:
    ours = connection.execute(
        text("SELECT created_pg_cron FROM analytics.schedule_state")
    ).scalar_one()
    if not ours:
        return
    if connection.execute(text("SELECT EXISTS (SELECT FROM cron.job)")).scalar_one():
        others = connection.execute(text(
            "SELECT count(*) AS jobs, string_agg(DISTINCT database, ', ') AS databases "
            "FROM cron.job")).one()
        logger.warning(
            "soleflip-analytics: extension pg_cron, created by the migration, stays: %s other "
            "job(s) still use it (for databases %s, the package's installations there "
            "included). Drop it once the last of them is gone: DROP EXTENSION pg_cron;",
            others.jobs, others.databases,
        )
        return
    try:
        with connection.begin_nested():
            connection.execute(text("DROP EXTENSION pg_cron"))
    except DBAPIError as error:
        logger.warning("soleflip-analytics: extension pg_cron, created by the migration, was "
                       "left in place: %s", one_line(error))


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
