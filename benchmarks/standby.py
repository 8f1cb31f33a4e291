"""The refresh as a hot standby sees it: WAL shipped, replay lag, standby readers' waits.

    python3 benchmarks/refresh_benchmark.py --orders 100000 --standby

With ``--standby`` the refresh benchmark ends with ``measure_standby``: a hot
standby of its server (``LocalServer.standby()``, pg_basebackup -R, PostgreSQL's
default standby settings: max_standby_streaming_delay 30 s, hot_standby_feedback
off), and, once with swaps (``analytics.refresh_settings.replica_safe = off``)
and once replica-safe (``auto``, which sees the standby):

- the WAL bytes of each view's refresh alone (pg_current_wal_lsn() before and
  after ``refresh_views(url, [view])``, one after another), and of a full
  refresh (the mean of FULL_REFRESHES in a row);
- during those full refreshes, on the standby: CARD_READERS readers running every
  dashboard card's query in a loop, and an analyst's question of
  QUESTION_SECONDS on metabase_inventory_status in a loop (``StandbyLoad``):
  the card readers' longest wait, the analyst's longest wait beyond its own
  seconds, every error (cancellations: "conflict with recovery"), the
  standby's largest replay lag (pg_stat_replication.replay_lag, and in bytes),
  sampled on the primary every SAMPLE_SECONDS until the standby has replayed
  the refresh, and the times replay waited over a second for the standby's
  queries, by conflict (log_recovery_conflict_waits, in the standby's log).

The same ``StandbyLoad`` drives the tests' standby acceptance test.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from soleflip_analytics import refresh_views
from soleflip_analytics.dashboards.payloads import template_tags
from soleflip_analytics.dashboards.sql_template import render
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.db import one_line
from soleflip_analytics.demo.server import LocalServer

CARD_READERS = 2
FULL_REFRESHES = 3
QUESTION_SECONDS = 3.0
SAMPLE_SECONDS = 0.05
BIG_VIEW = "metabase_inventory_status"
# SQLSTATE of "canceling statement due to conflict with recovery".
CONFLICT_WITH_RECOVERY = ("40001", "40P01")
# (analytics.refresh_settings.replica_safe, the standby's hot_standby_feedback): label
MODES = {
    ("off", "off"): "swaps",
    ("auto", "off"): "replica-safe",
    ("auto", "on"): "+ feedback",
}

_QUESTION = text(
    f"SELECT count(*) FROM analytics.{BIG_VIEW}, pg_catalog.pg_sleep(:seconds)")
_LAG = text(
    "SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), "
    "       max(extract(epoch FROM replay_lag)) FROM pg_stat_replication")
_WAL = text("SELECT pg_current_wal_lsn()")
_REPLAY_WAIT = re.compile(r"recovery still waiting after [0-9.]+ ms: (recovery conflict on \w+)")
_WAL_BYTES = text("SELECT pg_wal_lsn_diff(:after, :before)")


def card_queries() -> list[tuple[str, dict[str, Any]]]:
    """Every dashboard card's query with no filter values, as Metabase sends it."""
    queries = []
    for dashboard in DASHBOARDS:
        for card in dashboard.cards:
            query = render(card.sql, template_tags(card), {})
            queries.append((query.sql, dict(query.params)))
    return queries


class _Reader(threading.Thread):
    """Runs its queries on the standby one after another, in a loop, until stopped;
    keeps its longest wait (beyond ``expected`` seconds a query is meant to take)
    and every error."""

    def __init__(self, url: str, queries: list[tuple[str, dict[str, Any]]],
                 expected: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url, poolclass=pool.NullPool)
        self.queries = queries
        self.expected = expected
        self.stopping = threading.Event()
        self.max_wait = 0.0
        self.max_wait_query = ""
        self.count = 0
        self.errors: list[tuple[str, str]] = []  # (SQLSTATE, message)

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                with self.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as connection:
                    self._loop(connection)
        finally:
            self.engine.dispose()

    def _loop(self, connection: Connection) -> None:
        while not self.stopping.is_set():
            for sql, params in self.queries:
                started = time.perf_counter()
                try:
                    connection.execute(text(sql), params).all()
                except DBAPIError as error:
                    state = getattr(error.orig, "sqlstate", None) or getattr(
                        error.orig, "pgcode", None) or "?"
                    self.errors.append((state, one_line(error)))
                    if connection.invalidated:
                        return  # a new connection
                    continue
                wait = time.perf_counter() - started - self.expected
                self.count += 1
                if wait > self.max_wait:
                    self.max_wait, self.max_wait_query = wait, sql.split("FROM", 1)[-1][:60]


class _LagSampler(threading.Thread):
    """The standby's replay lag, as the primary sees it, every SAMPLE_SECONDS."""

    def __init__(self, primary_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(primary_url, poolclass=pool.NullPool)
        self.stopping = threading.Event()
        self.max_bytes = 0.0
        self.max_seconds = 0.0

    def run(self) -> None:
        try:
            with self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as connection:
                while not self.stopping.wait(SAMPLE_SECONDS):
                    lag_bytes, seconds = connection.execute(_LAG).one()
                    self.max_bytes = max(self.max_bytes, float(lag_bytes or 0))
                    self.max_seconds = max(self.max_seconds, float(seconds or 0))
        finally:
            self.engine.dispose()


@dataclass
class LoadFigures:
    """What the standby's readers saw while the load ran."""

    card_max_wait_ms: float
    card_max_wait_query: str
    card_queries: int
    question_max_wait_ms: float
    """The analyst's longest wait beyond its question's own seconds."""
    questions: int
    errors: list[str]
    cancellations: int
    """Errors "canceling statement due to conflict with recovery"."""
    max_replay_lag_ms: float
    max_replay_lag_bytes: float


class StandbyLoad:
    """Card readers and an analyst on the standby, and a lag sampler on the primary,
    for the duration of a ``with`` block; then their figures in ``figures``."""

    def __init__(self, primary_url: str, standby_url: str, card_readers: int = CARD_READERS,
                 question_seconds: float = QUESTION_SECONDS) -> None:
        queries = card_queries()
        self.cards = [_Reader(standby_url, queries) for _ in range(card_readers)]
        self.analyst = _Reader(standby_url, [(_QUESTION.text, {"seconds": question_seconds})],
                               expected=question_seconds)
        self.sampler = _LagSampler(primary_url)
        self.figures: LoadFigures | None = None

    def __enter__(self) -> StandbyLoad:
        for thread in (*self.cards, self.analyst, self.sampler):
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for thread in (*self.cards, self.analyst, self.sampler):
            thread.stopping.set()
        for thread in (*self.cards, self.analyst, self.sampler):
            thread.join()
        slowest = max(self.cards, key=lambda reader: reader.max_wait)
        errors = [error for reader in (*self.cards, self.analyst) for error in reader.errors]
        self.figures = LoadFigures(
            card_max_wait_ms=1000 * slowest.max_wait,
            card_max_wait_query=slowest.max_wait_query,
            card_queries=sum(reader.count for reader in self.cards),
            question_max_wait_ms=1000 * self.analyst.max_wait,
            questions=self.analyst.count,
            errors=[message for _state, message in errors],
            cancellations=sum(state in CONFLICT_WITH_RECOVERY for state, _message in errors),
            max_replay_lag_ms=1000 * self.sampler.max_seconds,
            max_replay_lag_bytes=self.sampler.max_bytes,
        )


@dataclass
class ModeFigures:
    """One mode (swaps or replica-safe): WAL and what the standby's readers saw."""

    mode: str
    wal_bytes_per_view: dict[str, int]
    methods: dict[str, str | None]
    full_refresh_wal_bytes: int
    """The mean of FULL_REFRESHES, as their seconds."""
    full_refresh_seconds: float
    load: LoadFigures
    replay_waits: dict[str, int] = field(default_factory=dict)
    """Replay waits over a second (deadlock_timeout) for standby queries, by conflict."""


@dataclass
class StandbyFigures:
    settings: str
    modes: list[ModeFigures] = field(default_factory=list)


def wal_position(engine: Engine) -> str:
    with engine.connect() as connection:
        return connection.execute(_WAL).scalar_one()


def wal_bytes(engine: Engine, before: str) -> int:
    after = wal_position(engine)
    with engine.connect() as connection:
        return int(connection.execute(_WAL_BYTES, {"after": after, "before": before})
                   .scalar_one())


def _refreshed(url: str, views: list[str] | None = None) -> dict[str, str | None]:
    results = refresh_views(url, views)
    failed = [result for result in results if not result.ok]
    if failed:
        raise SystemExit(f"refresh failed: {failed}")
    return {result.view: result.method for result in results}


def _set_feedback(standby: LocalServer, value: str) -> None:
    engine = create_engine(standby.url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"ALTER SYSTEM SET hot_standby_feedback = {value}")
            connection.exec_driver_sql("SELECT pg_reload_conf()")
    finally:
        engine.dispose()


def measure_mode(url: str, standby: LocalServer, views: list[str],
                 mode: tuple[str, str]) -> ModeFigures:
    replica_safe, feedback = mode
    _set_feedback(standby, feedback)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE analytics.refresh_settings SET replica_safe = :mode"),
                               {"mode": replica_safe})
        per_view: dict[str, int] = {}
        methods: dict[str, str | None] = {}
        for view in views:
            before = wal_position(engine)
            methods.update(_refreshed(url, [view]))
            per_view[view] = wal_bytes(engine, before)
        standby.wait_for_replay()
        logged = standby.logfile.stat().st_size
        with StandbyLoad(url, standby.url) as load:
            before = wal_position(engine)
            started = time.perf_counter()
            for _ in range(FULL_REFRESHES):
                _refreshed(url)
            seconds = (time.perf_counter() - started) / FULL_REFRESHES
            full = wal_bytes(engine, before) // FULL_REFRESHES
            standby.wait_for_replay()
        assert load.figures is not None
        with standby.logfile.open() as log:
            log.seek(logged)
            waits = Counter(_REPLAY_WAIT.findall(log.read()))
        return ModeFigures(MODES[mode], per_view, methods, full, seconds, load.figures,
                           dict(waits))
    finally:
        engine.dispose()


def measure_standby(server: LocalServer, url: str, views: list[str]) -> StandbyFigures:
    """Each of MODES, in turn, on a hot standby of ``server``."""
    with server.standby(settings={"log_recovery_conflict_waits": "on"}) as standby:
        figures = StandbyFigures(
            "standby: PostgreSQL's defaults (max_standby_streaming_delay 30 s, "
            "hot_standby_feedback off unless + feedback); "
            f"{CARD_READERS} card readers, an analyst's "
            f"{QUESTION_SECONDS:g}-second question on {BIG_VIEW} in a loop, during "
            f"{FULL_REFRESHES} full refreshes")
        for mode in MODES:
            figures.modes.append(measure_mode(url, standby, views, mode))
    return figures


def report_standby(figures: StandbyFigures) -> list[str]:
    lines = ["", f"Hot standby ({figures.settings}):",
             f"{'':34} " + " ".join(f"{mode.mode:>22}" for mode in figures.modes)]
    views = list(figures.modes[0].wal_bytes_per_view)

    def row(label: str, values: list[str]) -> str:
        return f"{label[:34]:34} " + " ".join(f"{value:>22}" for value in values)

    for view in views:
        lines.append(row(f"WAL {view}", [
            f"{mode.wal_bytes_per_view[view] / 2**20:,.1f} MiB ({mode.methods.get(view)})"
            for mode in figures.modes]))
    lines += [
        row("WAL per full refresh", [f"{mode.full_refresh_wal_bytes / 2**20:,.1f} MiB"
                                  for mode in figures.modes]),
        row("full refresh (under load, mean)", [f"{mode.full_refresh_seconds:.2f} s"
                                          for mode in figures.modes]),
        row("max replay lag", [f"{mode.load.max_replay_lag_ms:,.0f} ms"
                               for mode in figures.modes]),
        row("max replay lag (WAL)", [f"{mode.load.max_replay_lag_bytes / 2**20:,.1f} MiB"
                                     for mode in figures.modes]),
        row("card readers' longest wait", [f"{mode.load.card_max_wait_ms:,.0f} ms"
                                           for mode in figures.modes]),
        row("analyst's longest extra wait", [f"{mode.load.question_max_wait_ms:,.0f} ms"
                                             for mode in figures.modes]),
        row("card queries / questions", [f"{mode.load.card_queries:,} / {mode.load.questions}"
                                         for mode in figures.modes]),
        row("cancelled (conflict w. recovery)", [str(mode.load.cancellations)
                                                 for mode in figures.modes]),
        row("other errors", [str(len(mode.load.errors) - mode.load.cancellations)
                             for mode in figures.modes]),
        row("replay waits > 1 s (lock/snapshot)", [
            f"{mode.replay_waits.get('recovery conflict on lock', 0)} / "
            f"{mode.replay_waits.get('recovery conflict on snapshot', 0)}"
            for mode in figures.modes]),
    ]
    lines += [f"  {mode.mode}: {error}" for mode in figures.modes for error in mode.load.errors[:3]]
    return lines


def standby_from_json(data: dict[str, Any]) -> StandbyFigures:
    """StandbyFigures from what dataclasses.asdict made of them."""
    return StandbyFigures(data["settings"], [
        ModeFigures(**{**mode, "load": LoadFigures(**mode["load"])}) for mode in data["modes"]])
