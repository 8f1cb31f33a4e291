"""The cards that read the card views of revision 0014 return what they returned before.

Each card's former SQL is kept below (ORIGINAL_SQL, the oracle): it read every
stock item of metabase_inventory_status, or joined metabase_executive_metrics
month by month. On the edge-case shop (tests/edge_case_data.py) plus seeded
orders, every card must return exactly the oracle's columns and rows, in the
same order, with the same types and numeric scales, for each filter combination
below: periods starting and ending mid-month and on month boundaries, within one
month, across the daylight saving changes and the turn of the year, reversed;
brands, suppliers and stock categories in mixed case, unknown ones, none. The
list cards now stop at 2,000 rows (the data here has fewer) and break ties by
inventory_id, so their rows are compared as a multiset in the oracle's order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import refresh_support
from edge_case_data import build_dataset, insert
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from soleflip_analytics import refresh_views, upgrade
from soleflip_analytics.dashboards.model import Card
from soleflip_analytics.dashboards.payloads import template_tags
from soleflip_analytics.dashboards.sql_template import render
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.demo import seed
from soleflip_analytics.paths import sql_dir

CARD_VIEWS = sorted(refresh_support.CARD_VIEWS)
CARDS = {card.name: card for dashboard in DASHBOARDS for card in dashboard.cards}
LIST_CARDS = {"Slow-moving items"}

# (Start date, End date) in the business calendar. The edge-case sales are in 2024
# (DST changes on 2024-03-31 and 2024-10-27, sales just before midnight UTC that
# fall on the next Berlin day, the 2024/2025 turn of the year); the seeded ones in
# the two years up to SEEDED_UNTIL.
PERIODS = [
    (None, None),
    ("2024-03-15", None),
    (None, "2024-10-27"),
    (None, "2025-03-31"),
    ("2024-01-01", "2024-12-31"),
    ("2024-04-01", "2024-04-01"),
    ("2024-03-31", "2024-03-31"),
    ("2024-03-31", "2024-04-30"),
    ("2024-03-01", "2024-04-01"),
    ("2024-10-27", "2024-10-28"),
    ("2024-09-30", "2024-10-01"),
    ("2024-02-29", "2024-03-01"),
    ("2024-06-10", "2024-06-20"),
    ("2024-07-01", "2024-06-30"),
    ("2024-12-31", "2025-01-01"),
    ("2024-05-02", "2025-02-27"),
    ("2025-02-01", "2025-02-28"),
    ("2023-06-15", "2025-06-14"),
]
BRANDS = [None, "nike", "ASICS", "jordan", "No brand"]
SUPPLIERS = [None, "sneaker source gmbh", "OUTLET STOCK LTD", "Kicks Wholesale", "Nobody GmbH"]
STOCK_CATEGORIES = [
    None, "Fast Moving", "normal", "SLOW MOVING", "Dead Stock", "unknown", "Sold", "Other",
]
SEEDED_UNTIL = datetime(2025, 6, 30, 12, tzinfo=timezone.utc)
SEEDED_ORDERS = 1500


ORIGINAL_SQL = {
    'Revenue this month': """\
WITH period AS (
    SELECT coalesce([[CAST({{start_date}} AS date),]]
                    (date_trunc('month', CAST(coalesce([[CAST({{end_date}} AS date),]]
        clock.today) AS timestamp))
                     - interval '0 months')::date) AS first_day,
           coalesce([[CAST({{end_date}} AS date),]] DATE 'infinity') AS last_day,
           clock.today,
           clock.zone
    FROM (SELECT business_time_zone AS zone,
                 (now() AT TIME ZONE business_time_zone)::date AS today
          FROM analytics.settings) AS clock
)
SELECT coalesce(sum(e.total_revenue), 0) AS revenue
FROM analytics.metabase_executive_metrics e
CROSS JOIN period p
WHERE e.sale_date BETWEEN p.first_day AND p.last_day""",
    'Profit this month': """\
WITH period AS (
    SELECT coalesce([[CAST({{start_date}} AS date),]]
                    (date_trunc('month', CAST(coalesce([[CAST({{end_date}} AS date),]]
        clock.today) AS timestamp))
                     - interval '0 months')::date) AS first_day,
           coalesce([[CAST({{end_date}} AS date),]] DATE 'infinity') AS last_day,
           clock.today,
           clock.zone
    FROM (SELECT business_time_zone AS zone,
                 (now() AT TIME ZONE business_time_zone)::date AS today
          FROM analytics.settings) AS clock
)
SELECT coalesce(sum(e.total_profit), 0) AS profit
FROM analytics.metabase_executive_metrics e
CROSS JOIN period p
WHERE e.sale_date BETWEEN p.first_day AND p.last_day""",
    'Average ROI this month': """\
WITH period AS (
    SELECT coalesce([[CAST({{start_date}} AS date),]]
                    (date_trunc('month', CAST(coalesce([[CAST({{end_date}} AS date),]]
        clock.today) AS timestamp))
                     - interval '0 months')::date) AS first_day,
           coalesce([[CAST({{end_date}} AS date),]] DATE 'infinity') AS last_day,
           clock.today,
           clock.zone
    FROM (SELECT business_time_zone AS zone,
                 (now() AT TIME ZONE business_time_zone)::date AS today
          FROM analytics.settings) AS clock
)
SELECT round(sum(e.avg_roi * e.total_orders) / nullif(sum(e.total_orders) FILTER (WHERE
        e.avg_roi IS NOT NULL), 0), 2) AS avg_roi
FROM analytics.metabase_executive_metrics e
CROSS JOIN period p
WHERE e.sale_date BETWEEN p.first_day AND p.last_day""",
    'Orders this month': """\
WITH period AS (
    SELECT coalesce([[CAST({{start_date}} AS date),]]
                    (date_trunc('month', CAST(coalesce([[CAST({{end_date}} AS date),]]
        clock.today) AS timestamp))
                     - interval '0 months')::date) AS first_day,
           coalesce([[CAST({{end_date}} AS date),]] DATE 'infinity') AS last_day,
           clock.today,
           clock.zone
    FROM (SELECT business_time_zone AS zone,
                 (now() AT TIME ZONE business_time_zone)::date AS today
          FROM analytics.settings) AS clock
)
SELECT coalesce(sum(e.total_orders), 0) AS orders
FROM analytics.metabase_executive_metrics e
CROSS JOIN period p
WHERE e.sale_date BETWEEN p.first_day AND p.last_day""",
    'Revenue trend by month': """\
WITH period AS (
    SELECT coalesce([[CAST({{start_date}} AS date),]]
                    (date_trunc('month', CAST(coalesce([[CAST({{end_date}} AS date),]]
        clock.today) AS timestamp))
                     - interval '11 months')::date) AS first_day,
           coalesce([[CAST({{end_date}} AS date),]] DATE 'infinity') AS last_day,
           clock.today,
           clock.zone
    FROM (SELECT business_time_zone AS zone,
                 (now() AT TIME ZONE business_time_zone)::date AS today
          FROM analytics.settings) AS clock
),
months AS (
    SELECT month::date AS sale_month
    FROM period p,
         generate_series(
             date_trunc('month', CAST(greatest(p.first_day,
                 (SELECT min(sale_date) FROM analytics.metabase_executive_metrics)) AS
        timestamp)),
             date_trunc('month', CAST(least(p.last_day, p.today) AS timestamp)),
             interval '1 month') AS month
)
SELECT m.sale_month,
       coalesce(sum(e.total_revenue), 0) AS revenue,
       coalesce(sum(e.total_profit), 0) AS profit
FROM months m
CROSS JOIN period p
LEFT JOIN analytics.metabase_executive_metrics e
       ON e.sale_month = m.sale_month
      AND e.sale_date BETWEEN p.first_day AND p.last_day
GROUP BY m.sale_month
ORDER BY m.sale_month""",
    'Revenue split by platform': """\
WITH period AS (
    SELECT coalesce([[CAST({{start_date}} AS date),]]
                    (date_trunc('month', CAST(coalesce([[CAST({{end_date}} AS date),]]
        clock.today) AS timestamp))
                     - interval '11 months')::date) AS first_day,
           coalesce([[CAST({{end_date}} AS date),]] DATE 'infinity') AS last_day,
           clock.today,
           clock.zone
    FROM (SELECT business_time_zone AS zone,
                 (now() AT TIME ZONE business_time_zone)::date AS today
          FROM analytics.settings) AS clock
)
SELECT e.platform_name,
       sum(e.total_revenue) AS revenue,
       sum(e.total_orders) AS orders
FROM analytics.metabase_executive_metrics e
CROSS JOIN period p
WHERE e.sale_date BETWEEN p.first_day AND p.last_day
GROUP BY e.platform_id, e.platform_name
ORDER BY revenue DESC, e.platform_name""",
    'Top 10 products by revenue': """\
WITH period AS (
    SELECT coalesce([[CAST({{start_date}} AS date),]]
                    (date_trunc('month', CAST(coalesce([[CAST({{end_date}} AS date),]]
        clock.today) AS timestamp))
                     - interval '11 months')::date) AS first_day,
           coalesce([[CAST({{end_date}} AS date),]] DATE 'infinity') AS last_day,
           clock.today,
           clock.zone
    FROM (SELECT business_time_zone AS zone,
                 (now() AT TIME ZONE business_time_zone)::date AS today
          FROM analytics.settings) AS clock
)
SELECT i.product_name,
       i.sku,
       i.brand_name,
       sum(i.times_sold) AS units_sold,
       sum(i.total_revenue) AS revenue,
       sum(i.total_profit) AS profit
FROM analytics.metabase_inventory_status i
CROSS JOIN period p
WHERE i.times_sold > 0
  AND (i.last_sold_at AT TIME ZONE p.zone)::date BETWEEN p.first_day AND p.last_day
GROUP BY i.product_id, i.product_name, i.sku, i.brand_name
ORDER BY revenue DESC, i.product_name
LIMIT 10""",
    'Best sellers by revenue': """\
SELECT i.product_name,
       sum(i.total_revenue) AS revenue
FROM analytics.metabase_inventory_status i
WHERE i.times_sold > 0
[[AND (i.last_sold_at AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        >= CAST({{start_date}} AS date)]]
[[AND (i.last_sold_at AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        <= CAST({{end_date}} AS date)]]
[[AND lower(i.brand_name) = lower({{brand}})]]
GROUP BY i.product_id, i.product_name
ORDER BY revenue DESC, i.product_name
LIMIT 10""",
    'Best sellers by units sold': """\
SELECT i.product_name,
       sum(i.times_sold) AS units_sold
FROM analytics.metabase_inventory_status i
WHERE i.times_sold > 0
[[AND (i.last_sold_at AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        >= CAST({{start_date}} AS date)]]
[[AND (i.last_sold_at AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        <= CAST({{end_date}} AS date)]]
[[AND lower(i.brand_name) = lower({{brand}})]]
GROUP BY i.product_id, i.product_name
ORDER BY units_sold DESC, i.product_name
LIMIT 10""",
    'Category distribution': """\
SELECT coalesce(i.category_name, 'No category') AS category_name,
       sum(i.times_sold) AS units_sold
FROM analytics.metabase_inventory_status i
WHERE i.times_sold > 0
[[AND (i.last_sold_at AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        >= CAST({{start_date}} AS date)]]
[[AND (i.last_sold_at AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        <= CAST({{end_date}} AS date)]]
[[AND lower(i.brand_name) = lower({{brand}})]]
GROUP BY 1
ORDER BY units_sold DESC, category_name""",
    'Price distribution': """\
WITH bands AS (
    SELECT least(floor(i.total_revenue / i.times_sold / 50), 10)::integer AS band,
           sum(i.times_sold) AS units_sold
    FROM analytics.metabase_inventory_status i
WHERE i.times_sold > 0
[[AND (i.last_sold_at AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        >= CAST({{start_date}} AS date)]]
[[AND (i.last_sold_at AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        <= CAST({{end_date}} AS date)]]
[[AND lower(i.brand_name) = lower({{brand}})]]
    GROUP BY 1
)
SELECT CASE WHEN band >= 10 THEN '500+'
            ELSE (band * 50)::text || '-' || (band * 50 + 50)::text END AS price_band,
       units_sold
FROM bands
ORDER BY band""",
    'Sell-through by brand': """\
SELECT coalesce(i.brand_name, 'No brand') AS brand_name,
       count(*) AS items_bought,
       count(*) FILTER (WHERE i.times_sold > 0) AS items_sold,
       round(count(*) FILTER (WHERE i.times_sold > 0) * 100.0 / count(*), 2) AS sell_through_pct
FROM analytics.metabase_inventory_status i
WHERE TRUE
[[AND (i.purchase_date AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        >= CAST({{start_date}} AS date)]]
[[AND (i.purchase_date AT TIME ZONE (SELECT business_time_zone FROM analytics.settings))::date
        <= CAST({{end_date}} AS date)]]
[[AND lower(i.brand_name) = lower({{brand}})]]
GROUP BY 1
ORDER BY sell_through_pct DESC, brand_name""",
    'Current stock value': """\
SELECT coalesce(sum(i.current_inventory_value), 0) AS stock_value
FROM analytics.metabase_inventory_status i
WHERE i.times_sold = 0
[[AND lower(i.stock_category) = lower({{stock_category}})]]
[[AND lower(i.supplier_name) = lower({{supplier}})]]""",
    'Dead stock count': """\
SELECT count(*) AS dead_stock_items
FROM analytics.metabase_inventory_status i
WHERE i.times_sold = 0
  AND i.stock_category = 'Dead Stock'
[[AND lower(i.supplier_name) = lower({{supplier}})]]""",
    'Average days in stock': """\
SELECT round(avg(i.days_in_stock), 1) AS avg_days_in_stock
FROM analytics.metabase_inventory_status i
WHERE i.times_sold = 0
[[AND lower(i.stock_category) = lower({{stock_category}})]]
[[AND lower(i.supplier_name) = lower({{supplier}})]]""",
    'Aging distribution': """\
SELECT i.stock_category,
       count(*) AS items,
       coalesce(sum(i.current_inventory_value), 0) AS stock_value
FROM analytics.metabase_inventory_status i
WHERE i.times_sold = 0
[[AND lower(i.supplier_name) = lower({{supplier}})]]
GROUP BY i.stock_category
ORDER BY array_position(ARRAY['Fast Moving', 'Normal', 'Slow Moving', 'Dead Stock', 'Unknown'],
        i.stock_category)""",
    'Stock by category': """\
SELECT coalesce(i.category_name, 'No category') AS category_name,
       count(*) AS items,
       coalesce(sum(i.current_inventory_value), 0) AS stock_value
FROM analytics.metabase_inventory_status i
WHERE i.times_sold = 0
[[AND lower(i.stock_category) = lower({{stock_category}})]]
[[AND lower(i.supplier_name) = lower({{supplier}})]]
GROUP BY 1
ORDER BY stock_value DESC, category_name""",
    'Slow-moving items': """\
SELECT i.product_name,
       i.sku,
       i.brand_name,
       i.size,
       i.supplier_name,
       i.purchase_date,
       i.days_in_stock,
       i.stock_category,
       i.gross_purchase_price
FROM analytics.metabase_inventory_status i
WHERE i.times_sold = 0
  AND i.stock_category IN ('Slow Moving', 'Dead Stock')
[[AND lower(i.supplier_name) = lower({{supplier}})]]
ORDER BY i.days_in_stock DESC, i.product_name""",
    # Not a former card: the per-product question that replaced the second item list,
    # written against every stock item.
    'Stock by product': """\
SELECT i.product_name,
       i.sku,
       i.brand_name,
       count(*) AS items,
       coalesce(sum(i.current_inventory_value), 0) AS stock_value,
       round(avg(i.days_in_stock), 1) AS avg_days_in_stock,
       max(i.days_in_stock) AS oldest_days_in_stock
FROM analytics.metabase_inventory_status i
WHERE i.times_sold = 0
[[AND lower(i.stock_category) = lower({{stock_category}})]]
[[AND lower(i.supplier_name) = lower({{supplier}})]]
GROUP BY i.product_name, i.sku, i.brand_name
ORDER BY stock_value DESC, i.product_name, i.sku""",
}


def filter_values(card: Card) -> list[dict[str, str]]:
    """Every combination of this module's values of the card's filters."""
    combinations: list[dict[str, str]] = [{}]
    slugs = {flt.slug for flt in card.filters}
    if "start_date" in slugs:
        combinations = [
            {**values, **_given(start_date=start, end_date=end)}
            for values in combinations
            for start, end in PERIODS
        ]
    for slug, choices in (
        ("brand", BRANDS), ("supplier", SUPPLIERS), ("stock_category", STOCK_CATEGORIES),
    ):
        if slug in slugs:
            combinations = [
                {**values, **_given(**{slug: choice})}
                for values in combinations
                for choice in choices
            ]
    return combinations


def _given(**values: str | None) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


def run(
    connection: Connection, card: Card, sql: str, values: dict[str, str]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The query's columns and rows."""
    query = render(sql, template_tags(card), values)
    result = connection.execute(text(query.sql), query.params)
    return list(result.keys()), [tuple(row) for row in result]


def as_reprs(rows: list[tuple[Any, ...]]) -> list[tuple[str, ...]]:
    """Each value as its repr: type, value and scale."""
    return [tuple(repr(value) for value in row) for row in rows]


def top_eight_and_other(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """A pie's rows: the first eight, then the rest added up as "Other"."""
    if len(rows) <= 8:
        return rows
    rest = rows[8:]
    other = tuple(sum(row[i] for row in rest) for i in range(1, len(rows[0])))
    return [*rows[:8], ("Other", *other)]


def add_month_labels(
    connection: Connection, values: dict[str, str]
) -> tuple[list[str], Any]:
    """The trend's month labels, worked out here from the period: "Mon YYYY", the
    current month "(month to date)", a month the period cuts "(partial)"."""
    today = connection.execute(
        text("SELECT (now() AT TIME ZONE business_time_zone)::date FROM analytics.settings")
    ).scalar_one()
    end = date.fromisoformat(values["end_date"]) if "end_date" in values else None
    anchor = end or today
    default_start = date(anchor.year + (anchor.month - 12) // 12, (anchor.month - 12) % 12 + 1, 1)
    first = date.fromisoformat(values["start_date"]) if "start_date" in values else default_start
    last = end or date.max

    def label(month: date) -> str:
        month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if month_end >= today and last >= today:
            return f"{month:%b %Y} (month to date)"
        if month_end > last or month < first:
            return f"{month:%b %Y} (partial)"
        return f"{month:%b %Y}"

    def reshape(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [(row[0], label(row[0]), *row[1:]) for row in rows]

    return ["sale_month", "month", "revenue", "profit"], reshape


PIES = {"Category distribution", "Stock by category"}


def assert_same_as_before(connection: Connection, name: str) -> int:
    """The card returns what its former SQL returns, for each filter combination;
    returns how many rows were compared."""
    card = CARDS[name]
    compared = 0
    for values in filter_values(card):
        columns, rows = run(connection, card, card.sql, values)
        oracle_columns, oracle_rows = run(connection, card, ORIGINAL_SQL[name], values)
        if name in PIES:
            oracle_rows = top_eight_and_other(oracle_rows)
        if name == "Revenue trend by month":
            oracle_columns, reshape = add_month_labels(connection, values)
            oracle_rows = reshape(oracle_rows)
        rows, oracle_rows = as_reprs(rows), as_reprs(oracle_rows)
        assert columns == oracle_columns, name
        if name in LIST_CARDS:
            assert len(oracle_rows) < 2000, "the data should not reach the list cards' limit"
            days, product = columns.index("days_in_stock"), columns.index("product_name")
            assert sorted(rows) == sorted(oracle_rows), (name, values)
            assert [(row[days], row[product]) for row in rows] == [
                (row[days], row[product]) for row in oracle_rows
            ], (name, values)
        else:
            assert rows == oracle_rows, (name, values)
        compared += len(rows)
    return compared


@pytest.fixture(scope="module")
def shop(pg_server: PostgreSQLExecutor) -> Iterator[Engine]:
    """Contract, migrations, the edge-case shop plus seeded orders, every view refreshed."""
    janitor = DatabaseJanitor(
        user=pg_server.user,
        host=pg_server.host,
        port=pg_server.port,
        dbname=f"card_views_{os.getpid()}",
    )
    janitor.init()
    janitor.load(sql_dir() / "source_contract.sql")
    url = f"postgresql://{pg_server.user}@{pg_server.host}:{pg_server.port}/{janitor.dbname}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            loaded_at = connection.execute(text("SELECT now()")).scalar_one()
            insert(connection, build_dataset(loaded_at=loaded_at))
        seed(url, orders=SEEDED_ORDERS, seed=7, until=SEEDED_UNTIL)
        refresh(engine)
        yield engine
    finally:
        engine.dispose()
        janitor.drop()


def refresh(engine: Engine) -> None:
    failed = [result for result in refresh_views(engine) if not result.ok]
    assert not failed, failed


def test_the_rewritten_cards_no_longer_read_every_stock_item() -> None:
    for name, sql in ORIGINAL_SQL.items():
        assert CARDS[name].sql != sql, name
        assert "metabase_inventory_status" not in CARDS[name].sql, name


@pytest.mark.parametrize("name", sorted(ORIGINAL_SQL))
def test_card_returns_what_its_former_sql_returns(shop: Engine, name: str) -> None:
    with shop.connect() as connection:
        compared = assert_same_as_before(connection, name)
    assert compared > 0, "the data should give the card rows to compare"


def test_the_same_in_another_business_time_zone(shop: Engine) -> None:
    """Sales near midnight fall on other days in New York; the card views take the
    zone at their refresh, as the other views do."""
    names = sorted(
        name for name in ORIGINAL_SQL
        if any(flt.slug == "start_date" for flt in CARDS[name].filters)
    )
    try:
        with shop.begin() as connection:
            connection.execute(
                text("UPDATE analytics.settings SET business_time_zone = 'America/New_York'")
            )
        refresh(shop)
        with shop.connect() as connection:
            for name in names:
                assert_same_as_before(connection, name)
    finally:
        with shop.begin() as connection:
            connection.execute(
                text("UPDATE analytics.settings SET business_time_zone = 'Europe/Berlin'")
            )
        refresh(shop)


def test_card_views_refresh_concurrently_after_their_source(shop: Engine) -> None:
    results = {result.view: result for result in refresh_views(shop)}
    for view in CARD_VIEWS:
        assert results[view].ok and results[view].method == "concurrently", results[view]
    order = list(results)
    assert all(order.index(view) > order.index("metabase_inventory_status") for view in CARD_VIEWS)
    with shop.connect() as connection:
        levels = dict(connection.execute(text(
            "SELECT view_name, level FROM analytics.refresh_order"
        )).all())
        assert {view: levels[view] for view in CARD_VIEWS} == dict.fromkeys(CARD_VIEWS, 1)
        tiers = dict(connection.execute(text(
            "SELECT view_name, tier FROM analytics.managed_views"
        )).all())
        assert {view: tiers[view] for view in CARD_VIEWS} == dict.fromkeys(CARD_VIEWS, "hourly")


GRAINS = {
    "unsold_stock_items": ("inventory_id",),
    "unsold_stock_summary": ("stock_category", "supplier_name", "category_name"),
    "unsold_stock_by_product": ("stock_category", "supplier_name", "product_id"),
    "sold_items_by_product": ("period", "period_start", "product_id"),
    "sold_items_by_price_band": ("period", "period_start", "brand_name", "price_band"),
    "bought_items_by_brand": ("period", "period_start", "brand_name"),
}


@pytest.mark.parametrize("view", CARD_VIEWS)
def test_card_view_grain_is_unique_and_indexed(shop: Engine, view: str) -> None:
    grain = GRAINS[view]
    with shop.connect() as connection:
        # DISTINCT compares rows with empty (NULL) values as equal, unlike the index.
        rows, distinct = connection.execute(text(
            f"SELECT count(*), count(DISTINCT ROW({', '.join(grain)})) FROM analytics.{view}"
        )).one()
        assert rows == distinct > 0
        unique_keys = connection.execute(
            text(
                """
                SELECT array_agg(a.attname::text ORDER BY k.n)
                FROM pg_index i
                CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, n)
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE i.indrelid = to_regclass('analytics.' || :view)
                  AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                GROUP BY i.indexrelid
                """
            ),
            {"view": view},
        ).scalars().all()
    assert list(grain) in unique_keys


def test_day_and_month_rows_hold_the_same_totals(shop: Engine) -> None:
    with shop.connect() as connection:
        for view, measures in (
            ("sold_items_by_product", "items_sold, units_sold, revenue, profit"),
            ("sold_items_by_price_band", "items_sold, units_sold"),
            ("bought_items_by_brand", "items_bought, items_sold"),
        ):
            sums = ", ".join(f"sum({m})" for m in measures.split(", "))
            totals = connection.execute(text(
                f"SELECT period = 'month', {sums} FROM analytics.{view} "
                "WHERE period IN ('day', 'month') GROUP BY 1 ORDER BY 1"
            )).all()
            assert len(totals) == 2 and totals[0][1:] == totals[1][1:], view


def test_card_views_build_and_refresh_empty_with_every_column_described(
    migrated_engine: Engine,
) -> None:
    for concurrently in (False, True):
        results = refresh_views(migrated_engine, CARD_VIEWS, concurrently=concurrently)
        assert [result.status for result in results] == ["succeeded"] * len(CARD_VIEWS)
    with migrated_engine.connect() as connection:
        for view in CARD_VIEWS:
            assert connection.execute(text(f"SELECT count(*) FROM analytics.{view}")).scalar() == 0
            undescribed = connection.execute(
                text(
                    """
                    SELECT a.attname::text FROM pg_attribute a
                    WHERE a.attrelid = to_regclass('analytics.' || :view) AND a.attnum > 0
                      AND col_description(a.attrelid, a.attnum) IS NULL
                    UNION ALL
                    SELECT '(the view)'
                    WHERE obj_description(to_regclass('analytics.' || :view), 'pg_class') IS NULL
                    """
                ),
                {"view": view},
            ).scalars().all()
            assert undescribed == [], view
