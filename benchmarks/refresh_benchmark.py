"""Refresh and dashboard timings of the seven views at a given number of orders.

    python3 benchmarks/refresh_benchmark.py --orders 100000 [--json PATH]

Starts a throwaway PostgreSQL server with the settings of a small production
server (SETTINGS below, crash safety on), creates the source contract, seeds
``--orders`` synthetic orders, applies the migrations (which populate the views)
and refreshes all views once to warm up. Then, in this order, it measures:

- baseline: plain ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` of each view, one
  after another in refresh order, on one autocommit connection;
- default: ``refresh_views(url)``, the package's strategy, while a reader thread
  runs ``SELECT 1 FROM analytics.<view> LIMIT 1`` over the seven views in a
  loop and records its longest wait;
- after 1,000 new completed orders (one INSERT … SELECT on existing stock and
  platform ids): ``refresh_views(url, affected_by="transactions.orders",
  only_stale=True)``;
- nothing changed: ``refresh_views(url, only_stale=True)`` right after;
- every dashboard card's query, rendered with no filter values, once to warm
  up and then ``--runs`` times: p50 and p95 per card.

Prints a table and writes the figures as JSON (default
benchmarks/results-<orders>.json).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from soleflip_analytics import refresh_views, upgrade
from soleflip_analytics.dashboards.payloads import template_tags
from soleflip_analytics.dashboards.sql_template import render
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.local_server import LocalServer
from soleflip_analytics.seed import create_source_contract, seed

# A small production server: 4 GB of RAM, crash safety on.
SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "4GB",
    "max_wal_size": "4GB",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
}

NEW_ORDERS = 1_000

# Unsold stock first (the shop sells what it has), each paired with the sale
# figures and platform of an existing completed order.
INSERT_NEW_ORDERS = text(
    """
    WITH items AS (
        SELECT id, row_number() OVER () AS n FROM (
            SELECT id FROM inventory.stock
            ORDER BY status IN ('in_stock', 'listed') DESC, id LIMIT :count
        ) picked
    ), sales AS (
        SELECT *, row_number() OVER () AS n FROM (
            SELECT * FROM transactions.orders WHERE status = 'completed' LIMIT :count
        ) picked
    )
    INSERT INTO transactions.orders (
        inventory_item_id, platform_id, status, sold_at, gross_sale, platform_fee,
        shipping_cost, net_proceeds, net_profit, roi, payout_received,
        buyer_destination_country, buyer_destination_city
    )
    SELECT i.id, s.platform_id, 'completed', now(), s.gross_sale, s.platform_fee,
           s.shipping_cost, s.net_proceeds, s.net_profit, s.roi, false,
           s.buyer_destination_country, s.buyer_destination_city
    FROM items i JOIN sales s USING (n)
    """
)


@dataclass
class Refresh:
    """One refresh of all (or the stale) views: total wall time and seconds per view."""

    seconds: float
    views: dict[str, float]
    methods: dict[str, str | None] = field(default_factory=dict)


@dataclass
class CardTiming:
    dashboard: str
    card: str
    p50_ms: float
    p95_ms: float


@dataclass
class Results:
    orders: int
    server: str
    settings: dict[str, str]
    load_seconds: float
    stock_items: int
    view_rows: dict[str, int]
    warm_up: Refresh
    baseline: Refresh
    default: Refresh
    reader_max_wait_ms: float
    reader_max_wait_view: str
    reader_queries: int
    after_new_orders: Refresh
    only_stale_unchanged: Refresh
    cards: list[CardTiming]


def timed_refresh(url: str, affected_by: str | None = None, only_stale: bool = False) -> Refresh:
    started = time.perf_counter()
    results = refresh_views(url, affected_by=affected_by, only_stale=only_stale)
    seconds = time.perf_counter() - started
    failed = [result for result in results if not result.ok]
    if failed:
        raise SystemExit(f"refresh failed: {failed}")
    return Refresh(
        seconds,
        {result.view: result.duration.total_seconds() for result in results},
        {result.view: result.method for result in results},
    )


def refresh_order(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text(
            "SELECT view_name FROM analytics.refresh_order ORDER BY level, view_name"
        )).scalars())


def baseline_refresh(engine: Engine, views: list[str]) -> Refresh:
    """REFRESH MATERIALIZED VIEW CONCURRENTLY of each view, one after another."""
    timings: dict[str, float] = {}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for view in views:
            started = time.perf_counter()
            connection.exec_driver_sql(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{view}")
            timings[view] = time.perf_counter() - started
    return Refresh(sum(timings.values()), timings)


class Reader(threading.Thread):
    """A dashboard reader: one cheap query per view in a loop; keeps its longest wait."""

    def __init__(self, engine: Engine, views: list[str]) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.views = views
        self.stopping = threading.Event()
        self.max_wait = 0.0
        self.max_wait_view = ""
        self.queries = 0

    def run(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while not self.stopping.is_set():
                for view in self.views:
                    started = time.perf_counter()
                    connection.exec_driver_sql(f"SELECT 1 FROM analytics.{view} LIMIT 1").all()
                    wait = time.perf_counter() - started
                    self.queries += 1
                    if wait > self.max_wait:
                        self.max_wait, self.max_wait_view = wait, view


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile of the samples."""
    ordered = sorted(samples)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def card_timings(engine: Engine, runs: int) -> list[CardTiming]:
    timings: list[CardTiming] = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for dashboard in DASHBOARDS:
            for card in dashboard.cards:
                query = render(card.sql, template_tags(card), {})
                samples: list[float] = []
                for _ in range(runs + 1):  # the first run warms the cache and is dropped
                    started = time.perf_counter()
                    connection.execute(text(query.sql), query.params).all()
                    samples.append(time.perf_counter() - started)
                samples = samples[1:]
                timings.append(CardTiming(dashboard.name, card.name,
                                          1000 * statistics.median(samples),
                                          1000 * percentile(samples, 0.95)))
    return timings


def measure(orders: int, runs: int) -> Results:
    with LocalServer("bench", settings=SETTINGS) as server:
        url = server.url
        create_source_contract(url)
        loaded = seed(url, orders=orders, seed=1)
        upgrade(url)
        engine = create_engine(url)
        try:
            warm_up = timed_refresh(url)
            views = refresh_order(engine)
            baseline = baseline_refresh(engine, views)
            reader = Reader(engine, views)
            reader.start()
            default = timed_refresh(url)
            reader.stopping.set()
            reader.join()
            with engine.begin() as connection:
                inserted = connection.execute(INSERT_NEW_ORDERS, {"count": NEW_ORDERS}).rowcount
            if inserted != NEW_ORDERS:
                raise SystemExit(f"inserted {inserted} orders, not {NEW_ORDERS}")
            after_new_orders = timed_refresh(
                url, affected_by="transactions.orders", only_stale=True
            )
            only_stale_unchanged = timed_refresh(url, only_stale=True)
            with engine.connect() as connection:
                view_rows = {
                    view: connection.exec_driver_sql(
                        f"SELECT count(*) FROM analytics.{view}"
                    ).scalar_one()
                    for view in views
                }
            cards = card_timings(engine, runs)
        finally:
            engine.dispose()
        return Results(
            orders=orders,
            server=server.version(),
            settings=dict(SETTINGS),
            load_seconds=loaded.seconds,
            stock_items=loaded.stock_items,
            view_rows=view_rows,
            warm_up=warm_up,
            baseline=baseline,
            default=default,
            reader_max_wait_ms=1000 * reader.max_wait,
            reader_max_wait_view=reader.max_wait_view,
            reader_queries=reader.queries,
            after_new_orders=after_new_orders,
            only_stale_unchanged=only_stale_unchanged,
            cards=cards,
        )


def report(results: Results) -> str:
    lines = [
        f"{results.server}; {results.orders:,} orders, {results.stock_items:,} stock items",
        f"load (seed): {results.load_seconds:.1f} s",
        "",
        f"{'view':34} {'rows':>10} {'baseline s':>11} {'default s':>10}  method",
    ]
    for view, seconds in results.baseline.views.items():
        lines.append(
            f"{view:34} {results.view_rows[view]:>10,} {seconds:>11.2f} "
            f"{results.default.views[view]:>10.2f}  {results.default.methods[view]}"
        )
    lines += [
        f"{'all seven (wall)':34} {'':>10} {results.baseline.seconds:>11.2f} "
        f"{results.default.seconds:>10.2f}",
        "",
        f"warm-up refresh, all seven: {results.warm_up.seconds:.2f} s",
        f"reader's longest wait during the default refresh: {results.reader_max_wait_ms:.0f} ms"
        f" (on {results.reader_max_wait_view}, {results.reader_queries:,} queries)",
        f"after {NEW_ORDERS:,} new orders (affected_by orders, only_stale): "
        f"{results.after_new_orders.seconds:.2f} s",
        f"only_stale, nothing changed: {1000 * results.only_stale_unchanged.seconds:.0f} ms",
        "",
        f"{'card':50} {'p50 ms':>8} {'p95 ms':>8}",
    ]
    lines += [f"{card.card[:50]:50} {card.p50_ms:>8.1f} {card.p95_ms:>8.1f}"
              for card in results.cards]
    worst = max(results.cards, key=lambda card: card.p95_ms)
    lines.append(f"worst p95: {worst.p95_ms:.1f} ms ({worst.card})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each card query")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results-<orders>.json")
    args = parser.parse_args()

    results = measure(args.orders, args.runs)
    print(report(results))
    path = args.json or Path(__file__).parent / f"results-{args.orders}.json"
    path.write_text(json.dumps(asdict(results), indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
