"""Metabase's native-query template syntax: ``{{variable}}`` and ``[[optional clause]]``.

Metabase substitutes a card's variables before it sends the SQL to the
database: an optional clause is kept (without its brackets) when every variable
in it has a value and dropped otherwise; a variable outside optional clauses
must have a value. ``render`` does the same, binding each value as a query
parameter, so that a card's SQL can be run against PostgreSQL exactly as
Metabase would run it, with or without its filters set.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

_VARIABLE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_TAG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TemplateSyntaxError(ValueError):
    """The SQL is not a valid Metabase template, or a required variable has no value."""


@dataclass(frozen=True)
class RenderedQuery:
    """SQL with ``:name`` bind parameters (SQLAlchemy ``text()`` style) and their values."""

    sql: str
    params: dict[str, object]


def tag_names(sql: str) -> list[str]:
    """Every variable name in the SQL, in order of first appearance."""
    names: list[str] = []
    for match in _VARIABLE.finditer(sql):
        name = match.group(1).strip()
        if name not in names:
            names.append(name)
    return names


def syntax_problems(sql: str) -> list[str]:
    """What Metabase would reject or run wrongly: bad names, stray or nested brackets,
    optional clauses without a variable."""
    problems = [
        f"variable {{{{{name}}}}} is not a plain name"
        for name in tag_names(sql)
        if not _TAG_NAME.fullmatch(name)
    ]
    for clause in _OPTIONAL.findall(sql):
        if "[[" in clause:
            problems.append("optional clauses are nested")
        if not _VARIABLE.search(clause):
            problems.append(f"optional clause without a variable: [[{clause.strip()}]]")
    outside = _OPTIONAL.sub("", sql)
    if "[[" in outside or "]]" in outside:
        problems.append("unbalanced [[ ]] brackets")
    return problems


def required_tag_names(sql: str) -> list[str]:
    """Variables that appear outside every optional clause (the query needs their values)."""
    return tag_names(_OPTIONAL.sub("", sql))


def render(
    sql: str, template_tags: Mapping[str, Mapping[str, object]], values: Mapping[str, object]
) -> RenderedQuery:
    """Substitute the variables as Metabase does; ``None`` or ``""`` means "not set".

    ``template_tags`` are the card's tag definitions (their ``type`` decides how a
    value is read: ``date`` from ISO text or a date, ``number`` as a Decimal,
    ``text`` as a string); a tag's ``default`` applies when no value is given.
    """
    problems = syntax_problems(sql)
    if problems:
        raise TemplateSyntaxError("; ".join(problems))

    given: dict[str, object] = {}
    for name, tag in template_tags.items():
        value = values.get(name)
        if value is None or value == "":
            value = tag.get("default")
        if value is not None and value != "":
            given[name] = _typed(str(tag["type"]), value)
    undeclared = [name for name in tag_names(sql) if name not in template_tags]
    if undeclared:
        raise TemplateSyntaxError(f"undeclared variables: {', '.join(undeclared)}")

    def keep_if_set(clause: re.Match[str]) -> str:
        body = clause.group(1)
        return body if all(name in given for name in tag_names(body)) else ""

    kept = _OPTIONAL.sub(keep_if_set, sql)
    missing = [name for name in tag_names(kept) if name not in given]
    if missing:
        raise TemplateSyntaxError(f"no value for required variables: {', '.join(missing)}")
    used = tag_names(kept)
    bound = _VARIABLE.sub(lambda match: ":" + match.group(1).strip(), kept)
    return RenderedQuery(bound, {name: given[name] for name in used})


def _typed(tag_type: str, value: object) -> object:
    if tag_type == "date":
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        return datetime.date.fromisoformat(str(value))
    if tag_type == "number":
        return Decimal(str(value))
    if tag_type == "text":
        return str(value)
    raise TemplateSyntaxError(f"variables of type {tag_type!r} are not supported here")
