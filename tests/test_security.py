"""Least privilege, with real roles on real PostgreSQL: the reader, the refresher, hardening.

Roles belong to the whole server and outlive each test's database, so every
test uses role names of its own and drops them at the end.
"""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from refresh_support import ALL_VIEWS, SEVEN_VIEWS, add_sales, execute, scalar
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError
from test_cli import cli
from test_dashboards import CARDS, run_card
from test_migrations import snapshot

from soleflip_analytics import (
    RefreshCoordinator,
    UnknownTableError,
    UnknownViewError,
    check_health,
    downgrade,
    refresh_views,
    upgrade,
    view_status,
)
from soleflip_analytics.roles import (
    InvalidRoleNameError,
    RoleSetupError,
    validate_role_name,
)
from soleflip_analytics.view_migrations import update_view

ROOT = Path(__file__).resolve().parent.parent
SOURCE_TABLES = ("transactions.orders", "inventory.stock", "core.suppliers",
                 "core.platforms", "catalog.product", "catalog.brand", "catalog.category")
BOOKKEEPING_THE_REFRESHER_READS = {
    "view_freshness", "managed_views", "refresh_log", "refresh_requests", "source_changes",
    "view_sources", "refresh_order", "schedules", "settings", "refresh_locks",
}
# Every routine of schema analytics, and who besides its owner may execute it.
# PUBLIC: only the time zone checks, which the CHECK on analytics.settings runs
# as whoever writes the row. The reader: nothing. The refresher: what refresh,
# status and health run as it.
PUBLIC_ROUTINES = {"analytics.is_time_zone(text)", "analytics.check_time_zone(text)"}
REFRESHER_ROUTINES = PUBLIC_ROUTINES | {
    "analytics.refresh_view(text,boolean,text,boolean,boolean)",
    "analytics.refresh_tier(text,text,boolean)",
    "analytics.request_refresh(text)",
    "analytics.has_refresh_request(text)",
    "analytics.begin_refresh(text,text)",
    "analytics.log_up_to_date(text,text)",
    "analytics.fail_refresh(bigint,text,text)",
    "analytics.reconcile_refresh_log()",
    "analytics.log_refresh_failure(text,text,timestamp with time zone,text,text)",
    "analytics.sources_have_rows(text)",
    "analytics.view_is_stale(text)",
    "analytics.refresh_lock_holder(oid)",
    "analytics.allows_concurrent_refresh(oid)",
    "analytics.relation_oid(text,name[])",
    "analytics.is_tracked(oid)",
    "analytics.check_refresh_arguments(text,boolean,text,boolean,boolean)",
}
INJECTIONS = [
    "x; DROP TABLE transactions.orders",
    "metabase_executive_metrics; DROP TABLE transactions.orders",
    '"quoted"',
    '"metabase_executive_metrics"',
    "transactions.orders",
    "analytics.refresh_log",
    "refresh_log",
    "view_freshness",
]

_numbers = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_numbers)}"


def role_exists(engine: Engine, name: str) -> bool:
    return bool(scalar(engine, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :n)", n=name))


def drop_roles(engine: Engine, *names: str) -> None:
    """Drop roles and whatever this database granted them (another test's roles stay)."""
    with engine.begin() as connection:
        for name in names:
            if connection.execute(text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :n)"),
                                  {"n": name}).scalar_one():
                connection.execute(text(f'DROP OWNED BY "{name}"; DROP ROLE "{name}"'))


def as_role(url: str, login: str) -> Engine:
    """An engine logged in as ``login`` (the test server trusts 127.0.0.1)."""
    return create_engine(make_url(url).set(username=login))


@dataclass(frozen=True)
class Deployment:
    admin: Engine
    reader_role: str
    refresher_role: str
    reader: Engine
    """Logged in as a member of the reader role, as Metabase would be."""
    refresher: Engine
    """Logged in as a member of the refresher role, as the application would be."""


@pytest.fixture
def deployment(source_url: str, source_engine: Engine) -> Iterator[Deployment]:
    """The migrations applied with roles of this test's own, and one login for each role."""
    reader_role, refresher_role = unique("reader"), unique("refresher")
    reader_login, refresher_login = f"{reader_role}_login", f"{refresher_role}_login"
    upgrade(source_url, reader_role=reader_role, refresher_role=refresher_role)
    execute(source_engine,
            f"CREATE ROLE {reader_login} LOGIN IN ROLE {reader_role}; "
            f"CREATE ROLE {refresher_login} LOGIN IN ROLE {refresher_role}")
    reader, refresher = as_role(source_url, reader_login), as_role(source_url, refresher_login)
    try:
        yield Deployment(source_engine, reader_role, refresher_role, reader, refresher)
    finally:
        reader.dispose()
        refresher.dispose()
        drop_roles(source_engine, reader_login, refresher_login, reader_role, refresher_role)


def denied(engine: Engine, statement: str) -> None:
    """Assert that the statement fails for lack of privileges."""
    with pytest.raises(ProgrammingError) as failure:
        with engine.begin() as connection:
            connection.execute(text(statement))
    message = str(failure.value.orig)
    assert "permission denied" in message or "must be owner" in message, message


# -- the reader: the views and nothing else ------------------------------------


def test_the_reader_reads_every_view_and_nothing_else(deployment: Deployment) -> None:
    add_sales(deployment.admin, 20)
    refresh_views(deployment.admin)
    with deployment.reader.connect() as connection:
        for view in ALL_VIEWS:
            connection.execute(text(f"SELECT * FROM analytics.{view} LIMIT 1")).all()
        assert connection.execute(
            text("SELECT count(*) FROM analytics.view_freshness")
        ).scalar_one() == len(ALL_VIEWS)
    assert scalar(deployment.reader,
                  "SELECT count(*) FROM analytics.metabase_platform_performance") > 0
    for table in SOURCE_TABLES:
        denied(deployment.reader, f"SELECT * FROM {table} LIMIT 1")
    for view in ALL_VIEWS:
        denied(deployment.reader, f"REFRESH MATERIALIZED VIEW analytics.{view}")
    denied(deployment.reader, "SELECT * FROM analytics.refresh_view('metabase_executive_metrics')")
    denied(deployment.reader, "CALL analytics.refresh_tier('hourly')")
    denied(deployment.reader, "SELECT analytics.request_refresh('metabase_executive_metrics')")
    denied(deployment.reader,
           "INSERT INTO analytics.refresh_log (view_name, triggered_by, status, started_at, "
           "finished_at) VALUES ('metabase_executive_metrics', 'manual', 'skipped', now(), now())")
    denied(deployment.reader, "SELECT * FROM analytics.refresh_log")
    denied(deployment.reader, "SELECT * FROM analytics.package_roles")
    denied(deployment.reader, "UPDATE analytics.settings SET business_time_zone = 'UTC'")
    denied(deployment.reader, "UPDATE analytics.refresh_settings SET log_retention = '1 day'")
    denied(deployment.reader, "CREATE TABLE analytics.mine (x int)")
    with pytest.raises(ProgrammingError, match="permission denied"):
        refresh_views(deployment.reader)


def test_every_dashboard_card_runs_as_the_reader(deployment: Deployment) -> None:
    add_sales(deployment.admin, 20)
    refresh_views(deployment.admin)
    with deployment.reader.connect() as connection:
        for name in CARDS:
            run_card(connection, name, {})


def test_the_privileges_on_every_relation_of_schema_analytics(deployment: Deployment) -> None:
    """Whatever a later migration adds: readers read views, nobody but the owner writes."""
    with deployment.admin.connect() as connection:
        rows = connection.execute(text(
            """
            SELECT c.relname::text AS name, c.relkind::text AS kind,
                   has_table_privilege(:reader, c.oid, 'SELECT') AS reader_reads,
                   has_table_privilege(:refresher, c.oid, 'SELECT') AS refresher_reads,
                   has_table_privilege(:reader, c.oid,
                                       'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                       AS reader_writes,
                   has_table_privilege(:refresher, c.oid,
                                       'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                       AS refresher_writes
            FROM pg_class c
            WHERE c.relnamespace = 'analytics'::regnamespace
              AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            """
        ), {"reader": deployment.reader_role, "refresher": deployment.refresher_role}).all()
    matviews = {row.name for row in rows if row.kind == "m"}
    assert matviews == ALL_VIEWS
    assert ({row.name for row in rows if row.reader_reads}
            == matviews | {"view_freshness", "settings"})
    assert ({row.name for row in rows if row.refresher_reads}
            == matviews | BOOKKEEPING_THE_REFRESHER_READS)
    # The refresher may read all the reader may.
    assert ({row.name for row in rows if row.reader_reads}
            <= {row.name for row in rows if row.refresher_reads})
    assert [row.name for row in rows if row.reader_writes or row.refresher_writes] == []
    with deployment.admin.connect() as connection:
        for role in (deployment.reader_role, deployment.refresher_role):
            for schema in ("analytics", "core", "catalog", "inventory", "transactions", "public"):
                assert not connection.execute(
                    text("SELECT has_schema_privilege(:role, :schema, 'CREATE')"),
                    {"role": role, "schema": schema},
                ).scalar_one()
            for table in SOURCE_TABLES:
                assert not connection.execute(
                    text("SELECT has_table_privilege(:role, :table, 'SELECT')"),
                    {"role": role, "table": table},
                ).scalar_one(), (role, table)


# -- the refresher: refresh and status, no writes, no shop data ----------------


def test_the_refresher_refreshes_and_reads_status_without_reading_the_shop(
    deployment: Deployment,
) -> None:
    add_sales(deployment.admin, 20)
    results = refresh_views(deployment.refresher)
    assert {result.view for result in results} == ALL_VIEWS
    assert {result.status for result in results} == {"succeeded"}, [r.error for r in results]
    add_sales(deployment.admin, 5, brand="Adidas")
    assert {r.status for r in refresh_views(deployment.refresher, only_stale=True,
                                             affected_by="transactions.orders")} == {"succeeded"}
    assert {r.status for r in refresh_views(deployment.refresher, only_stale=True)} == {
        "up_to_date"}
    statuses = view_status(deployment.refresher)
    assert {status.name for status in statuses} == ALL_VIEWS
    assert all(status.row_count_exact and not status.stale for status in statuses)
    assert check_health(deployment.refresher).healthy
    with deployment.refresher.connect().execution_options(
            isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CALL analytics.refresh_tier('weekly')"))
        users = connection.execute(text(
            "SELECT DISTINCT database_user::text FROM analytics.refresh_log "
            "WHERE triggered_by <> 'migration'"  # the deploy's builds
        )).scalars().all()
    assert users == [f"{deployment.refresher_role}_login"]
    # After writes: events, refreshed without waiting (a request, then the refresh).
    add_sales(deployment.admin, 5, brand="Puma")
    coordinator = RefreshCoordinator(deployment.refresher, quiet_period=0.1)
    try:
        coordinator.notify("transactions.orders")
        assert coordinator.flush(timeout=60)
    finally:
        coordinator.close()
    with deployment.admin.connect() as connection:
        assert set(connection.execute(text(
            "SELECT status FROM analytics.refresh_log WHERE triggered_by = 'event'"
        )).scalars()) == {"succeeded"}
    for table in SOURCE_TABLES:
        denied(deployment.refresher, f"SELECT * FROM {table} LIMIT 1")
    denied(deployment.refresher, "DELETE FROM analytics.refresh_log")
    denied(deployment.refresher, "UPDATE analytics.managed_views SET tier = 'weekly'")
    denied(deployment.refresher, "UPDATE analytics.settings SET business_time_zone = 'UTC'")
    denied(deployment.refresher, "INSERT INTO analytics.refresh_requests VALUES ('x', '1', now())")
    denied(deployment.refresher, "DROP MATERIALIZED VIEW analytics.metabase_brand_analytics")
    denied(deployment.refresher, "REFRESH MATERIALIZED VIEW analytics.metabase_brand_analytics")
    denied(deployment.refresher, "INSERT INTO transactions.orders DEFAULT VALUES")


def test_the_command_line_as_the_refresher(deployment: Deployment) -> None:
    add_sales(deployment.admin, 5)
    url = deployment.refresher.url.render_as_string(hide_password=False)
    refreshed = cli("refresh", "--affected-by", "core.suppliers", "--stale", url=url)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "FAILED" not in refreshed.stderr
    for verb in ("status", "health"):
        result = cli(verb, url=url)
        assert result.returncode in (0, 1), result.stderr  # health: 1 for never-refreshed views
        assert "permission denied" not in result.stdout + result.stderr


def test_the_refresher_logs_failures_but_cannot_forge_a_success(deployment: Deployment) -> None:
    refresh_views(deployment.refresher)
    with deployment.refresher.begin() as connection:
        status = connection.execute(text(
            "SELECT status FROM analytics.log_refresh_failure("
            "'metabase_brand_analytics', 'manual', now(), 'connection lost', NULL)"
        )).scalar_one()
    assert status == "failed"
    denied(deployment.refresher,
           "SELECT analytics.log_refresh('metabase_brand_analytics', 'manual', 'succeeded', "
           "'plain', now(), 0, NULL, NULL, pg_current_snapshot())")
    assert [(problem.view, problem.check) for problem in check_health(deployment.refresher).problems
            ] == [("metabase_brand_analytics", "refresh_failed")]


def test_an_empty_view_over_full_sources_is_reported_to_the_refresher(
    deployment: Deployment,
) -> None:
    refresh_views(deployment.admin)  # on empty shop tables
    add_sales(deployment.admin, 5)
    report = check_health(deployment.refresher)
    # The card views read metabase_inventory_status, as empty as they are: not a problem.
    assert {problem.view for problem in report.problems if problem.check == "empty"} == (
        SEVEN_VIEWS
    )


# -- names from input never reach SQL ------------------------------------------


@pytest.mark.parametrize("name", INJECTIONS)
def test_hostile_view_names_are_rejected_before_any_sql_runs(
    deployment: Deployment, name: str
) -> None:
    refresh_views(deployment.admin, tier="hourly")
    before = snapshot(deployment.admin)
    log_size = scalar(deployment.admin, "SELECT count(*) FROM analytics.refresh_log")
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object,
               _context: object, _many: bool) -> None:
        statements.append(f"{statement} {parameters!r}")

    event.listen(deployment.refresher, "before_cursor_execute", record)
    with pytest.raises(UnknownViewError, match="Nothing was refreshed"):
        refresh_views(deployment.refresher, [name])
    with pytest.raises(UnknownViewError):
        refresh_views(deployment.refresher, ["metabase_executive_metrics", name])
    assert statements, "the names were checked against the catalog"
    assert not [statement for statement in statements if name in statement]
    for routine in ("SELECT * FROM analytics.refresh_view(:name)",
                    "SELECT analytics.sources_have_rows(:name)",
                    "SELECT * FROM analytics.log_refresh_failure(:name, 'manual', now(), 'x', "
                    "NULL)",
                    "SELECT * FROM analytics.log_up_to_date(:name, 'manual')"):
        with pytest.raises(ProgrammingError, match="is not a materialized view"):
            with deployment.refresher.begin() as connection:
                connection.execute(text(routine), {"name": name})
    assert scalar(deployment.admin, "SELECT count(*) FROM analytics.refresh_log") == log_size
    assert scalar(deployment.admin, "SELECT to_regclass('transactions.orders') IS NOT NULL")
    assert snapshot(deployment.admin) == before


# -- grants survive a rebuilt view ---------------------------------------------


def test_a_view_rebuilt_by_update_view_stays_readable(deployment: Deployment) -> None:
    view = "metabase_platform_performance"
    add_sales(deployment.admin, 5)

    def rebuild() -> None:
        with deployment.admin.begin() as connection:
            with Operations.context(MigrationContext.configure(connection)):
                update_view(view, version=2, revert_to_version=2)

    rebuild()
    assert scalar(deployment.reader, f"SELECT count(*) FROM analytics.{view}") > 0
    # Default privileges cover views created by the role that applied 0011; a
    # view rebuilt by another deploying role is granted by the verbs.
    execute(deployment.admin,
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA analytics REVOKE SELECT ON TABLES "
            f"FROM {deployment.reader_role}, {deployment.refresher_role}")
    rebuild()
    assert scalar(deployment.reader, f"SELECT count(*) FROM analytics.{view}") > 0
    assert [r.status for r in refresh_views(deployment.refresher, [view])] == ["succeeded"]


# -- hardening of the routines -------------------------------------------------


def test_every_routine_pins_its_search_path_and_definer_routines_are_granted(
    deployment: Deployment,
) -> None:
    """A routine runs with its own search_path, never the caller's.

    The exception is a procedure that commits (refresh_tier): PostgreSQL refuses
    COMMIT inside a routine with a SET clause, so such a procedure names every
    object schema-qualified instead, runs with its caller's privileges (never
    SECURITY DEFINER) and is checked here for both.
    """
    with deployment.admin.connect() as connection:
        routines = connection.execute(text(
            """
            SELECT p.oid::regprocedure::text AS name, p.prokind::text AS kind, p.prosecdef,
                   p.prosrc, p.prorettype = 'trigger'::regtype AS is_trigger,
                   (SELECT option FROM unnest(p.proconfig) option
                    WHERE option LIKE 'search\\_path=%') AS search_path,
                   has_function_privilege('public', p.oid, 'EXECUTE') AS public_executes,
                   has_function_privilege(:reader, p.oid, 'EXECUTE') AS reader_executes,
                   has_function_privilege(:refresher, p.oid, 'EXECUTE') AS refresher_executes
            FROM pg_proc p WHERE p.pronamespace = 'analytics'::regnamespace ORDER BY 1
            """
        ), {"reader": deployment.reader_role, "refresher": deployment.refresher_role}).all()
    assert len(routines) > 15
    for routine in routines:
        if routine.search_path is None:
            assert routine.kind == "p" and "COMMIT" in routine.prosrc, routine.name
            assert not routine.prosecdef, routine.name
        if routine.prosecdef:
            assert routine.search_path.endswith(", pg_temp"), routine.name
            if not routine.is_trigger:
                assert not routine.public_executes and not routine.reader_executes, routine.name
                assert routine.refresher_executes, routine.name
    definers = {routine.name for routine in routines if routine.prosecdef}
    assert {"analytics.refresh_view(text,boolean,text,boolean,boolean)",
            "analytics.request_refresh(text)", "analytics.track_changes()"} <= definers
    assert not {"analytics.log_refresh(text,text,text,text,timestamp with time zone,bigint,"
                "text,text,pg_snapshot)", "analytics.track_source_tables()"} & definers


def test_who_may_execute_each_routine(deployment: Deployment) -> None:
    """The whole list, per role: a routine added later must be placed here on purpose."""
    with deployment.admin.connect() as connection:
        rows = connection.execute(text(
            "SELECT p.oid::regprocedure::text AS name, "
            "       has_function_privilege('public', p.oid, 'EXECUTE') AS public, "
            "       has_function_privilege(:reader, p.oid, 'EXECUTE') AS reader, "
            "       has_function_privilege(:refresher, p.oid, 'EXECUTE') AS refresher "
            "FROM pg_proc p WHERE p.pronamespace = 'analytics'::regnamespace"
        ), {"reader": deployment.reader_role, "refresher": deployment.refresher_role}).all()
    assert len(rows) > 30
    assert {row.name for row in rows if row.public} == PUBLIC_ROUTINES
    assert {row.name for row in rows if row.reader} == PUBLIC_ROUTINES
    assert {row.name for row in rows if row.refresher} == REFRESHER_ROUTINES


def test_a_reader_cannot_write_change_records_through_the_trigger_function(
    deployment: Deployment,
) -> None:
    denied(deployment.reader,
           "CREATE TEMP TABLE mine (x int); "
           "CREATE TRIGGER t AFTER INSERT ON mine FOR EACH STATEMENT "
           "EXECUTE FUNCTION analytics.track_changes()")


def test_the_refresher_reads_the_settings_and_previews_every_card(
    deployment: Deployment,
) -> None:
    with deployment.refresher.connect() as connection:
        assert connection.execute(
            text("SELECT business_time_zone FROM analytics.settings")).scalar_one()


# -- configuration and validation of the role names ----------------------------


@pytest.mark.parametrize("name", [
    "", "Metabase", "metabase-reader", "x; DROP TABLE transactions.orders", '"quoted"',
    "1reader", "a" * 64, "pg_read_all_data", "public", "none", "current_user", "reader\n",
])
def test_invalid_role_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidRoleNameError, match="Nothing was changed"):
        validate_role_name(name, "reader")


def test_valid_role_names() -> None:
    for name in ("metabase_reader", "_x", "bi_readers_2", "a" * 63):
        assert validate_role_name(name, "refresher") == name


@pytest.mark.parametrize(("options", "message"), [
    ({"reader_role": "x; DROP TABLE transactions.orders"}, "not a valid role name"),
    ({"refresher_role": "pg_monitor"}, "reserved"),
    ({"reader_role": "same_role", "refresher_role": "same_role"}, "need two roles"),
    ({"reader_role": "postgres"}, "a superuser"),
])
def test_an_unusable_role_name_stops_the_upgrade_and_changes_nothing(
    source_url: str, source_engine: Engine, options: dict[str, str], message: str,
) -> None:
    before = snapshot(source_engine)
    with pytest.raises((InvalidRoleNameError, RoleSetupError), match=message):
        upgrade(source_url, **options)
    assert snapshot(source_engine) == before


def test_role_names_from_the_command_line_and_the_environment(
    source_url: str, source_engine: Engine
) -> None:
    reader_role, refresher_role = unique("cli_reader"), unique("env_refresher")
    try:
        subprocess.run(
            [sys.executable, "-m", "alembic", "-x", f"url={source_url}",
             "-x", f"reader_role={reader_role}", "upgrade", "head"],
            cwd=ROOT, check=True, capture_output=True,
            env={**os.environ, "SOLEFLIP_ANALYTICS_REFRESHER_ROLE": refresher_role},
        )
        with source_engine.connect() as connection:
            assert dict(connection.execute(text(
                "SELECT purpose, role_name::text FROM analytics.package_roles"
            )).all()) == {"reader": reader_role, "refresher": refresher_role}
        bad = subprocess.run(
            [sys.executable, "-m", "alembic", "-x", f"url={source_url}",
             "-x", 'reader_role="quoted"', "downgrade", "0009"],
            cwd=ROOT, capture_output=True, text=True,
        )
        assert bad.returncode == 0, bad.stderr  # names are only read by the upgrade
        assert not role_exists(source_engine, reader_role)
        failed = subprocess.run(
            [sys.executable, "-m", "alembic", "-x", f"url={source_url}",
             "-x", 'reader_role="quoted"', "upgrade", "head"],
            cwd=ROOT, capture_output=True, text=True,
        )
        assert failed.returncode != 0
        assert "not a valid role name" in failed.stderr
    finally:
        drop_roles(source_engine, reader_role, refresher_role)


# -- downgrade: what it granted goes, roles it did not create stay -------------


def test_downgrade_keeps_a_role_that_existed_before_and_drops_the_one_it_created(
    source_url: str, source_engine: Engine,
) -> None:
    reader_role, refresher_role = unique("existing_reader"), unique("new_refresher")
    execute(source_engine,
            f"CREATE ROLE {reader_role} NOLOGIN; "
            f"CREATE TABLE public.reports (x int); GRANT SELECT ON public.reports TO {reader_role}")
    try:
        before = snapshot(source_engine)
        upgrade(source_url, reader_role=reader_role, refresher_role=refresher_role)
        with source_engine.connect() as connection:
            assert connection.execute(text(
                "SELECT role_name::text, created_by_package FROM analytics.package_roles "
                "ORDER BY purpose"
            )).all() == [(reader_role, False), (refresher_role, True)]
        downgrade(source_url, "base")
        assert role_exists(source_engine, reader_role)
        assert not role_exists(source_engine, refresher_role)
        assert scalar(source_engine,
                      "SELECT has_table_privilege(:r, 'public.reports', 'SELECT')", r=reader_role)
        assert snapshot(source_engine) == before
    finally:
        drop_roles(source_engine, reader_role, refresher_role)


def test_downgrade_leaves_a_created_role_that_another_database_still_uses(
    make_database: Callable[..., str], caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = make_database(), make_database()
    roles = {"reader_role": unique("shared_reader"), "refresher_role": unique("shared_ref")}
    engine = create_engine(first)
    try:
        upgrade(first, **roles)   # creates both roles
        upgrade(second, **roles)  # finds them, grants to them too
        with caplog.at_level(logging.WARNING, logger="soleflip_analytics.roles"):
            downgrade(first, "0009")
        assert "left in place" in caplog.text
        assert all(role_exists(engine, name) for name in roles.values())
        assert scalar(engine, "SELECT to_regclass('analytics.package_roles') IS NULL")
        downgrade(second, "0009")  # not its own roles: kept
        assert all(role_exists(engine, name) for name in roles.values())
    finally:
        for url in (second, first):
            cleanup = create_engine(url)
            drop_roles(cleanup, *roles.values())
            cleanup.dispose()
        engine.dispose()


# -- a deploying role that is not a superuser ----------------------------------


def test_a_deploying_role_without_createrole_uses_roles_an_administrator_made(
    source_url: str, source_engine: Engine,
) -> None:
    deployer, reader_role, refresher_role = unique("deploy"), unique("dba_reader"), unique(
        "dba_refresher")
    database = make_url(source_url).database
    execute(source_engine,
            f"CREATE ROLE {deployer} LOGIN; GRANT CREATE ON DATABASE \"{database}\" TO {deployer}; "
            f"GRANT CREATE ON SCHEMA public TO {deployer}; "
            "GRANT USAGE ON SCHEMA core, catalog, inventory, transactions TO " + deployer + "; "
            "GRANT SELECT ON ALL TABLES IN SCHEMA core, catalog, inventory, transactions TO "
            + deployer)
    add_sales(source_engine, 10)
    deploy_url = make_url(source_url).set(username=deployer).render_as_string(hide_password=False)
    roles = {"reader_role": reader_role, "refresher_role": refresher_role}
    try:
        before = snapshot(source_engine)
        with pytest.raises(RoleSetupError, match=f"CREATE ROLE {reader_role} NOLOGIN"):
            upgrade(deploy_url, **roles)
        assert snapshot(source_engine) == before
        execute(source_engine,
                f"CREATE ROLE {reader_role} NOLOGIN IN ROLE {deployer}; "
                f"CREATE ROLE {refresher_role} NOLOGIN; "
                f"CREATE ROLE {refresher_role}_app LOGIN IN ROLE {refresher_role}")
        with pytest.raises(RoleSetupError, match="or a member of it"):
            upgrade(deploy_url, **roles)  # the reader would inherit the owner's privileges
        execute(source_engine, f"REVOKE {deployer} FROM {reader_role}")
        upgrade(deploy_url, **roles)
        app = as_role(source_url, f"{refresher_role}_app")
        try:
            assert {r.status for r in refresh_views(app)} == {"succeeded"}
            denied(app, "SELECT * FROM transactions.orders")
        finally:
            app.dispose()
        downgrade(deploy_url, "base")
        assert role_exists(source_engine, reader_role)
        assert role_exists(source_engine, refresher_role)
    finally:
        drop_roles(source_engine, f"{refresher_role}_app", reader_role, refresher_role, deployer)


@pytest.mark.parametrize("name", [
    "x; DROP TABLE transactions.orders", '"quoted"', '"unterminated', "", "a.b.c.d",
    "transactions.orders; DROP TABLE transactions.orders",
])
def test_hostile_table_names_are_unknown_tables(deployment: Deployment, name: str) -> None:
    log_size = scalar(deployment.admin, "SELECT count(*) FROM analytics.refresh_log")
    with pytest.raises(UnknownTableError, match="unknown table"):
        refresh_views(deployment.refresher, affected_by=name)
    assert scalar(deployment.admin, "SELECT count(*) FROM analytics.refresh_log") == log_size
    assert scalar(deployment.admin, "SELECT to_regclass('transactions.orders') IS NOT NULL")
