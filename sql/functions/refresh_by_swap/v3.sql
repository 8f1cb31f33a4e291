-- analytics.refresh_by_swap, version 3: a read-through view of the swapped
-- view (analytics_internal.<its name>, SELECT * of it; revision 0020) is
-- pointed at the new contents under the swap's locks, so the views built on it
-- keep their rows and are refreshed on their own afterwards, instead of being
-- rebuilt in this transaction. Materialized views reading the view directly
-- are still rebuilt with it.
--
-- Version 2 holds the swap's ACCESS EXCLUSIVE locks for less, and takes them
-- in an order a hot standby can replay without blocking more readers than it
-- must:
-- - the log entries of the views rebuilt with it (and the deletion of their
--   refresh requests) are written before the old contents are dropped, not
--   between the drop and the commit; hence the refresh's start, trigger and
--   snapshot as arguments;
-- - the swapped view itself is locked first, its dependents only after it
--   (LOCK TABLE does not take materialized views; ALTER ... OWNER TO the owner
--   it has takes the same ACCESS EXCLUSIVE lock and changes nothing). A standby replays the locks in this order: while its replay
--   waits for a long query on the big view, it holds no lock on the small
--   views built on it, so their readers are not queued behind it.

CREATE OR REPLACE FUNCTION analytics.refresh_by_swap(
    view_name text,
    triggered_by text,
    started timestamptz,
    snap pg_snapshot,
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
    read_through text;  -- its definition, while the view has a read-through view
    dependent_rows bigint;
    swapped     boolean := false;
    message     text;
BEGIN
    -- Materialized views of this schema that read the view are rebuilt with it,
    -- from their definitions with names resolved in analytics_swap first; its
    -- read-through view is pointed at the new contents; anything else reading
    -- it would be dropped with it: no swap then.
    FOR dependent IN
        SELECT DISTINCT c.oid, c.relname::text AS relname,
               c.relkind = 'v' AND c.relnamespace = 'analytics_internal'::regnamespace
               AND c.relname = view_name AS read_through,
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
        IF dependent.read_through THEN
            read_through := pg_catalog.pg_get_viewdef(dependent.oid);
            CONTINUE;
        END IF;
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

        -- The views rebuilt with it were refreshed too: on record before the
        -- locks (undone with everything else should the swap give up).
        FOR i IN 1 .. pg_catalog.cardinality(dependents) LOOP
            DELETE FROM analytics.refresh_requests r
            WHERE r.view_name = dependents[i]
              AND pg_catalog.pg_visible_in_snapshot(r.request_xid, snap);
            PERFORM analytics.log_refresh(dependents[i], triggered_by, 'succeeded', 'swap',
                                          started, rebuilt_rows[i], NULL,
                                          pg_catalog.format('rebuilt with %s', view_name), snap);
        END LOOP;

        -- The swap: drop the old contents as soon as no reader holds them. A
        -- reader arriving meanwhile queues behind this lock request, so it is
        -- short, and between tries the queue drains. The view first, then the
        -- views built on it.
        FOR attempt IN 1 .. settings.swap_attempts LOOP
            BEGIN
                PERFORM pg_catalog.set_config('lock_timeout',
                    (extract(epoch FROM settings.swap_lock_timeout) * 1000)::bigint || 'ms', true);
                EXECUTE pg_catalog.format('ALTER MATERIALIZED VIEW analytics.%I OWNER TO %I',
                    view_name, (SELECT c.relowner::regrole::name FROM pg_catalog.pg_class c
                                WHERE c.oid = original));
                IF read_through IS NOT NULL THEN
                    EXECUTE pg_catalog.format(
                        'CREATE OR REPLACE VIEW analytics_internal.%I AS SELECT * FROM analytics_swap.%I',
                        view_name, view_name);
                END IF;
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
        IF read_through IS NOT NULL AND pg_catalog.pg_get_viewdef(
               pg_catalog.format('analytics_internal.%I', view_name)::regclass) <> read_through THEN
            RAISE EXCEPTION 'the read-through view of % differs from its definition', view_name;
        END IF;
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
                      THEN ', with ' || pg_catalog.array_to_string(dependents, ', ') ELSE '' END
              || CASE WHEN read_through IS NOT NULL
                      THEN pg_catalog.format(', analytics_internal.%I pointed at them', view_name)
                      ELSE '' END;
END
$$;
COMMENT ON FUNCTION analytics.refresh_by_swap(text, text, timestamptz, pg_snapshot) IS
    'Build the view''s new contents in schema analytics_swap (with the materialized views of schema analytics that read it) and swap them in, its read-through view analytics_internal.<name> pointed at them, under a short lock timeout, retried: the view locked first, then the views built on it, whose refreshes are logged (with the given trigger, start and snapshot) before the locks. Returns the new row count (and the views rebuilt with it and theirs), or null and why it gave up (then nothing changed, nothing logged). Called by analytics.refresh_view in the refresh''s transaction.';
