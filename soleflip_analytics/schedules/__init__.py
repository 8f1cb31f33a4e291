"""The package's pg_cron jobs: installed by migration 0010, reported by status and health.

Which jobs exist, what they run and when is data: the rows of
``analytics.schedules`` (``sql/schema/schedules/v1.sql``), versioned and
frozen like every SQL file a revision runs; a change of jobs is a new file and
revision. This module puts
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

from soleflip_analytics.names import STRICT_SCHEDULES_ENVIRONMENT
from soleflip_analytics.schedules.install import (
    InstallOutcome,
    install_jobs,
    install_schedules,
    parse_flag,
    remove_jobs,
    strict_requested,
)
from soleflip_analytics.schedules.linked import linked_connection
from soleflip_analytics.schedules.placement import (
    JOB_PREFIX,
    MINIMUM_PG_CRON,
    CronServer,
    Placement,
    SchedulesNotInstalledError,
    cron_job_name,
    place,
)
from soleflip_analytics.schedules.report import (
    ScheduleStatus,
    read_schedule_status,
    schedule_status,
)

__all__ = [
    "JOB_PREFIX",
    "MINIMUM_PG_CRON",
    "STRICT_SCHEDULES_ENVIRONMENT",
    "CronServer",
    "InstallOutcome",
    "Placement",
    "ScheduleStatus",
    "SchedulesNotInstalledError",
    "cron_job_name",
    "install_jobs",
    "install_schedules",
    "linked_connection",
    "parse_flag",
    "place",
    "read_schedule_status",
    "remove_jobs",
    "schedule_status",
    "strict_requested",
]
