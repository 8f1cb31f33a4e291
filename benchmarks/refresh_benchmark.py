"""Refresh, dashboard and writer timings of the analytics views at a given number of orders.

    python3 benchmarks/refresh_benchmark.py --orders 100000 [--json PATH]
        [--runs 20] [--writers 8 --writer-seconds 5 --writer-rounds 3]

Starts a throwaway PostgreSQL server with the settings of a small production
server (SETTINGS below, crash safety on), creates the source contract, seeds
``--orders`` synthetic orders, applies the migrations (which populate the views)
and refreshes all views once to warm up. Then, in this order, it measures:

- baseline: plain ``REFRESH MATERIALIZED VIEW CONCURRENTLY`` of each view, one
  after another in refresh order, on one autocommit connection;
- default: ``refresh_views(url)``, the package's strategy, while a reader (a
  process of its own, as Metabase is) runs every dashboard card's query (no
  filter values) in a loop and records its longest wait;
- after 1,000 new completed orders (one INSERT … SELECT on existing stock and
  platform ids): ``refresh_views(url, affected_by="transactions.orders",
  only_stale=True)``, with the reader running again;
- nothing changed: ``refresh_views(url, only_stale=True)`` right after;
- WAL per view: each view refreshed alone by the package's strategy, the WAL
  written from ``pg_current_wal_lsn()`` before to after (a swapped view's
  figure includes the views rebuilt with it);
- freshness lag (freshness.measure_freshness): ``--freshness-rate`` orders a
  second for ``--freshness-seconds``, each followed by
  ``sync_on_order_event()``, and how long until the headline view and the
  inventory view include each;
- the rows of each view, and the size on disk of orders, stock, each view and
  the database;
- every dashboard card's query, rendered with no filter values, once to warm
  up and then ``--runs`` times: p50 and p95 per card;
- last, on the same server: the insert throughput of ``--writers`` concurrent
  writers into transactions.orders with change tracking off and on
  (writer_throughput.measure_writers, with its own few setup rows).

Each refresh also records when each view was done, in seconds from the
refresh's start, and the WAL it wrote in all. The views are those of
analytics.refresh_order, however many there are. Prints a table, ending with
each target of the issues "Speed at a million orders" and "Speed II" against
the measured figure, and writes every figure as JSON (default
benchmarks/results-<orders>.json).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import platform
import queue
import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import server_cpu
from freshness import (  # beside this script, on sys.path when run as one
    FreshnessFigures,
    Lag,
    measure_freshness,
    report_freshness,
)
from server_cpu import CpuUse
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from standby import StandbyFigures, measure_standby, report_standby, standby_from_json
from writer_throughput import (
    WriterFigures,
    measure_writers,
    report_writers,
)

from soleflip_analytics import refresh_views, upgrade
from soleflip_analytics.dashboards.payloads import template_tags
from soleflip_analytics.dashboards.sql_template import render
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.demo import create_source_contract, seed
from soleflip_analytics.demo.server import LocalServer

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

# The dashboards whose numbers should move right after a sale (issue "Speed II").
HEADLINE_DASHBOARDS = ("Executive", "Platform Performance")

# The refreshes during which the reader runs (keys of Results.readers).
READER_PHASES = {
    "default": "default refresh",
    "after_new_orders": f"refresh after {NEW_ORDERS:,} new orders",
}

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
    statuses: dict[str, str] = field(default_factory=dict)
    # Seconds from the refresh's start until each view was done (committed).
    done_after: dict[str, float] = field(default_factory=dict)
    # WAL written during the refresh (all views), and per view where measured alone.
    wal_bytes: int | None = None
    wal_per_view: dict[str, int] = field(default_factory=dict)
    # CPU time of the server and of the machine during the refresh (server_cpu.py).
    cpu: CpuUse | None = None


@dataclass
class ReaderWait:
    """A dashboard reader's longest wait during one refresh."""

    max_wait_ms: float
    view: str
    queries: int


@dataclass
class CardTiming:
    dashboard: str
    card: str
    p50_ms: float
    p95_ms: float


@dataclass
class Target:
    """One target of the issue: the limit, the measured figure and whether it is met."""

    name: str
    unit: str  # "s", "ms" or "%"
    limit: float
    measured: float | None  # None: not measured in this run
    baseline: float | None = None
    note: str = ""
    met: bool | None = field(init=False)  # None: not measured

    def __post_init__(self) -> None:
        self.met = None if self.measured is None else self.measured <= self.limit


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
    machine: str = ""
    # The reader's longest wait per measured refresh ("default", "after_new_orders");
    # reader_max_wait_* above are the longest of them.
    readers: dict[str, ReaderWait] = field(default_factory=dict)
    writers: WriterFigures | None = None
    # Bytes on disk (table and indexes) of the two growing source tables, each
    # view and the whole database, after the refreshes above.
    sizes: dict[str, int] = field(default_factory=dict)
    # `alembic upgrade head` (soleflip_analytics.upgrade) on a database of its
    # own with the original system's 1,309 orders, contract check included.
    upgrade_seconds: float | None = None
    # Each view refreshed alone by the package's strategy: seconds and WAL bytes.
    alone: Refresh | None = None
    freshness: FreshnessFigures | None = None
    # The views the headline dashboards (HEADLINE_DASHBOARDS) read.
    headline_views: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    standby: StandbyFigures | None = None  # --standby (standby.py)


def wal_lsn(engine: Engine) -> int:
    """The server's current WAL position, in bytes."""
    with engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT CAST(pg_current_wal_lsn() - '0/0'::pg_lsn AS bigint)").scalar_one()


def timed_refresh(url: str, affected_by: str | None = None, only_stale: bool = False,
                  views: list[str] | None = None, wal: Engine | None = None,
                  server_pid: int | None = None) -> Refresh:
    """refresh_views() timed; with ``wal``, the WAL written meanwhile (by anyone); with
    ``server_pid`` (the postmaster's), the CPU time used meanwhile."""
    wal_before = None if wal is None else wal_lsn(wal)
    started_at = datetime.now(timezone.utc)
    cpu_before = server_cpu.read(server_pid)
    started = time.perf_counter()
    results = refresh_views(url, views, affected_by=affected_by, only_stale=only_stale)
    seconds = time.perf_counter() - started
    cpu = server_cpu.used(cpu_before, server_cpu.read(server_pid))
    failed = [result for result in results if not result.ok]
    if failed:
        raise SystemExit(f"refresh failed: {failed}")
    return Refresh(
        seconds,
        {result.view: result.duration.total_seconds() for result in results},
        {result.view: result.method for result in results},
        {result.view: result.status for result in results},
        {result.view: (result.finished_at - started_at).total_seconds() for result in results},
        None if wal is None else wal_lsn(wal) - wal_before,
        cpu=cpu,
    )


def refresh_alone(url: str, engine: Engine, views: list[str]) -> Refresh:
    """Each view refreshed by itself, one after another: seconds and WAL per view."""
    seconds: dict[str, float] = {}
    wal: dict[str, int] = {}
    methods: dict[str, str | None] = {}
    for view in views:
        alone = timed_refresh(url, views=[view], wal=engine)
        seconds[view], methods[view] = alone.seconds, alone.methods[view]
        wal[view] = alone.wal_bytes or 0
    return Refresh(sum(seconds.values()), seconds, methods, wal_bytes=sum(wal.values()),
                   wal_per_view=wal)


def headline_views(views: list[str]) -> list[str]:
    """The views the cards of HEADLINE_DASHBOARDS read."""
    read = {name for dashboard in DASHBOARDS if dashboard.name in HEADLINE_DASHBOARDS
            for card in dashboard.cards for name in re.findall(r"analytics\.(\w+)", card.sql)}
    return [view for view in views if view in read]


UPGRADE_ORDERS = 1_309  # the original system's size


def timed_upgrade(server: LocalServer) -> float:
    """Seconds of upgrade() on a new database of the server holding UPGRADE_ORDERS orders."""
    admin = create_engine(server.url_for("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql("CREATE DATABASE bench_upgrade")
    finally:
        admin.dispose()
    url = server.url_for("bench_upgrade")
    create_source_contract(url)
    seed(url, orders=UPGRADE_ORDERS, seed=1)
    started = time.perf_counter()
    upgrade(url)
    return time.perf_counter() - started


def refresh_order(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text(
            "SELECT view_name FROM analytics.refresh_order ORDER BY level, view_name"
        )).scalars())


def baseline_refresh(engine: Engine, views: list[str], server_pid: int | None = None) -> Refresh:
    """REFRESH MATERIALIZED VIEW CONCURRENTLY of each view, one after another."""
    timings: dict[str, float] = {}
    done_after: dict[str, float] = {}
    wal: dict[str, int] = {}
    cpu_before = server_cpu.read(server_pid)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for view in views:
            before = wal_lsn(engine)
            started = time.perf_counter()
            connection.exec_driver_sql(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{view}")
            timings[view] = time.perf_counter() - started
            done_after[view] = sum(timings.values())
            wal[view] = wal_lsn(engine) - before
    return Refresh(sum(timings.values()), timings, done_after=done_after,
                   wal_bytes=sum(wal.values()), wal_per_view=wal,
                   cpu=server_cpu.used(cpu_before, server_cpu.read(server_pid)))


def card_queries() -> list[tuple[str, Any, dict[str, Any]]]:
    """Every dashboard card's query with no filter values: (card name, SQL, parameters)."""
    queries = []
    for dashboard in DASHBOARDS:
        for card in dashboard.cards:
            query = render(card.sql, template_tags(card), {})
            queries.append((card.name, text(query.sql), query.params))
    return queries


def read_cards(url: str, pause: float, ready: Any, stopping: Any, results: Any) -> None:
    """Reader's loop, in a process of its own: every card's query, ``pause`` seconds
    apart, until ``stopping``; puts (longest wait in seconds, its card, queries)."""
    engine = create_engine(url)
    queries_to_run = card_queries()
    # What this process has loaded is never collected: a collection of it took
    # up to 90 ms and would count as the database's wait.
    gc.freeze()
    max_wait, max_wait_view, queries = 0.0, "", 0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        while not stopping.is_set():
            for card, query, params in queries_to_run:
                started = time.perf_counter()
                connection.execute(query, params).all()
                wait = time.perf_counter() - started
                queries += 1
                if wait > max_wait:
                    max_wait, max_wait_view = wait, card
                ready.set()
                stopping.wait(pause)
    engine.dispose()
    results.put((max_wait, max_wait_view, queries))


class Reader:
    """A dashboard reader: every card's query in a loop; keeps its longest wait.

    It runs in a process of its own, as Metabase does, so that the pauses of the
    refresher's Python (its threads, its garbage collection) are not counted as
    the database's. It pauses PAUSE seconds between queries, as a dashboard does,
    so that it does not take a core away from the refresh it watches; a wait
    longer than the pause is still seen whole. ``figures().view`` names the card.
    """

    PAUSE = 0.005

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.ready = context.Event()
        self.stopping = context.Event()
        self.results = context.Queue()
        self.process = context.Process(
            target=read_cards, args=(url, self.PAUSE, self.ready, self.stopping, self.results),
            daemon=True)
        self.wait: ReaderWait | None = None

    def start(self) -> None:
        """Start it; returns once its first query has run."""
        self.process.start()
        while not self.ready.wait(0.1):
            if not self.process.is_alive():
                raise SystemExit(f"the reader ended before its first query "
                                 f"(exit code {self.process.exitcode})")

    def stop(self) -> None:
        self.stopping.set()
        self.process.join()
        try:
            max_wait, max_wait_view, queries = self.results.get(timeout=5)
        except queue.Empty:
            raise SystemExit(f"the reader failed (exit code {self.process.exitcode}); "
                             "its error is above") from None
        self.wait = ReaderWait(1000 * max_wait, max_wait_view, queries)

    def figures(self) -> ReaderWait:
        if self.wait is None:
            raise RuntimeError("the reader is still running")
        return self.wait


@contextlib.contextmanager
def reading(url: str) -> Iterator[Reader]:
    """A Reader running for the duration of the block."""
    reader = Reader(url)
    reader.start()
    try:
        yield reader
    finally:
        reader.stop()


def relation_sizes(engine: Engine, views: list[str]) -> dict[str, int]:
    relations = ["transactions.orders", "inventory.stock",
                 *(f"analytics.{view}" for view in views)]
    with engine.connect() as connection:
        sizes = {
            relation: connection.execute(
                text("SELECT pg_total_relation_size(CAST(:relation AS regclass))"),
                {"relation": relation},
            ).scalar_one()
            for relation in relations
        }
        sizes["database"] = connection.exec_driver_sql(
            "SELECT pg_database_size(current_database())"
        ).scalar_one()
    return sizes


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


def machine_facts() -> str:
    """CPUs, memory, OS, Python and the load average when the run started."""
    facts = [f"{os.cpu_count()} CPUs"]
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        facts.append(f"{memory / 2**30:.0f} GiB RAM")
    facts.append(f"{platform.system()} {platform.machine()}")
    facts.append(f"Python {platform.python_version()}")
    with contextlib.suppress(OSError, AttributeError):
        facts.append(f"load average {os.getloadavg()[0]:.1f} at start")
    return ", ".join(facts)


def measure(
    orders: int,
    runs: int,
    writers: int = 8,
    writer_seconds: int = 5,
    writer_rounds: int = 3,
    freshness_seconds: float = 120,
    freshness_rate: float = 5,
    standby: bool = False,
) -> Results:
    """Every figure of one run; ``writers=0`` or ``writer_rounds=0`` skips the writers,
    ``freshness_seconds=0`` the freshness lag; ``standby`` adds the figures of a hot
    standby (standby.measure_standby)."""
    machine = machine_facts()
    with LocalServer("bench", settings=SETTINGS) as server:
        url = server.url
        server_pid = server_cpu.postmaster_pid(server.datadir)
        upgrade_seconds = timed_upgrade(server)
        create_source_contract(url)
        loaded = seed(url, orders=orders, seed=1)
        upgrade(url)
        engine = create_engine(url)
        try:
            warm_up = timed_refresh(url)
            views = refresh_order(engine)
            baseline = baseline_refresh(engine, views, server_pid)
            with reading(url) as reader:
                default = timed_refresh(url, wal=engine, server_pid=server_pid)
            readers = {"default": reader.figures()}
            with engine.begin() as connection:
                inserted = connection.execute(INSERT_NEW_ORDERS, {"count": NEW_ORDERS}).rowcount
            if inserted != NEW_ORDERS:
                raise SystemExit(f"inserted {inserted} orders, not {NEW_ORDERS}")
            with reading(url) as reader:
                after_new_orders = timed_refresh(
                    url, affected_by="transactions.orders", only_stale=True, wal=engine,
                    server_pid=server_pid,
                )
            readers["after_new_orders"] = reader.figures()
            only_stale_unchanged = timed_refresh(url, only_stale=True)
            with engine.connect() as connection:
                view_rows = {
                    view: connection.exec_driver_sql(
                        f"SELECT count(*) FROM analytics.{view}"
                    ).scalar_one()
                    for view in views
                }
            sizes = relation_sizes(engine, views)
            cards = card_timings(engine, runs)
            alone = refresh_alone(url, engine, views)
            standby_figures = measure_standby(server, url, views) if standby else None
        finally:
            engine.dispose()
        freshness = (measure_freshness(url, freshness_seconds, freshness_rate)
                     if freshness_seconds > 0 else None)
        # Last: the writers add rows and orders of their own.
        writer_figures = (
            measure_writers(url, writers, writer_seconds, writer_rounds)
            if writers > 0 and writer_rounds > 0 else None
        )
        longest = max(readers.values(), key=lambda wait: wait.max_wait_ms)
        results = Results(
            orders=orders,
            server=server.version(),
            settings=dict(SETTINGS),
            load_seconds=loaded.seconds,
            stock_items=loaded.stock_items,
            view_rows=view_rows,
            warm_up=warm_up,
            baseline=baseline,
            default=default,
            reader_max_wait_ms=longest.max_wait_ms,
            reader_max_wait_view=longest.view,
            reader_queries=sum(wait.queries for wait in readers.values()),
            after_new_orders=after_new_orders,
            only_stale_unchanged=only_stale_unchanged,
            cards=cards,
            machine=machine,
            readers=readers,
            writers=writer_figures,
            sizes=sizes,
            upgrade_seconds=upgrade_seconds,
            alone=alone,
            freshness=freshness,
            headline_views=headline_views(views),
            standby=standby_figures,
        )
        results.targets = check_targets(results)
        return results


def check_targets(results: Results) -> list[Target]:
    """The targets of the issue "Speed at a million orders" against this run's figures."""
    worst = max(results.cards, key=lambda card: card.p95_ms)
    over = sum(card.p95_ms > 50 for card in results.cards)
    waits = results.readers or {
        "default": ReaderWait(results.reader_max_wait_ms, results.reader_max_wait_view,
                              results.reader_queries)
    }
    longest_during = max(waits, key=lambda name: waits[name].max_wait_ms)
    writers = results.writers
    after = results.after_new_orders
    headline = [view for view in results.headline_views if view in after.done_after]
    last_headline = max(headline, key=lambda view: after.done_after[view], default=None)
    lags = results.freshness.lags if results.freshness is not None else {}
    executive = lags.get("metabase_executive_metrics")
    return [
        Target("Refresh of all views", "s", 15, results.default.seconds,
               baseline=results.baseline.seconds,
               note=f"{len(results.default.views)} views; baseline: plain REFRESH "
                    "CONCURRENTLY one after another"),
        Target("Refresh of all views / same run's baseline", "×", 0.35,
               results.default.seconds / results.baseline.seconds),
        Target("Longest dashboard reader wait during a refresh", "ms", 100,
               results.reader_max_wait_ms,
               note=f"on {results.reader_max_wait_view}, during the "
                    f"{READER_PHASES.get(longest_during, longest_during)}; "
                    + ", ".join(f"{READER_PHASES.get(name, name)} {wait.max_wait_ms:.0f} ms"
                                for name, wait in waits.items())),
        Target(f"After {NEW_ORDERS:,} new orders, affected views", "s", 15,
               results.after_new_orders.seconds,
               note=f"{len(results.after_new_orders.views)} views refreshed"),
        Target(f"After {NEW_ORDERS:,} new orders, headline views done", "s", 5,
               None if last_headline is None else after.done_after[last_headline],
               note="not measured" if last_headline is None else
                    f"the views of the {' and '.join(HEADLINE_DASHBOARDS)} dashboards, from the "
                    f"refresh's start; last {last_headline}; " + ", ".join(
                        f"{view} {after.done_after[view]:.1f} s" for view in headline)),
        Target("Freshness lag of metabase_executive_metrics, p95", "s", 15,
               None if executive is None else executive.p95,
               note=_lag_note(results.freshness)),
        Target("Freshness lag of metabase_executive_metrics, max", "s", 30,
               None if executive is None or executive.missing else executive.max,
               note="" if executive is None or not executive.missing else
                    f"{executive.missing} orders never seen"),
        Target("only_stale with nothing changed", "ms", 100,
               1000 * results.only_stale_unchanged.seconds),
        Target("Every dashboard card p95 (worst card)", "ms", 50, worst.p95_ms,
               note=f"{worst.card}; {over} of {len(results.cards)} cards above 50 ms"),
        Target("Change tracking's cost to writers (1 − on/off)", "%", 10,
               None if writers is None else 100 * writers.tracking_cost,
               note="not measured" if writers is None else
                    f"{writers.writers} writers: on {writers.median['on']:,.0f}, "
                    f"off {writers.median['off']:,.0f} inserts/s "
                    f"(on = {writers.on_share_of_off:.0%} of off)"),
        Target(f"alembic upgrade head on {UPGRADE_ORDERS:,} orders", "s", 3,
               results.upgrade_seconds,
               note="not measured" if results.upgrade_seconds is None else
                    "a database of its own, source contract check included"),
    ]


def _lag_note(figures: FreshnessFigures | None) -> str:
    if figures is None:
        return "not measured"
    return (f"{figures.orders} orders at {figures.rate:g}/s, each followed by "
            "sync_on_order_event(); " + "; ".join(
                f"{view}: p50 {_figure(lag.p50, 's')}, p95 {_figure(lag.p95, 's')}, "
                f"max {_figure(lag.max, 's')}" for view, lag in figures.lags.items()))


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "×":
        return f"{value:.2f} ×"
    return f"{value:.1f} %"


def report(results: Results) -> str:
    lines = [
        f"{results.server}; {results.orders:,} orders, {results.stock_items:,} stock items",
    ]
    if results.machine:
        lines.append(results.machine)
    lines += [
        f"load (seed): {results.load_seconds:.1f} s",
        "",
        f"{'view':34} {'rows':>10} {'baseline s':>11} {'default s':>10}  method",
    ]
    for view, seconds in results.baseline.views.items():
        default = results.default.views.get(view)
        lines.append(
            f"{view:34} {results.view_rows.get(view, 0):>10,} {seconds:>11.2f} "
            f"{'-' if default is None else f'{default:.2f}':>10}  "
            f"{results.default.methods.get(view)}"
        )
    lines += [
        f"{'all views (wall)':34} {'':>10} {results.baseline.seconds:>11.2f} "
        f"{results.default.seconds:>10.2f}",
        "",
        *report_done_after_and_wal(results),
        *report_cpu(results),
        "",
        f"warm-up refresh, all views: {results.warm_up.seconds:.2f} s",
    ]
    if results.sizes:  # the views under 1 MiB left out
        lines.append("on disk (tables and indexes): " + ", ".join(
            f"{relation} {size / 2**20:,.1f} MiB" for relation, size in results.sizes.items()
            if not relation.startswith("analytics.") or size >= 2**20
        ))
    for name, wait in results.readers.items():
        lines.append(f"reader's longest wait during the {READER_PHASES.get(name, name)}: "
                     f"{wait.max_wait_ms:.0f} ms (on {wait.view}, {wait.queries:,} queries)")
    lines += [
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
    if results.freshness is not None:
        lines += ["", *report_freshness(results.freshness)]
    if results.writers is not None:
        writers = results.writers
        lines += [
            "",
            f"{writers.writers} writers inserting orders, {writers.seconds} s per run, "
            f"{writers.rounds} rounds (median):",
            *report_writers(writers),
        ]
    lines += [
        "",
        f"Targets (set for 1,000,000 orders; this run: {results.orders:,} orders)",
        f"{'target':48} {'limit':>9} {'measured':>10} {'baseline':>10}  met",
    ]
    for target in check_targets(results):
        met = {True: "yes", False: "NO", None: "-"}[target.met]
        lines.append(
            f"{target.name:48} {f'≤ {target.limit:g} {target.unit}':>9} "
            f"{_figure(target.measured, target.unit):>10} "
            f"{_figure(target.baseline, target.unit):>10}  {met}"
        )
        if target.note:
            lines.append(f"{'':4}{target.note}")
    if results.standby is not None:
        lines += report_standby(results.standby)
    return "\n".join(lines)


def _mib(size: int | None) -> str:
    return "-" if size is None else f"{size / 2**20:,.1f}"


def report_done_after_and_wal(results: Results) -> list[str]:
    """Per view: when it was done, from each refresh's start, and the WAL it wrote."""
    baseline, default, after = results.baseline, results.default, results.after_new_orders
    alone = results.alone or Refresh(0, {})
    lines = [
        "done after (s from the refresh's start) and WAL written (MiB; each view alone):",
        f"{'view':34} {'baseline':>9} {'default':>8} {'+1,000':>7} "
        f"{'WAL base':>9} {'WAL alone':>9}",
    ]
    for view in baseline.views:
        done = [source.done_after.get(view) for source in (baseline, default, after)]
        lines.append(
            f"{view:34} " + " ".join(
                f"{'-' if value is None else f'{value:.2f}':>{width}}"
                for value, width in zip(done, (9, 8, 7), strict=True))
            + f" {_mib(baseline.wal_per_view.get(view)):>9} "
              f"{_mib(alone.wal_per_view.get(view)):>9}"
            + ("  *" if view in results.headline_views else "")
        )
    lines.append(
        f"WAL in all: baseline {_mib(baseline.wal_bytes)} MiB, default {_mib(default.wal_bytes)} "
        f"MiB, after {NEW_ORDERS:,} new orders {_mib(after.wal_bytes)} MiB, each view alone "
        f"{_mib(alone.wal_bytes)} MiB (a swapped view's WAL includes the views rebuilt with it; "
        "* a headline view)")
    return lines


def report_cpu(results: Results) -> list[str]:
    """The server's CPU time in each timed refresh of all views, against the machine's."""
    lines = []
    for name, refresh in (("baseline", results.baseline), ("default", results.default),
                          (f"after {NEW_ORDERS:,} new orders", results.after_new_orders)):
        if refresh.cpu is None:
            continue
        cpu = refresh.cpu
        lines.append(
            f"CPU, {name}: server {cpu.server:.1f} core-s in {refresh.seconds:.2f} s "
            f"({cpu.server / refresh.seconds:.2f} of {cpu.cores} cores; its work alone needs "
            f"{cpu.floor_seconds:.2f} s on them), machine busy {cpu.machine_busy:.1f} of "
            f"{cpu.machine_all:.1f} core-s")
    return lines


def results_to_json(results: Results) -> str:
    return json.dumps(asdict(results), indent=2) + "\n"


def results_from_json(source: str) -> Results:
    """Results from what results_to_json wrote (older files lack the newer fields)."""
    data: dict[str, Any] = json.loads(source)
    for name in ("warm_up", "baseline", "default", "after_new_orders", "only_stale_unchanged",
                 "alone"):
        if data.get(name) is not None:
            data[name] = Refresh(**data[name])
            if data[name].cpu is not None:
                data[name].cpu = CpuUse(**data[name].cpu)
    if data.get("freshness") is not None:
        data["freshness"]["lags"] = {view: Lag(**lag)
                                     for view, lag in data["freshness"]["lags"].items()}
        data["freshness"] = FreshnessFigures(**data["freshness"])
    data["cards"] = [CardTiming(**card) for card in data["cards"]]
    data["readers"] = {name: ReaderWait(**wait)
                       for name, wait in data.get("readers", {}).items()}
    if data.get("writers") is not None:
        data["writers"] = WriterFigures(**data["writers"])
    if data.get("standby") is not None:
        data["standby"] = standby_from_json(data["standby"])
    results = Results(**{**data, "targets": []})
    results.targets = check_targets(results)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each card query")
    parser.add_argument("--writers", type=int, default=8,
                        help="concurrent writers inserting orders (0: skip the writers)")
    parser.add_argument("--writer-seconds", type=int, default=5,
                        help="seconds of each writer run")
    parser.add_argument("--writer-rounds", type=int, default=3,
                        help="rounds of the writers, tracking off and on in each")
    parser.add_argument("--freshness-seconds", type=float, default=120,
                        help="seconds of orders for the freshness lag (0: skip it)")
    parser.add_argument("--freshness-rate", type=float, default=5,
                        help="orders per second for the freshness lag")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results-<orders>.json")
    parser.add_argument("--standby", action="store_true",
                        help="also measure a hot standby's WAL, replay lag and readers "
                             "(standby.py)")
    args = parser.parse_args()

    results = measure(args.orders, args.runs, args.writers, args.writer_seconds,
                      args.writer_rounds, args.freshness_seconds, args.freshness_rate,
                      args.standby)
    print(report(results))
    path = args.json or Path(__file__).parent / f"results-{args.orders}.json"
    path.write_text(results_to_json(results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
