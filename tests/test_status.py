"""view_status() and analytics.view_freshness."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from refresh_support import (
    ALL_VIEWS,
    CARD_VIEWS,
    add_sales,
    create_slow_view,
    execute,
    scalar,
    sleeping_backend,
    wait_until,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from soleflip_analytics import (
    NotInstalledError,
    ViewStatus,
    aview_status,
    refresh_views,
    upgrade,
    view_status,
)

REBUILT_BY_0015 = ("metabase_executive_metrics", "metabase_platform_performance",
                   "metabase_brand_analytics", "metabase_customer_geography",
                   "metabase_supplier_performance")
# Revision 0019 updated metabase_inventory_status side by side, with the views built on it
# (the one it created is logged once).
REBUILT_BY_0019 = ("metabase_inventory_status", *(CARD_VIEWS - {"unsold_stock_by_product"}))
# Revision 0020 updated the views built on it to read it through analytics_internal.
REBUILT_BY_0020 = tuple(CARD_VIEWS)


def statuses(engine: Engine, **options: bool) -> dict[str, ViewStatus]:
    return {status.name: status for status in view_status(engine, **options)}


def test_status_of_a_refreshed_view(migrated_engine: Engine) -> None:
    add_sales(migrated_engine, 12)
    [result] = refresh_views(migrated_engine, ["metabase_inventory_status"])
    status = statuses(migrated_engine)["metabase_inventory_status"]
    assert (status.exists, status.populated, status.stale, status.refreshing_now) == (
        True, True, False, False
    )
    assert (status.row_count, status.row_count_exact) == (12, True)
    assert status.size_bytes > 0
    assert (status.tier, status.version) == ("hourly", 2)
    assert status.data_as_of == result.started_at
    assert status.last_refreshed_at == result.finished_at
    assert status.last_refresh_duration == result.duration
    assert status.last_refresh_rows == 12
    assert status.last_attempt_status == "succeeded"
    assert status.last_error is None and status.last_error_at is None
    assert status.age is not None and status.age.total_seconds() >= 0

    grain = next(index for index in status.indexes if index.name.endswith("_grain"))
    assert grain.unique and grain.allows_concurrent_refresh
    assert "(inventory_id)" in grain.definition
    assert status.indexes == (grain,)
    assert status.concurrent_refresh_possible
    # Other indexes do not make a concurrent refresh possible.
    executive = statuses(migrated_engine)["metabase_executive_metrics"]
    others = [index for index in executive.indexes if not index.name.endswith("_grain")]
    assert others and not any(index.allows_concurrent_refresh for index in others)

    estimated = statuses(migrated_engine, exact_counts=False)["metabase_inventory_status"]
    assert estimated.row_count_exact is False
    assert estimated.row_count == scalar(  # the planner's figure, when it has one
        migrated_engine, "SELECT CASE WHEN reltuples >= 0 THEN reltuples::bigint END "
        "FROM pg_class WHERE oid = 'analytics.metabase_inventory_status'::regclass")


def test_stale_after_a_source_changes_and_not_stale_after_a_refresh(
    migrated_engine: Engine,
) -> None:
    status = statuses(migrated_engine)
    # The deploy built them: that counts as their first refresh.
    assert not any(status[view].stale for view in ALL_VIEWS)
    assert all(status[view].data_as_of is not None for view in ALL_VIEWS)
    execute(migrated_engine, "INSERT INTO core.suppliers (business_name) VALUES ('Old')")
    assert statuses(migrated_engine)["metabase_supplier_performance"].stale
    refresh_views(migrated_engine)
    assert not any(s.stale for s in view_status(migrated_engine))
    execute(migrated_engine, "INSERT INTO core.suppliers (business_name) VALUES ('New')")
    stale = {s.name for s in view_status(migrated_engine) if s.stale}
    assert stale == {"metabase_inventory_status", "metabase_supplier_performance"}


def test_last_error_and_a_refresh_in_progress(migrated_engine: Engine) -> None:
    slow = create_slow_view(migrated_engine, seconds=1)
    [failed] = refresh_views(migrated_engine, [slow], statement_timeout=0.1)
    status = statuses(migrated_engine)[slow]
    assert status.last_attempt_status == "failed"
    assert status.last_error == failed.error and status.last_error_at == failed.finished_at
    assert status.data_as_of is None and status.stale

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(refresh_views, migrated_engine, [slow])
        wait_until(lambda: sleeping_backend(migrated_engine))
        assert statuses(migrated_engine, exact_counts=False)[slow].refreshing_now
        running.result()
    status = statuses(migrated_engine)[slow]
    assert not status.refreshing_now and status.last_attempt_status == "succeeded"
    assert status.last_error == failed.error  # the latest failure is still reported


def test_missing_unpopulated_and_unregistered_views(migrated_engine: Engine) -> None:
    execute(
        migrated_engine,
        "DROP MATERIALIZED VIEW analytics.metabase_customer_geography; "
        "REFRESH MATERIALIZED VIEW analytics.metabase_brand_analytics WITH NO DATA; "
        "CREATE MATERIALIZED VIEW analytics.ad_hoc AS SELECT 1 AS one",
    )
    status = statuses(migrated_engine)
    gone = status["metabase_customer_geography"]
    assert (gone.exists, gone.populated, gone.stale, gone.size_bytes, gone.indexes) == (
        False, False, None, None, ()
    )
    assert gone.tier == "daily"
    empty = status["metabase_brand_analytics"]
    assert (empty.exists, empty.populated, empty.row_count) == (True, False, None)
    assert not empty.concurrent_refresh_possible
    ad_hoc = status["ad_hoc"]
    assert (ad_hoc.tier, ad_hoc.row_count, ad_hoc.concurrent_refresh_possible) == (
        None, 1, False
    )


def test_aview_status_and_a_database_without_the_migrations(
    migrated_engine: Engine, make_database
) -> None:
    names = {status.name for status in asyncio.run(aview_status(migrated_engine))}
    assert names == ALL_VIEWS
    url = make_database()
    upgrade(url, "0008")
    with pytest.raises(NotInstalledError, match="apply the migrations"):
        view_status(url)


def test_view_freshness_is_readable_by_whoever_reads_the_views(
    migrated_engine: Engine, source_url: str
) -> None:
    refresh_views(migrated_engine, tier="hourly")
    role = f"dashboard_reader_{migrated_engine.url.database}"
    execute(
        migrated_engine,
        f"CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA analytics TO {role}; "
        f"GRANT SELECT ON analytics.metabase_executive_metrics TO {role}",
    )
    reader = create_engine(source_url.replace("postgres@", f"{role}@", 1))
    try:
        with reader.connect() as connection:
            rows = connection.execute(text(
                "SELECT view_name, tier, data_as_of, age FROM analytics.view_freshness "
                "ORDER BY view_name"
            )).all()
            with pytest.raises(Exception, match="permission denied"):
                connection.execute(text("SELECT * FROM analytics.refresh_log"))
    finally:
        reader.dispose()
        execute(migrated_engine, f"DROP OWNED BY {role}; DROP ROLE {role}")
    assert {row.view_name for row in rows} == ALL_VIEWS
    built = scalar(migrated_engine, "SELECT max(started_at) FROM analytics.refresh_log "
                   "WHERE triggered_by = 'migration'")  # each revision logs what it built
    refreshed = {row.view_name for row in rows if row.data_as_of > built}
    assert refreshed == {
        "metabase_executive_metrics", "metabase_platform_performance",
        "metabase_inventory_status",
    } | CARD_VIEWS
    assert all(row.age.total_seconds() >= 0 for row in rows if row.data_as_of)


def test_the_deploy_logs_each_view_it_built_as_a_refresh(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        entries = connection.execute(text(
            "SELECT view_name, status, method, row_count, detail FROM analytics.refresh_log "
            "WHERE triggered_by = 'migration'"
        )).all()
    # Each revision logs the views it built: revisions 0015, 0019 and 0020 rebuilt some again.
    assert sorted(entry.view_name for entry in entries) == sorted(
        [*ALL_VIEWS, *REBUILT_BY_0015, *REBUILT_BY_0019, *REBUILT_BY_0020])
    assert {(e.status, e.method, e.detail) for e in entries} == {
        ("succeeded", "plain", "built by the migration")}
    assert all(entry.row_count == 0 for entry in entries)  # the contract's tables are empty
