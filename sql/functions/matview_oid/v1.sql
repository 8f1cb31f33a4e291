CREATE FUNCTION analytics.matview_oid(view_name text) RETURNS oid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found oid;
BEGIN
    SELECT c.oid INTO found
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'analytics' AND c.relkind = 'm' AND c.relname = matview_oid.view_name;
    IF found IS NULL THEN
        RAISE EXCEPTION 'analytics.% is not a materialized view', pg_catalog.quote_ident(view_name)
            USING ERRCODE = 'undefined_table',
                  HINT = 'Known views: ' || coalesce(
                      (SELECT pg_catalog.string_agg(m.matviewname::text, ', ' ORDER BY m.matviewname)
                       FROM pg_catalog.pg_matviews m WHERE m.schemaname = 'analytics'), 'none');
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION analytics.matview_oid(text) IS
    'Oid of a materialized view of schema analytics, by name; an error listing the known views otherwise.';
