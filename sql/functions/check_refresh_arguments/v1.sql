-- analytics.check_refresh_arguments, version 1: the arguments of a refresh,
-- checked before anything runs.

CREATE OR REPLACE FUNCTION analytics.check_refresh_arguments(
    view_name text, concurrent boolean, triggered_by text, only_stale boolean, wait boolean
) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF view_name IS NULL OR concurrent IS NULL OR triggered_by IS NULL OR only_stale IS NULL
       OR wait IS NULL THEN
        RAISE EXCEPTION 'refresh arguments must not be null: view_name %, concurrent %, '
                        'triggered_by %, only_stale %, wait %',
            pg_catalog.quote_nullable(view_name), pg_catalog.quote_nullable(concurrent),
            pg_catalog.quote_nullable(triggered_by), pg_catalog.quote_nullable(only_stale),
            pg_catalog.quote_nullable(wait)
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF triggered_by !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'triggered_by % is not allowed', pg_catalog.quote_literal(triggered_by)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use 1 to 63 lower-case letters, digits and underscores, starting with '
                         'a letter, such as manual, event, cron or cli.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.check_refresh_arguments(text, boolean, text, boolean, boolean) IS
    'An error unless the arguments of analytics.refresh_view are usable (none null, triggered_by a lower-case word); run before any work.';
REVOKE EXECUTE ON FUNCTION analytics.check_refresh_arguments(text, boolean, text, boolean, boolean)
    FROM PUBLIC;
