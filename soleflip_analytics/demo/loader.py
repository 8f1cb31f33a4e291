"""Synthetic sneaker-resale data for the source tables: demos, staging, load tests.

    seed(url, orders=50_000, seed=1, progress=callback) -> SeedResult

Loads platforms, brands (with parent brands), categories, products, suppliers,
stock items and exactly ``orders`` orders in one transaction, the two big tables
with COPY. The same ``seed`` and ``until`` give the same data. Reference rows
that already exist (same platform slug, brand or category name, product SKU,
supplier name) are reused, so seeding a database twice adds stock and orders.

Every fact of the source contract shows up, whatever the size: a cancelled and
a returned order followed by a completed one on the same item, two completed
orders on one item, a free replacement (gross_sale 0), products without brand
or category, stock without supplier, purchase date or purchase price, orders
without city or country, unsold stock of every age, pending orders and unpaid
payouts.
"""

from __future__ import annotations

import io
import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection

from soleflip_analytics.contract import check_source_contract
from soleflip_analytics.demo.generator import Generator
from soleflip_analytics.paths import sql_dir

Progress = Callable[[int, int], None]
"""Called as ``progress(orders_loaded, orders_total)`` while the data loads."""


@dataclass(frozen=True)
class SeedResult:
    """What one seed() loaded; reference rows counted whether new or reused."""

    orders: int
    stock_items: int
    products: int
    brands: int
    suppliers: int
    platforms: int
    categories: int
    seconds: float

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0


def create_source_contract(url: str) -> None:
    """Create the shop tables of the source contract in an empty database."""
    engine = create_engine(_psycopg2_url(url))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql((sql_dir() / "source_contract.sql").read_text())
    finally:
        engine.dispose()


def seed(
    url: str,
    orders: int = 50_000,
    *,
    seed: int = 1,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> SeedResult:
    """Load synthetic data into the source tables of the database at ``url``.

    Orders fall in the two years before ``until`` (default: now; a naive time
    is UTC), which is rounded down to the hour. Raises SourceContractError when
    the shop tables are missing.
    """
    if orders < 0:
        raise ValueError("orders must be 0 or more")
    started = time.monotonic()
    until = until or datetime.now(timezone.utc)
    if until.tzinfo is None:
        until = until.replace(tzinfo=timezone.utc)
    until = until.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    engine = create_engine(_psycopg2_url(url))
    try:
        with engine.begin() as connection:
            check_source_contract(connection)
            existing_items = connection.execute(
                text("SELECT count(*) FROM inventory.stock")
            ).scalar_one()
            generator = Generator(seed, until, existing_items)
            reference = generator.reference_data()
            generator.use_ids(_merge_reference_data(connection, reference))
            _copy_items(connection, generator, orders, progress)
            connection.exec_driver_sql("ANALYZE inventory.stock")
            connection.exec_driver_sql("ANALYZE transactions.orders")
    finally:
        engine.dispose()
    return SeedResult(
        orders=orders,
        stock_items=generator.stock_items,
        products=len(reference["catalog.product"]),
        brands=len(reference["catalog.brand"]),
        suppliers=len(reference["core.suppliers"]),
        platforms=len(reference["core.platforms"]),
        categories=len(reference["catalog.category"]),
        seconds=time.monotonic() - started,
    )


def _psycopg2_url(url: str) -> str:
    # COPY goes through psycopg2's copy_expert, whatever driver the URL names.
    return make_url(url).set(drivername="postgresql+psycopg2").render_as_string(
        hide_password=False
    )


# Reference tables: natural key, and the columns with their types for json_to_recordset.
_REFERENCE_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "core.platforms": ("slug", {"id": "uuid", "name": "text", "slug": "text",
                                "created_at": "timestamptz"}),
    "catalog.category": ("name", {"id": "uuid", "name": "text"}),
    "catalog.brand": ("name", {"id": "uuid", "name": "text", "parent_brand_id": "uuid",
                               "segment": "text", "price_tier": "text",
                               "target_demographic": "text", "is_collaboration": "boolean"}),
    "catalog.product": ("sku", {"id": "uuid", "sku": "text", "name": "text",
                                "brand_id": "uuid", "category_id": "uuid",
                                "retail_price": "numeric"}),
    "core.suppliers": ("business_name", {"id": "uuid", "business_name": "text",
                                         "contact_email": "text", "phone": "text",
                                         "country": "text", "rating": "numeric",
                                         "created_at": "timestamptz"}),
}


def _merge(connection: Connection, table: str, rows: Sequence[dict]) -> dict[str, str]:
    """Insert the rows whose natural key is new; return natural key -> id for all rows."""
    key, columns = _REFERENCE_TABLES[table]
    quote = connection.dialect.identifier_preparer.quote
    target = ".".join(quote(part) for part in table.split("."))
    names = ", ".join(quote(column) for column in columns)
    record = ", ".join(f"{quote(column)} {kind}" for column, kind in columns.items())
    connection.execute(
        text(
            f"INSERT INTO {target} ({names}) SELECT {names} "
            f"FROM json_to_recordset(CAST(:rows AS json)) AS r({record}) "
            f"WHERE NOT EXISTS (SELECT FROM {target} t WHERE t.{quote(key)} = r.{quote(key)})"
        ),
        {"rows": json.dumps(list(rows))},
    )
    found = connection.execute(
        text(f"SELECT {quote(key)}, CAST(id AS text) FROM {target} "
             f"WHERE {quote(key)} = ANY(:keys)"),
        {"keys": [row[key] for row in rows]},
    )
    return dict(found.all())


def _merge_reference_data(
    connection: Connection, reference: dict[str, list[dict]]
) -> dict[str, dict[str, str]]:
    """Merge the reference rows; rows refer to each other by natural key until here."""
    ids = {table: _merge(connection, table, reference[table])
           for table in ("core.platforms", "catalog.category", "core.suppliers")}
    brands: dict[str, str] = {}
    for row in reference["catalog.brand"]:  # parents come before their children
        brands |= _merge(connection, "catalog.brand",
                         [{**row, "parent_brand_id": brands.get(row["parent"])}])
    ids["catalog.brand"] = brands
    products = [{**row, "brand_id": brands.get(row["brand"]),
                 "category_id": ids["catalog.category"].get(row["category"])}
                for row in reference["catalog.product"]]
    ids["catalog.product"] = _merge(connection, "catalog.product", products)
    return ids


_STOCK_COLUMNS = ("id", "product_id", "supplier_id", "size", "color", "condition", "status",
                  "purchase_price", "gross_purchase_price", "vat_amount", "purchase_date",
                  "created_at", "updated_at")
_ORDER_COLUMNS = ("id", "inventory_item_id", "platform_id", "external_id", "status", "sold_at",
                  "gross_sale", "platform_fee", "shipping_cost", "net_proceeds", "net_profit",
                  "roi", "payout_received", "payout_date", "buyer_destination_country",
                  "buyer_destination_city", "created_at", "updated_at")
_COPY_STOCK = f"COPY inventory.stock ({', '.join(_STOCK_COLUMNS)}) FROM STDIN"
_COPY_ORDERS = f"COPY transactions.orders ({', '.join(_ORDER_COLUMNS)}) FROM STDIN"


def _copy_items(
    connection: Connection, generator: Generator, orders: int, progress: Progress | None
) -> None:
    """COPY stock and orders, chunk by chunk.

    A second thread runs the COPYs while this one generates the next chunk:
    psycopg2 releases the GIL while the server works, so the two overlap.
    """
    cursor = connection.connection.dbapi_connection.cursor()
    chunks: queue.Queue[tuple[bytes, bytes, int] | None] = queue.Queue(maxsize=2)
    stopped = threading.Event()
    failures: list[BaseException] = []

    def copy_chunks() -> None:
        loaded = 0
        while (chunk := chunks.get()) is not None:
            if stopped.is_set():
                continue
            stock, order_rows, count = chunk
            try:
                cursor.copy_expert(_COPY_STOCK, io.BytesIO(stock), size=1 << 20)
                cursor.copy_expert(_COPY_ORDERS, io.BytesIO(order_rows), size=1 << 20)
            except BaseException as error:  # handed over to the generating thread
                failures.append(error)
                stopped.set()
                continue
            loaded += count
            if progress is not None:
                progress(loaded, orders)

    writer = threading.Thread(target=copy_chunks, name="seed-copy", daemon=True)
    writer.start()
    try:
        for chunk in generator.chunks(orders):
            if stopped.is_set():
                break
            chunks.put(chunk)
    except BaseException:
        stopped.set()
        raise
    finally:
        chunks.put(None)
        writer.join()
    if failures:
        raise failures[0]
