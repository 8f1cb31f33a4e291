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
