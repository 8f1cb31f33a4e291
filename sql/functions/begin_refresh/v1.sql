-- analytics.begin_refresh, version 1: the start of a refresh, committed by the
-- caller before the refresh itself runs, so that a refresh whose process dies
-- (kill -9 of the client, a terminated session, a server restart) still
-- leaves its entry: analytics.reconcile_refresh_log marks it interrupted.

CREATE OR REPLACE FUNCTION analytics.begin_refresh(view_name text, triggered_by text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry bigint;
BEGIN
    PERFORM analytics.check_refresh_arguments(begin_refresh.view_name, true,
                                              begin_refresh.triggered_by, false, true);
    IF NOT EXISTS (SELECT FROM analytics.managed_views mv
                   WHERE mv.view_name = begin_refresh.view_name) THEN
        PERFORM analytics.matview_oid(begin_refresh.view_name);  -- an unknown name: an error
    END IF;
    -- The view's lock row, committed with the start: a refresh that does not
    -- wait then finds it (were it inserted in the refresh's own transaction,
    -- such a caller would wait for that insert).
    INSERT INTO analytics.refresh_locks AS r (view_name) VALUES (begin_refresh.view_name)
    ON CONFLICT ON CONSTRAINT refresh_locks_pkey DO NOTHING;
    INSERT INTO analytics.refresh_log (view_name, triggered_by, status, started_at, finished_at,
                                       detail)
    VALUES (begin_refresh.view_name, begin_refresh.triggered_by, 'running',
            pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp(),
            'started; analytics.refresh_view completes this entry')
    RETURNING id INTO entry;
    RETURN entry;
END
$$;
COMMENT ON FUNCTION analytics.begin_refresh(text, text) IS
    'Record the start of a refresh of the view by this server process (status running) and return the entry''s id. Commit it, then call analytics.refresh_view in the next transaction of the same session, which completes the entry; should the process die first, the entry becomes interrupted.';
REVOKE EXECUTE ON FUNCTION analytics.begin_refresh(text, text) FROM PUBLIC;
