CREATE FUNCTION analytics.has_refresh_request(view_name text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM analytics.refresh_requests r
                   WHERE r.view_name = has_refresh_request.view_name)
$$;
COMMENT ON FUNCTION analytics.has_refresh_request(text) IS
    'True when a refresh of the view was asked for after the snapshot of its latest refresh: refresh it once more (stale only).';
