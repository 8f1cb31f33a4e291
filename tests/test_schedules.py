"""Refresh schedules: which tiers are due when, and the pg_cron jobs of migration 0010.

The session's server preloads pg_cron with cron.database_name = cron_tests; a
database of that name is pg_cron's own, any other database is not. A second
server without pg_cron covers a server that does not preload it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from conftest import CRON_DATABASE
from refresh_support import ALL_VIEWS, CARD_VIEWS, add_sales, execute, scalar, wait_until
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine
from test_cli import cli
from test_migrations import snapshot

from soleflip_analytics import (
    SchedulesNotInstalledError,
    ViewStatus,
    aview_status,
    check_health,
    deploy,
    downgrade,
    install_schedules,
    refresh_views,
    schedule_status,
    upgrade,
    view_status,
)
from soleflip_analytics.schedules import (
    STRICT_SCHEDULES_ENVIRONMENT,
    CronServer,
    Placement,
    cron_job_name,
    install_jobs,
    parse_flag,
    place,
    remove_jobs,
)

UTC = timezone.utc
JOBS = {  # job: (schedule, command)
    "tiers": ("*/15 * * * *", "CALL analytics.run_scheduled_refreshes()"),
    "stale": ("7-59/10 * * * *", "CALL analytics.refresh_stale_views()"),
}
HOURLY = {"metabase_executive_metrics", "metabase_platform_performance",
          "metabase_inventory_status"}


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


@pytest.fixture
def engines() -> Iterator[Callable[[str], Engine]]:
    """Engines for URLs, disposed of after the test."""
    made: list[Engine] = []

    def make(url: str) -> Engine:
        made.append(create_engine(url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def cron_jobs(cron_engine: Engine) -> dict[str, tuple[str, str, str, bool]]:
    """The package's jobs in pg_cron: name -> (schedule, command, database, active)."""
    with cron_engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT jobname, schedule, command, database, active FROM cron.job "
            "WHERE starts_with(jobname, 'soleflip_analytics:')"
        )).all()
    jobs = {row[0]: tuple(row[1:]) for row in rows}
    assert len(jobs) == len(rows), "a job is there twice"
    return jobs


def call(engine: Engine, statement: str, **params: object) -> None:
    """CALL a procedure that commits: outside a transaction block."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(statement), params)


# --------------------------------------------------------------------------
# Which tiers are due: a pure function of the tick and the time zone.

def due_ticks(engine: Engine, zone: str, after: str, upto: str) -> dict[datetime, list[str]]:
    """Every tick in (after, upto] at which some tier is due."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT tick, analytics.due_tiers(tick, :zone) FROM generate_series("
            "CAST(:after AS timestamptz) + interval '15 minutes', CAST(:upto AS timestamptz), "
            "interval '15 minutes') AS tick"
        ), {"zone": zone, "after": after, "upto": upto}).all()
    return {tick: tiers for tick, tiers in rows if tiers}


def ticks_of(due: dict[datetime, list[str]], tier: str) -> list[datetime]:
    return sorted(tick for tick, tiers in due.items() if tier in tiers)


# One local day around each daylight-saving change (and a zone without one),
# from local midnight to local midnight, in UTC: (zone, after, upto, number of
# hourly runs, the daily run). Hourly runs are a real hour apart, except where
# the clock skips half an hour.
HOUR = timedelta(hours=1)
DAYS = [
    # Spring: 02:00 CET becomes 03:00 CEST. 23 hours; the daily run at 03:00.
    ("Europe/Berlin", "2026-03-28 23:00", "2026-03-29 22:00", 23, "2026-03-29 01:00"),
    # Autumn: 03:00 CEST becomes 02:00 CET. 25 hours; daily at the first 02:00.
    ("Europe/Berlin", "2025-10-25 22:00", "2025-10-26 23:00", 25, "2025-10-26 00:00"),
    # Spring: 02:00 EST becomes 03:00 EDT: daily at 03:00 EDT.
    ("America/New_York", "2026-03-08 05:00", "2026-03-09 04:00", 23, "2026-03-08 07:00"),
    # Autumn: 02:00 EDT becomes 01:00 EST, so 02:00 comes once, in EST.
    ("America/New_York", "2025-11-02 04:00", "2025-11-03 05:00", 25, "2025-11-02 07:00"),
    # +05:30 all year: every hourly run at :30 UTC.
    ("Asia/Kolkata", "2026-03-28 18:30", "2026-03-29 18:30", 24, "2026-03-28 20:30"),
    # +10:30 becomes +11:00 at 02:00, a half-hour change: 01:00, then 03:00 (90 minutes).
    ("Australia/Lord_Howe", "2025-10-04 13:30", "2025-10-05 13:00", 23, "2025-10-04 15:30"),
]


@pytest.mark.parametrize(("zone", "after", "upto", "hours", "daily"), DAYS,
                         ids=[f"{day[0]}-{day[1][:10]}" for day in DAYS])
def test_due_tiers_over_a_local_day_with_a_daylight_saving_change(
    migrated_engine: Engine, zone: str, after: str, upto: str, hours: int, daily: str
) -> None:
    due = due_ticks(migrated_engine, zone, after, upto)
    hourly = ticks_of(due, "hourly")
    assert len(hourly) == hours
    # Each at a local :00, the last one at the next local midnight.
    assert all(tick.astimezone(ZoneInfo(zone)).minute == 0 for tick in hourly)
    assert hourly[-1] == utc(upto)
    gaps = {later - earlier for earlier, later in pairwise(hourly)}
    assert gaps == ({HOUR, 1.5 * HOUR} if zone == "Australia/Lord_Howe" else {HOUR})
    assert ticks_of(due, "daily") == [utc(daily)]
    assert ticks_of(due, "weekly") == []


def test_the_weekly_tier_is_due_on_monday_at_three_in_summer_and_winter_time(
    migrated_engine: Engine,
) -> None:
    # Four weeks around the spring change, then around the autumn change.
    spring = due_ticks(migrated_engine, "Europe/Berlin", "2026-03-15 23:00", "2026-04-12 22:00")
    assert ticks_of(spring, "weekly") == [
        utc("2026-03-16 02:00"), utc("2026-03-23 02:00"),  # 03:00 CET
        utc("2026-03-30 01:00"), utc("2026-04-06 01:00"),  # 03:00 CEST
    ]
    assert len(ticks_of(spring, "daily")) == 28
    autumn = due_ticks(migrated_engine, "America/New_York", "2025-10-20 04:00",
                       "2025-11-17 05:00")
    assert ticks_of(autumn, "weekly") == [
        utc("2025-10-20 07:00"), utc("2025-10-27 07:00"),  # 03:00 EDT
        utc("2025-11-03 08:00"), utc("2025-11-10 08:00"),  # 03:00 EST
    ]
    assert len(ticks_of(autumn, "daily")) == 28


def test_due_tiers_since_an_earlier_tick_catches_up_once(migrated_engine: Engine) -> None:
    def due(tick: str, since: str | None) -> list[str]:
        return scalar(migrated_engine, "SELECT analytics.due_tiers(CAST(:tick AS timestamptz), "
                      "'Europe/Berlin', CAST(:since AS timestamptz))", tick=tick, since=since)

    # A server down from 01:50 to 02:40 (CEST): the next tick runs what was missed.
    assert due("2026-06-10 00:45+00", "2026-06-09 23:45+00") == ["hourly", "daily"]
    assert due("2026-06-10 00:45+00", None) == []
    assert due("2026-06-10 00:45+00", "2026-06-10 00:45+00") == []
    assert due("2026-06-15 01:00+00", "2026-06-01 00:00+00") == ["hourly", "daily", "weekly"]
    # Off-grid moments are fine too: the local :00 at 14:00 lies in between.
    assert due("2026-06-10 12:07+00", "2026-06-10 11:52+00") == ["hourly"]


# --------------------------------------------------------------------------
# The routines the jobs call.

def test_the_tier_job_refreshes_the_due_tiers_once_per_tick(migrated_engine: Engine) -> None:
    add_sales(migrated_engine, 3)
    execute(migrated_engine, "UPDATE analytics.schedule_state "
                             "SET last_tick = analytics.schedule_tick(now()) - interval '8 days'")
    call(migrated_engine, "CALL analytics.run_scheduled_refreshes()")
    log = [tuple(row) for row in _log(migrated_engine)]
    assert sorted(view for view, _trigger, _status in log) == sorted(ALL_VIEWS)
    assert {(trigger, status) for _view, trigger, status in log} == {("cron", "succeeded")}
    # Tier by tier: hourly, daily, weekly.
    assert {view for view, _, _ in log[:3]} == HOURLY
    assert log[-1][0] == "metabase_supplier_performance"

    # The same tick again (pg_cron runs a queued run late): nothing.
    execute(migrated_engine,
            "UPDATE analytics.schedule_state SET last_tick = analytics.schedule_tick(now())")
    call(migrated_engine, "CALL analytics.run_scheduled_refreshes()")
    assert len(_log(migrated_engine)) == len(log)


def test_a_tier_changed_per_deployment_takes_effect_at_the_next_run(
    migrated_engine: Engine,
) -> None:
    execute(migrated_engine, "UPDATE analytics.managed_views SET tier = 'hourly' "
                             "WHERE view_name = 'metabase_supplier_performance'")
    execute(migrated_engine, "UPDATE analytics.schedule_state "
                             "SET last_tick = analytics.schedule_tick(now()) - interval '1 hour'")
    call(migrated_engine, "CALL analytics.run_scheduled_refreshes()")
    assert HOURLY | {"metabase_supplier_performance"} <= {
        view for view, _, _ in _log(migrated_engine)
    }


def test_the_stale_job_refreshes_only_what_changed(migrated_engine: Engine) -> None:
    refresh_views(migrated_engine)
    execute(migrated_engine, "INSERT INTO core.suppliers (business_name) VALUES ('New')")
    call(migrated_engine, "CALL analytics.refresh_stale_views()")
    refreshed = {view for view, trigger, status in _log(migrated_engine)
                 if trigger == "cron" and status == "succeeded"}
    assert refreshed == {"metabase_inventory_status", "metabase_supplier_performance"} | CARD_VIEWS


def _log(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT view_name, triggered_by, status FROM analytics.refresh_log "
            "WHERE triggered_by <> 'migration' ORDER BY id"
        ))]


# --------------------------------------------------------------------------
# Where the jobs can go: a pure function of what the server says.

@pytest.mark.parametrize(
    ("server", "cron_database", "create_extension"),
    [
        (CronServer("shop", True, True, "shop", "1.4-1"), "shop", False),
        (CronServer("shop", True, True, "shop", "1.6.4"), "shop", False),
        (CronServer("shop", True, True, "shop", None), "shop", True),
        (CronServer("shop", True, True, "postgres", None), "postgres", False),
    ],
)
def test_where_the_jobs_go(server: CronServer, cron_database: str,
                           create_extension: bool) -> None:
    assert place(server) == Placement(cron_database, create_extension)


@pytest.mark.parametrize(
    ("server", "reason"),
    [
        (CronServer("shop", False, False, None, None), "not installed on the database server"),
        (CronServer("shop", True, False, None, None), "not in shared_preload_libraries"),
        (CronServer("shop", True, True, None, None), "GRANT pg_read_all_settings"),
        (CronServer("shop", True, True, "shop", "1.3"), "older than 1.4"),
    ],
)
def test_why_the_jobs_cannot_go_anywhere(server: CronServer, reason: str) -> None:
    placement = place(server)
    assert placement.cron_database is None
    assert placement.reason is not None and reason in placement.reason
    assert "db install-schedules" in placement.reason
    if not server.preloaded:
        assert "shared_preload_libraries = 'pg_cron'" in placement.reason
        assert "cron.database_name = 'shop'" in placement.reason


def test_job_names_are_namespaced_and_fit_pg_crons_name_type() -> None:
    assert cron_job_name("shop", "tiers") == "soleflip_analytics:shop:tiers"
    long_names = [cron_job_name("ä" * 40 + suffix, "stale") for suffix in ("a", "b")]
    assert all(len(name.encode()) <= 63 for name in long_names)
    assert all(name.startswith("soleflip_analytics:") and name.endswith(":stale")
               for name in long_names)
    assert long_names[0] != long_names[1]


def test_strict_flag_values() -> None:
    assert [parse_flag(value) for value in ("1", "true", "Yes", "on", True)] == [True] * 5
    assert [parse_flag(value) for value in (None, "", "0", "false", "off")] == [False] * 5
    with pytest.raises(ValueError, match="strict_schedules must be true or false"):
        parse_flag("maybe")


# --------------------------------------------------------------------------
# In pg_cron's own database.

@pytest.fixture
def cron_url(make_database: Callable[..., str]) -> str:
    """pg_cron's database (cron.database_name), with the source contract, no extension yet."""
    return make_database(name=CRON_DATABASE)


def test_upgrade_installs_the_jobs_once_and_downgrade_removes_them(
    cron_url: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(cron_url)
    before = snapshot(engine)
    upgrade(cron_url)
    jobs = cron_jobs(engine)
    assert {name: job[:3] for name, job in jobs.items()} == {
        f"soleflip_analytics:{CRON_DATABASE}:{job}": (*spec, CRON_DATABASE)
        for job, spec in JOBS.items()
    } | {f"soleflip_analytics:{CRON_DATABASE}:purge": (
        "40 4 * * *",
        scalar(engine, "SELECT command FROM analytics.schedules WHERE job = 'purge'"),
        CRON_DATABASE,
    )}
    assert all(active for *_, active in jobs.values())
    assert scalar(engine, "SELECT bool_and(installed) FROM analytics.schedules") is True

    install_schedules(cron_url)  # applying again replaces, never duplicates
    assert cron_jobs(engine).keys() == jobs.keys()

    downgrade(cron_url, "0009")
    assert scalar(engine, "SELECT to_regclass('cron.job')") is None  # the migration created it
    upgrade(cron_url)
    assert cron_jobs(engine).keys() == jobs.keys()
    downgrade(cron_url, "base")
    assert snapshot(engine) == before


def test_downgrade_copes_with_a_job_removed_by_hand_and_health_reports_it(
    cron_url: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(cron_url)
    upgrade(cron_url)
    refresh_views(engine)
    assert check_health(engine).healthy
    execute(engine, f"SELECT cron.unschedule('soleflip_analytics:{CRON_DATABASE}:stale')")
    problems = check_health(engine).problems
    assert [(p.view, p.check) for p in problems] == [(None, "schedule_missing")]
    assert "db install-schedules" in problems[0].message

    downgrade(cron_url, "0009")  # and, with no job left, the pg_cron it created
    assert scalar(engine, "SELECT to_regclass('cron.job')") is None


def test_a_job_really_fires_and_refreshes_with_trigger_cron(
    running_pg_cron: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(running_pg_cron)
    upgrade(running_pg_cron)
    tiers_job = f"soleflip_analytics:{CRON_DATABASE}:tiers"
    # Every tier due (eight days since the last tick); the job every minute,
    # or every second where pg_cron has seconds (1.5 and later).
    execute(engine, "UPDATE analytics.schedule_state "
                    "SET last_tick = analytics.schedule_tick(now()) - interval '8 days'")
    seconds = scalar(engine, "SELECT string_to_array(extversion, '.')::text[] >= '{1,5}' "
                             "FROM pg_extension WHERE extname = 'pg_cron'")
    execute(engine, "UPDATE cron.job SET schedule = :schedule WHERE jobname = :name",
            schedule="1 seconds" if seconds else "* * * * *", name=tiers_job)

    def refreshed_by_cron() -> set[str]:
        return {view for view, trigger, status in _log(engine)
                if trigger == "cron" and status == "succeeded"}

    assert wait_until(lambda: refreshed_by_cron() == ALL_VIEWS, timeout=75, interval=0.5)
    # Back to every 15 minutes, once the run has ended.
    execute(engine, "UPDATE cron.job SET schedule = '*/15 * * * *' WHERE jobname = :name",
            name=tiers_job)
    wait_until(lambda: not scalar(
        engine, "SELECT EXISTS (SELECT FROM cron.job_run_details "
                "WHERE status NOT IN ('succeeded', 'failed'))"), interval=0.2)
    tiers = next(job for job in schedule_status(engine) if job.job == "tiers")
    assert (tiers.found, tiers.active, tiers.last_run_status) == (True, True, "succeeded")
    assert tiers.cron_schedule == tiers.schedule == "*/15 * * * *"
    assert {status.refresh_schedule for status in view_status(engine)} == {tiers}
    assert check_health(engine).healthy

    # A failed run shows in health.
    execute(engine, "INSERT INTO cron.job_run_details (jobid, runid, status, return_message, "
                    "start_time, end_time) SELECT jobid, nextval('cron.runid_seq'), 'failed', "
                    "'ERROR: boom', now(), now() FROM cron.job WHERE jobname = :name",
            name=tiers_job)
    (problem,) = check_health(engine).problems
    assert (problem.check, problem.view) == ("schedule_failed", None)
    assert "ERROR: boom" in problem.message and tiers_job in problem.message


def test_the_purge_job_deletes_only_the_packages_old_run_history(
    cron_url: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(cron_url)
    upgrade(cron_url)
    execute(engine, "SELECT cron.schedule('host:nightly', '0 1 * * *', 'SELECT 1')")
    execute(engine, """
        INSERT INTO cron.job_run_details (jobid, runid, status, start_time, end_time)
        SELECT j.jobid, nextval('cron.runid_seq'), 'succeeded', now() - age, now() - age
        FROM cron.job j, (VALUES (interval '20 days'), (interval '1 day')) AS ages (age)
    """)
    execute(engine, scalar(engine, "SELECT command FROM analytics.schedules WHERE job = 'purge'"))
    with engine.connect() as connection:  # the inserted rows, not real runs
        kept = connection.execute(text(
            "SELECT j.jobname, count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
            "WHERE d.start_time < now() - interval '12 hours' GROUP BY 1"
        )).all()
    assert dict(kept) == {"host:nightly": 2, **{
        f"soleflip_analytics:{CRON_DATABASE}:{job}": 1 for job in ("tiers", "stale", "purge")
    }}
    execute(engine, "SELECT cron.unschedule('host:nightly')")


def test_a_deploying_role_without_superuser_rights_gets_a_warning_and_a_deploy(
    cron_url: str, engines: Callable[[str], Engine], caplog: pytest.LogCaptureFixture
) -> None:
    engine = engines(cron_url)
    schemas = "core, catalog, inventory, transactions"
    for statement in ("CREATE ROLE soleflip_deployer LOGIN",
                      f"GRANT CREATE ON DATABASE {CRON_DATABASE} TO soleflip_deployer",
                      "GRANT CREATE ON SCHEMA public TO soleflip_deployer",
                      f"GRANT USAGE ON SCHEMA {schemas} TO soleflip_deployer",
                      f"GRANT SELECT ON ALL TABLES IN SCHEMA {schemas} TO soleflip_deployer"):
        execute(engine, statement)
    deployer_url = cron_url.replace("postgres@", "soleflip_deployer@")
    try:
        with caplog.at_level(logging.WARNING, logger="soleflip_analytics.schedules"):
            # It may not even read cron.database_name.
            upgrade(deployer_url)
            assert "may not read which database it uses" in caplog.text
            downgrade(deployer_url, "base")
            caplog.clear()
            # It may read it, but not create the extension.
            execute(engine, "GRANT pg_read_all_settings TO soleflip_deployer")
            upgrade(deployer_url)
        assert "could not create it (permission denied to create extension" in caplog.text
        assert f"CREATE EXTENSION pg_cron in {CRON_DATABASE}" in caplog.text
        assert scalar(engine, "SELECT to_regclass('cron.job')") is None
        assert scalar(engine, "SELECT bool_or(installed) FROM analytics.schedules") is False
        downgrade(deployer_url, "base")
    finally:
        execute(engine, "DROP OWNED BY soleflip_deployer")
        execute(engine, "DROP ROLE soleflip_deployer")


# --------------------------------------------------------------------------
# In a database that is not pg_cron's.

@pytest.fixture
def cron_database_with_pg_cron(make_database: Callable[..., str],
                               engines: Callable[[str], Engine]) -> Engine:
    engine = engines(make_database(contract=False, name=CRON_DATABASE))
    execute(engine, "CREATE EXTENSION pg_cron")
    return engine


def test_from_another_database_the_jobs_go_to_pg_crons_database(
    cron_database_with_pg_cron: Engine, source_url: str, source_engine: Engine
) -> None:
    cron = cron_database_with_pg_cron
    upgrade(source_url)
    shop = source_engine.url.database
    expected = {f"soleflip_analytics:{shop}:{job}": (*spec, shop, True)
                for job, spec in JOBS.items()}
    jobs = cron_jobs(cron)
    assert {name: job for name, job in jobs.items() if not name.endswith(":purge")} == expected
    assert jobs[f"soleflip_analytics:{shop}:purge"][2] == CRON_DATABASE  # the purge runs there
    assert scalar(source_engine, "SELECT array_agg(DISTINCT cron_database) "
                                 "FROM analytics.schedules") == [CRON_DATABASE]
    # Status and health read pg_cron's tables over a second connection; not from
    # asyncio code, where it would block the event loop.
    (status,) = {status.refresh_schedule for status in view_status(source_engine)}
    assert (status.found, status.active, status.cron_database) == (True, True, CRON_DATABASE)
    (status,) = {status.refresh_schedule for status in asyncio.run(async_status(source_engine))}
    assert status.found is None and "asyncio code" in status.lookup_error

    downgrade(source_url, "0009")
    assert cron_jobs(cron) == {}


async def async_status(engine: Engine) -> list[ViewStatus]:
    async_engine = create_async_engine(engine.url.set(drivername="postgresql+psycopg"))
    try:
        return await aview_status(async_engine)
    finally:
        await async_engine.dispose()


def test_the_jobs_in_pg_crons_database_commit_and_roll_back_with_the_migration(
    cron_database_with_pg_cron: Engine, source_url: str, source_engine: Engine
) -> None:
    cron = cron_database_with_pg_cron
    upgrade(source_url)
    installed = cron_jobs(cron)
    for finish in ("rollback", "commit"):
        with source_engine.connect() as connection:
            with connection.begin() as transaction:
                remove_jobs(connection)
                assert cron_jobs(cron) == installed  # not yet committed
                getattr(transaction, finish)()
        assert cron_jobs(cron) == (installed if finish == "rollback" else {})
    for finish in ("rollback", "commit"):
        with source_engine.connect() as connection:
            with connection.begin() as transaction:
                install_jobs(connection, strict=True)
                getattr(transaction, finish)()
        assert cron_jobs(cron) == ({} if finish == "rollback" else installed)


def test_when_pg_crons_database_is_unreachable_the_deploy_warns_and_succeeds(
    source_url: str, source_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="soleflip_analytics.schedules"):
        upgrade(source_url)
    assert f"pg_cron's database is {CRON_DATABASE}" in caplog.text
    assert "could not connect" in caplog.text
    assert "db install-schedules" in caplog.text
    refresh_views(source_engine)
    (status,) = {status.refresh_schedule for status in view_status(source_engine)}
    assert not status.installed and "could not connect" in status.reason
    assert check_health(source_engine).healthy  # not a problem of the views: it warned

    result = cli("status", url=source_url)
    assert result.returncode == 0
    assert "refresh schedules are NOT installed: pg_cron's database is" in result.stdout
    failed = cli("db", "install-schedules", url=source_url)
    assert failed.returncode == 1
    assert "could not connect" in failed.stderr


# --------------------------------------------------------------------------
# Strict mode, and a server without pg_cron.

def test_strict_mode_fails_and_leaves_nothing_behind(
    source_url: str, source_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(source_engine)

    def fails(run: Callable[[], None]) -> None:
        with pytest.raises(SchedulesNotInstalledError, match="could not be installed"):
            run()
        assert snapshot(source_engine) == before  # no schema, no version table

    fails(lambda: upgrade(source_url, strict_schedules=True))
    config = deploy.alembic_config(source_url)
    config.cmd_opts = argparse.Namespace(x=["strict_schedules=true"])
    fails(lambda: command.upgrade(config, "head"))
    assert cli("db", "upgrade", "--strict-schedules", url=source_url).returncode == 1
    assert snapshot(source_engine) == before

    monkeypatch.setenv(STRICT_SCHEDULES_ENVIRONMENT, "1")
    fails(lambda: upgrade(source_url))
    upgrade(source_url, strict_schedules=False)  # the caller's word wins over the environment
    assert scalar(source_engine, "SELECT bool_or(installed) FROM analytics.schedules") is False


def test_a_server_without_pg_cron_preloaded_warns_how_to_enable_it(
    make_database_without_pg_cron: Callable[..., str], engines: Callable[[str], Engine],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = make_database_without_pg_cron()
    engine = engines(url)
    with pytest.raises(SchedulesNotInstalledError, match="not in shared_preload_libraries"):
        upgrade(url, strict_schedules=True)
    with caplog.at_level(logging.WARNING, logger="soleflip_analytics.schedules"):
        upgrade(url)
    database = engine.url.database
    for advice in ("pg_cron is not in shared_preload_libraries",
                   "shared_preload_libraries = 'pg_cron'",
                   f"cron.database_name = '{database}'", "restart",
                   "db install-schedules", "strict"):
        assert advice in caplog.text
    assert [job.installed for job in schedule_status(engine)] == [False, False, False]
