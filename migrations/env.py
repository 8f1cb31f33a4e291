"""Alembic environment for soleflip-analytics.

The database URL comes from ``alembic -x url=...``, from the caller
(soleflip_analytics.upgrade), or from DATABASE_URL. Each revision runs in a
transaction of its own and commits with its entry in the version table, so that
no lock a revision takes outlives it (docs/deploy.md); a Connection handed over
inside a transaction runs them all in that one instead. Every statement waits at
most LOCK_TIMEOUT for a lock; a revision that could not get one is rolled back
and run again, LOCK_ATTEMPTS times in all. The views update_view built beside
are swapped in as their revision ends. Each view a revision builds is logged as
a refresh (triggered by "migration"), so that status and health count it as
one. On the alembic command line a missing or bad URL, an unreachable database,
an unsupported server, a lock not had or a refused update_view is one line
(exit 1), not a traceback.
"""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.db import (
    CannotConnectError,
    DatabaseUrlMissing,
    InvalidDatabaseUrl,
    UnsupportedServerError,
    display_url,
    engine_from_url,
    one_line,
    require_supported_server,
)
from soleflip_analytics.deploy_locks import DeployLockError, is_lock_timeout, lock_holder, pause
from soleflip_analytics.names import DEPLOY_BOOKKEEPING_MARK, VERSION_TABLE, VERSION_TABLE_SCHEMA
from soleflip_analytics.roles import DEFAULT_ROLE_NAMES_V1, check_roles, configured_role_names
from soleflip_analytics.schedules.install import check_strict_schedules, strict_requested
from soleflip_analytics.view_migrations import (
    DEFERRED_SWAPS,
    ViewUpdateRefused,
    deferred_rows,
    swap_deferred,
)

# How long a statement of the deploy waits for a lock (held by a reader, a
# writer, a refresh) before its revision steps back: whoever arrives meanwhile
# queues behind the request, so it is short. Then the revision runs again.
LOCK_TIMEOUT = "50ms"
LOCK_ATTEMPTS = 20
# Inside a caller's transaction a revision cannot run again: its statements
# wait longer instead (and dashboards may queue behind them meanwhile).
ONE_TRANSACTION_LOCK_TIMEOUT = "30s"


def _drop_version_table_if_empty(connection: Connection) -> None:
    """After a downgrade to base, leave no trace of the package behind."""
    table = f'"{VERSION_TABLE_SCHEMA}"."{VERSION_TABLE}"'
    exists = connection.execute(
        text("SELECT to_regclass(:name) IS NOT NULL"), {"name": table}
    ).scalar_one()
    if exists and connection.execute(text(f"SELECT NOT EXISTS (SELECT FROM {table})")).scalar_one():
        connection.execute(text(f"DROP TABLE {table}"))


# The deploy's own bookkeeping (logging the views it built) is marked, so that
# tests/test_frozen_migrations.py tells it apart from what the revisions send.
_MARK = DEPLOY_BOOKKEEPING_MARK
_VIEWS = text(
    _MARK + "SELECT c.relname::text, c.oid FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'analytics' AND c.relkind = 'm' AND c.relispopulated"
)
# The snapshot the next revision's views are built from, taken as the revision before
# it ends: everything it sees, and that revision's own writes, committed before the
# next one starts (transaction ids it could not see yet count as running).
_START = text(
    _MARK + "SELECT clock_timestamp(), CASE WHEN own IS NULL THEN snap::text ELSE "
    "  pg_snapshot_xmin(snap) || ':' || greatest(xmax, own + 1) || ':' || array_to_string("
    "    ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(snap) x "
    "          UNION SELECT generate_series(xmax, own - 1) ORDER BY 1), ',') END "
    "FROM (SELECT snap, pg_snapshot_xmax(snap)::text::bigint AS xmax, own "
    "      FROM (SELECT pg_current_snapshot() AS snap, "
    "                   pg_current_xact_id_if_assigned()::text::bigint AS own) current) now"
)
_CAN_LOG = text(_MARK + "SELECT to_regprocedure('analytics.log_refresh(text, text, text, text, "
                "timestamptz, bigint, text, text, pg_snapshot)') IS NOT NULL")
_LOG_BUILD = text(
    _MARK + "SELECT analytics.log_refresh(:view, 'migration', 'succeeded', 'plain', :started, "
    ":rows, NULL, 'built by the migration', CAST(:snapshot AS pg_snapshot))"
)


def _built_views(connection: Connection, views_before: dict[str, int],
                 rows: dict[str, int]) -> dict[str, int]:
    """The views built (populated, and new or rebuilt) since ``views_before``, with their
    rows, and those built beside to be swapped in, whose ``rows`` are given."""
    quote = connection.dialect.identifier_preparer.quote
    built = dict(rows)
    for view, oid in connection.execute(_VIEWS).all():
        if views_before.get(view) != oid and view not in built:
            built[view] = connection.execute(
                text(f"{_MARK}SELECT count(*) FROM analytics.{quote(view)}")).scalar_one()
    return built


def _log_builds(connection: Connection, built: dict[str, int], started: object,
                snapshot: str) -> bool:
    """Log each view built as a refresh taken at ``started``: status and health then
    count it as one. False when there is no refresh log to write to yet."""
    if not connection.execute(_CAN_LOG).scalar_one():
        return False
    for view, rows in built.items():
        connection.execute(_LOG_BUILD, {"view": view, "started": started, "rows": rows,
                                        "snapshot": snapshot})
    return True


# Relations whose locks a deploy may wait for: the package's and the tables its views read.
_LOCKABLE = text(
    _MARK + "SELECT array_agg(DISTINCT oid) FROM ("
    "  SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relnamespace IN "
    "    (SELECT oid FROM pg_catalog.pg_namespace "
    "     WHERE nspname IN ('analytics', 'analytics_swap', 'analytics_internal'))"
    "  UNION SELECT d.refobjid FROM pg_catalog.pg_depend d "
    "  JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
    "  JOIN pg_catalog.pg_class v ON v.oid = r.ev_class "
    "  WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass "
    "    AND d.refclassid = 'pg_catalog.pg_class'::regclass "
    "    AND v.relnamespace = to_regnamespace('analytics')) o"
)
_SET_LOCK_TIMEOUT = text(_MARK + "SELECT set_config('lock_timeout', :value, false)")


class _Revisions:
    """What each revision built, logged as a refresh taken when the revision started.
    Views built before the refresh log exists (revision 0009) are counted as their
    revision ends and logged with it, as taken when the deploy started: counting
    them then would keep the shop's writers waiting behind its triggers."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.views = dict(connection.execute(_VIEWS).all())
        self.built: dict[str, int] = {}
        self.start()

    def start(self) -> None:
        self.started, self.snapshot = self.connection.execute(_START).one()

    def applied(self, **_: object) -> None:
        """Alembic's on_version_apply: the revision is done but not yet committed. The
        views built beside are swapped in last: their readers wait from then on."""
        rows = deferred_rows(self.connection)
        self.built.update(_built_views(self.connection, self.views, rows))
        if _log_builds(self.connection, self.built, self.started, self.snapshot):
            self.built = {}
            self.start()
        _drop_version_table_if_empty(self.connection)
        swap_deferred(self.connection)
        self.views = dict(self.connection.execute(_VIEWS).all())


# Revisions that refuse bad options (-x ...): checked before the first revision commits.
SCHEDULES_REVISION = "0010"  # strict_schedules
ROLES_REVISION = "0011"  # reader_role, refresher_role


def _check_options_first() -> None:
    """What revisions 0010 (strict schedules) and 0011 (role names) would refuse is
    checked before the first revision commits: a deploy refusing it changes nothing."""
    migration_context = context.get_context()
    planned = {step.revision.revision for step in migration_context.opts["fn"](
        migration_context.get_current_heads(), migration_context) if step.is_upgrade}
    connection = migration_context.connection
    if SCHEDULES_REVISION in planned and strict_requested():
        check_strict_schedules(connection)
    if ROLES_REVISION in planned:
        check_roles(connection, configured_role_names(DEFAULT_ROLE_NAMES_V1))


def _run_revisions(connection: Connection, external: bool) -> None:
    """context.run_migrations(), again from the last committed revision after a lock timeout."""
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            with context.begin_transaction():
                context.run_migrations()
            return
        except Exception as error:
            if external or not is_lock_timeout(error):
                raise
            connection.rollback()
            connection.info[DEFERRED_SWAPS].clear()  # what the rolled back revision built
            if attempt == LOCK_ATTEMPTS:
                holder = lock_holder(connection, connection.execute(_LOCKABLE).scalar_one() or [])
                connection.rollback()
                raise DeployLockError(
                    f"the deploy could not get a lock within {LOCK_ATTEMPTS} tries of "
                    f"{LOCK_TIMEOUT}: {holder}; the database is at the last revision the "
                    "version table names: upgrade again once that process has finished"
                ) from error
            time.sleep(pause(attempt))


def _run(connection: Connection) -> None:
    external = connection.in_transaction()
    require_supported_server(connection)
    saved = connection.execute(text(_MARK + "SELECT current_setting('lock_timeout')")).scalar_one()
    if external:
        connection.execute(text(f"SET LOCAL lock_timeout = '{ONE_TRANSACTION_LOCK_TIMEOUT}'"))
    else:
        connection.execute(_SET_LOCK_TIMEOUT, {"value": LOCK_TIMEOUT})
    revisions = _Revisions(connection)
    if not external:
        connection.commit()
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        version_table_schema=VERSION_TABLE_SCHEMA,
        transaction_per_migration=True,
        on_version_apply=[revisions.applied],
    )
    connection.info[DEFERRED_SWAPS] = []
    try:
        if not external:
            _check_options_first()
        _run_revisions(connection, external)
    finally:
        connection.info.pop(DEFERRED_SWAPS, None)  # gone with an invalidated connection
        if not external and not connection.invalidated:
            connection.rollback()
            connection.execute(_SET_LOCK_TIMEOUT, {"value": saved})
            connection.commit()


def run_migrations_online() -> None:
    config = context.config
    # A caller (such as pytest-alembic) may hand over its own Connection or Engine.
    connectable = config.attributes.get("connection")
    if isinstance(connectable, Connection):
        _run(connectable)
        return
    if connectable is None:
        x_args = context.get_x_argument(as_dictionary=True)
        url = x_args.get("url") or config.attributes.get("url")
        connectable = engine_from_url(url, poolclass=pool.NullPool)
    try:
        connection = connectable.connect()
    except DBAPIError as error:
        raise CannotConnectError(
            f"cannot connect to {display_url(connectable.url)}: {one_line(error)}"
        ) from error
    with connection:
        _run(connection)
        connection.commit()


@contextmanager
def _one_line_errors_on_the_command_line() -> Iterator[None]:
    """Under the alembic command, the package's errors as one line and exit 1."""
    if context.config.cmd_opts is None:  # soleflip_analytics.upgrade() or a test
        yield
        return
    try:
        yield
    except (DatabaseUrlMissing, InvalidDatabaseUrl, CannotConnectError,
            UnsupportedServerError, DeployLockError, ViewUpdateRefused) as error:
        sys.exit(f"soleflip-analytics: {error}")
    except DBAPIError as error:
        sys.exit(f"soleflip-analytics: the migration failed; its revision changed nothing "
                 f"(the version table names the last one applied): {one_line(error)}")


if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)
if context.is_offline_mode():
    raise SystemExit(
        "soleflip-analytics migrations check the database before they change it; "
        "offline (--sql) mode is not supported."
    )
with _one_line_errors_on_the_command_line():
    run_migrations_online()
