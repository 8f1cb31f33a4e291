CREATE FUNCTION analytics.prune_refresh_bookkeeping(view_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    -- Log entries of the view past the retention period or beyond its newest
    -- N; never its latest success, which staleness and "data as of" rest on.
    DELETE FROM analytics.refresh_log l
    WHERE l.view_name = prune_refresh_bookkeeping.view_name
      AND (l.finished_at < pg_catalog.now() - (SELECT s.log_retention
                                               FROM analytics.refresh_settings s)
           OR l.id <= (SELECT k.id FROM analytics.refresh_log k
                       WHERE k.view_name = prune_refresh_bookkeeping.view_name
                       ORDER BY k.id DESC
                       OFFSET (SELECT s.log_max_entries_per_view
                               FROM analytics.refresh_settings s)
                       LIMIT 1))
      AND l.id <> coalesce((SELECT max(k.id) FROM analytics.refresh_log k
                            WHERE k.view_name = prune_refresh_bookkeeping.view_name
                              AND k.status = 'succeeded'), 0);

    -- Entries of views that no longer exist, past the retention period.
    DELETE FROM analytics.refresh_log l
    WHERE l.finished_at < pg_catalog.now() - (SELECT s.log_retention
                                              FROM analytics.refresh_settings s)
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_matviews m
                      WHERE m.schemaname = 'analytics' AND m.matviewname = l.view_name);

    -- Change records of server processes that have ended, once the latest
    -- successful refresh of every view saw them: they can no longer make any
    -- view stale (later refreshes take later snapshots).
    DELETE FROM analytics.source_changes c
    WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a WHERE a.pid = c.backend_pid)
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_matviews m
          WHERE m.schemaname = 'analytics'
            AND NOT coalesce(pg_catalog.pg_visible_in_snapshot(c.last_xid, (
                    SELECT l.snapshot FROM analytics.refresh_log l
                    WHERE l.view_name = m.matviewname AND l.status = 'succeeded'
                    ORDER BY l.id DESC LIMIT 1)), false));
$$;
COMMENT ON FUNCTION analytics.prune_refresh_bookkeeping(text) IS
    'Delete old log entries (see analytics.refresh_settings) and change records that can no longer matter.';
