CREATE FUNCTION analytics.schedule_tick(moment timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.to_timestamp(
        (pg_catalog.floor(EXTRACT(epoch FROM moment) / 900) * 900)::double precision)
$$;
COMMENT ON FUNCTION analytics.schedule_tick(timestamptz) IS
    'The tick (a multiple of 15 minutes since the epoch, in UTC) at or before the moment.';
