"""A static HTML preview of the dashboards, drawn from the live views: ``write_preview``.

Every card's query runs as Metabase would run it with the dashboard filters
left empty (``sql_template.render``), against the views as they are now. The
page lays the cards out on the dashboards' 24-column grid and draws the charts
with plotly.js, which the page carries inline: it opens offline, without
Metabase or a network.

A card whose query fails shows the error in its place, as in Metabase, and
the failure is logged as a warning; the other cards are drawn as usual.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from plotly.offline import get_plotlyjs
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.dashboards.charts import CHART_DISPLAYS, figure
from soleflip_analytics.dashboards.columns import (
    DEFAULT_CURRENCY,
    column_key,
    currency_symbol,
    title_with_unit,
    with_units,
)
from soleflip_analytics.dashboards.model import GRID_COLUMNS, Card, Dashboard
from soleflip_analytics.dashboards.payloads import template_tags
from soleflip_analytics.dashboards.sql_template import render
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.db import Bind, connect
from soleflip_analytics.status import view_status

PAGE_TEMPLATE = Path(__file__).resolve().parent / "preview.html.j2"

# Rows of a card's result the page holds at most; a note says when there were more.
TABLE_ROW_LIMIT = 500

_VIEW_NAME = re.compile(r"\banalytics\.(\w+)")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardResult:
    """A card's query result at the filters' defaults, or the error it failed with."""

    card: Card
    columns: list[str]
    rows: list[tuple[Any, ...]]
    more_rows: bool  # the query returned more than TABLE_ROW_LIMIT rows
    error: str | None = None


class CardsFailedError(RuntimeError):
    """Cards of the preview failed (it was written all the same, drawing their errors)."""

    def __init__(self, path: Path, failures: list[str]) -> None:
        super().__init__(f"{len(failures)} card(s) failed in {path}: " + "; ".join(failures))
        self.path = path
        self.failures = failures


def write_preview(
    bind: Bind,
    out_path: Path | str,
    dashboards: Sequence[Dashboard] | None = None,
    currency: str = DEFAULT_CURRENCY,
    *,
    strict: bool = False,
) -> Path:
    """Write the preview of ``dashboards`` (default: all four) to ``out_path``, money in
    ``currency``; return its path.

    ``bind`` is an Engine, a Connection without an open transaction, or a database URL.
    ``strict``: raise CardsFailedError, once the page is written, when any card failed.
    """
    out_path = Path(out_path)
    failures: list[str] = []
    html = render_preview(bind, DASHBOARDS if dashboards is None else dashboards, currency,
                          failures)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html, encoding="utf-8")
    if strict and failures:
        raise CardsFailedError(out_path, failures)
    return out_path


def render_preview(
    bind: Bind, dashboards: Sequence[Dashboard], currency: str = DEFAULT_CURRENCY,
    failures: list[str] | None = None,
) -> str:
    """The preview page of ``dashboards``, as HTML text; each failing card is logged and
    added to ``failures``."""
    with connect(bind) as connection:
        refreshed = last_refreshes(connection)
        results = {
            dashboard.slug: [run_card(connection, card) for card in dashboard.cards]
            for dashboard in dashboards
        }
    for dashboard in dashboards:
        for result in results[dashboard.slug]:
            if result.error:
                logger.warning("%s / %s: %s", dashboard.name, result.card.name, result.error)
                if failures is not None:
                    failures.append(f"{dashboard.name} / {result.card.name}: {result.error}")
    environment = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["timestamp"] = _format_timestamp
    page = environment.from_string(PAGE_TEMPLATE.read_text(encoding="utf-8"))
    return page.render(
        dashboards=[
            {
                "dashboard": dashboard,
                "views": {
                    view: refreshed[view]
                    for card in dashboard.cards
                    for view in views_read(card, refreshed)
                },
                "cards": [_card_view(result, currency) for result in results[dashboard.slug]],
            }
            for dashboard in dashboards
        ],
        generated_at=datetime.now(timezone.utc),
        grid_columns=GRID_COLUMNS,
        table_row_limit=TABLE_ROW_LIMIT,
        plotly_js=get_plotlyjs(),
    )


def last_refreshes(connection: Connection) -> dict[str, datetime | None]:
    """Each view's last successful refresh (None: none on record), from view_status()."""
    return {
        status.name: status.last_refreshed_at
        for status in view_status(connection, exact_counts=False)
    }


def views_read(card: Card, views: Container[str]) -> list[str]:
    """The views among ``views`` that the card's query reads, in order of appearance."""
    return list(dict.fromkeys(name for name in _VIEW_NAME.findall(card.sql) if name in views))


def run_card(connection: Connection, card: Card) -> CardResult:
    """Run the card's query with every filter at its default, in a transaction of its own."""
    query = render(card.sql, template_tags(card), {})
    try:
        with connection.begin():
            result = connection.execute(text(query.sql), query.params)
            rows = [tuple(row) for row in result.fetchmany(TABLE_ROW_LIMIT + 1)]
            columns = list(result.keys())
    except DBAPIError as error:
        first_line = str(error.orig).strip().split("\n", 1)[0]
        return CardResult(card, [], [], more_rows=False, error=first_line)
    return CardResult(card, columns, rows[:TABLE_ROW_LIMIT], more_rows=len(rows) > TABLE_ROW_LIMIT)


def format_value(
    value: object, settings: Mapping[str, Any] | None = None, in_table: bool = False
) -> str:
    """A result value as Metabase shows it with a column's ``settings`` (its
    ``column_settings`` entry): thousands separated, the decimals, currency symbol
    (in a table's header instead, ``currency_in_header``), prefix and suffix set
    there (without decimals set, at most 2); dates as "Jan 7, 2026"; NULL as nothing.
    Without settings, times are shown in UTC."""
    settings = settings or {}
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return _format_number(value, settings, in_table)
    if isinstance(value, datetime) and "date_style" not in settings:
        return _format_timestamp(value)
    if isinstance(value, date):
        return f"{value:%b} {value.day}, {value.year}"
    return str(value)


def _format_number(
    value: int | float | Decimal, settings: Mapping[str, Any], in_table: bool
) -> str:
    decimals = settings.get("decimals")
    if decimals is not None:
        text = f"{abs(value):,.{decimals}f}"
    elif isinstance(value, int):
        text = f"{abs(value):,}"
    else:
        text = f"{abs(value):,.2f}".rstrip("0").rstrip(".")
    sign = "-" if value < 0 else ""
    symbol = ""
    if settings.get("number_style") == "currency" and not (
        in_table and settings.get("currency_in_header", True)
    ):
        symbol = currency_symbol(settings["currency"])
    return f"{sign}{settings.get('prefix', '')}{symbol}{text}{settings.get('suffix', '')}"


def _format_timestamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _card_view(result: CardResult, currency: str) -> dict[str, Any]:
    """What the page template needs to draw one card."""
    card = result.card
    settings = with_units(card.visualization, currency)
    view: dict[str, Any] = {"card": card, "result": result, "kind": card.display}
    if result.error or not result.rows:
        return view

    def column_settings(column: str) -> Mapping[str, Any]:
        return settings["column_settings"].get(column_key(column), {})

    if card.display == "scalar":
        column = settings["scalar.field"]
        value = result.rows[0][result.columns.index(column)]
        view["scalar"] = format_value(value, column_settings(column)) or "–"
    elif card.display == "table":
        shown = [column["name"] for column in settings["table.columns"] if column["enabled"]]
        indexes = [result.columns.index(column) for column in shown]
        view["header"] = [
            (title_with_unit(column, currency), _is_number_column(result, index))
            for column, index in zip(shown, indexes, strict=True)
        ]
        view["body"] = [
            [
                (
                    format_value(row[i], column_settings(result.columns[i]), in_table=True),
                    _is_number_column(result, i),
                )
                for i in indexes
            ]
            for row in result.rows
        ]
    elif card.display in CHART_DISPLAYS:
        view["figure"] = figure(card.display, settings, result.columns, result.rows).to_json()
    else:
        raise ValueError(f"{card.name}: cannot draw a {card.display!r} card")
    return view


def _is_number_column(result: CardResult, index: int) -> bool:
    """Whether the column holds numbers (right-aligned, as Metabase aligns them)."""
    return any(isinstance(row[index], int | float | Decimal) for row in result.rows)
