"""Inserts per second into transactions.orders from concurrent writers, change tracking on and off.

    python3 benchmarks/writer_throughput.py [--writers 8] [--seconds 5] [--rounds 3]

Starts a throwaway PostgreSQL server (durable commits, as in production),
creates the source contract and applies the migrations. The writers are
pgbench clients, each with its own connection, inserting one order per
transaction as the shop does. Modes, alternated round by round, the median
reported:

- off: the trigger soleflip_analytics_track_changes disabled;
- on: enabled (what the package installs: one row per table and server process);
- hot row: ours disabled, and instead a trigger that updates one shared row on
  every write, the design the package avoids, for comparison.

``measure_writers(url)`` does the measuring on any database with the source
contract and the migrations applied, seeded or not (refresh_benchmark.py uses
it on its own server after its other measurements). It adds a platform, a
product and a stock item of its own, the hot-row table and trigger in schema
public, and the orders the writers insert, and leaves change tracking on.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

from soleflip_analytics import upgrade
from soleflip_analytics.demo import create_source_contract
from soleflip_analytics.demo.server import LocalServer, find_bindir

# Rows of the benchmark's own, apart from any seeded data (unique slug and SKU).
SETUP = """
INSERT INTO core.platforms (name, slug) VALUES ('Writer benchmark', 'bench-writers');
INSERT INTO catalog.product (sku, name) VALUES ('BENCH-WRITERS', 'Benchmark sneaker');
INSERT INTO inventory.stock (product_id, status)
SELECT id, 'sold' FROM catalog.product WHERE sku = 'BENCH-WRITERS';
CREATE TABLE public.bench_last_change (xid xid8);
INSERT INTO public.bench_last_change VALUES (NULL);
CREATE FUNCTION public.bench_hot_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.bench_last_change SET xid = pg_current_xact_id();
    RETURN NULL;
END $$;
CREATE TRIGGER bench_hot_row AFTER INSERT OR UPDATE OR DELETE ON transactions.orders
FOR EACH STATEMENT EXECUTE FUNCTION public.bench_hot_row();
"""

# One order per transaction, on the benchmark's own stock item and platform.
INSERT = """
INSERT INTO transactions.orders (inventory_item_id, platform_id, status, sold_at, gross_sale)
SELECT s.id, p.id, 'completed', now(), 150
FROM (SELECT stock.id FROM inventory.stock
      JOIN catalog.product ON product.id = stock.product_id
      WHERE product.sku = 'BENCH-WRITERS' LIMIT 1) s,
     (SELECT id FROM core.platforms WHERE slug = 'bench-writers') p;
"""

MODES = {
    "off": ("DISABLE", "DISABLE"),
    "on": ("ENABLE", "DISABLE"),
    "hot row": ("DISABLE", "ENABLE"),
}


@dataclass
class WriterFigures:
    """Inserts per second of ``writers`` concurrent writers, per tracking mode."""

    writers: int
    seconds: int
    rounds: int
    runs: dict[str, list[float]]  # mode: inserts/s of each round
    median: dict[str, float]  # mode: median of its rounds
    on_share_of_off: float  # median "on" / median "off"

    @property
    def tracking_cost(self) -> float:
        """What change tracking costs the writers: 1 − on/off."""
        return 1 - self.on_share_of_off


def libpq_dsn(url: str) -> str:
    """A libpq connection URI (for psycopg2 and pgbench) from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def find_pgbench() -> str:
    """pgbench beside the server binaries, else on PATH."""
    try:
        beside_server = find_bindir() / "pgbench"
    except RuntimeError:
        beside_server = None
    if beside_server is not None and beside_server.is_file():
        return str(beside_server)
    on_path = shutil.which("pgbench")
    if on_path is None:
        raise SystemExit("pgbench not found: install the PostgreSQL client programs")
    return on_path


def set_mode(dsn: str, mode: str) -> None:
    ours, hot_row = MODES[mode]
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE transactions.orders {ours} TRIGGER soleflip_analytics_track_changes; "
            f"ALTER TABLE transactions.orders {hot_row} TRIGGER bench_hot_row"
        )
    connection.close()


def inserts_per_second(pgbench: str, dsn: str, script: Path, writers: int,
                       seconds: int) -> float:
    """pgbench's transactions per second: one insert each."""
    output = subprocess.run(
        [pgbench, "--no-vacuum", f"--client={writers}", "--jobs=2", f"--time={seconds}",
         f"--file={script}", dsn],
        check=True, capture_output=True, text=True,
    ).stdout
    return float(re.search(r"^tps = ([0-9.]+)", output, re.MULTILINE).group(1))


def measure_writers(
    url: str,
    writers: int = 8,
    seconds: int = 5,
    rounds: int = 3,
    modes: tuple[str, ...] = ("off", "on"),
) -> WriterFigures:
    """Insert throughput of ``writers`` pgbench clients into orders, per mode.

    The modes alternate round by round; "off" and "on" are always measured.
    Change tracking is left on afterwards.
    """
    modes = tuple(dict.fromkeys(("off", "on", *modes)))
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValueError(f"unknown modes: {sorted(unknown)}")
    pgbench = find_pgbench()
    dsn = libpq_dsn(url)
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(SETUP)
    connection.close()
    runs: dict[str, list[float]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "insert_order.sql"
        script.write_text(INSERT)
        try:
            for _ in range(rounds):
                for mode in modes:
                    set_mode(dsn, mode)
                    runs[mode].append(inserts_per_second(pgbench, dsn, script, writers, seconds))
        finally:
            set_mode(dsn, "on")
    median = {mode: statistics.median(figures) for mode, figures in runs.items()}
    return WriterFigures(
        writers=writers,
        seconds=seconds,
        rounds=rounds,
        runs=runs,
        median=median,
        on_share_of_off=median["on"] / median["off"],
    )


def report_writers(figures: WriterFigures) -> list[str]:
    """One line per mode: median inserts/s, share of "off", each round's figure."""
    lines = []
    for mode, runs in figures.runs.items():
        median = figures.median[mode]
        lines.append(
            f"tracking {mode:8} {median:9.0f} inserts/s  ({median / figures.median['off']:6.1%}"
            f" of off)  runs: {', '.join(f'{run:.0f}' for run in runs)}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    durable = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    with LocalServer(database="bench", settings=durable) as server:
        create_source_contract(server.url)
        upgrade(server.url)
        print(f"{server.version()}; {args.writers} writers, {args.seconds} s per run, "
              f"{args.rounds} rounds")
        figures = measure_writers(server.url, args.writers, args.seconds, args.rounds,
                                  modes=tuple(MODES))
        print("\n".join(report_writers(figures)))


if __name__ == "__main__":
    main()
