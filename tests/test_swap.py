"""Refresh by swap: big views are rebuilt beside the old rows and swapped in."""

from __future__ import annotations

import threading

from refresh_support import ALL_VIEWS, CARD_VIEWS, add_sales, execute, scalar, wait_until
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from soleflip_analytics import downgrade, refresh_views, upgrade, view_status
from soleflip_analytics.drift import check_drift

INVENTORY = "metabase_inventory_status"


def swap_everything(engine: Engine, attempts: int = 5, lock_timeout: str = "50ms") -> None:
    execute(
        engine,
        "UPDATE analytics.refresh_settings SET swap_min_rows = 0, swap_attempts = :attempts, "
        "swap_lock_timeout = CAST(:lock_timeout AS interval)",
        attempts=attempts, lock_timeout=lock_timeout,
    )


def catalog_of(engine: Engine, view: str) -> dict:
    """Everything about a view a swap must keep, but its oid."""
    with engine.connect() as connection:
        relation = connection.execute(text(
            "SELECT pg_get_viewdef(c.oid) AS definition, c.relowner::regrole::text AS owner, "
            "       c.relacl::text AS acl, obj_description(c.oid, 'pg_class') AS comment, "
            "       m.ispopulated "
            "FROM pg_class c JOIN pg_matviews m ON m.schemaname = 'analytics' "
            "                                  AND m.matviewname = c.relname "
            "WHERE c.oid = to_regclass('analytics.' || :view)"), {"view": view}).mappings().one()
        columns = connection.execute(text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
            "       col_description(a.attrelid, a.attnum) "
            "FROM pg_attribute a WHERE a.attrelid = to_regclass('analytics.' || :view) "
            "AND a.attnum > 0 ORDER BY a.attnum"), {"view": view}).all()
        indexes = connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'analytics' AND tablename = :view ORDER BY 1"),
            {"view": view}).all()
        leftovers = connection.execute(text(
            "SELECT relname FROM pg_class WHERE relname LIKE 'soleflip\\_swap\\_%'")).all()
    return {**relation, "columns": columns, "indexes": indexes, "leftovers": leftovers}


def contents(engine: Engine, view: str) -> list:
    with engine.connect() as connection:
        return sorted(map(tuple, connection.execute(text(f"SELECT * FROM analytics.{view}"))),
                      key=repr)


def recomputed(engine: Engine, view: str) -> list:
    with engine.connect() as connection:
        query = connection.execute(
            text("SELECT rtrim(pg_get_viewdef(to_regclass('analytics.' || :view)), ';')"),
            {"view": view}).scalar_one()
        return sorted(map(tuple, connection.execute(text(query))), key=repr)


def test_a_swap_keeps_the_views_catalog_and_gives_the_new_contents(migrated_engine: Engine) -> None:
    execute(migrated_engine,
            f"ALTER MATERIALIZED VIEW analytics.{INVENTORY} SET (fillfactor = 90)")
    refresh_views(migrated_engine)
    before = {view: catalog_of(migrated_engine, view) for view in ALL_VIEWS}
    swap_everything(migrated_engine)
    add_sales(migrated_engine, 40)

    results = refresh_views(migrated_engine)

    # Each view once: the card views read the inventory view through its read-through
    # view, which the swap pointed at the new rows; they were swapped on their own.
    assert sorted(result.view for result in results) == sorted(ALL_VIEWS)
    assert {result.view: result.method for result in results} == dict.fromkeys(ALL_VIEWS, "swap")
    details = {result.view: result.detail for result in results}
    assert details == {
        **dict.fromkeys(ALL_VIEWS, "built beside the old rows and swapped in"),
        INVENTORY: "built beside the old rows and swapped in, "
                   f"analytics_internal.{INVENTORY} pointed at them",
    }
    # `db check` sees the swapped views as their SQL files describe them.
    with migrated_engine.connect() as connection:
        report = check_drift(connection)
    assert report.drifts == () and set(report.checked) >= ALL_VIEWS
    # The views refreshed after their source are up to date with it.
    assert {result.status for result in refresh_views(migrated_engine, only_stale=True)} == {
        "up_to_date"}
    for view in ALL_VIEWS:
        assert catalog_of(migrated_engine, view) == before[view], view
        assert contents(migrated_engine, view) == recomputed(migrated_engine, view), view
    # Storage parameters stay; VACUUM for the (frozen) inserts is off.
    assert scalar(migrated_engine, "SELECT reloptions FROM pg_class "
                                   f"WHERE oid = 'analytics.{INVENTORY}'::regclass") == [
        "vacuum_truncate=off", "fillfactor=90", "autovacuum_vacuum_insert_threshold=-1"]
    counts = {result.view: result.row_count for result in results}
    assert counts[INVENTORY] == scalar(migrated_engine,
                                       f"SELECT count(*) FROM analytics.{INVENTORY}")
    # The refresh lock follows the view's name, not its oid, which changed.
    with migrated_engine.connect() as refresher:
        refresher.execute(text("SELECT FROM analytics.refresh_locks WHERE view_name = :view "
                               "FOR UPDATE"), {"view": INVENTORY})
        refreshing = {status.name for status in view_status(migrated_engine)
                      if status.refreshing_now}
    assert refreshing == {INVENTORY}


def test_views_built_on_a_swapped_view_are_rebuilt_with_it(migrated_engine: Engine) -> None:
    execute(
        migrated_engine,
        "CREATE MATERIALIZED VIEW analytics.unsold_by_category AS "
        "SELECT stock_category, count(*) AS items FROM analytics.metabase_inventory_status "
        "WHERE times_sold = 0 GROUP BY stock_category; "
        "CREATE UNIQUE INDEX unsold_by_category_key "
        "ON analytics.unsold_by_category (stock_category); "
        "COMMENT ON COLUMN analytics.unsold_by_category.items IS 'Unsold items.'; "
        "GRANT SELECT ON analytics.unsold_by_category TO PUBLIC",
    )
    refresh_views(migrated_engine)
    before = catalog_of(migrated_engine, "unsold_by_category")
    swap_everything(migrated_engine)
    add_sales(migrated_engine, 25)

    results = {result.view: result for result in refresh_views(migrated_engine, [INVENTORY])}

    assert results[INVENTORY].method == "swap"
    assert results[INVENTORY].detail == ("built beside the old rows and swapped in, with "
                                         "unsold_by_category, "
                                         f"analytics_internal.{INVENTORY} pointed at them")
    assert catalog_of(migrated_engine, "unsold_by_category") == before
    assert contents(migrated_engine, "unsold_by_category") == recomputed(
        migrated_engine, "unsold_by_category"
    )


def test_the_card_views_keep_their_rows_through_the_swap_and_are_refreshed_after_it(
    migrated_engine: Engine,
) -> None:
    """They read the big view through analytics_internal, which the swap points at the
    new rows: the swap neither drops nor rebuilds them; their own refresh follows."""
    refresh_views(migrated_engine)
    swap_everything(migrated_engine)
    add_sales(migrated_engine, 30)
    cards = sorted(CARD_VIEWS)
    before = {view: contents(migrated_engine, view) for view in cards}
    oid = "SELECT to_regclass('analytics.' || :view)::oid"
    oids = {view: scalar(migrated_engine, oid, view=view) for view in cards}

    [result] = refresh_views(migrated_engine, [INVENTORY])

    assert (result.status, result.method) == ("succeeded", "swap")
    assert scalar(migrated_engine, "SELECT count(*) FROM pg_depend d "
                  "JOIN pg_rewrite r ON r.oid = d.objid "
                  f"WHERE r.ev_class = 'analytics_internal.{INVENTORY}'::regclass "
                  f"AND d.refobjid = 'analytics.{INVENTORY}'::regclass") > 0
    assert scalar(migrated_engine, f"SELECT count(*) FROM analytics_internal.{INVENTORY}") == (
        result.row_count)
    for view in cards:
        assert scalar(migrated_engine, oid, view=view) == oids[view]
        assert contents(migrated_engine, view) == before[view]
    assert contents(migrated_engine, "sold_items_by_product") != recomputed(
        migrated_engine, "sold_items_by_product")

    after = refresh_views(migrated_engine, only_stale=True)

    refreshed = {r.view for r in after if r.status == "succeeded"}
    assert CARD_VIEWS <= refreshed and INVENTORY not in refreshed  # stale after its swap only
    for view in cards:
        assert contents(migrated_engine, view) == recomputed(migrated_engine, view)


def test_a_plain_view_reading_it_keeps_the_swap_away(migrated_engine: Engine) -> None:
    execute(migrated_engine,
            "CREATE VIEW public.dead_stock AS SELECT * FROM analytics.metabase_inventory_status "
            "WHERE stock_category = 'Dead Stock'")
    swap_everything(migrated_engine)

    result = refresh_views(migrated_engine, [INVENTORY])[0]

    assert (result.status, result.method) == ("succeeded", "concurrently")
    assert result.detail == "the swap gave up (public.dead_stock reads it); refreshed concurrently"
    assert scalar(migrated_engine, "SELECT count(*) FROM public.dead_stock") is not None


def test_the_swap_gives_up_on_a_long_reader_and_refreshes_concurrently(
    migrated_engine: Engine,
) -> None:
    refresh_views(migrated_engine)
    before = catalog_of(migrated_engine, INVENTORY)
    swap_everything(migrated_engine, attempts=2, lock_timeout="20ms")
    add_sales(migrated_engine, 10)

    with migrated_engine.connect() as reader:
        reader.execute(text(f"SELECT count(*) FROM analytics.{INVENTORY}")).all()
        # The reader's transaction stays open: it holds the view.
        result = refresh_views(migrated_engine, [INVENTORY])[0]
        assert reader.execute(text(f"SELECT count(*) FROM analytics.{INVENTORY}")).scalar_one()

    assert (result.status, result.method) == ("succeeded", "concurrently")
    assert result.detail.startswith("the swap gave up (readers held the view through 2 tries")
    assert catalog_of(migrated_engine, INVENTORY) == before  # no shadow left behind
    assert contents(migrated_engine, INVENTORY) == recomputed(migrated_engine, INVENTORY)


def test_readers_never_see_an_empty_view_during_swaps(migrated_engine: Engine) -> None:
    add_sales(migrated_engine, 60)
    refresh_views(migrated_engine)
    swap_everything(migrated_engine)
    expected = scalar(migrated_engine, f"SELECT count(*) FROM analytics.{INVENTORY}")
    seen: list[int] = []
    stopping = threading.Event()

    def read() -> None:
        with migrated_engine.connect() as connection:
            while not stopping.is_set():
                seen.append(connection.execute(
                    text(f"SELECT count(*) FROM analytics.{INVENTORY}")).scalar_one())
                connection.commit()

    def read_from_an_old_snapshot() -> int:
        with migrated_engine.connect() as connection:
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            connection.execute(text("SELECT 1")).all()  # the snapshot is taken here
            refresh_views(migrated_engine, [INVENTORY])
            return connection.execute(
                text(f"SELECT count(*) FROM analytics.{INVENTORY}")).scalar_one()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        methods = [refresh_views(migrated_engine, [INVENTORY])[0].method for _ in range(5)]
        old_snapshot_count = read_from_an_old_snapshot()
    finally:
        stopping.set()
        reader.join()
    assert methods == ["swap"] * 5
    assert seen and set(seen) == {expected}
    assert old_snapshot_count == expected


def test_downgrade_records_swaps_as_plain_refreshes(source_url: str,
                                                    migrated_engine: Engine) -> None:
    swap_everything(migrated_engine)
    refresh_views(migrated_engine, [INVENTORY])
    downgrade(source_url, "0011")
    assert scalar(migrated_engine, "SELECT method FROM analytics.refresh_log "
                                   "ORDER BY id DESC LIMIT 1") == "plain"
    upgrade(source_url)
    assert refresh_views(migrated_engine, [INVENTORY])[0].method == "concurrently"


def test_the_swap_locks_the_view_first_and_logs_the_rebuilt_views_before_its_locks(
    migrated_engine: Engine,
) -> None:
    held = "unsold_by_category"  # a view built on the big one, reading it directly
    execute(migrated_engine,
            f"CREATE MATERIALIZED VIEW analytics.{held} AS "
            f"SELECT stock_category, count(*) AS items FROM analytics.{INVENTORY} "
            f"GROUP BY stock_category; "
            f"CREATE UNIQUE INDEX ON analytics.{held} (stock_category)")
    refresh_views(migrated_engine)
    swap_everything(migrated_engine, attempts=1, lock_timeout="20s")
    add_sales(migrated_engine, 10)
    results: list = []

    with migrated_engine.connect() as reader:
        reader.execute(text(f"SELECT count(*) FROM analytics.{held}")).all()
        # The reader's transaction stays open: it holds the view built on the big one.
        refresher = threading.Thread(
            target=lambda: results.extend(refresh_views(migrated_engine, [INVENTORY, held])))
        refresher.start()
        waiting = wait_until(lambda: scalar(
            migrated_engine,
            "SELECT pid FROM pg_locks WHERE NOT granted AND mode = 'AccessExclusiveLock' "
            "AND relation = to_regclass('analytics.' || :view)", view=held), timeout=30)
        with migrated_engine.connect() as connection:
            locked = set(map(tuple, connection.execute(text(
                "SELECT c.relname::text, l.granted FROM pg_locks l "
                "JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = :pid AND l.mode = 'AccessExclusiveLock' "
                "AND c.relnamespace = 'analytics'::regnamespace"), {"pid": waiting})))
        released_at = reader.execute(text("SELECT clock_timestamp()")).scalar_one()
        reader.commit()
        refresher.join()

    # The view itself first; the views built on it after it.
    assert (INVENTORY, True) in locked
    assert (held, False) in locked
    by_view = {result.view: result for result in results}
    assert by_view[INVENTORY].method == "swap" and by_view[INVENTORY].status == "succeeded"
    assert set(by_view) == {INVENTORY, held}
    # The rebuilt view was on record before the swap waited for the reader.
    assert by_view[held].detail == f"rebuilt with {INVENTORY}"
    assert by_view[held].finished_at < released_at < by_view[INVENTORY].finished_at
    for view in (INVENTORY, held):
        assert contents(migrated_engine, view) == recomputed(migrated_engine, view)


def test_the_server_commits_the_swap_as_its_statement_ends(migrated_engine: Engine) -> None:
    """However slow the application is to go on after the refresh statement returns, the
    swap's lock is gone: the server committed it. A reader with a 100 ms lock timeout
    reads every swapped view right then."""
    add_sales(migrated_engine, 20)
    swap_everything(migrated_engine)
    views = [INVENTORY, *sorted(CARD_VIEWS)]
    counted: dict[str, int] = {}

    def read_right_after(conn, cursor, statement, parameters, context, executemany) -> None:
        if "analytics.refresh_view(" not in statement:
            return
        with migrated_engine.connect() as reader:
            reader.execute(text("SET lock_timeout = '100ms'"))
            for view in views:
                counted[view] = reader.execute(
                    text(f"SELECT count(*) FROM analytics.{view}")).scalar_one()

    event.listen(migrated_engine, "after_cursor_execute", read_right_after)
    try:
        [result] = refresh_views(migrated_engine, [INVENTORY])
    finally:
        event.remove(migrated_engine, "after_cursor_execute", read_right_after)
    assert result.ok and result.method == "swap", result
    assert counted[INVENTORY] == result.row_count
    assert set(counted) == set(views)
