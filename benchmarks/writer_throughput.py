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
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import psycopg2

from soleflip_analytics import upgrade
from soleflip_analytics.local_server import LocalServer
from soleflip_analytics.seed import create_source_contract

SETUP = """
INSERT INTO core.platforms (name, slug) VALUES ('StockX', 'stockx');
INSERT INTO catalog.product (sku, name) VALUES ('BENCH-1', 'Benchmark sneaker');
INSERT INTO inventory.stock (product_id, status)
SELECT id, 'sold' FROM catalog.product;
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

INSERT = """
INSERT INTO transactions.orders (inventory_item_id, platform_id, status, sold_at, gross_sale)
SELECT s.id, p.id, 'completed', now(), 150
FROM (SELECT id FROM inventory.stock LIMIT 1) s, (SELECT id FROM core.platforms LIMIT 1) p;
"""

MODES = {
    "off": ("DISABLE", "DISABLE"),
    "on": ("ENABLE", "DISABLE"),
    "hot row": ("DISABLE", "ENABLE"),
}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    durable = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise SystemExit("pgbench not found: install the PostgreSQL client programs")
    with tempfile.TemporaryDirectory() as scratch, LocalServer(
        database="bench", settings=durable
    ) as server:
        script = Path(scratch) / "insert_order.sql"
        script.write_text(INSERT)
        create_source_contract(server.url)
        upgrade(server.url)
        dsn = server.url
        with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
            cursor.execute(SETUP)
        connection.close()
        print(f"{server.version()}; {args.writers} writers, {args.seconds} s per run, "
              f"{args.rounds} rounds")
        figures: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                set_mode(dsn, mode)
                figures[mode].append(
                    inserts_per_second(pgbench, dsn, script, args.writers, args.seconds)
                )
        baseline = statistics.median(figures["off"])
        for mode, runs in figures.items():
            median = statistics.median(runs)
            print(f"tracking {mode:8} {median:9.0f} inserts/s  ({median / baseline:6.1%} of off)"
                  f"  runs: {', '.join(f'{run:.0f}' for run in runs)}")


if __name__ == "__main__":
    main()
