-- Refresh bookkeeping: the refresh log, change tracking on the source tables,
-- refresh requests of callers that skipped, the per-view refresh routine that
-- the library, the CLI and pg_cron all call, and the freshness view for
-- dashboards.
--
-- Every function pins search_path = pg_catalog, pg_temp and names its objects
-- schema-qualified, so that it can be made SECURITY DEFINER for a
-- least-privilege refresher role without change (the procedure cannot pin it,
-- since it commits; its names are qualified all the same).

-- ---------------------------------------------------------------------------
-- Settings and tables.

CREATE TABLE analytics.refresh_settings (
    singleton                boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    log_retention            interval NOT NULL DEFAULT '90 days'
                             CHECK (log_retention >= interval '0'),
    log_max_entries_per_view integer NOT NULL DEFAULT 10000
                             CHECK (log_max_entries_per_view > 0)
);
INSERT INTO analytics.refresh_settings DEFAULT VALUES;
COMMENT ON TABLE analytics.refresh_settings IS
    'One row of refresh settings: how much of analytics.refresh_log is kept.';
COMMENT ON COLUMN analytics.refresh_settings.log_retention IS
    'Log entries older than this are deleted (each view''s latest successful refresh is always kept).';
COMMENT ON COLUMN analytics.refresh_settings.log_max_entries_per_view IS
    'At most this many log entries are kept per view, the newest (plus its latest successful refresh).';

CREATE TABLE analytics.refresh_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    view_name     text NOT NULL,
    triggered_by  text NOT NULL CHECK (triggered_by ~ '^[a-z][a-z0-9_]*$'),
    status        text NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped', 'up_to_date')),
    method        text CHECK (method IN ('concurrently', 'plain')),
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    duration      interval GENERATED ALWAYS AS (finished_at - started_at) STORED,
    row_count     bigint,
    error         text,
    detail        text,
    snapshot      pg_snapshot,
    refresh_xid   xid8,
    backend_pid   integer NOT NULL DEFAULT pg_backend_pid(),
    database_user name NOT NULL DEFAULT session_user,
    CHECK (status <> 'succeeded'
           OR (snapshot IS NOT NULL AND refresh_xid IS NOT NULL AND row_count IS NOT NULL
               AND method IS NOT NULL)),
    CHECK (status <> 'failed' OR error IS NOT NULL)
);
CREATE INDEX refresh_log_view ON analytics.refresh_log (view_name, id);
CREATE INDEX refresh_log_view_success ON analytics.refresh_log (view_name, id)
    WHERE status = 'succeeded';
CREATE INDEX refresh_log_finished ON analytics.refresh_log (finished_at);
COMMENT ON TABLE analytics.refresh_log IS
    'Every refresh of a view in schema analytics, whoever started it, successful or not. Pruned by analytics.refresh_settings.';
COMMENT ON COLUMN analytics.refresh_log.view_name IS 'Materialized view in schema analytics.';
COMMENT ON COLUMN analytics.refresh_log.triggered_by IS
    'Who asked: manual (a direct call), event (the application after a write), cron (pg_cron), cli, …';
COMMENT ON COLUMN analytics.refresh_log.status IS
    'succeeded; failed (the view kept its previous rows); skipped (a refresh of the view was already running and took over the request); up_to_date (only stale views were asked for and no source changed).';
COMMENT ON COLUMN analytics.refresh_log.method IS
    'concurrently (readers never blocked) or plain (first population, or no unique index allows concurrent refresh).';
COMMENT ON COLUMN analytics.refresh_log.started_at IS
    'When the refresh started, after any wait for another refresh of the same view. The data is as of this moment.';
COMMENT ON COLUMN analytics.refresh_log.finished_at IS 'When the refresh ended.';
COMMENT ON COLUMN analytics.refresh_log.duration IS 'finished_at - started_at.';
COMMENT ON COLUMN analytics.refresh_log.row_count IS 'Rows in the view after a successful refresh (exact).';
COMMENT ON COLUMN analytics.refresh_log.error IS 'Error message of a failed refresh.';
COMMENT ON COLUMN analytics.refresh_log.detail IS
    'Why a refresh was plain, skipped or up to date; SQLSTATE and a hint for a failure.';
COMMENT ON COLUMN analytics.refresh_log.snapshot IS
    'Transaction snapshot taken at the start of a successful refresh: a source change whose transaction it does not see makes the view stale.';
COMMENT ON COLUMN analytics.refresh_log.refresh_xid IS
    'Transaction of a successful refresh: a view built on this one that did not see it is stale.';
COMMENT ON COLUMN analytics.refresh_log.backend_pid IS 'Server process that ran the refresh.';
COMMENT ON COLUMN analytics.refresh_log.database_user IS 'Database user of the session that ran the refresh.';

-- One row per (source table, server process): the last transaction of that
-- process that wrote the table. Each process only ever touches its own rows,
-- so writers never wait for each other here.
CREATE TABLE analytics.source_changes (
    table_oid    oid NOT NULL,
    backend_pid  integer NOT NULL,
    last_xid     xid8 NOT NULL,
    PRIMARY KEY (table_oid, backend_pid)
) WITH (fillfactor = 50);
COMMENT ON TABLE analytics.source_changes IS
    'Change tracking for stale-only refreshes: the last transaction of each server process that wrote each source table. Written by trigger soleflip_analytics_track_changes.';
COMMENT ON COLUMN analytics.source_changes.table_oid IS 'Source table that was written.';
COMMENT ON COLUMN analytics.source_changes.backend_pid IS 'Server process that wrote it.';
COMMENT ON COLUMN analytics.source_changes.last_xid IS 'Its latest transaction that wrote it.';

CREATE TABLE analytics.refresh_requests (
    view_name    text PRIMARY KEY,
    request_xid  xid8 NOT NULL,
    requested_at timestamptz NOT NULL
);
COMMENT ON TABLE analytics.refresh_requests IS
    'Refreshes asked for by callers that did not wait for a running refresh of the same view. A refresh whose snapshot sees a request fulfils it; a request made after the running refresh started makes that refresher refresh once more.';
COMMENT ON COLUMN analytics.refresh_requests.view_name IS 'Materialized view in schema analytics.';
COMMENT ON COLUMN analytics.refresh_requests.request_xid IS 'Transaction that recorded the latest request.';
COMMENT ON COLUMN analytics.refresh_requests.requested_at IS 'When the latest request was made.';

-- ---------------------------------------------------------------------------
-- What each view reads, from the dependency catalog.

\ir ../../functions/is_tracked/v1.sql

CREATE VIEW analytics.view_sources AS
WITH RECURSIVE reads (view_oid, source_oid) AS (
    SELECT mv.oid, d.refobjid
    FROM pg_catalog.pg_class mv
    JOIN pg_catalog.pg_namespace n ON n.oid = mv.relnamespace
    JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = mv.oid
    JOIN pg_catalog.pg_depend d
      ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rw.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> mv.oid
    WHERE mv.relkind = 'm' AND n.nspname = 'analytics'
  UNION
    -- through plain views to what they read
    SELECT r.view_oid, d.refobjid
    FROM reads r
    JOIN pg_catalog.pg_class v ON v.oid = r.source_oid AND v.relkind = 'v'
    JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = v.oid
    JOIN pg_catalog.pg_depend d
      ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rw.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> v.oid
)
SELECT mv.relname::text                          AS view_name,
       r.view_oid,
       r.source_oid,
       sn.nspname::text                          AS source_schema,
       s.relname::text                           AS source_name,
       s.relkind                                 AS source_kind,
       analytics.is_tracked(s.oid)               AS tracked
FROM reads r
JOIN pg_catalog.pg_class mv ON mv.oid = r.view_oid
JOIN pg_catalog.pg_class s ON s.oid = r.source_oid
JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
WHERE s.relkind IN ('r', 'p', 'f', 'm');
COMMENT ON VIEW analytics.view_sources IS
    'The tables and materialized views each materialized view in schema analytics reads, directly or through plain views, from the dependency catalog (pg_depend).';
COMMENT ON COLUMN analytics.view_sources.view_name IS 'Materialized view in schema analytics.';
COMMENT ON COLUMN analytics.view_sources.view_oid IS 'Its oid.';
COMMENT ON COLUMN analytics.view_sources.source_oid IS 'Oid of a table or materialized view it reads.';
COMMENT ON COLUMN analytics.view_sources.source_schema IS 'Schema of that source.';
COMMENT ON COLUMN analytics.view_sources.source_name IS 'Name of that source.';
COMMENT ON COLUMN analytics.view_sources.source_kind IS 'r table, p partitioned table, f foreign table, m materialized view.';
COMMENT ON COLUMN analytics.view_sources.tracked IS
    'Whether changes to the source are tracked; an untracked source makes the view always count as stale.';

CREATE VIEW analytics.refresh_order AS
WITH RECURSIVE levels (view_oid, level) AS (
    SELECT c.oid, 0
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'm' AND n.nspname = 'analytics'
  UNION
    SELECT s.view_oid, l.level + 1
    FROM levels l
    JOIN analytics.view_sources s ON s.source_oid = l.view_oid
)
SELECT c.relname::text AS view_name, max(l.level) AS level
FROM levels l
JOIN pg_catalog.pg_class c ON c.oid = l.view_oid
GROUP BY c.relname;
COMMENT ON VIEW analytics.refresh_order IS
    'Materialized views of schema analytics with their dependency level: refresh by ascending level, so that a view built on another view is refreshed after it.';
COMMENT ON COLUMN analytics.refresh_order.view_name IS 'Materialized view in schema analytics.';
COMMENT ON COLUMN analytics.refresh_order.level IS
    '0 for a view that reads only tables; otherwise one more than the highest level of the views it reads.';

\ir ../../functions/matview_oid/v1.sql

\ir ../../functions/allows_concurrent_refresh/v1.sql

-- ---------------------------------------------------------------------------
-- Change tracking.

\ir ../../functions/track_source_tables/v1.sql

-- ---------------------------------------------------------------------------
-- The log.

\ir ../../functions/prune_refresh_bookkeeping/v1.sql

\ir ../../functions/log_refresh/v1.sql

-- ---------------------------------------------------------------------------
-- Requests of callers that did not wait.

\ir ../../functions/request_refresh/v1.sql

\ir ../../functions/has_refresh_request/v1.sql

-- ---------------------------------------------------------------------------
-- Refreshing one view.

\ir ../../functions/refresh_lock_class/v1.sql

\ir ../../functions/refresh_tier/v1.sql

-- ---------------------------------------------------------------------------
-- "Data as of" for dashboards.

CREATE VIEW analytics.view_freshness AS
SELECT m.matviewname::text              AS view_name,
       mv.tier,
       m.ispopulated                    AS populated,
       last_success.started_at          AS data_as_of,
       last_success.finished_at         AS refreshed_at,
       last_success.duration            AS refresh_duration,
       last_success.row_count,
       pg_catalog.now() - last_success.started_at AS age
FROM pg_catalog.pg_matviews m
LEFT JOIN analytics.managed_views mv ON mv.view_name = m.matviewname
LEFT JOIN LATERAL (
    SELECT l.started_at, l.finished_at, l.duration, l.row_count
    FROM analytics.refresh_log l
    WHERE l.view_name = m.matviewname AND l.status = 'succeeded'
    ORDER BY l.id DESC
    LIMIT 1
) last_success ON true
WHERE m.schemaname = 'analytics';
COMMENT ON VIEW analytics.view_freshness IS
    'Each analytics view with its last successful refresh: show "data as of …" on a dashboard.';
COMMENT ON COLUMN analytics.view_freshness.view_name IS 'Materialized view in schema analytics.';
COMMENT ON COLUMN analytics.view_freshness.tier IS 'Refresh schedule: hourly, daily or weekly.';
COMMENT ON COLUMN analytics.view_freshness.populated IS 'False until the view is first refreshed.';
COMMENT ON COLUMN analytics.view_freshness.data_as_of IS
    'Start of the last successful refresh: the view shows the data of this moment.';
COMMENT ON COLUMN analytics.view_freshness.refreshed_at IS 'End of the last successful refresh.';
COMMENT ON COLUMN analytics.view_freshness.refresh_duration IS 'How long that refresh took.';
COMMENT ON COLUMN analytics.view_freshness.row_count IS 'Rows of the view after that refresh.';
COMMENT ON COLUMN analytics.view_freshness.age IS 'How old the data is now.';
-- Whoever may use schema analytics (the dashboards' readers) may read it.
GRANT SELECT ON analytics.view_freshness TO PUBLIC;
