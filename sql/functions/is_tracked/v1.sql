CREATE FUNCTION analytics.is_tracked(relation oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN c.relkind = 'm' THEN n.nspname = 'analytics'
                WHEN c.relkind IN ('r', 'p') THEN
                    EXISTS (SELECT FROM pg_catalog.pg_trigger t
                            WHERE t.tgrelid = c.oid
                              AND t.tgname = 'soleflip_analytics_track_changes'
                              AND t.tgenabled <> 'D')
                ELSE false
           END
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = relation
$$;
COMMENT ON FUNCTION analytics.is_tracked(oid) IS
    'True when changes to the relation are recorded: a table with an enabled trigger soleflip_analytics_track_changes (in analytics.source_changes), or a materialized view of schema analytics (its refreshes, in analytics.refresh_log).';
