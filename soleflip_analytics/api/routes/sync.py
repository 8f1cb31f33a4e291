"""Events from the shop, the sync status, and the pg_cron refresh schedules."""

from __future__ import annotations

import asyncio

from fastapi import status

from soleflip_analytics.api.dependencies import (
    Database,
    DatabaseEngine,
    synchronous,
)
from soleflip_analytics.api.models import (
    EventAccepted,
    HealthProblemInfo,
    ScheduleInfo,
    ScheduleSetup,
    SyncStatus,
    ViewInfo,
)
from soleflip_analytics.api.routes.base import endpoints, error_responses
from soleflip_analytics.db import (
    run_async,
)
from soleflip_analytics.events import (
    ORDERS_TABLE,
    STOCK_TABLE,
    coordinator_for,
    sync_on_inventory_event,
    sync_on_order_event,
)
from soleflip_analytics.health import acheck_health
from soleflip_analytics.schedules import (
    install_schedules,
    schedule_status,
)
from soleflip_analytics.status import aview_status, view_status

router = endpoints()


def _event_accepted(engine: DatabaseEngine, table: str) -> EventAccepted:
    return EventAccepted(table=table, refresh_within_seconds=coordinator_for(engine).max_delay)


@router.post(
    "/sync/on-order-event",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Orders changed: refresh the views reading them, coalesced",
)
async def on_order_event(engine: Database) -> EventAccepted:
    """Returns at once. The views reading transactions.orders are refreshed (stale
    ones only) once events have been quiet for a second; a burst of events causes
    one refresh of each."""
    sync_on_order_event(engine)
    return _event_accepted(engine, ORDERS_TABLE)


@router.post(
    "/sync/on-inventory-event",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Stock changed: refresh the views reading it, coalesced",
)
async def on_inventory_event(engine: Database) -> EventAccepted:
    """As /sync/on-order-event, for inventory.stock."""
    sync_on_inventory_event(engine)
    return _event_accepted(engine, STOCK_TABLE)


@router.get(
    "/sync/status",
    responses=error_responses(status.HTTP_409_CONFLICT),
    summary="Every view's state and health, and the pending events",
)
async def sync_status(engine: Database) -> SyncStatus:
    views = await aview_status(engine)
    report = await acheck_health(engine)
    schedules = await run_async(schedule_status, engine)
    existing = [view for view in views if view.exists]
    return SyncStatus(
        total_views=len(views),
        existing_views=len(existing),
        missing_views=len(views) - len(existing),
        total_rows=sum(view.row_count or 0 for view in existing),
        last_check=report.checked_at,
        healthy=report.healthy,
        problems=[HealthProblemInfo.model_validate(problem) for problem in report.problems],
        schedules=[ScheduleInfo.model_validate(job) for job in schedules],
        pending_events=sorted(coordinator_for(engine).pending),
        views=[ViewInfo.of(view) for view in views],
    )



# --------------------------------------------------------------------------
# Schedules



def _install_schedules(bind: DatabaseEngine) -> ScheduleSetup:
    # Through psycopg2 even for an AsyncEngine: pg_cron may live in another
    # database, reached over a second, blocking connection.
    with synchronous(bind) as engine:
        outcome = install_schedules(engine)
        jobs = schedule_status(engine)
        views = view_status(engine, exact_counts=False)
    return ScheduleSetup(
        cron_database=outcome.cron_database,
        views={view.name: view.tier for view in views if view.tier is not None},
        jobs=[ScheduleInfo.model_validate(job) for job in jobs],
    )


@router.post(
    "/setup/refresh-schedule",
    responses=error_responses(status.HTTP_409_CONFLICT),
    summary="Install (or replace) the pg_cron refresh schedules",
)
async def setup_refresh_schedule(engine: Database) -> ScheduleSetup:
    """Install the package's pg_cron jobs, which refresh each tier when it is due
    (docs/schedules.md); the migrations install them on upgrade, so this is for a
    database upgraded before pg_cron was enabled. 409 when pg_cron cannot take
    them: the message says why and how to fix it."""
    return await asyncio.to_thread(_install_schedules, engine)
