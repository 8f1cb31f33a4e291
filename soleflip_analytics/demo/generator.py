"""Deterministic rows for the source tables, drawn from the catalogue."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

from soleflip_analytics.demo.catalogue import (
    CONDITIONS,
    DESTINATIONS,
    EDGE_CASES,
    ORDER_STATUS_WEIGHTS,
    PLATFORMS,
    RESOLD_SHARE,
    SIZE_WEIGHTS,
    SIZES,
    TWICE_COMPLETED_SHARE,
    UNSOLD_SHARE,
    ItemPlan,
)
from soleflip_analytics.demo.reference import DAY, ReferenceGenerator, cumulative, pick

CHUNK_ORDERS = 20_000
NULL = "\\N"

_PLATFORM_WEIGHTS = cumulative(platform[-1] for platform in PLATFORMS)
_COUNTRY_WEIGHTS = cumulative(share for _country, share, _cities in DESTINATIONS)
_CITY_WEIGHTS = [cumulative(weight for _city, weight in cities)
                 for _country, _share, cities in DESTINATIONS]
_SIZE_WEIGHTS = cumulative(SIZE_WEIGHTS)
_CONDITION_WEIGHTS = cumulative(weight for _condition, weight in CONDITIONS)


def _money(cents: int | None) -> str:
    return NULL if cents is None else f"{cents / 100:.2f}"


class Generator(ReferenceGenerator):
    """Deterministic stock and order rows, about CHUNK_ORDERS orders at a time."""

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
        weights = cumulative(weight for _status, weight in ORDER_STATUS_WEIGHTS)
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
                yield singles[pick(weights, rng)]

    def _item(self, plan: ItemPlan, stock: list[str], order_rows: list[str]) -> int:
        """Append one stock row and its orders; return the number of orders."""
        rng = self.rng
        index = plan.product if plan.product is not None else pick(self.product_weights, rng)
        product = self.products[index]
        supplier = (None if plan.no_supplier or rng.random() < 0.03
                    else pick(self.supplier_weights, rng))

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
        size = SIZES[pick(_SIZE_WEIGHTS, rng)]
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
        condition = CONDITIONS[pick(_CONDITION_WEIGHTS, rng)][0]
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
        platform = pick(_PLATFORM_WEIGHTS, rng)
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
        index = pick(_COUNTRY_WEIGHTS, rng)
        country, _share, cities = DESTINATIONS[index]
        city = cities[pick(_CITY_WEIGHTS[index], rng)][0]
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
