"""Drift detection: are the deployed views still what their SQL files say?

For every view in analytics.managed_views, the file of its deployed version is
built again, WITH NO DATA, in a scratch schema inside a transaction that is
rolled back. Its definition (pg_get_viewdef), columns, indexes and comments are
then compared with the deployed view's, so a view, index or comment that
someone changed by hand shows up, and nothing in the database changes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from soleflip_analytics.names import SCHEMA
from soleflip_analytics.paths import view_sql_path


class NotDeployedError(RuntimeError):
    """The database has no analytics views to check."""


@dataclass(frozen=True)
class Drift:
    """One difference between a deployed view and its SQL file."""

    view: str
    problem: str

    def __str__(self) -> str:
        return f"{SCHEMA}.{self.view}: {self.problem}"


@dataclass(frozen=True)
class DriftReport:
    checked: tuple[str, ...]
    """The views the migrations registered, each compared with its SQL file."""
    drifts: tuple[Drift, ...]


def check_drift(connection: Connection) -> DriftReport:
    """Every difference between the deployed views and their SQL files; changes nothing."""
    registered = connection.execute(
        text("SELECT to_regclass('analytics.managed_views') IS NOT NULL")
    ).scalar_one()
    if not registered:
        raise NotDeployedError(
            "the analytics views are not deployed here (run `soleflip-analytics db upgrade`)"
        )
    managed = connection.execute(
        text("SELECT view_name, version FROM analytics.managed_views ORDER BY view_name")
    ).all()
    names = [name for name, _version in managed]
    drifts = [drift for name, version in managed
              for drift in _check_view(connection, name, version)]
    return DriftReport(tuple(names), tuple(drifts + _unmanaged_views(connection, names)))


def _check_view(connection: Connection, name: str, version: int) -> list[Drift]:
    deployed = _relation(connection, SCHEMA, name)
    if deployed is None:
        return [Drift(name, "registered but missing from the database (dropped by hand?)")]
    path = view_sql_path(name, version)
    if not path.is_file():
        return [Drift(name, f"deployed version v{version} has no SQL file in this package "
                            "(is the package older than the database?)")]
    scratch = f"drift_check_{secrets.token_hex(6)}"
    savepoint = connection.begin_nested()  # rolled back: the check leaves nothing behind
    try:
        quoted = connection.dialect.identifier_preparer.quote(scratch)
        connection.exec_driver_sql(f"CREATE SCHEMA {quoted}")
        connection.execute(
            text("SELECT set_config('search_path', :path, true)"),
            {"path": f"{quoted}, {SCHEMA}"},
        )
        for statement in split_statements(path.read_text()):
            connection.exec_driver_sql(_without_data(statement))
        # Names are printed fully qualified, the same way for both copies.
        connection.execute(text("SELECT set_config('search_path', 'pg_catalog', true)"))
        expected = _relation(connection, scratch, name)
        if expected is None:
            return [Drift(name, f"{path.name} does not create a view named {name}")]
        actual = _describe(connection, deployed)
        wanted = _describe(connection, expected)
    finally:
        savepoint.rollback()
    return [Drift(name, problem) for problem in _differences(actual, wanted, path.name)]


def _relation(connection: Connection, schema: str, name: str) -> int | None:
    return connection.execute(
        text(
            "SELECT c.oid FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relname = :name AND c.relkind = 'm'"
        ),
        {"schema": schema, "name": name},
    ).scalar_one_or_none()


@dataclass(frozen=True)
class _Description:
    definition: str
    columns: list[tuple[str, str]]
    comment: str | None
    column_comments: dict[str, str | None]
    indexes: dict[str, str]
    index_comments: dict[str, str | None]


def _describe(connection: Connection, oid: int) -> _Description:
    definition = connection.execute(
        text("SELECT pg_catalog.pg_get_viewdef(:oid, true)"), {"oid": oid}
    ).scalar_one()
    columns = connection.execute(
        text(
            "SELECT attname, pg_catalog.format_type(atttypid, atttypmod), "
            "       pg_catalog.col_description(attrelid, attnum) "
            "FROM pg_catalog.pg_attribute "
            "WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        {"oid": oid},
    ).all()
    comment = connection.execute(
        text("SELECT pg_catalog.obj_description(:oid, 'pg_class')"), {"oid": oid}
    ).scalar_one()
    # The index definition without the "ON schema.table" part, which names the scratch schema.
    indexes = connection.execute(
        text(
            "SELECT c.relname, "
            "       regexp_replace(pg_catalog.pg_get_indexdef(i.indexrelid), "
            "                      ' ON \\S+ USING ', ' USING '), "
            "       pg_catalog.obj_description(i.indexrelid, 'pg_class') "
            "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = :oid"
        ),
        {"oid": oid},
    ).all()
    return _Description(
        definition=definition,
        columns=[(column, kind) for column, kind, _comment in columns],
        comment=comment,
        column_comments={column: note for column, _kind, note in columns},
        indexes={index: definition for index, definition, _comment in indexes},
        index_comments={index: note for index, _definition, note in indexes},
    )


def _differences(actual: _Description, wanted: _Description, source: str) -> Iterator[str]:
    if actual.columns != wanted.columns:
        yield f"columns differ from {source}: {_column_changes(actual, wanted)}"
    elif actual.definition != wanted.definition:
        yield f"definition differs from {source}"
    for index in sorted(wanted.indexes.keys() - actual.indexes.keys()):
        yield f"index {index} is missing"
    for index in sorted(actual.indexes.keys() - wanted.indexes.keys()):
        yield f"index {index} is not in {source} (created by hand?)"
    for index in sorted(actual.indexes.keys() & wanted.indexes.keys()):
        if actual.indexes[index] != wanted.indexes[index]:
            yield (f"index {index} differs: deployed `{actual.indexes[index]}`, "
                   f"file `{wanted.indexes[index]}`")
        if actual.index_comments[index] != wanted.index_comments[index]:
            yield f"comment on index {index} differs from {source}"
    if actual.comment != wanted.comment:
        yield f"comment on the view differs from {source}"
    for column, note in wanted.column_comments.items():
        if column in actual.column_comments and actual.column_comments[column] != note:
            yield f"comment on column {column} differs from {source}"


def _column_changes(actual: _Description, wanted: _Description) -> str:
    deployed, expected = dict(actual.columns), dict(wanted.columns)
    changes = [
        ("missing", [name for name in expected if name not in deployed]),
        ("not in the file", [name for name in deployed if name not in expected]),
        ("other type", [f"{name} {deployed[name]} (file: {expected[name]})"
                        for name in expected if name in deployed
                        and deployed[name] != expected[name]]),
    ]
    parts = [f"{label}: {_some(names)}" for label, names in changes if names]
    return "; ".join(parts) or "same columns in another order"


def _some(names: list[str], shown: int = 5) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _unmanaged_views(connection: Connection, managed: list[str]) -> list[Drift]:
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind = 'm' AND c.relname <> ALL(:managed) "
            "ORDER BY c.relname"
        ),
        {"schema": SCHEMA, "managed": managed},
    ).scalars().all()
    return [Drift(name, "materialized view not created by the migrations (created by hand?)")
            for name in names]


# --------------------------------------------------------------------------
# Reading the SQL files.

_TOKEN = re.compile(
    r"""
      (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*.*?\*/)
    | (?P<string>[Ee]?'(?:[^']|'')*')
    | (?P<identifier>"(?:[^"]|"")*")
    | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)?\$.*?\$(?P=tag)?\$)
    | (?P<semicolon>;)
    """,
    re.VERBOSE | re.DOTALL,
)


def split_statements(sql: str) -> list[str]:
    """The statements of a SQL script, without their semicolons.

    Semicolons inside comments, string literals, quoted identifiers and
    dollar-quoted bodies do not end a statement.
    """
    statements = []
    start = 0
    for match in _TOKEN.finditer(sql):
        if match.lastgroup == "semicolon":
            statements.append(sql[start:match.start()])
            start = match.end()
    statements.append(sql[start:])
    return [statement for statement in statements if _code(statement).strip()]


def _code(statement: str) -> str:
    """The statement with its comments blanked out."""
    return _TOKEN.sub(
        lambda m: " " if m.lastgroup in ("line_comment", "block_comment") else m.group(0),
        statement,
    )


_CREATE_MATVIEW = re.compile(r"^\s*CREATE\s+MATERIALIZED\s+VIEW\b", re.IGNORECASE)
_WITH_DATA = re.compile(r"\s+WITH\s+(NO\s+)?DATA\s*$", re.IGNORECASE)


def _without_data(statement: str) -> str:
    """CREATE MATERIALIZED VIEW ... WITH NO DATA: the definition, without running the query."""
    code = _code(statement)
    if not _CREATE_MATVIEW.match(code):
        return statement
    if _WITH_DATA.search(code):
        return _WITH_DATA.sub("", code) + "\nWITH NO DATA"
    return statement + "\nWITH NO DATA"
