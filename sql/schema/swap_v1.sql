-- Refresh by swap: a big view's new contents are built beside the old ones and
-- swapped in within a moment, instead of REFRESH ... CONCURRENTLY comparing
-- every old row with every new one. Readers keep reading the old rows until
-- the swap, and wait at most a lock timeout for it; when the swap cannot get
-- its lock, it gives up and the view is refreshed concurrently after all.

ALTER TABLE analytics.refresh_settings
    ADD COLUMN swap_min_rows bigint NOT NULL DEFAULT 100000 CHECK (swap_min_rows >= 0),
    ADD COLUMN swap_lock_timeout interval NOT NULL DEFAULT '50 milliseconds'
        CHECK (swap_lock_timeout > interval '0'),
    ADD COLUMN swap_attempts integer NOT NULL DEFAULT 10 CHECK (swap_attempts > 0);
COMMENT ON COLUMN analytics.refresh_settings.swap_min_rows IS
    'A view with at least this many rows is refreshed by building its new contents beside the old and swapping them in (method swap); smaller views concurrently.';
COMMENT ON COLUMN analytics.refresh_settings.swap_lock_timeout IS
    'How long the swap may wait for the view''s readers; a dashboard query waits at most this long behind it.';
COMMENT ON COLUMN analytics.refresh_settings.swap_attempts IS
    'How often the swap tries for its lock, pausing between tries, before the view is refreshed concurrently instead.';

ALTER TABLE analytics.refresh_log
    DROP CONSTRAINT refresh_log_method_check,
    ADD CONSTRAINT refresh_log_method_check CHECK (method IN ('concurrently', 'plain', 'swap'));
COMMENT ON COLUMN analytics.refresh_log.method IS
    'concurrently or swap (readers never blocked; swap: the new contents were built beside the old and swapped in), or plain (first population, or no unique index allows concurrent refresh).';

-- A swap gives the view a new oid: the refresh lock is keyed by its name.
CREATE FUNCTION analytics.refresh_lock_key(view_name text) RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.hashtext('analytics.' || view_name)
$$;
COMMENT ON FUNCTION analytics.refresh_lock_key(text) IS
    'Second key of the advisory lock that serializes the refreshes of a view, from its name.';
COMMENT ON FUNCTION analytics.refresh_lock_class() IS
    'First key of the advisory lock that serializes the refreshes of a view; the second is analytics.refresh_lock_key(view name).';

-- New contents are built here under the view's own name, then moved into
-- schema analytics. Nobody but the owner uses it; it is empty between refreshes.
CREATE SCHEMA analytics_swap;
COMMENT ON SCHEMA analytics_swap IS
    'soleflip-analytics builds the new contents of big views here before swapping them into schema analytics; empty between refreshes.';

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

CREATE FUNCTION analytics.refresh_by_swap(
    view_name text,
    OUT row_count bigint,
    OUT detail text,
    OUT rebuilt text[],
    OUT rebuilt_rows bigint[]
)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    original    oid := analytics.matview_oid(view_name);
    settings    analytics.refresh_settings := (SELECT s FROM analytics.refresh_settings s);
    saved_lock_timeout text := pg_catalog.current_setting('lock_timeout');
    dependent   record;
    dependents  text[] := '{}';
    definitions text[] := '{}';
    unqualified text;
    dependent_rows bigint;
    swapped     boolean := false;
    message     text;
BEGIN
    -- Materialized views of this schema that read the view are rebuilt with it,
    -- from their definitions with names resolved in analytics_swap first;
    -- anything else reading it would be dropped with it: no swap then.
    FOR dependent IN
        SELECT DISTINCT c.oid, c.relname::text AS relname,
               c.relkind = 'm' AND c.relnamespace = 'analytics'::regnamespace
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend dd
                               JOIN pg_catalog.pg_rewrite rr ON rr.oid = dd.objid
                               WHERE dd.classid = 'pg_catalog.pg_rewrite'::regclass
                                 AND dd.refclassid = 'pg_catalog.pg_class'::regclass
                                 AND dd.refobjid = c.oid AND rr.ev_class <> c.oid) AS rebuildable
        FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
        JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
        WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
          AND d.refclassid = 'pg_catalog.pg_class'::regclass
          AND d.refobjid = original AND r.ev_class <> original
        ORDER BY 2
    LOOP
        IF NOT dependent.rebuildable THEN
            detail := pg_catalog.format('%s reads it', dependent.oid::regclass);
            RETURN;
        END IF;
        dependents := dependents || dependent.relname;
    END LOOP;

    BEGIN
        PERFORM analytics.build_shadow(original, pg_catalog.rtrim(pg_catalog.pg_get_viewdef(original), ';'),
                                       'pg_catalog, pg_temp');
        EXECUTE pg_catalog.format('SELECT count(*) FROM analytics_swap.%I', view_name)
            INTO row_count;
        FOR i IN 1 .. pg_catalog.cardinality(dependents) LOOP
            definitions := definitions
                || pg_catalog.pg_get_viewdef(analytics.matview_oid(dependents[i]));
            -- Printed with analytics on the path, its names are unqualified there.
            PERFORM pg_catalog.set_config('search_path', 'analytics, pg_catalog, pg_temp', true);
            unqualified := pg_catalog.rtrim(
                pg_catalog.pg_get_viewdef(analytics.matview_oid(dependents[i])), ';');
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            PERFORM analytics.build_shadow(analytics.matview_oid(dependents[i]), unqualified,
                                           'analytics_swap, analytics, pg_catalog, pg_temp');
            EXECUTE pg_catalog.format('SELECT count(*) FROM analytics_swap.%I', dependents[i])
                INTO dependent_rows;
            rebuilt_rows := rebuilt_rows || dependent_rows;
        END LOOP;

        -- The swap: drop the old contents as soon as no reader holds them. A
        -- reader arriving meanwhile queues behind this lock request, so it is
        -- short, and between tries the queue drains.
        FOR attempt IN 1 .. settings.swap_attempts LOOP
            BEGIN
                PERFORM pg_catalog.set_config('lock_timeout',
                    (extract(epoch FROM settings.swap_lock_timeout) * 1000)::bigint || 'ms', true);
                FOR i IN 1 .. pg_catalog.cardinality(dependents) LOOP
                    EXECUTE pg_catalog.format('DROP MATERIALIZED VIEW analytics.%I', dependents[i]);
                END LOOP;
                EXECUTE pg_catalog.format('DROP MATERIALIZED VIEW analytics.%I', view_name);
                PERFORM pg_catalog.set_config('lock_timeout', saved_lock_timeout, true);
                swapped := true;
                EXIT;
            EXCEPTION WHEN lock_not_available THEN
                PERFORM pg_catalog.pg_sleep(least(0.1 * attempt, 1));
            END;
        END LOOP;
        IF NOT swapped THEN
            RAISE EXCEPTION 'readers held the view through % tries of %', settings.swap_attempts,
                settings.swap_lock_timeout USING ERRCODE = 'lock_not_available';
        END IF;
        EXECUTE pg_catalog.format('ALTER MATERIALIZED VIEW analytics_swap.%I SET SCHEMA analytics',
                                  view_name);
        FOR i IN 1 .. pg_catalog.cardinality(dependents) LOOP
            EXECUTE pg_catalog.format('ALTER MATERIALIZED VIEW analytics_swap.%I SET SCHEMA analytics',
                                      dependents[i]);
            IF pg_catalog.pg_get_viewdef(analytics.matview_oid(dependents[i])) <> definitions[i] THEN
                RAISE EXCEPTION 'rebuilt % differs from its definition', dependents[i];
            END IF;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        -- Everything since BEGIN is undone: the old contents stay, no shadow is left.
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
        row_count := NULL;
        rebuilt_rows := NULL;
        detail := message;
        RETURN;
    END;
    rebuilt := dependents;
    detail := 'built beside the old rows and swapped in'
              || CASE WHEN pg_catalog.cardinality(dependents) > 0
                      THEN ', with ' || pg_catalog.array_to_string(dependents, ', ') ELSE '' END;
END
$$;
COMMENT ON FUNCTION analytics.refresh_by_swap(text) IS
    'Build the view''s new contents in schema analytics_swap (with the materialized views of schema analytics that read it) and swap them in under a short lock timeout, retried. Returns the new row count (and the views rebuilt with it and theirs), or null and why it gave up (then nothing changed). Called by analytics.refresh_view in the refresh''s transaction.';

REVOKE EXECUTE ON FUNCTION analytics.build_shadow(oid, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.refresh_by_swap(text) FROM PUBLIC;
