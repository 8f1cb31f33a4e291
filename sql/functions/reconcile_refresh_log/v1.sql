-- analytics.reconcile_refresh_log, version 1: entries of refreshes whose server
-- process is gone become interrupted.

CREATE OR REPLACE FUNCTION analytics.reconcile_refresh_log() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    marked integer;
BEGIN
    WITH gone AS (
        SELECT l.id FROM analytics.refresh_log l
        WHERE l.status = 'running'
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a
                          WHERE a.pid = l.backend_pid
                            -- a new process with the same pid started later
                            AND (a.backend_start IS NULL OR a.backend_start <= l.started_at))
        FOR UPDATE SKIP LOCKED
    )
    UPDATE analytics.refresh_log l
    SET status = 'interrupted',
        finished_at = pg_catalog.clock_timestamp(),
        detail = pg_catalog.format(
            'server process %s of %s ended before the refresh finished (its client was killed, '
            'the session terminated or the server restarted); the view kept its previous rows; '
            'finished_at is when this was noticed', l.backend_pid, l.database_user)
    FROM gone
    WHERE l.id = gone.id;
    GET DIAGNOSTICS marked = ROW_COUNT;
    RETURN marked;
END
$$;
COMMENT ON FUNCTION analytics.reconcile_refresh_log() IS
    'Mark as interrupted every running entry of analytics.refresh_log whose server process has ended; returns how many. Called by every refresh and by status.';
REVOKE EXECUTE ON FUNCTION analytics.reconcile_refresh_log() FROM PUBLIC;
