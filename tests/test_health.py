"""check_health(): each problem an operator must act on, in words."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from refresh_support import ALL_VIEWS, CARD_VIEWS, add_sales, execute
from sqlalchemy import text
from sqlalchemy.engine import Engine

from soleflip_analytics import HealthReport, acheck_health, check_health, refresh_views, upgrade


def problems(report: HealthReport) -> set[tuple[str | None, str]]:
    return {(problem.view, problem.check) for problem in report.problems}


def test_healthy_after_the_deploy_and_a_refresh_and_never_refreshed_without_them(
    migrated_engine: Engine,
) -> None:
    assert check_health(migrated_engine).healthy  # the deploy's build counts as a refresh
    execute(migrated_engine, "DELETE FROM analytics.refresh_log")
    before = check_health(migrated_engine)
    assert problems(before) == {(view, "never_refreshed") for view in ALL_VIEWS}
    assert "has no successful refresh on record" in before.problems[0].message
    refresh_views(migrated_engine)
    report = check_health(migrated_engine)
    assert report.healthy and report.views == tuple(sorted(ALL_VIEWS))
    assert str(report) == f"healthy: {len(ALL_VIEWS)} views checked"
    assert asyncio.run(acheck_health(migrated_engine)).healthy


def test_missing_and_unpopulated_views(migrated_engine: Engine) -> None:
    refresh_views(migrated_engine)
    execute(
        migrated_engine,
        "DROP MATERIALIZED VIEW analytics.metabase_customer_geography; "
        "REFRESH MATERIALIZED VIEW analytics.metabase_brand_analytics WITH NO DATA",
    )
    report = check_health(migrated_engine)
    assert problems(report) == {
        ("metabase_customer_geography", "missing"),
        ("metabase_brand_analytics", "not_populated"),
    }
    text_ = str(report)
    assert "analytics.metabase_customer_geography does not exist" in text_
    assert "analytics.metabase_brand_analytics is not populated" in text_
    assert "`soleflip-analytics refresh metabase_brand_analytics`" in text_
    assert "refresh_views(engine, ['metabase_brand_analytics'])" in text_


def test_empty_while_its_sources_hold_new_rows(migrated_engine: Engine) -> None:
    refresh_views(migrated_engine)  # on an empty shop: empty, and rightly so
    assert check_health(migrated_engine).healthy
    add_sales(migrated_engine, 3)  # fills every source table
    refresh_views(migrated_engine, tier="hourly")
    report = check_health(migrated_engine)
    assert problems(report) == {
        ("metabase_product_performance", "empty"),
        ("metabase_brand_analytics", "empty"),
        ("metabase_customer_geography", "empty"),
        ("metabase_supplier_performance", "empty"),
    }
    message = next(p.message for p in report.problems if p.view == "metabase_brand_analytics")
    assert "is empty although its sources (" in message
    assert "transactions.orders" in message


def test_too_old_for_its_tier_with_configurable_limits(migrated_engine: Engine) -> None:
    refresh_views(migrated_engine)
    execute(
        migrated_engine,
        "UPDATE analytics.refresh_log SET started_at = started_at - interval '3 hours', "
        "finished_at = finished_at - interval '3 hours'",
    )
    report = check_health(migrated_engine)
    assert problems(report) == {
        ("metabase_executive_metrics", "too_old"),
        ("metabase_platform_performance", "too_old"),
        ("metabase_inventory_status", "too_old"),
    } | {(view, "too_old") for view in CARD_VIEWS}
    message = report.problems[0].message
    assert "3 h 0 min ago; its hourly schedule allows 2 h 0 min" in message
    relaxed = check_health(migrated_engine, max_age={"hourly": timedelta(hours=4)})
    assert relaxed.healthy
    strict = check_health(
        migrated_engine,
        max_age={"hourly": timedelta(hours=4), "metabase_supplier_performance": timedelta(hours=1)},
    )
    assert problems(strict) == {("metabase_supplier_performance", "too_old")}


def test_a_failed_last_refresh_is_reported_with_its_error(migrated_engine: Engine) -> None:
    refresh_views(migrated_engine)
    with migrated_engine.connect() as blocker:
        blocker.execute(text("ANALYZE analytics.metabase_executive_metrics"))
        refresh_views(migrated_engine, ["metabase_executive_metrics"], lock_timeout=0.05)
        blocker.rollback()
    report = check_health(migrated_engine)
    assert problems(report) == {("metabase_executive_metrics", "refresh_failed")}
    message = report.problems[0].message
    assert "The latest refresh of analytics.metabase_executive_metrics failed at" in message
    assert "lock timeout" in message and "still shows its previous data" in message
    refresh_views(migrated_engine, ["metabase_executive_metrics"])
    assert check_health(migrated_engine).healthy


def test_expected_views_and_a_database_without_the_migrations(
    migrated_engine: Engine, make_database
) -> None:
    refresh_views(migrated_engine)
    report = check_health(migrated_engine, expected_views=["metabase_sales_forecast"])
    assert problems(report) == {("metabase_sales_forecast", "missing")}
    url = make_database()
    upgrade(url, "0008")
    report = check_health(url)
    assert problems(report) == {(None, "not_installed")}
    assert "apply the migrations" in report.problems[0].message
