"""Dashboard templates: every card's SQL on the real views, the layouts, export and push.

Push is tested against tests/fake_metabase.py, a local HTTP server answering as
Metabase's documented API does; no real Metabase runs in these tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_metabase import (
    API_KEY,
    CURATOR_KEY,
    DATABASE,
    MFA_USERNAME,
    PASSWORD,
    USERNAME,
    VIEWER_KEY,
    FakeMetabase,
)
from pytest_postgresql.executors import PostgreSQLExecutor
from small_shop import small_shop
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ProgrammingError

from soleflip_analytics.cli.dashboards import dashboards
from soleflip_analytics.dashboards.client import MetabaseClient, MetabaseError
from soleflip_analytics.dashboards.columns import COLUMNS, Unit, column_key, shown_columns
from soleflip_analytics.dashboards.descriptions import view_descriptions
from soleflip_analytics.dashboards.export import export
from soleflip_analytics.dashboards.model import GRID_COLUMNS
from soleflip_analytics.dashboards.payloads import METABASE_VERSION, Bundle, build_bundles
from soleflip_analytics.dashboards.push import COLLECTION_NAME, push
from soleflip_analytics.dashboards.sql_template import TemplateSyntaxError, render
from soleflip_analytics.dashboards.templates import DASHBOARDS
from soleflip_analytics.dashboards.validate import TemplateError, problems, validate
from soleflip_analytics.dashboards.visualization import named_columns

BUNDLES = build_bundles(database_id=2)
CARDS = {card["name"]: card for bundle in BUNDLES for card in bundle.cards.values()}
TODAY_MINUS_400 = "(now() AT TIME ZONE 'Europe/Berlin')::date - 400"

# Values for every filter, chosen so that each card still returns rows.
FILTERS_SET = {
    "start_date": None,  # filled in from the database's business calendar
    "end_date": None,
    "brand": "nike",
    "platform": "StockX",
    "stock_category": "Dead Stock",
    "supplier": "sneaker source gmbh",
}


@pytest.fixture(scope="module")
def shop(pg_server: PostgreSQLExecutor) -> Iterator[Engine]:
    """One database for this module: contract, migrations, the small shop, views refreshed."""
    with small_shop(pg_server, "dashboards") as engine:
        yield engine


@pytest.fixture(scope="module")
def filters_set(shop: Engine) -> dict[str, str]:
    with shop.connect() as connection:
        today = connection.execute(
            text("SELECT (now() AT TIME ZONE 'Europe/Berlin')::date")
        ).scalar_one()
    return {**FILTERS_SET, "start_date": str(today - timedelta(days=400)), "end_date": str(today)}


def run_card(connection: Connection, name: str, values: dict[str, object]) -> tuple[list, list]:
    native = CARDS[name]["dataset_query"]["native"]
    query = render(native["query"], native["template-tags"], values)
    result = connection.execute(text(query.sql), query.params)
    return list(result.keys()), [tuple(row) for row in result]


def scalar_of(connection: Connection, name: str, **values: object) -> object:
    columns, rows = run_card(connection, name, values)
    assert len(rows) == 1 and len(columns) == 1
    return rows[0][0]


# -- every card on the real views ---------------------------------------------------


@pytest.mark.parametrize("filters", ["unset", "set"])
@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_runs_on_the_views_and_returns_the_columns_it_draws(
    shop: Engine, filters_set: dict[str, str], name: str, filters: str
) -> None:
    values = filters_set if filters == "set" else {}
    with shop.connect() as connection:
        columns, rows = run_card(connection, name, values)
    settings = CARDS[name]["visualization_settings"]
    assert named_columns(settings) <= set(columns), "settings name columns the query lacks"
    assert named_columns(settings), "the settings name no column"
    assert rows, "the small shop should give every card something to show"


def test_month_kpis_count_this_business_month_by_default(shop: Engine) -> None:
    with shop.connect() as connection:
        assert scalar_of(connection, "Revenue this month") == Decimal("530.00")
        assert scalar_of(connection, "Orders this month") == 2
        assert scalar_of(connection, "Profit this month") == Decimal("88.85")


def test_month_kpis_follow_the_date_filters(shop: Engine, filters_set: dict[str, str]) -> None:
    period = {"start_date": filters_set["start_date"], "end_date": filters_set["end_date"]}
    with shop.connect() as connection:
        assert scalar_of(connection, "Revenue this month", **period) == Decimal("1090.00")
        assert scalar_of(connection, "Orders this month", **period) == 5
        # A period ending before any sale: nothing.
        assert scalar_of(connection, "Revenue this month", end_date="2000-01-31") == 0


def test_trend_shows_twelve_months_ending_this_month_with_gaps_as_zero(shop: Engine) -> None:
    with shop.connect() as connection:
        columns, rows = run_card(connection, "Revenue trend by month", {})
        this_month = connection.execute(
            text("SELECT date_trunc('month', now() AT TIME ZONE 'Europe/Berlin')::date")
        ).scalar_one()
    assert columns == ["sale_month", "month", "revenue", "profit"]
    assert len(rows) == 12
    assert rows[-1][0] == this_month
    assert sum(row[2] for row in rows) == Decimal("940.00")  # all but the sale 380 days ago
    assert any(row[2] == 0 for row in rows)
    # The current month is marked, the complete ones are not.
    assert rows[-1][1] == f"{this_month:%b %Y} (month to date)"
    assert [row[1] for row in rows[:-1]] == [f"{row[0]:%b %Y}" for row in rows[:-1]]


def test_trend_marks_months_the_period_cuts(shop: Engine, filters_set: dict[str, str]) -> None:
    end = date.fromisoformat(filters_set["end_date"]) - timedelta(days=40)
    end = end.replace(day=min(end.day, 27))  # never a month's last day
    with shop.connect() as connection:
        _, rows = run_card(connection, "Revenue trend by month", {"end_date": str(end)})
    labels = [row[1] for row in rows]
    assert labels[-1] == f"{end:%b %Y} (partial)"
    assert not any("(" in label for label in labels[:-1])


def test_pies_show_eight_slices_and_the_rest_as_other(shop: Engine) -> None:
    brands = [(f"Brand {n:02d}", Decimal(1000 - n)) for n in range(11)]
    with shop.connect() as connection:  # rolled back on close
        connection.exec_driver_sql(
            "ALTER MATERIALIZED VIEW analytics.metabase_brand_analytics RENAME TO brands_away;"
            "CREATE TABLE analytics.metabase_brand_analytics"
            " (brand_name text, total_revenue numeric(12, 2), market_share_pct numeric(5, 2))"
        )
        for name, revenue in brands:
            connection.execute(
                text(
                    "INSERT INTO analytics.metabase_brand_analytics"
                    " (brand_name, total_revenue, market_share_pct) VALUES (:n, :r, 1.25)"
                ),
                {"n": name, "r": revenue},
            )
        _, rows = run_card(connection, "Brand market share (all time)", {})
    assert rows[:8] == [(name, revenue, Decimal("1.25")) for name, revenue in brands[:8]]
    assert rows[8] == ("Other", sum(revenue for _, revenue in brands[8:]), Decimal("3.75"))
    assert len(rows) == 9


def test_platform_filter_matches_name_or_slug_in_any_case(shop: Engine) -> None:
    with shop.connect() as connection:
        for platform in ("StockX", "stockx", "STOCKX"):
            assert scalar_of(connection, "Platform revenue", platform=platform) == Decimal("500.00")
        assert scalar_of(connection, "Platform revenue") == Decimal("1090.00")
        assert scalar_of(connection, "Platform revenue", platform="Nowhere") == 0


def test_brand_filter_narrows_product_cards(shop: Engine) -> None:
    with shop.connect() as connection:
        _, rows = run_card(connection, "Products (all time)", {"brand": "JORDAN"})
        assert [row[0] for row in rows] == ["Air Jordan 1"]
        _, rows = run_card(connection, "Best sellers by units sold", {})
        assert dict(rows) == {"Air Force 1": 2, "Air Jordan 1": 2, "Mystery Box": 1}


def test_inventory_cards_follow_stock_category_and_supplier(shop: Engine) -> None:
    with shop.connect() as connection:
        assert scalar_of(connection, "Dead stock count") == 1
        assert scalar_of(connection, "Dead stock count", supplier="Kicks Wholesale") == 0
        dead_value = scalar_of(connection, "Current stock value", stock_category="Dead Stock")
        assert dead_value == Decimal("95.20")  # 80.00 with 19 % VAT
        _, rows = run_card(connection, "Aging distribution", {})
    assert [row[0] for row in rows] == [
        "Fast Moving",
        "Normal",
        "Slow Moving",
        "Dead Stock",
        "Unknown",
    ]
    assert [row[1] for row in rows] == [1, 1, 2, 1, 1]


@pytest.mark.parametrize(
    ("view", "column", "card"),
    [
        ("metabase_executive_metrics", "total_revenue", "Revenue this month"),
        ("metabase_platform_performance", "avg_payout_days", "Average payout days (all time)"),
        ("metabase_product_performance", "product_sku", "Products (all time)"),
        ("metabase_brand_analytics", "total_revenue", "Brand market share (all time)"),
        ("metabase_customer_geography", "country", "Sales by country (all time)"),
        ("metabase_supplier_performance", "sell_through_rate", "Supplier performance (all time)"),
        # The views that add up metabase_inventory_status for the cards.
        ("unsold_stock_summary", "stock_category", "Aging distribution"),
        ("unsold_stock_items", "days_in_stock", "Slow-moving items"),
        ("unsold_stock_by_product", "oldest_days_in_stock", "Stock by product"),
        ("sold_items_by_product", "revenue", "Top 10 products by revenue"),
        ("sold_items_by_price_band", "price_band", "Price distribution"),
        ("bought_items_by_brand", "items_bought", "Sell-through by brand"),
    ],
)
def test_renaming_a_view_column_breaks_the_cards_that_read_it(
    shop: Engine, view: str, column: str, card: str
) -> None:
    with shop.connect() as connection:  # rolled back on close: the rename is undone
        connection.exec_driver_sql(
            f'ALTER MATERIALIZED VIEW analytics."{view}" RENAME COLUMN "{column}" TO renamed'
        )
        with pytest.raises(ProgrammingError, match="does not exist"):
            run_card(connection, card, {})


# -- templates, layout, wiring ---------------------------------------------------------


def test_four_dashboards_with_the_cards_the_issue_asks_for() -> None:
    assert [d.name for d in DASHBOARDS] == [
        "Executive",
        "Product Analytics",
        "Platform Performance",
        "Inventory Management",
    ]
    assert [len(d.cards) for d in DASHBOARDS] == [8, 7, 8, 8]
    displays = {card.display for d in DASHBOARDS for card in d.cards}
    assert {"scalar", "line", "bar", "pie", "table", "map"} <= displays


def test_templates_are_valid_layouts_within_the_grid_without_overlaps() -> None:
    assert problems(BUNDLES) == []
    for bundle in BUNDLES:
        cells: set[tuple[int, int]] = set()
        for dashcard in bundle.dashcards:
            assert dashcard["col"] + dashcard["size_x"] <= GRID_COLUMNS
            covered = {
                (dashcard["row"] + y, dashcard["col"] + x)
                for y in range(dashcard["size_y"])
                for x in range(dashcard["size_x"])
            }
            assert not cells & covered, f"{dashcard['card_id']} overlaps another card"
            cells |= covered


def _broken(change) -> list[str]:
    """Problems of the Executive bundle after ``change`` edited a copy of it."""
    bundle = json.loads(json.dumps(BUNDLES[0].__dict__))
    change(bundle)
    found = problems([Bundle(**bundle)])
    with pytest.raises(TemplateError):
        validate([Bundle(**bundle)])
    return found


def test_validation_names_each_kind_of_problem() -> None:
    def overlap(bundle: dict) -> None:
        bundle["dashcards"][1]["col"] = 3

    def past_grid(bundle: dict) -> None:
        bundle["dashcards"][3]["size_x"] = 7

    def undeclared_tag(bundle: dict) -> None:
        card = next(iter(bundle["cards"].values()))
        card["dataset_query"]["native"]["query"] += " [[AND {{brand}} = 'x']]"

    def mapping_to_missing_filter(bundle: dict) -> None:
        bundle["dashcards"][0]["parameter_mappings"][0]["parameter_id"] = "nope"

    def mapping_to_missing_tag(bundle: dict) -> None:
        bundle["dashcards"][0]["parameter_mappings"][0]["target"][1][1] = "nope"

    assert any("overlap" in p for p in _broken(overlap))
    assert any("past the 24-column grid" in p for p in _broken(past_grid))
    assert any("{{brand}} is not declared" in p for p in _broken(undeclared_tag))
    assert any("no dashboard filter 'nope'" in p for p in _broken(mapping_to_missing_filter))
    assert any("targets no template tag" in p for p in _broken(mapping_to_missing_tag))


def test_render_substitutes_like_metabase() -> None:
    tags = {
        "start": {"name": "start", "type": "date"},
        "brand": {"name": "brand", "type": "text"},
    }
    sql = "SELECT 1 WHERE TRUE [[AND d >= {{start}}]] [[AND b = {{ brand }} AND c = {{start}}]]"
    unset = render(sql, tags, {})
    assert unset.sql == "SELECT 1 WHERE TRUE  " and unset.params == {}
    both = render(sql, tags, {"start": "2024-02-01", "brand": "Nike"})
    assert both.sql == "SELECT 1 WHERE TRUE AND d >= :start AND b = :brand AND c = :start"
    assert both.params == {"start": date(2024, 2, 1), "brand": "Nike"}
    assert render(sql, tags, {"start": date(2024, 2, 1), "brand": ""}).sql.count(":start") == 1
    with pytest.raises(TemplateSyntaxError, match="no value for required variables: start"):
        render("SELECT {{start}}", tags, {})
    with pytest.raises(TemplateSyntaxError, match="nested"):
        render("SELECT 1 [[AND [[x = {{start}}]]]]", tags, {})


# -- data model descriptions ---------------------------------------------------------


def test_view_descriptions_are_the_comments_postgresql_holds(migrated_engine: Engine) -> None:
    described = view_descriptions()
    with migrated_engine.connect() as connection:
        rows = connection.execute(
            text(
                """
                SELECT c.relname, a.attname, obj_description(c.oid, 'pg_class'),
                       col_description(c.oid, a.attnum)
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'analytics'
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
                WHERE c.relkind = 'm'
                """
            )
        ).all()
    assert {row[0] for row in rows} == set(described)
    for view, column, view_comment, column_comment in rows:
        assert described[view].description == view_comment
        assert described[view].columns[column] == column_comment


# -- export ------------------------------------------------------------------------


def test_export_writes_the_payloads_of_four_dashboards(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        dashboards, ["export", "--out", str(tmp_path), "--database-id", "7"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["metabase_version"] == METABASE_VERSION
    assert [d["name"] for d in manifest["dashboards"]] == [d.name for d in DASHBOARDS]
    for entry, template in zip(manifest["dashboards"], DASHBOARDS, strict=True):
        directory = tmp_path / entry["directory"]
        cards = [json.loads((directory / card).read_text()) for card in entry["cards"]]
        assert [card["name"] for card in cards] == [card.name for card in template.cards]
        assert all(card["dataset_query"]["database"] == 7 for card in cards)
        dashboard = json.loads((directory / "dashboard.json").read_text())
        assert dashboard["name"] == template.name
        assert [p["slug"] for p in dashboard["parameters"]] == [f.slug for f in template.filters]
        dashcards = json.loads((directory / "dashcards.json").read_text())["dashcards"]
        assert [dashcard["card_id"] for dashcard in dashcards] == entry["cards"]
    assert os.access(tmp_path / "import.sh", os.X_OK)


# -- push against the fake Metabase ----------------------------------------------------

KEPT_TABLE = "metabase_inventory_status"
KEPT_FIELD = ("metabase_executive_metrics", "total_revenue")


def fake_metabase(**options: object) -> FakeMetabase:
    """Metabase after syncing: it read the views' table comments (one hand-edited since),
    no column comments, and one column description was written by a person."""
    described = view_descriptions()
    tables = {view: d.description for view, d in described.items()}
    tables[KEPT_TABLE] = "Hand-written by the shop team."
    tables.pop("metabase_brand_analytics")  # as if its comment had not been read
    return FakeMetabase(
        views={view: list(d.columns) for view, d in described.items()},
        table_descriptions=tables,
        field_descriptions={KEPT_FIELD: "Edited in Metabase by a person."},
        **options,
    )


def push_with_key(fake: FakeMetabase, **options: object):
    connect = lambda: MetabaseClient.with_api_key(fake.url, API_KEY)  # noqa: E731
    return push(connect, DATABASE, poll_interval=0, **options)


def test_push_creates_everything_in_the_documented_order() -> None:
    with fake_metabase(polls_until_synced=2) as fake:
        result = push_with_key(fake)
    assert fake.errors == []
    calls = [f"{r.method} {r.path}" for r in fake.requests]
    assert calls[:5] == [
        "GET /api/database",
        "POST /api/database/2/sync_schema",
        "GET /api/database/2/metadata",
        "GET /api/database/2/metadata",  # the views appeared on the second look,
        "GET /api/database/2/metadata",  # all their fields on the third
    ]
    first_card = calls.index("POST /api/card")
    assert calls.index("POST /api/collection") < first_card
    assert all(
        c.startswith(("PUT /api/table", "PUT /api/field")) for c in calls[5 : first_card - 3]
    )
    assert calls.count("POST /api/card") == len(CARDS)
    assert calls.count("POST /api/dashboard") == 4
    assert calls[-1].startswith("PUT /api/dashboard/")
    assert max(i for i, c in enumerate(calls) if c == "POST /api/card") < calls.index(
        "POST /api/dashboard"
    )
    assert result.changes == len(CARDS) + 4 + 1 + len(result.data_model.written)

    # What Metabase now holds matches the templates.
    (collection,) = fake.collections.values()
    assert collection["name"] == COLLECTION_NAME
    by_name = {card["name"]: card for card in fake.cards.values()}
    assert set(by_name) == set(CARDS)
    assert all(card["collection_id"] == collection["id"] for card in fake.cards.values())
    assert all(card["dataset_query"]["database"] == 2 for card in fake.cards.values())
    for dashboard, template in zip(fake.dashboards.values(), DASHBOARDS, strict=True):
        assert dashboard["name"] == template.name
        shown = {fake.cards[dc["card_id"]]["name"]: dc for dc in dashboard["dashcards"]}
        assert set(shown) == {card.name for card in template.cards}
        for card in template.cards:
            placed = shown[card.name]
            assert (placed["col"], placed["row"], placed["size_x"], placed["size_y"]) == (
                card.place.col,
                card.place.row,
                card.place.width,
                card.place.height,
            )
            assert [m["parameter_id"] for m in placed["parameter_mappings"]] == [
                f.slug for f in card.filters
            ]


def test_push_writes_missing_descriptions_and_never_overwrites_one() -> None:
    described = view_descriptions()
    with fake_metabase() as fake:
        result = push_with_key(fake)
    tables = {table["name"]: table for table in fake.tables.values()}
    assert tables[KEPT_TABLE]["description"] == "Hand-written by the shop team."
    assert tables["metabase_brand_analytics"]["description"] == (
        described["metabase_brand_analytics"].description
    )
    table_puts = [r.path for r in fake.requests if r.path.startswith("/api/table/")]
    assert table_puts == [f"/api/table/{tables['metabase_brand_analytics']['id']}"]
    for table in tables.values():
        for field in table["fields"]:
            if (table["name"], field["name"]) == KEPT_FIELD:
                assert field["description"] == "Edited in Metabase by a person."
            else:
                assert field["description"] == described[table["name"]].columns[field["name"]]
    kept_field = next(
        f["id"]
        for t in tables.values()
        for f in t["fields"]
        if (t["name"], f["name"]) == KEPT_FIELD
    )
    assert f"/api/field/{kept_field}" not in [r.path for r in fake.requests]
    assert "analytics.metabase_executive_metrics.total_revenue" in result.data_model.kept


def test_second_push_changes_nothing() -> None:
    with fake_metabase() as fake:
        push_with_key(fake)
        before = len(fake.requests)
        again = push_with_key(fake)
    assert fake.errors == []
    assert again.changes == 0
    assert fake.writes(since=before) == []
    assert all(action.startswith(("unchanged", "found")) for action in again.actions)


def test_push_repairs_what_was_changed_in_metabase_and_only_that() -> None:
    with fake_metabase() as fake:
        push_with_key(fake)
        card = next(c for c in fake.cards.values() if c["name"] == "Dead stock count")
        card["dataset_query"]["native"]["query"] = "SELECT 1 AS dead_stock_items"
        dashboard = next(d for d in fake.dashboards.values() if d["name"] == "Executive")
        dashboard["dashcards"][0]["col"] = 2
        dashcard_ids = [dc["id"] for dc in dashboard["dashcards"]]
        before = len(fake.requests)
        again = push_with_key(fake)
        writes = [f"{r.method} {r.path}" for r in fake.writes(since=before)]
    assert fake.errors == []
    assert writes == [f"PUT /api/card/{card['id']}", f"PUT /api/dashboard/{dashboard['id']}"]
    assert again.changes == 2
    assert (
        card["dataset_query"]["native"]["query"]
        == CARDS["Dead stock count"]["dataset_query"]["native"]["query"]
    )
    assert dashboard["dashcards"][0]["col"] == 0
    assert [dc["id"] for dc in dashboard["dashcards"]] == dashcard_ids  # kept, not recreated


def test_push_command_with_username_and_password() -> None:
    with fake_metabase() as fake:
        result = CliRunner().invoke(
            dashboards,
            [
                "push",
                "--metabase-url",
                fake.url + "/",
                "--username",
                USERNAME,
                "--database",
                DATABASE,
            ],
            env={"METABASE_PASSWORD": PASSWORD, "METABASE_API_KEY": None},
        )
    assert result.exit_code == 0, result.output
    assert fake.errors == []
    assert fake.requests[0].path == "/api/session"
    assert "created dashboard 'Inventory Management'" in result.output
    assert result.output.strip().endswith("changes.")


def test_push_refuses_without_credentials_and_names_unknown_databases() -> None:
    runner = CliRunner()
    no_auth = runner.invoke(
        dashboards,
        ["push", "--metabase-url", "http://127.0.0.1:9"],
        env={"METABASE_API_KEY": None, "METABASE_USERNAME": None, "METABASE_PASSWORD": None},
    )
    assert no_auth.exit_code == 2 and "--api-key" in no_auth.output
    with fake_metabase() as fake:
        result = runner.invoke(
            dashboards,
            ["push", "--metabase-url", fake.url, "--api-key", API_KEY, "--database", "shop"],
        )
    assert result.exit_code == 1
    assert "'Sample Database', 'soleflip'" in result.output
    assert fake.writes() == []


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_exported_files_import_with_the_script(tmp_path: Path) -> None:
    export(tmp_path)
    with fake_metabase() as fake:
        fake.collections[1] = {"id": 1, "name": "Imported", "location": "/", "archived": False}
        run = subprocess.run(
            ["sh", str(tmp_path / "import.sh"), "2", "1"],
            env={**os.environ, "MB_URL": fake.url, "MB_API_KEY": API_KEY},
            capture_output=True,
            text=True,
            check=False,
        )
    assert run.returncode == 0, run.stderr
    assert fake.errors == []
    assert run.stdout.splitlines()[0].startswith("Executive: dashboard #")
    assert len(fake.cards) == len(CARDS) and len(fake.dashboards) == 4
    for dashboard, template in zip(fake.dashboards.values(), DASHBOARDS, strict=True):
        assert dashboard["collection_id"] == 1
        assert len(dashboard["dashcards"]) == len(template.cards)


# -- push against the stricter fake: what the old push did wrong -------------------------


def test_first_push_waits_for_the_fields_and_describes_every_column() -> None:
    described = view_descriptions()
    with fake_metabase(polls_until_fields=3) as fake:
        result = push_with_key(fake)
    assert fake.errors == [] and result.data_model.missing == []
    for table in fake.tables.values():
        for field in table["fields"]:
            if (table["name"], field["name"]) != KEPT_FIELD:
                assert field["description"] == described[table["name"]].columns[field["name"]]


def test_push_names_the_columns_metabase_has_not_synced_in_time() -> None:
    with fake_metabase(polls_until_fields=1000) as fake:
        runner = CliRunner()
        result = runner.invoke(
            dashboards,
            ["push", "--metabase-url", fake.url, "--api-key", API_KEY, "--database", DATABASE,
             "--sync-timeout", "0"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Metabase had not synced analytics." in result.output
    assert "(columns " in result.output and "--sync-timeout" in result.output


def test_a_tab_added_in_metabase_survives_the_next_push() -> None:
    with fake_metabase() as fake:
        push_with_key(fake)
        dashboard = next(d for d in fake.dashboards.values() if d["name"] == "Executive")
        other_card = next(c for c in fake.cards.values() if c["name"] == "Dead stock count")
        # What Metabase's UI does when a second tab is added: two tabs, the cards on the first.
        dashboard["tabs"] = [
            {"id": 901, "dashboard_id": dashboard["id"], "name": "Overview", "position": 0},
            {"id": 902, "dashboard_id": dashboard["id"], "name": "Notes", "position": 1},
        ]
        for dashcard in dashboard["dashcards"]:
            dashcard["dashboard_tab_id"] = 901
        dashboard["dashcards"].append(
            {"id": 903, "card_id": other_card["id"], "dashboard_tab_id": 902, "row": 0,
             "col": 0, "size_x": 4, "size_y": 3, "parameter_mappings": [],
             "visualization_settings": {}, "series": []}
        )  # fmt: skip
        dashboard["dashcards"][0]["col"] = 2  # a change push repairs
        before = len(fake.requests)
        push_with_key(fake)
        writes = fake.writes(since=before)
        before = len(fake.requests)
        again = push_with_key(fake)
        assert again.changes == 0 and fake.writes(since=before) == []
    assert fake.errors == []
    assert [f"{r.method} {r.path}" for r in writes] == [f"PUT /api/dashboard/{dashboard['id']}"]
    assert [tab["name"] for tab in dashboard["tabs"]] == ["Overview", "Notes"]
    on_notes = [dc for dc in dashboard["dashcards"] if dc["dashboard_tab_id"] == 902]
    assert [dc["id"] for dc in on_notes] == [903]
    overview = [dc for dc in dashboard["dashcards"] if dc["dashboard_tab_id"] == 901]
    assert len(overview) == 8 and dashboard["dashcards"][0]["col"] == 0


def test_put_dashboard_without_tabs_deletes_them_in_the_fake_as_in_metabase() -> None:
    with fake_metabase() as fake:
        push_with_key(fake)
        dashboard = next(iter(fake.dashboards.values()))
        dashboard["tabs"] = [{"id": 901, "dashboard_id": dashboard["id"], "name": "A",
                              "position": 0}]  # fmt: skip
        client = MetabaseClient.with_api_key(fake.url, API_KEY)
        client.put(f"/api/dashboard/{dashboard['id']}", {"dashcards": []})
    assert dashboard["tabs"] == [] and dashboard["dashcards"] == []


def test_a_key_without_data_model_rights_still_gets_the_dashboards() -> None:
    with fake_metabase() as fake:
        result = CliRunner().invoke(
            dashboards,
            ["push", "--metabase-url", fake.url, "--api-key", CURATOR_KEY, "--database", DATABASE],
        )
    assert result.exit_code == 0, result.output
    assert len(fake.dashboards) == 4 and len(fake.cards) == len(CARDS)
    warning = next(line for line in result.output.splitlines() if "data model" in line)
    assert "POST /api/database/2/sync_schema answered 403" in warning
    assert "'Manage database'" in warning


def test_a_key_that_may_only_view_gets_a_one_line_error_naming_the_permission() -> None:
    with fake_metabase() as fake:
        result = CliRunner().invoke(
            dashboards,
            ["push", "--metabase-url", fake.url, "--api-key", VIEWER_KEY, "--database", DATABASE],
        )
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "error: POST /api/collection answered 403: the API key needs 'Curate' access to the "
        "root collection (Our analytics)."
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--username", MFA_USERNAME], "asks for a second factor (MFA)"),
        (["--username", USERNAME + ".invalid"], "refused the login"),
        (["--api-key", "wrong"], "refused the credentials"),
    ],
)
def test_login_problems_give_one_line_errors(options: list[str], message: str) -> None:
    with fake_metabase() as fake:
        result = CliRunner().invoke(
            dashboards,
            ["push", "--metabase-url", fake.url, *options, "--database", DATABASE],
            env={"METABASE_PASSWORD": PASSWORD if "--username" in options else None,
                 "METABASE_API_KEY": None},
        )  # fmt: skip
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and message in line
    if "MFA" in message:
        assert "--api-key" in line


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/api/field/{field}", {"description": "  "}, "non-blank"),
        ("/api/table/{table}", {"description": ""}, "non-blank"),
        ("/api/dashboard/{dashboard}", {"parameters": [{"id": "a", "type": "string/=",
          "values_query_type": "static"}]}, "values_query_type"),
        ("/api/dashboard/{dashboard}", {"parameters": [{"id": "a", "type": "string/=",
          "values_source_type": "list"}]}, "values_source_type"),
        ("/api/dashboard/{dashboard}", {"parameters": [{"id": "a", "type": "string/=",
          "sectionId": ""}]}, "sectionId"),
        ("/api/dashboard/{dashboard}", {"dashcards": [], "tabs": [{"id": -1, "name": " "}]},
         "tab name"),
        ("/api/dashboard/{dashboard}", {"dashcards": [{"id": -1, "card_id": "{card}", "row": 0,
          "col": 0, "size_x": 1, "size_y": 1, "card": {}}]}, "unknown dashcard keys"),
        ("/api/dashboard/{dashboard}", {"dashcards": [{"id": -1, "card_id": "{card}", "row": 0,
          "col": 0, "size_x": 1, "size_y": 1}], "tabs": [{"id": -1, "name": "A"},
          {"id": -2, "name": "B"}]}, "every card has a tab"),
    ],
)  # fmt: skip
def test_the_fake_refuses_what_metabase_refuses(path: str, body: dict, reason: str) -> None:
    with fake_metabase(polls_until_fields=0) as fake:
        push_with_key(fake)
        ids = {
            "field": next(iter(fake.fields)),
            "table": next(iter(fake.tables)),
            "dashboard": next(iter(fake.dashboards)),
            "card": next(iter(fake.cards)),
        }
        text_body = json.dumps(body).replace('"{card}"', str(ids["card"]))
        client = MetabaseClient.with_api_key(fake.url, API_KEY)
        with pytest.raises(MetabaseError, match="answered 400"):
            client.put(path.format(**ids), json.loads(text_body))
    assert reason in fake.errors[-1]


# -- units and titles ------------------------------------------------------------------


def test_every_shown_column_has_a_title_and_money_its_currency() -> None:
    for name, card in CARDS.items():
        settings = card["visualization_settings"]
        for column in shown_columns(settings):
            shown = settings["column_settings"][column_key(column)]
            assert shown["column_title"] != column, (name, column)
            unit = COLUMNS[column].unit
            if unit is Unit.MONEY:
                assert shown["number_style"] == "currency" and shown["currency"] == "EUR"
            elif unit is Unit.PERCENT:
                assert shown["suffix"] == "%" and shown["number_style"] == "decimal"
            elif unit is Unit.COUNT:
                assert shown["decimals"] == 0
            elif unit is Unit.DAYS:
                assert shown["suffix"] == " days"
        if "graph.metrics" in settings:
            assert "_" not in settings["graph.x_axis.title_text"] + settings[
                "graph.y_axis.title_text"
            ]
    usd = build_bundles(currency="USD")[0].cards["cards/01-revenue-this-month.json"]
    assert usd["visualization_settings"]["column_settings"]['["name","revenue"]'][
        "currency"
    ] == "USD"


def test_export_refuses_a_currency_that_is_no_code(tmp_path: Path) -> None:
    result = CliRunner().invoke(dashboards, ["export", "--out", str(tmp_path), "--currency", "€"])
    assert result.exit_code == 2 and "three letters of ISO 4217" in result.output
