"""The two hooks a host application overrides: the database, and authentication."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, TypeAlias

from fastapi import Depends, HTTPException, status
from sqlalchemy.engine import Engine

from soleflip_analytics.db import InvalidDatabaseUrl, engine_from_url, sync_engine

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

DatabaseEngine: TypeAlias = "Engine | AsyncEngine"

NO_DATABASE = (
    "No database configured for the soleflip-analytics endpoints: set DATABASE_URL, or have "
    "the application provide its engine with "
    "app.dependency_overrides[soleflip_analytics.api.get_engine] = lambda: engine."
)


def get_engine() -> DatabaseEngine:
    """The database of every endpoint: an Engine or AsyncEngine.

    By default one Engine per process for DATABASE_URL; a host application
    overrides this dependency to share its own engine.
    """
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NO_DATABASE)
    try:
        return _engine_for(url)
    except InvalidDatabaseUrl as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"DATABASE_URL: {error}"
        ) from None


@functools.cache
def _engine_for(url: str) -> Engine:
    return engine_from_url(url, pool_pre_ping=True)


@contextmanager
def synchronous(engine: DatabaseEngine) -> Iterator[Engine]:
    """The engine for blocking work in a thread: itself, or for an AsyncEngine a
    psycopg2 Engine to the same database, disposed afterwards."""
    sync = sync_engine(engine)
    try:
        yield sync
    finally:
        if sync is not engine:
            sync.dispose()


async def require_auth() -> None:
    """Authentication of every endpoint: allows everyone until the host application overrides it.

    ``app.dependency_overrides[soleflip_analytics.api.require_auth] = verify_jwt``,
    where ``verify_jwt`` raises HTTPException(401) or (403) to refuse a request.
    """


Database = Annotated["Engine | AsyncEngine", Depends(get_engine)]
