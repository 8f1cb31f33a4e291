"""What a dashboard template is made of: filters, cards and their places on the grid."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Metabase lays dashboards out on a grid 24 columns wide (since v0.46).
GRID_COLUMNS = 24

# Dashboard filter (parameter) type -> type of the native-query variable it fills.
# Metabase lets a "date/single" parameter fill a date variable and "string/=" a text
# variable; "date/range" only fits field filters (metabase.lib.schema.parameter).
VARIABLE_TYPES: Mapping[str, str] = {"date/single": "date", "string/=": "text"}


@dataclass(frozen=True)
class Filter:
    """A dashboard filter and the native-query variable of the same name it fills."""

    slug: str  # the variable's name, and the dashboard parameter's id and slug
    name: str  # shown above the dashboard and as the variable's display name
    parameter_type: str  # a key of VARIABLE_TYPES
    choices: tuple[str, ...] = ()  # a fixed list of values to pick from, if any

    @property
    def variable_type(self) -> str:
        return VARIABLE_TYPES[self.parameter_type]


@dataclass(frozen=True)
class Place:
    """A card's position and size on the dashboard grid, in grid cells."""

    col: int
    row: int
    width: int
    height: int


@dataclass(frozen=True)
class Card:
    """A saved question: native SQL on the analytics views, drawn one way."""

    name: str  # unique across all templates: push matches cards by name
    description: str
    display: str  # scalar, line, bar, row, pie, table, map
    sql: str
    visualization: Mapping[str, object]
    place: Place
    filters: tuple[Filter, ...] = ()  # the dashboard filters wired to this card


@dataclass(frozen=True)
class Dashboard:
    slug: str  # directory name of its exported files
    name: str
    description: str
    filters: tuple[Filter, ...]
    cards: tuple[Card, ...]
