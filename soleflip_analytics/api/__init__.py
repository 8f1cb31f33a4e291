"""The HTTP management endpoints of the system this package replaces, as a FastAPI router.

Optional: ``pip install soleflip-analytics[api]``. Mount it where the old
endpoints were::

    from fastapi import FastAPI
    import soleflip_analytics.api

    app = FastAPI()
    app.include_router(soleflip_analytics.api.router, prefix="/api/v1/metabase")
    app.dependency_overrides[soleflip_analytics.api.get_engine] = lambda: engine
    app.dependency_overrides[soleflip_analytics.api.require_auth] = verify_jwt

Without the first override the endpoints use DATABASE_URL; without the second
they allow everyone. See docs/api.md.
"""

from soleflip_analytics.api.dependencies import get_engine, require_auth
from soleflip_analytics.api.jobs import wait_for_jobs
from soleflip_analytics.api.routes import router

__all__ = ["get_engine", "require_auth", "router", "wait_for_jobs"]
