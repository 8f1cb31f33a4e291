"""Test databases on a throwaway server, created and dropped with sqlalchemy-utils."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pytest_postgresql.executors import PostgreSQLExecutor
from sqlalchemy import URL, create_engine, pool
from sqlalchemy_utils import create_database, drop_database

from soleflip_analytics.paths import sql_dir


def database_url(server: PostgreSQLExecutor, name: str) -> str:
    return URL.create("postgresql", username=server.user, host=server.host, port=server.port,
                      database=name).render_as_string(hide_password=False)


def create(url: str, contract: bool = True) -> None:
    """A new database, holding the source contract unless ``contract`` is False."""
    create_database(url)
    if contract:
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql((sql_dir() / "source_contract.sql").read_text())
        finally:
            engine.dispose()


@contextmanager
def throwaway_database(server: PostgreSQLExecutor, name: str,
                       contract: bool = True) -> Iterator[str]:
    """A new database for the block (its URL), dropped afterwards with its connections."""
    url = database_url(server, name)
    create(url, contract)
    try:
        yield url
    finally:
        drop_database(url)
