"""Refresh jobs: one view, a tier or every view, in the background."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, Response, status

from soleflip_analytics.api.dependencies import (
    Database,
    DatabaseEngine,
)
from soleflip_analytics.api.jobs import Job, jobs
from soleflip_analytics.api.models import (
    RefreshJob,
)
from soleflip_analytics.api.routes.base import ViewName, endpoints, error_responses
from soleflip_analytics.catalog import select_views
from soleflip_analytics.db import (
    Bind,
    connect,
    require_installed,
    run_async,
)
from soleflip_analytics.names import TIERS

router = endpoints()


JOB_ROUTE = "soleflip_analytics_job"
RefreshStrategy = Enum("RefreshStrategy", {tier: tier for tier in TIERS}, type=str)




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
    **error_responses(status.HTTP_409_CONFLICT),
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
    responses={**_REFRESH_RESPONSES, **error_responses(status.HTTP_404_NOT_FOUND)},
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
    responses=error_responses(status.HTTP_404_NOT_FOUND),
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
