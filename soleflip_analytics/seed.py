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

import bisect
import io
import itertools
import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection

from soleflip_analytics.contract import check_source_contract
from soleflip_analytics.paths import sql_dir

Progress = Callable[[int, int], None]
"""Called as ``progress(orders_loaded, orders_total)`` while the data loads."""

CHUNK_ORDERS = 20_000
HISTORY_DAYS = 730  # orders span the two years before ``until``
DAY = 86_400

# --------------------------------------------------------------------------
# The business: what the shop sells, where, through whom.

# name, slug, fee share of the sale, fixed fee (cents), payout delay in days (min, max), share
PLATFORMS = (
    ("StockX", "stockx", 0.095, 0, (2, 5), 0.33),
    ("GOAT", "goat", 0.095, 500, (3, 7), 0.19),
    ("eBay", "ebay", 0.08, 35, (1, 3), 0.15),
    ("Alias", "alias", 0.095, 0, (2, 4), 0.09),
    ("Klekt", "klekt", 0.12, 0, (7, 14), 0.10),
    ("Restocks", "restocks", 0.10, 1000, (5, 10), 0.14),
)

CATEGORIES = ("Lifestyle", "Basketball", "Running", "Skateboarding", "Slides & Sandals", "Luxury")


@dataclass(frozen=True)
class Brand:
    name: str
    parent: str | None
    segment: str | None
    price_tier: str | None
    demographic: str | None
    collaboration: bool
    sku_style: str  # "nike" DD1391-100, "adidas" GY7386, "nb" U9060BLK, "plain" ABC-123456
    # model, category, retail price in euros, resale multiple
    models: tuple[tuple[str, str, int, float], ...]


BRANDS = (
    Brand("Nike", None, "Sportswear", "Mid", "Unisex", False, "nike", (
        ("Nike Dunk Low Retro", "Lifestyle", 120, 1.2),
        ("Nike Air Force 1 '07", "Lifestyle", 120, 1.0),
        ("Nike Air Max 1", "Lifestyle", 150, 1.1),
        ("Nike Air Max 90", "Lifestyle", 150, 1.0),
        ("Nike Zoom Vomero 5", "Running", 170, 1.3),
        ("Nike P-6000", "Running", 120, 1.1),
    )),
    Brand("Jordan", "Nike", "Sportswear", "Premium", "Men", False, "nike", (
        ("Air Jordan 1 Retro High OG", "Basketball", 190, 1.6),
        ("Air Jordan 1 Low", "Basketball", 120, 1.2),
        ("Air Jordan 3 Retro", "Basketball", 210, 1.4),
        ("Air Jordan 4 Retro", "Basketball", 220, 1.7),
        ("Air Jordan 11 Retro", "Basketball", 240, 1.3),
    )),
    Brand("Nike SB", "Nike", "Skateboarding", "Mid", "Unisex", False, "nike", (
        ("Nike SB Dunk Low Pro", "Skateboarding", 120, 1.8),
        ("Nike SB Dunk High Pro", "Skateboarding", 130, 1.3),
    )),
    Brand("Travis Scott x Jordan", "Jordan", "Sportswear", "Premium", "Men", True, "nike", (
        ("Air Jordan 1 Low OG SP Travis Scott", "Basketball", 160, 4.5),
        ("Air Jordan 1 Retro High OG SP Travis Scott", "Basketball", 200, 5.0),
    )),
    Brand("Converse", "Nike", "Lifestyle", "Budget", "Unisex", False, "plain", (
        ("Converse Chuck 70 Hi", "Lifestyle", 95, 0.9),
        ("Converse Run Star Hike", "Lifestyle", 115, 0.9),
    )),
    Brand("adidas", None, "Sportswear", "Mid", "Unisex", False, "adidas", (
        ("adidas Samba OG", "Lifestyle", 120, 1.3),
        ("adidas Gazelle Indoor", "Lifestyle", 120, 1.2),
        ("adidas Campus 00s", "Lifestyle", 110, 1.1),
        ("adidas Handball Spezial", "Lifestyle", 110, 1.1),
        ("adidas Superstar", "Lifestyle", 100, 0.9),
    )),
    Brand("Yeezy", "adidas", "Lifestyle", "Premium", "Unisex", True, "adidas", (
        ("adidas Yeezy Boost 350 V2", "Lifestyle", 230, 1.1),
        ("adidas Yeezy Slide", "Slides & Sandals", 70, 1.4),
        ("adidas Yeezy Foam Runner", "Slides & Sandals", 90, 1.3),
    )),
    Brand("New Balance", None, "Sportswear", "Mid", "Unisex", False, "nb", (
        ("New Balance 550", "Lifestyle", 130, 1.1),
        ("New Balance 2002R", "Running", 150, 1.2),
        ("New Balance 990v6 Made in USA", "Running", 220, 1.1),
        ("New Balance 9060", "Lifestyle", 160, 1.2),
        ("New Balance 1906R", "Running", 160, 1.1),
    )),
    Brand("ASICS", None, "Running", "Mid", "Unisex", False, "plain", (
        ("ASICS GEL-KAYANO 14", "Running", 150, 1.3),
        ("ASICS GEL-1130", "Running", 110, 1.1),
        ("ASICS GEL-NYC", "Running", 140, 1.2),
    )),
    Brand("Onitsuka Tiger", "ASICS", "Lifestyle", "Mid", "Unisex", False, "plain", (
        ("Onitsuka Tiger Mexico 66", "Lifestyle", 120, 1.2),
    )),
    Brand("Salomon", None, "Outdoor", "Premium", "Unisex", False, "plain", (
        ("Salomon XT-6", "Running", 190, 1.2),
        ("Salomon ACS Pro", "Running", 180, 1.1),
    )),
    Brand("Puma", None, "Sportswear", "Budget", "Unisex", False, "plain", (
        ("Puma Suede Classic", "Lifestyle", 85, 0.8),
        ("Puma Speedcat OG", "Lifestyle", 100, 1.1),
    )),
    Brand("Vans", None, "Skateboarding", "Budget", "Unisex", False, "plain", (
        ("Vans Old Skool", "Skateboarding", 80, 0.8),
        ("Vans Knu Skool", "Skateboarding", 95, 0.9),
    )),
    Brand("Balenciaga", None, "Luxury", "Luxury", "Unisex", False, "plain", (
        ("Balenciaga Triple S", "Luxury", 1050, 0.7),
        ("Balenciaga Track", "Luxury", 950, 0.7),
    )),
    Brand("Maison Mihara Yasuhiro", None, None, None, None, False, "plain", (
        ("Maison Mihara Yasuhiro Blakey", "Luxury", 480, 0.9),
    )),
)

# colorway, colors
COLORWAYS = (
    ("Panda", "White/Black"), ("Triple White", "White"), ("Triple Black", "Black"),
    ("University Blue", "White/University Blue/Black"), ("Bred", "Black/Varsity Red"),
    ("Chicago", "White/Varsity Red/Black"), ("Grey Fog", "White/Grey Fog"),
    ("Sea Salt", "Sea Salt/White"), ("Bone", "Bone/Sail"), ("Cream", "Cream White"),
    ("Olive", "Medium Olive/Sail"), ("Navy", "Navy/White"), ("Mocha", "Sail/Dark Mocha"),
    ("Black Cat", "Black/Light Graphite"), ("Pine Green", "White/Pine Green"),
    ("Court Purple", "White/Court Purple"), ("Wolf Grey", "Wolf Grey/White"),
    ("Sand Drift", "Sand Drift/Sail"), ("Onyx", "Onyx"), ("Zebra", "White/Core Black"),
    ("Green Gum", "Green/Gum"), ("Silver Metallic", "Metallic Silver/White"),
)

# Products that lack a brand or a category: name, brand, category, retail price.
INCOMPLETE_PRODUCTS = (
    ("Sample Pair (no label)", None, "Lifestyle", None),
    ("Nike Air Max 95 OG 'Neon'", "Nike", None, 180),
)

SIZES = tuple(f"US {whole}{half}" for whole in range(4, 15) for half in ("", ".5"))[:-1]
SIZE_WEIGHTS = tuple(math.exp(-((i - 11) / 4.5) ** 2) for i in range(len(SIZES)))

# country, share, VAT rate, cities with shares
DESTINATIONS = (
    ("DE", 0.34, (("Berlin", 5), ("Hamburg", 3), ("München", 3), ("Köln", 2),
                  ("Frankfurt am Main", 2), ("Stuttgart", 1), ("Düsseldorf", 1), ("Leipzig", 1))),
    ("FR", 0.12, (("Paris", 5), ("Lyon", 2), ("Marseille", 2), ("Bordeaux", 1), ("Lille", 1))),
    ("NL", 0.08, (("Amsterdam", 4), ("Rotterdam", 2), ("Utrecht", 1), ("Den Haag", 1))),
    ("GB", 0.08, (("London", 5), ("Manchester", 2), ("Birmingham", 1), ("Glasgow", 1))),
    ("IT", 0.08, (("Milano", 4), ("Roma", 3), ("Torino", 1), ("Napoli", 1))),
    ("ES", 0.07, (("Madrid", 4), ("Barcelona", 4), ("Valencia", 1), ("Sevilla", 1))),
    ("AT", 0.05, (("Wien", 5), ("Graz", 1), ("Linz", 1), ("Salzburg", 1))),
    ("BE", 0.04, (("Bruxelles", 3), ("Antwerpen", 2), ("Gent", 1))),
    ("PL", 0.04, (("Warszawa", 3), ("Kraków", 2), ("Wrocław", 1))),
    ("CH", 0.03, (("Zürich", 3), ("Genève", 2), ("Basel", 1))),
    ("DK", 0.02, (("København", 3), ("Aarhus", 1))),
    ("SE", 0.02, (("Stockholm", 3), ("Göteborg", 1))),
    ("CZ", 0.02, (("Praha", 3), ("Brno", 1))),
    ("IE", 0.01, (("Dublin", 3), ("Cork", 1))),
)

# Suppliers: (name stem, country, legal form, VAT rate on what they sell)
SUPPLIER_STEMS = (
    "Sneakerhaus", "Kickbase", "Sole Supply", "Hype Vault", "Lace Lab", "Boxfresh Trading",
    "Deadstock Depot", "Heat Check", "Grail Room", "Sample Sale", "Outlet Runner",
    "Drop Zone", "Sizerun", "Footwear Clearance", "Restock Club", "Kicks Corner",
)
SUPPLIER_HOMES = (
    ("Berlin", "DE", "GmbH", 0.19), ("Hamburg", "DE", "GmbH", 0.19),
    ("München", "DE", "GmbH", 0.19), ("Rotterdam", "NL", "B.V.", 0.21),
    ("Milano", "IT", "S.r.l.", 0.22), ("Paris", "FR", "SAS", 0.20),
    ("Wien", "AT", "GmbH", 0.20), ("Warszawa", "PL", "sp. z o.o.", 0.23),
    ("London", "GB", "Ltd", 0.20), ("Barcelona", "ES", "S.L.", 0.21),
)
PHONE_PREFIXES = {"DE": "+49", "NL": "+31", "IT": "+39", "FR": "+33", "AT": "+43",
                  "PL": "+48", "GB": "+44", "ES": "+34"}
PRIVATE_SELLERS = ("Privatverkauf (Kleinanzeigen)", "Private seller (Vinted)",
                   "Raffle win (SNKRS)")

ORDER_STATUS_WEIGHTS = (("completed", 0.92), ("pending", 0.03), ("cancelled", 0.035),
                        ("returned", 0.015))
UNSOLD_SHARE = 0.11          # stock items that never had an order
RESOLD_SHARE = 0.045         # cancelled or returned, then completed
TWICE_COMPLETED_SHARE = 0.003
CONDITIONS = (("new", 0.93), ("used", 0.055), ("new (damaged box)", 0.01), (None, 0.005))


# --------------------------------------------------------------------------
# What an item's story is.

@dataclass(frozen=True)
class ItemPlan:
    """One stock item: the statuses of its orders in time order, and what is missing."""

    statuses: tuple[str, ...]
    free_replacement: bool = False
    no_supplier: bool = False
    no_purchase_date: bool = False
    no_purchase_price: bool = False
    no_city: bool = False
    no_country: bool = False
    city_without_country: bool = False
    unpaid: bool = False
    product: int | None = None          # index into the product list
    unsold_age_days: float | None = None


# The first items tell every story of the source contract, so that even a
# small data set holds each edge case.
EDGE_CASES = (
    ItemPlan(("cancelled", "completed")),
    ItemPlan(("returned", "completed")),
    ItemPlan(("completed", "completed")),
    ItemPlan(("completed",), free_replacement=True),
    ItemPlan(("completed",), no_supplier=True),
    ItemPlan(("completed",), no_purchase_date=True),
    ItemPlan(("completed",), no_purchase_price=True),
    ItemPlan(("completed",), no_city=True),
    ItemPlan(("completed",), no_country=True),
    ItemPlan(("completed",), city_without_country=True),
    ItemPlan(("completed",), product=0),   # product without brand
    ItemPlan(("completed",), product=1),   # product without category
    ItemPlan(("completed",), unpaid=True),
    ItemPlan(("pending",)),
    ItemPlan(("cancelled",)),
    ItemPlan(("returned",)),
    ItemPlan((), no_purchase_date=True),
    ItemPlan((), unsold_age_days=400.0),
    ItemPlan((), unsold_age_days=120.0),
    ItemPlan((), unsold_age_days=45.0),
    ItemPlan((), unsold_age_days=5.0),
)


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


# --------------------------------------------------------------------------
# Loading.

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
            generator = _Generator(seed, until, existing_items)
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
    connection: Connection, generator: _Generator, orders: int, progress: Progress | None
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


# --------------------------------------------------------------------------
# Generating.

NULL = "\\N"


def _money(cents: int | None) -> str:
    return NULL if cents is None else f"{cents / 100:.2f}"


def _pick(cumulative: Sequence[float], rng: random.Random) -> int:
    """An index drawn with the weights whose running totals are ``cumulative``."""
    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


def _cumulative(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


_PLATFORM_WEIGHTS = _cumulative(platform[-1] for platform in PLATFORMS)
_COUNTRY_WEIGHTS = _cumulative(share for _country, share, _cities in DESTINATIONS)
_CITY_WEIGHTS = [_cumulative(weight for _city, weight in cities)
                 for _country, _share, cities in DESTINATIONS]
_SIZE_WEIGHTS = _cumulative(SIZE_WEIGHTS)
_CONDITION_WEIGHTS = _cumulative(weight for _condition, weight in CONDITIONS)


@dataclass(frozen=True)
class _Product:
    retail_cents: int | None
    resale_multiple: float
    colors: str


class _Generator:
    """Deterministic rows: content from ``seed``; ids also from the stock already there."""

    def __init__(self, seed: int, until: datetime, existing_items: int) -> None:
        self.rng = random.Random(seed)
        # Seeding the same database twice must not repeat the ids of the first run.
        self.id_rng = random.Random(f"{seed}/{existing_items}")
        # Timestamps are whole seconds since ``origin``, formatted through a table of days.
        self.origin = until - timedelta(days=HISTORY_DAYS + 400)
        self.end = int((until - self.origin).total_seconds())
        self.window_start = self.end - HISTORY_DAYS * DAY
        first_day = self.origin.date()
        self.days = [(first_day + timedelta(days=i)).isoformat()
                     for i in range(HISTORY_DAYS + 401)]
        self.sale_days = self._sale_day_weights()
        self.stock_items = 0

    # -- small helpers ---------------------------------------------------

    def uuid(self) -> str:
        h = f"{self.id_rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def ts(self, seconds: int) -> str:
        day, second = divmod(seconds, DAY)
        hour, rest = divmod(second, 3600)
        return f"{self.days[day]} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}+00"

    def _sale_day_weights(self) -> list[float]:
        """The business grows, weekends and the weeks before Christmas sell more."""
        first = self.window_start // DAY
        weights = []
        for i in range(HISTORY_DAYS):
            day = date.fromisoformat(self.days[first + i])
            growth = 1.0 + 1.5 * i / HISTORY_DAYS
            weekend = 1.25 if day.weekday() >= 5 else 1.0
            season = 1.35 if day.month in (11, 12) else 0.9 if day.month in (1, 2) else 1.0
            weights.append(growth * weekend * season)
        return _cumulative(weights)

    def sale_time(self) -> int:
        day = _pick(self.sale_days, self.rng)
        second = int(DAY * (1 - self.rng.random() ** 1.6)) % DAY  # evenings sell more
        return min(self.window_start + day * DAY + second, self.end - 1)

    # -- reference data -----------------------------------------------------

    def reference_data(self) -> dict[str, list[dict]]:
        """Rows of the reference tables; they name each other by natural key."""
        rng = self.rng
        created = self.ts(self.window_start - 200 * DAY)
        platforms = [{"id": self.uuid(), "name": name, "slug": slug, "created_at": created}
                     for name, slug, *_ in PLATFORMS]
        categories = [{"id": self.uuid(), "name": name} for name in CATEGORIES]
        brands = [{"id": self.uuid(), "name": brand.name, "parent": brand.parent,
                   "segment": brand.segment, "price_tier": brand.price_tier,
                   "target_demographic": brand.demographic,
                   "is_collaboration": brand.collaboration} for brand in BRANDS]
        styles = {brand.name: brand.sku_style for brand in BRANDS}

        products: list[dict] = []
        self.products: list[_Product] = []
        skus: set[str] = set()

        def add(name: str, brand: str | None, category: str | None, retail: int | None,
                multiple: float, colors: str) -> None:
            sku = self._sku(styles.get(brand, "plain"))
            while sku in skus:
                sku = self._sku(styles.get(brand, "plain"))
            skus.add(sku)
            products.append({"id": self.uuid(), "sku": sku, "name": name, "brand": brand,
                             "category": category, "retail_price": retail})
            self.products.append(_Product(retail and retail * 100, multiple, colors))

        for name, brand, category, retail in INCOMPLETE_PRODUCTS:
            add(name, brand, category, retail, 1.0, "Black/White")
        for brand in BRANDS:
            for model, category, retail, multiple in brand.models:
                for colorway, colors in rng.sample(COLORWAYS, 6):
                    add(f"{model} '{colorway}'", brand.name, category, retail,
                        multiple * rng.lognormvariate(0, 0.25), colors)
        # Popular products sell far more: Zipf-like weights in a shuffled order.
        ranks = list(range(1, len(products) + 1))
        rng.shuffle(ranks)
        self.product_weights = _cumulative(1 / rank ** 0.9 for rank in ranks)

        suppliers = self._suppliers()
        self.platform_keys = [row["slug"] for row in platforms]
        self.product_keys = [row["sku"] for row in products]
        self.supplier_keys = [row["business_name"] for row in suppliers]
        return {"core.platforms": platforms, "catalog.category": categories,
                "catalog.brand": brands, "catalog.product": products,
                "core.suppliers": suppliers}

    def _sku(self, style: str) -> str:
        rng = self.rng
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        two = rng.choice(letters) + rng.choice(letters)
        number = rng.randrange(1000, 10000)
        if style == "nike":
            return f"{two}{number}-{rng.choice('0126')}{rng.randrange(100):02d}"
        if style == "adidas":
            return f"{two}{number}"
        if style == "nb":
            return f"U{number}{two}{rng.randrange(1, 10)}"
        return f"{two}{rng.choice(letters)}-{number}{rng.randrange(100):02d}"

    def _suppliers(self) -> list[dict]:
        rng = self.rng
        homes = [(stem, home) for stem in SUPPLIER_STEMS for home in SUPPLIER_HOMES]
        rng.shuffle(homes)
        rows = []
        self.supplier_vat: list[float] = []
        for stem, (city, country, form, vat) in homes[:24]:
            slug = "".join(ch for ch in stem.lower() if ch.isalnum())
            rows.append({
                "id": self.uuid(),
                "business_name": f"{stem} {city} {form}",
                "contact_email": f"einkauf@{slug}.example" if rng.random() > 0.15 else None,
                "phone": (f"{PHONE_PREFIXES[country]} {rng.randrange(20, 99)} "
                          f"{rng.randrange(1000000, 9999999)}") if rng.random() > 0.2 else None,
                "country": country if rng.random() > 0.1 else None,
                "rating": round(rng.uniform(3.2, 5.0), 2) if rng.random() > 0.15 else None,
                "created_at": self.ts(self.window_start - rng.randrange(30, 300) * DAY),
            })
            self.supplier_vat.append(vat)
        for name in PRIVATE_SELLERS:  # no VAT on private sales
            rows.append({"id": self.uuid(), "business_name": name, "contact_email": None,
                         "phone": None, "country": "DE", "rating": None,
                         "created_at": self.ts(self.window_start - 300 * DAY)})
            self.supplier_vat.append(0.0)
        ranks = list(range(1, len(rows) + 1))
        rng.shuffle(ranks)
        self.supplier_weights = _cumulative(1 / rank ** 0.7 for rank in ranks)
        return rows

    def use_ids(self, ids: dict[str, dict[str, str]]) -> None:
        """Take the ids the database holds for the reference rows, new or reused."""
        self.platform_ids = [ids["core.platforms"][key] for key in self.platform_keys]
        self.product_ids = [ids["catalog.product"][key] for key in self.product_keys]
        self.supplier_ids = [ids["core.suppliers"][key] for key in self.supplier_keys]

    # -- stock and orders -----------------------------------------------------

    def chunks(self, orders: int) -> Iterator[tuple[bytes, bytes, int]]:
        """(stock COPY data, orders COPY data, orders in it), about CHUNK_ORDERS at a time."""
        stock: list[str] = []
        order_rows: list[str] = []
        in_chunk = 0
        for plan in self._plans(orders):
            in_chunk += self._item(plan, stock, order_rows)
            if in_chunk >= CHUNK_ORDERS:
                yield "".join(stock).encode(), "".join(order_rows).encode(), in_chunk
                stock, order_rows, in_chunk = [], [], 0
        if stock:
            yield "".join(stock).encode(), "".join(order_rows).encode(), in_chunk

    def _plans(self, orders: int) -> Iterator[ItemPlan]:
        """Item plans whose orders add up to exactly ``orders``."""
        left = orders
        unsold = ItemPlan(())
        for plan in itertools.chain(EDGE_CASES, self._random_plans()):
            if left <= 0:
                return
            if len(plan.statuses) > left:
                plan = ItemPlan(plan.statuses[-left:])
            left -= len(plan.statuses)
            yield plan
            if self.rng.random() < UNSOLD_SHARE:  # unsold stock grows with sales
                yield unsold

    def _random_plans(self) -> Iterator[ItemPlan]:
        rng = self.rng
        statuses = [status for status, _weight in ORDER_STATUS_WEIGHTS]
        weights = _cumulative(weight for _status, weight in ORDER_STATUS_WEIGHTS)
        singles = [ItemPlan((status,)) for status in statuses]
        cancelled_first = ItemPlan(("cancelled", "completed"))
        returned_first = ItemPlan(("returned", "completed"))
        twice = ItemPlan(("completed", "completed"))
        while True:
            r = rng.random()
            if r < RESOLD_SHARE:
                yield returned_first if r < RESOLD_SHARE / 3 else cancelled_first
            elif r < RESOLD_SHARE + TWICE_COMPLETED_SHARE:
                yield twice
            else:
                yield singles[_pick(weights, rng)]

    def _item(self, plan: ItemPlan, stock: list[str], order_rows: list[str]) -> int:
        """Append one stock row and its orders; return the number of orders."""
        rng = self.rng
        index = plan.product if plan.product is not None else _pick(self.product_weights, rng)
        product = self.products[index]
        supplier = (None if plan.no_supplier or rng.random() < 0.03
                    else _pick(self.supplier_weights, rng))

        # When: the sales first, the purchase before them.
        if plan.statuses:
            first_sale = self.sale_time()
            purchased = first_sale - int(DAY * min(rng.expovariate(1 / 28), 365)) - 3600
        else:
            age = plan.unsold_age_days
            if age is None:
                r = rng.random()
                age = (rng.uniform(0, 60) if r < 0.6 else rng.uniform(60, 180) if r < 0.85
                       else rng.uniform(180, 540))
            first_sale = None
            purchased = self.end - int(age * DAY) - 600
        no_purchase_date = plan.no_purchase_date or rng.random() < 0.015

        # What it cost: a resale shop buys well below what the pair resells for;
        # the price includes VAT when bought from a business.
        resale = (product.retail_cents or 12_000) * product.resale_multiple
        if plan.no_purchase_price or rng.random() < 0.01:
            net = vat = gross = None
        else:
            gross = int(resale * rng.uniform(0.45, 0.9))
            net = int(gross / (1 + (self.supplier_vat[supplier] if supplier is not None else 0)))
            vat = gross - net

        item_id = self.uuid()
        size = SIZES[_pick(_SIZE_WEIGHTS, rng)]
        sold_at = first_sale or 0
        last_status = None
        updated = purchased
        for number, status in enumerate(plan.statuses):
            if number:
                sold_at = min(sold_at + int(DAY * rng.uniform(3, 40)), self.end - 1)
            updated = max(updated, self._order(plan, item_id, status, sold_at, resale, gross,
                                               order_rows))
            last_status = status

        created = (first_sale or self.end) - 7 * DAY if no_purchase_date else purchased
        condition = CONDITIONS[_pick(_CONDITION_WEIGHTS, rng)][0]
        stock.append("\t".join((
            item_id,
            self.product_ids[index],
            self.supplier_ids[supplier] if supplier is not None else NULL,
            size,
            product.colors if rng.random() > 0.02 else NULL,
            condition or NULL,
            self._stock_status(last_status),
            _money(net),
            _money(gross),
            _money(vat),
            NULL if no_purchase_date else self.ts(purchased),
            self.ts(created),
            self.ts(max(updated, created)),
        )) + "\n")
        self.stock_items += 1
        return len(plan.statuses)

    def _stock_status(self, last_order_status: str | None) -> str:
        if last_order_status == "completed":
            return "sold"
        if last_order_status == "pending":
            return "reserved"
        if last_order_status == "returned":
            return "returned"
        r = self.rng.random()
        return "in_stock" if r < 0.55 else "listed" if r < 0.95 else "reserved"

    def _order(self, plan: ItemPlan, item_id: str, status: str, sold_at: int,
               expected_price: float, gross_purchase: int | None,
               order_rows: list[str]) -> int:
        """Append one order row; return when it last changed."""
        rng = self.rng
        platform = _pick(_PLATFORM_WEIGHTS, rng)
        _name, slug, fee_share, fixed_fee, (payout_min, payout_max), _share = PLATFORMS[platform]
        gross_sale = (0 if plan.free_replacement
                      else int(expected_price * rng.lognormvariate(0, 0.12) / 100) * 100)
        fee = int(gross_sale * fee_share) + fixed_fee if gross_sale else 0
        country, city = self._destination(plan)
        shipping = (rng.choice((499, 599, 699)) if country == "DE"
                    else rng.choice((999, 1299, 1499)))

        proceeds = gross_sale - fee - shipping if status in ("completed", "pending") else None
        profit = (proceeds - gross_purchase
                  if proceeds is not None and gross_purchase is not None else None)
        roi = f"{profit / gross_purchase * 100:.4f}" if profit is not None and gross_purchase \
            else NULL

        payout_at = None
        if status == "completed" and not plan.unpaid:
            candidate = sold_at + int(DAY * rng.uniform(payout_min, payout_max))
            if candidate < self.end and rng.random() > 0.01:
                payout_at = candidate
        if payout_at:
            changed = payout_at
        elif status in ("cancelled", "returned"):
            changed = min(sold_at + int(DAY * rng.uniform(0.2, 3)), self.end - 1)
        else:
            changed = sold_at
        order_rows.append("\t".join((
            self.uuid(),
            item_id,
            self.platform_ids[platform],
            _external_id(rng, slug) if rng.random() > 0.01 else NULL,
            status,
            self.ts(sold_at),
            _money(gross_sale),
            _money(fee),
            _money(shipping),
            _money(proceeds),
            _money(profit),
            roi,
            "t" if payout_at else "f",
            self.ts(payout_at) if payout_at else NULL,
            country or NULL,
            city or NULL,
            self.ts(sold_at),
            self.ts(changed),
        )) + "\n")
        return changed

    def _destination(self, plan: ItemPlan) -> tuple[str | None, str | None]:
        rng = self.rng
        if plan.no_country:
            return None, None
        index = _pick(_COUNTRY_WEIGHTS, rng)
        country, _share, cities = DESTINATIONS[index]
        city = cities[_pick(_CITY_WEIGHTS[index], rng)][0]
        if plan.city_without_country:
            return None, city
        r = rng.random()
        if plan.no_city or 0.01 <= r < 0.04:
            return country, None
        if r < 0.01:
            return None, None
        return country, city


def _external_id(rng: random.Random, slug: str) -> str:
    """An order number as the platform writes it."""
    if slug == "stockx":
        return f"{rng.randrange(10**7, 10**8)}-{rng.randrange(10**7, 10**8)}"
    if slug == "ebay":
        return "-".join(str(rng.randrange(low, 10 * low)) for low in (10, 10**4, 10**4))
    if slug == "klekt":
        return f"KL-{rng.randrange(10**5, 10**6)}"
    if slug == "restocks":
        return f"R{rng.randrange(10**6, 10**7)}"
    return str(rng.randrange(10**8, 10**9))
