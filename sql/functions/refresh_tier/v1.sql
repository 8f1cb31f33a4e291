CREATE PROCEDURE analytics.refresh_tier(
    tier text,
    triggered_by text DEFAULT 'cron',
    only_stale boolean DEFAULT false
)
LANGUAGE plpgsql AS $$
-- No SET clause: a procedure with one cannot COMMIT. Every name is qualified.
DECLARE
    target  record;
    outcome analytics.refresh_log;
BEGIN
    IF refresh_tier.tier IS NULL OR refresh_tier.tier NOT IN ('hourly', 'daily', 'weekly') THEN
        RAISE EXCEPTION 'unknown refresh tier %', pg_catalog.quote_literal(refresh_tier.tier)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Tiers: hourly, daily, weekly.';
    END IF;
    FOR target IN
        SELECT o.view_name
        FROM analytics.refresh_order o
        JOIN analytics.managed_views m ON m.view_name = o.view_name
        WHERE m.tier = refresh_tier.tier
        ORDER BY o.level, o.view_name
    LOOP
        outcome := analytics.refresh_view(target.view_name, true, refresh_tier.triggered_by,
                                          refresh_tier.only_stale, true);
        COMMIT;
        WHILE outcome.status IN ('succeeded', 'up_to_date')
              AND analytics.has_refresh_request(target.view_name) LOOP
            outcome := analytics.refresh_view(target.view_name, true, refresh_tier.triggered_by,
                                              true, false);
            COMMIT;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE analytics.refresh_tier(text, text, boolean) IS
    'Refresh the views of one tier (hourly, daily, weekly) in dependency order, each in its own transaction, for pg_cron: CALL analytics.refresh_tier(''hourly'').';
