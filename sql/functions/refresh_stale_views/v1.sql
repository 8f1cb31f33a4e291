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
