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
