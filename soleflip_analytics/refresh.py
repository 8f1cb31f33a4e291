"""Refreshing the views: ``refresh_views()`` and its awaitable twin ``arefresh_views()``.

Each view is refreshed by the SQL function ``analytics.refresh_view`` (the same
code pg_cron and the CLI run), in a transaction of its own with a lock timeout
and a statement timeout, which the server commits as the statement ends (no
round trip to this process while a swap holds its lock), after its start was
committed to the refresh log
(``analytics.begin_refresh``: should the process die, the entry shows the
refresh as interrupted). That function takes the view's refresh lock, picks a
swap, concurrent or plain refresh, counts the rows and completes the log entry;
an error inside it is logged there and leaves the view's previous rows in
place. An error that escapes it (a lost connection, say) is logged from here.
With only_stale, a view none of whose sources changed is logged up to date
before any of that (``analytics.log_up_to_date``), in one transaction that
takes no lock.

Views are refreshed side by side on separate connections (``parallel``), a
view as soon as the views it reads are done: of those ready, the longest of
the lowest dependency level (by its last refresh) first, then the headline
views (names.HEADLINE_VIEWS), so that they never wait behind the long one, then
the others, longest first, level by level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from threading import Condition
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from soleflip_analytics import arguments
from soleflip_analytics.catalog import select_views
from soleflip_analytics.db import (
    AsyncBind,
    Bind,
    connect,
    require_installed,
    require_primary,
    run_async,
)
from soleflip_analytics.names import HEADLINE_VIEWS

# Statuses of a refresh, as in analytics.refresh_log.status.
SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"  # another refresh of the view was running, and took the request over
UP_TO_DATE = "up_to_date"  # only_stale, and no source changed since the last refresh
INTERRUPTED = "interrupted"  # its server process ended before it finished (in the log only)

_HELD_THE_LOCK = (SUCCEEDED, UP_TO_DATE)

# For the session, around the refresh statement alone, which runs in autocommit mode.
# Side by side, the refreshes are the parallelism: parallel query workers on top
# left the cores oversubscribed, every refresh and the dashboards' queries slower.
_SET_LIMITS = text(
    "SELECT clock_timestamp(), current_setting('lock_timeout'), "
    "current_setting('statement_timeout'), current_setting('max_parallel_workers_per_gather'), "
    "set_config('lock_timeout', :lock_timeout, false), "
    "set_config('statement_timeout', :statement_timeout, false), "
    "set_config('max_parallel_workers_per_gather', coalesce(:parallel_workers, "
    "           current_setting('max_parallel_workers_per_gather')), false)"
)
_RESTORE_LIMITS = text(
    "SELECT set_config('lock_timeout', :lock_timeout, false), "
    "set_config('statement_timeout', :statement_timeout, false), "
    "set_config('max_parallel_workers_per_gather', :parallel_workers, false)"
)
_REFRESH_VIEW = text(
    "SELECT * FROM analytics.refresh_view(:view, :concurrent, :triggered_by, :only_stale, :wait)"
)
_LEVELS = text(
    "SELECT o.view_name, o.level FROM analytics.refresh_order o "
    "LEFT JOIN LATERAL (SELECT l.duration FROM analytics.refresh_log l "
    "                   WHERE l.view_name = o.view_name AND l.status = 'succeeded' "
    "                   ORDER BY l.id DESC LIMIT 1) last ON true "
    "ORDER BY o.level, last.duration DESC NULLS FIRST, o.view_name"
)
_READS = text(
    "SELECT view_name, array_agg(DISTINCT source_name) FROM analytics.view_sources "
    "WHERE source_kind = 'm' AND source_schema = 'analytics' GROUP BY view_name"
)
_REBUILT = text(
    "SELECT rebuilt.* FROM analytics.refresh_log swap "
    "JOIN analytics.refresh_log rebuilt "
    "  ON rebuilt.refresh_xid = swap.refresh_xid AND rebuilt.id <> swap.id "
    "WHERE swap.id = ANY(:ids) ORDER BY rebuilt.id"
)
_LOG_UP_TO_DATE = text("SELECT * FROM analytics.log_up_to_date(:view, :triggered_by)")
_REQUEST = text("SELECT analytics.request_refresh(:view)")
_BEGIN = text("SELECT analytics.begin_refresh(:view, :triggered_by)")
_HAS_REQUEST = text("SELECT analytics.has_refresh_request(:view)")
_FAIL = text("SELECT * FROM analytics.fail_refresh(:entry, :error, :detail)")


class RefreshIncompleteError(RuntimeError):
    """The refresh could not go on: the database went away (a server restart, say).

    ``results`` holds a result for every view asked for, in refresh order: what
    was refreshed before, and a failed result with the error for the others.
    """

    def __init__(self, message: str, results: list[RefreshResult]) -> None:
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class RefreshResult:
    """What became of one refresh of one view (one row of analytics.refresh_log)."""

    view: str
    status: str
    """succeeded, failed, skipped (a refresh of the view was running and took the
    request over) or up_to_date (only_stale, and no source changed)."""
    method: str | None
    """swap, concurrently or plain (the one that ran, also when it failed); None when
    nothing was refreshed."""
    started_at: datetime
    finished_at: datetime
    duration: timedelta
    row_count: int | None
    """Rows in the view after a successful refresh (exact)."""
    error: str | None
    detail: str | None
    """Why a refresh was plain, skipped or up to date; SQLSTATE and a hint for a failure."""
    triggered_by: str
    log_id: int | None

    @property
    def ok(self) -> bool:
        """False only for a failed refresh."""
        return self.status != FAILED

    @classmethod
    def from_log(cls, row: Mapping[str, Any]) -> RefreshResult:
        return cls(
            view=row["view_name"],
            status=row["status"],
            method=row["method"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            duration=row["duration"],
            row_count=row["row_count"],
            error=row["error"],
            detail=row["detail"],
            triggered_by=row["triggered_by"],
            log_id=row["id"],
        )


@dataclass(frozen=True)
class _Options:
    concurrent: bool
    triggered_by: str
    lock_timeout: str
    statement_timeout: str
    parallel_workers: str | None = None
    """max_parallel_workers_per_gather for each refresh; None: the session's."""


def refresh_views(
    bind: Bind,
    views: str | Iterable[str] | None = None,
    *,
    concurrently: bool = True,
    tier: str | None = None,
    affected_by: str | Iterable[str] | None = None,
    only_stale: bool = False,
    wait: bool = True,
    lock_timeout: float = 5.0,
    statement_timeout: float = 600.0,
    triggered_by: str = "manual",
    parallel: int = 2,
) -> list[RefreshResult]:
    """Refresh materialized views of schema analytics, each in its own transaction.

    Without filters every view is refreshed; ``views``, ``tier`` ("hourly",
    "daily", "weekly") and ``affected_by`` (table names such as
    "transactions.orders": the views reading them, directly or through other
    views) narrow the selection, which is refreshed in dependency order. An
    unknown view name raises UnknownViewError before anything is refreshed.

    ``concurrently``: refresh concurrently whenever the view is populated and has
    a unique index that allows it (readers are never blocked); False forces plain
    refreshes. ``only_stale``: skip views none of whose sources changed since
    their last successful refresh. ``wait``: when another refresh of a view is
    running, wait for it (True) or skip (False); a skip records a request, and
    the running refresher refreshes once more when the request came after its
    snapshot. ``lock_timeout`` and ``statement_timeout`` (seconds) bound each
    view's refresh; waiting for a running refresh of the same view counts
    against the statement timeout only. ``triggered_by`` is written to the log
    (manual, event, cron, cli, …). ``parallel``: how many views that do not read
    each other are refreshed at once, each on a connection of its own (an Engine
    or URL is needed for that; a Connection refreshes one view at a time);
    side by side, each refresh runs without parallel query workers.

    A failing view does not stop the others and keeps its previous rows; a view
    the migrations registered that does not exist is a failed result. The
    result has one entry per refresh, in refresh order: a view appears twice
    when it was refreshed once more for a request that arrived while it ran.
    Should the database go away midway, RefreshIncompleteError carries a result
    for every view; a hot standby raises StandbyError before anything runs. Every
    argument is checked before anything runs (TypeError or ValueError naming it).
    """
    options = _Options(
        concurrent=arguments.flag("concurrently", concurrently),
        triggered_by=arguments.word("triggered_by", triggered_by),
        lock_timeout=arguments.milliseconds("lock_timeout", lock_timeout),
        statement_timeout=arguments.milliseconds("statement_timeout", statement_timeout),
    )
    views = arguments.names("views", views)
    affected_by = arguments.names("affected_by", affected_by)
    arguments.tier("tier", tier)
    arguments.flag("only_stale", only_stale)
    arguments.flag("wait", wait)
    arguments.whole_number("parallel", parallel, 1)
    with connect(bind) as connection:
        require_installed(connection)
        require_primary(connection)
        with connection.begin():
            targets = select_views(connection, views, tier, affected_by)
            order = [view for level in _levels(connection, targets) for view in level]
            reads = {view: set(sources) & set(targets)
                     for view, sources in connection.execute(_READS)}
        engine = None if isinstance(bind, Connection) else connection.engine
        workers = min(parallel, len(order)) if engine is not None else 1
        done: dict[str, list[RefreshResult]] = {}
        try:
            if workers < 2:
                for view in order:
                    if view not in done:
                        done[view] = _refresh(connection, view, options, only_stale, wait)
                        _add_rebuilt(connection, done, view, targets)
            else:
                _refresh_side_by_side(engine, order, reads, workers,
                                      replace(options, parallel_workers="0"), only_stale, wait,
                                      done)
        except DBAPIError as error:
            message = _message(error)
            for view in targets:
                done.setdefault(view, [_unlogged_failure(
                    view, options.triggered_by, None, message,
                    "not refreshed: the connection to the database was lost before its turn")])
            raise RefreshIncompleteError(
                f"the refresh stopped: {message}; the exception's results attribute holds "
                "every view's result", [result for view in targets for result in done[view]],
            ) from error
        return [result for view in targets for result in done[view]]


async def arefresh_views(
    bind: AsyncBind,
    views: str | Iterable[str] | None = None,
    *,
    concurrently: bool = True,
    tier: str | None = None,
    affected_by: str | Iterable[str] | None = None,
    only_stale: bool = False,
    wait: bool = True,
    lock_timeout: float = 5.0,
    statement_timeout: float = 600.0,
    triggered_by: str = "manual",
    parallel: int = 2,
) -> list[RefreshResult]:
    """refresh_views() for asyncio code: awaits without blocking the event loop.

    ``bind`` may be an AsyncEngine or AsyncConnection (statements are awaited on
    its async driver) or anything refresh_views() takes (run in a worker thread).
    """
    return await run_async(
        refresh_views, bind, views, concurrently=concurrently, tier=tier,
        affected_by=affected_by, only_stale=only_stale, wait=wait, lock_timeout=lock_timeout,
        statement_timeout=statement_timeout, triggered_by=triggered_by, parallel=parallel,
    )


def _levels(connection: Connection, targets: list[str]) -> list[list[str]]:
    """The targets by dependency level, each level's longest (last refresh) first, then
    its headline views, then the others longest first; registered views that are
    missing (they have no level) first of all."""
    wanted = set(targets)
    levels: dict[int, list[str]] = {}
    for view, level in connection.execute(_LEVELS):
        if view in wanted:
            levels.setdefault(level, []).append(view)
    leveled = {view for level in levels.values() for view in level}
    missing = [view for view in targets if view not in leveled]
    return [missing] * bool(missing) + [_headline_second(levels[level])
                                        for level in sorted(levels)]


def _headline_second(views: list[str]) -> list[str]:
    """The longest view first, then the headline views, then the rest (each in order)."""
    first, rest = views[:1], views[1:]
    return (first + [view for view in rest if view in HEADLINE_VIEWS]
            + [view for view in rest if view not in HEADLINE_VIEWS])


def _add_rebuilt(connection: Connection, done: dict[str, list[RefreshResult]], view: str,
                 targets: list[str]) -> list[str]:
    """Add to ``done`` the targets a swap of ``view`` rebuilt with it (refreshed already);
    returns their names."""
    swaps = [result.log_id for result in done[view]
             if result.method == "swap" and result.status == SUCCEEDED]
    if not swaps:
        return []
    with connection.begin():
        rows = connection.execute(_REBUILT, {"ids": swaps}).mappings().all()
    rebuilt = [RefreshResult.from_log(row) for row in rows]
    for result in rebuilt:
        if result.view in targets:
            done.setdefault(result.view, []).append(result)
    return [result.view for result in rebuilt]


def _refresh(connection: Connection, view: str, options: _Options, only_stale: bool,
             wait: bool) -> list[RefreshResult]:
    if only_stale and (up_to_date := _log_if_up_to_date(connection, view, options)):
        return [up_to_date]
    results = [_attempt(connection, view, options, only_stale=only_stale, wait=wait)]
    # A request that arrived while this refresh ran came after its snapshot
    # (the refresh deleted the ones it saw): refresh once more.
    while results[-1].status in _HELD_THE_LOCK and _has_request(connection, view):
        results.append(_attempt(connection, view, options, only_stale=True, wait=False))
    return results


def _refresh_side_by_side(engine: Engine, order: list[str], reads: Mapping[str, set[str]],
                          workers: int, options: _Options, only_stale: bool, wait: bool,
                          done: dict[str, list[RefreshResult]]) -> None:
    """Refresh the views on ``workers`` connections at once into ``done``: each worker
    takes the first view in ``order`` none of whose sources is waiting or running."""
    waiting = list(order)
    running: set[str] = set()
    turn = Condition()

    def next_view() -> str | None:
        with turn:
            while waiting:
                for view in waiting:
                    if not reads.get(view, set()) & (set(waiting) | running):
                        waiting.remove(view)
                        running.add(view)
                        return view
                turn.wait()
            return None

    def finished(view: str, rebuilt: list[str]) -> None:
        with turn:
            running.discard(view)
            for other in rebuilt:
                if other in waiting:
                    waiting.remove(other)
            turn.notify_all()

    def work() -> None:
        # A lost connection fails the view at hand; the next view tries a new one.
        connection = None
        try:
            while (view := next_view()) is not None:
                rebuilt: list[str] = []
                try:
                    if connection is None or connection.invalidated:
                        if connection is not None:
                            connection.close()
                        connection = engine.connect()
                    done[view] = _refresh(connection, view, options, only_stale, wait)
                    rebuilt = _add_rebuilt(connection, done, view, order)
                except DBAPIError as error:
                    done.setdefault(view, [_unlogged_failure(view, options.triggered_by, None,
                                                             _message(error), _LOST)])
                finally:
                    finished(view, rebuilt)
        finally:
            if connection is not None:
                connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()


def _attempt(
    connection: Connection, view: str, options: _Options, *, only_stale: bool, wait: bool
) -> RefreshResult:
    with connection.begin():
        if not wait:
            # Committed before the lock is tried: a refresher holding the lock then
            # finds it when it checks for requests after its commit.
            connection.execute(_REQUEST, {"view": view})
        # The start on record first: should this process die, it shows as interrupted.
        entry = connection.execute(
            _BEGIN, {"view": view, "triggered_by": options.triggered_by}).scalar_one()
    started: datetime | None = None
    failure: DBAPIError | None = None
    isolation_level = connection.get_execution_options().get(
        "isolation_level", connection.default_isolation_level)
    # One statement, one transaction, committed by the server as it ends: a swap's
    # lock is never left waiting for this process to send COMMIT (a busy or paused
    # application would keep every reader of the view waiting meanwhile).
    connection.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with connection.begin():  # no BEGIN is sent in autocommit mode
            started, lock_timeout, statement_timeout, parallel_workers = connection.execute(
                _SET_LIMITS,
                {"lock_timeout": options.lock_timeout,
                 "statement_timeout": options.statement_timeout,
                 "parallel_workers": options.parallel_workers},
            ).one()[:4]
            try:
                row = connection.execute(
                    _REFRESH_VIEW,
                    {"view": view, "concurrent": options.concurrent,
                     "triggered_by": options.triggered_by, "only_stale": only_stale,
                     "wait": wait},
                ).mappings().one()
            finally:
                if not connection.invalidated:  # a lost connection is reported below
                    connection.execute(_RESTORE_LIMITS, {
                        "lock_timeout": lock_timeout, "statement_timeout": statement_timeout,
                        "parallel_workers": parallel_workers})
    except DBAPIError as error:
        failure = error
    finally:
        if not connection.invalidated:
            connection.execution_options(isolation_level=isolation_level)
    if failure is not None:
        return _log_failure(connection, entry, view, options.triggered_by, started, failure)
    return RefreshResult.from_log(row)


def _log_if_up_to_date(connection: Connection, view: str,
                       options: _Options) -> RefreshResult | None:
    """Log ``view`` up to date, without its refresh lock, when no source changed since
    its last successful refresh and nobody asked for one; None otherwise.

    One round trip and a commit that does not wait for the disk
    (analytics.log_up_to_date): with nothing changed, a view costs no committed
    start entry and no refresh routine.
    """
    with connection.begin():
        row = connection.execute(_LOG_UP_TO_DATE, {
            "view": view, "triggered_by": options.triggered_by}).mappings().first()
    return None if row is None else RefreshResult.from_log(row)


def _has_request(connection: Connection, view: str) -> bool:
    with connection.begin():
        return bool(connection.execute(_HAS_REQUEST, {"view": view}).scalar_one())


_LOST = (
    "the refresh's transaction failed outside the refresh routine (lost connection, "
    "terminated session or server shutdown); the view keeps its previous rows"
)


def _message(error: DBAPIError) -> str:
    return " ".join(str(error.orig or error).split())


def _log_failure(
    connection: Connection, entry: int, view: str, triggered_by: str, started: datetime | None,
    error: DBAPIError,
) -> RefreshResult:
    """Log an error that escaped analytics.refresh_view; its transaction was rolled back."""
    message = _message(error)
    try:
        with connection.begin():
            row = connection.execute(
                _FAIL, {"entry": entry, "error": message, "detail": _LOST}).mappings().one()
        return RefreshResult.from_log(row)
    except DBAPIError as log_error:
        return _unlogged_failure(
            view, triggered_by, started, message,
            f"{_LOST}; it could not be logged either ({_message(log_error)}): its log entry "
            f"{entry} shows as interrupted once its server process has ended")


def _unlogged_failure(view: str, triggered_by: str, started: datetime | None, message: str,
                      detail: str) -> RefreshResult:
    now = datetime.now(timezone.utc)
    return RefreshResult(
        view=view, status=FAILED, method=None, started_at=started or now, finished_at=now,
        duration=now - (started or now), row_count=None, error=message, detail=detail,
        triggered_by=triggered_by, log_id=None,
    )
