"""How long the shop's writers and the dashboards' readers wait while the package is deployed.

    python3 benchmarks/deploy_benchmark.py --orders 100000

Starts a throwaway PostgreSQL server (refresh_benchmark.SETTINGS), creates the
source contract and seeds ``--orders`` synthetic orders. Then, while writers
insert single rows (20 a second, orders and stock items by turns) and a
dashboard reader runs every card's query in a loop, it times four steps:

(a) ``upgrade head`` from base;
(b) ``update_view`` of metabase_inventory_status to a new version (a copy of
    its deployed file, as version 1000, in a copy of the SQL directory);
(c) its downgrade (``update_view`` back to the deployed version);
(d) ``downgrade base``.

For each step it prints the step's seconds, the longest single-row insert, the
longest time a card's query waited for a lock, and the longest card query from
start to end (which includes the query's own work). Lock waits are sampled from
pg_stat_activity every few milliseconds by a watcher of its own. The load
average before and after is printed too: other work on the machine shows in the
figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from refresh_benchmark import SETTINGS, machine_facts  # beside this script
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from soleflip_analytics import downgrade, paths, upgrade
from soleflip_analytics.dashboards.payloads import template_tags
from soleflip_analytics.dashboards.sql_template import render
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.demo import create_source_contract, seed
from soleflip_analytics.demo.server import LocalServer
from soleflip_analytics.view_migrations import update_view

VIEW = "metabase_inventory_status"
COPY = 1000  # the version number of the copy
WRITES_PER_SECOND = 20

INSERT_ORDER = text(
    "INSERT INTO transactions.orders (inventory_item_id, platform_id, status, sold_at, "
    "gross_sale, net_proceeds, net_profit, roi, buyer_destination_country, "
    "buyer_destination_city) "
    "VALUES (:item, :platform, 'completed', now(), 150, 135, 16, 13.4, 'DE', 'Berlin')"
)
INSERT_STOCK = text(
    "INSERT INTO inventory.stock (product_id, supplier_id, size, status, purchase_price) "
    "VALUES (:product, :supplier, 'US 10', 'in_stock', 100)"
)


class Worker(threading.Thread):
    """A loop on its own connection, in autocommit; remembers its longest round."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.stopping = threading.Event()
        self.longest = 0.0
        self.rounds = 0
        self.pid = 0
        self.ready = threading.Event()

    def run(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            self.pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            self.prepare(connection)
            self.ready.set()
            while not self.stopping.is_set():
                started = time.perf_counter()
                self.round(connection)
                self.longest = max(self.longest, time.perf_counter() - started)
                self.rounds += 1
                self.pause()

    def prepare(self, connection) -> None:  # noqa: ANN001 (a Connection)
        """Set up before the first round."""

    def round(self, connection) -> None:  # noqa: ANN001
        raise NotImplementedError

    def pause(self) -> None:
        self.stopping.wait(0.005)

    def reset(self) -> None:
        self.longest, self.rounds = 0.0, 0


class Writer(Worker):
    """The shop: a single-row insert 20 times a second, an order or a stock item by turns."""

    def prepare(self, connection) -> None:  # noqa: ANN001
        self.ids = connection.execute(text(
            "SELECT o.inventory_item_id AS item, o.platform_id AS platform, "
            "       s.product_id AS product, s.supplier_id AS supplier "
            "FROM transactions.orders o JOIN inventory.stock s ON s.id = o.inventory_item_id "
            "WHERE s.supplier_id IS NOT NULL LIMIT 1")).mappings().one()

    def round(self, connection) -> None:  # noqa: ANN001
        if self.rounds % 2:
            connection.execute(INSERT_STOCK, {"product": self.ids["product"],
                                              "supplier": self.ids["supplier"]})
        else:
            connection.execute(INSERT_ORDER, {"item": self.ids["item"],
                                              "platform": self.ids["platform"]})

    def pause(self) -> None:
        self.stopping.wait(1 / WRITES_PER_SECOND)


class Reader(Worker):
    """A dashboard: every card's query in turn; a query on a view not there yet fails."""

    def prepare(self, connection) -> None:  # noqa: ANN001
        self.queries = [render(card.sql, template_tags(card), {})
                        for dashboard in DASHBOARDS for card in dashboard.cards]
        self.failed = 0

    def round(self, connection) -> None:  # noqa: ANN001
        query = self.queries[self.rounds % len(self.queries)]
        try:
            connection.execute(text(query.sql), query.params).all()
        except DBAPIError:
            self.failed += 1


class LockWaits(threading.Thread):
    """Samples pg_stat_activity: the longest time each watched process waited for a lock."""

    def __init__(self, engine: Engine, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.engine, self.pids = engine, pids
        self.stopping = threading.Event()
        self.longest = dict.fromkeys(pids, 0.0)
        self.first_seen: dict[tuple[int, object], float] = {}

    def run(self) -> None:
        names = {pid: name for name, pid in self.pids.items()}
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while not self.stopping.is_set():
                now = time.perf_counter()
                for pid, query_start in connection.execute(text(
                        "SELECT pid, query_start FROM pg_stat_activity "
                        "WHERE pid = ANY (:pids) AND wait_event_type = 'Lock'"),
                        {"pids": list(names)}):
                    first = self.first_seen.setdefault((pid, query_start), now)
                    name = names[pid]
                    self.longest[name] = max(self.longest[name], now - first)
                self.stopping.wait(0.003)

    def reset(self) -> None:
        self.longest = dict.fromkeys(self.pids, 0.0)
        self.first_seen.clear()


@dataclass
class Step:
    name: str
    seconds: float
    writer_ms: float
    writer_lock_ms: float
    reader_lock_ms: float
    reader_query_ms: float
    reader_queries: int


@contextmanager
def sql_dir_with_a_copy(view: str, version: int, copy: int) -> Iterator[None]:
    """The package's SQL files, with sql/views/<view>/v<copy>.sql a copy of v<version>.sql."""
    with tempfile.TemporaryDirectory() as scratch:
        copied = Path(scratch) / "sql"
        shutil.copytree(paths.sql_dir(), copied)
        shutil.copy(copied / "views" / view / f"v{version}.sql",
                    copied / "views" / view / f"v{copy}.sql")
        original = paths.sql_dir
        paths.sql_dir = lambda: copied
        try:
            yield
        finally:
            paths.sql_dir = original


def run_verb(engine: Engine, verb: Callable[[], None]) -> None:
    """A migration verb as a host's migration calls it, committed."""
    with engine.connect() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            verb()
        connection.commit()


def deployed_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT version FROM analytics.managed_views WHERE view_name = :view"),
            {"view": VIEW}).scalar_one()


def timed(name: str, action: Callable[[], None], writer: Writer, reader: Reader,
          waits: LockWaits) -> Step:
    for worker in (writer, reader, waits):
        worker.reset()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return Step(name, seconds, 1000 * writer.longest, 1000 * waits.longest["writer"],
                1000 * waits.longest["reader"], 1000 * reader.longest, reader.rounds)


def measure(orders: int) -> tuple[list[Step], str, str]:
    machine = machine_facts()
    with LocalServer("deploy-bench", settings=SETTINGS) as server:
        url = server.url
        create_source_contract(url)
        seed(url, orders=orders, seed=1)
        engine = create_engine(url)
        writer, reader = Writer(engine), Reader(engine)
        for worker in (writer, reader):
            worker.start()
            worker.ready.wait()
        waits = LockWaits(engine, {"writer": writer.pid, "reader": reader.pid})
        waits.start()
        steps = []
        try:
            steps.append(timed("(a) upgrade head from base", lambda: upgrade(url),
                               writer, reader, waits))
            version = deployed_version(engine)
            with sql_dir_with_a_copy(VIEW, version, COPY):
                steps.append(timed(
                    f"(b) update {VIEW} v{version} -> v{COPY}",
                    lambda: run_verb(engine, lambda: update_view(VIEW, COPY, version)),
                    writer, reader, waits))
                steps.append(timed(
                    f"(c) its downgrade v{COPY} -> v{version}",
                    lambda: run_verb(engine, lambda: update_view(VIEW, version, COPY)),
                    writer, reader, waits))
            steps.append(timed("(d) downgrade base", lambda: downgrade(url, "base"),
                               writer, reader, waits))
        finally:
            for worker in (writer, reader, waits):
                worker.stopping.set()
                worker.join()
            engine.dispose()
        return steps, machine, f"{os.getloadavg()[0]:.1f}"


def report(orders: int, steps: list[Step], machine: str, load_after: str) -> str:
    lines = [f"Deploy under load, {orders:,} orders ({machine}; load average {load_after} "
             "at the end)", "",
             f"{'step':<48} {'seconds':>8} {'writer':>8} {'w. lock':>8} {'r. lock':>8} "
             f"{'r. query':>9} {'queries':>8}"]
    for step in steps:
        lines.append(f"{step.name:<48} {step.seconds:>8.1f} {step.writer_ms:>6.0f}ms "
                     f"{step.writer_lock_ms:>6.0f}ms {step.reader_lock_ms:>6.0f}ms "
                     f"{step.reader_query_ms:>7.0f}ms {step.reader_queries:>8}")
    lines += ["", "writer: longest single-row insert; w./r. lock: longest wait for a lock "
              "(sampled); r. query: longest card query, its own work included"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    print(report(args.orders, *measure(args.orders)))


if __name__ == "__main__":
    main()
