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

\ir ../../functions/schedule_tick/v1.sql

\ir ../../functions/due_tiers/v1.sql

-- ---------------------------------------------------------------------------
-- What the jobs call.

\ir ../../functions/run_scheduled_refreshes/v1.sql

\ir ../../functions/refresh_stale_views/v1.sql
