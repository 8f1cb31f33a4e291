CREATE FUNCTION analytics.request_refresh(view_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO analytics.refresh_requests AS r (view_name, request_xid, requested_at)
    VALUES (view_name, pg_catalog.pg_current_xact_id(), pg_catalog.now())
    ON CONFLICT ON CONSTRAINT refresh_requests_pkey
    DO UPDATE SET request_xid = excluded.request_xid, requested_at = excluded.requested_at
$$;
COMMENT ON FUNCTION analytics.request_refresh(text) IS
    'Ask for a refresh of the view. Commit it before trying the view''s refresh lock without waiting: whoever holds the lock then sees the request when it finishes.';
