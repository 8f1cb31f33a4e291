"""The reference rows of the synthetic shop (platforms, categories, brands, products,
suppliers), and the clock and ids every generated row shares."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from soleflip_analytics.demo.catalogue import (
    BRANDS,
    CATEGORIES,
    COLORWAYS,
    INCOMPLETE_PRODUCTS,
    PHONE_PREFIXES,
    PLATFORMS,
    PRIVATE_SELLERS,
    SUPPLIER_HOMES,
    SUPPLIER_STEMS,
)

HISTORY_DAYS = 730  # orders span the two years before ``until``
DAY = 86_400

def pick(cumulative: Sequence[float], rng: random.Random) -> int:
    """An index drawn with the weights whose running totals are ``cumulative``."""
    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


def cumulative(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


@dataclass(frozen=True)
class _Product:
    retail_cents: int | None
    resale_multiple: float
    colors: str


class ReferenceGenerator:
    """Deterministic reference rows, and the clock and ids every generated row shares.

    Content comes from ``seed``; ids also from the stock already there.
    """

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
        return cumulative(weights)

    def sale_time(self) -> int:
        day = pick(self.sale_days, self.rng)
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
        self.product_weights = cumulative(1 / rank ** 0.9 for rank in ranks)

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
        self.supplier_weights = cumulative(1 / rank ** 0.7 for rank in ranks)
        return rows

    def use_ids(self, ids: dict[str, dict[str, str]]) -> None:
        """Take the ids the database holds for the reference rows, new or reused."""
        self.platform_ids = [ids["core.platforms"][key] for key in self.platform_keys]
        self.product_ids = [ids["catalog.product"][key] for key in self.product_keys]
        self.supplier_ids = [ids["core.suppliers"][key] for key in self.supplier_keys]
