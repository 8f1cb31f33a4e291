"""Both PostgreSQL drivers: psycopg (3) and psycopg2, named in the URL or not.

SQLAlchemy 2.1 gives a bare postgresql:// Engine psycopg 3 and 2.0 psycopg2; the
package's own connections from a URL string use psycopg2. Whatever an
application's Engine runs on, every public function works with it.
"""

from __future__ import annotations

import pytest
from refresh_support import add_sales, scalar
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from soleflip_analytics import check_health, refresh_views, view_status
from soleflip_analytics.db import resolve_url, sqlstate

DRIVERS = ["postgresql", "postgresql+psycopg", "postgresql+psycopg2"]


def _with_driver(url: str, driver: str) -> str:
    return make_url(url).set(drivername=driver).render_as_string(hide_password=False)


@pytest.fixture(params=DRIVERS)
def driver_engine(request: pytest.FixtureRequest, migrated_engine: Engine, source_url: str):
    engine = create_engine(_with_driver(source_url, request.param))
    yield engine
    engine.dispose()


def test_an_engine_of_either_driver_refreshes_and_reports(driver_engine: Engine) -> None:
    add_sales(driver_engine, 3)
    results = refresh_views(driver_engine)
    assert {result.status for result in results} == {"succeeded"}
    assert scalar(driver_engine,
                  "SELECT sum(total_orders) FROM analytics.metabase_executive_metrics") == 3
    assert all(status.last_refreshed_at is not None for status in view_status(driver_engine))
    assert check_health(driver_engine).healthy


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_url_string_of_either_driver_works(migrated_engine: Engine, source_url: str,
                                             driver: str) -> None:
    url = _with_driver(source_url, driver)
    assert {result.status for result in refresh_views(url)} == {"succeeded"}
    assert check_health(url).healthy


def test_bare_urls_get_psycopg2_and_named_drivers_are_kept() -> None:
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert resolve_url("postgres://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert resolve_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_sqlstate_of_either_driver(driver_engine: Engine) -> None:
    with driver_engine.connect() as connection, pytest.raises(DBAPIError) as raised:
        connection.execute(text("SELECT 1 / 0"))
    assert sqlstate(raised.value) == "22012"  # division_by_zero


def test_an_autocommit_connection_of_either_driver_is_refused(driver_engine: Engine) -> None:
    with driver_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
        with pytest.raises(ValueError, match="AUTOCOMMIT"):
            refresh_views(auto, ["metabase_executive_metrics"])
