-- analytics.refresh_tier, version 2: the start of each refresh is committed
-- first (analytics.begin_refresh), so that an interrupted one stays on record.

CREATE OR REPLACE PROCEDURE analytics.refresh_tier(
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
        RAISE EXCEPTION 'unknown refresh tier %', pg_catalog.quote_nullable(refresh_tier.tier)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Tiers: hourly, daily, weekly.';
    END IF;
    PERFORM analytics.check_refresh_arguments('', true, refresh_tier.triggered_by,
                                              refresh_tier.only_stale, true);
    FOR target IN
        -- Registered views that no longer exist too: each is a failed refresh.
        SELECT m.view_name
        FROM analytics.managed_views m
        LEFT JOIN analytics.refresh_order o ON o.view_name = m.view_name
        WHERE m.tier = refresh_tier.tier
        ORDER BY o.level NULLS FIRST, m.view_name
    LOOP
        PERFORM analytics.begin_refresh(target.view_name, refresh_tier.triggered_by);
        COMMIT;
        outcome := analytics.refresh_view(target.view_name, true, refresh_tier.triggered_by,
                                          refresh_tier.only_stale, true);
        COMMIT;
        WHILE outcome.status IN ('succeeded', 'up_to_date')
              AND analytics.has_refresh_request(target.view_name) LOOP
            PERFORM analytics.begin_refresh(target.view_name, refresh_tier.triggered_by);
            COMMIT;
            outcome := analytics.refresh_view(target.view_name, true, refresh_tier.triggered_by,
                                              true, false);
            COMMIT;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE analytics.refresh_tier(text, text, boolean) IS
    'Refresh the views of one tier (hourly, daily, weekly) in dependency order, each in its own transaction after its start is committed, for pg_cron: CALL analytics.refresh_tier(''hourly''). A registered view that does not exist is logged as a failed refresh.';
REVOKE EXECUTE ON PROCEDURE analytics.refresh_tier(text, text, boolean) FROM PUBLIC;
