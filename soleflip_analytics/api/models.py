"""The bodies the endpoints answer with.

Field names follow the system the endpoints replace where it had them
(``view_name``, ``last_refresh``, ``duration_seconds``, ``error_message``, …);
the rest come from the library's own results.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import textwrap
from datetime import datetime, timedelta
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from soleflip_analytics.api.jobs import JobState
from soleflip_analytics.dashboards.model import Dashboard
from soleflip_analytics.dashboards.payloads import Bundle
from soleflip_analytics.refresh import RefreshResult
from soleflip_analytics.schedules import ScheduleStatus
from soleflip_analytics.status import ViewStatus


class _Body(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)


def _attribute_docs(source: type) -> dict[str, str]:
    """The docstrings written under a class's attributes, by attribute name."""
    body = ast.parse(textwrap.dedent(inspect.getsource(source))).body[0]
    assert isinstance(body, ast.ClassDef)
    docs = {}
    for field, after in itertools.pairwise(body.body):
        if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[field.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _model_of(name: str, source: type, doc: str) -> type[_Body]:
    """A body with the fields of the dataclass ``source``: names, types and docstrings."""
    hints = get_type_hints(source)
    docs = _attribute_docs(source)
    fields = {
        field.name: (hints[field.name], Field(description=docs.get(field.name)))
        for field in dataclasses.fields(source)
    }
    return create_model(name, __base__=_Body, __doc__=doc, __module__=__name__, **fields)


def _seconds(interval: timedelta | None) -> float | None:
    return None if interval is None else interval.total_seconds()


class ErrorBody(_Body):
    detail: str
    """What went wrong and what to do about it."""


class ViewInfo(_Body):
    """The state of one materialized view of schema analytics."""

    view_name: str
    exists: bool
    populated: bool
    row_count: int | None
    row_count_exact: bool
    """True when counted; False for the planner's estimate (exact_counts=false)."""
    size_bytes: int | None
    """On disk, indexes included."""
    indexes: list[str]
    """Names of the view's indexes."""
    concurrent_refresh_possible: bool
    """Populated, with a unique index that allows REFRESH … CONCURRENTLY."""
    tier: str | None
    """hourly, daily or weekly, as its migration registered it."""
    version: int | None
    last_refresh: datetime | None
    """End of the last successful refresh."""
    data_as_of: datetime | None
    """Start of the last successful refresh: the view shows the data of that moment."""
    last_refresh_duration_seconds: float | None
    last_refresh_rows: int | None
    last_attempt_status: str | None
    """succeeded, failed or up_to_date: the latest refresh that ran."""
    last_error: str | None
    last_error_at: datetime | None
    stale: bool | None
    """A source changed since the last successful refresh."""
    age_seconds: float | None
    """How old the data is (now - data_as_of)."""
    refreshing_now: bool
    refresh_scheduled: bool | None
    """The pg_cron job that refreshes the view's tier is installed; false when it
    could not be (GET /sync/status says why); null without a tier or before the
    schedules migration."""

    @classmethod
    def of(cls, status: ViewStatus) -> ViewInfo:
        return cls(
            view_name=status.name,
            exists=status.exists,
            populated=status.populated,
            row_count=status.row_count,
            row_count_exact=status.row_count_exact,
            size_bytes=status.size_bytes,
            indexes=[index.name for index in status.indexes],
            concurrent_refresh_possible=status.concurrent_refresh_possible,
            tier=status.tier,
            version=status.version,
            last_refresh=status.last_refreshed_at,
            data_as_of=status.data_as_of,
            last_refresh_duration_seconds=_seconds(status.last_refresh_duration),
            last_refresh_rows=status.last_refresh_rows,
            last_attempt_status=status.last_attempt_status,
            last_error=status.last_error,
            last_error_at=status.last_error_at,
            stale=status.stale,
            age_seconds=_seconds(status.age),
            refreshing_now=status.refreshing_now,
            refresh_scheduled=status.refresh_schedule and status.refresh_schedule.installed,
        )


class ViewRefresh(_Body):
    """One refresh of one view: one row of analytics.refresh_log."""

    view_name: str
    status: Literal["completed", "failed"]
    """completed unless the refresh failed (the view then keeps its previous rows)."""
    outcome: Literal["succeeded", "failed", "skipped", "up_to_date"]
    """As in analytics.refresh_log: skipped means another refresh of the view was
    running and took the request over."""
    method: Literal["concurrently", "swap", "plain"] | None
    started_at: datetime
    completed_at: datetime
    duration_seconds: float
    row_count: int | None
    error_message: str | None
    detail: str | None
    """Why a refresh was plain, skipped or up to date; SQLSTATE and a hint for a failure."""

    @classmethod
    def of(cls, result: RefreshResult) -> ViewRefresh:
        return cls(
            view_name=result.view,
            status="completed" if result.ok else "failed",
            outcome=result.status,
            method=result.method,
            started_at=result.started_at,
            completed_at=result.finished_at,
            duration_seconds=result.duration.total_seconds(),
            row_count=result.row_count,
            error_message=result.error,
            detail=result.detail,
        )


class RefreshJob(_Body):
    """A refresh started by the API, run in the background by the process that took it."""

    job_id: str
    status: Literal["pending", "running", "completed", "failed"]
    """pending (waiting for a free worker), running, completed (every view refreshed),
    failed (a view's refresh failed, see results, or the job could not run, see
    error_message)."""
    views: list[str]
    """The views this job refreshes, in refresh order."""
    results: list[ViewRefresh]
    """One entry per refresh done so far; a view appears twice when it was
    refreshed once more for a request that arrived while it ran."""
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
    status_url: str
    """Where to ask for this job's status (GET)."""

    @classmethod
    def of(cls, job: JobState, status_url: str) -> RefreshJob:
        return cls(
            job_id=job.id,
            status=job.status,
            views=list(job.views),
            results=[ViewRefresh.of(result) for result in job.results],
            created_at=job.created_at,
            started_at=job.started_at,
            completed_at=job.finished_at,
            error_message=job.error,
            status_url=status_url,
        )


class MigrationOutcome(_Body):
    revision_before: str | None
    """The revision the database was at; null when nothing was deployed."""
    revision: str
    upgraded: bool
    """False when the database was at head already."""
    views: dict[str, bool]
    """Every view, and whether it exists."""


class HealthProblemInfo(_Body):
    """One problem found by the health check (from a HealthProblem)."""

    view: str | None
    """Null for a problem of a pg_cron job."""
    check: str
    """not_installed, missing, not_populated, empty, never_refreshed, too_old,
    refresh_failed, schedule_missing, schedule_inactive or schedule_failed."""
    message: str
    """What is wrong and what to do."""


ScheduleInfo = _model_of(
    "ScheduleInfo",
    ScheduleStatus,
    "One pg_cron job of the package (from a ScheduleStatus): declared, installed, running.",
)


class ScheduleSetup(_Body):
    cron_database: str | None
    """pg_cron's database, where the jobs are."""
    views: dict[str, str]
    """Every view with a tier, and its tier (hourly, daily, weekly)."""
    jobs: list[ScheduleInfo]


class SyncStatus(_Body):
    total_views: int
    existing_views: int
    missing_views: int
    total_rows: int
    last_check: datetime
    healthy: bool
    """Every view exists, is populated, young enough for its tier, and its latest
    refresh did not fail."""
    problems: list[HealthProblemInfo]
    schedules: list[ScheduleInfo]
    """The package's pg_cron jobs."""
    pending_events: list[str]
    """Tables changed by order or inventory events in this process whose refresh
    has not started yet."""
    views: list[ViewInfo]


class EventAccepted(_Body):
    table: str
    """The table the event marked as changed."""
    refresh_within_seconds: float
    """The affected views (stale ones only) are refreshed at the latest this long
    after the first pending event, sooner once events have been quiet."""


class DashboardFilter(_Body):
    slug: str
    name: str
    type: str
    """Metabase parameter type."""
    choices: list[str]


class DashboardCard(_Body):
    name: str
    description: str
    display: str
    filters: list[str]
    """Slugs of the dashboard filters wired to the card."""


class DashboardExport(_Body):
    """The Metabase REST API bodies, as ``soleflip-analytics dashboards export`` writes them."""

    dashboard: dict[str, Any]
    """POST /api/dashboard."""
    cards: dict[str, dict[str, Any]]
    """Card file name -> POST /api/card."""
    dashcards: list[dict[str, Any]]
    """The dashcards of PUT /api/dashboard/:id; each card_id names a card file."""


class DashboardTemplate(_Body):
    key: str
    name: str
    description: str
    filters: list[DashboardFilter]
    cards: list[DashboardCard]
    export: DashboardExport

    @classmethod
    def of(cls, key: str, dashboard: Dashboard, bundle: Bundle) -> DashboardTemplate:
        return cls(
            key=key,
            name=dashboard.name,
            description=dashboard.description,
            filters=[
                DashboardFilter(slug=flt.slug, name=flt.name, type=flt.parameter_type,
                                choices=list(flt.choices))
                for flt in dashboard.filters
            ],
            cards=[
                DashboardCard(name=card.name, description=card.description, display=card.display,
                              filters=[flt.slug for flt in card.filters])
                for card in dashboard.cards
            ],
            export=DashboardExport(
                dashboard=bundle.dashboard, cards=bundle.cards, dashcards=bundle.dashcards
            ),
        )
