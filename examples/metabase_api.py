"""A FastAPI application serving the analytics endpoints where the old system had them.

    pip install 'soleflip-analytics[api]' uvicorn
    export DATABASE_URL=postgresql://shop@db.example.com/shop
    export API_TOKEN=change-me            # optional: without it, anyone may call
    uvicorn examples.metabase_api:app     # from the repository root

    curl -X POST -H "Authorization: Bearer $API_TOKEN" \\
        "http://localhost:8000/api/v1/metabase/views/refresh-by-strategy/hourly?wait=true"

The application brings its engine and its authentication (here a bearer token
compared with API_TOKEN; a real shop would check its JWT the same way) by
overriding the router's two dependencies. At shutdown it lets running refresh
jobs and pending events finish.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import create_engine

import soleflip_analytics.api
from soleflip_analytics import close_events
from soleflip_analytics.db import resolve_url

SHUTDOWN_TIMEOUT = 30  # seconds for running refreshes to finish

engine = create_engine(resolve_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)
bearer = HTTPBearer(auto_error=False)


def verify_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Let a request through only with ``Authorization: Bearer $API_TOKEN``."""
    token = credentials.credentials if credentials else ""
    if not secrets.compare_digest(token.encode(), os.environ["API_TOKEN"].encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    await asyncio.to_thread(soleflip_analytics.api.wait_for_jobs, SHUTDOWN_TIMEOUT)
    await asyncio.to_thread(close_events, SHUTDOWN_TIMEOUT)
    engine.dispose()


app = FastAPI(title="soleflip analytics", lifespan=lifespan)
app.include_router(soleflip_analytics.api.router, prefix="/api/v1/metabase")
app.dependency_overrides[soleflip_analytics.api.get_engine] = lambda: engine
if os.environ.get("API_TOKEN"):
    app.dependency_overrides[soleflip_analytics.api.require_auth] = verify_token
