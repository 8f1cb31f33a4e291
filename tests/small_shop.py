"""A small shop to run the dashboards on: its rows, and a database holding them.

Three platforms, four products (one without brand or category), sales this
month, earlier this year and over a year ago, a cancelled order, and unsold
stock of every age band. Times are relative to the moment of loading.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from soleflip_analytics import refresh_views, upgrade
from soleflip_analytics.paths import sql_dir

SHOP = """
INSERT INTO core.platforms (id, name, slug) VALUES
  ('00000000-0000-0000-0000-000000000001', 'StockX', 'stockx'),
  ('00000000-0000-0000-0000-000000000002', 'GOAT', 'goat'),
  ('00000000-0000-0000-0000-000000000003', 'eBay', 'ebay');
INSERT INTO core.suppliers (id, business_name, country, rating) VALUES
  ('00000000-0000-0000-0001-000000000001', 'Sneaker Source GmbH', 'DE', 4.5),
  ('00000000-0000-0000-0001-000000000002', 'Kicks Wholesale', 'US', 3.8);
INSERT INTO catalog.brand (id, name, parent_brand_id, segment, price_tier) VALUES
  ('00000000-0000-0000-0002-000000000001', 'Nike', NULL, 'Sportswear', 'Mid'),
  ('00000000-0000-0000-0002-000000000002', 'Jordan',
   '00000000-0000-0000-0002-000000000001', 'Sportswear', 'Premium'),
  ('00000000-0000-0000-0002-000000000003', 'adidas', NULL, 'Sportswear', 'Mid');
INSERT INTO catalog.category (id, name) VALUES
  ('00000000-0000-0000-0003-000000000001', 'Lifestyle'),
  ('00000000-0000-0000-0003-000000000002', 'Basketball');
INSERT INTO catalog.product (id, sku, name, brand_id, category_id) VALUES
  ('00000000-0000-0000-0004-000000000001', 'CW2288-111', 'Air Force 1',
   '00000000-0000-0000-0002-000000000001', '00000000-0000-0000-0003-000000000001'),
  ('00000000-0000-0000-0004-000000000002', '555088-134', 'Air Jordan 1',
   '00000000-0000-0000-0002-000000000002', '00000000-0000-0000-0003-000000000002'),
  ('00000000-0000-0000-0004-000000000003', 'B75806', 'Samba',
   '00000000-0000-0000-0002-000000000003', '00000000-0000-0000-0003-000000000001'),
  ('00000000-0000-0000-0004-000000000004', 'MYSTERY-1', 'Mystery Box', NULL, NULL);
INSERT INTO inventory.stock
  (id, product_id, supplier_id, size, status, purchase_price, gross_purchase_price,
   purchase_date)
SELECT ('00000000-0000-0000-0005-' || lpad(n::text, 12, '0'))::uuid,
       ('00000000-0000-0000-0004-' || lpad(product::text, 12, '0'))::uuid,
       ('00000000-0000-0000-0001-' || lpad(supplier::text, 12, '0'))::uuid,
       '42', status, price, round(price * 1.19, 2),
       now() - make_interval(days => age) - interval '12 hours'
FROM (VALUES (1, 1, 1, 'sold', 100.00, 400), (2, 1, 1, 'sold', 110.00, 60),
             (3, 2, 2, 'sold', 200.00, 100), (4, 2, 2, 'sold', 210.00, 10),
             (5, 3, 1, 'in_stock', 80.00, 200), (6, 3, 2, 'listed', 85.00, 120),
             (8, 1, 2, 'in_stock', 95.00, 45), (9, 3, 1, 'in_stock', 90.00, 5),
             (10, 2, 1, 'listed', 190.00, 150), (11, 4, 1, 'sold', 50.00, 60))
     AS items (n, product, supplier, status, price, age);
INSERT INTO inventory.stock (id, product_id, status)
VALUES ('00000000-0000-0000-0005-000000000007', '00000000-0000-0000-0004-000000000004',
        'in_stock');
INSERT INTO transactions.orders
  (inventory_item_id, platform_id, status, sold_at, gross_sale, platform_fee, shipping_cost,
   net_proceeds, net_profit, roi, payout_received, payout_date,
   buyer_destination_country, buyer_destination_city)
SELECT ('00000000-0000-0000-0005-' || lpad(item::text, 12, '0'))::uuid,
       ('00000000-0000-0000-0000-' || lpad(platform::text, 12, '0'))::uuid,
       status, now() - ago::interval, gross, fee, shipping, gross - fee - shipping,
       gross - fee - shipping - cost, round((gross - fee - shipping - cost) / cost * 100, 4),
       payout_days IS NOT NULL, now() - ago::interval + make_interval(days => payout_days),
       country, city
FROM (VALUES
  (1, 1, 'completed', '380 days', 150.00, 14.25, 10.00, 119.00, 3, 'DE', 'Berlin'),
  (2, 2, 'completed', '1 second', 180.00, 17.10, 0.00, 130.90, NULL, 'US', 'New York'),
  (3, 3, 'completed', '40 days', 320.00, 25.60, 12.00, 238.00, 2, 'FR', 'Paris'),
  (4, 1, 'completed', '1 second', 350.00, 33.25, 10.00, 249.90, NULL, 'DE', NULL),
  (10, 1, 'cancelled', '20 days', 250.00, 23.75, 0.00, 226.10, NULL, 'DE', 'Munich'),
  (11, 3, 'completed', '45 days', 90.00, 7.20, 5.00, 59.50, 1, NULL, NULL))
  AS sales (item, platform, status, ago, gross, fee, shipping, cost, payout_days, country, city);
"""


@contextmanager
def small_shop(pg_server: PostgreSQLExecutor, name: str) -> Iterator[Engine]:
    """A new database: contract, migrations, the small shop, every view refreshed."""
    janitor = DatabaseJanitor(
        user=pg_server.user,
        host=pg_server.host,
        port=pg_server.port,
        dbname=f"{name}_{os.getpid()}",
    )
    janitor.init()
    janitor.load(sql_dir() / "source_contract.sql")
    url = f"postgresql://{pg_server.user}@{pg_server.host}:{pg_server.port}/{janitor.dbname}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(SHOP)
        failed = [result for result in refresh_views(engine) if not result.ok]
        assert not failed, failed
        yield engine
    finally:
        engine.dispose()
        janitor.drop()
