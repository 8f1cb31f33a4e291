CREATE FUNCTION analytics.refresh_lock_class() RETURNS integer
LANGUAGE sql IMMUTABLE AS 'SELECT 1399614017';
COMMENT ON FUNCTION analytics.refresh_lock_class() IS
    'First key of the advisory lock that serializes the refreshes of a view; the second is the view''s oid.';
