"""What every endpoint module shares: how the library's errors become HTTP answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from alembic.util import CommandError
from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError, ProgrammingError

from soleflip_analytics.api.models import (
    ErrorBody,
)
from soleflip_analytics.catalog import UnknownViewError
from soleflip_analytics.contract import SourceContractError
from soleflip_analytics.db import (
    INSUFFICIENT_PRIVILEGE,
    NotInstalledError,
    one_line,
    sqlstate,
)
from soleflip_analytics.schedules import (
    SchedulesNotInstalledError,
)

_NOT_INSTALLED_HINT = " (over HTTP: POST /views/create)"
def _error(http_status: int, exception: BaseException) -> HTTPException:
    return HTTPException(http_status, one_line(exception))


class LibraryErrors(APIRoute):
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
                    "of the refresher role (docs/roles.md).",
                ) from None

        return translated


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers of an endpoint."""
    return {code: {"model": ErrorBody} for code in codes}


def endpoints() -> APIRouter:
    """A router for one module's endpoints, which answer the library's errors alike."""
    return APIRouter(route_class=LibraryErrors)

ViewName = Annotated[str, Path(description="A materialized view of schema analytics.")]
