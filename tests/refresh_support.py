"""Data and probes shared by the refresh, status and health tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine

T = TypeVar("T")

SEVEN_VIEWS = {
    "metabase_brand_analytics",
    "metabase_customer_geography",
    "metabase_executive_metrics",
    "metabase_inventory_status",
    "metabase_platform_performance",
    "metabase_product_performance",
    "metabase_supplier_performance",
}
# The views the dashboard cards read instead of every row of
# metabase_inventory_status (revision 0014): they read it, and nothing else.
CARD_VIEWS = {
    "bought_items_by_brand",
    "sold_items_by_price_band",
    "sold_items_by_product",
    "unsold_stock_by_product",
    "unsold_stock_items",
    "unsold_stock_summary",
}
ALL_VIEWS = SEVEN_VIEWS | CARD_VIEWS

_REFERENCE_ROWS = """
INSERT INTO core.platforms (name, slug) VALUES ('StockX', 'stockx'), ('GOAT', 'goat')
ON CONFLICT (slug) DO NOTHING;
INSERT INTO catalog.brand (name) VALUES (:brand) ON CONFLICT (name) DO NOTHING;
INSERT INTO catalog.category (name) VALUES ('Sneakers') ON CONFLICT (name) DO NOTHING;
INSERT INTO core.suppliers (business_name)
SELECT 'Kicks Wholesale' WHERE NOT EXISTS (SELECT FROM core.suppliers);
INSERT INTO catalog.product (sku, name, brand_id, category_id)
SELECT :brand || '-' || g, :brand || ' model ' || g, b.id, c.id
FROM generate_series(1, 20) g, catalog.brand b, catalog.category c
WHERE b.name = :brand AND c.name = 'Sneakers'
ON CONFLICT (sku) DO NOTHING;
"""

_SALES = """
WITH products AS (
    SELECT array_agg(p.id ORDER BY p.sku) AS ids FROM catalog.product p
    JOIN catalog.brand b ON b.id = p.brand_id WHERE b.name = :brand
), platforms AS (
    SELECT array_agg(id ORDER BY slug) AS ids FROM core.platforms
), items AS (
    INSERT INTO inventory.stock (product_id, supplier_id, status, purchase_price,
                                 gross_purchase_price, purchase_date)
    SELECT products.ids[1 + g % 20], (SELECT min(id::text)::uuid FROM core.suppliers), 'sold',
           100, 119, now() - interval '400 days'
    FROM generate_series(1, :count) g, products
    RETURNING id
)
INSERT INTO transactions.orders (inventory_item_id, platform_id, status, sold_at, gross_sale,
                                 net_proceeds, net_profit, roi, buyer_destination_country,
                                 buyer_destination_city)
SELECT items.id, platforms.ids[1 + n % 2], 'completed', now() - n * interval '1 minute',
       150, 135, 16, 13.4, 'DE', 'Berlin'
FROM (SELECT id, row_number() OVER () AS n FROM items) items, platforms
"""


def execute(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def add_sales(engine: Engine, count: int, brand: str = "Nike", *, bulk: bool = False) -> None:
    """``count`` new stock items of the brand, each sold once (completed).

    ``bulk`` skips foreign-key checks and change tracking, for big test data.
    """
    with engine.begin() as connection:
        if bulk:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in _REFERENCE_ROWS.split(";"):
            if statement.strip():
                connection.execute(text(statement), {"brand": brand})
        connection.execute(text(_SALES), {"brand": brand, "count": count})


def create_slow_view(engine: Engine, name: str = "slow_order_count", seconds: float = 1.0) -> str:
    """A view of schema analytics whose refresh takes ``seconds``: one row, the order count.

    The delay is read from a table (change-tracked like any source), so that
    creating the view costs no time.
    """
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE public.refresh_delay (seconds float NOT NULL); "
            "INSERT INTO public.refresh_delay VALUES (0)"
        ))
        connection.execute(text(
            f"CREATE MATERIALIZED VIEW analytics.{name} AS "
            "SELECT count(*) AS orders FROM transactions.orders "
            "CROSS JOIN LATERAL pg_sleep((SELECT seconds FROM public.refresh_delay))"
        ))
        connection.execute(text(f"CREATE UNIQUE INDEX ON analytics.{name} (orders)"))
        connection.execute(text("SELECT analytics.track_source_tables()"))
        connection.execute(text("UPDATE public.refresh_delay SET seconds = :s"), {"s": seconds})
    return name


def log_rows(engine: Engine, view: str | None = None) -> list[Any]:
    """The refresh log after the deploy (which logs each view it built as a refresh)."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT * FROM analytics.refresh_log "
                "WHERE view_name = coalesce(:view, view_name) "
                "AND triggered_by <> 'migration' ORDER BY id"
            ),
            {"view": view},
        ).all()


def wait_until(probe: Callable[[], T], timeout: float = 10.0, interval: float = 0.01) -> T:
    """Poll ``probe`` every ``interval`` seconds until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {probe}")
        time.sleep(interval)


def sleeping_backend(engine: Engine) -> int | None:
    """Pid of a session inside pg_sleep (a slow view's refresh at work), if any."""
    return scalar(
        engine,
        "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
        "AND datname = current_database() LIMIT 1",
    )
