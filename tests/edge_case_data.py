"""A small shop dataset holding every edge case the analytics views must handle.

Each table is a list of dataclasses whose fields are the table's columns, so the
tests insert the rows and compute every view's expected contents from the same
Python objects.

All times are fixed except those of unsold stock and its orders (which no view
counts): an unsold item's age decides its days_in_stock and stock category, so it
is bought a whole number of days plus 12 hours before the moment the data is
loaded. Any refresh within 12 hours of loading sees the same whole number of days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.engine import Connection

D = Decimal
CENT = D("0.01")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def _id(table: int, number: int) -> UUID:
    return UUID(int=table << 64 | number)


# created_at / updated_at of rows whose bookkeeping times no view interprets.
RECORDED = utc(2023, 5, 1, 9)


@dataclass(frozen=True)
class Platform:
    id: UUID
    name: str
    slug: str
    created_at: datetime = RECORDED


@dataclass(frozen=True)
class Supplier:
    id: UUID
    business_name: str
    contact_email: str | None = None
    phone: str | None = None
    country: str | None = None
    rating: Decimal | None = None
    created_at: datetime = RECORDED


@dataclass(frozen=True)
class Brand:
    id: UUID
    name: str
    parent_brand_id: UUID | None = None
    segment: str | None = None
    price_tier: str | None = None
    target_demographic: str | None = None
    is_collaboration: bool = False


@dataclass(frozen=True)
class Category:
    id: UUID
    name: str


@dataclass(frozen=True)
class Product:
    id: UUID
    sku: str
    name: str
    brand_id: UUID | None
    category_id: UUID | None
    retail_price: Decimal | None = None


@dataclass(frozen=True)
class StockItem:
    id: UUID
    product_id: UUID
    supplier_id: UUID | None
    status: str
    purchase_date: datetime | None
    purchase_price: Decimal | None = None
    gross_purchase_price: Decimal | None = None
    vat_amount: Decimal | None = None
    size: str | None = None
    color: str | None = None
    condition: str | None = None
    created_at: datetime = RECORDED
    updated_at: datetime = RECORDED


@dataclass(frozen=True)
class Order:
    id: UUID
    inventory_item_id: UUID
    platform_id: UUID
    status: str
    sold_at: datetime
    gross_sale: Decimal
    platform_fee: Decimal = D(0)
    shipping_cost: Decimal = D(0)
    net_proceeds: Decimal | None = None
    net_profit: Decimal | None = None
    roi: Decimal | None = None
    payout_received: bool = False
    payout_date: datetime | None = None
    buyer_destination_country: str | None = None
    buyer_destination_city: str | None = None
    external_id: str | None = None
    created_at: datetime = RECORDED
    updated_at: datetime = RECORDED


@dataclass(frozen=True)
class Dataset:
    platforms: list[Platform]
    suppliers: list[Supplier]
    brands: list[Brand]
    categories: list[Category]
    products: list[Product]
    stock: list[StockItem]
    orders: list[Order]


# Names chosen so that neither code-point nor linguistic order is alphabetical:
# alphabetical is alias, eBay, GOAT, Goat, Klekt, Restocks, StockX.
STOCKX = Platform(_id(1, 1), "StockX", "stockx")
GOAT = Platform(_id(1, 2), "GOAT", "goat")
EBAY = Platform(_id(1, 3), "eBay", "ebay")
ALIAS = Platform(_id(1, 4), "alias", "alias")
RESTOCKS = Platform(_id(1, 5), "Restocks", "restocks")
KLEKT = Platform(_id(1, 6), "Klekt", "klekt")  # only a pending order: in no view
GOAT_EU = Platform(_id(1, 7), "Goat", "goat-eu")

SNEAKER_SOURCE = Supplier(
    _id(2, 1), "Sneaker Source GmbH", "buy@sneakersource.example", "+49 30 1234567", "DE",
    D("4.50"),
)
KICKS_WHOLESALE = Supplier(_id(2, 2), "Kicks Wholesale")  # every optional field missing
DORMANT_SUPPLIES = Supplier(_id(2, 3), "Dormant Supplies", "hello@dormant.example")  # no items
OUTLET_STOCK = Supplier(_id(2, 4), "Outlet Stock Ltd", None, "+44 20 7946 0000", "GB", D("3.25"))
TEE_TRADERS = Supplier(_id(2, 5), "Tee Traders", None, None, "NL", D("0.00"))  # unbranded items

# Alphabetical is adidas, ASICS, Asics, Jordan, Nike, Nike x Off-White.
NIKE = Brand(_id(3, 1), "Nike", None, "Sportswear", "Premium", "Unisex")
JORDAN = Brand(_id(3, 2), "Jordan", NIKE.id, "Sportswear", "Premium", "Men")
ASICS = Brand(_id(3, 3), "ASICS", None, "Running", "Mid")
ASICS_MIXED_CASE = Brand(_id(3, 4), "Asics", ASICS.id, "Running", "Mid", "Women")
OFF_WHITE = Brand(_id(3, 5), "Nike x Off-White", None, "Luxury", None, None, True)
ADIDAS = Brand(_id(3, 6), "adidas", None, "Sportswear", "Mid")  # never sold

SNEAKERS = Category(_id(4, 1), "Sneakers")
APPAREL = Category(_id(4, 2), "Apparel")
ACCESSORIES = Category(_id(4, 3), "Accessories")  # no products

CHICAGO = Product(_id(5, 1), "555088-101", "Air Jordan 1 Chicago", JORDAN.id, SNEAKERS.id, D(180))
PANDA = Product(_id(5, 2), "DD1391-100", "Nike Dunk Low Panda", NIKE.id, SNEAKERS.id, D(110))
GEL_LYTE = Product(_id(5, 3), "1201A050-100", "Gel-Lyte III", ASICS.id, SNEAKERS.id)
GEL_KAYANO = Product(_id(5, 4), "1201A019-107", "Gel-Kayano 14", ASICS_MIXED_CASE.id, None)
ARROWS_HOODIE = Product(_id(5, 5), "OW-HOOD-01", "Off-White Arrows Hoodie", OFF_WHITE.id,
                        APPAREL.id, D(590))
MYSTERY_BOX = Product(_id(5, 6), "BOX-001", "Mystery Box", None, None)
PLAIN_TEE = Product(_id(5, 7), "TEE-001", "Plain Tee", None, APPAREL.id, D(15))
SAMBA = Product(_id(5, 8), "B75806", "Samba OG", ADIDAS.id, SNEAKERS.id, D(120))  # never sold
AIR_MAX = Product(_id(5, 9), "FD2370-100", "Air Max 1", NIKE.id, SNEAKERS.id)  # only cancelled
AIR_FORCE = Product(_id(5, 10), "CW2288-111", "Air Force 1 '07", NIKE.id, SNEAKERS.id, D(120))
JORDAN_4 = Product(_id(5, 11), "FV5029-006", "Air Jordan 4 Bred", JORDAN.id, SNEAKERS.id)

# A Sunday 23:30 UTC sale, 00:30 on Monday in Berlin but still Sunday in New York.
LATE_EVENING_SALE = utc(2024, 3, 10, 23, 30)


def _sold_items() -> tuple[list[StockItem], list[Order]]:
    """Hand-made sales; the comments name the edge cases."""
    stock = [
        StockItem(_id(7, 1), CHICAGO.id, SNEAKER_SOURCE.id, "sold", utc(2024, 1, 10, 9),
                  D("150.00"), D("178.50"), D("28.50"), "42", "Red", "new"),
        StockItem(_id(7, 2), CHICAGO.id, KICKS_WHOLESALE.id, "sold", utc(2024, 2, 15, 14),
                  D("140.00"), D("166.60"), D("26.60"), "43", "Red", "new"),
        # no purchase date
        StockItem(_id(7, 3), PANDA.id, SNEAKER_SOURCE.id, "sold", None,
                  D("100.00"), D("119.00"), D("19.00"), "44", "Black/White", "new"),
        # no gross purchase price
        StockItem(_id(7, 4), PANDA.id, KICKS_WHOLESALE.id, "sold", utc(2023, 11, 20, 16),
                  D("95.00"), None, None, "41", "Black/White", "used"),
        StockItem(_id(7, 5), GEL_LYTE.id, SNEAKER_SOURCE.id, "sold", utc(2024, 9, 1, 8),
                  D("80.00"), D("95.20"), D("15.20"), "40", "Grey", "new"),
        # no supplier
        StockItem(_id(7, 6), GEL_KAYANO.id, None, "sold", utc(2024, 5, 20, 10),
                  D("160.00"), D("190.40"), D("30.40"), "39", "Silver", "new"),
        StockItem(_id(7, 7), ARROWS_HOODIE.id, KICKS_WHOLESALE.id, "sold", utc(2024, 10, 1, 12),
                  D("300.00"), D("357.00"), D("57.00"), "M", "Black", "new"),
        # no brand, no category, no supplier, no prices
        StockItem(_id(7, 8), MYSTERY_BOX.id, None, "sold", utc(2024, 1, 5)),
        StockItem(_id(7, 9), PLAIN_TEE.id, TEE_TRADERS.id, "sold", utc(2024, 7, 1, 7),
                  D("8.00"), D("9.52"), D("1.52"), "L", "White", "new"),
        StockItem(_id(7, 10), PLAIN_TEE.id, TEE_TRADERS.id, "sold", utc(2024, 7, 1, 7),
                  D("8.00"), D("9.52"), D("1.52"), "L", "White", "new"),
        StockItem(_id(7, 11), ARROWS_HOODIE.id, None, "sold", utc(2024, 9, 1, 10),
                  D("300.00"), D("357.00"), D("57.00"), "L", "Black", "new"),
    ]
    orders = [
        # A cancelled order, then a completed one on the same item.
        Order(_id(8, 1), _id(7, 1), STOCKX.id, "cancelled", utc(2024, 2, 1, 12), D("300.00"),
              D("27.00"), D("10.00"), D("263.00"), D("84.50"), D("47.3389"),
              buyer_destination_country="DE", buyer_destination_city="München"),
        # 22:30 UTC on the day summer time starts: 2024-04-01 00:30 in Berlin, a new
        # month and quarter; 2024-03-31 in New York.
        Order(_id(8, 2), _id(7, 1), STOCKX.id, "completed", utc(2024, 3, 31, 22, 30),
              D("320.00"), D("28.80"), D("12.00"), D("279.20"), D("100.70"), D("56.4146"),
              True, utc(2024, 4, 5, 10), "DE", "Berlin", "SX-1001"),
        # Sold, returned, sold again: two completed orders on one item.
        Order(_id(8, 3), _id(7, 2), GOAT.id, "completed", utc(2024, 5, 4, 18), D("280.00"),
              D("26.60"), D("0.00"), D("253.40"), D("86.80"), D("52.1008"),
              True, utc(2024, 5, 10, 8), "US", "New York", "GT-2001"),
        # 23:59 in Berlin, already the next day in Tokyo; no profit or roi, no city.
        Order(_id(8, 4), _id(7, 2), GOAT.id, "completed", utc(2024, 6, 10, 21, 59), D("295.00"),
              D("28.03"), D("5.00"), D("261.97"), None, None,
              False, None, "DE", None, "GT-2002"),
        # 2025-01-01 00:30 in Berlin: a new year, in an ISO week that began in 2024.
        # The payout is received but its date is not recorded.
        Order(_id(8, 5), _id(7, 3), EBAY.id, "completed", utc(2024, 12, 31, 23, 30), D("130.00"),
              D("16.90"), D("6.50"), D("106.60"), D("-12.40"), D("-10.4202"),
              True, None, "FR", "Paris"),
        Order(_id(8, 6), _id(7, 4), EBAY.id, "pending", utc(2024, 3, 1, 10), D("120.00"),
              D("15.60"), D("7.00"), D("97.40")),
        # A free replacement (gross_sale 0) on a late Sunday evening.
        Order(_id(8, 7), _id(7, 4), EBAY.id, "completed", LATE_EVENING_SALE, D("0.00"),
              D("0.00"), D("7.00"), D("-7.00"), None, None,
              False, None, "DE", "Berlin"),
        # 22:30 UTC before winter time starts: 2024-10-27 00:30 CEST in Berlin.
        # The product's only sale, priced exactly at the Entry-Level/Mid-Range boundary.
        Order(_id(8, 8), _id(7, 5), GOAT.id, "completed", utc(2024, 10, 26, 22, 30), D("100.00"),
              D("9.50"), D("0.00"), D("90.50"), D("-4.70"), D("-4.9370"),
              True, utc(2024, 10, 30, 12), "US", "Paris"),
        # 2024-07-01 00:15 in Berlin: a new month and quarter. A city without a country.
        Order(_id(8, 9), _id(7, 6), STOCKX.id, "completed", utc(2024, 6, 30, 22, 15), D("250.00"),
              D("22.50"), D("12.00"), D("215.50"), D("25.10"), D("13.1828"),
              True, utc(2024, 7, 3, 9, 30), None, "Paris"),
        Order(_id(8, 10), _id(7, 7), GOAT.id, "pending", utc(2024, 10, 20, 15), D("430.00")),
        # 23:30 UTC on the day winter time starts: 2024-10-28 00:30 CET in Berlin.
        Order(_id(8, 11), _id(7, 7), ALIAS.id, "completed", utc(2024, 10, 27, 23, 30),
              D("450.00"), D("40.50"), D("0.00"), D("409.50"), D("52.50"), D("14.7059"),
              True, utc(2024, 11, 2), "DE", "Berlin"),
        # Same Berlin day and platform as the order at 2024-03-31 22:30 UTC, but not
        # the same UTC day. No proceeds, profit or roi; no city.
        Order(_id(8, 12), _id(7, 8), STOCKX.id, "completed", utc(2024, 4, 1, 10), D("60.00"),
              D("5.40"), D("4.99"), None, None, None,
              False, None, "US", None),
        Order(_id(8, 13), _id(7, 9), EBAY.id, "returned", utc(2024, 7, 5, 12), D("25.00"),
              D("3.25"), D("4.50"), D("17.25"), D("7.73"), D("81.2000"),
              buyer_destination_country="DE", buyer_destination_city="Berlin"),
        Order(_id(8, 14), _id(7, 9), EBAY.id, "completed", utc(2024, 7, 20, 11), D("25.00"),
              D("3.25"), D("4.50"), D("17.25"), D("7.73"), D("81.2000"),
              True, utc(2024, 7, 22, 11), "DE", "Berlin"),
        # The only completed orders of their platform are free ones: its fee and margin
        # percentages have nothing to average. Both are in October in Berlin, but the
        # second one is in September in UTC.
        Order(_id(8, 15), _id(7, 10), RESTOCKS.id, "completed", utc(2024, 10, 15, 9), D("0.00"),
              D("0.00"), D("0.00"), D("0.00"), D("-9.52"), D("-100.0000"),
              False, None, "AT", "Wien"),
        Order(_id(8, 16), _id(7, 11), RESTOCKS.id, "completed", utc(2024, 9, 30, 22, 30),
              D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("-357.00"), D("-100.0000"),
              False, None, "AT", "Wien"),
    ]
    return stock, orders


def _unsold_items(loaded_at: datetime) -> tuple[list[StockItem], list[Order]]:
    """Stock without a completed order, aged exactly at and just past each category boundary."""

    def bought(days_ago: int) -> datetime:
        return loaded_at - timedelta(days=days_ago, hours=12)

    stock = [
        StockItem(_id(7, 101), AIR_MAX.id, SNEAKER_SOURCE.id, "listed", bought(45),
                  D("90.00"), D("107.10"), D("17.10"), "42", "White", "new"),
        StockItem(_id(7, 102), SAMBA.id, SNEAKER_SOURCE.id, "in_stock", bought(181),
                  D("70.00"), D("83.30"), D("13.30"), "44", "Black", "new"),
        StockItem(_id(7, 103), SAMBA.id, OUTLET_STOCK.id, "reserved", bought(180),
                  D("65.00"), D("77.35"), D("12.35"), "43", "White", "new"),
        StockItem(_id(7, 104), MYSTERY_BOX.id, OUTLET_STOCK.id, "in_stock", bought(30),
                  D("20.00"), None, None),
        StockItem(_id(7, 105), PLAIN_TEE.id, OUTLET_STOCK.id, "in_stock", None,
                  D("8.00"), D("9.52"), D("1.52"), "M", "White", "new"),
        StockItem(_id(7, 106), PANDA.id, SNEAKER_SOURCE.id, "returned", bought(31),
                  D("98.00"), D("116.62"), D("18.62"), "42", "Black/White", "used"),
        StockItem(_id(7, 107), SAMBA.id, OUTLET_STOCK.id, "in_stock", bought(91),
                  D("60.00"), D("71.40"), D("11.40"), "42", "Green", "new"),
        StockItem(_id(7, 108), GEL_KAYANO.id, SNEAKER_SOURCE.id, "in_stock", bought(90),
                  D("110.00"), D("130.90"), D("20.90"), "38", "Silver", "new"),
        StockItem(_id(7, 109), GEL_LYTE.id, KICKS_WHOLESALE.id, "listed", bought(400),
                  D("75.00"), D("89.25"), D("14.25"), "41", "Grey", "new"),
        StockItem(_id(7, 110), PANDA.id, SNEAKER_SOURCE.id, "in_stock", bought(0),
                  D("101.00"), D("120.19"), D("19.19"), "45", "Black/White", "new"),
    ]
    orders = [
        Order(_id(8, 101), _id(7, 101), STOCKX.id, "cancelled", bought(40), D("180.00"),
              buyer_destination_country="DE", buyer_destination_city="Köln"),
        Order(_id(8, 102), _id(7, 102), KLEKT.id, "pending", bought(2), D("140.00"),
              buyer_destination_country="NL", buyer_destination_city="Amsterdam"),
        Order(_id(8, 103), _id(7, 106), GOAT.id, "returned", bought(20), D("160.00"),
              D("15.20"), D("0.00"), D("144.80"), D("28.18"), D("24.1640"),
              True, bought(15), "US", "Chicago"),
    ]
    return stock, orders


# Routine sales that put the brands in every volume tier: Nike 101 sales (High
# Volume), Jordan exactly 100 (still Medium), Asics exactly 50 (still Low); Asics'
# prices average exactly 200 (still Mid-Range). Their values vary with the sale's
# number k.
_BULK_RUNS = ((AIR_FORCE, 99), (JORDAN_4, 97), (GEL_KAYANO, 49))
_BULK_SUPPLIERS = (SNEAKER_SOURCE.id, KICKS_WHOLESALE.id, None)
_BULK_PLATFORMS = (STOCKX.id, GOAT.id, EBAY.id, ALIAS.id, GOAT_EU.id)
_BULK_DESTINATIONS = (
    ("DE", "Berlin"), ("DE", "Hamburg"), ("US", "New York"), ("DE", None),
    (None, None), ("FR", "Paris"), ("US", "Paris"),
)


def _bulk_price(product: Product, i: int) -> Decimal:
    if product is AIR_FORCE:
        return D(90 + i % 10 * 5)
    if product is JORDAN_4:
        return D(160 + i % 7 * 15)
    return D(150 if i % 2 == 0 else 250)


def _bulk_sales() -> tuple[list[StockItem], list[Order]]:
    stock: list[StockItem] = []
    orders: list[Order] = []
    k = 0
    for product, count in _BULK_RUNS:
        for i in range(count):
            sold_at = utc(2024, 1, 1, 20) + k * timedelta(days=2, hours=7, minutes=13)
            gross = _bulk_price(product, i)
            net_price = (gross * D("0.55")).quantize(CENT, ROUND_HALF_UP)
            gross_price = (
                None if k % 17 == 3 else (net_price * D("1.19")).quantize(CENT, ROUND_HALF_UP)
            )
            fee = (gross * D("0.095")).quantize(CENT, ROUND_HALF_UP)
            shipping = D(5 + k % 3)
            proceeds = None if k % 19 == 7 else gross - fee - shipping
            profit = (
                None
                if proceeds is None or gross_price is None or k % 11 == 4
                else proceeds - gross_price
            )
            roi = (
                None
                if profit is None or gross_price is None
                else (profit / gross_price * 100).quantize(D("0.0001"), ROUND_HALF_UP)
            )
            paid = k % 5 != 0
            country, city = _BULK_DESTINATIONS[k % len(_BULK_DESTINATIONS)]
            stock.append(StockItem(
                _id(7, 1000 + k), product.id, _BULK_SUPPLIERS[k % len(_BULK_SUPPLIERS)], "sold",
                None if k % 13 == 5 else sold_at - timedelta(days=k % 50 + 1, hours=3),
                net_price, gross_price, None if gross_price is None else gross_price - net_price,
                str(38 + k % 10), None, "used" if k % 5 == 0 else "new",
            ))
            orders.append(Order(
                _id(8, 1000 + k), _id(7, 1000 + k), _BULK_PLATFORMS[k % len(_BULK_PLATFORMS)],
                "completed", sold_at, gross, fee, shipping, proceeds, profit, roi, paid,
                sold_at + timedelta(days=k % 9 + 1, hours=k % 24) if paid and k % 6 else None,
                country, city, f"B-{k:04d}",
            ))
            k += 1
    return stock, orders


def build_dataset(loaded_at: datetime) -> Dataset:
    """The dataset, with unsold stock aged relative to ``loaded_at``."""
    sold_stock, sold_orders = _sold_items()
    unsold_stock, unsold_orders = _unsold_items(loaded_at)
    bulk_stock, bulk_orders = _bulk_sales()
    return Dataset(
        platforms=[STOCKX, GOAT, EBAY, ALIAS, RESTOCKS, KLEKT, GOAT_EU],
        suppliers=[SNEAKER_SOURCE, KICKS_WHOLESALE, DORMANT_SUPPLIES, OUTLET_STOCK, TEE_TRADERS],
        brands=[NIKE, JORDAN, ASICS, ASICS_MIXED_CASE, OFF_WHITE, ADIDAS],  # parents first
        categories=[SNEAKERS, APPAREL, ACCESSORIES],
        products=[CHICAGO, PANDA, GEL_LYTE, GEL_KAYANO, ARROWS_HOODIE, MYSTERY_BOX, PLAIN_TEE,
                  SAMBA, AIR_MAX, AIR_FORCE, JORDAN_4],
        stock=sold_stock + unsold_stock + bulk_stock,
        orders=sold_orders + unsold_orders + bulk_orders,
    )


_TABLES = (
    ("core.platforms", "platforms"),
    ("core.suppliers", "suppliers"),
    ("catalog.brand", "brands"),
    ("catalog.category", "categories"),
    ("catalog.product", "products"),
    ("inventory.stock", "stock"),
    ("transactions.orders", "orders"),
)


def insert(connection: Connection, dataset: Dataset) -> None:
    """Insert the dataset into the shop tables, referenced rows first."""
    for table, attribute in _TABLES:
        rows = getattr(dataset, attribute)
        columns = [field.name for field in fields(rows[0])]
        connection.execute(
            text(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + column for column in columns)})"
            ),
            [asdict(row) for row in rows],
        )
