"""The static HTML preview: every card drawn from the small shop, checked in headless Chromium.

Chromium (Debian's ``chromium``) is required: without it these tests fail, they
are not skipped.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chromium import Chromium
from click.testing import CliRunner
from pytest_postgresql.executors import PostgreSQLExecutor
from small_shop import small_shop
from sqlalchemy.engine import Engine

from soleflip_analytics import view_status
from soleflip_analytics.cli.dashboards import dashboards
from soleflip_analytics.dashboards import preview as preview_module
from soleflip_analytics.dashboards.inventory import INVENTORY_MANAGEMENT
from soleflip_analytics.dashboards.model import GRID_COLUMNS
from soleflip_analytics.dashboards.preview import format_value, write_preview
from soleflip_analytics.dashboards.templates import DASHBOARDS

WIDTH, HEIGHT = 1400, 900  # the browser's viewport, CSS pixels
ROW_HEIGHT, GAP = 48, 8  # the page's grid rows and gaps (preview.html.j2)

# What the page shows of each card, read in the browser after the charts are drawn.
CARDS_JS = """
[...document.querySelectorAll(".card")].map((card) => {
  const grid = card.parentElement.getBoundingClientRect();
  const box = card.getBoundingClientRect();
  return {
    dashboard: card.closest("section").dataset.dashboard,
    name: card.dataset.card,
    display: card.dataset.display,
    error: card.querySelector(".error")?.textContent ?? null,
    empty: card.querySelector(".empty") !== null,
    scalar: card.querySelector(".scalar")?.textContent ?? null,
    rows: [...card.querySelectorAll("tbody tr")].map(
      (row) => [...row.cells].map((cell) => cell.textContent)),
    marks: card.querySelectorAll(
      ".barlayer .point, .scatterlayer .point, .pielayer .slice").length,
    svgHeight: card.querySelector(".main-svg")?.getBoundingClientRect().height ?? 0,
    box: [box.left - grid.left, box.top - grid.top, box.width, box.height],
    gridWidth: grid.width,
  };
})
"""
VIEWS_JS = """Object.fromEntries([...document.querySelectorAll("section.dashboard")].map(
  (section) => [section.dataset.dashboard, section.querySelector(".views").textContent]))"""
BOX_JS = """(() => {
  const box = document.getElementById("executive").getBoundingClientRect();
  return [box.left + scrollX, box.top + scrollY, box.width, box.height];
})()"""


@dataclass(frozen=True)
class BrowserView:
    cards: list[dict[str, Any]]
    views: dict[str, str]  # dashboard name -> its "Views: ..." line
    errors: list[str]
    requests: list[str]
    executive_png: bytes


@pytest.fixture(scope="module")
def shop(pg_server: PostgreSQLExecutor) -> Iterator[Engine]:
    with small_shop(pg_server, "preview") as engine:
        yield engine


@pytest.fixture(scope="module")
def preview(shop: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_preview(shop, tmp_path_factory.mktemp("preview") / "preview.html")


@pytest.fixture(scope="module")
def browser_view(preview: Path) -> BrowserView:
    with Chromium() as browser:
        page = browser.open(preview.as_uri(), WIDTH, HEIGHT)
        page.wait_until("document.documentElement.dataset.state === 'drawn'")
        return BrowserView(
            cards=page.evaluate(CARDS_JS),
            views=page.evaluate(VIEWS_JS),
            errors=page.errors(),
            requests=page.requests(),
            executive_png=page.screenshot(*page.evaluate(BOX_JS)),
        )


def test_every_card_of_every_dashboard_is_drawn(browser_view: BrowserView) -> None:
    cards = browser_view.cards
    assert [(c["dashboard"], c["name"]) for c in cards] == [
        (dashboard.name, card.name) for dashboard in DASHBOARDS for card in dashboard.cards
    ]
    for card in cards:
        assert card["error"] is None, card
        assert not card["empty"], card
        if card["display"] == "scalar":
            assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", card["scalar"]), card
        elif card["display"] == "table":
            assert card["rows"], card
        else:
            assert card["marks"] > 0 and card["svgHeight"] > 50, card


def test_the_page_loads_nothing_else_and_logs_no_error(
    browser_view: BrowserView, preview: Path
) -> None:
    assert browser_view.errors == []
    assert browser_view.requests == [preview.as_uri()]


def test_cards_sit_on_the_dashboards_grid(browser_view: BrowserView) -> None:
    places = {card.name: card.place for dashboard in DASHBOARDS for card in dashboard.cards}
    for card in browser_view.cards:
        place = places[card["name"]]
        column = (card["gridWidth"] + GAP) / GRID_COLUMNS
        expected = [
            place.col * column,
            place.row * (ROW_HEIGHT + GAP),
            place.width * column - GAP,
            place.height * (ROW_HEIGHT + GAP) - GAP,
        ]
        assert card["box"] == pytest.approx(expected, abs=1), card["name"]


def test_the_numbers_are_the_shops(browser_view: BrowserView) -> None:
    cards = {card["name"]: card for card in browser_view.cards}
    assert cards["Revenue this month"]["scalar"] == "530.00"
    assert cards["Orders this month"]["scalar"] == "2"
    assert cards["Platform revenue"]["scalar"] == "1,090.00"
    top = cards["Top 10 products by revenue"]["rows"]
    assert top[0][:2] == ["Air Jordan 1", "555088-134"]
    assert top[0][-2:] == ["670.00", "101.25"]
    assert cards["Revenue trend by month"]["marks"] == 24  # 12 months, revenue and profit


def test_each_dashboard_shows_when_its_views_were_refreshed(
    browser_view: BrowserView, shop: Engine
) -> None:
    refreshed = {status.name: status.last_refreshed_at for status in view_status(shop)}
    line = browser_view.views["Executive"]
    for view in (
        "metabase_executive_metrics",
        "sold_items_by_product",  # built on metabase_inventory_status, for Top 10 products
        "metabase_customer_geography",
    ):
        assert f"{view} refreshed {format_value(refreshed[view])}" in " ".join(line.split())
    assert all("no refresh on record" not in line for line in browser_view.views.values())
    assert "metabase_supplier_performance" in browser_view.views["Inventory Management"]


def test_executive_screenshot_is_the_whole_dashboard(
    browser_view: BrowserView, tmp_path: Path
) -> None:
    png = browser_view.executive_png
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == WIDTH and height > 17 * (ROW_HEIGHT + GAP)  # the grid is 17 rows high
    assert len(png) > 50_000  # charts and text, not a blank page
    (tmp_path / "executive.png").write_bytes(png)  # to look at: pytest keeps its last tmp dirs


def test_a_card_that_fails_shows_its_error_and_the_others_are_drawn(
    migrated_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with migrated_engine.begin() as connection:
        connection.exec_driver_sql(
            "REFRESH MATERIALIZED VIEW analytics.metabase_supplier_performance WITH NO DATA"
        )
    with caplog.at_level(logging.WARNING):
        written = write_preview(migrated_engine, tmp_path / "p.html", [INVENTORY_MANAGEMENT])
    html = written.read_text()
    card = r'<article class="card" data-card="([^"]+)"(.*?)</article>'
    cards = dict(re.findall(card, html, re.S))
    failed = cards.pop("Supplier performance (all time)")
    assert 'class="error"' in failed and "has not been populated" in failed
    assert [record.message for record in caplog.records] == [
        "Inventory Management / Supplier performance (all time): materialized view "
        '"metabase_supplier_performance" has not been populated'
    ]
    # An empty shop: numbers are 0 or empty, lists and charts have no results.
    assert all('class="error"' not in body for body in cards.values())
    assert '<p class="scalar">0.00</p>' in cards["Current stock value"]
    assert '<p class="empty">No results</p>' in cards["Inventory"]


def test_long_results_are_cut_with_a_note(
    shop: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preview_module, "TABLE_ROW_LIMIT", 2)
    html = write_preview(shop, tmp_path / "p.html", [INVENTORY_MANAGEMENT]).read_text()
    inventory = html.split('data-card="Inventory"', 1)[1].split("</article>", 1)[0]
    assert inventory.count("<tr>") == 3  # the header and two rows
    assert "Showing the first 2 rows." in inventory


def test_preview_command_writes_the_chosen_dashboard(shop: Engine, tmp_path: Path) -> None:
    out = tmp_path / "executive.html"
    url = shop.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        dashboards, ["preview", "--out", str(out), "--dashboard", "Executive"],
        env={"DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote the dashboards preview to {out}\n"
    html = out.read_text()
    assert re.findall(r'data-dashboard="([^"]+)"', html) == ["Executive"]
    assert not re.search(r"<(script|img|iframe)[^>]+src=|<link\b", html)  # all inline
