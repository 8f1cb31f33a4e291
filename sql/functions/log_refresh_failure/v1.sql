CREATE FUNCTION analytics.log_refresh_failure(
    view_name text,
    triggered_by text,
    started_at timestamptz,
    error text,
    detail text
) RETURNS analytics.refresh_log
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM analytics.matview_oid(log_refresh_failure.view_name);
    RETURN analytics.log_refresh(log_refresh_failure.view_name, log_refresh_failure.triggered_by,
                                 'failed', NULL, log_refresh_failure.started_at, NULL,
                                 log_refresh_failure.error, log_refresh_failure.detail, NULL);
END
$$;
