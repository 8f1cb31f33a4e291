"""The endpoints, under the paths of the system they replace (mounted at /api/v1/metabase)."""

from fastapi import APIRouter, Depends, status

from soleflip_analytics.api.dependencies import require_auth
from soleflip_analytics.api.routes import dashboards, refresh, sync, views
from soleflip_analytics.api.routes.base import LibraryErrors, error_responses

router = APIRouter(
    dependencies=[Depends(require_auth)],
    route_class=LibraryErrors,
    tags=["soleflip-analytics"],
    responses=error_responses(status.HTTP_403_FORBIDDEN, status.HTTP_503_SERVICE_UNAVAILABLE),
)
for endpoints in (views, refresh, sync, dashboards):
    router.include_router(endpoints.router)

__all__ = ["router"]
