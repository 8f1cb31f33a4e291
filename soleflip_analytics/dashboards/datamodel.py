"""The views' descriptions in Metabase's data model.

Metabase shows a materialized view's table comment as the table's description
but does not read the column comments of materialized views, so the columns
arrive without descriptions. After a schema sync, the descriptions from the
view files are written into the tables and fields that have none; a
description already set (by the sync or by a person) is never overwritten.

A sync finds a database's tables first and their fields afterwards, so a
table can be listed while its fields are not, or only some of them: push
waits until every column of every view has its field.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from soleflip_analytics.dashboards.client import MetabaseClient
from soleflip_analytics.dashboards.descriptions import ViewDescription

SCHEMA = "analytics"


@dataclass
class DescribeResult:
    written: list[str] = field(default_factory=list)  # analytics.view or analytics.view.column
    kept: list[str] = field(default_factory=list)  # already had a description
    # What Metabase had not synced in time: "analytics.view (all columns)" for a view
    # without a table, "analytics.view (columns a, b)" for columns without a field.
    missing: list[str] = field(default_factory=list)
    skipped: str | None = None  # why the data model was left alone (a refused request)


def synced_tables(
    client: MetabaseClient,
    database_id: int,
    columns: Mapping[str, Collection[str]],
    timeout: float,
    poll_interval: float,
) -> dict[str, dict[str, Any]]:
    """Ask Metabase to sync the database's schema, then wait (up to ``timeout`` seconds)
    until it knows every view of ``columns`` (view -> its columns) and a field for each
    of its columns; return the tables (with their fields) it knows by then."""
    client.post(f"/api/database/{database_id}/sync_schema")
    deadline = time.monotonic() + timeout
    while True:
        metadata = client.get(f"/api/database/{database_id}/metadata", {"include_hidden": "true"})
        tables = {
            table["name"]: table
            for table in metadata.get("tables", [])
            if table.get("schema") == SCHEMA and table["name"] in columns
        }
        if not unsynced(tables, columns) or time.monotonic() >= deadline:
            return tables
        time.sleep(poll_interval)


def unsynced(
    tables: Mapping[str, Mapping[str, Any]], columns: Mapping[str, Collection[str]]
) -> list[str]:
    """The views, and columns of views, that have no table or field in ``tables``."""
    missing = []
    for view, wanted in columns.items():
        table = tables.get(view)
        if table is None:
            missing.append(f"{SCHEMA}.{view} (all columns)")
            continue
        known = {field["name"] for field in table.get("fields") or []}
        absent = [name for name in wanted if name not in known]
        if absent:
            missing.append(f"{SCHEMA}.{view} (columns {', '.join(absent)})")
    return missing


def describe(
    client: MetabaseClient,
    tables: Mapping[str, Mapping[str, Any]],
    descriptions: Mapping[str, ViewDescription],
) -> DescribeResult:
    """Write every missing description (``PUT /api/table/:id``, ``PUT /api/field/:id``)."""
    result = DescribeResult(
        missing=unsynced(tables, {view: d.columns for view, d in descriptions.items()})
    )
    for view, described in descriptions.items():
        table = tables.get(view)
        if table is None:
            continue
        _fill(
            client,
            f"/api/table/{table['id']}",
            table,
            described.description,
            f"{SCHEMA}.{view}",
            result,
        )
        for column in table.get("fields") or []:
            text = described.columns.get(column["name"])
            if text:
                _fill(
                    client,
                    f"/api/field/{column['id']}",
                    column,
                    text,
                    f"{SCHEMA}.{view}.{column['name']}",
                    result,
                )
    return result


def _fill(
    client: MetabaseClient,
    path: str,
    current: Mapping[str, Any],
    description: str,
    label: str,
    result: DescribeResult,
) -> None:
    if not description.strip():
        return  # Metabase takes no blank description
    if (current.get("description") or "").strip():
        result.kept.append(label)
    else:
        client.put(path, {"description": description})
        result.written.append(label)
