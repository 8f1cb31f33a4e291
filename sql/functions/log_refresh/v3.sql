-- analytics.log_refresh, version 3: an entry that only says nothing changed
-- (up_to_date) is committed without waiting for the disk. A crash may lose it,
-- and with it nothing: the view's sources decide whether it is stale. Each
-- refresh with only_stale writes one such entry per view, and a wait for the
-- disk per entry was most of its time.
--
-- Version 2: a refresh whose start was recorded (analytics.begin_refresh,
-- status running) has that entry completed.

CREATE OR REPLACE FUNCTION analytics.log_refresh(
    view_name text,
    triggered_by text,
    status text,
    method text,
    started_at timestamptz,
    row_count bigint,
    error text,
    detail text,
    snapshot pg_snapshot
) RETURNS analytics.refresh_log
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    entry analytics.refresh_log;
BEGIN
    UPDATE analytics.refresh_log l
    SET triggered_by = $2, status = $3, method = $4, started_at = $5,
        finished_at = pg_catalog.clock_timestamp(), row_count = $6, error = $7, detail = $8,
        snapshot = $9,
        refresh_xid = CASE WHEN $3 = 'succeeded' THEN pg_catalog.pg_current_xact_id() END
    WHERE l.id = (SELECT k.id FROM analytics.refresh_log k
                  WHERE k.view_name = $1 AND k.status = 'running'
                    AND k.backend_pid = pg_catalog.pg_backend_pid()
                  ORDER BY k.id DESC LIMIT 1)
    RETURNING * INTO entry;
    IF NOT FOUND THEN
        INSERT INTO analytics.refresh_log
            (view_name, triggered_by, status, method, started_at, finished_at,
             row_count, error, detail, snapshot, refresh_xid)
        VALUES ($1, $2, $3, $4, $5, pg_catalog.clock_timestamp(), $6, $7, $8, $9,
                CASE WHEN $3 = 'succeeded' THEN pg_catalog.pg_current_xact_id() END)
        RETURNING * INTO entry;
    END IF;
    PERFORM analytics.prune_refresh_bookkeeping($1);
    IF $3 = 'up_to_date' THEN
        PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
    END IF;
    RETURN entry;
END
$$;
COMMENT ON FUNCTION analytics.log_refresh(text, text, text, text, timestamptz, bigint, text, text, pg_snapshot) IS
    'Write the outcome of one refresh to analytics.refresh_log (finished now; a success with its transaction): into the running entry this server process recorded for the view with analytics.begin_refresh, else a new entry. Prunes the log. An up_to_date entry is committed without waiting for the disk (synchronous_commit off for its transaction).';
