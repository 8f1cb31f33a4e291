-- Undo v1.sql (after migration 0010 removed the pg_cron jobs).

DROP PROCEDURE analytics.refresh_stale_views(text);
DROP PROCEDURE analytics.run_scheduled_refreshes(text);
DROP FUNCTION analytics.due_tiers(timestamptz, text, timestamptz);
DROP FUNCTION analytics.schedule_tick(timestamptz);
DROP TABLE analytics.schedule_state;
DROP TABLE analytics.schedules;
