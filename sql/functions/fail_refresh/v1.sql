-- analytics.fail_refresh, version 1: a refresh that failed outside
-- analytics.refresh_view (its transaction was lost) completes its entry.

CREATE OR REPLACE FUNCTION analytics.fail_refresh(entry_id bigint, error text, detail text)
RETURNS analytics.refresh_log
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry analytics.refresh_log;
BEGIN
    IF fail_refresh.error IS NULL OR fail_refresh.error = '' THEN
        RAISE EXCEPTION 'fail_refresh needs the error' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE analytics.refresh_log l
    SET status = 'failed', finished_at = pg_catalog.clock_timestamp(),
        error = fail_refresh.error, detail = fail_refresh.detail
    WHERE l.id = fail_refresh.entry_id
      -- never the entry of a refresh that still runs in another process
      AND (l.status = 'interrupted'
           OR (l.status = 'running'
               AND (l.backend_pid = pg_catalog.pg_backend_pid()
                    OR NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a
                                   WHERE a.pid = l.backend_pid))))
    RETURNING * INTO entry;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refresh log entry % is not a refresh that ended unfinished', entry_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN entry;
END
$$;
COMMENT ON FUNCTION analytics.fail_refresh(bigint, text, text) IS
    'Complete the entry of a refresh (from analytics.begin_refresh) that failed outside analytics.refresh_view, say on a lost connection: status failed with the error. Only for an entry still running in this process, or whose process is gone.';
REVOKE EXECUTE ON FUNCTION analytics.fail_refresh(bigint, text, text) FROM PUBLIC;
