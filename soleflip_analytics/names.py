"""The package's fixed names: its schema, refresh tiers, option and environment names.

Every floor of the package may import this module; it imports nothing, least
of all Alembic, so the runtime library never loads the migration machinery.
"""

from __future__ import annotations

from collections.abc import Mapping

SCHEMA = "analytics"
TIERS = ("hourly", "daily", "weekly")

# The hourly views behind the headline sales numbers (Executive and Platform
# dashboards): refreshed first and on a lane of their own after order events,
# never behind the big inventory view.
HEADLINE_VIEWS = ("metabase_executive_metrics", "metabase_platform_performance")

# The shop keeps its own alembic_version; ours has a name of its own.
VERSION_TABLE = "soleflip_analytics_version"
VERSION_TABLE_SCHEMA = "public"
# Starts every statement the deploy sends for itself rather than for a revision.
DEPLOY_BOOKKEEPING_MARK = "/* soleflip_analytics deploy bookkeeping */ "

# The package's two roles, by purpose (see soleflip_analytics.roles).
READER = "reader"
REFRESHER = "refresher"
PURPOSES = (READER, REFRESHER)

# The names revision 0011 gives the roles when none are configured. Released: never edit it.
DEFAULT_ROLE_NAMES_V1: Mapping[str, str] = {
    READER: "metabase_reader",
    REFRESHER: "analytics_refresher",
}
ENVIRONMENT_VARIABLES: Mapping[str, str] = {
    READER: "SOLEFLIP_ANALYTICS_READER_ROLE",
    REFRESHER: "SOLEFLIP_ANALYTICS_REFRESHER_ROLE",
}
# alembic -x NAME=... and upgrade(url, NAME=...) alike.
OPTIONS: Mapping[str, str] = {READER: "reader_role", REFRESHER: "refresher_role"}

# alembic -x strict_schedules=true, or upgrade(..., strict_schedules=True): fail
# the deploy when the refresh schedules cannot be installed in pg_cron.
STRICT_SCHEDULES_OPTION = "strict_schedules"
STRICT_SCHEDULES_ENVIRONMENT = "SOLEFLIP_ANALYTICS_STRICT_SCHEDULES"

# Directories (separated as in PATH) holding the host application's own views,
# laid out as the package's sql/views: <name>/v<N>.sql.
HOST_VIEWS_ENVIRONMENT = "SOLEFLIP_ANALYTICS_HOST_VIEWS"
