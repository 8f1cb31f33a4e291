CREATE FUNCTION analytics.sources_have_rows(view_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    source   record;
    has_rows boolean;
    seen     boolean := false;
BEGIN
    PERFORM analytics.matview_oid(sources_have_rows.view_name);
    FOR source IN
        SELECT DISTINCT s.source_schema, s.source_name
        FROM analytics.view_sources s
        WHERE s.view_name = sources_have_rows.view_name
    LOOP
        EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM %I.%I)',
                                  source.source_schema, source.source_name)
            INTO has_rows;
        IF NOT has_rows THEN
            RETURN false;
        END IF;
        seen := true;
    END LOOP;
    RETURN seen;
END
$$;
