"""The state of each view, for operators: ``view_status()``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, table, text
from sqlalchemy.engine import Connection

from soleflip_analytics import arguments
from soleflip_analytics.db import AsyncBind, Bind, connect, require_installed, run_async
from soleflip_analytics.names import SCHEMA
from soleflip_analytics.schedules import ScheduleStatus, read_schedule_status


@dataclass(frozen=True)
class IndexStatus:
    name: str
    definition: str
    """As pg_indexes.indexdef gives it."""
    unique: bool
    allows_concurrent_refresh: bool
    """Unique, valid, on plain columns, without WHERE."""


@dataclass(frozen=True)
class ViewStatus:
    """One materialized view of schema analytics, or one the migrations registered."""

    name: str
    exists: bool
    populated: bool
    row_count: int | None
    row_count_exact: bool
    """True for count(*); False for the planner's estimate (pg_class.reltuples),
    which is None when the view was never analyzed."""
    size_bytes: int | None
    """On disk, indexes included."""
    indexes: tuple[IndexStatus, ...]
    tier: str | None
    """hourly, daily or weekly as registered by its migration; None for a view
    the migrations did not create."""
    version: int | None
    data_as_of: datetime | None
    """Start of the last successful refresh: the view shows the data of that moment."""
    last_refreshed_at: datetime | None
    """End of the last successful refresh."""
    last_refresh_duration: timedelta | None
    last_refresh_rows: int | None
    last_attempt_status: str | None
    """Status of the latest refresh that ended (succeeded, failed, up_to_date, or
    interrupted: its server process ended before it finished)."""
    last_error: str | None
    """Error of the latest failed refresh, and when it ended."""
    last_error_at: datetime | None
    stale: bool | None
    """Some source changed since the last successful refresh (or it has none on
    record, or reads an untracked source). None when the view does not exist."""
    age: timedelta | None
    """How old the data is: now - data_as_of."""
    refreshing_now: bool
    refresh_schedule: ScheduleStatus | None = None
    """The pg_cron job that refreshes the view's tier when it is due (installed
    or not, and why); None before migration 0010, or for a role that may not
    read analytics.schedules."""
    replay_lag: timedelta | None = None
    """Read on a hot standby: how far its replay is behind the primary (zero when it
    has replayed all it received while streaming; else the time since the primary's
    commit it replayed last), so the numbers Metabase shows there are this much
    older than the primary's. None on a primary."""

    @property
    def concurrent_refresh_possible(self) -> bool:
        """Populated, with an index that allows REFRESH … CONCURRENTLY."""
        return self.populated and any(index.allows_concurrent_refresh for index in self.indexes)


_VIEWS = text(
    """
    WITH names AS (
        SELECT matviewname::text AS view_name FROM pg_catalog.pg_matviews
        WHERE schemaname = 'analytics'
        UNION
        SELECT view_name FROM analytics.managed_views
    )
    SELECT n.view_name,
           m.matviewname IS NOT NULL                   AS exists,
           coalesce(m.ispopulated, false)              AS populated,
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END AS estimated_rows,
           pg_catalog.pg_total_relation_size(c.oid)    AS size_bytes,
           mv.tier,
           mv.version,
           f.data_as_of,
           f.refreshed_at,
           f.refresh_duration,
           f.row_count                                 AS last_refresh_rows,
           (SELECT l.status FROM analytics.refresh_log l
            WHERE l.view_name = n.view_name AND l.status NOT IN ('skipped', 'running')
            ORDER BY l.id DESC LIMIT 1)                AS last_attempt_status,
           failure.error                               AS last_error,
           failure.finished_at                         AS last_error_at,
           CASE WHEN m.matviewname IS NOT NULL
                THEN analytics.view_is_stale(n.view_name) END AS stale,
           f.age,
           analytics.refresh_lock_holder(c.oid) IS NOT NULL AS refreshing_now
    FROM names n
    LEFT JOIN pg_catalog.pg_matviews m
           ON m.schemaname = 'analytics' AND m.matviewname = n.view_name
    LEFT JOIN pg_catalog.pg_class c
           ON c.relname = n.view_name AND c.relkind = 'm'
          AND c.relnamespace = 'analytics'::pg_catalog.regnamespace
    LEFT JOIN analytics.managed_views mv ON mv.view_name = n.view_name
    LEFT JOIN analytics.view_freshness f ON f.view_name = n.view_name
    LEFT JOIN LATERAL (
        SELECT l.error, l.finished_at FROM analytics.refresh_log l
        WHERE l.view_name = n.view_name AND l.status = 'failed'
        ORDER BY l.id DESC LIMIT 1
    ) failure ON true
    ORDER BY n.view_name
    """
)

_INDEXES = text(
    """
    SELECT x.tablename::text AS view_name, x.indexname::text AS name, x.indexdef AS definition,
           i.indisunique AS unique,
           analytics.allows_concurrent_refresh(i.indexrelid) AS allows_concurrent_refresh
    FROM pg_catalog.pg_indexes x
    JOIN pg_catalog.pg_class ic ON ic.relname = x.indexname
    JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = x.schemaname
    JOIN pg_catalog.pg_index i ON i.indexrelid = ic.oid
    WHERE x.schemaname = 'analytics'
    ORDER BY x.tablename, x.indexname
    """
)


def view_status(bind: Bind, *, exact_counts: bool = True) -> list[ViewStatus]:
    """The state of every materialized view of schema analytics and every registered one.

    ``exact_counts`` counts each view's rows (count(*), which waits while a
    plain refresh holds the view); False gives the planner's estimate instead,
    without touching the views.
    """
    arguments.flag("exact_counts", exact_counts)
    with connect(bind) as connection:
        require_installed(connection)
        with connection.begin():
            return read_view_status(connection, exact_counts)


async def aview_status(bind: AsyncBind, *, exact_counts: bool = True) -> list[ViewStatus]:
    """view_status() for asyncio code, without blocking the event loop."""
    return await run_async(view_status, bind, exact_counts=exact_counts)


# Not on a hot standby, which is read-only: refreshes run on the primary, whose own
# status and refreshes mark the interrupted ones there.
_RECONCILE = text(
    "SELECT analytics.reconcile_refresh_log() "
    "WHERE NOT pg_catalog.pg_is_in_recovery() "
    "AND CASE WHEN to_regprocedure('analytics.reconcile_refresh_log()') IS NOT NULL "
    "THEN has_function_privilege('analytics.reconcile_refresh_log()', 'EXECUTE') END"
)

# None on a primary. A standby that is streaming and has replayed all it received is
# not behind; otherwise (replay waiting, say, or the primary out of reach) it is
# behind by the time since the commit it replayed last.
_REPLAY_LAG = text(
    "SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN "
    "CASE WHEN pg_catalog.pg_last_wal_receive_lsn() = pg_catalog.pg_last_wal_replay_lsn() "
    "          AND EXISTS (SELECT FROM pg_catalog.pg_stat_wal_receiver) "
    "     THEN interval '0' "
    "     ELSE greatest(pg_catalog.clock_timestamp() - pg_catalog.pg_last_xact_replay_timestamp(),"
    "                   interval '0') END END"
)


def replay_lag(connection: Connection) -> timedelta | None:
    """How far a hot standby's replay is behind its primary (see ViewStatus.replay_lag);
    None on a primary, or on a standby that has replayed no transaction yet."""
    return connection.execute(_REPLAY_LAG).scalar_one()


def read_view_status(connection: Connection, exact_counts: bool) -> list[ViewStatus]:
    """view_status() on a connection, inside the caller's transaction.

    Refreshes whose server process ended unfinished are marked interrupted first
    (on a primary: on a hot standby nothing is written).
    """
    connection.execute(_RECONCILE)
    lag = replay_lag(connection)
    indexes: dict[str, list[IndexStatus]] = {}
    for row in connection.execute(_INDEXES).mappings():
        indexes.setdefault(row["view_name"], []).append(
            IndexStatus(row["name"], row["definition"], row["unique"],
                        bool(row["allows_concurrent_refresh"]))
        )
    tier_job = next((job for job in read_schedule_status(connection) if job.job == "tiers"), None)
    statuses = []
    for row in connection.execute(_VIEWS).mappings().all():
        counted = exact_counts and row["exists"] and row["populated"]
        statuses.append(
            ViewStatus(
                name=row["view_name"],
                exists=row["exists"],
                populated=row["populated"],
                row_count=count_rows(connection, row["view_name"]) if counted
                else row["estimated_rows"],
                row_count_exact=counted,
                size_bytes=row["size_bytes"],
                indexes=tuple(indexes.get(row["view_name"], ())),
                tier=row["tier"],
                version=row["version"],
                data_as_of=row["data_as_of"],
                last_refreshed_at=row["refreshed_at"],
                last_refresh_duration=row["refresh_duration"],
                last_refresh_rows=row["last_refresh_rows"],
                last_attempt_status=row["last_attempt_status"],
                last_error=row["last_error"],
                last_error_at=row["last_error_at"],
                stale=row["stale"],
                age=row["age"],
                refreshing_now=row["refreshing_now"],
                refresh_schedule=tier_job if row["tier"] is not None else None,
                replay_lag=lag,
            )
        )
    return statuses


def count_rows(connection: Connection, view: str, schema: str = SCHEMA) -> int:
    """Exact row count of a relation (its name quoted as an identifier)."""
    return connection.execute(
        select(func.count()).select_from(table(view, schema=schema))
    ).scalar_one()
