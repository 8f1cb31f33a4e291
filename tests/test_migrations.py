"""The migrations: history, up and down, the contract check, and what they leave behind."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from pytest_alembic.tests import (  # noqa: F401 (pytest-alembic's built-in tests)
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from refresh_support import ALL_VIEWS
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from soleflip_analytics import SourceContractError, deploy, downgrade, upgrade

ROOT = Path(__file__).resolve().parent.parent
VIEWS = sorted(ALL_VIEWS)

# Every object outside the system schemas, by kind: what "nothing changed" compares.
CATALOG_SNAPSHOT = text(
    """
    SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    UNION ALL
    SELECT 'schema ' || nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname
    FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    UNION ALL
    SELECT 'comment ' || pg_describe_object(classoid, objoid, objsubid) || ' ' || description
    FROM pg_description
    UNION ALL
    SELECT 'acl ' || n.nspname || ' ' || coalesce(n.nspacl::text, '') FROM pg_namespace n
    UNION ALL
    SELECT 'role ' || rolname FROM pg_roles
    UNION ALL
    SELECT 'member ' || roleid::regrole::text || ' ' || member::regrole::text FROM pg_auth_members
    UNION ALL
    SELECT 'default acl ' || defaclrole::regrole::text || ' '
           || coalesce(defaclnamespace::regnamespace::text, '-') || ' ' || defaclobjtype::text
           || ' ' || defaclacl::text
    FROM pg_default_acl
    UNION ALL
    -- Privileges as granted (an explicit ACL equal to the default counts as the default).
    SELECT 'acl ' || c.oid::regclass::text || ' ' || a.grantee::regrole::text || ' '
           || a.privilege_type
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
         aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    UNION ALL
    SELECT 'acl ' || p.oid::regprocedure::text || ' ' || a.grantee::regrole::text || ' '
           || a.privilege_type
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
         aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || ' security definer '
           || p.prosecdef::text || ' ' || coalesce(p.proconfig::text, '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    """
)


def snapshot(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(CATALOG_SNAPSHOT).scalars())


# pytest-alembic's fixtures: the packaged migrations against a fresh contract database.
@pytest.fixture
def alembic_config(source_url: str) -> Config:
    return deploy.alembic_config(source_url)


@pytest.fixture
def alembic_engine(source_engine: Engine) -> Engine:
    return source_engine


def managed_views(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT matviewname FROM pg_matviews "
                    "WHERE schemaname = 'analytics' ORDER BY matviewname"
                )
            ).scalars()
        )


def test_upgrade_creates_the_views_each_with_a_unique_index(migrated_engine: Engine) -> None:
    assert managed_views(migrated_engine) == VIEWS
    with migrated_engine.connect() as connection:
        unique_indexed = connection.execute(
            text(
                "SELECT DISTINCT tablename FROM pg_indexes WHERE schemaname = 'analytics' "
                "AND indexdef LIKE 'CREATE UNIQUE INDEX%' AND indexdef NOT LIKE '% WHERE %'"
            )
        ).scalars()
        assert VIEWS == sorted(set(unique_indexed) & set(VIEWS))
        registered = connection.execute(
            text("SELECT view_name, version, tier FROM analytics.managed_views ORDER BY 1")
        ).all()
    assert registered == [
        ("bought_items_by_brand", 2, "hourly"),
        ("metabase_brand_analytics", 2, "daily"),
        ("metabase_customer_geography", 2, "daily"),
        ("metabase_executive_metrics", 2, "hourly"),
        ("metabase_inventory_status", 2, "hourly"),
        ("metabase_platform_performance", 2, "hourly"),
        ("metabase_product_performance", 1, "daily"),
        ("metabase_supplier_performance", 2, "weekly"),
        ("sold_items_by_price_band", 2, "hourly"),
        ("sold_items_by_product", 2, "hourly"),
        ("unsold_stock_by_product", 2, "hourly"),
        ("unsold_stock_items", 2, "hourly"),
        ("unsold_stock_summary", 2, "hourly"),
    ]


def test_downgrade_base_removes_everything_and_keeps_host_rows(
    source_url: str, source_engine: Engine
) -> None:
    with source_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO core.platforms (name, slug) VALUES ('StockX', 'stockx')")
        )
    before = snapshot(source_engine)
    upgrade(source_url)
    assert snapshot(source_engine) != before
    downgrade(source_url, "base")
    assert snapshot(source_engine) == before
    with source_engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM core.platforms")).scalars().all() == [
            "StockX"
        ]


def test_every_revision_goes_up_down_and_up_again(source_url: str, source_engine: Engine) -> None:
    scripts = ScriptDirectory.from_config(deploy.alembic_config(source_url))
    revisions = [script.revision for script in scripts.walk_revisions()][::-1]
    previous = "base"
    for revision in revisions:
        upgrade(source_url, revision)
        state = snapshot(source_engine)
        downgrade(source_url, previous)
        upgrade(source_url, revision)
        assert snapshot(source_engine) == state, f"{revision} did not come back the same"
        previous = revision
    assert managed_views(source_engine) == VIEWS


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("DROP TABLE core.suppliers CASCADE", ["missing table core.suppliers"]),
        (
            "ALTER TABLE transactions.orders DROP COLUMN roi, DROP COLUMN buyer_destination_city",
            [
                "missing column transactions.orders.roi",
                "missing column transactions.orders.buyer_destination_city",
            ],
        ),
        (
            "ALTER TABLE transactions.orders ALTER COLUMN sold_at TYPE timestamp",
            ["transactions.orders.sold_at is timestamp without time zone, expected timestamptz"],
        ),
    ],
)
def test_upgrade_without_the_contract_fails_naming_what_is_missing_and_changes_nothing(
    source_url: str, source_engine: Engine, damage: str, named: list[str]
) -> None:
    with source_engine.begin() as connection:
        connection.execute(text(damage))
    before = snapshot(source_engine)
    with pytest.raises(SourceContractError) as failure:
        upgrade(source_url)
    for words in named:
        assert words in str(failure.value)
    assert "nothing was created" in str(failure.value)
    assert snapshot(source_engine) == before


def test_an_empty_database_lists_every_table_of_the_contract(
    make_database: Callable[..., str],
) -> None:
    url = make_database(contract=False)
    engine = create_engine(url)
    before = snapshot(engine)
    with pytest.raises(SourceContractError) as failure:
        upgrade(url)
    message = str(failure.value)
    for table in [
        "core.platforms", "core.suppliers", "catalog.brand", "catalog.category",
        "catalog.product", "inventory.stock", "transactions.orders",
    ]:
        assert f"missing table {table}" in message
    assert snapshot(engine) == before
    engine.dispose()


def test_the_hosts_alembic_version_is_untouched(source_url: str, source_engine: Engine) -> None:
    with source_engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY)")
        )
        connection.execute(text("INSERT INTO public.alembic_version VALUES ('shop_4f1c2a')"))
    host_version = text("SELECT version_num FROM public.alembic_version")
    upgrade(source_url)
    with source_engine.connect() as connection:
        assert connection.execute(host_version).scalars().all() == ["shop_4f1c2a"]
        ours = connection.execute(
            text("SELECT version_num FROM public.soleflip_analytics_version")
        ).scalar_one()
        head = ScriptDirectory.from_config(deploy.alembic_config(source_url)).get_current_head()
        assert ours == head
    downgrade(source_url, "base")
    with source_engine.connect() as connection:
        assert connection.execute(host_version).scalars().all() == ["shop_4f1c2a"]


def test_alembic_command_line_from_the_repository_root(
    source_url: str, source_engine: Engine
) -> None:
    def alembic(*args: str, env: dict[str, str] | None = None) -> None:
        subprocess.run(
            [sys.executable, "-m", "alembic", *args], cwd=ROOT, check=True, env=env,
            capture_output=True,
        )

    alembic("-x", f"url={source_url}", "upgrade", "head")
    assert managed_views(source_engine) == VIEWS
    alembic("downgrade", "base", env={**os.environ, "DATABASE_URL": source_url})
    assert managed_views(source_engine) == []


def test_migrations_run_from_an_installed_wheel(
    source_url: str, source_engine: Engine, tmp_path: Path
) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("soleflip_analytics-*.whl"))
    venv = tmp_path / "venv"
    # The virtualenv sees this environment's alembic and SQLAlchemy, but the
    # package itself only from the wheel.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--force-reinstall", "-q", str(wheel)],
        check=True, capture_output=True,
    )
    script = (
        "import sys, soleflip_analytics as sa\n"
        "assert sa.__file__.startswith(sys.prefix), sa.__file__\n"
        f"sa.upgrade({source_url!r})\n"
    )
    subprocess.run([python, "-c", script], cwd=tmp_path, check=True)
    assert managed_views(source_engine) == VIEWS
    subprocess.run(
        [python, "-c", f"import soleflip_analytics as sa; sa.downgrade({source_url!r}, 'base')"],
        cwd=tmp_path, check=True,
    )
    assert managed_views(source_engine) == []


def test_the_settings_row_cannot_be_deleted(migrated_engine: Engine) -> None:
    for statement in ("DELETE FROM analytics.settings", "TRUNCATE analytics.settings"):
        with pytest.raises(Exception, match="must keep its one row"):
            with migrated_engine.begin() as connection:
                connection.execute(text(statement))
    with migrated_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM analytics.settings")).scalar() == 1


def test_0020_lowers_swap_min_rows_where_it_was_left_at_the_default(
    source_url: str, source_engine: Engine,
) -> None:
    def swap_min_rows() -> int:
        with source_engine.connect() as connection:
            return connection.execute(text(
                "SELECT swap_min_rows FROM analytics.refresh_settings")).scalar_one()

    upgrade(source_url, "0019")
    assert swap_min_rows() == 100_000
    upgrade(source_url)
    assert swap_min_rows() == 10_000
    downgrade(source_url, "0019")
    assert swap_min_rows() == 100_000
    with source_engine.begin() as connection:
        connection.execute(text("UPDATE analytics.refresh_settings SET swap_min_rows = 50000"))
    upgrade(source_url)
    assert swap_min_rows() == 50_000  # the shop's own setting stays
