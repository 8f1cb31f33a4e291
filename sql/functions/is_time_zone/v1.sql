CREATE FUNCTION analytics.is_time_zone(zone text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM now() AT TIME ZONE zone;
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
COMMENT ON FUNCTION analytics.is_time_zone(text) IS
    'True when PostgreSQL knows the time zone name (for example Europe/Berlin).';
