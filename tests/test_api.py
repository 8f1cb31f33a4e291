"""The HTTP endpoints (soleflip_analytics.api), through httpx against real PostgreSQL."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import port_for
import pytest
import schemathesis
from conftest import CRON_DATABASE
from fastapi import FastAPI, Header, HTTPException
from hypothesis import HealthCheck, Phase, settings
from pytest_postgresql.executors import PostgreSQLExecutor
from refresh_support import (
    ALL_VIEWS,
    CARD_VIEWS,
    create_slow_view,
    execute,
    log_rows,
    scalar,
    wait_until,
)
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from small_shop import small_shop
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine

import soleflip_analytics.api
from soleflip_analytics import RefreshCoordinator, close_events, refresh_views, upgrade
from soleflip_analytics.api.dependencies import _engine_for
from soleflip_analytics.api.jobs import JobRunner
from soleflip_analytics.dashboards.payloads import bundle
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.events import _coordinators, coordinator_for

PREFIX = "/api/v1/metabase"
EXAMPLE_APP = Path(__file__).resolve().parents[1] / "examples" / "metabase_api.py"
TIERS = {
    "metabase_executive_metrics": "hourly", "metabase_platform_performance": "hourly",
    "metabase_inventory_status": "hourly", "metabase_product_performance": "daily",
    "metabase_brand_analytics": "daily", "metabase_customer_geography": "daily",
    "metabase_supplier_performance": "weekly",
    **dict.fromkeys(sorted(CARD_VIEWS), "hourly"),
}
HOURLY_VIEWS = sorted(view for view, tier in TIERS.items() if tier == "hourly")
# Refreshed by dependency level: the card views read metabase_inventory_status.
HOURLY_IN_REFRESH_ORDER = sorted(HOURLY_VIEWS, key=lambda view: (view in CARD_VIEWS, view))
ORDER_VIEWS = ALL_VIEWS  # every view reads the orders
STOCK_VIEWS = ALL_VIEWS - {"metabase_customer_geography", "metabase_platform_performance"}

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def shop(pg_server: PostgreSQLExecutor) -> Iterator[Engine]:
    """One database for the module: migrated, the small shop loaded, every view refreshed."""
    with small_shop(pg_server, "api") as engine:
        yield engine
        close_events(timeout=30)


@pytest.fixture(autouse=True)
def jobs_finish() -> Iterator[None]:
    """No refresh job outlives its test (nor its database)."""
    yield
    assert soleflip_analytics.api.wait_for_jobs(timeout=60)


def make_app(engine: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(soleflip_analytics.api.router, prefix=PREFIX)
    app.dependency_overrides[soleflip_analytics.api.get_engine] = lambda: engine
    return app


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://testserver{PREFIX}") as c:
        yield c


@pytest.fixture
async def client(shop: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app(shop)) as c:
        yield c


async def finished(client: httpx.AsyncClient, job: dict[str, Any]) -> dict[str, Any]:
    """The job once it has finished, polled through its status URL."""
    deadline = time.monotonic() + 60
    while job["status"] in ("pending", "running"):
        assert time.monotonic() < deadline, job
        await anyio.sleep(0.05)
        response = await client.get(job["status_url"])
        assert response.status_code == 200
        job = response.json()
    return job


# -- views -------------------------------------------------------------------------


async def test_views_status_gives_every_view_with_counted_rows(
    client: httpx.AsyncClient, shop: Engine
) -> None:
    response = await client.get("/views/status")
    assert response.status_code == 200
    views = {view["view_name"]: view for view in response.json()}
    assert set(views) == ALL_VIEWS
    platforms = views["metabase_platform_performance"]
    assert platforms["row_count"] == 3 and platforms["row_count_exact"]
    assert platforms["exists"] and platforms["populated"] and not platforms["stale"]
    assert platforms["tier"] == "hourly" and platforms["concurrent_refresh_possible"]
    assert platforms["last_refresh"] is not None and platforms["age_seconds"] >= 0
    assert any(name.startswith("metabase_platform_performance") for name in platforms["indexes"])
    estimated = (await client.get("/views/status", params={"exact_counts": "false"})).json()
    assert not any(view["row_count_exact"] for view in estimated)


async def test_one_views_status_and_an_unknown_name(client: httpx.AsyncClient) -> None:
    response = await client.get("/views/metabase_brand_analytics/status")
    assert response.status_code == 200
    assert response.json()["view_name"] == "metabase_brand_analytics"
    prefixed = await client.get("/views/analytics.metabase_brand_analytics/status")
    assert prefixed.json()["view_name"] == "metabase_brand_analytics"
    unknown = await client.get("/views/metabase_brands/status")
    assert unknown.status_code == 404
    assert "'metabase_brands'" in unknown.json()["detail"]
    assert all(view in unknown.json()["detail"] for view in ALL_VIEWS)


async def test_delete_is_refused_and_points_to_the_migrations(
    client: httpx.AsyncClient, shop: Engine
) -> None:
    response = await client.delete("/views/metabase_brand_analytics")
    assert response.status_code == 409
    assert "db downgrade" in response.json()["detail"]
    assert scalar(shop, "SELECT to_regclass('analytics.metabase_brand_analytics') IS NOT NULL")


async def test_create_applies_the_migrations_once(source_engine: Engine) -> None:
    async with client_for(make_app(source_engine)) as client:
        first = await client.post("/views/create")
        assert first.status_code == 200
        body = first.json()
        assert body["revision_before"] is None and body["upgraded"]
        assert body["views"] == dict.fromkeys(ALL_VIEWS, True)
        again = (await client.post("/views/create")).json()
        assert again["revision_before"] == again["revision"] == body["revision"]
        assert not again["upgraded"]
        refused = await client.post("/views/create", params={"drop_existing": "true"})
        assert refused.status_code == 409 and "db downgrade" in refused.json()["detail"]
    assert scalar(source_engine, "SELECT count(*) FROM pg_matviews WHERE schemaname = 'analytics'"
                  ) == len(ALL_VIEWS)


async def test_create_without_the_shop_tables_names_them_and_creates_nothing(
    make_database: Callable[..., str],
) -> None:
    engine = create_engine(make_database(contract=False))
    try:
        async with client_for(make_app(engine)) as client:
            response = await client.post("/views/create")
        assert response.status_code == 409
        assert "transactions.orders" in response.json()["detail"]
        assert scalar(engine, "SELECT to_regnamespace('analytics') IS NULL")
    finally:
        engine.dispose()


async def test_create_refuses_a_database_at_a_revision_it_does_not_know(
    migrated_engine: Engine,
) -> None:
    execute(migrated_engine, "UPDATE public.soleflip_analytics_version SET version_num = 'f00d'")
    async with client_for(make_app(migrated_engine)) as client:
        response = await client.post("/views/create")
    assert response.status_code == 409
    assert "'f00d'" in response.json()["detail"]


async def test_before_the_migrations_the_endpoints_say_to_apply_them(
    source_engine: Engine,
) -> None:
    async with client_for(make_app(source_engine)) as client:
        for response in (
            await client.get("/views/status"),
            await client.get("/sync/status"),
            await client.post("/sync/all"),
        ):
            assert response.status_code == 409
            assert "POST /views/create" in response.json()["detail"]


# -- refresh jobs --------------------------------------------------------------------


async def test_a_refresh_answers_202_and_runs_in_the_background(
    client: httpx.AsyncClient, shop: Engine
) -> None:
    response = await client.post("/views/metabase_brand_analytics/refresh")
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == job["status_url"]
    assert job["status_url"] == f"http://testserver{PREFIX}/jobs/{job['job_id']}"
    assert job["views"] == ["metabase_brand_analytics"]
    job = await finished(client, job)
    assert job["status"] == "completed" and job["error_message"] is None
    [result] = job["results"]
    assert result["view_name"] == "metabase_brand_analytics"
    assert result["status"] == "completed" and result["outcome"] == "succeeded"
    assert result["method"] == "concurrently"
    assert result["row_count"] == scalar(
        shop, "SELECT count(*) FROM analytics.metabase_brand_analytics"
    )
    assert job["started_at"] <= result["started_at"] <= result["completed_at"]
    [entry] = [e for e in log_rows(shop, "metabase_brand_analytics") if e.triggered_by == "api"]
    assert entry.status == "succeeded"


async def test_wait_answers_200_with_the_finished_job(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/views/refresh-by-strategy/hourly", params={"wait": "true", "timeout": "60"}
    )
    assert response.status_code == 200
    job = response.json()
    assert job["status"] == "completed" and job["views"] == HOURLY_IN_REFRESH_ORDER
    assert [result["view_name"] for result in job["results"]] == HOURLY_IN_REFRESH_ORDER


async def test_sync_all_refreshes_every_view_in_dependency_order(
    client: httpx.AsyncClient,
) -> None:
    job = await finished(client, (await client.post("/sync/all")).json())
    assert job["status"] == "completed"
    assert set(job["views"]) == ALL_VIEWS
    assert [result["view_name"] for result in job["results"]] == job["views"]


async def test_refresh_errors(client: httpx.AsyncClient, shop: Engine) -> None:
    before = len(log_rows(shop))
    unknown = await client.post("/views/metabase_brands/refresh")
    assert unknown.status_code == 404
    assert "Known views: " in unknown.json()["detail"]
    assert "metabase_brand_analytics" in unknown.json()["detail"]
    assert (await client.post('/views/x"; DROP TABLE core.brands; --/refresh')).status_code == 404
    assert (await client.post("/views/refresh-by-strategy/monthly")).status_code == 422
    assert (await client.post("/sync/all", params={"wait": "true", "timeout": "0"})
            ).status_code == 422
    assert len(log_rows(shop)) == before
    missing = await client.get("/jobs/0123456789abcdef")
    assert missing.status_code == 404 and "memory" in missing.json()["detail"]


async def test_a_long_refresh_is_still_running_when_the_wait_times_out(
    migrated_engine: Engine,
) -> None:
    slow = create_slow_view(migrated_engine, seconds=1.5)
    async with client_for(make_app(migrated_engine)) as client:
        response = await client.post(
            f"/views/{slow}/refresh", params={"wait": "true", "timeout": "0.2"}
        )
        assert response.status_code == 202
        assert response.json()["status"] == "running"
        job = await finished(client, response.json())
    assert job["status"] == "completed"
    assert job["results"][0]["duration_seconds"] >= 1.5


async def test_a_failed_refresh_fails_the_job_and_the_view_keeps_its_rows(
    migrated_engine: Engine,
) -> None:
    execute(migrated_engine, "CREATE TABLE public.divisor (n integer); "
                             "INSERT INTO public.divisor VALUES (1)")
    execute(migrated_engine, "CREATE MATERIALIZED VIEW analytics.ratio AS "
                             "SELECT 1 / (SELECT n FROM public.divisor) AS x")
    execute(migrated_engine, "UPDATE public.divisor SET n = 0")
    async with client_for(make_app(migrated_engine)) as client:
        response = await client.post("/views/ratio/refresh", params={"wait": "true"})
        assert response.status_code == 200
        job = response.json()
        assert job["status"] == "failed"
        [result] = job["results"]
        assert result["status"] == result["outcome"] == "failed"
        assert "division by zero" in result["error_message"]
        assert "22012" in result["detail"]
        status = (await client.get("/views/ratio/status")).json()
        assert "division by zero" in status["last_error"]
    assert scalar(migrated_engine, "SELECT x FROM analytics.ratio") == 1


def test_jobs_beyond_the_running_limit_wait_and_old_finished_jobs_are_forgotten(
    migrated_engine: Engine,
) -> None:
    slow = create_slow_view(migrated_engine, seconds=0.5)
    runner = JobRunner(max_running=1, kept_finished=1)
    first, second = runner.start(migrated_engine, [slow]), runner.start(migrated_engine, [slow])
    wait_until(lambda: {first.state().status, second.state().status} == {"running", "pending"})
    assert runner.wait(timeout=30)
    assert first.state().status == second.state().status == "completed"
    third = runner.start(migrated_engine, [])  # keeps the latest finished job, and itself
    assert runner.get(first.id) is None
    assert runner.get(second.id) is second and runner.get(third.id) is third


# -- events and sync status -------------------------------------------------------------


@pytest.fixture
def patient_coordinator(shop: Engine, monkeypatch: pytest.MonkeyPatch) -> RefreshCoordinator:
    """The shop's event coordinator, waiting a minute for quiet (the test flushes it)."""
    coordinator = RefreshCoordinator(shop, quiet_period=60, max_delay=60)
    key = shop.url.render_as_string(hide_password=False)
    monkeypatch.setitem(_coordinators, key, coordinator)
    yield coordinator
    coordinator.close(timeout=30)


async def test_events_are_accepted_at_once_and_refresh_the_affected_views(
    client: httpx.AsyncClient, shop: Engine, patient_coordinator: RefreshCoordinator
) -> None:
    before = len(log_rows(shop))
    order = await client.post("/sync/on-order-event")
    assert order.status_code == 202
    assert order.json() == {"table": "transactions.orders", "refresh_within_seconds": 60}
    stock = await client.post("/sync/on-inventory-event")
    assert stock.status_code == 202 and stock.json()["table"] == "inventory.stock"
    status = (await client.get("/sync/status")).json()
    assert status["pending_events"] == ["inventory.stock", "transactions.orders"]
    assert len(log_rows(shop)) == before  # nothing refreshed yet
    assert patient_coordinator.flush(timeout=30)
    event_entries = [e for e in log_rows(shop)[before:] if e.triggered_by == "event"]
    assert {e.view_name for e in event_entries} == ORDER_VIEWS | STOCK_VIEWS
    assert (await client.get("/sync/status")).json()["pending_events"] == []


async def test_sync_status_sums_up_the_views_and_their_health(
    client: httpx.AsyncClient, shop: Engine
) -> None:
    refresh_views(shop)
    response = await client.get("/sync/status")
    assert response.status_code == 200
    status = response.json()
    assert status["total_views"] == status["existing_views"] == len(ALL_VIEWS)
    assert status["missing_views"] == 0
    assert status["total_rows"] == sum(view["row_count"] for view in status["views"]) > 0
    assert status["healthy"] and status["problems"] == []


async def test_sync_status_reports_problems(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as connection:  # no refresh on record, not even the deploy's
        connection.execute(text("DELETE FROM analytics.refresh_log"))
    async with client_for(make_app(migrated_engine)) as client:
        status = (await client.get("/sync/status")).json()
    assert not status["healthy"]
    never = {p["view"] for p in status["problems"] if p["check"] == "never_refreshed"}
    assert never == ALL_VIEWS


# -- pg_cron schedules -------------------------------------------------------------------


async def test_setup_refresh_schedule_installs_the_pg_cron_jobs(
    make_database: Callable[..., str],
) -> None:
    url = make_database(name=CRON_DATABASE)  # pg_cron's database: the jobs go here
    upgrade(url)
    engine = create_engine(url)
    try:
        execute(engine, f"SELECT cron.unschedule('soleflip_analytics:{CRON_DATABASE}:stale')")
        async with client_for(make_app(engine)) as client:
            health = (await client.get("/sync/status")).json()
            assert "schedule_missing" in {problem["check"] for problem in health["problems"]}
            response = await client.post("/setup/refresh-schedule")
            assert response.status_code == 200
            setup = response.json()
            assert setup["cron_database"] == CRON_DATABASE and setup["views"] == TIERS
            assert {job["job"] for job in setup["jobs"]} == {"tiers", "stale", "purge"}
            assert all(job["installed"] and job["found"] and job["active"]
                       for job in setup["jobs"])
            status = (await client.get("/sync/status")).json()
            assert "schedule_missing" not in {problem["check"] for problem in status["problems"]}
            assert all(view["refresh_scheduled"] for view in status["views"])
    finally:
        engine.dispose()


async def test_setup_refresh_schedule_without_pg_cron_says_how_to_enable_it(
    make_database_without_pg_cron: Callable[..., str],
) -> None:
    url = make_database_without_pg_cron()
    upgrade(url)
    engine = create_engine(url)
    try:
        async with client_for(make_app(engine)) as client:
            response = await client.post("/setup/refresh-schedule")
            assert response.status_code == 409
            assert "not in shared_preload_libraries" in response.json()["detail"]
            status = (await client.get("/sync/status")).json()
        assert [job["installed"] for job in status["schedules"]] == [False, False, False]
        assert all("shared_preload_libraries" in job["reason"] for job in status["schedules"])
        assert not any(view["refresh_scheduled"] for view in status["views"])
    finally:
        engine.dispose()


# -- dashboards --------------------------------------------------------------------


async def test_dashboards_give_the_templates_and_their_payloads(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/dashboards", params={"database_id": 7})
    assert response.status_code == 200
    templates = response.json()
    assert list(templates) == [
        "executive", "product_analytics", "platform_performance", "inventory_management",
    ]
    for template, dashboard in zip(templates.values(), DASHBOARDS, strict=True):
        assert template["name"] == dashboard.name
        assert [card["name"] for card in template["cards"]] == [c.name for c in dashboard.cards]
        expected = bundle(dashboard, database_id=7)
        assert template["export"] == {
            "dashboard": expected.dashboard, "cards": expected.cards,
            "dashcards": expected.dashcards,
        }


async def test_one_dashboard_by_the_original_name_or_its_slug(client: httpx.AsyncClient) -> None:
    by_name = await client.get("/dashboards/product_analytics")
    by_slug = await client.get("/dashboards/product-analytics")
    assert by_name.status_code == by_slug.status_code == 200
    assert by_name.json() == by_slug.json()
    assert by_name.json()["name"] == "Product Analytics"
    unknown = await client.get("/dashboards/sales")
    assert unknown.status_code == 404
    assert "executive, product_analytics, platform_performance, inventory_management" in (
        unknown.json()["detail"]
    )


# -- the hooks: database and authentication -----------------------------------------------


async def test_without_a_database_the_answer_says_how_to_configure_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = FastAPI()
    app.include_router(soleflip_analytics.api.router, prefix=PREFIX)
    async with client_for(app) as client:
        response = await client.get("/views/status")
        assert response.status_code == 503
        assert "DATABASE_URL" in response.json()["detail"]
        assert "dependency_overrides" in response.json()["detail"]
        monkeypatch.setenv("DATABASE_URL", "not a url")
        assert (await client.get("/views/status")).status_code == 503


async def test_the_database_url_from_the_environment(
    migrated_engine: Engine, source_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", source_url)
    app = FastAPI()
    app.include_router(soleflip_analytics.api.router, prefix=PREFIX)
    try:
        async with client_for(app) as client:
            response = await client.get("/views/status")
        assert response.status_code == 200
        assert {view["view_name"] for view in response.json()} == ALL_VIEWS
    finally:
        _engine_for(source_url).dispose()


async def test_an_unreachable_database_answers_503() -> None:
    engine = create_engine(f"postgresql://nobody@127.0.0.1:{port_for.select_random()}/shop")
    async with client_for(make_app(engine)) as client:
        response = await client.get("/views/status")
    assert response.status_code == 503
    assert "cannot be reached" in response.json()["detail"]


async def test_as_a_member_of_the_refresher_role(source_url: str, source_engine: Engine) -> None:
    """The shop application's usual role: refreshes and status, but no migrations."""
    suffix = f"{os.getpid()}_{time.monotonic_ns()}"
    refresher, login = f"api_refresher_{suffix}", f"api_app_{suffix}"
    upgrade(source_url, reader_role=f"api_reader_{suffix}", refresher_role=refresher)
    execute(source_engine, f"CREATE ROLE {login} LOGIN IN ROLE {refresher}")
    engine = create_engine(make_url(source_url).set(username=login))
    try:
        async with client_for(make_app(engine)) as client:
            job = (await client.post("/sync/all", params={"wait": "true"})).json()
            assert job["status"] == "completed", job
            status = await client.get("/sync/status")
            assert status.status_code == 200 and status.json()["healthy"]
            denied = await client.post("/views/create")
            schedules = await client.post("/setup/refresh-schedule")
        assert denied.status_code == 403
        assert "permission denied" in denied.json()["detail"]
        assert "deploying role" in denied.json()["detail"]
        # Refused either way: for lack of a privilege (403), or by pg_cron's check (409).
        assert schedules.status_code in (403, 409), schedules.json()
    finally:
        engine.dispose()
        with source_engine.begin() as connection:
            for role in (login, refresher, f"api_reader_{suffix}"):
                connection.execute(text(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"'))


async def test_the_host_application_brings_its_authentication(shop: Engine) -> None:
    def verify(authorization: str = Header("")) -> None:
        if authorization != "Bearer let-me-in":
            raise HTTPException(401, "no entry")

    app = make_app(shop)
    app.dependency_overrides[soleflip_analytics.api.require_auth] = verify
    async with client_for(app) as client:
        for method, path in (
            ("GET", "/views/status"), ("GET", "/dashboards"), ("DELETE", "/views/x"),
            ("POST", "/sync/all"), ("GET", "/jobs/x"),
        ):
            assert (await client.request(method, path)).status_code == 401
        allowed = await client.get("/views/status",
                                   headers={"Authorization": "Bearer let-me-in"})
        assert allowed.status_code == 200


async def test_an_async_engine_works_too(source_url: str) -> None:
    engine = create_async_engine(source_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        async with client_for(make_app(engine)) as client:
            assert (await client.post("/views/create")).json()["upgraded"]
            job = (await client.post("/sync/all", params={"wait": "true"})).json()
            assert job["status"] == "completed" and len(job["results"]) == len(ALL_VIEWS)
            status = (await client.get("/views/metabase_platform_performance/status")).json()
            assert status["populated"] and status["last_refresh"] is not None
            assert (await client.post("/sync/on-order-event")).status_code == 202
            assert await anyio.to_thread.run_sync(coordinator_for(engine).flush, 30)
    finally:
        await engine.dispose()
        close_events(timeout=30)


async def test_the_example_application(
    shop: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", shop.url.render_as_string(hide_password=False))
    monkeypatch.setenv("API_TOKEN", "s3cret")
    spec = importlib.util.spec_from_file_location("metabase_api_example", EXAMPLE_APP)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=example.app), base_url="http://testserver"
        ) as client:
            url = f"{PREFIX}/views/refresh-by-strategy/weekly?wait=true"
            assert (await client.post(url)).status_code == 401
            response = await client.post(url, headers={"Authorization": "Bearer s3cret"})
        assert response.status_code == 200
        assert response.json()["views"] == ["metabase_supplier_performance"]
    finally:
        example.engine.dispose()


def test_the_package_imports_without_fastapi() -> None:
    code = (
        "import sys; sys.modules['fastapi'] = None; "
        "import soleflip_analytics, soleflip_analytics.cli; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "ok", done.stderr


# -- the OpenAPI schema, with generated requests -------------------------------------------


@pytest.fixture
def api_schema(shop: Engine) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", make_app(shop))


openapi = schemathesis.pytest.from_fixture("api_schema")


@openapi.parametrize()
@settings(
    max_examples=15, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_no_server_error_and_answers_match_the_schema(
    case: schemathesis.Case,
) -> None:
    case.call_and_validate(checks=[
        schemathesis.checks.not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ])
