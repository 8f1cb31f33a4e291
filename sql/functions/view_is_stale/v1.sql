-- analytics.view_is_stale, version 1.

CREATE OR REPLACE FUNCTION analytics.view_is_stale(view_name text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH last_success AS (
        SELECT l.snapshot
        FROM analytics.refresh_log l
        WHERE l.view_name = view_is_stale.view_name AND l.status = 'succeeded'
        ORDER BY l.id DESC
        LIMIT 1
    )
    SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_matviews m
                       WHERE m.schemaname = 'analytics' AND m.matviewname = view_is_stale.view_name
                         AND m.ispopulated)
        OR NOT EXISTS (SELECT FROM last_success)
        OR EXISTS (SELECT FROM analytics.view_sources s
                   WHERE s.view_name = view_is_stale.view_name AND NOT s.tracked)
        OR EXISTS (SELECT FROM analytics.view_sources s
                   JOIN analytics.source_changes c ON c.table_oid = s.source_oid
                   CROSS JOIN last_success
                   WHERE s.view_name = view_is_stale.view_name
                     AND NOT pg_catalog.pg_visible_in_snapshot(c.last_xid, last_success.snapshot))
        OR EXISTS (SELECT FROM analytics.view_sources s
                   CROSS JOIN last_success
                   CROSS JOIN LATERAL (
                       SELECT l.refresh_xid FROM analytics.refresh_log l
                       WHERE l.view_name = s.source_name AND l.status = 'succeeded'
                       ORDER BY l.id DESC LIMIT 1) source_refresh
                   WHERE s.view_name = view_is_stale.view_name
                     AND s.source_kind = 'm' AND s.source_schema = 'analytics'
                     AND NOT pg_catalog.pg_visible_in_snapshot(source_refresh.refresh_xid,
                                                               last_success.snapshot))
$$;
COMMENT ON FUNCTION analytics.view_is_stale(text) IS
    'True when the view is not populated, has no successful refresh on record, reads an untracked source, or a source table was written (a source view refreshed) by a transaction its last successful refresh did not see.';
