"""Deterministic rows for the source tables, drawn from the catalogue."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from soleflip_analytics.demo.catalogue import (
    BRANDS,
    CATEGORIES,
    COLORWAYS,
    CONDITIONS,
    DESTINATIONS,
    EDGE_CASES,
    INCOMPLETE_PRODUCTS,
    ORDER_STATUS_WEIGHTS,
    PHONE_PREFIXES,
    PLATFORMS,
    PRIVATE_SELLERS,
    RESOLD_SHARE,
    SIZE_WEIGHTS,
    SIZES,
    SUPPLIER_HOMES,
    SUPPLIER_STEMS,
    TWICE_COMPLETED_SHARE,
    UNSOLD_SHARE,
    ItemPlan,
)

CHUNK_ORDERS = 20_000
HISTORY_DAYS = 730  # orders span the two years before ``until``
DAY = 86_400

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


class Generator:
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
