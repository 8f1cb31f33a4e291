CREATE FUNCTION analytics.track_source_tables() RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    source record;
BEGIN
    FOR source IN
        SELECT DISTINCT s.source_oid, s.source_schema, s.source_name
        FROM analytics.view_sources s
        WHERE s.source_kind IN ('r', 'p') AND NOT s.tracked
        ORDER BY s.source_schema, s.source_name
    LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_trigger t
                   WHERE t.tgrelid = source.source_oid
                     AND t.tgname = 'soleflip_analytics_track_changes') THEN
            -- present but disabled: someone turned it off on purpose
            RETURN NEXT pg_catalog.format('%I.%I', source.source_schema, source.source_name);
        -- Ownership, not only the TRIGGER privilege: the downgrade must be able
        -- to drop the trigger again.
        ELSIF pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                      WHERE c.oid = source.source_oid), 'USAGE') THEN
            EXECUTE pg_catalog.format(
                'CREATE TRIGGER soleflip_analytics_track_changes '
                'AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I.%I '
                'FOR EACH STATEMENT EXECUTE FUNCTION analytics.track_changes()',
                source.source_schema, source.source_name);
        ELSE
            RAISE WARNING 'soleflip-analytics cannot track changes to %.%: the deploying role does not own it',
                source.source_schema, source.source_name
                USING HINT = 'Views reading it count as always stale. Run the migrations as a member of the table''s owner role and upgrade again.';
            RETURN NEXT pg_catalog.format('%I.%I', source.source_schema, source.source_name);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.track_source_tables() IS
    'Put trigger soleflip_analytics_track_changes on every table a view of schema analytics reads and that lacks it; returns the tables left untracked (not owned by the current role, or the trigger disabled).';
