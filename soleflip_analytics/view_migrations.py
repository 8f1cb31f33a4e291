"""The verbs a migration uses: create_view, update_view, drop_view, and for the
package's routines create_function and update_function.

A view's SQL lives in ``sql/views/<name>/v<N>.sql``: the CREATE MATERIALIZED
VIEW, its indexes and its comments, with the view's name unqualified. The verbs
run that file with ``search_path`` pointing at the analytics schema and keep
``analytics.managed_views`` (version and refresh tier) in step. Once change
tracking is installed (revision 0009), they also put it on any table a new view
version reads; once the package's roles are (revision 0011), they grant them
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
from pathlib import Path

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

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
    bind = op.get_bind()
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
    """Replace a view's deployed version with another; its tier is kept.

    A downgrade calls it with the two versions swapped.
    """
    _drop(name)
    _build(name, version)
    op.get_bind().execute(
        text(
            "UPDATE analytics.managed_views SET version = :version "
            "WHERE view_name = :name AND version = :previous"
        ),
        {"name": name, "version": version, "previous": revert_to_version},
    )


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
