-- analytics.refresh_view, version 5: as version 4, but no swap while hot
-- standbys read the views (analytics.replica_safe_refresh): a standby replays
-- the swap's ACCESS EXCLUSIVE lock behind its own queries on the view, and
-- queries arriving meanwhile wait; a concurrent refresh takes no lock a
-- standby sees. And it first lets the standbys catch up
-- (analytics.wait_for_standbys), so that their replay never falls far enough
-- behind for a conflict to cancel their queries.
--
-- Version 4: the swap (analytics.refresh_by_swap, version 2) logs the views it
-- rebuilt itself, before it takes its locks.
--
-- Version 3:
-- The refresh lock is a row of analytics.refresh_locks locked FOR UPDATE: only
-- the views' owner may lock it (SELECT ... FOR UPDATE needs UPDATE on the
-- table, which nobody is granted), so whoever holds it is a refresh; unlike
-- an advisory lock, no other login can take it. Everything about the view is
-- read after the lock is taken: a refresh that waited finds the view as the
-- refresh before it left it (a swap gives it a new oid). A populated view with
-- a unique index usable for a concurrent refresh is never refreshed plain
-- unless a plain refresh is asked for. A registered view that does not exist
-- is a failed refresh. The method that ran is logged, also when it failed.

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
    view_oid     oid;
    saved_lock_timeout text := pg_catalog.current_setting('lock_timeout');
    waiting      boolean := false;
    holder       integer;
    holder_entry record;
    method       text;
    why          text;
    snap         pg_snapshot;
    row_count    bigint;
    message      text;
    state        text;
    error_detail text;
    swap         record;
BEGIN
    PERFORM analytics.check_refresh_arguments(view_name, concurrent, triggered_by, only_stale,
                                              wait);
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'analytics.refresh_view needs a READ COMMITTED transaction, not %',
            pg_catalog.upper(pg_catalog.current_setting('transaction_isolation'))
            USING ERRCODE = 'invalid_transaction_state',
                  HINT = 'It must see the view as the refresh it waited for left it.';
    END IF;
    PERFORM analytics.reconcile_refresh_log();
    IF analytics.replica_safe_refresh() THEN
        PERFORM analytics.wait_for_standbys((SELECT s.standby_wait
                                             FROM analytics.refresh_settings s));
    END IF;

    IF pg_catalog.to_regclass(pg_catalog.format('analytics.%I', view_name)) IS NULL
       AND EXISTS (SELECT FROM analytics.managed_views mv
                   WHERE mv.view_name = refresh_view.view_name) THEN
        RETURN analytics.log_refresh(
            view_name, triggered_by, 'failed', NULL, started, NULL,
            pg_catalog.format('analytics.%I is registered but does not exist: run soleflip-analytics '
                              'db check, then re-deploy it', view_name),
            'it was dropped (by hand, or by DROP ... CASCADE on a table or column it reads); '
            'run soleflip-analytics db check to see what else is broken, fix the source, then '
            're-deploy the view (alembic downgrade to the revision before the one that created '
            'it, and upgrade head again)',
            NULL);
    END IF;
    PERFORM analytics.matview_oid(view_name);  -- any other unknown name: an error
    IF NOT EXISTS (SELECT FROM analytics.refresh_locks r
                   WHERE r.view_name = refresh_view.view_name) THEN
        INSERT INTO analytics.refresh_locks (view_name) VALUES (view_name)
        ON CONFLICT ON CONSTRAINT refresh_locks_pkey DO NOTHING;
    END IF;

    BEGIN
        IF wait THEN
            -- Waiting for a running refresh is bounded by statement_timeout
            -- alone; lock_timeout is meant for the view's own lock.
            waiting := true;
            PERFORM pg_catalog.set_config('lock_timeout', '0', true);
            PERFORM FROM analytics.refresh_locks r WHERE r.view_name = refresh_view.view_name
            FOR UPDATE;
            PERFORM pg_catalog.set_config('lock_timeout', saved_lock_timeout, true);
            waiting := false;
            started := pg_catalog.clock_timestamp();
        ELSE
            PERFORM FROM analytics.refresh_locks r WHERE r.view_name = refresh_view.view_name
            FOR UPDATE SKIP LOCKED;
            IF NOT FOUND THEN
                holder := analytics.refresh_lock_holder(analytics.matview_oid(view_name));
                SELECT l.started_at, l.triggered_by, l.database_user INTO holder_entry
                FROM analytics.refresh_log l
                WHERE l.view_name = refresh_view.view_name AND l.status = 'running'
                  AND l.backend_pid = holder
                ORDER BY l.id DESC LIMIT 1;
                RETURN analytics.log_refresh(
                    view_name, triggered_by, 'skipped', NULL, started, NULL, NULL,
                    pg_catalog.format(
                        'server process %s was refreshing the view%s; it refreshes once more '
                        'if this request came after its snapshot',
                        coalesce(holder::text, '?'),
                        CASE WHEN holder_entry.started_at IS NOT NULL THEN
                            pg_catalog.format(' (started %s by %s, %s)', holder_entry.started_at,
                                              holder_entry.database_user,
                                              holder_entry.triggered_by) ELSE '' END),
                    NULL);
            END IF;
        END IF;

        -- Everything about the view from here on, read under the lock.
        view_oid := analytics.matview_oid(view_name);
        snap := pg_catalog.pg_current_snapshot();
        IF only_stale AND NOT analytics.view_is_stale(view_name) THEN
            DELETE FROM analytics.refresh_requests r
            WHERE r.view_name = refresh_view.view_name
              AND pg_catalog.pg_visible_in_snapshot(r.request_xid, snap);
            RETURN analytics.log_refresh(
                view_name, triggered_by, 'up_to_date', NULL, started, NULL, NULL,
                'no source changed since the last successful refresh', NULL);
        END IF;

        IF NOT (SELECT c.relispopulated FROM pg_catalog.pg_class c WHERE c.oid = view_oid) THEN
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
            IF analytics.replica_safe_refresh() THEN
                why := 'replica-safe: no swap while hot standbys read the views '
                       '(analytics.refresh_settings.replica_safe)';
            ELSE
                method := 'swap';  -- logged as such should it be canceled
                SELECT * INTO swap FROM analytics.refresh_by_swap(view_name, triggered_by,
                                                                  started, snap);
                IF swap.row_count IS NULL THEN
                    method := 'concurrently';
                    why := 'the swap gave up (' || swap.detail || '); refreshed concurrently';
                ELSE
                    row_count := swap.row_count;
                    why := swap.detail;
                END IF;
            END IF;
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
                                            coalesce(analytics.refresh_lock_holder(
                                                pg_catalog.to_regclass(pg_catalog.format(
                                                    'analytics.%I', view_name)))::text, '?'))
                END,
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

    DELETE FROM analytics.refresh_requests r
    WHERE r.view_name = refresh_view.view_name
      AND pg_catalog.pg_visible_in_snapshot(r.request_xid, snap);
    RETURN analytics.log_refresh(view_name, triggered_by, 'succeeded', method, started,
                                 row_count, NULL, why, snap);
END
$$;
COMMENT ON FUNCTION analytics.refresh_view(text, boolean, text, boolean, boolean) IS
    'Refresh one materialized view of schema analytics and log it: when it is populated and has a usable unique index, by swap if it has at least analytics.refresh_settings.swap_min_rows rows (concurrently should the swap give up, or while analytics.replica_safe_refresh() says hot standbys read the views), else concurrently; otherwise plain. While replica-safe, it first waits up to analytics.refresh_settings.standby_wait for hot standbys to replay what the server has written (analytics.wait_for_standbys). One refresh of a view at a time, under a row lock of analytics.refresh_locks that only refreshes take (wait for it, or skip when wait is false); everything about the view is read once the lock is held. Only when stale if asked. A registered view that does not exist is a failed refresh. Errors are caught and logged; the view then keeps its previous rows. Returns the log entry, completing the one analytics.begin_refresh recorded. Run it in its own READ COMMITTED transaction with lock_timeout and statement_timeout set.';
