"""Checks run on the payloads before anything is written or sent to Metabase."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

from soleflip_analytics.dashboards.model import GRID_COLUMNS, VARIABLE_TYPES
from soleflip_analytics.dashboards.payloads import Bundle
from soleflip_analytics.dashboards.sql_template import (
    required_tag_names,
    syntax_problems,
    tag_names,
)


class TemplateError(ValueError):
    """The dashboard templates are inconsistent; nothing was written or sent."""


def validate(bundles: Iterable[Bundle]) -> None:
    """Raise TemplateError naming every problem, or return quietly."""
    found = problems(bundles)
    if found:
        raise TemplateError("The dashboard templates are not valid:\n  - " + "\n  - ".join(found))


def problems(bundles: Iterable[Bundle]) -> list[str]:
    bundles = list(bundles)
    found: list[str] = []
    names = Counter(card["name"] for bundle in bundles for card in bundle.cards.values())
    found += [f"card name {name!r} is used {n} times" for name, n in names.items() if n > 1]
    for bundle in bundles:
        where = bundle.dashboard["name"]
        for card in bundle.cards.values():
            found += [f"{where} / {card['name']}: {p}" for p in _card_problems(card)]
        found += [f"{where}: {p}" for p in _layout_problems(bundle.dashcards)]
        found += [f"{where}: {p}" for p in _wiring_problems(bundle)]
    return found


def _card_problems(card: Mapping[str, Any]) -> list[str]:
    native = card["dataset_query"]["native"]
    sql, tags = native["query"], native["template-tags"]
    found = syntax_problems(sql)
    used = tag_names(sql)
    found += [
        f"{{{{{name}}}}} is not declared as a template tag" for name in used if name not in tags
    ]
    found += [
        f"template tag {name!r} is not used in the query" for name in tags if name not in used
    ]
    found += [
        f"template tag {name!r} is named {tag.get('name')!r}"
        for name, tag in tags.items()
        if tag.get("name") != name
    ]
    found += [
        f"{{{{{name}}}}} is outside [[...]] but not required with a default"
        for name in required_tag_names(sql)
        if name in tags and not (tags[name].get("required") and "default" in tags[name])
    ]
    return found


def _layout_problems(dashcards: list[dict[str, Any]]) -> list[str]:
    found = []
    for card in dashcards:
        if card["col"] < 0 or card["row"] < 0 or card["size_x"] < 1 or card["size_y"] < 1:
            found.append(f"card {card['card_id']} has a negative place or an empty size")
        if card["col"] + card["size_x"] > GRID_COLUMNS:
            found.append(f"card {card['card_id']} reaches past the {GRID_COLUMNS}-column grid")
    for first, second in combinations(dashcards, 2):
        if _overlap(first, second):
            found.append(f"cards {first['card_id']} and {second['card_id']} overlap")
    return found


def _overlap(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    return (
        a["col"] < b["col"] + b["size_x"]
        and b["col"] < a["col"] + a["size_x"]
        and a["row"] < b["row"] + b["size_y"]
        and b["row"] < a["row"] + a["size_y"]
    )


def _wiring_problems(bundle: Bundle) -> list[str]:
    parameters = {parameter["id"]: parameter for parameter in bundle.dashboard["parameters"]}
    found = []
    mapped: set[str] = set()
    placed = Counter(dashcard["card_id"] for dashcard in bundle.dashcards)
    found += [f"card {card} is placed {count} times" for card, count in placed.items() if count > 1]
    for dashcard in bundle.dashcards:
        card = bundle.cards.get(dashcard["card_id"])
        if card is None:
            found.append(f"dashcard {dashcard['id']} shows {dashcard['card_id']}, which is no card")
            continue
        tags = card["dataset_query"]["native"]["template-tags"]
        for mapping in dashcard["parameter_mappings"]:
            parameter = parameters.get(mapping["parameter_id"])
            target = mapping["target"]
            tag = tags.get(_variable_name(target))
            if parameter is None:
                found.append(f"{card['name']}: no dashboard filter {mapping['parameter_id']!r}")
            if mapping["card_id"] != dashcard["card_id"]:
                found.append(f"{card['name']}: a filter mapping names another card")
            if tag is None:
                found.append(f"{card['name']}: filter mapping targets no template tag: {target!r}")
            elif parameter is not None and VARIABLE_TYPES.get(parameter["type"]) != tag["type"]:
                found.append(
                    f"{card['name']}: a {parameter['type']} filter cannot fill "
                    f"the {tag['type']} variable {tag['name']!r}"
                )
            mapped.add(mapping["parameter_id"])
    found += [f"filter {p!r} is wired to no card" for p in parameters if p not in mapped]
    return found


def _variable_name(target: object) -> str | None:
    """The template tag a parameter target names, if it is a native-query variable."""
    match target:
        case ["variable", ["template-tag", str(name)]]:
            return name
    return None
