"""Visualization settings of the cards, and the result columns they name.

Keys as Metabase stores them in a card's ``visualization_settings``; a native
query's columns are named by their SQL names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


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
    """A pie (drawn as a donut) of ``metric`` by ``dimension``."""
    return {"pie.dimension": dimension, "pie.metric": metric, "pie.show_legend": True}


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


def with_decimals(settings: Mapping[str, Any], decimals: int, *columns: str) -> dict[str, Any]:
    """``settings`` with ``columns`` shown with a fixed number of decimals."""
    column_settings = dict(settings.get("column_settings", {}))
    for column in columns:
        column_settings[_column_key(column)] = {"decimals": decimals}
    return {**settings, "column_settings": column_settings}


def column_decimals(settings: Mapping[str, Any], column: str) -> int | None:
    """The fixed number of decimals ``with_decimals`` set for ``column``, if any."""
    return settings.get("column_settings", {}).get(_column_key(column), {}).get("decimals")


def _column_key(column: str) -> str:
    # Metabase keys a native query's column settings by the JSON text ["name","<column>"].
    return json.dumps(["name", column], separators=(",", ":"))


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
