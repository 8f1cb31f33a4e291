-- Undo promises_v1.sql (the migration has put the previous routines back).

GRANT EXECUTE ON FUNCTION
    analytics.keep_settings_row(), analytics.track_changes(), analytics.view_is_stale(text),
    analytics.refresh_lock_holder(oid), analytics.is_tracked(oid), analytics.matview_oid(text),
    analytics.allows_concurrent_refresh(oid), analytics.track_source_tables(),
    analytics.prune_refresh_bookkeeping(text),
    analytics.log_refresh(text, text, text, text, timestamptz, bigint, text, text, pg_snapshot),
    analytics.has_refresh_request(text), analytics.refresh_lock_class(),
    analytics.relation_oid(text, name[]), analytics.refresh_lock_key(text),
    analytics.schedule_tick(timestamptz), analytics.due_tiers(timestamptz, text, timestamptz)
    TO PUBLIC;
GRANT EXECUTE ON PROCEDURE
    analytics.refresh_tier(text, text, boolean), analytics.run_scheduled_refreshes(text),
    analytics.refresh_stale_views(text)
    TO PUBLIC;

ALTER TABLE analytics.settings
    DROP CONSTRAINT settings_business_time_zone_check,
    ADD CONSTRAINT settings_business_time_zone_check
        CHECK (analytics.is_time_zone(business_time_zone));

-- The old log knows no unfinished refreshes: they count as failed there.
UPDATE analytics.refresh_log
SET status = 'failed', error = coalesce(error, 'interrupted: ' || detail)
WHERE status IN ('running', 'interrupted');
DROP INDEX analytics.refresh_log_running;
ALTER TABLE analytics.refresh_log
    DROP CONSTRAINT refresh_log_status_check,
    ADD CONSTRAINT refresh_log_status_check
        CHECK (status IN ('succeeded', 'failed', 'skipped', 'up_to_date'));
COMMENT ON COLUMN analytics.refresh_log.status IS
    'succeeded; failed (the view kept its previous rows); skipped (a refresh of the view was already running and took over the request); up_to_date (only stale views were asked for and no source changed).';

DROP TABLE analytics.refresh_locks;
