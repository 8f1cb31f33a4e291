"""A hot standby (pg_basebackup -R) of a primary: status and health read there, never write.

Every transaction on a standby is read-only, so any write of a status or health
path fails there: these tests run them on a real standby.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from conftest import Replicated
from refresh_support import ALL_VIEWS
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from soleflip_analytics import StandbyError, check_health, refresh_views, upgrade, view_status
from soleflip_analytics.demo import seed
from soleflip_analytics.view_migrations import update_view

SCRIPT = str(Path(sys.executable).parent / "soleflip-analytics")
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

# A refresh whose server process is gone: status and health on the primary mark it
# interrupted (a write), on the standby they leave it alone.
_DEAD_REFRESH = text(
    "INSERT INTO analytics.refresh_log (view_name, status, started_at, finished_at, "
    "triggered_by, backend_pid) "
    "VALUES ('metabase_brand_analytics', 'running', now(), now(), 'manual', 2147483647) "
    "RETURNING id"
)


def _deployed(replicated: Replicated, orders: int = 300) -> None:
    seed(replicated.primary_url, orders=orders, seed=1)
    upgrade(replicated.primary_url)
    assert all(result.ok for result in refresh_views(replicated.primary_url))
    replicated.wait_for_replay()


def _log_status(url: str, entry: int) -> str:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT status FROM analytics.refresh_log WHERE id = :id"), {"id": entry}
        ).scalar_one()


def test_the_standby_shows_what_the_primary_wrote_and_refuses_writes(
    replicated_database: Replicated,
) -> None:
    primary = create_engine(replicated_database.primary_url, poolclass=pool.NullPool)
    standby = create_engine(replicated_database.standby_url, poolclass=pool.NullPool)
    with primary.begin() as connection:
        connection.exec_driver_sql("INSERT INTO core.platforms (name, slug) VALUES ('A', 'a')")
    replicated_database.wait_for_replay()
    with standby.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT pg_is_in_recovery(), (SELECT name FROM core.platforms WHERE slug = 'a')"
        ).one() == (True, "A")
        with pytest.raises(DBAPIError, match="read-only transaction"):
            connection.exec_driver_sql("DELETE FROM core.platforms")
    primary.dispose()
    standby.dispose()


def test_a_refresh_pointed_at_the_standby_says_to_refresh_on_the_primary(
    replicated_database: Replicated,
) -> None:
    _deployed(replicated_database)
    with pytest.raises(StandbyError, match="hot standby .* refresh on the primary"):
        refresh_views(replicated_database.standby_url)
    result = subprocess.run(
        [SCRIPT, "refresh", "--database-url", replicated_database.standby_url],
        capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: This server is a hot standby (read-only): refresh on the primary, whose "
        "refreshes the standby replays; status and health work on both."], result.stderr


def test_status_and_health_on_a_standby_write_nothing_and_show_the_replay_lag(
    replicated_database: Replicated,
) -> None:
    _deployed(replicated_database)
    primary = create_engine(replicated_database.primary_url, poolclass=pool.NullPool)
    with primary.begin() as connection:
        entry = connection.execute(_DEAD_REFRESH).scalar_one()
    replicated_database.wait_for_replay()

    statuses = {status.name: status for status in view_status(replicated_database.standby_url)}
    assert set(statuses) == ALL_VIEWS
    assert {status.replay_lag for status in statuses.values()} == {timedelta(0)}
    assert statuses["metabase_brand_analytics"].last_attempt_status == "succeeded"
    report = check_health(replicated_database.standby_url)
    assert report.healthy, str(report)
    assert report.replay_lag == timedelta(0)
    assert _log_status(replicated_database.standby_url, entry) == "running"

    for verb in (["health"], ["status"], ["status", "--json"], ["health", "--json"]):
        result = subprocess.run(
            [SCRIPT, *verb, "--database-url", replicated_database.standby_url],
            capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, (verb, result.stdout, result.stderr)
        assert "replay" in result.stdout, (verb, result.stdout)
    assert "(on a hot standby, replay lag 0 s)" in subprocess.run(
        [SCRIPT, "health", "--database-url", replicated_database.standby_url],
        capture_output=True, text=True, check=True).stdout
    assert _log_status(replicated_database.standby_url, entry) == "running"

    # The primary's own status marks the dead refresh, and reports no replay lag.
    assert {status.replay_lag for status in view_status(replicated_database.primary_url)} == {
        None}
    assert _log_status(replicated_database.primary_url, entry) == "interrupted"
    primary.dispose()


@contextmanager
def _replay_paused(replicated: Replicated) -> Iterator[None]:
    standby = create_engine(replicated.standby_url, isolation_level="AUTOCOMMIT",
                            poolclass=pool.NullPool)
    with standby.connect() as connection:
        connection.exec_driver_sql("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            connection.exec_driver_sql("SELECT pg_wal_replay_resume()")
    standby.dispose()


def test_health_warns_when_the_standby_lags_more_than_a_tier_allows(
    replicated_database: Replicated,
) -> None:
    _deployed(replicated_database)
    with _replay_paused(replicated_database):
        primary = create_engine(replicated_database.primary_url, poolclass=pool.NullPool)
        with primary.begin() as connection:
            connection.exec_driver_sql("INSERT INTO core.platforms (name, slug) "
                                       "VALUES ('Later', 'later')")
        primary.dispose()
        replicated_database.standby.wait_for_replay(received_only=True)

        lags = {status.replay_lag for status in view_status(replicated_database.standby_url)}
        assert len(lags) == 1 and lags.pop() > timedelta(0)
        report = check_health(replicated_database.standby_url)
        assert report.healthy and not report.problems, str(report)  # hours allowed
        allowance = {"metabase_brand_analytics": timedelta(microseconds=1)}
        report = check_health(replicated_database.standby_url, max_age=allowance)
        lagging = [problem for problem in report.problems if problem.check == "replay_lag"]
        assert [problem.warning for problem in lagging] == [True]
        assert "more than analytics.metabase_brand_analytics allows" in lagging[0].message
    replicated_database.wait_for_replay()
    assert check_health(replicated_database.standby_url).replay_lag == timedelta(0)


def _standby_load() -> ModuleType:
    """benchmarks/standby.py: the readers the refresh benchmark runs on its standby."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module("standby")


def _contents(url: str) -> dict[str, str]:
    """Each view's rows, as one digest."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        return {view: connection.exec_driver_sql(
            f"SELECT md5(coalesce(string_agg(v::text, '|' ORDER BY v::text), '')) "
            f"FROM analytics.{view} v").scalar_one() for view in sorted(ALL_VIEWS)}


def _redeploy(url: str, view: str) -> None:
    """A deploy of ``view`` as a migration runs it (update_view, side by side)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            version = connection.execute(
                text("SELECT version FROM analytics.managed_views WHERE view_name = :view"),
                {"view": view}).scalar_one()
            update_view(view, version=version, revert_to_version=version)
    engine.dispose()


def _replica_safe(url: str) -> bool:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT analytics.replica_safe_refresh()").scalar_one()


def test_refreshes_and_a_deploy_on_the_primary_neither_cancel_nor_stall_standby_readers(
    replicated_database: Replicated,
) -> None:
    """Two readers run every card's query on the standby and a third a 3-second question
    on metabase_inventory_status, in a loop, while the primary refreshes every view
    three times with swaps forced (swap_min_rows 0) and deploys a view: no error, no
    card query waits over 1 s, and the standby ends with the primary's rows."""
    _deployed(replicated_database, orders=2_000)
    primary = create_engine(replicated_database.primary_url, poolclass=pool.NullPool)
    with primary.begin() as connection:
        connection.exec_driver_sql("UPDATE analytics.refresh_settings SET swap_min_rows = 0")
    assert _replica_safe(replicated_database.primary_url)  # the standby streams
    replicated_database.wait_for_replay()

    standby = _standby_load()
    with standby.StandbyLoad(replicated_database.primary_url,
                             replicated_database.standby_url) as load:
        results = [result for _ in range(3)
                   for result in refresh_views(replicated_database.primary_url)]
        # update_view side by side: the big view and its card views swapped in.
        _redeploy(replicated_database.primary_url, standby.BIG_VIEW)
        replicated_database.wait_for_replay()
    figures = load.figures
    assert figures is not None
    assert figures.errors == []
    assert figures.card_max_wait_ms <= 1000, figures
    assert figures.questions >= 1 and figures.card_queries > 100, figures
    assert {result.status for result in results} == {"succeeded"}
    assert {result.method for result in results} == {"concurrently"}
    assert {result.detail for result in results if result.view == standby.BIG_VIEW} == {
        "replica-safe: no swap while hot standbys read the views "
        "(analytics.refresh_settings.replica_safe)"}
    assert _contents(replicated_database.standby_url) == _contents(
        replicated_database.primary_url)
    primary.dispose()


def test_replica_safe_refresh_follows_its_setting_and_the_standbys(
    replicated_database: Replicated, migrated_engine: Engine,
) -> None:
    _deployed(replicated_database)
    primary = create_engine(replicated_database.primary_url, poolclass=pool.NullPool)
    for setting, expected in (("auto", True), ("off", False), ("on", True)):
        with primary.begin() as connection:
            connection.execute(text("UPDATE analytics.refresh_settings SET replica_safe = :s"),
                               {"s": setting})
        assert _replica_safe(replicated_database.primary_url) is expected, setting
    primary.dispose()
    # No view may be truncated by vacuum, which takes a lock the standbys replay.
    with migrated_engine.connect() as connection:
        options = dict(connection.exec_driver_sql(
            "SELECT matviewname::text, 'vacuum_truncate=off' = ANY(c.reloptions) "
            "FROM pg_matviews m JOIN pg_class c ON c.oid = (schemaname || '.' || matviewname)"
            "::regclass WHERE schemaname = 'analytics'").all())
    assert options == dict.fromkeys(ALL_VIEWS, True)
    # A server without standbys swaps; with replica_safe on it refreshes concurrently.
    with migrated_engine.begin() as connection:
        connection.exec_driver_sql("UPDATE analytics.refresh_settings SET swap_min_rows = 0")
    assert _replica_safe(str(migrated_engine.url.render_as_string(hide_password=False))) is False
    assert {result.method for result in refresh_views(migrated_engine, "metabase_brand_analytics")
            } == {"swap"}
    with migrated_engine.begin() as connection:
        connection.exec_driver_sql("UPDATE analytics.refresh_settings SET replica_safe = 'on'")
    assert {result.method for result in refresh_views(migrated_engine, "metabase_brand_analytics")
            } == {"concurrently"}
