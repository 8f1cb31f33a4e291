"""The synthetic data generator: exact counts, every edge case, determinism, reruns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from soleflip_analytics import SourceContractError, upgrade
from soleflip_analytics.demo import create_source_contract, seed

UNTIL = datetime(2026, 6, 1, tzinfo=timezone.utc)

# Each edge case of the source contract, as a query that counts its occurrences.
EDGE_CASES = {
    "cancelled, then completed on the same item": """
        SELECT count(*) FROM transactions.orders a JOIN transactions.orders b
          ON a.inventory_item_id = b.inventory_item_id AND a.sold_at < b.sold_at
        WHERE a.status = 'cancelled' AND b.status = 'completed'""",
    "returned, then completed on the same item": """
        SELECT count(*) FROM transactions.orders a JOIN transactions.orders b
          ON a.inventory_item_id = b.inventory_item_id AND a.sold_at < b.sold_at
        WHERE a.status = 'returned' AND b.status = 'completed'""",
    "two completed orders on one item": """
        SELECT count(*) FROM (SELECT inventory_item_id FROM transactions.orders
                              WHERE status = 'completed' GROUP BY 1 HAVING count(*) > 1) twice""",
    "completed order with gross_sale 0": """
        SELECT count(*) FROM transactions.orders WHERE status = 'completed' AND gross_sale = 0""",
    "pending order": "SELECT count(*) FROM transactions.orders WHERE status = 'pending'",
    "completed order not paid out yet": """
        SELECT count(*) FROM transactions.orders
        WHERE status = 'completed' AND NOT payout_received AND payout_date IS NULL""",
    "sold product without brand": """
        SELECT count(*) FROM transactions.orders o
        JOIN inventory.stock s ON s.id = o.inventory_item_id
        JOIN catalog.product p ON p.id = s.product_id
        WHERE o.status = 'completed' AND p.brand_id IS NULL""",
    "sold product without category": """
        SELECT count(*) FROM transactions.orders o
        JOIN inventory.stock s ON s.id = o.inventory_item_id
        JOIN catalog.product p ON p.id = s.product_id
        WHERE o.status = 'completed' AND p.category_id IS NULL""",
    "sold item without supplier": """
        SELECT count(*) FROM transactions.orders o
        JOIN inventory.stock s ON s.id = o.inventory_item_id
        WHERE o.status = 'completed' AND s.supplier_id IS NULL""",
    "sold item without purchase date": """
        SELECT count(*) FROM transactions.orders o
        JOIN inventory.stock s ON s.id = o.inventory_item_id
        WHERE o.status = 'completed' AND s.purchase_date IS NULL""",
    "sold item without purchase price (so no profit, no ROI)": """
        SELECT count(*) FROM transactions.orders o
        JOIN inventory.stock s ON s.id = o.inventory_item_id
        WHERE o.status = 'completed' AND s.gross_purchase_price IS NULL
          AND o.net_profit IS NULL AND o.roi IS NULL""",
    "completed order without city": """
        SELECT count(*) FROM transactions.orders WHERE status = 'completed'
          AND buyer_destination_country IS NOT NULL AND buyer_destination_city IS NULL""",
    "completed order without country": """
        SELECT count(*) FROM transactions.orders WHERE status = 'completed'
          AND buyer_destination_country IS NULL""",
    "unsold item without purchase date": """
        SELECT count(*) FROM inventory.stock s WHERE s.purchase_date IS NULL
          AND NOT EXISTS (SELECT FROM transactions.orders o WHERE o.inventory_item_id = s.id)""",
    "unsold item older than 180 days": """
        SELECT count(*) FROM inventory.stock s
        WHERE s.purchase_date < TIMESTAMPTZ '2026-06-01 00:00+00' - interval '180 days'
          AND NOT EXISTS (SELECT FROM transactions.orders o WHERE o.inventory_item_id = s.id)""",
    "unsold item younger than 30 days": """
        SELECT count(*) FROM inventory.stock s
        WHERE s.purchase_date > TIMESTAMPTZ '2026-06-01 00:00+00' - interval '30 days'
          AND NOT EXISTS (SELECT FROM transactions.orders o WHERE o.inventory_item_id = s.id)""",
    "brand with a parent brand":
        "SELECT count(*) FROM catalog.brand WHERE parent_brand_id IS NOT NULL",
    "supplier without country": "SELECT count(*) FROM core.suppliers WHERE country IS NULL",
}


def _scalar(engine: Engine, sql: str) -> object:
    return _row(engine, sql)[0]


def _row(engine: Engine, sql: str) -> tuple:
    with engine.connect() as connection:
        return tuple(connection.execute(text(sql)).one())


def _fingerprint(engine: Engine) -> tuple[str, ...]:
    """A hash of every row of every source table."""
    tables = ("core.platforms", "core.suppliers", "catalog.brand", "catalog.category",
              "catalog.product", "inventory.stock", "transactions.orders")
    with engine.connect() as connection:
        return tuple(
            connection.execute(
                text(f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t")
            ).scalar_one()
            for table in tables
        )


@pytest.fixture
def small_seed(source_url: str, source_engine: Engine) -> Engine:
    seed(source_url, orders=1000, seed=7, until=UNTIL)
    return source_engine


def test_exactly_the_orders_asked_for_with_more_stock_than_sales(small_seed: Engine) -> None:
    assert _scalar(small_seed, "SELECT count(*) FROM transactions.orders") == 1000
    stock = _scalar(small_seed, "SELECT count(*) FROM inventory.stock")
    assert 1000 < stock < 1300
    platforms = _scalar(small_seed, "SELECT string_agg(name, ',' ORDER BY name COLLATE \"C\") "
                                    "FROM core.platforms")
    assert platforms == "Alias,GOAT,Klekt,Restocks,StockX,eBay"


@pytest.mark.parametrize("case", EDGE_CASES)
def test_every_edge_case_of_the_source_contract_is_present(small_seed: Engine, case: str) -> None:
    assert _scalar(small_seed, EDGE_CASES[case]) > 0, case


def test_the_business_makes_money_most_of_the_time(small_seed: Engine) -> None:
    roi, losses = _row(small_seed, "SELECT avg(roi), avg((net_profit < 0)::int) "
                                    "FROM transactions.orders WHERE status = 'completed'")
    assert 10 < roi < 60
    assert 0 < losses < 0.3


def test_times_fall_in_the_two_years_before_until(small_seed: Engine) -> None:
    first, last = _row(small_seed, "SELECT min(sold_at), max(greatest(sold_at, payout_date)) "
                                    "FROM transactions.orders")
    assert datetime(2024, 6, 1, tzinfo=timezone.utc) <= first
    assert last < UNTIL


def test_the_same_seed_gives_the_same_rows(make_database: Callable[..., str]) -> None:
    fingerprints = []
    for _ in range(2):
        url = make_database()
        seed(url, orders=500, seed=3, until=UNTIL)
        engine = create_engine(url)
        fingerprints.append(_fingerprint(engine))
        engine.dispose()
    assert fingerprints[0] == fingerprints[1]


def test_seeding_again_adds_orders_and_reuses_reference_rows(
    source_url: str, small_seed: Engine
) -> None:
    seed(source_url, orders=300, seed=7, until=UNTIL)
    assert _scalar(small_seed, "SELECT count(*) FROM transactions.orders") == 1300
    assert _scalar(small_seed, "SELECT count(*) FROM core.platforms") == 6
    assert _scalar(small_seed, "SELECT count(*) FROM catalog.brand") == 15


def test_zero_orders_loads_only_reference_data(source_url: str, source_engine: Engine) -> None:
    result = seed(source_url, orders=0, until=UNTIL)
    assert result.orders == 0
    assert result.stock_items == 0
    assert _scalar(source_engine, "SELECT count(*) FROM transactions.orders") == 0
    assert _scalar(source_engine, "SELECT count(*) FROM catalog.product") == result.products


def test_progress_reaches_the_total(source_url: str) -> None:
    reports: list[tuple[int, int]] = []
    seed(source_url, orders=45_000, until=UNTIL,
         progress=lambda done, total: reports.append((done, total)))
    assert len(reports) >= 2
    assert reports[-1] == (45_000, 45_000)
    assert [done for done, _total in reports] == sorted(done for done, _total in reports)


def test_a_database_without_the_contract_is_refused(make_database: Callable[..., str]) -> None:
    with pytest.raises(SourceContractError, match="missing table transactions.orders"):
        seed(make_database(contract=False), orders=10)


def test_the_views_build_on_seeded_data(source_url: str, small_seed: Engine) -> None:
    upgrade(source_url)
    with small_seed.connect() as connection:
        rows = dict(connection.execute(text(
            "SELECT 'platforms', count(*) FROM analytics.metabase_platform_performance "
            "UNION ALL SELECT 'stock', count(*) FROM analytics.metabase_inventory_status "
            "UNION ALL SELECT 'geography', count(*) FROM analytics.metabase_customer_geography"
        )).all())
    assert rows["platforms"] == 6
    assert rows["stock"] == _scalar(small_seed, "SELECT count(*) FROM inventory.stock")
    assert rows["geography"] > 20


def test_create_source_contract_makes_an_empty_database_seedable(
    make_database: Callable[..., str],
) -> None:
    url = make_database(contract=False)
    create_source_contract(url)
    assert seed(url, orders=50, until=UNTIL).orders == 50
