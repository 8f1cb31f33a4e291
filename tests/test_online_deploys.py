"""Online deploys: views changed side by side, the shop's writers and the dashboards' readers
kept waiting briefly at most, a deploy killed half-way resumed."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from refresh_support import CARD_VIEWS, add_sales, execute, scalar, wait_until
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from test_swap import INVENTORY, catalog_of, contents, recomputed

from soleflip_analytics import paths, upgrade
from soleflip_analytics.deploy import head_revision
from soleflip_analytics.deploy_locks import DeployLockError, is_lock_timeout
from soleflip_analytics.drift import check_drift
from soleflip_analytics.names import VERSION_TABLE
from soleflip_analytics.view_migrations import ViewUpdateRefused, create_view, update_view

DEPLOYED = 2  # metabase_inventory_status at head
COPY = 3  # a test-only version of it: a copy of v2.sql


@pytest.fixture
def inventory_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The package's SQL files, with v3.sql of metabase_inventory_status a copy of v2.sql."""
    copied = tmp_path / "sql"
    shutil.copytree(paths.sql_dir(), copied)
    views = copied / "views" / INVENTORY
    shutil.copy(views / f"v{DEPLOYED}.sql", views / f"v{COPY}.sql")
    monkeypatch.setattr(paths, "sql_dir", lambda: copied)
    return COPY


def oids(engine: Engine, views: list[str]) -> dict[str, int]:
    with engine.connect() as connection:
        return {view: connection.execute(text("SELECT to_regclass('analytics.' || :v)::oid"),
                                         {"v": view}).scalar_one() for view in views}


def deployed_version(engine: Engine, view: str = INVENTORY) -> int:
    return scalar(engine, "SELECT version FROM analytics.managed_views WHERE view_name = :v",
                  v=view)


def storage_parameters(engine: Engine, view: str) -> list[str]:
    return scalar(engine, "SELECT coalesce(reloptions, '{}') FROM pg_class "
                  "WHERE oid = to_regclass('analytics.' || :v)", v=view)


def drifts(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [str(drift) for drift in check_drift(connection).drifts]


def run_verb(engine: Engine, verb: Callable[[], None]) -> None:
    """A verb as a host's migration calls it (outside the package's deploy), committed."""
    with engine.connect() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            verb()
        connection.commit()


def update(engine: Engine, version: int, revert_to_version: int) -> None:
    run_verb(engine, lambda: update_view(INVENTORY, version, revert_to_version))


def test_update_view_rebuilds_its_dependents_beside_and_back(
    migrated_engine: Engine, inventory_copy: int,
) -> None:
    add_sales(migrated_engine, 40)
    views = [INVENTORY, *sorted(CARD_VIEWS)]
    before = {view: catalog_of(migrated_engine, view) for view in views}
    options = storage_parameters(migrated_engine, INVENTORY)
    assert "vacuum_truncate=off" in options  # revision 0018's, not in the view's file
    first = oids(migrated_engine, views)

    update(migrated_engine, inventory_copy, revert_to_version=DEPLOYED)

    assert deployed_version(migrated_engine) == inventory_copy
    assert storage_parameters(migrated_engine, INVENTORY) == options
    second = oids(migrated_engine, views)
    assert all(second[view] != first[view] for view in views)  # all built anew
    for view in views:
        assert catalog_of(migrated_engine, view) == before[view]  # indexes, grants, comments
        assert contents(migrated_engine, view) == recomputed(migrated_engine, view)
    assert drifts(migrated_engine) == []
    assert scalar(migrated_engine, "SELECT count(*) FROM pg_class "
                  "WHERE relnamespace = 'analytics_swap'::regnamespace") == 0
    # The card views read the new version through the read-through view.
    assert scalar(migrated_engine, f"SELECT count(*) FROM analytics_internal.{INVENTORY}") == (
        scalar(migrated_engine, f"SELECT count(*) FROM analytics.{INVENTORY}"))

    update(migrated_engine, DEPLOYED, revert_to_version=inventory_copy)

    assert deployed_version(migrated_engine) == DEPLOYED
    for view in views:
        assert catalog_of(migrated_engine, view) == before[view]
        assert contents(migrated_engine, view) == recomputed(migrated_engine, view)
    assert drifts(migrated_engine) == []


def test_update_view_raises_unless_the_deployed_version_is_the_one_to_revert_to(
    migrated_engine: Engine, inventory_copy: int,
) -> None:
    with pytest.raises(ViewUpdateRefused, match=r"deployed version is v2, not v1"):
        update(migrated_engine, inventory_copy, revert_to_version=1)
    assert deployed_version(migrated_engine) == DEPLOYED


def test_a_version_without_a_column_the_read_through_view_has_is_refused(
    migrated_engine: Engine, inventory_copy: int,
) -> None:
    copy = paths.sql_dir() / "views" / INVENTORY / f"v{inventory_copy}.sql"
    sql = copy.read_text()
    copy.write_text(sql.replace(",\n       i.updated_at\n", "\n").replace(
        f"COMMENT ON COLUMN {INVENTORY}.updated_at", "-- "))
    before = oids(migrated_engine, [INVENTORY, *sorted(CARD_VIEWS)])

    with pytest.raises(ViewUpdateRefused, match=r"cannot point analytics_internal\."
                       rf"{INVENTORY} at the new version.*new columns only at the end"):
        update(migrated_engine, inventory_copy, revert_to_version=DEPLOYED)

    assert oids(migrated_engine, [INVENTORY, *sorted(CARD_VIEWS)]) == before
    assert deployed_version(migrated_engine) == DEPLOYED


def test_a_view_of_the_host_reading_it_makes_the_update_refuse(
    migrated_engine: Engine, inventory_copy: int,
) -> None:
    execute(migrated_engine, "CREATE MATERIALIZED VIEW analytics.host_dead_stock AS "
            f"SELECT * FROM analytics.{INVENTORY} WHERE stock_category = 'Dead Stock'")
    views = [INVENTORY, *sorted(CARD_VIEWS), "host_dead_stock"]
    before = oids(migrated_engine, views)

    with pytest.raises(ViewUpdateRefused, match=r"analytics\.host_dead_stock reads it and was "
                       r"not created by soleflip-analytics' create_view.*drop"):
        update(migrated_engine, inventory_copy, revert_to_version=DEPLOYED)

    assert oids(migrated_engine, views) == before
    assert deployed_version(migrated_engine) == DEPLOYED


def test_a_view_of_the_host_in_its_own_directory_is_deployed_checked_and_rebuilt(
    migrated_engine: Engine, inventory_copy: int, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A host keeps its view's file in its own repository (SOLEFLIP_ANALYTICS_HOST_VIEWS):
    create_view builds it, db check compares it with that file, and an update of the
    package view it reads rebuilds it."""
    host = tmp_path / "host_views"
    (host / "shop_dead_stock").mkdir(parents=True)
    (host / "shop_dead_stock" / "v1.sql").write_text(
        "CREATE MATERIALIZED VIEW shop_dead_stock AS\n"
        f"SELECT inventory_id, days_in_stock FROM {INVENTORY} "
        "WHERE stock_category = 'Dead Stock';\n"
        "CREATE UNIQUE INDEX shop_dead_stock_item ON shop_dead_stock (inventory_id);\n")
    monkeypatch.setenv("SOLEFLIP_ANALYTICS_HOST_VIEWS", f"{tmp_path / 'elsewhere'}:{host}")
    run_verb(migrated_engine, lambda: create_view("shop_dead_stock", 1, "daily"))
    assert drifts(migrated_engine) == []
    dead_stock = ("SELECT count(*) FROM analytics.shop_dead_stock", f"SELECT count(*) FROM "
                  f"analytics.{INVENTORY} WHERE stock_category = 'Dead Stock'")

    update(migrated_engine, inventory_copy, revert_to_version=DEPLOYED)

    assert scalar(migrated_engine, dead_stock[0]) == scalar(migrated_engine, dead_stock[1])
    assert drifts(migrated_engine) == []
    (host / "shop_dead_stock" / "v1.sql").write_text(
        (host / "shop_dead_stock" / "v1.sql").read_text().replace(", days_in_stock", ""))
    assert any("shop_dead_stock" in drift for drift in drifts(migrated_engine))


@pytest.mark.parametrize("held", [INVENTORY, "unsold_stock_summary"])
def test_a_swap_that_cannot_get_its_lock_changes_nothing_and_names_the_reader(
    migrated_engine: Engine, inventory_copy: int, held: str,
) -> None:
    execute(migrated_engine, "UPDATE analytics.refresh_settings "
            "SET swap_attempts = 2, swap_lock_timeout = '20ms'")
    views = [INVENTORY, *sorted(CARD_VIEWS)]
    before = oids(migrated_engine, views)
    with migrated_engine.connect() as reader:
        reader.execute(text(f"SELECT count(*) FROM analytics.{held}")).all()
        pid = reader.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with pytest.raises(DeployLockError, match=rf"no lock within 2 tries of 20 ms; pid {pid} "
                           rf"\(user .*holds a lock on analytics\.{held}"):
            update(migrated_engine, inventory_copy, revert_to_version=DEPLOYED)
    assert oids(migrated_engine, views) == before
    assert deployed_version(migrated_engine) == DEPLOYED
    assert scalar(migrated_engine, "SELECT count(*) FROM pg_class "
                  "WHERE relnamespace = 'analytics_swap'::regnamespace") == 0


def test_the_update_waits_for_a_refresh_of_the_view_and_holds_its_refresh_lock(
    migrated_engine: Engine, inventory_copy: int,
) -> None:
    updating = threading.Thread(target=update, args=(migrated_engine, inventory_copy, DEPLOYED))
    with migrated_engine.connect() as refresh:
        refresh.execute(text("SELECT FROM analytics.refresh_locks WHERE view_name = :view "
                             "FOR UPDATE"), {"view": INVENTORY})
        updating.start()
        updating.join(timeout=1.0)
        assert updating.is_alive(), "the update did not wait for the refresh"
        assert deployed_version(migrated_engine) == DEPLOYED
    updating.join()
    assert deployed_version(migrated_engine) == inventory_copy


class Client(threading.Thread):
    """A loop of statements on its own connection whose lock waits are bounded by
    ``lock_timeout``: a wait longer than that fails the statement and is counted.
    (Wall times would count the machine's other work too.)"""

    def __init__(self, engine: Engine, lock_timeout: str, pause: float) -> None:
        super().__init__(daemon=True)
        self.engine, self.lock_timeout, self.pause = engine, lock_timeout, pause
        self.stopping = threading.Event()
        self.statements = 0
        self.lock_timeouts = 0

    def run(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"SET lock_timeout = '{self.lock_timeout}'")
            self.prepare(connection)
            while not self.stopping.is_set():
                try:
                    self.statement(connection)
                except DBAPIError as error:
                    if not is_lock_timeout(error):
                        raise
                    self.lock_timeouts += 1
                self.statements += 1
                self.stopping.wait(self.pause)

    def prepare(self, connection: Connection) -> None:
        """Before the first statement."""

    def statement(self, connection: Connection) -> None:
        raise NotImplementedError


class Reader(Client):
    """A dashboard: the view and every card view, read in turn, 5 ms apart."""

    def __init__(self, engine: Engine, views: list[str]) -> None:
        super().__init__(engine, lock_timeout="100ms", pause=0.005)
        self.views = views

    def statement(self, connection: Connection) -> None:
        view = self.views[self.statements % len(self.views)]
        connection.exec_driver_sql(f"SELECT 1 FROM analytics.{view} LIMIT 1").all()


def test_readers_wait_at_most_100_ms_while_the_view_is_updated(
    migrated_engine: Engine, inventory_copy: int,
) -> None:
    add_sales(migrated_engine, 150_000, bulk=True)
    reader = Reader(migrated_engine, [INVENTORY, *sorted(CARD_VIEWS)])
    reader.start()
    try:
        started = time.perf_counter()
        update(migrated_engine, inventory_copy, revert_to_version=DEPLOYED)
        seconds = time.perf_counter() - started
    finally:
        reader.stopping.set()
        reader.join()
    assert seconds > 1.0, "too small to tell: the update must take seconds"
    assert reader.statements > 50
    assert reader.lock_timeouts == 0, "a reader waited more than 100 ms for a lock"
    assert scalar(migrated_engine, f"SELECT count(*) FROM analytics.{INVENTORY}") >= 150_000


INSERT_ORDER = text(
    "INSERT INTO transactions.orders (inventory_item_id, platform_id, status, sold_at, "
    "gross_sale, net_proceeds, net_profit, roi, buyer_destination_country, "
    "buyer_destination_city) "
    "VALUES (:item, :platform, 'completed', now(), 150, 135, 16, 13.4, 'DE', 'Berlin')")


class Writer(Client):
    """The shop: single-row inserts into transactions.orders, 20 a second."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, lock_timeout="200ms", pause=0.05)

    def prepare(self, connection: Connection) -> None:
        self.ids = connection.execute(text(
            "SELECT inventory_item_id AS item, platform_id AS platform "
            "FROM transactions.orders LIMIT 1")).mappings().one()

    def statement(self, connection: Connection) -> None:
        connection.execute(INSERT_ORDER, dict(self.ids))


def test_writers_wait_at_most_200_ms_during_the_first_deploy(
    source_url: str, source_engine: Engine,
) -> None:
    add_sales(source_engine, 150_000, bulk=True)
    writer = Writer(source_engine)
    writer.start()
    try:
        started = time.perf_counter()
        upgrade(source_url)
        seconds = time.perf_counter() - started
    finally:
        writer.stopping.set()
        writer.join()
    assert seconds > 1.0, "too small to tell: the deploy must take seconds"
    assert writer.statements > 20
    assert writer.lock_timeouts == 0, "a writer waited more than 200 ms for a lock"
    assert scalar(source_engine, "SELECT count(*) FROM pg_trigger "
                  "WHERE tgname = 'soleflip_analytics_track_changes'") >= 2


def deployed_revision(engine: Engine) -> str | None:
    return scalar(engine, f"SELECT max(version_num) FROM public.{VERSION_TABLE}")


def test_a_deploy_killed_half_way_resumes_with_upgrade_head(
    source_url: str, source_engine: Engine,
) -> None:
    add_sales(source_engine, 150_000, bulk=True)
    failure: list[BaseException] = []

    def deploy() -> None:
        try:
            upgrade(source_url)
        except DBAPIError as error:
            failure.append(error)

    deploying = threading.Thread(target=deploy)
    deploying.start()
    # Once a few revisions have committed, end the deploy's server process mid-revision.
    wait_until(lambda: scalar(source_engine, f"SELECT to_regclass('public.{VERSION_TABLE}')")
               and (deployed_revision(source_engine) or "") >= "0003", timeout=120)
    scalar(source_engine,
           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
           "WHERE datname = current_database() AND pid <> pg_backend_pid() "
           "AND backend_type = 'client backend'")
    deploying.join()
    assert failure, "the deploy finished before it could be killed"
    revision = deployed_revision(source_engine)
    assert revision is not None and revision >= "0003"
    # Every view of the revisions committed is there, as its files say.
    assert drifts(source_engine) == []

    upgrade(source_url)

    assert deployed_revision(source_engine) == head_revision()
    assert drifts(source_engine) == []


def test_a_deploy_that_cannot_lock_the_shop_tables_names_who_holds_them(
    source_url: str, source_engine: Engine,
) -> None:
    add_sales(source_engine, 10)
    upgrade(source_url, "0008")
    with source_engine.connect() as shop:
        shop.execute(text("UPDATE transactions.orders SET status = status "
                          "WHERE id = (SELECT id FROM transactions.orders LIMIT 1)"))
        shop_pid = shop.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with pytest.raises(DeployLockError, match=rf"pid {shop_pid} \(user .*holds a lock on "):
            upgrade(source_url)
        shop.rollback()
    assert deployed_revision(source_engine) == "0008"
    assert scalar(source_engine, "SELECT to_regclass('analytics.refresh_log')") is None


def test_a_revision_that_waited_too_long_for_a_lock_runs_again(
    source_url: str, source_engine: Engine,
) -> None:
    add_sales(source_engine, 10)
    upgrade(source_url, "0014")
    with source_engine.connect() as shop:
        # 0015 builds four views, then waits for the fifth's source table: rolled back.
        shop.execute(text("LOCK TABLE core.suppliers IN ACCESS EXCLUSIVE MODE"))
        deploying = threading.Thread(target=upgrade, args=(source_url, "0015"))
        deploying.start()
        deploying.join(timeout=1.0)
        assert deploying.is_alive()
        shop.rollback()
    deploying.join()
    assert deployed_revision(source_engine) == "0015"
    assert drifts(source_engine) == []
