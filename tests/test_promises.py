"""The refresh's promises under contention, faults and hostile roles (revision 0016).

Each test reproduces one way the promises were broken, with real concurrent
sessions where it is about concurrency, and swaps at small sizes
(swap_min_rows = 0).
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from refresh_support import (
    ALL_VIEWS,
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
from sqlalchemy.exc import DBAPIError

from soleflip_analytics import refresh_views, view_status
from soleflip_analytics.refresh import RefreshIncompleteError

INVENTORY = "metabase_inventory_status"


def force_swaps(engine: Engine) -> None:
    execute(engine, "UPDATE analytics.refresh_settings SET swap_min_rows = 0, "
                    "swap_attempts = 10, swap_lock_timeout = '50ms'")


def waiting_for_a_lock(engine: Engine, pid: int) -> bool:
    return bool(scalar(engine, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity "
                               "WHERE pid = :pid", pid=pid))


# -- 1. a refresher that waited reads the view afresh -------------------------


def test_a_refresher_that_waited_for_a_swap_swaps_too_never_plain(
    migrated_engine: Engine,
) -> None:
    """The second refresher used to keep the view's old oid and refresh plain."""
    add_sales(migrated_engine, 30)
    refresh_views(migrated_engine)
    force_swaps(migrated_engine)
    with migrated_engine.connect() as first:
        # The first refresh swaps the view (a new oid) and holds the lock until it commits.
        swapped = first.execute(
            text("SELECT * FROM analytics.refresh_view(:view)"), {"view": INVENTORY}
        ).mappings().one()
        assert swapped["method"] == "swap"
        with ThreadPoolExecutor(1) as pool:
            second = pool.submit(refresh_views, migrated_engine, [INVENTORY])
            pid = wait_until(lambda: scalar(
                migrated_engine, "SELECT backend_pid FROM analytics.refresh_log "
                                 "WHERE status = 'running' AND view_name = :view", view=INVENTORY))
            wait_until(lambda: waiting_for_a_lock(migrated_engine, pid))
            first.commit()
            [result] = [r for r in second.result() if r.view == INVENTORY]
    assert (result.status, result.method) == ("succeeded", "swap")
    assert not [row for row in log_rows(migrated_engine) if row.method == "plain"
                and row.started_at > swapped["started_at"]]


# -- 2. the refresh lock: only refreshes take it ------------------------------


def test_a_reader_cannot_take_the_refresh_lock_nor_make_refreshes_skip(
    migrated_engine: Engine, source_url: str,
) -> None:
    from test_security import as_role, drop_roles  # the roles' helpers

    execute(migrated_engine, "CREATE ROLE hostile_login LOGIN IN ROLE metabase_reader")
    hostile = as_role(source_url, "hostile_login")
    try:
        with hostile.connect() as connection:
            with pytest.raises(DBAPIError, match="permission denied"):
                connection.execute(text("SELECT FROM analytics.refresh_locks FOR UPDATE"))
            connection.rollback()
            # The old advisory key, held by a reader: it means nothing any more.
            connection.execute(text(
                "SELECT pg_advisory_lock(1399614017, hashtext('analytics.' || :view))"),
                {"view": INVENTORY})
            waited = refresh_views(migrated_engine, [INVENTORY], statement_timeout=5)
            tried = refresh_views(migrated_engine, [INVENTORY], wait=False)
        assert [r.status for r in waited + tried] == ["succeeded", "succeeded"]
    finally:
        hostile.dispose()
        drop_roles(migrated_engine, "hostile_login")


def test_skipped_names_the_refresh_that_holds_the_lock(migrated_engine: Engine) -> None:
    slow = create_slow_view(migrated_engine, seconds=1.5)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(refresh_views, migrated_engine, [slow], triggered_by="event")
        holder = wait_until(lambda: sleeping_backend(migrated_engine))
        [skipped] = refresh_views(migrated_engine, [slow], wait=False)
        running.result()
    assert skipped.status == "skipped"
    assert skipped.detail.startswith(f"server process {holder} was refreshing the view (started ")
    assert ", event)" in skipped.detail


# -- 3. IANA time zones only ---------------------------------------------------


@pytest.mark.parametrize(("zone", "meant", "suggestion"), [
    ("+05", "UTC-5", "Etc/GMT-5"),
    ("UTC+3", "UTC-3", "Etc/GMT-3"),
    ("-04:00", "UTC+4", "Etc/GMT+4"),
])
def test_posix_offsets_are_refused_with_the_zone_to_use(
    migrated_engine: Engine, zone: str, meant: str, suggestion: str,
) -> None:
    with pytest.raises(DBAPIError) as refused:
        execute(migrated_engine, "UPDATE analytics.settings SET business_time_zone = :zone",
                zone=zone)
    error = refused.value.orig
    assert "is a POSIX offset, not an IANA time zone name" in str(error)
    assert f"means {meant}" in error.diag.message_detail
    assert f"use {suggestion}" in error.diag.message_hint
    assert "EAST of Greenwich" in error.diag.message_hint
    assert scalar(migrated_engine,
                  "SELECT business_time_zone FROM analytics.settings") == "Europe/Berlin"


def test_iana_names_are_accepted_and_others_refused(migrated_engine: Engine) -> None:
    for zone in ("Etc/GMT-5", "Asia/Karachi", "UTC"):
        execute(migrated_engine, "UPDATE analytics.settings SET business_time_zone = :zone",
                zone=zone)
    for zone, hint in (("europe/berlin", "Write it as Europe/Berlin."),
                       ("Mars/Olympus", "pg_timezone_names")):
        with pytest.raises(DBAPIError) as refused:
            execute(migrated_engine, "UPDATE analytics.settings SET business_time_zone = :zone",
                    zone=zone)
        assert hint in refused.value.orig.diag.message_hint


# -- 4. a registered view that is missing is a failure ------------------------


def test_a_missing_registered_view_is_a_failed_refresh(migrated_engine: Engine) -> None:
    execute(migrated_engine, "DROP MATERIALIZED VIEW analytics.metabase_supplier_performance")
    for results in (refresh_views(migrated_engine),
                    refresh_views(migrated_engine, tier="weekly"),
                    refresh_views(migrated_engine, ["metabase_supplier_performance"])):
        failed = [r for r in results if r.status == "failed"]
        assert [r.view for r in failed] == ["metabase_supplier_performance"]
        assert "is registered but does not exist" in failed[0].error
        assert "db check" in failed[0].detail and "re-deploy" in failed[0].detail
        assert failed[0].log_id is not None
    with migrated_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
        auto.execute(text("CALL analytics.refresh_tier('weekly')"))
    assert log_rows(migrated_engine, "metabase_supplier_performance")[-1].status == "failed"


# -- 7. arguments checked before any SQL runs ---------------------------------


@pytest.mark.parametrize(("arguments", "error", "named"), [
    ({"triggered_by": "Manual"}, ValueError, "triggered_by"),
    ({"views": [None]}, TypeError, "views"),
    ({"views": b"metabase_executive_metrics"}, TypeError, "views"),
    ({"views": [b"metabase_executive_metrics"]}, TypeError, "views"),
    ({"lock_timeout": math.inf}, ValueError, "lock_timeout"),
    ({"lock_timeout": math.nan}, ValueError, "lock_timeout"),
    ({"statement_timeout": 1e12}, ValueError, "statement_timeout"),
    ({"statement_timeout": "10"}, TypeError, "statement_timeout"),
    ({"affected_by": "t\x00"}, ValueError, "affected_by"),
    ({"tier": "monthly"}, ValueError, "tier"),
    ({"parallel": True}, TypeError, "parallel"),
    ({"parallel": 0}, ValueError, "parallel"),
    ({"concurrently": "yes"}, TypeError, "concurrently"),
    ({"wait": None}, TypeError, "wait"),
    ({"only_stale": 1}, TypeError, "only_stale"),
])
def test_bad_arguments_are_refused_before_any_sql(
    migrated_engine: Engine, arguments: dict, error: type, named: str,
) -> None:
    before = len(log_rows(migrated_engine))
    with pytest.raises(error, match=named):
        refresh_views(migrated_engine, **arguments)
    assert len(log_rows(migrated_engine)) == before


def test_the_sql_routine_refuses_a_bad_trigger_before_it_refreshes(
    migrated_engine: Engine,
) -> None:
    started = time.monotonic()
    with pytest.raises(DBAPIError, match="triggered_by 'Manual' is not allowed"):
        execute(migrated_engine, "SELECT analytics.refresh_view(:view, triggered_by => 'Manual')",
                view=INVENTORY)
    assert time.monotonic() - started < 1
    assert log_rows(migrated_engine, INVENTORY) == []


def test_status_and_health_check_their_arguments(migrated_engine: Engine) -> None:
    from datetime import timedelta

    from soleflip_analytics import check_health

    with pytest.raises(TypeError, match="exact_counts"):
        view_status(migrated_engine, exact_counts="no")
    with pytest.raises(TypeError, match="expected_views"):
        check_health(migrated_engine, expected_views=[None])
    with pytest.raises(ValueError, match="max_age"):
        check_health(migrated_engine, max_age={"hourly": timedelta(0)})


# -- 9. interrupted refreshes ---------------------------------------------------


_CLIENT = """
import sys
from soleflip_analytics import refresh_views
refresh_views(sys.argv[1], [sys.argv[2]], triggered_by="event")
"""


def test_a_refresh_whose_client_was_killed_is_finished_and_logged_by_the_server(
    migrated_engine: Engine, source_url: str,
) -> None:
    """The refresh statement commits on its own (autocommit): the server finishes it."""
    slow = create_slow_view(migrated_engine, seconds=1)
    client = subprocess.Popen([sys.executable, "-c", _CLIENT, source_url, slow])
    backend = wait_until(lambda: sleeping_backend(migrated_engine), timeout=30)
    os.kill(client.pid, signal.SIGKILL)
    client.wait()
    wait_until(lambda: not scalar(migrated_engine,
                                  "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid",
                                  pid=backend), timeout=30)
    [status] = [s for s in view_status(migrated_engine) if s.name == slow]
    assert status.last_attempt_status == "succeeded"
    [entry] = [row for row in log_rows(migrated_engine, slow) if row.backend_pid == backend]
    assert entry.status == "succeeded" and entry.triggered_by == "event"


def test_a_refresh_whose_client_and_server_process_died_shows_as_interrupted(
    migrated_engine: Engine, source_url: str,
) -> None:
    slow = create_slow_view(migrated_engine, seconds=5)
    client = subprocess.Popen([sys.executable, "-c", _CLIENT, source_url, slow])
    backend = wait_until(lambda: sleeping_backend(migrated_engine), timeout=30)
    os.kill(client.pid, signal.SIGKILL)
    client.wait()
    execute(migrated_engine, f"SELECT pg_terminate_backend({backend})")
    wait_until(lambda: not scalar(migrated_engine,
                                  "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid",
                                  pid=backend), timeout=30)
    [status] = [s for s in view_status(migrated_engine) if s.name == slow]
    assert status.last_attempt_status == "interrupted"
    [entry] = [row for row in log_rows(migrated_engine, slow) if row.status == "interrupted"]
    assert entry.backend_pid == backend
    assert entry.triggered_by == "event" and entry.database_user == "postgres"
    assert entry.started_at is not None and "ended before the refresh finished" in entry.detail


def test_refreshes_side_by_side_report_every_view_when_the_server_drops_them(
    migrated_engine: Engine, source_url: str,
) -> None:
    slow = create_slow_view(migrated_engine, seconds=1)
    results: list = []

    def refresh() -> None:
        try:
            results.extend(refresh_views(source_url, parallel=2))
        except RefreshIncompleteError as error:
            results.extend(error.results)

    refresher = threading.Thread(target=refresh)
    refresher.start()
    wait_until(lambda: sleeping_backend(migrated_engine))
    # What a restart does to the refresh's sessions.
    execute(migrated_engine,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'")
    refresher.join(60)
    assert not refresher.is_alive()
    assert {r.view for r in results} == ALL_VIEWS | {slow}
    [failed] = [r for r in results if r.view == slow]
    assert failed.status == "failed" and "terminat" in failed.error


def test_a_canceled_swap_is_logged_as_a_swap(migrated_engine: Engine) -> None:
    slow = create_slow_view(migrated_engine, seconds=1)
    refresh_views(migrated_engine, [slow])
    force_swaps(migrated_engine)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(refresh_views, migrated_engine, [slow])
        backend = wait_until(lambda: sleeping_backend(migrated_engine))
        execute(migrated_engine, "SELECT pg_cancel_backend(:pid)", pid=backend)
        [result] = running.result()
    assert (result.status, result.method) == ("failed", "swap")
    assert "SQLSTATE 57014" in result.detail


# -- the stress test ------------------------------------------------------------


def test_stress_refreshers_writers_and_readers_with_swaps(
    migrated_engine: Engine, source_url: str,
) -> None:
    """4 refreshers of every view, 2 writers, 2 readers of every view, swaps forced."""
    add_sales(migrated_engine, 200)
    refresh_views(migrated_engine)
    force_swaps(migrated_engine)
    first_entry = scalar(migrated_engine, "SELECT coalesce(max(id), 0) FROM analytics.refresh_log")
    engine = create_engine(source_url, pool_size=12)
    stop = threading.Event()
    results: list = []
    slowest_reads: list[tuple[float, str]] = []
    errors: list[BaseException] = []

    def guarded(work):
        def run() -> None:
            try:
                work()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
                stop.set()
        return run

    def refresher(number: int) -> None:
        while not stop.is_set():
            results.extend(refresh_views(engine, wait=number % 2 == 0, parallel=2))

    def writer() -> None:
        while not stop.is_set():
            add_sales(engine, 3)
            time.sleep(0.05)

    def reader() -> None:
        # Timed by the server, locks included: the pauses of this process's
        # many threads (and its garbage collection) are not the database's.
        with engine.connect() as connection:
            connection.execute(text(
                "CREATE FUNCTION pg_temp.timed_read(view text) RETURNS float8 "
                "LANGUAGE plpgsql AS $$ DECLARE began timestamptz := clock_timestamp(); "
                "BEGIN EXECUTE format('SELECT count(*) FROM analytics.%I', view); "
                "RETURN extract(epoch FROM clock_timestamp() - began); END $$"))
            connection.commit()
            while not stop.is_set():
                for view in sorted(ALL_VIEWS):
                    took = connection.execute(text("SELECT pg_temp.timed_read(:view)"),
                                              {"view": view}).scalar_one()
                    connection.commit()
                    slowest_reads.append((took, view))
                time.sleep(0.01)

    threads = ([threading.Thread(target=guarded(lambda n=n: refresher(n))) for n in range(4)]
               + [threading.Thread(target=guarded(writer)) for _ in range(2)]
               + [threading.Thread(target=guarded(reader)) for _ in range(2)])
    for thread in threads:
        thread.start()
    time.sleep(20)
    stop.set()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert not errors, errors

    log = [row for row in log_rows(migrated_engine) if row.id > first_entry]
    assert len(results) > 50
    assert [row for row in log if row.method == "plain"] == []
    assert [row for row in log if row.status == "failed"] == []
    assert [(row.view_name, row.status) for row in log
            if row.status in ("running", "interrupted")] == []
    skipped = [row for row in log if row.status == "skipped"]
    assert all("was refreshing the view" in row.detail for row in skipped)
    # Every refresh started is in the log, and every entry is a result or a view
    # rebuilt by a swap.
    logged = {row.id for row in log}
    assert {result.log_id for result in results} <= logged
    rebuilt = {row.id for row in log if (row.detail or "").startswith("rebuilt with ")}
    assert logged - {result.log_id for result in results} <= rebuilt
    assert {row.method for row in log if row.status == "succeeded"} >= {"swap"}
    worst, view = max(slowest_reads)
    assert worst < 0.2, f"a reader of {view} waited {worst * 1000:.0f} ms"


# -- 5. db check reports every view; health warns on drift ----------------------


def test_db_check_reports_every_broken_view_by_name(migrated_engine: Engine) -> None:
    from soleflip_analytics.drift import check_drift
    from soleflip_analytics.health import check_health

    execute(migrated_engine, "ALTER TABLE transactions.orders RENAME COLUMN net_profit TO profit")
    with migrated_engine.connect() as connection:
        report = check_drift(connection)
    broken = {drift.view for drift in report.drifts if "no longer builds" in drift.problem}
    assert broken >= {"metabase_executive_metrics", "metabase_brand_analytics",
                      "metabase_supplier_performance", "metabase_customer_geography"}
    assert all("net_profit" in drift.problem and "does not exist" in drift.problem
               for drift in report.drifts
               if drift.view in broken)
    health = check_health(migrated_engine)
    warnings = {p.view for p in health.problems if p.check == "definition_drift"}
    assert warnings == broken
    assert all(p.warning for p in health.problems if p.check == "definition_drift")


# -- 8. the preview fails when a card fails --------------------------------------


def test_the_preview_exits_non_zero_when_a_card_fails(
    migrated_engine: Engine, source_url: str, tmp_path,
) -> None:
    from click.testing import CliRunner

    from soleflip_analytics.cli.dashboards import dashboards

    refresh_views(migrated_engine)
    execute(migrated_engine, "DROP MATERIALIZED VIEW analytics.unsold_stock_summary")
    out = tmp_path / "p.html"
    result = CliRunner().invoke(dashboards, ["preview", "--out", str(out)],
                                env={"DATABASE_URL": source_url})
    assert result.exit_code == 1, result.output
    assert "card(s) failed" in result.output and "unsold_stock_summary" in result.output
    assert out.is_file()


# -- 6. uninstall and reinstall ---------------------------------------------------


def test_downgrade_base_finishes_without_a_dropped_view_and_keeps_roles_with_members(
    source_url: str, source_engine: Engine, caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from test_security import drop_roles, role_exists, unique

    from soleflip_analytics import downgrade, upgrade

    reader, refresher = unique("reader"), unique("refresher")
    login = f"{reader}_metabase"
    upgrade(source_url, reader_role=reader, refresher_role=refresher)
    try:
        execute(source_engine, f"CREATE ROLE {login} LOGIN IN ROLE {reader}; "
                               "DROP MATERIALIZED VIEW analytics.sold_items_by_product")
        with caplog.at_level(logging.WARNING):
            downgrade(source_url, "base")
        messages = " ".join(record.getMessage() for record in caplog.records)
        assert ("analytics.sold_items_by_product was dropped by hand: rebuilt from v2.sql for "
                "the downgrade") in messages
        assert f"role {reader} has members ({login})" in messages
        assert role_exists(source_engine, reader) and not role_exists(source_engine, refresher)
        upgrade(source_url, reader_role=reader, refresher_role=refresher)
        assert scalar(source_engine, "SELECT pg_has_role(:login, :role, 'USAGE')",
                      login=login, role=reader)
        assert scalar(source_engine, "SELECT count(*) FROM analytics.managed_views") == 13
    finally:
        drop_roles(source_engine, login, reader, refresher)


def test_the_command_line_refresh_exits_1_for_a_missing_view(
    migrated_engine: Engine, source_url: str,
) -> None:
    from test_cli import cli

    execute(migrated_engine, "DROP MATERIALIZED VIEW analytics.metabase_supplier_performance")
    for arguments in (("refresh",), ("refresh", "--tier", "weekly")):
        result = cli(*arguments, url=source_url)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "metabase_supplier_performance" in result.stderr
        assert "db check" in result.stdout + result.stderr


def test_the_command_line_db_check_names_every_broken_view(
    migrated_engine: Engine, source_url: str,
) -> None:
    from test_cli import cli

    execute(migrated_engine, "ALTER TABLE transactions.orders RENAME COLUMN net_profit TO profit")
    result = cli("db", "check", url=source_url)
    assert result.returncode == 1, result.stdout + result.stderr
    for view in ("metabase_executive_metrics", "metabase_brand_analytics",
                 "metabase_supplier_performance", "metabase_customer_geography"):
        assert f"analytics.{view}: v2.sql no longer builds" in result.stdout


def test_revision_0016_down_gives_back_exactly_the_routines_and_tables_of_0015(
    source_url: str, source_engine: Engine,
) -> None:
    from soleflip_analytics import downgrade, upgrade

    catalog = (
        "SELECT p.oid::regprocedure::text, p.prosrc, p.prosecdef, p.proconfig, "
        "       p.proowner::regrole::text, "
        "       ARRAY(SELECT (a.grantee, a.privilege_type)::text "
        "             FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a "
        "             ORDER BY 1) "
        "FROM pg_proc p WHERE p.pronamespace = 'analytics'::regnamespace "
        "UNION ALL "
        "SELECT c.oid::regclass::text, pg_get_constraintdef(k.oid), null, null, null, "
        "       c.relacl::text[] "
        "FROM pg_class c LEFT JOIN pg_constraint k ON k.conrelid = c.oid "
        "WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind IN ('r', 'v') "
        "ORDER BY 1, 2"
    )
    upgrade(source_url, "0015")
    with source_engine.connect() as connection:
        before = connection.execute(text(catalog)).all()
    upgrade(source_url)
    downgrade(source_url, "0015")
    with source_engine.connect() as connection:
        assert connection.execute(text(catalog)).all() == before
