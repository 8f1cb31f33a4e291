"""Where the jobs can go: what the server says about pg_cron, and the choice it makes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.db import sqlstate
from soleflip_analytics.names import STRICT_SCHEDULES_ENVIRONMENT, STRICT_SCHEDULES_OPTION

# How revision 0010 names the jobs (cron_job_name): released, never edit it.
JOB_PREFIX = "soleflip_analytics:"
MINIMUM_PG_CRON = (1, 4)
_NAME_BYTES = 63  # cron.job.jobname is of type name
REINSTALL = (
    "then run `soleflip-analytics db install-schedules` "
    "(or soleflip_analytics.install_schedules(url))"
)
INSTEAD = (
    "Until then the views are refreshed only by the application (refresh_views, events) or "
    "by another scheduler calling CALL analytics.run_scheduled_refreshes() every 15 minutes. "
    f"Strict mode (alembic -x {STRICT_SCHEDULES_OPTION}=true, "
    f"or {STRICT_SCHEDULES_ENVIRONMENT}=1) makes the deploy fail instead."
)


# Without privileges to look into schema cron (to_regclass would raise).
HAS_PG_CRON = text(
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')"
)


class SchedulesNotInstalledError(RuntimeError):
    """The package's pg_cron jobs could not be installed (strict mode, or an explicit install)."""


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
        "see 'Enabling pg_cron on a server' in the soleflip-analytics docs/schedules.md) "
        "and restart the server; "
        f"{REINSTALL}."
    )


def is_supported(version: str) -> bool:
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
            f"{REINSTALL}."
        ))
    if server.cron_database != database:
        return Placement(server.cron_database)
    if server.version is None:
        return Placement(database, create_extension=True)
    if not is_supported(server.version):
        return Placement(None, reason=(
            f"pg_cron {server.version} is older than 1.4. Update it (ALTER EXTENSION pg_cron "
            f"UPDATE, after installing a newer package); {REINSTALL}."
        ))
    return Placement(database)


def read_cron_server(connection: Connection) -> CronServer:
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
