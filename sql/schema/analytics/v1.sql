-- The analytics schema and the package's own bookkeeping: the business time
-- zone the views compute calendar columns in, and the registry of the views
-- the migrations manage (version and refresh tier of each).

CREATE SCHEMA analytics;
COMMENT ON SCHEMA analytics IS
    'Materialized views for Metabase dashboards, managed by soleflip-analytics migrations.';

\ir ../../functions/is_time_zone/v1.sql

CREATE TABLE analytics.settings (
    singleton           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    business_time_zone  text NOT NULL DEFAULT 'Europe/Berlin'
                        CHECK (analytics.is_time_zone(business_time_zone))
);
INSERT INTO analytics.settings DEFAULT VALUES;
-- Statistics, which autovacuum never gathers for one row: without them the
-- planner takes the views' join with this row for a join with 1,330 rows.
ANALYZE analytics.settings;

\ir ../../functions/keep_settings_row/v1.sql
CREATE TRIGGER keep_settings_row BEFORE DELETE OR TRUNCATE ON analytics.settings
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.keep_settings_row();
COMMENT ON TABLE analytics.settings IS
    'One row of package settings. Every view reads it at refresh time.';
COMMENT ON COLUMN analytics.settings.business_time_zone IS
    'Time zone of the business calendar: sale dates, weeks, months. Takes effect at the next refresh.';

CREATE TABLE analytics.managed_views (
    view_name  text PRIMARY KEY,
    version    integer NOT NULL CHECK (version > 0),
    tier       text NOT NULL CHECK (tier IN ('hourly', 'daily', 'weekly'))
);
COMMENT ON TABLE analytics.managed_views IS
    'The materialized views the migrations created: which SQL file version is deployed, and how often it is refreshed.';
COMMENT ON COLUMN analytics.managed_views.view_name IS 'Materialized view in schema analytics.';
COMMENT ON COLUMN analytics.managed_views.version IS 'Deployed version: sql/views/<view_name>/v<version>.sql.';
COMMENT ON COLUMN analytics.managed_views.tier IS 'Refresh schedule: hourly, daily or weekly.';
