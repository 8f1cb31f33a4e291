"""The templates as the JSON bodies of Metabase's REST API.

Shapes follow Metabase's API as documented for v0.57 (its OpenAPI reference at
/api/docs, and docs/api in the Metabase repository), unchanged through the
API changelog since:

- ``POST /api/card``: name, description, type, display, visualization_settings,
  dataset_query (legacy native form: {type: "native", native: {query,
  template-tags}, database}), parameters, collection_id;
- ``POST /api/dashboard``: name, description, parameters, collection_id;
- ``PUT /api/dashboard/:id`` with ``dashcards``: id (negative for a new one),
  card_id, row, col, size_x, size_y, parameter_mappings [{parameter_id, card_id,
  target: ["variable", ["template-tag", name]]}].
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from soleflip_analytics.dashboards.columns import DEFAULT_CURRENCY, with_units
from soleflip_analytics.dashboards.model import Card, Dashboard, Filter
from soleflip_analytics.dashboards.templates import DASHBOARDS

METABASE_VERSION = "v0.57"

# Template tag ids are UUIDs; deriving them from the card and tag names keeps
# exports stable, so a second push finds nothing to change.
_TAG_IDS = uuid.UUID("6f0b9d2e-3c1a-4e5b-9a7d-2f4c8e1b5a60")

# The type of a card's own parameter for a variable, as Metabase derives it
# (metabase.queries.models.card/template-tag-parameters).
_CARD_PARAMETER_TYPES = {"date": "date/single", "text": "category"}
_SECTIONS = {"date/single": "date", "string/=": "string"}


@dataclass(frozen=True)
class Bundle:
    """One dashboard's payloads.

    Until its cards exist in Metabase, the ``card_id`` of each dashcard and of
    each of its parameter mappings is the card's file name, a key of ``cards``.
    """

    directory: str
    dashboard: dict[str, Any]  # POST /api/dashboard
    cards: dict[str, dict[str, Any]]  # card file -> POST /api/card
    dashcards: list[dict[str, Any]]  # "dashcards" of PUT /api/dashboard/:id


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def variable_target(tag: str) -> list[Any]:
    """A parameter's target: the native-query variable ``tag``."""
    return ["variable", ["template-tag", tag]]


def _tag_id(card: Card, flt: Filter) -> str:
    return str(uuid.uuid5(_TAG_IDS, f"{card.name}/{flt.slug}"))


def template_tags(card: Card) -> dict[str, dict[str, Any]]:
    """The card's native-query template tags: one variable per filter wired to it."""
    return {
        flt.slug: {
            "id": _tag_id(card, flt),
            "name": flt.slug,
            "display-name": flt.name,
            "type": flt.variable_type,
        }
        for flt in card.filters
    }


def card_payload(
    card: Card,
    database_id: int | None,
    collection_id: int | None,
    currency: str = DEFAULT_CURRENCY,
) -> dict[str, Any]:
    """The body of ``POST /api/card`` (and ``PUT /api/card/:id``) for a card; money in
    ``currency``."""
    return {
        "name": card.name,
        "description": card.description,
        "type": "question",
        "display": card.display,
        "visualization_settings": with_units(card.visualization, currency),
        "dataset_query": {
            "type": "native",
            "native": {"query": card.sql, "template-tags": template_tags(card)},
            "database": database_id,
        },
        "parameters": [
            {
                "id": _tag_id(card, flt),
                "type": _CARD_PARAMETER_TYPES[flt.variable_type],
                "target": variable_target(flt.slug),
                "name": flt.name,
                "slug": flt.slug,
            }
            for flt in card.filters
        ],
        "collection_id": collection_id,
    }


def _parameter(flt: Filter) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "id": flt.slug,
        "name": flt.name,
        "slug": flt.slug,
        "type": flt.parameter_type,
        "sectionId": _SECTIONS[flt.parameter_type],
    }
    if flt.choices:
        parameter.update(
            values_query_type="list",
            values_source_type="static-list",
            values_source_config={"values": list(flt.choices)},
        )
    return parameter


def dashboard_payload(dashboard: Dashboard, collection_id: int | None) -> dict[str, Any]:
    """The body of ``POST /api/dashboard`` for a dashboard (its filters, no cards yet)."""
    return {
        "name": dashboard.name,
        "description": dashboard.description,
        "parameters": [_parameter(flt) for flt in dashboard.filters],
        "collection_id": collection_id,
    }


def _dashcard(dashcard_id: int, card_file: str, card: Card) -> dict[str, Any]:
    return {
        "id": dashcard_id,
        "card_id": card_file,
        "row": card.place.row,
        "col": card.place.col,
        "size_x": card.place.width,
        "size_y": card.place.height,
        "parameter_mappings": [
            {"parameter_id": flt.slug, "card_id": card_file, "target": variable_target(flt.slug)}
            for flt in card.filters
        ],
        "visualization_settings": {},
        "series": [],
    }


def bundle(
    dashboard: Dashboard,
    database_id: int | None = None,
    collection_id: int | None = None,
    currency: str = DEFAULT_CURRENCY,
) -> Bundle:
    cards: dict[str, dict[str, Any]] = {}
    dashcards = []
    for number, card in enumerate(dashboard.cards, start=1):
        card_file = f"cards/{number:02d}-{_slugify(card.name)}.json"
        cards[card_file] = card_payload(card, database_id, collection_id, currency)
        dashcards.append(_dashcard(-number, card_file, card))
    return Bundle(
        directory=dashboard.slug,
        dashboard=dashboard_payload(dashboard, collection_id),
        cards=cards,
        dashcards=dashcards,
    )


def build_bundles(
    database_id: int | None = None,
    collection_id: int | None = None,
    currency: str = DEFAULT_CURRENCY,
) -> list[Bundle]:
    """Every template's payloads, money in ``currency``; ids left ``None`` are filled in
    at import."""
    return [bundle(dashboard, database_id, collection_id, currency) for dashboard in DASHBOARDS]


def with_card_ids(
    dashcards: list[dict[str, Any]],
    card_ids: Mapping[str, int],
    dashcard_ids: Mapping[int, int],
) -> list[dict[str, Any]]:
    """The dashcards with the cards' Metabase ids in place of their file names.

    A card already on the dashboard keeps its dashcard id (``dashcard_ids``: card
    id -> dashcard id); the others get negative ids, which Metabase creates.
    """
    placed = []
    for dashcard in dashcards:
        card_id = card_ids[dashcard["card_id"]]
        placed.append(
            {
                **dashcard,
                "id": dashcard_ids.get(card_id, dashcard["id"]),
                "card_id": card_id,
                "parameter_mappings": [
                    {**mapping, "card_id": card_id} for mapping in dashcard["parameter_mappings"]
                ],
            }
        )
    return placed
