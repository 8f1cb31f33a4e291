"""Refresh after writes, coalesced: ``sync_on_order_event()`` and ``sync_on_inventory_event()``.

The application calls them after it commits an order or a stock change. They
return at once: the event only marks the changed table. A background thread
per database waits until events have been quiet for ``quiet_period`` seconds
(or ``max_delay`` seconds have passed since the first pending one, so a steady
stream still refreshes), then refreshes once every view that reads a changed
table (catalog-derived, stale ones only, without waiting for a refresh that is
already running). A hundred order events in a second thus cause one refresh per
affected view, plus at most one more for events that arrive while it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from soleflip_analytics.db import sync_engine
from soleflip_analytics.refresh import refresh_views

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

ORDERS_TABLE = "transactions.orders"
STOCK_TABLE = "inventory.stock"

logger = logging.getLogger(__name__)


class RefreshCoordinator:
    """Coalesces change events into refreshes run by one background thread."""

    def __init__(
        self,
        bind: Engine | AsyncEngine | str,
        *,
        quiet_period: float = 1.0,
        max_delay: float = 10.0,
        triggered_by: str = "event",
        statement_timeout: float = 600.0,
    ) -> None:
        self._engine = sync_engine(bind)
        self._owns_engine = self._engine is not bind
        self.quiet_period = quiet_period
        self.max_delay = max_delay
        self.triggered_by = triggered_by
        self.statement_timeout = statement_timeout
        self._changed: set[str] = set()
        self._first_event = self._last_event = 0.0
        self._busy = self._hurry = self._closed = False
        self._condition = threading.Condition()
        self._worker: threading.Thread | None = None

    def notify(self, tables: str | Iterable[str]) -> None:
        """Mark tables (such as 'transactions.orders') as changed; returns at once."""
        now = time.monotonic()
        with self._condition:
            if self._closed:
                raise RuntimeError("this RefreshCoordinator was closed")
            if not self._changed:
                self._first_event = now
            self._last_event = now
            self._changed.update([tables] if isinstance(tables, str) else tables)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="soleflip-analytics-refresh", daemon=True
                )
                self._worker.start()
            self._condition.notify_all()

    @property
    def pending(self) -> frozenset[str]:
        """Tables changed by events whose refresh has not started yet."""
        with self._condition:
            return frozenset(self._changed)

    def flush(self, timeout: float | None = None) -> bool:
        """Refresh what is pending now, without the quiet period, and wait until done.

        Returns False if that took longer than ``timeout`` seconds.
        """
        with self._condition:
            self._hurry = True
            self._condition.notify_all()
            done = self._condition.wait_for(lambda: not self._changed and not self._busy, timeout)
            self._hurry = False
            return done

    def close(self, timeout: float | None = None) -> bool:
        """Refresh what is pending, then stop the background thread (as flush() returns)."""
        done = self.flush(timeout)
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        if self._worker is not None:
            self._worker.join(timeout)
        if self._owns_engine:
            self._engine.dispose()
        return done

    def _due(self) -> float:
        return min(self._last_event + self.quiet_period, self._first_event + self.max_delay)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._changed or not (
                    self._hurry or self._closed or time.monotonic() >= self._due()
                ):
                    if self._closed and not self._changed:
                        return
                    wait = None if not self._changed else self._due() - time.monotonic()
                    self._condition.wait(wait)
                tables, self._changed = sorted(self._changed), set()
                self._busy = True
            try:
                results = refresh_views(
                    self._engine, affected_by=tables, only_stale=True, wait=False,
                    triggered_by=self.triggered_by, statement_timeout=self.statement_timeout,
                )
                for result in results:
                    if not result.ok:
                        logger.warning("refresh of analytics.%s failed: %s (%s)",
                                       result.view, result.error, result.detail)
            except Exception:
                logger.exception("refreshing the views affected by %s failed", ", ".join(tables))
            finally:
                with self._condition:
                    self._busy = False
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
