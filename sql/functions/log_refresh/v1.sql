CREATE FUNCTION analytics.log_refresh(
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
    INSERT INTO analytics.refresh_log
        (view_name, triggered_by, status, method, started_at, finished_at,
         row_count, error, detail, snapshot, refresh_xid)
    VALUES ($1, $2, $3, $4, $5, pg_catalog.clock_timestamp(), $6, $7, $8, $9,
            CASE WHEN $3 = 'succeeded' THEN pg_catalog.pg_current_xact_id() END)
    RETURNING * INTO entry;
    PERFORM analytics.prune_refresh_bookkeeping($1);
    RETURN entry;
END
$$;
COMMENT ON FUNCTION analytics.log_refresh(text, text, text, text, timestamptz, bigint, text, text, pg_snapshot) IS
    'Write one entry to analytics.refresh_log (finished now; a success with its transaction) and prune the log.';
