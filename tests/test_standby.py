"""A hot standby (pg_basebackup -R) of a primary: status and health read there, never write.

Every transaction on a standby is read-only, so any write of a status or health
path fails there: these tests run them on a real standby.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from conftest import Replicated
from refresh_support import ALL_VIEWS
from sqlalchemy import create_engine, pool, text

from soleflip_analytics import check_health, refresh_views, upgrade, view_status
from soleflip_analytics.demo import seed

SCRIPT = str(Path(sys.executable).parent / "soleflip-analytics")

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
