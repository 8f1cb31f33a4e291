"""The endpoints, under the paths of the system they replace (mounted at /api/v1/metabase)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

from soleflip_analytics.api.dependencies import (
    Database,
    DatabaseEngine,
    require_auth,
    synchronous,
)
from soleflip_analytics.api.jobs import Job, jobs, one_line
from soleflip_analytics.api.models import (
    DashboardTemplate,
    ErrorBody,
    EventAccepted,
    HealthProblemInfo,
    MigrationOutcome,
    RefreshJob,
    ScheduleInfo,
    ScheduleSetup,
    SyncStatus,
    ViewInfo,
)
from soleflip_analytics.catalog import UnknownViewError, select_views
from soleflip_analytics.contract import SourceContractError
from soleflip_analytics.dashboards.model import Dashboard
from soleflip_analytics.dashboards.payloads import bundle
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.db import (
    INSUFFICIENT_PRIVILEGE,
    Bind,
    NotInstalledError,
    connect,
    require_installed,
    run_async,
    sqlstate,
)
from soleflip_analytics.deploy import VERSION_TABLE, VERSION_TABLE_SCHEMA, alembic_config
from soleflip_analytics.events import (
    ORDERS_TABLE,
    STOCK_TABLE,
    coordinator_for,
    sync_on_inventory_event,
    sync_on_order_event,
)
from soleflip_analytics.health import acheck_health
from soleflip_analytics.schedules import (
    SchedulesNotInstalledError,
    install_schedules,
    schedule_status,
)
from soleflip_analytics.status import aview_status, read_view_status, view_status
from soleflip_analytics.view_migrations import TIERS

JOB_ROUTE = "soleflip_analytics_job"
RefreshStrategy = Enum("RefreshStrategy", {tier: tier for tier in TIERS}, type=str)

# Upgrades of one database run one at a time: across processes through this
# advisory lock (a single key, so it never meets the refresh locks, which take
# two), within a process through a lock, as Alembic's context is global.
_UPGRADE_LOCK_KEY = 0x50F1F11A
_upgrade_lock = threading.Lock()

_NOT_INSTALLED_HINT = " (over HTTP: POST /views/create)"


def _error(http_status: int, exception: BaseException) -> HTTPException:
    return HTTPException(http_status, one_line(exception))


class _LibraryErrors(APIRoute):
    """Turns the library's exceptions into HTTP answers that say what to do."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def translated(request: Request) -> Response:
            try:
                return await handler(request)
            except UnknownViewError as error:
                raise _error(status.HTTP_404_NOT_FOUND, error) from None
            except NotInstalledError as error:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, one_line(error) + _NOT_INSTALLED_HINT
                ) from None
            except (SourceContractError, CommandError, SchedulesNotInstalledError) as error:
                raise _error(status.HTTP_409_CONFLICT, error) from None
            except OperationalError as error:
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    f"the database cannot be reached or gave up on the query: {one_line(error)}",
                ) from None
            except ProgrammingError as error:
                if sqlstate(error) != INSUFFICIENT_PRIVILEGE:
                    raise
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"the database role of these endpoints may not do this: {one_line(error)}. "
                    "Migrations run as the deploying role; refreshes and status need a member "
                    "of the refresher role (README, 'Roles and privileges').",
                ) from None

        return translated


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers of an endpoint."""
    return {code: {"model": ErrorBody} for code in codes}


router = APIRouter(
    dependencies=[Depends(require_auth)],
    route_class=_LibraryErrors,
    tags=["soleflip-analytics"],
    responses=_errors(status.HTTP_403_FORBIDDEN, status.HTTP_503_SERVICE_UNAVAILABLE),
)

ViewName = Annotated[str, Path(description="A materialized view of schema analytics.")]


# --------------------------------------------------------------------------
# Views


def _current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(
        connection,
        opts={"version_table": VERSION_TABLE, "version_table_schema": VERSION_TABLE_SCHEMA},
    )
    return context.get_current_revision()


def _upgrade_to_head(bind: DatabaseEngine) -> MigrationOutcome:
    with _upgrade_lock, synchronous(bind) as engine, engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
        before = _current_revision(connection)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        after = _current_revision(connection)
        views = read_view_status(connection, exact_counts=False)
    assert after is not None, "an upgrade to head leaves a revision"
    return MigrationOutcome(
        revision_before=before, revision=after, upgraded=before != after,
        views={view.name: view.exists for view in views},
    )


@router.post(
    "/views/create",
    responses=_errors(status.HTTP_409_CONFLICT),
    summary="Apply the migrations up to head",
)
async def create_views(
    engine: Database,
    drop_existing: Annotated[bool, Query(
        description="Refused (409): views are rebuilt by migrations, not dropped over HTTP."
    )] = False,
) -> MigrationOutcome:
    """Create or upgrade every view by applying the packaged migrations, in one transaction.

    Idempotent: at head it changes nothing. 409 when the database lacks the shop
    tables the views read (the message names each one).
    """
    if drop_existing:
        raise HTTPException(status.HTTP_409_CONFLICT, _drop_refused("Views"))
    return await asyncio.to_thread(_upgrade_to_head, engine)


@router.get(
    "/views/status", responses=_errors(status.HTTP_409_CONFLICT), summary="The state of every view"
)
async def views_status(
    engine: Database,
    exact_counts: Annotated[bool, Query(
        description="Count each view's rows; false gives the planner's estimate."
    )] = True,
) -> list[ViewInfo]:
    return [ViewInfo.of(view) for view in await aview_status(engine, exact_counts=exact_counts)]


@router.get(
    "/views/{view_name}/status",
    responses=_errors(status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT),
    summary="The state of one view",
)
async def one_view_status(
    engine: Database,
    view_name: ViewName,
    exact_counts: Annotated[bool, Query(
        description="Count the view's rows; false gives the planner's estimate."
    )] = True,
) -> ViewInfo:
    """404 for a name that is neither a view of schema analytics nor registered by a migration."""
    views = await aview_status(engine, exact_counts=exact_counts)
    name = view_name.removeprefix("analytics.")
    for view in views:
        if view.name == name:
            return ViewInfo.of(view)
    raise HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"no view {view_name!r} in schema analytics. Known views: "
        + (", ".join(view.name for view in views) or "none (POST /views/create)"),
    )


def _drop_refused(what: str) -> str:
    return (
        f"{what} are created and dropped by the package's migrations only; dropping one "
        "over HTTP would leave the migrations believing it exists. To remove the views, "
        "downgrade: `soleflip-analytics db downgrade <revision>` (`db downgrade base` "
        "removes everything the package made); to rebuild a view, downgrade and upgrade "
        "its migration, or add a migration (README: How to add or change a view)."
    )


@router.delete(
    "/views/{view_name}",
    status_code=status.HTTP_409_CONFLICT,
    response_model=ErrorBody,
    responses={status.HTTP_409_CONFLICT: {"description": "Always: use the migrations."}},
    summary="Refused: views are removed by downgrading the migrations",
)
async def drop_view(view_name: ViewName) -> ErrorBody:
    raise HTTPException(status.HTTP_409_CONFLICT, _drop_refused("Views"))


# --------------------------------------------------------------------------
# Refresh jobs


def _selected_views(bind: Bind, views: list[str] | None, tier: str | None) -> list[str]:
    """The views the filters select, in refresh order; UnknownViewError for a wrong name."""
    with connect(bind) as connection:
        require_installed(connection)
        with connection.begin():
            return select_views(connection, views, tier)


def _job_body(request: Request, job: Job) -> RefreshJob:
    return RefreshJob.of(job.state(), str(request.url_for(JOB_ROUTE, job_id=job.id)))


def _wait_seconds(
    wait: Annotated[bool, Query(
        description="Answer when the job has finished (200), or after timeout seconds "
        "with the job still running (202)."
    )] = False,
    timeout: Annotated[float, Query(
        gt=0, le=3600, description="How long wait=true waits, in seconds."
    )] = 60.0,
) -> float | None:
    return timeout if wait else None


WaitSeconds = Annotated[float | None, Depends(_wait_seconds)]

_REFRESH_RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_200_OK: {"model": RefreshJob, "description": "wait=true, and the job finished."},
    status.HTTP_202_ACCEPTED: {
        "description": "The job runs in the background: GET its status_url (also in Location)."
    },
    **_errors(status.HTTP_409_CONFLICT),
}


async def _start(
    request: Request, response: Response, engine: DatabaseEngine, wait: float | None,
    views: list[str] | None = None, tier: str | None = None,
) -> RefreshJob:
    targets = await run_async(_selected_views, engine, views, tier)
    job = jobs.start(engine, targets)
    if wait is not None:
        await asyncio.to_thread(job.done.wait, wait)
    body = _job_body(request, job)
    finished = body.completed_at is not None
    response.status_code = status.HTTP_200_OK if finished else status.HTTP_202_ACCEPTED
    response.headers["Location"] = body.status_url
    return body


@router.post(
    "/views/{view_name}/refresh",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_REFRESH_RESPONSES, **_errors(status.HTTP_404_NOT_FOUND)},
    summary="Refresh one view",
)
async def refresh_view(
    request: Request, response: Response, engine: Database, view_name: ViewName,
    wait: WaitSeconds,
) -> RefreshJob:
    """Refresh the view in the background (concurrently when it can: dashboards keep
    reading). 404 for an unknown view, listing the known ones."""
    return await _start(request, response, engine, wait, views=[view_name])


@router.post(
    "/views/refresh-by-strategy/{strategy}",
    status_code=status.HTTP_202_ACCEPTED,
    responses=_REFRESH_RESPONSES,
    summary="Refresh the views of a tier",
)
async def refresh_by_strategy(
    request: Request, response: Response, engine: Database, strategy: RefreshStrategy,
    wait: WaitSeconds,
) -> RefreshJob:
    """Refresh the hourly, daily or weekly views, in dependency order, in the background."""
    return await _start(request, response, engine, wait, tier=strategy.value)


@router.post(
    "/sync/all",
    status_code=status.HTTP_202_ACCEPTED,
    responses=_REFRESH_RESPONSES,
    summary="Refresh every view",
)
async def sync_all(
    request: Request, response: Response, engine: Database, wait: WaitSeconds,
) -> RefreshJob:
    """Refresh every view, whatever its tier, in dependency order, in the background."""
    return await _start(request, response, engine, wait)


@router.get(
    "/jobs/{job_id}",
    name=JOB_ROUTE,
    responses=_errors(status.HTTP_404_NOT_FOUND),
    summary="The status of a refresh job",
)
async def job_status(request: Request, job_id: str) -> RefreshJob:
    """404 for a job this process does not know: jobs live in the memory of the
    process that started them, which keeps the latest finished ones."""
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no refresh job {job_id!r} in this process: jobs are kept in the memory of the "
            "process that started them (the latest finished ones only). Every refresh is "
            "also in analytics.refresh_log, and GET /views/{view_name}/status shows the last.",
        )
    return _job_body(request, job)


# --------------------------------------------------------------------------
# Events and sync status


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
    responses=_errors(status.HTTP_409_CONFLICT),
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
    responses=_errors(status.HTTP_409_CONFLICT),
    summary="Install (or replace) the pg_cron refresh schedules",
)
async def setup_refresh_schedule(engine: Database) -> ScheduleSetup:
    """Install the package's pg_cron jobs, which refresh each tier when it is due
    (README, "Refresh schedules"); the migrations install them on upgrade, so this is for a
    database upgraded before pg_cron was enabled. 409 when pg_cron cannot take
    them: the message says why and how to fix it."""
    return await asyncio.to_thread(_install_schedules, engine)


# --------------------------------------------------------------------------
# Dashboards


def _key(dashboard: Dashboard) -> str:
    """The name the original endpoints used: executive, product_analytics, …"""
    return dashboard.slug.replace("-", "_")


DatabaseId = Annotated[int | None, Query(
    ge=1, description="Metabase id of the database holding the views, put into each card."
)]
CollectionId = Annotated[int | None, Query(
    ge=1, description="Metabase collection id for the cards and the dashboard."
)]


def _template(dashboard: Dashboard, database_id: int | None,
              collection_id: int | None) -> DashboardTemplate:
    return DashboardTemplate.of(
        _key(dashboard), dashboard, bundle(dashboard, database_id, collection_id)
    )


@router.get("/dashboards", summary="The dashboard templates and their Metabase payloads")
def dashboards(
    database_id: DatabaseId = None, collection_id: CollectionId = None,
) -> dict[str, DashboardTemplate]:
    return {
        _key(dashboard): _template(dashboard, database_id, collection_id)
        for dashboard in DASHBOARDS
    }


@router.get(
    "/dashboards/{dashboard_name}",
    responses=_errors(status.HTTP_404_NOT_FOUND),
    summary="One dashboard template and its Metabase payloads",
)
def dashboard(
    dashboard_name: Annotated[str, Path(
        description="executive, product_analytics, platform_performance or inventory_management."
    )],
    database_id: DatabaseId = None,
    collection_id: CollectionId = None,
) -> DashboardTemplate:
    wanted = dashboard_name.replace("-", "_")
    for template in DASHBOARDS:
        if _key(template) == wanted:
            return _template(template, database_id, collection_id)
    raise HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"no dashboard template {dashboard_name!r}. Known: "
        + ", ".join(_key(template) for template in DASHBOARDS),
    )
