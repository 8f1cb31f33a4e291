"""Short lock waits for deploys, and who held the lock when a deploy gave up.

A deploy's statement waiting for a lock makes every later reader or writer of
that relation queue behind it, so the deploy waits briefly (a short
``lock_timeout``), steps back and tries again a few times; when it still cannot
get the lock it fails naming the server process that held it (docs/deploy.md).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from soleflip_analytics.db import sqlstate

LOCK_NOT_AVAILABLE = "55P03"


class DeployLockError(RuntimeError):
    """The deploy could not get a lock within its tries; nothing of the step changed."""


def is_lock_timeout(error: Exception) -> bool:
    """A lock wait longer than lock_timeout: a driver's error, or SQLAlchemy's around it
    (the SQL files go straight to the driver's cursor)."""
    if isinstance(error, DBAPIError):
        return sqlstate(error) == LOCK_NOT_AVAILABLE
    code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
    return code == LOCK_NOT_AVAILABLE


def pause(attempt: int) -> float:
    """Seconds to wait before try ``attempt + 1``: long enough for a queue to drain."""
    return min(0.1 * attempt, 1.0)


# The server process holding a lock on one of the relations, whose transaction is the
# oldest: a long transaction is what keeps a deploy from its lock.
_HOLDER = text(
    "SELECT a.pid, a.usename::text, a.application_name, a.query_start, a.state, "
    "       string_agg(DISTINCT l.relation::regclass::text, ', ') AS relations "
    "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_catalog.pg_backend_pid() "
    "  AND l.database = (SELECT oid FROM pg_catalog.pg_database "
    "                    WHERE datname = pg_catalog.current_database()) "
    "  AND l.relation = ANY (CAST(:relations AS oid[])) "
    "GROUP BY a.pid, a.usename, a.application_name, a.query_start, a.state, a.xact_start "
    "ORDER BY a.xact_start NULLS LAST LIMIT 1"
)


def lock_holder(connection: Connection, relations: list[int]) -> str:
    """The process holding a lock on one of the relations (by oid), for an error message."""
    row = connection.execute(_HOLDER, {"relations": relations}).one_or_none()
    if row is None:
        return "no other process holds a lock on them any more"
    return (f"pid {row.pid} (user {row.usename}, application {row.application_name!r}, "
            f"{row.state}, query started {row.query_start:%Y-%m-%d %H:%M:%S%z}) "
            f"holds a lock on {row.relations}")
