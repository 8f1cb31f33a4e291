"""The Metabase dashboard templates and their payloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Query, status

from soleflip_analytics.api.models import (
    DashboardTemplate,
)
from soleflip_analytics.api.routes.base import endpoints, error_responses
from soleflip_analytics.dashboards.model import Dashboard
from soleflip_analytics.dashboards.payloads import bundle
from soleflip_analytics.dashboards.templates import DASHBOARDS

router = endpoints()


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
    responses=error_responses(status.HTTP_404_NOT_FOUND),
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
