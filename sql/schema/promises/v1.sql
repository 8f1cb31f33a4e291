-- What revision 0016 adds to the refresh bookkeeping: a refresh lock only
-- refreshes can take, the start of every refresh on record, IANA time zones
-- only, and no routine of the package executable by PUBLIC but the time zone
-- checks (which the CHECK on analytics.settings runs as whoever writes it).

-- ---------------------------------------------------------------------------
-- The refresh lock: one row per view, locked FOR UPDATE by analytics.refresh_view.
-- Locking a row takes UPDATE on the table, which nobody is granted: only the
-- owner, that is the SECURITY DEFINER refresh, can hold it. (An advisory lock
-- can be taken by any login, a read-only one too.)

CREATE TABLE analytics.refresh_locks (
    view_name text PRIMARY KEY
);
COMMENT ON TABLE analytics.refresh_locks IS
    'One row per view of schema analytics: analytics.refresh_view locks it FOR UPDATE while it refreshes the view, so that one refresh of a view runs at a time. Only the owner may lock it.';
COMMENT ON COLUMN analytics.refresh_locks.view_name IS 'Materialized view in schema analytics.';
INSERT INTO analytics.refresh_locks (view_name)
SELECT m.matviewname FROM pg_catalog.pg_matviews m WHERE m.schemaname = 'analytics';

-- ---------------------------------------------------------------------------
-- The start of a refresh, committed first (analytics.begin_refresh).

ALTER TABLE analytics.refresh_log
    DROP CONSTRAINT refresh_log_status_check,
    ADD CONSTRAINT refresh_log_status_check
        CHECK (status IN ('succeeded', 'failed', 'skipped', 'up_to_date', 'running',
                          'interrupted'));
CREATE INDEX refresh_log_running ON analytics.refresh_log (view_name, backend_pid)
    WHERE status = 'running';
COMMENT ON COLUMN analytics.refresh_log.status IS
    'succeeded; failed (the view kept its previous rows); skipped (a refresh of the view was already running and took over the request); up_to_date (only stale views were asked for and no source changed); running (started, not finished yet); interrupted (its server process ended before it finished: the view kept its previous rows).';

-- ---------------------------------------------------------------------------
-- IANA time zone names only: '+05' means UTC-5 to PostgreSQL.

ALTER TABLE analytics.settings
    DROP CONSTRAINT settings_business_time_zone_check,
    ADD CONSTRAINT settings_business_time_zone_check
        CHECK (analytics.check_time_zone(business_time_zone));

-- ---------------------------------------------------------------------------
-- No routine for PUBLIC but the time zone checks. The package's roles are
-- granted what they need by the migration.

REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA analytics FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.is_time_zone(text), analytics.check_time_zone(text)
    TO PUBLIC;
