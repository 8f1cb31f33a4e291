-- analytics.log_up_to_date, version 1: a view none of whose sources changed
-- since its last successful refresh, and for which no refresh was requested,
-- is logged up_to_date at once, without its refresh lock: nothing is refreshed,
-- so no start entry is committed first and a refresh of the view running
-- meanwhile is not waited for (the view is up to date with its sources either
-- way). The library asks this first for every view of an only_stale refresh;
-- it refreshes the views for which it returns no row. SECURITY DEFINER, like
-- analytics.refresh_view: the refresher role writes no log entry itself.

CREATE FUNCTION analytics.log_up_to_date(view_name text, triggered_by text)
RETURNS SETOF analytics.refresh_log
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM analytics.check_refresh_arguments(log_up_to_date.view_name, true,
                                              log_up_to_date.triggered_by, true, true);
    IF NOT EXISTS (SELECT FROM analytics.managed_views mv
                   WHERE mv.view_name = log_up_to_date.view_name) THEN
        PERFORM analytics.matview_oid(log_up_to_date.view_name);  -- an unknown name: an error
    END IF;
    IF analytics.view_is_stale(log_up_to_date.view_name)
       OR analytics.has_refresh_request(log_up_to_date.view_name) THEN
        RETURN;
    END IF;
    RETURN NEXT analytics.log_refresh(
        log_up_to_date.view_name, log_up_to_date.triggered_by, 'up_to_date', NULL,
        pg_catalog.clock_timestamp(), NULL, NULL,
        'no source changed since the last successful refresh', NULL);
END
$$;
COMMENT ON FUNCTION analytics.log_up_to_date(text, text) IS
    'When no source of the view changed since its last successful refresh and no refresh of it was requested: log it up_to_date (committed without waiting for the disk) and return the entry, without taking its refresh lock; otherwise return no row and log nothing.';
REVOKE EXECUTE ON FUNCTION analytics.log_up_to_date(text, text) FROM PUBLIC;
