"""refresh_views() and the SQL routines under it, against real PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from refresh_support import (
    ALL_VIEWS,
    CARD_VIEWS,
    add_sales,
    create_slow_view,
    execute,
    log_rows,
    scalar,
    sleeping_backend,
    wait_until,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine

from soleflip_analytics import (
    RefreshCoordinator,
    UnknownTableError,
    UnknownViewError,
    arefresh_views,
    close_events,
    coordinator_for,
    downgrade,
    refresh_views,
    sync_on_inventory_event,
    sync_on_order_event,
    upgrade,
)

VIEWS_READING_STOCK = ALL_VIEWS - {
    "metabase_executive_metrics", "metabase_platform_performance",
}


def by_view(results: list) -> dict:
    return {result.view: result for result in results}


# -- what is refreshed, how, in which order ------------------------------------


def test_refreshes_every_view_in_dependency_order_concurrently_when_possible(
    migrated_engine: Engine,
) -> None:
    execute(
        migrated_engine,
        # Named to sort first, but built on another view: must come after it.
        "CREATE MATERIALIZED VIEW analytics.aaa_top_platform AS "
        "SELECT platform_id, total_revenue FROM analytics.metabase_platform_performance "
        "WITH NO DATA; "
        "CREATE UNIQUE INDEX ON analytics.aaa_top_platform (platform_id); "
        "CREATE MATERIALIZED VIEW analytics.no_unique_index AS SELECT 1 AS one",
    )
    first = refresh_views(migrated_engine)
    names = [result.view for result in first]
    assert set(names) == ALL_VIEWS | {"aaa_top_platform", "no_unique_index"}
    assert names.index("metabase_platform_performance") < names.index("aaa_top_platform")
    results = by_view(first)
    assert all(result.status == "succeeded" for result in first)
    assert results["metabase_executive_metrics"].method == "concurrently"
    assert results["aaa_top_platform"].method == "plain"
    assert "first population" in results["aaa_top_platform"].detail
    assert results["no_unique_index"].method == "plain"
    assert "no unique index" in results["no_unique_index"].detail

    second = by_view(refresh_views(migrated_engine, ["aaa_top_platform"]))
    assert second["aaa_top_platform"].method == "concurrently"
    forced = by_view(refresh_views(migrated_engine, ["aaa_top_platform"], concurrently=False))
    assert forced["aaa_top_platform"].method == "plain"
    assert forced["aaa_top_platform"].detail == "a plain refresh was asked for"


def test_result_and_log_give_status_duration_rows_and_trigger(migrated_engine: Engine) -> None:
    add_sales(migrated_engine, 30)
    [result] = refresh_views(
        migrated_engine, ["metabase_inventory_status"], triggered_by="cli"
    )
    assert result.ok and result.row_count == 30 and result.error is None
    assert result.duration == result.finished_at - result.started_at
    [entry] = log_rows(migrated_engine, "metabase_inventory_status")
    assert (entry.status, entry.row_count, entry.triggered_by, entry.method) == (
        "succeeded", 30, "cli", "concurrently"
    )
    assert entry.id == result.log_id and entry.snapshot is not None


def test_an_unknown_name_raises_listing_the_known_views_before_refreshing_anything(
    migrated_engine: Engine,
) -> None:
    with pytest.raises(UnknownViewError) as error:
        refresh_views(migrated_engine, ["metabase_executive_metrics", "metabase_sales"])
    message = str(error.value)
    assert "'metabase_sales'" in message and "Nothing was refreshed" in message
    for view in ALL_VIEWS:
        assert view in message
    assert log_rows(migrated_engine) == []


def test_view_names_are_quoted_as_identifiers(migrated_engine: Engine) -> None:
    execute(
        migrated_engine,
        'CREATE MATERIALIZED VIEW analytics."Odd; name" AS SELECT 1 AS id; '
        'CREATE UNIQUE INDEX ON analytics."Odd; name" (id)',
    )
    [result] = refresh_views(migrated_engine, ["analytics.Odd; name"])
    assert (result.view, result.status) == ("Odd; name", "succeeded")
    with pytest.raises(UnknownViewError):
        refresh_views(migrated_engine, ['metabase_brand_analytics"; DROP TABLE core.platforms; --'])
    assert scalar(migrated_engine, "SELECT to_regclass('core.platforms') IS NOT NULL")


def test_affected_by_follows_the_dependency_catalog(migrated_engine: Engine) -> None:
    execute(
        migrated_engine,
        "CREATE MATERIALIZED VIEW analytics.platform_summary AS "
        "SELECT count(*) AS platforms FROM analytics.metabase_platform_performance",
    )

    def affected(tables: str | list[str]) -> set[str]:
        return {result.view for result in refresh_views(migrated_engine, affected_by=tables)}

    # An order touches all seven (and what is built on them: the card views too),
    # not the three a hand-kept list named.
    assert affected("transactions.orders") == ALL_VIEWS | {"platform_summary"}
    assert affected("inventory.stock") == VIEWS_READING_STOCK
    assert affected("core.suppliers") == {
        "metabase_inventory_status", "metabase_supplier_performance",
    } | CARD_VIEWS
    assert affected(["core.platforms", "catalog.category"]) == {
        "metabase_executive_metrics", "metabase_platform_performance",
        "metabase_customer_geography", "metabase_inventory_status",
        "metabase_product_performance", "platform_summary",
    } | CARD_VIEWS
    assert affected("analytics.metabase_platform_performance") == {"platform_summary"}
    execute(migrated_engine, "CREATE TABLE public.newsletter (email text)")
    assert affected("public.newsletter") == set()
    with pytest.raises(UnknownTableError, match="'transactions.order'"):
        refresh_views(migrated_engine, affected_by="transactions.order")


def test_tier_selects_the_views_their_migrations_registered(migrated_engine: Engine) -> None:
    def tier(name: str) -> set[str]:
        return {result.view for result in refresh_views(migrated_engine, tier=name)}

    assert tier("hourly") == {
        "metabase_executive_metrics", "metabase_platform_performance",
        "metabase_inventory_status",
    } | CARD_VIEWS
    assert tier("weekly") == {"metabase_supplier_performance"}
    assert tier("daily") == {
        "metabase_product_performance", "metabase_brand_analytics",
        "metabase_customer_geography",
    }
    assert {r.view for r in refresh_views(migrated_engine, tier="hourly",
                                          affected_by="core.suppliers")} == {
        "metabase_inventory_status"
    } | CARD_VIEWS
    with pytest.raises(ValueError, match="tier must be one of"):
        refresh_views(migrated_engine, tier="monthly")


def test_refresh_tier_procedure_for_pg_cron_uses_the_same_routine(
    migrated_engine: Engine,
) -> None:
    with migrated_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CALL analytics.refresh_tier('hourly')"))
        with pytest.raises(Exception, match="unknown refresh tier"):
            connection.execute(text("CALL analytics.refresh_tier('monthly')"))
    entries = log_rows(migrated_engine)
    assert {(e.view_name, e.status, e.triggered_by) for e in entries} == {
        ("metabase_executive_metrics", "succeeded", "cron"),
        ("metabase_platform_performance", "succeeded", "cron"),
        ("metabase_inventory_status", "succeeded", "cron"),
    } | {(view, "succeeded", "cron") for view in CARD_VIEWS}


# -- only_stale: change tracking ---------------------------------------------


def statuses(results: list) -> dict[str, str]:
    return {result.view: result.status for result in results}


def test_only_stale_refreshes_after_an_order_but_not_after_an_unrelated_write(
    migrated_engine: Engine,
) -> None:
    refresh_views(migrated_engine)
    assert set(statuses(refresh_views(migrated_engine, only_stale=True)).values()) == {
        "up_to_date"
    }

    add_sales(migrated_engine, 3)
    assert statuses(refresh_views(migrated_engine, only_stale=True)) == dict.fromkeys(
        ALL_VIEWS, "succeeded"
    )

    execute(migrated_engine, "CREATE TABLE public.newsletter (email text)")
    execute(migrated_engine, "INSERT INTO public.newsletter VALUES ('a@example.com')")
    assert set(statuses(refresh_views(migrated_engine, only_stale=True)).values()) == {
        "up_to_date"
    }

    execute(migrated_engine, "UPDATE core.suppliers SET rating = 4.5")
    stale_only = statuses(refresh_views(migrated_engine, only_stale=True))
    assert {view for view, status in stale_only.items() if status == "succeeded"} == {
        "metabase_inventory_status", "metabase_supplier_performance",
    } | CARD_VIEWS


def test_a_view_built_on_another_is_stale_once_that_one_was_refreshed(
    migrated_engine: Engine,
) -> None:
    execute(
        migrated_engine,
        "CREATE MATERIALIZED VIEW analytics.platform_summary AS "
        "SELECT sum(total_orders) AS orders FROM analytics.metabase_platform_performance",
    )
    refresh_views(migrated_engine)
    add_sales(migrated_engine, 2)
    stale_only = statuses(refresh_views(migrated_engine, ["platform_summary"], only_stale=True))
    assert stale_only == {"platform_summary": "up_to_date"}  # what it reads has not changed
    stale_only = statuses(refresh_views(migrated_engine, only_stale=True))
    assert stale_only["metabase_platform_performance"] == "succeeded"
    assert stale_only["platform_summary"] == "succeeded"  # after, and because of, the above
    assert scalar(migrated_engine, "SELECT orders FROM analytics.platform_summary") == 2
    assert set(statuses(refresh_views(migrated_engine, only_stale=True)).values()) == {
        "up_to_date"
    }


def test_only_stale_sees_a_write_that_was_in_progress_when_the_refresh_started(
    migrated_engine: Engine,
) -> None:
    add_sales(migrated_engine, 1)
    refresh_views(migrated_engine)
    view = "metabase_executive_metrics"
    with migrated_engine.connect() as writer:
        writer.execute(
            text(
                "INSERT INTO transactions.orders (inventory_item_id, platform_id, status, "
                "sold_at, gross_sale) SELECT s.id, p.id, 'completed', now(), 99 "
                "FROM inventory.stock s, core.platforms p LIMIT 1"
            )
        )
        # The refresh runs while the writer's transaction is open...
        [during] = refresh_views(migrated_engine, [view])
        assert during.status == "succeeded"
        writer.commit()  # ...and commits after its snapshot was taken.
    [after] = refresh_views(migrated_engine, [view], only_stale=True)
    assert after.status == "succeeded"
    assert scalar(migrated_engine, f"SELECT sum(total_orders) FROM analytics.{view}") == 2
    [again] = refresh_views(migrated_engine, [view], only_stale=True)
    assert again.status == "up_to_date"


def test_only_stale_finds_an_up_to_date_view_without_waiting_for_its_refresh_lock(
    migrated_engine: Engine,
) -> None:
    view = "metabase_executive_metrics"
    refresh_views(migrated_engine, [view])
    with migrated_engine.connect() as refresher:  # as a running refresh of the view does
        refresher.execute(text("SELECT FROM analytics.refresh_locks WHERE view_name = :view "
                               "FOR UPDATE"), {"view": view})
        [current] = refresh_views(migrated_engine, [view], only_stale=True, statement_timeout=1)
        add_sales(migrated_engine, 1)
        [stale] = refresh_views(migrated_engine, [view], only_stale=True, statement_timeout=1)
        refresher.rollback()
    assert (current.status, current.detail) == (
        "up_to_date", "no source changed since the last successful refresh")
    assert scalar(migrated_engine, "SELECT status FROM analytics.refresh_log WHERE id = :id",
                  id=current.log_id) == "up_to_date"
    # A stale view is refreshed under the lock, as ever: it waits for the holder.
    assert stale.status == "failed" and "statement timeout" in stale.error


def test_a_view_reading_an_untracked_table_always_counts_as_stale(
    migrated_engine: Engine,
) -> None:
    execute(
        migrated_engine,
        "ALTER TABLE core.suppliers DISABLE TRIGGER soleflip_analytics_track_changes",
    )
    assert scalar(migrated_engine, "SELECT analytics.track_source_tables()") == "core.suppliers"
    refresh_views(migrated_engine)
    stale_only = statuses(refresh_views(migrated_engine, only_stale=True))
    assert {view for view, status in stale_only.items() if status == "succeeded"} == {
        "metabase_inventory_status", "metabase_supplier_performance",
    } | CARD_VIEWS


def test_writers_need_no_privileges_on_the_analytics_schema(
    migrated_engine: Engine, source_url: str
) -> None:
    add_sales(migrated_engine, 1)
    refresh_views(migrated_engine)
    role = f"shop_writer_{scalar(migrated_engine, 'SELECT pg_backend_pid()')}"
    execute(
        migrated_engine,
        f"CREATE ROLE {role} LOGIN; "
        f"GRANT USAGE ON SCHEMA transactions, inventory, core TO {role}; "
        f"GRANT SELECT ON inventory.stock, core.platforms TO {role}; "
        f"GRANT INSERT ON transactions.orders TO {role}",
    )
    writer = create_engine(source_url.replace("postgres@", f"{role}@", 1))
    try:
        execute(
            writer,
            "INSERT INTO transactions.orders (inventory_item_id, platform_id, status, sold_at, "
            "gross_sale) SELECT s.id, p.id, 'completed', now(), 80 "
            "FROM inventory.stock s, core.platforms p LIMIT 1",
        )
    finally:
        writer.dispose()
        execute(migrated_engine, f"DROP OWNED BY {role}; DROP ROLE {role}")
    assert statuses(
        refresh_views(migrated_engine, ["metabase_executive_metrics"], only_stale=True)
    ) == {"metabase_executive_metrics": "succeeded"}


def test_change_records_of_ended_sessions_are_pruned_once_every_view_saw_them(
    migrated_engine: Engine, source_url: str
) -> None:
    writer = create_engine(source_url)
    with writer.begin() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    add_sales(writer, 1)
    writer.dispose()
    records = "SELECT count(*) FROM analytics.source_changes WHERE backend_pid = :pid"
    assert scalar(migrated_engine, records, pid=pid) > 0
    wait_until(lambda: not scalar(
        migrated_engine, "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid", pid=pid
    ))
    refresh_views(migrated_engine, ["metabase_executive_metrics"])
    assert scalar(migrated_engine, records, pid=pid) > 0  # six views have not seen them yet
    # One view at a time: each refresh prunes in its own transaction, which cannot see
    # the log entry of a refresh committing beside it, so two views refreshed side by
    # side that finish together leave the records to the next refresh.
    refresh_views(migrated_engine, parallel=1)
    assert scalar(migrated_engine, records, pid=pid) == 0


def test_binds_an_engine_a_url_or_a_connection_without_an_open_transaction(
    migrated_engine: Engine, source_url: str
) -> None:
    view = ["metabase_executive_metrics"]
    assert refresh_views(source_url, view)[0].status == "succeeded"
    with migrated_engine.connect() as connection:
        assert refresh_views(connection, view)[0].status == "succeeded"
        connection.execute(text("SELECT 1"))
        with pytest.raises(ValueError, match="has one open: commit or roll it back"):
            refresh_views(connection, view)
    with migrated_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
        with pytest.raises(ValueError, match="AUTOCOMMIT"):
            refresh_views(auto, view)


# -- failures ---------------------------------------------------------------------


def test_a_failing_view_keeps_its_rows_and_the_others_are_refreshed(
    migrated_engine: Engine,
) -> None:
    add_sales(migrated_engine, 5)
    refresh_views(migrated_engine)
    add_sales(migrated_engine, 7, brand="Adidas")
    brand_sales = "SELECT sum(total_sales) FROM analytics.metabase_brand_analytics"
    with migrated_engine.connect() as blocker:
        # Holds what a long VACUUM or ANALYZE of the view holds, until rollback.
        blocker.execute(text("ANALYZE analytics.metabase_brand_analytics"))
        results = by_view(refresh_views(migrated_engine, lock_timeout=0.2))
        blocker.rollback()
    failed = results.pop("metabase_brand_analytics")
    assert failed.status == "failed" and not failed.ok
    assert "lock timeout" in failed.error
    assert "SQLSTATE 55P03" in failed.detail and "another session holds a lock" in failed.detail
    assert {result.status for result in results.values()} == {"succeeded"}
    assert scalar(migrated_engine, brand_sales) == 5
    assert scalar(
        migrated_engine, "SELECT sum(total_orders) FROM analytics.metabase_executive_metrics"
    ) == 12
    [entry] = [e for e in log_rows(migrated_engine, "metabase_brand_analytics")
               if e.status == "failed"]
    assert entry.error == failed.error and entry.row_count is None


def test_a_statement_timeout_fails_only_that_view_and_is_logged(
    migrated_engine: Engine,
) -> None:
    slow = create_slow_view(migrated_engine, seconds=2)
    add_sales(migrated_engine, 4)
    results = by_view(refresh_views(migrated_engine, statement_timeout=0.5))
    failed = results.pop(slow)
    assert failed.status == "failed"
    assert failed.error == "canceling statement due to statement timeout"
    assert "SQLSTATE 57014" in failed.detail and "raise the statement timeout" in failed.detail
    assert failed.duration.total_seconds() < 1.5
    assert {result.status for result in results.values()} == {"succeeded"}
    assert scalar(migrated_engine, f"SELECT orders FROM analytics.{slow}") == 0  # old rows
    assert [e.status for e in log_rows(migrated_engine, slow)] == ["failed"]


def test_duplicate_rows_for_the_grain_fail_with_a_hint_and_keep_the_old_rows(
    migrated_engine: Engine,
) -> None:
    execute(
        migrated_engine,
        "CREATE TABLE public.sizes (size text); INSERT INTO public.sizes VALUES ('42'), ('43'); "
        "CREATE MATERIALIZED VIEW analytics.sizes_sold AS SELECT size FROM public.sizes; "
        "CREATE UNIQUE INDEX ON analytics.sizes_sold (size); "
        "INSERT INTO public.sizes VALUES ('42')",
    )
    for concurrently, state in ((True, "21000"), (False, "23505")):
        [failed] = refresh_views(migrated_engine, ["sizes_sold"], concurrently=concurrently)
        assert failed.status == "failed"
        assert f"SQLSTATE {state}" in failed.detail and "fix the view's grain" in failed.detail
    assert scalar(migrated_engine, "SELECT count(*) FROM analytics.sizes_sold") == 2


def test_an_error_outside_the_refresh_routine_is_logged_too(
    migrated_engine: Engine,
) -> None:
    slow = create_slow_view(migrated_engine, seconds=2)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(refresh_views, migrated_engine, [slow])
        pid = wait_until(lambda: sleeping_backend(migrated_engine))
        execute(migrated_engine, "SELECT pg_terminate_backend(:pid)", pid=pid)
        [result] = running.result()
    assert result.status == "failed"
    assert "terminat" in result.error
    assert "outside the refresh routine" in result.detail
    [entry] = log_rows(migrated_engine, slow)
    assert (entry.status, entry.id) == ("failed", result.log_id)


# -- readers, and two refreshers of one view -------------------------------------


def test_readers_barely_wait_during_a_concurrent_refresh_and_wait_it_out_during_a_plain_one(
    migrated_engine: Engine,
) -> None:
    view = "metabase_inventory_status"
    add_sales(migrated_engine, 50_000, bulk=True)
    refresh_views(migrated_engine, [view])

    def longest_reader_wait(concurrently: bool) -> tuple[float, float]:
        started = threading.Event()
        stop = threading.Event()
        waits: list[float] = []

        def read() -> None:
            with migrated_engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as reader:
                query = text(f"SELECT days_in_stock FROM analytics.{view} LIMIT 1")
                while not stop.is_set():
                    begin = time.perf_counter()
                    reader.execute(query).all()
                    waits.append(time.perf_counter() - begin)
                    started.set()

        thread = threading.Thread(target=read)
        thread.start()
        started.wait()
        [result] = refresh_views(migrated_engine, [view], concurrently=concurrently)
        stop.set()
        thread.join()
        assert result.status == "succeeded"
        assert result.method == ("concurrently" if concurrently else "plain")
        return max(waits), result.duration.total_seconds()

    concurrent_wait, concurrent_duration = longest_reader_wait(concurrently=True)
    plain_wait, plain_duration = longest_reader_wait(concurrently=False)
    assert concurrent_wait < concurrent_duration / 4, (concurrent_wait, concurrent_duration)
    assert plain_wait > plain_duration / 2, (plain_wait, plain_duration)


def test_a_second_refresher_of_the_same_view_waits_for_the_first(
    migrated_engine: Engine,
) -> None:
    slow = create_slow_view(migrated_engine, seconds=1)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(refresh_views, migrated_engine, [slow])
        wait_until(lambda: sleeping_backend(migrated_engine))
        second = pool.submit(refresh_views, migrated_engine, [slow])
        [one], [two] = first.result(), second.result()
    assert (one.status, two.status) == ("succeeded", "succeeded")
    # The second started (took the lock) only when the first had finished.
    assert two.started_at >= one.finished_at
    entries = log_rows(migrated_engine, slow)
    assert [e.status for e in entries] == ["succeeded", "succeeded"]


def test_a_skipping_caller_never_leaves_the_view_staler_than_if_it_had_run(
    migrated_engine: Engine,
) -> None:
    slow = create_slow_view(migrated_engine, seconds=1)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(refresh_views, migrated_engine, [slow])
        wait_until(lambda: sleeping_backend(migrated_engine))
        # An order committed after the running refresh took its snapshot...
        add_sales(migrated_engine, 1)
        # ...and a caller that does not wait.
        [skipped] = refresh_views(migrated_engine, [slow], wait=False)
        assert skipped.status == "skipped"
        assert "refreshes once more" in skipped.detail
        runs = running.result()
    # The running refresher refreshed once more on the skipper's behalf.
    assert [(r.view, r.status) for r in runs] == [(slow, "succeeded"), (slow, "succeeded")]
    assert scalar(migrated_engine, f"SELECT orders FROM analytics.{slow}") == 1
    assert scalar(migrated_engine, "SELECT count(*) FROM analytics.refresh_requests") == 0
    [current] = refresh_views(migrated_engine, [slow], only_stale=True)
    assert current.status == "up_to_date"


def test_a_skip_with_nothing_new_costs_no_extra_refresh(migrated_engine: Engine) -> None:
    slow = create_slow_view(migrated_engine, seconds=1)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(refresh_views, migrated_engine, [slow])
        wait_until(lambda: sleeping_backend(migrated_engine))
        [skipped] = refresh_views(migrated_engine, [slow], wait=False)
        runs = running.result()
    assert skipped.status == "skipped"
    # The request came after its snapshot, so it checked again: nothing had changed.
    assert [r.status for r in runs] == ["succeeded", "up_to_date"]


# -- the log -----------------------------------------------------------------------


def test_the_log_is_pruned_by_age_and_count_keeping_each_views_latest_success(
    migrated_engine: Engine,
) -> None:
    view = "metabase_platform_performance"
    execute(migrated_engine, "UPDATE analytics.refresh_settings SET log_max_entries_per_view = 3")
    for _ in range(5):
        refresh_views(migrated_engine, [view])
    assert len(log_rows(migrated_engine, view)) == 3

    execute(migrated_engine, "UPDATE analytics.refresh_settings SET log_retention = '0'")
    with migrated_engine.connect() as blocker:
        blocker.execute(text(f"ANALYZE analytics.{view}"))
        for _ in range(2):
            [failed] = refresh_views(migrated_engine, [view], lock_timeout=0.05)
            assert failed.status == "failed"
        blocker.rollback()
    # The newest entry (a failure) and the latest success, which "data as of"
    # and staleness rest on.
    assert [e.status for e in log_rows(migrated_engine, view)] == ["succeeded", "failed"]

    execute(migrated_engine, "CREATE MATERIALIZED VIEW analytics.gone AS SELECT 1 AS one")
    refresh_views(migrated_engine, ["gone"])
    execute(migrated_engine, "DROP MATERIALIZED VIEW analytics.gone")
    refresh_views(migrated_engine, [view])
    assert log_rows(migrated_engine, "gone") == []
    assert {e.view_name for e in log_rows(migrated_engine)} == {view}


# -- async and events ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["AsyncEngine", "URL in a thread"])
def test_arefresh_views_keeps_the_event_loop_running(
    migrated_engine: Engine, source_url: str, kind: str
) -> None:
    slow = create_slow_view(migrated_engine, seconds=1)

    async def main() -> tuple[list, float]:
        bind = (
            create_async_engine(source_url.replace("postgresql://", "postgresql+psycopg://"))
            if kind == "AsyncEngine" else source_url
        )
        loop = asyncio.get_running_loop()
        gaps: list[float] = []
        done = asyncio.Event()

        async def tick() -> None:
            last = loop.time()
            while not done.is_set():
                await asyncio.sleep(0.01)
                gaps.append(loop.time() - last)
                last = loop.time()

        ticker = asyncio.create_task(tick())
        results = await arefresh_views(bind, [slow])
        done.set()
        await ticker
        if kind == "AsyncEngine":
            await bind.dispose()
        return results, max(gaps)

    [result], longest_gap = asyncio.run(main())
    assert result.status == "succeeded" and result.duration.total_seconds() >= 1
    assert longest_gap < 0.5  # a blocked loop would stall for the whole second


def test_a_burst_of_order_events_refreshes_each_affected_view_once(
    migrated_engine: Engine,
) -> None:
    refresh_views(migrated_engine)
    try:
        begin = time.monotonic()
        moments = []
        for event in range(100):  # a hundred orders in about a second
            add_sales(migrated_engine, 1)
            sync_on_order_event(migrated_engine)
            moments.append(time.monotonic())
            time.sleep(max(0.0, begin + 0.01 * event - time.monotonic()))
        burst = moments[-1] - begin
        longest_pause = max(b - a for a, b in zip(moments[:-1], moments[1:], strict=True))

        def refreshed_by_events() -> list:
            return [e for e in log_rows(migrated_engine) if e.triggered_by == "event"]

        # The coordinator refreshes on its own after a quiet second.
        wait_until(lambda: len(refreshed_by_events()) >= len(ALL_VIEWS), timeout=30)
        assert coordinator_for(migrated_engine).flush(timeout=30)
    finally:
        close_events(timeout=30)
    events = refreshed_by_events()
    assert burst < 3
    # One refresh per view: the events never paused for the quiet period (1 s).
    # (A machine stalled that long would see the burst as two.)
    per_view = sorted(e.view_name for e in events)
    if longest_pause < 0.9:
        assert per_view == sorted(ALL_VIEWS)
    else:
        assert set(per_view) == ALL_VIEWS and len(per_view) <= 2 * len(ALL_VIEWS)
    assert {e.status for e in events} == {"succeeded"}
    assert scalar(migrated_engine, "SELECT count(*) FROM analytics.refresh_requests") == 0
    assert scalar(
        migrated_engine, "SELECT sum(total_orders) FROM analytics.metabase_executive_metrics"
    ) == 100


def test_headline_views_follow_sales_while_a_long_view_refreshes(
    migrated_engine: Engine,
) -> None:
    refresh_views(migrated_engine)
    slow = create_slow_view(migrated_engine, seconds=8)
    orders = "SELECT sum(total_orders) FROM analytics.metabase_executive_metrics"
    before = scalar(migrated_engine, orders) or 0
    coordinator = RefreshCoordinator(migrated_engine, quiet_period=0.1, max_delay=0.5,
                                     headline_max_delay=0.5)
    try:
        add_sales(migrated_engine, 1)
        coordinator.notify("transactions.orders")
        wait_until(lambda: sleeping_backend(migrated_engine), timeout=10)
        # A sale after the long refresh started: the headline lane shows it meanwhile.
        add_sales(migrated_engine, 1)
        coordinator.notify("transactions.orders")
        wait_until(lambda: scalar(migrated_engine, orders) == before + 2, timeout=6)
        assert sleeping_backend(migrated_engine) is not None, "the long refresh ended first"
        assert coordinator.flush(timeout=30)
    finally:
        coordinator.close(timeout=30)
    # The first refresh of the slow view (the second sale makes it refresh once more).
    long_refresh = [e for e in log_rows(migrated_engine, slow) if e.triggered_by == "event"][0]
    headline = [e for e in log_rows(migrated_engine, "metabase_executive_metrics")
                if e.triggered_by == "event" and e.status == "succeeded"]
    assert any(long_refresh.started_at < e.started_at and e.finished_at < long_refresh.finished_at
               for e in headline)


def test_the_coordinators_lanes_and_another_refresher_never_refresh_a_view_twice_at_once(
    migrated_engine: Engine,
) -> None:
    refresh_views(migrated_engine)
    coordinator = RefreshCoordinator(migrated_engine, quiet_period=0.05, max_delay=0.2,
                                     headline_max_delay=0.1)
    stop = threading.Event()

    def other_refresher() -> None:
        while not stop.is_set():
            refresh_views(migrated_engine, wait=False, triggered_by="other")

    other = threading.Thread(target=other_refresher)
    other.start()
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            add_sales(migrated_engine, 1)
            coordinator.notify("transactions.orders")
            time.sleep(0.05)
    finally:
        stop.set()
        other.join()
        assert coordinator.close(timeout=30)
    assert {e.triggered_by for e in log_rows(migrated_engine) if e.status == "succeeded"} >= {
        "event", "other"}
    # Two refreshes of a view ran one after the other when one of them committed before
    # the other took its snapshot (under the refresh lock); the logged start and end
    # times cannot tell: a refresh is logged as started before it takes the lock.
    overlapping = scalar(
        migrated_engine,
        "SELECT count(*) FROM analytics.refresh_log a JOIN analytics.refresh_log b "
        "ON a.view_name = b.view_name AND a.id < b.id "
        "WHERE a.status = 'succeeded' AND b.status = 'succeeded' "
        "AND a.triggered_by <> 'migration' AND b.triggered_by <> 'migration' "
        "AND NOT pg_visible_in_snapshot(a.refresh_xid, b.snapshot) "
        "AND NOT pg_visible_in_snapshot(b.refresh_xid, a.snapshot)")
    assert overlapping == 0
    assert scalar(migrated_engine, "SELECT sum(total_orders) FROM "
                                   "analytics.metabase_executive_metrics") == scalar(
        migrated_engine, "SELECT count(*) FROM transactions.orders WHERE status = 'completed'")


def test_events_from_an_asyncio_application(migrated_engine: Engine, source_url: str) -> None:
    refresh_views(migrated_engine)
    add_sales(migrated_engine, 1)

    async def handle_order() -> None:
        engine = create_async_engine(source_url.replace("postgresql://", "postgresql+psycopg://"))
        sync_on_order_event(engine)  # returns at once: safe on the event loop
        await asyncio.to_thread(coordinator_for(engine).flush, 30)
        await engine.dispose()

    try:
        asyncio.run(handle_order())
    finally:
        close_events(timeout=30)
    assert {e.view_name for e in log_rows(migrated_engine) if e.triggered_by == "event"} == (
        ALL_VIEWS
    )


def test_inventory_events_refresh_the_views_reading_stock(migrated_engine: Engine) -> None:
    refresh_views(migrated_engine)
    try:
        execute(migrated_engine, "UPDATE core.suppliers SET rating = 1")  # read by two views
        add_sales(migrated_engine, 2)
        sync_on_inventory_event(migrated_engine)
        assert coordinator_for(migrated_engine).flush(timeout=30)
    finally:
        close_events(timeout=30)
    refreshed = {e.view_name for e in log_rows(migrated_engine) if e.triggered_by == "event"}
    assert refreshed == VIEWS_READING_STOCK


# -- the migration -------------------------------------------------------------------


def test_downgrading_0009_removes_the_triggers_on_the_shop_tables(
    migrated_engine: Engine, source_url: str
) -> None:
    ours = "SELECT count(*) FROM pg_trigger WHERE tgname = 'soleflip_analytics_track_changes'"
    assert scalar(migrated_engine, ours) == 8  # seven shop tables and analytics.settings
    downgrade(source_url, "0008")
    assert scalar(migrated_engine, ours) == 0
    assert scalar(migrated_engine, "SELECT to_regclass('analytics.refresh_log')") is None
    upgrade(source_url)
    assert scalar(migrated_engine, ours) == 8


# -- side by side --------------------------------------------------------------


def _sleeping_backends(engine: Engine) -> int:
    return scalar(engine, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                          "AND datname = current_database()")


def test_views_that_do_not_read_each_other_are_refreshed_side_by_side(
    migrated_engine: Engine,
) -> None:
    create_slow_view(migrated_engine, "slow_a", seconds=1.5)
    execute(migrated_engine,
            "CREATE MATERIALIZED VIEW analytics.slow_b AS SELECT orders FROM analytics.slow_a "
            "CROSS JOIN LATERAL pg_sleep((SELECT seconds FROM public.refresh_delay)) WITH NO DATA; "
            "CREATE MATERIALIZED VIEW analytics.slow_c AS SELECT count(*) AS orders "
            "FROM transactions.orders "
            "CROSS JOIN LATERAL pg_sleep((SELECT seconds FROM public.refresh_delay)) WITH NO DATA")
    most_at_once: list[int] = []

    def refresh(parallel: int) -> list:
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(refresh_views, migrated_engine, ["slow_b", "slow_c", "slow_a"],
                                  parallel=parallel)
            counts = []
            while not running.done():
                counts.append(_sleeping_backends(migrated_engine))
                time.sleep(0.05)
            most_at_once.append(max(counts))
            return running.result()

    side_by_side = refresh(parallel=2)
    one_by_one = refresh(parallel=1)

    # slow_a and slow_c at once; slow_b, built on slow_a, after both.
    assert most_at_once == [2, 1]
    for results in (side_by_side, one_by_one):
        assert all(result.status == "succeeded" for result in results)
        assert [result.view for result in results] == ["slow_a", "slow_c", "slow_b"]
    started = {result.view: result.started_at for result in side_by_side}
    finished = {result.view: result.finished_at for result in side_by_side}
    assert started["slow_b"] >= finished["slow_a"]
    with pytest.raises(ValueError, match="parallel must be at least 1"):
        refresh_views(migrated_engine, parallel=0)


def test_a_view_is_refreshed_as_soon_as_the_views_it_reads_are_done(
    migrated_engine: Engine,
) -> None:
    """Not once every view of the level before is: the card views are refreshed on one
    connection while the other waits for the refresh lock of a small view."""
    held = "metabase_brand_analytics"
    execute(migrated_engine, "INSERT INTO analytics.refresh_locks (view_name) VALUES (:v) "
            "ON CONFLICT DO NOTHING", v=held)
    with migrated_engine.connect() as holder, ThreadPoolExecutor(1) as pool:
        holder.execute(text("SELECT FROM analytics.refresh_locks WHERE view_name = :v "
                            "FOR UPDATE"), {"v": held})
        running = pool.submit(refresh_views, migrated_engine, parallel=2)

        def refreshed() -> set[str]:
            return {row.view_name for row in log_rows(migrated_engine)
                    if row.status == "succeeded"}

        wait_until(lambda: refreshed() >= ALL_VIEWS - {held}, timeout=120)
        assert held not in refreshed() and not running.done()
        holder.rollback()
        results = running.result()

    assert {result.view: result.status for result in results} == dict.fromkeys(
        ALL_VIEWS, "succeeded")
    finished = {result.view: result.finished_at for result in results}
    assert all(finished[view] < finished[held] for view in CARD_VIEWS)


def test_side_by_side_every_refresh_runs_without_parallel_query_workers(
    migrated_engine: Engine,
) -> None:
    """The connections are the parallelism; each gets its own setting back afterwards."""
    execute(migrated_engine, "CREATE MATERIALIZED VIEW analytics.workers_seen AS "
            "SELECT current_setting('max_parallel_workers_per_gather') AS workers")
    url = migrated_engine.url.render_as_string(hide_password=False)
    two_connections = create_engine(
        url, pool_size=2, max_overflow=0,
        connect_args={"options": "-c max_parallel_workers_per_gather=3"})
    try:
        results = refresh_views(two_connections, ["workers_seen", "metabase_executive_metrics"],
                                parallel=2)
        assert {result.status for result in results} == {"succeeded"}
        assert scalar(migrated_engine, "SELECT workers FROM analytics.workers_seen") == "0"
        with two_connections.connect() as first, two_connections.connect() as second:
            assert [connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one()
                    for connection in (first, second)] == ["3", "3"]
            # One view at a time on a connection: the session's own setting.
            first.rollback()
            refresh_views(first, ["workers_seen"])
            seen = first.execute(text("SELECT workers FROM analytics.workers_seen"))
            assert seen.scalar_one() == "3"
    finally:
        two_connections.dispose()
