-- analytics.check_time_zone, version 1: IANA time zone names only.
--
-- PostgreSQL also takes POSIX zone strings such as '+05' or 'UTC+3', and reads
-- their offsets as hours WEST of Greenwich: '+05' is UTC-5. Written by someone
-- who meant UTC+5, they move every order to the wrong business date. So only
-- the names of pg_timezone_names are allowed, and an offset gets a message
-- that names the zone that was probably meant.

CREATE OR REPLACE FUNCTION analytics.check_time_zone(zone text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    parts     text[];
    hours     integer;
    amount    text;
    east      boolean;
    canonical text;
BEGIN
    IF zone IS NULL OR EXISTS (SELECT FROM pg_catalog.pg_timezone_names t WHERE t.name = zone) THEN
        RETURN true;
    END IF;
    parts := pg_catalog.regexp_match(zone,
        '^\s*(?:UTC|GMT|UT|Z)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*$', 'i');
    IF parts IS NOT NULL THEN
        hours := parts[2]::integer;
        amount := hours || CASE WHEN coalesce(parts[3], '00') <> '00' THEN ':' || parts[3]
                                ELSE '' END;
        east := parts[1] = '+';  -- what the writer most likely meant: ISO 8601's sign
        RAISE EXCEPTION 'business_time_zone % is a POSIX offset, not an IANA time zone name',
                pg_catalog.quote_literal(zone)
            USING ERRCODE = 'check_violation',
                  DETAIL = pg_catalog.format(
                      'PostgreSQL reads POSIX offsets with the sign reversed (hours west of '
                      'Greenwich): %L means UTC%s%s, not UTC%s%s.', zone,
                      CASE WHEN east THEN '-' ELSE '+' END, amount, parts[1], amount),
                  HINT = CASE
                      WHEN coalesce(parts[3], '00') <> '00' OR hours > 14 THEN
                          'Use the IANA name of the business''s city, such as Asia/Kolkata or '
                          'Europe/Berlin (it also follows daylight saving time).'
                      ELSE pg_catalog.format(
                          'For UTC%s%s use Etc/GMT%s%s: the Etc/GMT zones keep the POSIX sign, '
                          'so Etc/GMT-5 is five hours EAST of Greenwich. Better still, use the '
                          'business''s city, such as Europe/Berlin, which also follows daylight '
                          'saving time.', parts[1], hours,
                          CASE WHEN east THEN '-' ELSE '+' END, hours)
                  END;
    END IF;
    SELECT t.name INTO canonical FROM pg_catalog.pg_timezone_names t
    WHERE pg_catalog.lower(t.name) = pg_catalog.lower(zone)
    ORDER BY t.name LIMIT 1;
    RAISE EXCEPTION 'business_time_zone % is not an IANA time zone name',
            pg_catalog.quote_literal(zone)
        USING ERRCODE = 'check_violation',
              HINT = CASE WHEN canonical IS NOT NULL
                          THEN pg_catalog.format('Write it as %s.', canonical)
                          ELSE 'Use a name of pg_timezone_names, such as Europe/Berlin or '
                               'America/New_York.' END;
END
$$;
COMMENT ON FUNCTION analytics.check_time_zone(text) IS
    'True for an IANA time zone name (pg_timezone_names); otherwise an error saying why, with the name to use (a POSIX offset such as ''+05'' means UTC-5 to PostgreSQL: for UTC+5 use Etc/GMT-5).';
-- PUBLIC keeps EXECUTE: the CHECK on analytics.settings runs it as whoever writes the row.
