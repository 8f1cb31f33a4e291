-- analytics.view_is_stale, version 2: the view's sources looked up once, and
-- PL/pgSQL, so that a session checking one view after another plans the query
-- once (a SQL function with a SET clause is planned at every call). A view
-- rebuilt by the swap of a view it reads is up to date with it.

CREATE OR REPLACE FUNCTION analytics.view_is_stale(view_name text) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN (WITH last_success AS MATERIALIZED (
        SELECT l.snapshot, l.refresh_xid
        FROM analytics.refresh_log l
        WHERE l.view_name = view_is_stale.view_name AND l.status = 'succeeded'
        ORDER BY l.id DESC
        LIMIT 1
    ),
    sources AS MATERIALIZED (
        SELECT s.source_oid, s.source_schema, s.source_name, s.source_kind, s.tracked
        FROM analytics.view_sources s
        WHERE s.view_name = view_is_stale.view_name
    )
    SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_matviews m
                       WHERE m.schemaname = 'analytics' AND m.matviewname = view_is_stale.view_name
                         AND m.ispopulated)
        OR NOT EXISTS (SELECT FROM last_success)
        OR EXISTS (SELECT FROM sources s WHERE NOT s.tracked)
        OR EXISTS (SELECT FROM sources s
                   JOIN analytics.source_changes c ON c.table_oid = s.source_oid
                   CROSS JOIN last_success
                   WHERE NOT pg_catalog.pg_visible_in_snapshot(c.last_xid, last_success.snapshot))
        OR EXISTS (SELECT FROM sources s
                   CROSS JOIN last_success
                   CROSS JOIN LATERAL (
                       SELECT l.refresh_xid FROM analytics.refresh_log l
                       WHERE l.view_name = s.source_name AND l.status = 'succeeded'
                       ORDER BY l.id DESC LIMIT 1) source_refresh
                   WHERE s.source_kind = 'm' AND s.source_schema = 'analytics'
                     -- rebuilt in the same transaction as its source (a swap)
                     AND source_refresh.refresh_xid <> last_success.refresh_xid
                     AND NOT pg_catalog.pg_visible_in_snapshot(source_refresh.refresh_xid,
                                                               last_success.snapshot)));
END
$$;
COMMENT ON FUNCTION analytics.view_is_stale(text) IS
    'True when the view is not populated, has no successful refresh on record, reads an untracked source, or a source table was written (a source view refreshed) by a transaction its last successful refresh did not see.';
