-- Refresh schedules: the package's pg_cron jobs as data, the routines they
-- call, and which refresh tiers are due when.
--
-- pg_cron evaluates schedules in GMT (1.4 has no cron.timezone), so no cron
-- expression can say "02:00 in Europe/Berlin" across daylight-saving changes.
-- Instead one job runs every 15 minutes (a tick) and asks
-- analytics.due_tiers which tiers are due in the business time zone. Every
-- UTC offset in use is a multiple of 15 minutes, so every local :00 falls on
-- a tick.
--
-- Migration 0010 installs the jobs listed in analytics.schedules, wherever
-- pg_cron allows, and records the outcome in the same rows.

-- ---------------------------------------------------------------------------
-- The jobs.

CREATE TABLE analytics.schedules (
    job            text PRIMARY KEY,
    schedule       text NOT NULL,
    command        text NOT NULL,
    runs_in        text NOT NULL CHECK (runs_in IN ('this_database', 'cron_database')),
    description    text NOT NULL,
    installed      boolean NOT NULL DEFAULT false,
    cron_job_name  text,
    cron_database  text,
    cron_username  text,
    reason         text,
    CHECK (NOT installed OR (cron_job_name IS NOT NULL AND cron_database IS NOT NULL
                             AND cron_username IS NOT NULL AND reason IS NULL))
);
COMMENT ON TABLE analytics.schedules IS
    'The pg_cron jobs of soleflip-analytics: what each runs and when, and whether the migrations could install it.';
COMMENT ON COLUMN analytics.schedules.job IS 'Short name; the pg_cron job is named soleflip_analytics:<database>:<job>.';
COMMENT ON COLUMN analytics.schedules.schedule IS 'Cron expression, evaluated by pg_cron in GMT.';
COMMENT ON COLUMN analytics.schedules.command IS 'The one SQL statement the job runs.';
COMMENT ON COLUMN analytics.schedules.runs_in IS
    'this_database: the job runs in the database holding schema analytics; cron_database: in pg_cron''s own database (cron.database_name).';
COMMENT ON COLUMN analytics.schedules.description IS 'What the job is for.';
COMMENT ON COLUMN analytics.schedules.installed IS 'Whether the job was scheduled in pg_cron.';
COMMENT ON COLUMN analytics.schedules.cron_job_name IS 'Name of the job in cron.job, once installed.';
COMMENT ON COLUMN analytics.schedules.cron_database IS 'Database whose cron.job holds the job (cron.database_name).';
COMMENT ON COLUMN analytics.schedules.cron_username IS 'Role that owns the job and runs its command.';
COMMENT ON COLUMN analytics.schedules.reason IS 'Why the job is not installed, and how to fix it.';

INSERT INTO analytics.schedules (job, schedule, command, runs_in, description) VALUES
    ('tiers', '*/15 * * * *', 'CALL analytics.run_scheduled_refreshes()', 'this_database',
     'Every 15 minutes: refreshes the tiers that are due in the business time zone (hourly at :00, '
     'daily at 02:00, weekly on Monday at 03:00), each view concurrently, in dependency order.'),
    ('stale', '7-59/10 * * * *', 'CALL analytics.refresh_stale_views()', 'this_database',
     'Every 10 minutes (at :07, :17, …, apart from the tier job): refreshes the views whose '
     'sources changed since their last refresh.'),
    ('purge', '40 4 * * *',
     'DELETE FROM cron.job_run_details d USING cron.job j WHERE j.jobid = d.jobid '
     'AND starts_with(j.jobname, ''soleflip_analytics:'') '
     'AND d.end_time < now() - interval ''14 days''',
     'cron_database',
     'Daily: deletes the run history (cron.job_run_details) of the package''s jobs older than '
     '14 days; pg_cron itself keeps it forever.');

CREATE TABLE analytics.schedule_state (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_tick        timestamptz,
    created_pg_cron  boolean NOT NULL DEFAULT false
);
INSERT INTO analytics.schedule_state DEFAULT VALUES;
COMMENT ON TABLE analytics.schedule_state IS 'One row: the scheduler''s progress.';
COMMENT ON COLUMN analytics.schedule_state.last_tick IS
    'The latest tick analytics.run_scheduled_refreshes handled: a later run refreshes the tiers due since, so a tick missed while the server was down is caught up once.';
COMMENT ON COLUMN analytics.schedule_state.created_pg_cron IS
    'The migration created extension pg_cron in this database; its downgrade drops it again when no job is left.';

-- ---------------------------------------------------------------------------
-- Which tiers are due.

CREATE FUNCTION analytics.schedule_tick(moment timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.to_timestamp(
        (pg_catalog.floor(EXTRACT(epoch FROM moment) / 900) * 900)::double precision)
$$;
COMMENT ON FUNCTION analytics.schedule_tick(timestamptz) IS
    'The tick (a multiple of 15 minutes since the epoch, in UTC) at or before the moment.';

CREATE FUNCTION analytics.due_tiers(
    tick timestamptz,
    zone text,
    since timestamptz DEFAULT NULL
) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH span AS (
        SELECT coalesce(since, tick - interval '15 minutes') AS after, tick AS upto
    ), wall AS (
        SELECT after, upto,
               after AT TIME ZONE zone AS after_local,
               upto AT TIME ZONE zone AS upto_local
        FROM span
    )
    SELECT ARRAY(
        SELECT tier FROM (
            -- hourly: a local :00 in (after, upto]: a real hour apart, so the
            -- repeated hour of an autumn change runs twice and the skipped
            -- hour of a spring change not at all. Local :00s lie on ticks;
            -- any day holds one, so a longer span need not be searched.
            SELECT 'hourly' AS tier, 1 AS position
            FROM wall
            WHERE EXISTS (
                SELECT FROM pg_catalog.generate_series(
                    analytics.schedule_tick(upto),
                    greatest(after, upto - interval '1 day'),
                    interval '-15 minutes') AS candidate
                WHERE candidate > after
                  AND EXTRACT(minute FROM candidate AT TIME ZONE zone) = 0
                  AND EXTRACT(second FROM candidate AT TIME ZONE zone) = 0)
            UNION ALL
            -- daily: the local wall-clock time passed 02:00 since the last
            -- tick. Once a day: on a spring change without 02:00 at the first
            -- tick after it (03:00), on an autumn change at the first 02:00.
            SELECT 'daily', 2 FROM wall
            WHERE (upto_local - interval '2 hours')::date > (after_local - interval '2 hours')::date
            UNION ALL
            -- weekly: the same for Monday 03:00.
            SELECT 'weekly', 3 FROM wall
            WHERE pg_catalog.date_trunc('week', upto_local - interval '3 hours')
                > pg_catalog.date_trunc('week', after_local - interval '3 hours')
        ) due
        ORDER BY position)
$$;
COMMENT ON FUNCTION analytics.due_tiers(timestamptz, text, timestamptz) IS
    'The refresh tiers due at a tick in a time zone: hourly at each local :00, daily at 02:00, weekly on Monday at 03:00, looking back to since (default: the previous tick, 15 minutes earlier). Daylight-saving changes: hourly follows real hours; daily and weekly run once per local day and week, at 03:00 when a spring change skips 02:00.';

-- ---------------------------------------------------------------------------
-- What the jobs call.

CREATE PROCEDURE analytics.run_scheduled_refreshes(triggered_by text DEFAULT 'cron')
LANGUAGE plpgsql AS $$
-- No SET clause: a procedure with one cannot COMMIT. Every name is qualified.
DECLARE
    tick  timestamptz := analytics.schedule_tick(pg_catalog.now());
    since timestamptz;
    due   text[];
    tier  text;
BEGIN
    -- One run per tick: pg_cron queues a run that falls due while the
    -- previous one still works, and someone may call this by hand.
    SELECT s.last_tick INTO since FROM analytics.schedule_state s FOR UPDATE;
    IF since >= tick THEN
        RETURN;
    END IF;
    due := analytics.due_tiers(tick, (SELECT s.business_time_zone FROM analytics.settings s),
                               since);
    UPDATE analytics.schedule_state SET last_tick = tick;
    COMMIT;
    -- Not only stale: days_in_stock grows without any write.
    FOREACH tier IN ARRAY due LOOP
        CALL analytics.refresh_tier(tier, run_scheduled_refreshes.triggered_by, false);
    END LOOP;
END
$$;
COMMENT ON PROCEDURE analytics.run_scheduled_refreshes(text) IS
    'For pg_cron, every 15 minutes: refresh the tiers due since the last run (analytics.due_tiers in the business time zone), each with analytics.refresh_tier. Call it outside a transaction block.';

CREATE PROCEDURE analytics.refresh_stale_views(triggered_by text DEFAULT 'cron')
LANGUAGE plpgsql AS $$
-- No SET clause: a procedure with one cannot COMMIT. Every name is qualified.
DECLARE
    tier text;
BEGIN
    FOREACH tier IN ARRAY ARRAY['hourly', 'daily', 'weekly'] LOOP
        CALL analytics.refresh_tier(tier, refresh_stale_views.triggered_by, true);
    END LOOP;
END
$$;
COMMENT ON PROCEDURE analytics.refresh_stale_views(text) IS
    'For pg_cron: refresh every registered view whose sources changed since its last refresh, tier by tier. Call it outside a transaction block.';
