"""Each view's SQL at head against its previous version: the same rows, and what each costs.

    python3 benchmarks/compare_versions.py --orders 1000000
    python3 benchmarks/compare_versions.py --database-url URL   # a shop migrated to head

For every view of the package with more than one ``vN.sql``, the newest two
versions are built from their files in one transaction (so ``now()`` is the
same for both), each in a scratch schema, reading the views at head. Their
rows are compared as text (which catches numeric scales too), in both
directions with ``EXCEPT ALL``, and their column names and types. Everything
is rolled back. With ``--orders`` the shop is a throwaway server with the
refresh benchmark's settings, seeded and migrated to head first.

Prints per view the rows, the seconds of each build (its indexes included) and
the rows found in only one of them; exits with 1 if any view differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from refresh_benchmark import SETTINGS  # beside this script, on sys.path when run as one
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from soleflip_analytics import upgrade
from soleflip_analytics.demo import create_source_contract, seed
from soleflip_analytics.demo.server import LocalServer
from soleflip_analytics.paths import sql_dir
from soleflip_analytics.view_migrations import run_sql_file

SCHEMAS = ("compare_previous", "compare_head")
PACKAGE_VIEWS = sql_dir() / "views"


def versions(views: Path) -> dict[str, tuple[int, int]]:
    """Each view of the directory with two versions or more: (previous, newest)."""
    found = {}
    for directory in sorted(views.iterdir()):
        numbers = sorted(int(path.stem[1:]) for path in directory.glob("v*.sql"))
        if len(numbers) > 1:
            found[directory.name] = (numbers[-2], numbers[-1])
    return found


def columns(connection: Connection, schema: str, view: str) -> list[tuple[str, str]]:
    return [tuple(row) for row in connection.execute(text(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = (quote_ident(:schema) || '.' || quote_ident(:view))::regclass "
        "AND a.attnum > 0 ORDER BY a.attnum"
    ), {"schema": schema, "view": view})]


def only_in(connection: Connection, view: str, first: str, second: str) -> int:
    return connection.execute(text(
        f'SELECT count(*) FROM (SELECT t::text FROM {first}."{view}" t '
        f'EXCEPT ALL SELECT t::text FROM {second}."{view}" t) d'
    )).scalar_one()


def compare(url: str, views: Path = PACKAGE_VIEWS) -> bool:
    """Print the comparison of every versioned view; True if all are the same."""
    engine = create_engine(url)
    same = True
    try:
        with engine.connect() as connection, connection.begin():
            for schema in SCHEMAS:
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            print(f"{'view':32} {'versions':>9} {'rows':>10} {'s, previous':>12} "
                  f"{'s, head':>8}  differs")
            for view, (previous, newest) in versions(views).items():
                seconds = []
                for schema, version in zip(SCHEMAS, (previous, newest), strict=True):
                    started = time.perf_counter()
                    run_sql_file(connection, views / view / f"v{version}.sql",
                                 search_path=f"{schema}, pg_catalog")
                    seconds.append(time.perf_counter() - started)
                rows = connection.execute(
                    text(f'SELECT count(*) FROM {SCHEMAS[1]}."{view}"')
                ).scalar_one()
                differences = [
                    f"{only_in(connection, view, *SCHEMAS)} rows only in v{previous}",
                    f"{only_in(connection, view, *reversed(SCHEMAS))} rows only in v{newest}",
                ]
                if columns(connection, SCHEMAS[0], view) != columns(connection, SCHEMAS[1], view):
                    differences.append("columns differ")
                differs = [d for d in differences if not d.startswith("0 rows")]
                same = same and not differs
                print(f"{view:32} {f'v{previous}, v{newest}':>9} {rows:>10,} "
                      f"{seconds[0]:>12.2f} {seconds[1]:>8.2f}  {'; '.join(differs) or 'no'}")
            connection.rollback()
    finally:
        engine.dispose()
    return same


@contextmanager
def seeded_server(orders: int) -> Iterator[str]:
    with LocalServer("compare", settings=SETTINGS) as server:
        create_source_contract(server.url)
        seed(server.url, orders=orders, seed=1)
        upgrade(server.url)
        yield server.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--orders", type=int, help="seed a throwaway server with this many")
    source.add_argument("--database-url", help="a shop already migrated to head")
    arguments = parser.parse_args()
    if arguments.database_url:
        sys.exit(0 if compare(arguments.database_url) else 1)
    with seeded_server(arguments.orders) as url:
        sys.exit(0 if compare(url) else 1)


if __name__ == "__main__":
    main()
