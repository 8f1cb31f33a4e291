"""Visualization settings of the cards, and the result columns they name.

Keys as Metabase stores them in a card's ``visualization_settings``; a native
query's columns are named by their SQL names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Slices of a pie at most, besides "Other": as many as the chart colours.
PIE_SLICES = 8


def scalar(column: str) -> dict[str, object]:
    """A single number: the first row's value of ``column``."""
    return {"scalar.field": column}


def chart(dimension: str, *metrics: str, stacked: bool = False) -> dict[str, object]:
    """A line, bar or row chart of ``metrics`` over ``dimension``."""
    settings: dict[str, object] = {"graph.dimensions": [dimension], "graph.metrics": list(metrics)}
    if stacked:
        settings["stackable.stack_type"] = "stacked"
    return settings


def pie(dimension: str, metric: str) -> dict[str, object]:
    """A pie (drawn as a donut) of ``metric`` by ``dimension``. The query returns at
    most PIE_SLICES rows plus one "Other" (``top_slices``); Metabase groups no
    further slices into an "Other" of its own (``pie.slice_threshold`` 0)."""
    return {
        "pie.dimension": dimension,
        "pie.metric": metric,
        "pie.show_legend": True,
        "pie.slice_threshold": 0,
    }


def table(*columns: str) -> dict[str, object]:
    """A table showing ``columns``, in this order."""
    return {"table.columns": [{"name": column, "enabled": True} for column in columns]}


def world_map(country: str, metric: str) -> dict[str, object]:
    """A world map shading countries (ISO 3166-1 alpha-2 codes) by ``metric``."""
    return {
        "map.type": "region",
        "map.region": "world_countries",
        "map.dimension": country,
        "map.metric": metric,
    }


def named_columns(settings: Mapping[str, Any]) -> set[str]:
    """Every result column the settings refer to; the query must return all of them."""
    names: set[str] = set()
    for key in ("scalar.field", "pie.dimension", "pie.metric", "map.dimension", "map.metric"):
        value = settings.get(key)
        if isinstance(value, str):
            names.add(value)
        elif isinstance(value, list):
            names.update(value)
    for key in ("graph.dimensions", "graph.metrics"):
        names.update(settings.get(key, []))
    names.update(column["name"] for column in settings.get("table.columns", []))
    names.update(json.loads(key)[1] for key in settings.get("column_settings", {}))
    return names


def top_slices(grouped: str, label: str, metric: str, *columns: str, counts: str = "") -> str:
    """SQL of a pie's rows from the CTE ``grouped`` (one row per ``label``): ``label``
    and ``columns``, for the PIE_SLICES largest by ``metric``, then the rest added up
    as one row "Other"; ``counts`` (one of the columns) is a count that stays a bigint."""
    totals = ",\n       ".join(
        f"sum({name}){'::bigint' if name == counts else ''} AS {name}" for name in columns
    )
    return f"""ranked AS (
    SELECT g.*, row_number() OVER (ORDER BY g.{metric} DESC, g.{label}) AS slice
    FROM {grouped} g
)
SELECT CASE WHEN slice <= {PIE_SLICES} THEN {label} ELSE 'Other' END AS {label},
       {totals}
FROM ranked
GROUP BY 1
ORDER BY min(slice)"""
