"""The verbs a migration uses: create_view, update_view, drop_view, and for the
package's routines create_function and update_function.

A view's SQL lives in ``sql/views/<name>/v<N>.sql``: the CREATE MATERIALIZED
VIEW, its indexes and its comments, with the view's name unqualified. The verbs
run that file with ``search_path`` pointing at the analytics schema and keep
``analytics.managed_views`` (version and refresh tier) in step; update_view
builds the new version beside the old one and swaps it in (docs/contributing.md).
Once change tracking is installed (revision 0009), they also put it on any table
a new view version reads; once the package's roles are (revision 0011), they grant them
SELECT on the view, which a rebuilt view would otherwise lose.

Every routine of the package lives the same way in
``sql/functions/<name>/v<N>.sql`` (a new signature is a new routine). The
package's tables, plain views and grants live in ``sql/schema/<topic>/v<N>.sql``
(undone by ``v<N>_down.sql``), which include the routines they create in their
place with psql's ``\\ir`` (sql/README.md maps each object to its file).

Frozen migrations: a released revision does the same thing forever, on any
new database. So a revision reads only what never changes once released: its
``vN.sql`` files, named with their version, and versioned constants it names
itself (``SOURCE_CONTRACT_V1``, ``PRIVILEGES_V1``, ``DEFAULT_ROLE_NAMES_V1``);
the jobs revision 0010 schedules are the rows of its SQL file. Never edit a
released file or constant, nor what these verbs send: add ``vN+1`` and a new
revision. The running code (``db check``, status, health) may use the latest
versions. ``tests/test_frozen_migrations.py`` records the statements every
revision sends and fails when a released one changes.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from alembic import op
from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.db import one_line
from soleflip_analytics.deploy_locks import DeployLockError, is_lock_timeout, lock_holder, pause
from soleflip_analytics.names import SCHEMA, TIERS
from soleflip_analytics.paths import function_sql_path, schema_sql_path, view_sql_path

logger = logging.getLogger(__name__)


_INCLUDE = re.compile(r"^\\ir (\S+)$", re.MULTILINE)


def read_sql_file(path: Path) -> str:
    """A file's SQL, each ``\\ir <relative path>`` line replaced by that file, as in psql."""
    return _INCLUDE.sub(lambda match: read_sql_file(path.parent / match[1]), path.read_text())


def run_sql_file(connection: Connection, path: Path, search_path: str | None = None) -> None:
    """Execute a file of SQL statements, optionally with a schema to create objects in."""
    previous = connection.execute(text("SELECT current_setting('search_path')")).scalar_one()
    if search_path is not None:
        connection.execute(
            text("SELECT set_config('search_path', :path, true)"), {"path": search_path}
        )
    # Straight to the driver's cursor, without parameters: the file is sent as
    # written, colons and percent signs (format('%I', ...)) and all.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(read_sql_file(path))
    finally:
        cursor.close()
    connection.execute(
        text("SELECT set_config('search_path', :path, true)"), {"path": previous}
    )


def run_schema_file(topic: str, version: int, down: bool = False) -> None:
    """Run ``sql/schema/<topic>/v<version>.sql`` (the package's bookkeeping objects),
    or with ``down`` the ``v<version>_down.sql`` that undoes it."""
    run_sql_file(op.get_bind(), schema_sql_path(topic, version, down))


def track_source_tables() -> None:
    """Put the change-tracking trigger on every table the views read that lacks it.

    Tables the deploying role does not own are left alone and reported; views
    reading them count as always stale, so stale-only refreshes stay correct,
    only less selective.
    """
    _track_source_tables(op.get_bind())


def _track_source_tables(bind: Connection) -> None:
    installed = bind.execute(
        text("SELECT to_regprocedure('analytics.track_source_tables()') IS NOT NULL")
    ).scalar_one()
    if not installed:
        return
    for table in bind.execute(text("SELECT analytics.track_source_tables()")).scalars():
        logger.warning(
            "changes to %s are not tracked (the deploying role does not own it, or its trigger "
            "soleflip_analytics_track_changes is disabled): views reading it always count as stale",
            table,
        )


def grant_view_access(connection: Connection, name: str) -> None:
    """Grant SELECT on the view to the roles in analytics.package_roles, once they exist.

    Default privileges cover views created by the role that applied revision
    0011; this covers views created by any other deploying role too.
    """
    installed = connection.execute(
        text("SELECT to_regclass('analytics.package_roles') IS NOT NULL")
    ).scalar_one()
    if not installed:
        return
    roles = connection.execute(
        text("SELECT role_name::text FROM analytics.package_roles ORDER BY role_name")
    ).scalars().all()
    if roles:
        quote = connection.dialect.identifier_preparer.quote_identifier
        connection.exec_driver_sql(
            f"GRANT SELECT ON {quote(SCHEMA)}.{quote(name)} TO "
            + ", ".join(quote(role) for role in roles)
        )


def _build(name: str, version: int) -> None:
    bind = op.get_bind()
    run_sql_file(bind, view_sql_path(name, version), search_path=SCHEMA)
    track_source_tables()
    grant_view_access(bind, name)


def _drop(name: str) -> None:
    bind = op.get_bind()
    quote = bind.dialect.identifier_preparer.quote_identifier
    bind.exec_driver_sql(f"DROP MATERIALIZED VIEW {quote(SCHEMA)}.{quote(name)}")


# Under the package's deploy, connection.info[DEFERRED_SWAPS] collects the views
# update_view built beside; migrations/env.py swaps them in as each revision ends.
DEFERRED_SWAPS = "soleflip_analytics.deferred_swaps"
SWAP_SCHEMA = "analytics_swap"
# A view built on a big view may read it through a plain view of the same name
# here, SELECT * of it (revision 0020): a swap points it at the new contents.
READ_THROUGH_SCHEMA = "analytics_internal"
# Definitions of the views rebuilt with a new version are read and compared
# printed with this search_path: names of schema analytics unqualified.
_PRINT_PATH = f"{SCHEMA}, pg_catalog, pg_temp"


class ViewUpdateRefused(ValueError):
    """update_view cannot replace the view; nothing was changed."""


@dataclass
class Swap:
    """A view's new version built in analytics_swap, with the views rebuilt on it."""

    name: str
    dependents: list[str]
    definitions: list[str]  # the dependents', unqualified, to rebuild them from
    rows: dict[str, int] = field(default_factory=dict)


# A view of schema analytics by its name, bound as :name (statements a revision
# sends name objects, never their oids, which differ between databases).
_ANALYTICS_VIEW = "to_regclass(pg_catalog.format('analytics.%I', CAST(:name AS text)))"


def _dependents_of(view: str) -> TextClause:
    """The views reading ``view`` (an expression of :name), whether the package's verbs
    created them, and whether other views read them in turn."""
    return text(
        "SELECT DISTINCT c.oid::regclass::text AS dependent, c.relname::text AS name, "
        "       c.relkind = 'm' AND c.relnamespace = 'analytics'::regnamespace "
        "       AND EXISTS (SELECT FROM analytics.managed_views mv "
        "                   WHERE mv.view_name = c.relname) AS owned, "
        "       EXISTS (SELECT FROM pg_catalog.pg_depend dd "
        "               JOIN pg_catalog.pg_rewrite rr ON rr.oid = dd.objid "
        "               WHERE dd.classid = 'pg_catalog.pg_rewrite'::regclass "
        "                 AND dd.refclassid = 'pg_catalog.pg_class'::regclass "
        "                 AND dd.refobjid = c.oid AND rr.ev_class <> c.oid) AS read_by_views "
        "FROM pg_catalog.pg_depend d "
        "JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
        "JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
        "WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass "
        "  AND d.refclassid = 'pg_catalog.pg_class'::regclass "
        f"  AND d.refobjid = {view} "
        "  AND r.ev_class <> d.refobjid "
        "ORDER BY 2"
    )


_DEPENDENTS = _dependents_of(_ANALYTICS_VIEW)
_READ_THROUGH_DEPENDENTS = _dependents_of(
    f"to_regclass(pg_catalog.format('{READ_THROUGH_SCHEMA}.%I', CAST(:name AS text)))")


def _view_oid(bind: Connection, schema: str, name: str) -> int | None:
    return bind.execute(
        text("SELECT to_regclass(pg_catalog.format('%I.%I', CAST(:schema AS text), "
             "CAST(:name AS text)))::oid"),
        {"schema": schema, "name": name},
    ).scalar_one()


def _rebuildable_dependents(bind: Connection, name: str) -> tuple[list[str], bool]:
    """The package's materialized views reading the view, directly or through its
    read-through view, and whether it has one; refuses for any other reader."""
    if _view_oid(bind, SCHEMA, name) is None:
        raise ViewUpdateRefused(
            f"cannot update {SCHEMA}.{name}: it is registered but does not exist; "
            "run `soleflip-analytics db check` and restore it first")
    through = f"{READ_THROUGH_SCHEMA}.{bind.dialect.identifier_preparer.quote(name)}"
    rows = bind.execute(_DEPENDENTS, {"name": name}).all()
    read_through = through in {row.dependent for row in rows}
    if read_through:
        rows = [row for row in rows if row.dependent != through]
        rows += bind.execute(_READ_THROUGH_DEPENDENTS, {"name": name}).all()
    dependents = []
    for row in rows:
        if not row.owned:
            raise ViewUpdateRefused(
                f"cannot update {SCHEMA}.{name}: {row.dependent} reads it and was not created "
                "by soleflip-analytics' create_view, so it cannot be rebuilt with it; drop "
                f"{row.dependent} before this deploy and create it again after (or create it "
                "with create_view, which deploys rebuild); nothing was changed"
            )
        if row.read_by_views:
            raise ViewUpdateRefused(
                f"cannot update {SCHEMA}.{name}: {row.dependent} reads it and is itself read by "
                f"other views; drop those before this deploy and create them again after; "
                "nothing was changed"
            )
        dependents.append(row.name)
    return sorted(dependents), read_through


def _hold_refresh_locks(bind: Connection, names: list[str]) -> None:
    """Take the refresh locks of the views (revision 0016 on): no refresh of them runs
    until the deploy commits. A running refresh is waited for: only refreshes queue
    behind these row locks, never readers."""
    installed = bind.execute(
        text("SELECT to_regclass('analytics.refresh_locks') IS NOT NULL")
    ).scalar_one()
    if not installed:
        return
    bind.execute(
        text("INSERT INTO analytics.refresh_locks (view_name) "
             "SELECT unnest(CAST(:names AS text[])) ON CONFLICT DO NOTHING"),
        {"names": names},
    )
    saved = _set_lock_timeout(bind, "0")
    bind.execute(
        text("SELECT FROM analytics.refresh_locks WHERE view_name = ANY (CAST(:names AS text[])) "
             "ORDER BY view_name FOR UPDATE"),
        {"names": names},
    )
    _set_lock_timeout(bind, saved)


def _set_lock_timeout(bind: Connection, value: str) -> str:
    """Set lock_timeout for the transaction; returns the value it had."""
    saved = bind.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
    bind.execute(text("SELECT set_config('lock_timeout', :value, true)"), {"value": value})
    return saved


def _printed_definition(bind: Connection, schema: str, name: str) -> str:
    """The view's definition, printed with the names of schema analytics unqualified."""
    saved = bind.execute(text("SELECT current_setting('search_path')")).scalar_one()
    bind.execute(text("SELECT set_config('search_path', :path, true)"), {"path": _PRINT_PATH})
    definition = bind.execute(
        text("SELECT rtrim(pg_get_viewdef(to_regclass(pg_catalog.format('%I.%I', "
             "CAST(:schema AS text), CAST(:name AS text)))), ';')"),
        {"schema": schema, "name": name},
    ).scalar_one()
    bind.execute(text("SELECT set_config('search_path', :path, true)"), {"path": saved})
    return definition


def _copy_grants(bind: Connection, name: str) -> None:
    """Give analytics_swap.<name> exactly the grants of analytics.<name>."""
    rows = bind.execute(
        text(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END, "
            "       a.privilege_type, a.is_grantable "
            "FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
            f"WHERE c.oid = {_ANALYTICS_VIEW} AND a.grantee <> c.relowner ORDER BY 1, 2"
        ),
        {"name": name},
    ).all()
    quote = bind.dialect.identifier_preparer.quote_identifier
    for grantee, privilege, grantable in rows:
        bind.exec_driver_sql(
            f"GRANT {privilege} ON {SWAP_SCHEMA}.{quote(name)} TO {grantee}"
            + (" WITH GRANT OPTION" if grantable else "")
        )


_KEPT_OPTIONS = text(
    "SELECT string_agg(o.option, ', ' ORDER BY o.option) "
    "FROM pg_catalog.pg_class c, unnest(c.reloptions) AS o (option) "
    f"WHERE c.oid = {_ANALYTICS_VIEW} AND split_part(o.option, '=', 1) NOT IN ("
    "  SELECT split_part(n.option, '=', 1) "
    "  FROM pg_catalog.pg_class s, unnest(s.reloptions) AS n (option) "
    f"  WHERE s.oid = to_regclass(pg_catalog.format('{SWAP_SCHEMA}.%I', CAST(:name AS text))))"
)


def _build_beside(bind: Connection, name: str, version: int, dependents: list[str],
                  read_through: bool) -> Swap:
    """Build version ``version`` of the view in analytics_swap, populated, point its
    read-through view at it, and build the dependents on it from their deployed
    definitions."""
    quote = bind.dialect.identifier_preparer.quote_identifier
    run_sql_file(bind, view_sql_path(name, version), search_path=f"{SWAP_SCHEMA}, {SCHEMA}")
    if _view_oid(bind, SWAP_SCHEMA, name) is None:
        raise ViewUpdateRefused(
            f"{view_sql_path(name, version).name} of {name} must create the view under its "
            "unqualified name")
    shadow = f"{SWAP_SCHEMA}.{quote(name)}"
    # Storage parameters set on the view since its file was written (vacuum_truncate
    # = off, revision 0018) stay, where the new file sets none of its own.
    kept = bind.execute(_KEPT_OPTIONS, {"name": name}).scalar_one()
    if kept:
        bind.exec_driver_sql(f"ALTER MATERIALIZED VIEW {shadow} SET ({kept})")
    # Written again by a refresh, frozen: a reader whose snapshot is older than
    # the deploy still sees the rows after the swap, never an empty view.
    bind.exec_driver_sql(f"REFRESH MATERIALIZED VIEW {shadow}")
    bind.exec_driver_sql(f"ANALYZE {shadow}")
    _copy_grants(bind, name)
    if read_through:
        _point_read_through_at(bind, name, shadow)
    swap = Swap(name, dependents, [_printed_definition(bind, SCHEMA, d) for d in dependents])
    for dependent, definition in zip(dependents, swap.definitions, strict=True):
        try:
            bind.execute(
                text(f"SELECT analytics.build_shadow({_ANALYTICS_VIEW}, :definition, :path)"),
                {"name": dependent, "definition": definition,
                 "path": f"{SWAP_SCHEMA}, {SCHEMA}, pg_catalog, pg_temp"},
            )
        except DBAPIError as error:
            raise ViewUpdateRefused(
                f"cannot rebuild {SCHEMA}.{dependent} on v{version} of {name}: "
                f"{one_line(error)}; update {dependent} in the same revision first"
            ) from error
    for view in (name, *dependents):
        swap.rows[view] = bind.exec_driver_sql(
            f"SELECT count(*) FROM {SWAP_SCHEMA}.{quote(view)}"
        ).scalar_one()
    return swap


def _point_read_through_at(bind: Connection, name: str, shadow: str) -> None:
    """Point the view's read-through view at the new version: the views built on it are
    rebuilt from it, and the old version has no reader left to drop with it."""
    quote = bind.dialect.identifier_preparer.quote_identifier
    try:
        bind.exec_driver_sql(f"CREATE OR REPLACE VIEW {READ_THROUGH_SCHEMA}.{quote(name)} "
                             f"AS SELECT * FROM {shadow}")
    except DBAPIError as error:
        raise ViewUpdateRefused(
            f"cannot point {READ_THROUGH_SCHEMA}.{name} at the new version of {name}: "
            f"{one_line(error)}; a read-through view takes new columns only at the end: in "
            "the same revision, drop the views reading it (drop_view) and it first, and create "
            "them again after; nothing was changed") from error


_DEFINITIONS = text(
    "SELECT coalesce(array_agg(pg_catalog.pg_get_viewdef(to_regclass("
    "pg_catalog.format('analytics.%I', v.name))) ORDER BY v.n), '{}') "
    "FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS v (name, n)"
)


def _definitions(bind: Connection, names: list[str]) -> list[str]:
    """The definitions of views of schema analytics, in one round trip."""
    return bind.execute(_DEFINITIONS, {"names": names}).scalar_one()


def _let_standbys_catch_up(bind: Connection) -> None:
    """While hot standbys read the views (revision 0018 on), wait up to
    analytics.refresh_settings.standby_wait for them to replay what was written so
    far: a standby far behind cancels the queries its replay of the swap's locks
    waits for, instead of waiting."""
    installed = bind.execute(
        text("SELECT to_regprocedure('analytics.wait_for_standbys(interval)') IS NOT NULL")
    ).scalar_one()
    if installed and bind.execute(text("SELECT analytics.replica_safe_refresh()")).scalar_one():
        bind.execute(text("SELECT analytics.wait_for_standbys(standby_wait) "
                          "FROM analytics.refresh_settings"))


def swap_in(bind: Connection, swaps: list[Swap]) -> None:
    """Swap the views built beside into schema analytics, all in one go.

    Each try takes the changed views' ACCESS EXCLUSIVE locks first (ALTER ...
    OWNER TO their owner: LOCK TABLE refuses materialized views), then drops
    their dependents and them: a hot standby replays the locks in this order, so
    its readers of the dependents never queue behind a long question on the
    changed view. Each lock waits at most analytics.refresh_settings.
    swap_lock_timeout, readers queue behind it no longer, and between tries the
    queue drains. After swap_attempts tries it fails naming the process holding
    the lock; the caller's transaction then changes nothing. From the first
    lock to the commit, few round trips: the readers of these views wait for them.
    """
    quote = bind.dialect.identifier_preparer.quote_identifier
    timeout_ms, attempts = bind.execute(text(
        "SELECT (extract(epoch FROM swap_lock_timeout) * 1000)::bigint, swap_attempts "
        "FROM analytics.refresh_settings")).one()
    owners = [bind.execute(text(f"SELECT relowner::regrole::text FROM pg_catalog.pg_class "
                                f"WHERE oid = {_ANALYTICS_VIEW}"), {"name": swap.name}
                           ).scalar_one() for swap in swaps]
    views = [view for swap in swaps for view in (swap.name, *swap.dependents)]
    dependents = [dependent for swap in swaps for dependent in swap.dependents]
    definitions = _definitions(bind, dependents)
    take_and_drop = "; ".join(
        [f"ALTER MATERIALIZED VIEW {SCHEMA}.{quote(swap.name)} OWNER TO {owner}"
         for swap, owner in zip(swaps, owners, strict=True)]
        + [f"DROP MATERIALIZED VIEW {SCHEMA}.{quote(view)}"
           for swap in swaps for view in (*swap.dependents, swap.name)])
    move = "; ".join(f"ALTER MATERIALIZED VIEW {SWAP_SCHEMA}.{quote(view)} SET SCHEMA {SCHEMA}"
                     for view in views)
    changed = ", ".join(f"{SCHEMA}.{quote(swap.name)}" for swap in swaps)
    _let_standbys_catch_up(bind)
    saved = bind.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
    for attempt in range(1, attempts + 1):
        savepoint = bind.begin_nested()
        try:
            bind.exec_driver_sql(f"SET LOCAL lock_timeout = '{timeout_ms}ms'; {take_and_drop}")
        except DBAPIError as error:
            savepoint.rollback()
            if not is_lock_timeout(error):
                raise
            if attempt == attempts:
                holder = lock_holder(bind, [_view_oid(bind, SCHEMA, view) for view in views])
                raise DeployLockError(
                    f"cannot swap in the new version of {changed}: no lock within {attempts} "
                    f"tries of {timeout_ms} ms; {holder}; nothing was changed: deploy again "
                    "once it has finished"
                ) from error
            time.sleep(pause(attempt))
        else:
            savepoint.commit()
            break
    bind.execute(text("SELECT set_config('lock_timeout', :value, true)"), {"value": saved})
    bind.exec_driver_sql(move)
    if _definitions(bind, dependents) != definitions:
        raise ViewUpdateRefused(f"the views rebuilt on the new version of {changed} differ "
                                "from their definitions; nothing was changed")
    _track_source_tables(bind)


def deferred_rows(bind: Connection) -> dict[str, int]:
    """The rows of the views update_view built beside, not swapped in yet (DEFERRED_SWAPS)."""
    return {view: rows for swap in bind.info.get(DEFERRED_SWAPS) or ()
            for view, rows in swap.rows.items()}


def swap_deferred(bind: Connection) -> None:
    """Swap in what update_view built beside since the last call (see DEFERRED_SWAPS)."""
    swaps = bind.info.get(DEFERRED_SWAPS)
    if swaps:
        swap_in(bind, swaps)
        swaps.clear()


def create_view(name: str, version: int, tier: str) -> None:
    """Create a view from its version file, populated, and register its tier."""
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
    _build(name, version)
    op.get_bind().execute(
        text(
            "INSERT INTO analytics.managed_views (view_name, version, tier) "
            "VALUES (:name, :version, :tier)"
        ),
        {"name": name, "version": version, "tier": tier},
    )


def update_view(name: str, version: int, revert_to_version: int) -> None:
    """Replace a view's deployed version ``revert_to_version`` with ``version``, side by side.

    The new version is built and populated in schema analytics_swap, with the
    package's views that read it rebuilt there against it (indexes, comments,
    grants, storage parameters and tiers kept); then it is swapped in under a
    short lock timeout, retried (analytics.refresh_settings). Readers keep the
    old rows until the swap, and wait at most a lock timeout for it. Under the
    package's deploy the swap waits for the end of the revision (all of its
    views at once, just before it commits); elsewhere it happens at once, and
    the view's readers then wait until the caller commits.

    Refuses, before anything changes, when the deployed version is not
    ``revert_to_version`` or a view the package's verbs did not create reads it.
    A downgrade calls it with the two versions swapped.
    """
    bind = op.get_bind()
    deployed = bind.execute(
        text("SELECT version FROM analytics.managed_views WHERE view_name = :name"),
        {"name": name},
    ).scalar_one_or_none()
    if deployed != revert_to_version:
        raise ViewUpdateRefused(
            f"cannot update {SCHEMA}.{name} to v{version}: its deployed version is "
            f"{'none' if deployed is None else f'v{deployed}'}, not v{revert_to_version}; "
            "upgrade or downgrade to the revision that deployed it first"
        )
    dependents, read_through = _rebuildable_dependents(bind, name)
    _hold_refresh_locks(bind, [name, *dependents])
    swap = _build_beside(bind, name, version, dependents, read_through)
    bind.execute(
        text("UPDATE analytics.managed_views SET version = :version WHERE view_name = :name"),
        {"name": name, "version": version},
    )
    deferred = bind.info.get(DEFERRED_SWAPS)
    if deferred is None:
        swap_in(bind, [swap])
    else:
        deferred.append(swap)


def drop_view(name: str) -> None:
    """Drop a view and its registration."""
    _drop(name)
    op.get_bind().execute(
        text("DELETE FROM analytics.managed_views WHERE view_name = :name"), {"name": name}
    )


def create_function(name: str, version: int) -> None:
    """Create a routine of schema analytics from its version file."""
    run_sql_file(op.get_bind(), function_sql_path(name, version))


def update_function(name: str, version: int) -> None:
    """Replace a routine with another version of it, keeping SECURITY DEFINER.

    CREATE OR REPLACE keeps the owner and the grants but resets SECURITY
    DEFINER, which revision 0011 sets on the routines the refresher role runs.
    A downgrade calls it with the previous version.
    """
    bind = op.get_bind()
    definer = bind.execute(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p "
            "WHERE p.pronamespace = 'analytics'::regnamespace AND p.proname = :name "
            "AND p.prosecdef"
        ),
        {"name": name},
    ).scalars().all()
    run_sql_file(bind, function_sql_path(name, version))
    for signature in definer:
        bind.exec_driver_sql(f"ALTER FUNCTION {signature} SECURITY DEFINER")


def restore_missing_views() -> None:
    """Rebuild the registered views that were dropped by hand, each from the file of its
    deployed version, with a warning: the downgrades of the revisions that created them
    drop them. A view built on another missing one is built after it."""
    bind = op.get_bind()
    missing = bind.execute(text(
        "SELECT mv.view_name, mv.version FROM analytics.managed_views mv "
        "WHERE to_regclass(pg_catalog.format('analytics.%I', mv.view_name)) IS NULL "
        "ORDER BY 1")).all()
    while missing:
        left = []
        for name, version in missing:
            savepoint = bind.begin_nested()
            try:
                _build(name, version)
            except DBAPIError:
                savepoint.rollback()
                left.append((name, version))
            else:
                savepoint.commit()
                logger.warning("%s.%s was dropped by hand: rebuilt from v%s.sql for the "
                               "downgrade", SCHEMA, name, version)
        if len(left) == len(missing):
            _build(*left[0])  # cannot be built: its error says why
        missing = left
