-- The views join this row; without it they would refresh empty.
CREATE FUNCTION analytics.keep_settings_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION 'analytics.settings must keep its one row: UPDATE it instead of deleting it';
END
$$;
