"""Freshness lag: how long after a sale's commit the views show it.

``measure_freshness(url)`` plays the application: it commits one completed
order at a time, at a steady ``rate`` per second for ``seconds``, each of a
stock item of its own (added, unsold, before the first order), and calls
``sync_on_order_event()`` after each commit, as the shop does. A poller reads,
every POLL seconds, how many of those orders each watched view includes:

- ``metabase_executive_metrics``: its total of completed orders, less the
  total before the first order;
- ``metabase_inventory_status``: how many of the orders' stock items it shows
  as sold.

A view's contents come from one snapshot and the orders are committed one
after another, so a view that includes the k-th order includes every earlier
one. The lag of an order is the time from its commit to the end of the first
poll that found it included (so it is never understated by the poll's own
time). When the orders stop it waits up to ``settle`` seconds for the views to
catch up, then closes the coordinator; an order never seen counts as missing.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from soleflip_analytics import close_events, sync_on_order_event

POLL = 0.05

# Counts of the watched views: (view, query returning how many of :ids it includes).
WATCHED = {
    "metabase_executive_metrics": text(
        "SELECT coalesce(sum(total_orders), 0) - :base FROM analytics.metabase_executive_metrics"
    ),
    "metabase_inventory_status": text(
        "SELECT count(*) FROM analytics.metabase_inventory_status "
        "WHERE inventory_id = ANY(CAST(:ids AS uuid[])) AND times_sold > 0"
    ),
}

# New stock items, copies of one existing item but for their ids.
_NEW_ITEMS = text(
    "INSERT INTO inventory.stock (product_id, supplier_id, size, color, condition, status, "
    "    purchase_price, gross_purchase_price, vat_amount, purchase_date) "
    "SELECT st.product_id, st.supplier_id, st.size, st.color, st.condition, 'in_stock', "
    "       st.purchase_price, st.gross_purchase_price, st.vat_amount, st.purchase_date "
    "FROM (SELECT * FROM inventory.stock LIMIT 1) st, generate_series(1, :count) "
    "RETURNING id::text"
)
_EXECUTIVE_TOTAL = text(
    "SELECT coalesce(sum(total_orders), 0) FROM analytics.metabase_executive_metrics"
)
_COMPLETED = text("SELECT count(*) FROM transactions.orders WHERE status = 'completed'")
# One completed order's figures, copied onto the new sale with the time of now().
_INSERT = text(
    """
    INSERT INTO transactions.orders (
        inventory_item_id, platform_id, status, sold_at, gross_sale, platform_fee,
        shipping_cost, net_proceeds, net_profit, roi, payout_received,
        buyer_destination_country, buyer_destination_city
    )
    SELECT CAST(:item AS uuid), s.platform_id, 'completed', now(), s.gross_sale, s.platform_fee,
           s.shipping_cost, s.net_proceeds, s.net_profit, s.roi, false,
           s.buyer_destination_country, s.buyer_destination_city
    FROM transactions.orders s WHERE s.status = 'completed' LIMIT 1
    """
)


@dataclass
class Lag:
    """Seconds from commit until a view included the order, over the orders that it did."""

    p50: float | None
    p95: float | None
    max: float | None
    missing: int  # orders the view had not shown when the measurement ended


@dataclass
class FreshnessFigures:
    orders: int
    rate: float
    seconds: float
    lags: dict[str, Lag] = field(default_factory=dict)


def _lag(samples: list[float], orders: int) -> Lag:
    if not samples:
        return Lag(None, None, None, orders)
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return Lag(statistics.median(ordered), p95, ordered[-1], orders - len(samples))


def measure_freshness(url: str, seconds: float = 120, rate: float = 5,
                      settle: float = 120) -> FreshnessFigures:
    """Commit ``rate`` orders a second for ``seconds``, each followed by sync_on_order_event()."""
    count = round(seconds * rate)
    engine = create_engine(url)
    committed: list[float] = []  # commit time of each order, in order
    items: list[str] = []
    seen: dict[str, list[float]] = {view: [] for view in WATCHED}
    writing_done = threading.Event()
    stop = threading.Event()

    def poll(connection: Connection, base: int) -> None:
        while not stop.is_set():
            with connection.begin():
                written = list(items)
                for view, query in WATCHED.items():
                    included = connection.execute(
                        query, {"base": base, "ids": written}).scalar_one()
                    now = time.monotonic()
                    while len(seen[view]) < min(included, len(committed)):
                        seen[view].append(now - committed[len(seen[view])])
            if writing_done.is_set() and all(len(lags) >= count for lags in seen.values()):
                return
            stop.wait(POLL)

    try:
        with engine.connect() as connection:
            with connection.begin():
                new_items = list(connection.execute(_NEW_ITEMS, {"count": count}).scalars())
                base = connection.execute(_EXECUTIVE_TOTAL).scalar_one()
                if base != connection.execute(_COMPLETED).scalar_one():
                    raise SystemExit("metabase_executive_metrics is not up to date before "
                                     "the freshness measurement")
        poller_connection = engine.connect()
        poller = threading.Thread(target=poll, args=(poller_connection, base), daemon=True)
        poller.start()
        started = time.monotonic()
        with engine.connect() as writer:
            for number, item in enumerate(new_items):
                due = started + number / rate
                time.sleep(max(0.0, due - time.monotonic()))
                with writer.begin():
                    writer.execute(_INSERT, {"item": item})
                committed.append(time.monotonic())
                items.append(item)
                sync_on_order_event(url)
        writing_done.set()
        poller.join(settle)
        stop.set()
        poller.join()
        poller_connection.close()
    finally:
        stop.set()
        close_events()
        engine.dispose()
    return FreshnessFigures(count, rate, seconds,
                            {view: _lag(lags, count) for view, lags in seen.items()})


def report_freshness(figures: FreshnessFigures) -> list[str]:
    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    lines = [f"freshness lag, {figures.orders} orders at {figures.rate:g}/s, each followed by "
             "sync_on_order_event() (commit until the view includes it):"]
    for view, lag in figures.lags.items():
        lines.append(f"    {view:32} p50 {fmt(lag.p50):>7}  p95 {fmt(lag.p95):>7}  "
                     f"max {fmt(lag.max):>7}" + (f"  ({lag.missing} never seen)"
                                                 if lag.missing else ""))
    return lines
