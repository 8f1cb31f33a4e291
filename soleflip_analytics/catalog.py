"""Which views exist, what they read, and in which order they refresh: from the catalog.

Nothing here is a hand-kept list. The views are the materialized views of
schema ``analytics`` (``pg_matviews``); what each reads comes from ``pg_depend``
through the SQL view ``analytics.view_sources``; the order from
``analytics.refresh_order``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from soleflip_analytics.names import SCHEMA, TIERS


class UnknownViewError(LookupError):
    """A view name that is not a materialized view of schema analytics."""


class UnknownTableError(LookupError):
    """A table name (for affected_by) that the database does not know."""


def known_views(connection: Connection) -> list[str]:
    """The materialized views of schema analytics, by name."""
    return list(
        connection.execute(
            text(
                "SELECT matviewname::text FROM pg_catalog.pg_matviews "
                "WHERE schemaname = :schema ORDER BY 1"
            ),
            {"schema": SCHEMA},
        ).scalars()
    )


def validate_views(connection: Connection, names: Iterable[str]) -> list[str]:
    """The names as view names (an ``analytics.`` prefix is accepted), or UnknownViewError."""
    known = known_views(connection)
    prefix = f"{SCHEMA}."
    wanted = [name.removeprefix(prefix) for name in names]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UnknownViewError(
            f"not a materialized view of schema {SCHEMA}: "
            + ", ".join(repr(name) for name in unknown)
            + ". Known views: "
            + (", ".join(known) or "none (apply the migrations first)")
            + ". Nothing was refreshed."
        )
    return wanted


def resolve_tables(connection: Connection, names: Iterable[str]) -> list[int]:
    """Oids of tables (or views) by name, such as 'transactions.orders'.

    Looked up in the catalog, so a caller without privileges on the table's
    schema (the refresher role) can name it too; a malformed name is unknown.
    """
    oids: list[int] = []
    missing: list[str] = []
    for name in names:
        oid = connection.execute(
            text("SELECT analytics.relation_oid(:name, current_schemas(true))"), {"name": name}
        ).scalar_one()
        if oid is None:
            missing.append(name)
        else:
            oids.append(oid)
    if missing:
        raise UnknownTableError(
            "unknown table " + ", ".join(repr(name) for name in missing)
            + ": affected_by takes schema-qualified table names such as 'transactions.orders'."
        )
    return oids


_AFFECTED = text(
    """
    WITH RECURSIVE affected (view_oid) AS (
        SELECT s.view_oid FROM analytics.view_sources s
        WHERE s.source_oid = ANY (CAST(:oids AS oid[]))
      UNION
        SELECT s.view_oid FROM affected a JOIN analytics.view_sources s ON s.source_oid = a.view_oid
    )
    SELECT DISTINCT c.relname::text FROM affected a JOIN pg_catalog.pg_class c ON c.oid = a.view_oid
    """
)


def views_affected_by(connection: Connection, tables: Iterable[str]) -> set[str]:
    """Views that read any of the tables, directly or through other views."""
    oids = resolve_tables(connection, tables)
    return set(connection.execute(_AFFECTED, {"oids": oids}).scalars())


def views_of_tier(connection: Connection, tier: str) -> set[str]:
    """Views whose migration registered them with the tier."""
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
    return set(
        connection.execute(
            text("SELECT view_name FROM analytics.managed_views WHERE tier = :tier"),
            {"tier": tier},
        ).scalars()
    )


def in_refresh_order(connection: Connection, views: Iterable[str]) -> list[str]:
    """The views sorted so that a view is refreshed after the views it reads."""
    order = connection.execute(
        text("SELECT view_name FROM analytics.refresh_order ORDER BY level, view_name")
    ).scalars()
    wanted = set(views)
    return [view for view in order if view in wanted]


def select_views(
    connection: Connection,
    views: Iterable[str] | None = None,
    tier: str | None = None,
    affected_by: str | Iterable[str] | None = None,
) -> list[str]:
    """The views that all the given filters select (all views without one), in refresh order."""
    selected = set(known_views(connection)) if views is None else set(
        validate_views(connection, [views] if isinstance(views, str) else views)
    )
    if tier is not None:
        selected &= views_of_tier(connection, tier)
    if affected_by is not None:
        tables = [affected_by] if isinstance(affected_by, str) else list(affected_by)
        selected &= views_affected_by(connection, tables)
    return in_refresh_order(connection, selected)
