CREATE FUNCTION analytics.build_shadow(original oid, definition text, definition_path text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    view_name  name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = original);
    owner_name name := (SELECT c.relowner::regrole::name FROM pg_catalog.pg_class c
                        WHERE c.oid = original);
    shadow     oid;
    index      record;
    col        record;
    grant_     record;
    prefix     text;
    storage    text;
BEGIN
    -- The original's storage parameters, and no autovacuum for the inserts: the
    -- rows are written frozen, and a VACUUM running when the next swap comes
    -- would hold it off (autovacuum still cleans up after concurrent refreshes).
    SELECT pg_catalog.string_agg(o.option, ', ') INTO storage
    FROM (SELECT pg_catalog.unnest(c.reloptions) AS option
          FROM pg_catalog.pg_class c WHERE c.oid = original) o
    WHERE o.option NOT LIKE 'autovacuum\_vacuum\_insert\_threshold=%';
    PERFORM pg_catalog.set_config('search_path', definition_path, true);
    EXECUTE pg_catalog.format(
        'CREATE MATERIALIZED VIEW analytics_swap.%I WITH (%s) AS %s WITH NO DATA', view_name,
        pg_catalog.concat_ws(', ', storage, 'autovacuum_vacuum_insert_threshold = -1'),
        definition);
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    shadow := pg_catalog.format('analytics_swap.%I', view_name)::regclass;
    IF owner_name <> current_user THEN
        EXECUTE pg_catalog.format('ALTER MATERIALIZED VIEW analytics_swap.%I OWNER TO %I',
                                  view_name, owner_name);
    END IF;

    -- Indexes before the data: the refresh below builds them all in one go.
    FOR index IN
        SELECT ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
               pg_catalog.obj_description(i.indexrelid, 'pg_class') AS description
        FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = original
    LOOP
        prefix := pg_catalog.format(' ON analytics.%I USING ', view_name);
        IF pg_catalog.strpos(index.definition, prefix) = 0 THEN
            RAISE EXCEPTION 'cannot copy index %: %', index.relname, index.definition;
        END IF;
        EXECUTE pg_catalog.replace(index.definition, prefix,
                                   pg_catalog.format(' ON analytics_swap.%I USING ', view_name));
        EXECUTE pg_catalog.format('COMMENT ON INDEX analytics_swap.%I IS %L',
                                  index.relname, index.description);
    END LOOP;

    -- A plain refresh writes its rows frozen: a reader whose snapshot is older
    -- than this transaction still sees them after the swap, never an empty view.
    EXECUTE pg_catalog.format('REFRESH MATERIALIZED VIEW analytics_swap.%I', view_name);
    EXECUTE pg_catalog.format('ANALYZE analytics_swap.%I', view_name);

    EXECUTE pg_catalog.format('COMMENT ON MATERIALIZED VIEW analytics_swap.%I IS %L', view_name,
                              pg_catalog.obj_description(original, 'pg_class'));
    FOR col IN
        SELECT a.attname, pg_catalog.col_description(original, a.attnum) AS description
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = original AND a.attnum > 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN analytics_swap.%I.%I IS %L',
                                  view_name, col.attname, col.description);
    END LOOP;

    -- Exactly the original's grants: default privileges may have added others.
    FOR grant_ IN
        SELECT DISTINCT a.grantee
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        WHERE c.oid = shadow AND a.grantee <> c.relowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON analytics_swap.%I FROM %s', view_name,
            CASE WHEN grant_.grantee = 0 THEN 'PUBLIC'
                 ELSE pg_catalog.quote_ident(grant_.grantee::regrole::text) END);
    END LOOP;
    FOR grant_ IN
        SELECT a.grantee, a.privilege_type, a.is_grantable
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        WHERE c.oid = original AND a.grantee <> c.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT %s ON analytics_swap.%I TO %s%s', grant_.privilege_type,
            view_name,
            CASE WHEN grant_.grantee = 0 THEN 'PUBLIC'
                 ELSE pg_catalog.quote_ident(grant_.grantee::regrole::text) END,
            CASE WHEN grant_.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.build_shadow(oid, text, text) IS
    'Create materialized view analytics_swap.<name of the original> from the definition (its names resolved with definition_path), populated, with the original''s indexes, statistics, comments, owner and grants.';
