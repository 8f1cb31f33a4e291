"""Refresh after writes, coalesced: ``sync_on_order_event()`` and ``sync_on_inventory_event()``.

The application calls them after it commits an order or a stock change. They
return at once: the event only marks the changed table. A background thread
per database waits until events have been quiet for ``quiet_period`` seconds
(or ``max_delay`` seconds have passed since the first pending one, so a steady
stream still refreshes), then refreshes once every view that reads a changed
table (catalog-derived, stale ones only, without waiting for a refresh that is
already running). A hundred order events in a second thus cause one refresh per
affected view, plus at most one more for events that arrive while it runs.

The headline views (names.HEADLINE_VIEWS: the numbers the executive and
platform dashboards show) have a lane of their own, with its own thread and a
shorter ``headline_max_delay``: they are refreshed while the other views (the
big inventory view above all) still run, never behind them. The two lanes
refresh disjoint sets of views, and a view's refresh lock keeps any other
refresher (another process, pg_cron) from refreshing it at the same time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from soleflip_analytics.catalog import select_views
from soleflip_analytics.db import sync_engine
from soleflip_analytics.names import HEADLINE_VIEWS
from soleflip_analytics.refresh import refresh_views

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

ORDERS_TABLE = "transactions.orders"
STOCK_TABLE = "inventory.stock"

logger = logging.getLogger(__name__)


@dataclass
class _Lane:
    """The changed tables one background thread refreshes the views of."""

    name: str
    max_delay: float
    headline: bool  # the headline views only, or every view but them
    changed: set[str] = field(default_factory=set)
    first_event: float = 0.0
    last_event: float = 0.0
    busy: bool = False
    worker: threading.Thread | None = None


class RefreshCoordinator:
    """Coalesces change events into refreshes run by two background threads (lanes)."""

    def __init__(
        self,
        bind: Engine | AsyncEngine | str,
        *,
        quiet_period: float = 1.0,
        max_delay: float = 10.0,
        triggered_by: str = "event",
        statement_timeout: float = 600.0,
        headline: Iterable[str] = HEADLINE_VIEWS,
        headline_max_delay: float = 3.0,
    ) -> None:
        """``headline``: the views of the fast lane (none: one lane for all views)."""
        self._engine = sync_engine(bind)
        self._owns_engine = self._engine is not bind
        self.quiet_period = quiet_period
        self.max_delay = max_delay
        self.triggered_by = triggered_by
        self.statement_timeout = statement_timeout
        self.headline = frozenset(headline)
        self._lanes = [_Lane("views", max_delay, headline=False)]
        if self.headline:
            self._lanes.append(_Lane("headline", headline_max_delay, headline=True))
        self._hurry = self._closed = False
        self._condition = threading.Condition()

    def notify(self, tables: str | Iterable[str]) -> None:
        """Mark tables (such as 'transactions.orders') as changed; returns at once."""
        now = time.monotonic()
        changed = [tables] if isinstance(tables, str) else list(tables)
        with self._condition:
            if self._closed:
                raise RuntimeError("this RefreshCoordinator was closed")
            for lane in self._lanes:
                if not lane.changed:
                    lane.first_event = now
                lane.last_event = now
                lane.changed.update(changed)
                if lane.worker is None:
                    lane.worker = threading.Thread(
                        target=self._run, args=(lane,), daemon=True,
                        name=f"soleflip-analytics-refresh-{lane.name}",
                    )
                    lane.worker.start()
            self._condition.notify_all()

    @property
    def pending(self) -> frozenset[str]:
        """Tables changed by events whose refresh has not started yet (in either lane)."""
        with self._condition:
            return frozenset().union(*(lane.changed for lane in self._lanes))

    def _idle(self) -> bool:
        return not any(lane.changed or lane.busy for lane in self._lanes)

    def flush(self, timeout: float | None = None) -> bool:
        """Refresh what is pending now, without the quiet period, and wait until done.

        Returns False if that took longer than ``timeout`` seconds.
        """
        with self._condition:
            self._hurry = True
            self._condition.notify_all()
            done = self._condition.wait_for(self._idle, timeout)
            self._hurry = False
            return done

    def close(self, timeout: float | None = None) -> bool:
        """Refresh what is pending, then stop the background thread (as flush() returns)."""
        done = self.flush(timeout)
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        for lane in self._lanes:
            if lane.worker is not None:
                lane.worker.join(timeout)
        if self._owns_engine:
            self._engine.dispose()
        return done

    def _due(self, lane: _Lane) -> float:
        return min(lane.last_event + self.quiet_period, lane.first_event + lane.max_delay)

    def _views(self, lane: _Lane, tables: list[str]) -> list[str]:
        """The views of the lane that read the tables, in refresh order."""
        with self._engine.connect() as connection, connection.begin():
            affected = select_views(connection, affected_by=tables)
        return [view for view in affected if (view in self.headline) == lane.headline]

    def _run(self, lane: _Lane) -> None:
        while True:
            with self._condition:
                while not lane.changed or not (
                    self._hurry or self._closed or time.monotonic() >= self._due(lane)
                ):
                    if self._closed and not lane.changed:
                        return
                    wait = None if not lane.changed else self._due(lane) - time.monotonic()
                    self._condition.wait(wait)
                tables, lane.changed = sorted(lane.changed), set()
                lane.busy = True
            try:
                views = self._views(lane, tables)
                results = refresh_views(
                    self._engine, views, only_stale=True, wait=False,
                    triggered_by=self.triggered_by, statement_timeout=self.statement_timeout,
                    # The headline lane stays on one connection: a core for the others.
                    parallel=1 if lane.headline else 2,
                ) if views else []
                for result in results:
                    if not result.ok:
                        logger.warning("refresh of analytics.%s failed: %s (%s)",
                                       result.view, result.error, result.detail)
            except Exception:
                logger.exception("refreshing the views affected by %s failed", ", ".join(tables))
            finally:
                with self._condition:
                    lane.busy = False
                    self._condition.notify_all()


_coordinators: dict[str, RefreshCoordinator] = {}
_coordinators_lock = threading.Lock()


def coordinator_for(bind: Engine | AsyncEngine | str) -> RefreshCoordinator:
    """The process's coordinator for a database, created with defaults on first use."""
    key = bind if isinstance(bind, str) else bind.url.render_as_string(hide_password=False)
    with _coordinators_lock:
        if key not in _coordinators:
            _coordinators[key] = RefreshCoordinator(bind)
        return _coordinators[key]


def sync_on_order_event(bind: Engine | AsyncEngine | str) -> None:
    """After an order was written: refresh the views reading orders, coalesced. Never blocks."""
    coordinator_for(bind).notify(ORDERS_TABLE)


def sync_on_inventory_event(bind: Engine | AsyncEngine | str) -> None:
    """After a stock item was written: refresh the views reading stock, coalesced. Never blocks."""
    coordinator_for(bind).notify(STOCK_TABLE)


def close_events(timeout: float | None = None) -> bool:
    """Refresh what is pending, stop the background threads and forget them (at shutdown).

    Returns False if the pending refreshes took longer than ``timeout`` seconds.
    """
    with _coordinators_lock:
        coordinators = list(_coordinators.values())
        _coordinators.clear()
    return all([coordinator.close(timeout) for coordinator in coordinators])
