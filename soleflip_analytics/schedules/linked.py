"""A second connection, to pg_cron's database, whose transaction commits and rolls back with
the migration's."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import create_engine, event, pool
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

CONNECT_TIMEOUT_SECONDS = 10


def database_url(connection: Connection, database: str) -> URL:
    """The URL of ``connection`` with another database, through psycopg2."""
    return connection.engine.url.set(drivername="postgresql+psycopg2", database=database)


def short_engine(url: URL) -> Engine:
    return create_engine(url, poolclass=pool.NullPool,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


class _LinkedTransaction:
    """A transaction in another database that commits and rolls back with a connection's.

    It commits just before the main transaction does: only a failure of that
    very commit could leave jobs without their migration, and upgrading again
    replaces them.
    """

    def __init__(self, main: Connection, database: str) -> None:
        self._engine = short_engine(database_url(main, database))
        try:
            self.connection = self._engine.connect()
        except DBAPIError:
            self._engine.dispose()
            raise
        self.connection.begin()
        self._main = main
        self._database = database
        event.listen(main, "commit", self._commit)
        event.listen(main, "rollback", self._rollback)

    def _commit(self, _main: Connection) -> None:
        self._end(self.connection.commit)

    def _rollback(self, _main: Connection) -> None:
        self._end(self.connection.rollback)

    def _end(self, finish: Callable[[], None]) -> None:
        if _linked(self._main).pop(self._database, None) is not self:
            return  # already ended
        try:
            finish()
        finally:
            self.connection.close()
            self._engine.dispose()


def _linked(main: Connection) -> dict[str, _LinkedTransaction]:
    return main.info.setdefault("soleflip_analytics_linked_transactions", {})


def linked_connection(main: Connection, database: str) -> Connection:
    """A connection to ``database`` whose work commits with ``main``'s transaction."""
    linked = _linked(main)
    if database not in linked:
        linked[database] = _LinkedTransaction(main, database)
    return linked[database].connection
