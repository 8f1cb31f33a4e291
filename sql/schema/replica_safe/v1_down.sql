-- Undo v1.sql.

DO $$
DECLARE
    view record;
BEGIN
    FOR view IN SELECT m.matviewname FROM pg_catalog.pg_matviews m
                WHERE m.schemaname = 'analytics' ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format(
            'ALTER MATERIALIZED VIEW analytics.%I RESET (vacuum_truncate)', view.matviewname);
    END LOOP;
END
$$;

DROP FUNCTION analytics.wait_for_standbys(interval);
DROP FUNCTION analytics.replica_safe_refresh();
ALTER TABLE analytics.refresh_settings DROP COLUMN standby_wait;
ALTER TABLE analytics.refresh_settings DROP COLUMN replica_safe;
