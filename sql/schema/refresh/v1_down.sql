-- Undo v1.sql: first the triggers soleflip-analytics put on the
-- tables its views read, then its own objects.

DO $$
DECLARE
    tracked record;
BEGIN
    FOR tracked IN
        SELECT n.nspname, c.relname
        FROM pg_catalog.pg_trigger t
        JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE t.tgname = 'soleflip_analytics_track_changes'
          AND t.tgfoid = 'analytics.track_changes()'::pg_catalog.regprocedure
    LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER soleflip_analytics_track_changes ON %I.%I',
                                  tracked.nspname, tracked.relname);
    END LOOP;
END
$$;

DROP VIEW analytics.view_freshness;
DROP PROCEDURE analytics.refresh_tier(text, text, boolean);
DROP FUNCTION analytics.refresh_view(text, boolean, text, boolean, boolean);
DROP FUNCTION analytics.refresh_lock_holder(oid);
DROP FUNCTION analytics.refresh_lock_class();
DROP FUNCTION analytics.has_refresh_request(text);
DROP FUNCTION analytics.request_refresh(text);
DROP FUNCTION analytics.log_refresh(text, text, text, text, timestamptz, bigint, text, text, pg_snapshot);
DROP FUNCTION analytics.prune_refresh_bookkeeping(text);
DROP FUNCTION analytics.view_is_stale(text);
DROP FUNCTION analytics.track_source_tables();
DROP FUNCTION analytics.track_changes();
DROP FUNCTION analytics.allows_concurrent_refresh(oid);
DROP FUNCTION analytics.matview_oid(text);
DROP VIEW analytics.refresh_order;
DROP VIEW analytics.view_sources;
DROP FUNCTION analytics.is_tracked(oid);
DROP TABLE analytics.refresh_requests;
DROP TABLE analytics.source_changes;
DROP TABLE analytics.refresh_log;
DROP TABLE analytics.refresh_settings;
