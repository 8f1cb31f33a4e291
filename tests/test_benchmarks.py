"""The benchmark harness end to end at a tiny scale, and its chart.

One run of benchmarks/refresh_benchmark.py's ``measure`` on its own throwaway
server (2,000 orders, two runs per card, two writers for 1 s in one round, the
freshness lag over 2 s of orders):
the figures must be complete and sane, survive the JSON round trip, and the
report must show every target of the issue.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from soleflip_analytics.dashboards.templates import DASHBOARDS

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
TARGETS = (
    "Refresh of all views",
    "Refresh of all views / same run's baseline",
    "Longest dashboard reader wait during a refresh",
    "After 1,000 new orders, affected views",
    "After 1,000 new orders, headline views done",
    "Freshness lag of metabase_executive_metrics, p95",
    "Freshness lag of metabase_executive_metrics, max",
    "only_stale with nothing changed",
    "Every dashboard card p95 (worst card)",
    "Change tracking's cost to writers (1 − on/off)",
    "alembic upgrade head on 1,309 orders",
)


def _benchmark_module(name: str) -> ModuleType:
    # The scripts import each other as top-level modules, as when run from benchmarks/.
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _benchmark_module("refresh_benchmark")


@pytest.fixture(scope="module")
def results(bench: ModuleType) -> Any:
    return bench.measure(orders=2000, runs=2, writers=2, writer_seconds=1, writer_rounds=1,
                         freshness_seconds=2, freshness_rate=5)


def test_every_view_has_a_baseline_and_a_default_time(results: Any) -> None:
    views = set(results.view_rows)
    assert views, "no views in analytics.refresh_order"
    assert set(results.baseline.views) == views
    assert set(results.default.views) == views
    for refresh in (results.baseline, results.default):
        assert all(seconds > 0 for seconds in refresh.views.values())
        assert refresh.seconds > 0
    # The wall time of the whole call covers each view's (side by side: not their sum).
    assert results.default.seconds >= max(results.default.views.values())
    assert results.baseline.seconds >= sum(results.baseline.views.values()) * 0.99
    assert all(status == "succeeded" for status in results.default.statuses.values())
    assert all(rows > 0 for rows in results.view_rows.values())
    assert results.stock_items >= results.orders
    assert set(results.sizes) == {"transactions.orders", "inventory.stock", "database"} | {
        f"analytics.{view}" for view in views
    }
    assert all(size > 0 for size in results.sizes.values())
    assert results.load_seconds > 0


def test_readers_ran_during_both_refreshes(results: Any) -> None:
    assert set(results.readers) == {"default", "after_new_orders"}
    for wait in results.readers.values():
        assert wait.queries > 0
        assert wait.view in {card.name for dashboard in DASHBOARDS for card in dashboard.cards}
        assert 0 < wait.max_wait_ms
    longest = max(wait.max_wait_ms for wait in results.readers.values())
    assert results.reader_max_wait_ms == longest
    assert results.reader_queries == sum(wait.queries for wait in results.readers.values())


def test_each_view_is_done_within_its_refresh_and_wal_is_counted(results: Any) -> None:
    for refresh in (results.baseline, results.default, results.after_new_orders):
        assert set(refresh.done_after) == set(refresh.views)
        assert all(0 < done <= refresh.seconds * 1.01 for done in refresh.done_after.values())
        assert refresh.wal_bytes > 0
    assert set(results.baseline.wal_per_view) == set(results.view_rows)
    assert sum(results.baseline.wal_per_view.values()) == results.baseline.wal_bytes
    alone = results.alone
    assert set(alone.views) == set(alone.wal_per_view) == set(results.view_rows)
    assert all(size > 0 for size in alone.wal_per_view.values())
    assert results.headline_views == [
        "metabase_customer_geography", "metabase_executive_metrics",
        "metabase_platform_performance", "sold_items_by_product"]


def test_cpu_of_the_server_is_counted_in_each_refresh_of_all_views(bench: ModuleType,
                                                                   results: Any) -> None:
    report = bench.report(results)
    for name, refresh in (("baseline", results.baseline), ("default", results.default),
                          ("after 1,000 new orders", results.after_new_orders)):
        cpu = refresh.cpu
        assert cpu is not None, name
        assert 0 < cpu.server <= cpu.machine_busy + 0.5  # ticks of many processes rounded
        assert cpu.machine_busy <= cpu.machine_all
        assert cpu.floor_seconds == pytest.approx(cpu.server / cpu.cores)
        assert f"CPU, {name}: server {cpu.server:.1f} core-s" in report


def test_cpu_of_a_process_includes_the_children_it_has_ended() -> None:
    # A server's parallel and autovacuum workers end before the refresh does.
    server_cpu = _benchmark_module("server_cpu")
    before = server_cpu.process_cpu(os.getpid())
    spin = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", spin], check=True)
    assert server_cpu.process_cpu(os.getpid()) - before >= 0.45


def test_freshness_lag_of_every_order(results: Any) -> None:
    freshness = results.freshness
    assert freshness.orders == 10
    assert set(freshness.lags) == {"metabase_executive_metrics", "metabase_inventory_status"}
    for lag in freshness.lags.values():
        assert lag.missing == 0
        assert 0 < lag.p50 <= lag.p95 <= lag.max


def test_new_orders_refresh_the_views_reading_orders(results: Any) -> None:
    refreshed = results.after_new_orders
    assert refreshed.views, "no view refreshed after new orders"
    assert set(refreshed.views) <= set(results.view_rows)
    assert all(status == "succeeded" for status in refreshed.statuses.values())


def test_only_stale_with_nothing_changed_finds_every_view_up_to_date(results: Any) -> None:
    unchanged = results.only_stale_unchanged
    assert set(unchanged.statuses) == set(results.view_rows)
    assert set(unchanged.statuses.values()) == {"up_to_date"}
    assert set(unchanged.methods.values()) == {None}


def test_every_card_is_timed_with_p50_at_most_p95(results: Any) -> None:
    cards = [(dashboard.name, card.name) for dashboard in DASHBOARDS for card in dashboard.cards]
    assert [(card.dashboard, card.card) for card in results.cards] == cards
    for card in results.cards:
        assert 0 < card.p50_ms <= card.p95_ms, card


def test_writer_figures_are_positive(results: Any) -> None:
    writers = results.writers
    assert writers is not None
    assert writers.writers == 2 and writers.rounds == 1
    assert set(writers.runs) == {"off", "on"}
    assert all(len(runs) == 1 and runs[0] > 0 for runs in writers.runs.values())
    assert writers.median["on"] > 0 and writers.median["off"] > 0
    assert writers.on_share_of_off == pytest.approx(writers.median["on"] / writers.median["off"])


def test_targets_cover_the_issue(results: Any) -> None:
    assert [target.name for target in results.targets] == list(TARGETS)
    for target in results.targets:
        assert target.measured is not None, target.name
        assert target.met is (target.measured <= target.limit)
    assert results.targets[0].baseline == results.baseline.seconds


def test_json_round_trips(bench: ModuleType, results: Any, tmp_path: Path) -> None:
    source = bench.results_to_json(results)
    json.loads(source)  # plain JSON
    loaded = bench.results_from_json(source)
    assert loaded == results
    assert bench.results_to_json(loaded) == source
    assert bench.report(loaded) == bench.report(results)


def test_report_prints_every_target(bench: ModuleType, results: Any) -> None:
    report = bench.report(results)
    summary = report[report.index("Targets (set for 1,000,000 orders"):]
    for name in TARGETS:
        assert name in summary
    lines = [line for line in summary.splitlines() if line.startswith(TARGETS)]
    assert len(lines) == len(TARGETS)
    assert all(line.rstrip().endswith(("yes", "NO")) for line in lines)
    for view in results.view_rows:
        assert view in report
    assert "tracking on" in report and "tracking off" in report


def test_the_chart_is_drawn_from_results(results: Any, bench: ModuleType,
                                         tmp_path: Path) -> None:
    chart = _benchmark_module("chart")
    paths = []
    for orders, factor in ((2000, 1), (20000, 4)):
        data = json.loads(bench.results_to_json(results))
        data["orders"] = orders
        data["default"]["seconds"] *= factor
        data["baseline"]["seconds"] *= factor
        path = tmp_path / f"results-{orders}.json"
        path.write_text(json.dumps(data))
        paths.append(path)
    out = tmp_path / "docs" / "refresh.png"
    chart.main([*map(str, paths), "--out", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000


def test_the_deploy_benchmark_times_four_steps_under_load() -> None:
    deploy_benchmark = _benchmark_module("deploy_benchmark")
    steps, machine, load = deploy_benchmark.measure(orders=2000)
    assert [step.name[:3] for step in steps] == ["(a)", "(b)", "(c)", "(d)"]
    for step in steps:
        assert step.seconds > 0 and step.writer_ms > 0 and step.reader_queries > 0
    report = deploy_benchmark.report(2000, steps, machine, load)
    assert "update metabase_inventory_status" in report and "load average" in report


def test_compare_versions_finds_the_views_the_same_and_a_changed_one_different(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compare_versions = _benchmark_module("compare_versions")
    with compare_versions.seeded_server(orders=500) as url:
        assert compare_versions.compare(url)
        printed = capsys.readouterr().out
        assert "metabase_inventory_status" in printed and "v1, v2" in printed
        changed = tmp_path / "changed_view"
        changed.mkdir()
        (changed / "v1.sql").write_text(
            "CREATE MATERIALIZED VIEW changed_view AS SELECT x FROM generate_series(1, 3) x;"
        )
        (changed / "v2.sql").write_text(
            "CREATE MATERIALIZED VIEW changed_view AS SELECT x FROM generate_series(2, 4) x;"
        )
        assert not compare_versions.compare(url, tmp_path)
    assert "1 rows only in v1; 1 rows only in v2" in capsys.readouterr().out
