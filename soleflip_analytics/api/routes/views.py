"""Views: create them (the migrations up to head), their state; dropping is refused."""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated

from fastapi import HTTPException, Query, status
from sqlalchemy import text

from soleflip_analytics.api.dependencies import (
    Database,
    DatabaseEngine,
    synchronous,
)
from soleflip_analytics.api.models import (
    ErrorBody,
    MigrationOutcome,
    ViewInfo,
)
from soleflip_analytics.api.routes.base import ViewName, endpoints, error_responses
from soleflip_analytics.deploy import current_revision, upgrade
from soleflip_analytics.status import aview_status, read_view_status

router = endpoints()


# Upgrades of one database run one at a time: across processes through this
# advisory lock (a single key, so it never meets the refresh locks, which take
# two), within a process through a lock, as Alembic's context is global.
_UPGRADE_LOCK_KEY = 0x50F1F11A
_upgrade_lock = threading.Lock()




def _upgrade_to_head(bind: DatabaseEngine) -> MigrationOutcome:
    with _upgrade_lock, synchronous(bind) as engine, engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
        before = current_revision(connection)
        upgrade(connection, "head")
        after = current_revision(connection)
        views = read_view_status(connection, exact_counts=False)
    assert after is not None, "an upgrade to head leaves a revision"
    return MigrationOutcome(
        revision_before=before, revision=after, upgraded=before != after,
        views={view.name: view.exists for view in views},
    )


@router.post(
    "/views/create",
    responses=error_responses(status.HTTP_409_CONFLICT),
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
    "/views/status",
    responses=error_responses(status.HTTP_409_CONFLICT),
    summary="The state of every view",
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
    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT),
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
        "its migration, or add a migration (docs/contributing.md: Add or change a view)."
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
