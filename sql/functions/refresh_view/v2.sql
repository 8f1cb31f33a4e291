-- analytics.refresh_view, version 2: big views refreshed by swap
-- (analytics.refresh_by_swap), the refresh lock keyed by the view's name.

CREATE OR REPLACE FUNCTION analytics.refresh_view(
    view_name text,
    concurrent boolean DEFAULT true,
    triggered_by text DEFAULT 'manual',
    only_stale boolean DEFAULT false,
    wait boolean DEFAULT true
) RETURNS analytics.refresh_log
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    started      timestamptz := pg_catalog.clock_timestamp();
    view_oid     oid := analytics.matview_oid(view_name);
    saved_lock_timeout text := pg_catalog.current_setting('lock_timeout');
    waiting      boolean := false;
    method       text;
    why          text;
    snap         pg_snapshot;
    row_count    bigint;
    message      text;
    state        text;
    error_detail text;
    swap         record;
BEGIN
    BEGIN
        IF wait THEN
            -- Waiting for a running refresh is bounded by statement_timeout
            -- alone; lock_timeout is meant for the view's own lock.
            waiting := true;
            PERFORM pg_catalog.set_config('lock_timeout', '0', true);
            PERFORM pg_catalog.pg_advisory_xact_lock(analytics.refresh_lock_class(),
                                                     analytics.refresh_lock_key(view_name));
            PERFORM pg_catalog.set_config('lock_timeout', saved_lock_timeout, true);
            waiting := false;
            started := pg_catalog.clock_timestamp();
        ELSIF NOT pg_catalog.pg_try_advisory_xact_lock(analytics.refresh_lock_class(),
                                                        analytics.refresh_lock_key(view_name)) THEN
            RETURN analytics.log_refresh(
                view_name, triggered_by, 'skipped', NULL, started, NULL, NULL,
                pg_catalog.format('server process %s was refreshing the view; it refreshes once more '
                                  'if this request came after its snapshot',
                                  coalesce(analytics.refresh_lock_holder(view_oid)::text, '?')),
                NULL);
        END IF;

        snap := pg_catalog.pg_current_snapshot();
        IF only_stale AND NOT analytics.view_is_stale(view_name) THEN
            DELETE FROM analytics.refresh_requests r
            WHERE r.view_name = refresh_view.view_name
              AND pg_catalog.pg_visible_in_snapshot(r.request_xid, snap);
            RETURN analytics.log_refresh(
                view_name, triggered_by, 'up_to_date', NULL, started, NULL, NULL,
                'no source changed since the last successful refresh', NULL);
        END IF;

        IF NOT EXISTS (SELECT FROM pg_catalog.pg_matviews m
                       WHERE m.schemaname = 'analytics' AND m.matviewname = refresh_view.view_name
                         AND m.ispopulated) THEN
            why := 'first population: the view was not populated';
        ELSIF NOT EXISTS (SELECT FROM pg_catalog.pg_index i
                          WHERE i.indrelid = view_oid
                            AND analytics.allows_concurrent_refresh(i.indexrelid)) THEN
            why := 'no unique index on plain columns without WHERE allows a concurrent refresh';
        ELSIF NOT concurrent THEN
            why := 'a plain refresh was asked for';
        END IF;
        method := CASE WHEN why IS NULL THEN 'concurrently' ELSE 'plain' END;

        IF method = 'concurrently'
           AND (SELECT greatest(c.reltuples, 0) FROM pg_catalog.pg_class c
                WHERE c.oid = view_oid)
               >= (SELECT s.swap_min_rows FROM analytics.refresh_settings s) THEN
            SELECT * INTO swap FROM analytics.refresh_by_swap(view_name);
            IF swap.row_count IS NOT NULL THEN
                method := 'swap';
                row_count := swap.row_count;
            END IF;
            why := CASE WHEN swap.row_count IS NOT NULL THEN swap.detail
                              ELSE 'the swap gave up (' || swap.detail || '); refreshed concurrently' END;
        END IF;
        IF method <> 'swap' THEN
            EXECUTE pg_catalog.format('REFRESH MATERIALIZED VIEW %s %I.%I',
                                      CASE WHEN method = 'concurrently' THEN 'CONCURRENTLY' ELSE '' END,
                                      'analytics', view_name);
            EXECUTE pg_catalog.format('SELECT count(*) FROM %I.%I', 'analytics', view_name)
                INTO row_count;
        END IF;
    EXCEPTION WHEN query_canceled OR OTHERS THEN
        -- The refresh is rolled back: the view keeps its previous rows.
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, state = RETURNED_SQLSTATE,
                                error_detail = PG_EXCEPTION_DETAIL;
        RETURN analytics.log_refresh(
            view_name, triggered_by, 'failed', method, started, NULL, message,
            pg_catalog.concat_ws('; ',
                'SQLSTATE ' || state,
                nullif(error_detail, ''),
                CASE WHEN waiting
                     THEN pg_catalog.format('while waiting for the refresh of server process %s',
                                            coalesce(analytics.refresh_lock_holder(view_oid)::text,
                                                     '?')) END,
                CASE
                    WHEN state = '57014' THEN 'canceled: the statement timeout was reached or the '
                                              'query was canceled; raise the statement timeout or '
                                              'find out what the view''s query waits for '
                                              '(pg_stat_activity)'
                    WHEN state = '55P03' THEN 'lock timeout: another session holds a lock on the '
                                              'view (a long query, a plain refresh or DDL; see '
                                              'pg_locks and pg_stat_activity); retry, or raise '
                                              'the lock timeout'
                    WHEN state IN ('21000', '23505') THEN 'the view''s query returned duplicate '
                                                          'rows for its unique index: fix the '
                                                          'view''s grain'
                END),
            NULL);
    END;

    IF method = 'swap' THEN
        -- The views rebuilt with it were refreshed too.
        FOR i IN 1 .. pg_catalog.cardinality(swap.rebuilt) LOOP
            DELETE FROM analytics.refresh_requests r
            WHERE r.view_name = swap.rebuilt[i]
              AND pg_catalog.pg_visible_in_snapshot(r.request_xid, snap);
            PERFORM analytics.log_refresh(swap.rebuilt[i], triggered_by, 'succeeded', 'swap',
                                          started, swap.rebuilt_rows[i], NULL,
                                          pg_catalog.format('rebuilt with %s', view_name), snap);
        END LOOP;
    END IF;
    DELETE FROM analytics.refresh_requests r
    WHERE r.view_name = refresh_view.view_name
      AND pg_catalog.pg_visible_in_snapshot(r.request_xid, snap);
    RETURN analytics.log_refresh(view_name, triggered_by, 'succeeded', method, started,
                                 row_count, NULL, why, snap);
END
$$;
COMMENT ON FUNCTION analytics.refresh_view(text, boolean, text, boolean, boolean) IS
    'Refresh one materialized view of schema analytics and log it: when it is populated and has a usable unique index, by swap if it has at least analytics.refresh_settings.swap_min_rows rows (concurrently should the swap give up), else concurrently; otherwise plain; one refresh of a view at a time (wait for it, or skip when wait is false); only when stale if asked. Errors are caught and logged; the view then keeps its previous rows. Returns the log entry. Run it in its own transaction with lock_timeout and statement_timeout set.';
