-- A swap gives the view a new oid: the refresh lock is keyed by its name.
CREATE FUNCTION analytics.refresh_lock_key(view_name text) RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.hashtext('analytics.' || view_name)
$$;
COMMENT ON FUNCTION analytics.refresh_lock_key(text) IS
    'Second key of the advisory lock that serializes the refreshes of a view, from its name.';
