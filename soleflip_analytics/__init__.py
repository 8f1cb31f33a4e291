"""soleflip-analytics: the analytics views Metabase reads, and the tools that keep them fresh.

``upgrade`` and ``downgrade`` load Alembic when first used, not on import: the
runtime library (refresh, status, health, events) never needs it.
"""

from typing import TYPE_CHECKING, Any

from soleflip_analytics.catalog import UnknownTableError, UnknownViewError
from soleflip_analytics.contract import SourceContractError
from soleflip_analytics.db import NotInstalledError, StandbyError
from soleflip_analytics.events import (
    RefreshCoordinator,
    close_events,
    coordinator_for,
    sync_on_inventory_event,
    sync_on_order_event,
)
from soleflip_analytics.health import HealthProblem, HealthReport, acheck_health, check_health
from soleflip_analytics.refresh import (
    RefreshIncompleteError,
    RefreshResult,
    arefresh_views,
    refresh_views,
)
from soleflip_analytics.schedules import (
    SchedulesNotInstalledError,
    ScheduleStatus,
    install_schedules,
    schedule_status,
)
from soleflip_analytics.status import IndexStatus, ViewStatus, aview_status, view_status

if TYPE_CHECKING:
    from soleflip_analytics.deploy import downgrade, upgrade


def __getattr__(name: str) -> Any:
    if name in ("upgrade", "downgrade"):
        from soleflip_analytics import deploy

        return getattr(deploy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "HealthProblem",
    "HealthReport",
    "IndexStatus",
    "NotInstalledError",
    "RefreshCoordinator",
    "RefreshIncompleteError",
    "RefreshResult",
    "ScheduleStatus",
    "SchedulesNotInstalledError",
    "SourceContractError",
    "StandbyError",
    "UnknownTableError",
    "UnknownViewError",
    "ViewStatus",
    "acheck_health",
    "arefresh_views",
    "aview_status",
    "check_health",
    "close_events",
    "coordinator_for",
    "downgrade",
    "install_schedules",
    "refresh_views",
    "schedule_status",
    "sync_on_inventory_event",
    "sync_on_order_event",
    "upgrade",
    "view_status",
]
