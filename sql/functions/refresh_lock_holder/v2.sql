-- analytics.refresh_lock_holder, version 2: the lock keyed by the view's name.

CREATE OR REPLACE FUNCTION analytics.refresh_lock_holder(view_oid oid) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.pid
    FROM pg_catalog.pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                        WHERE d.datname = pg_catalog.current_database())
      AND l.classid = analytics.refresh_lock_class()::oid
      AND l.objid = (SELECT analytics.refresh_lock_key(c.relname)::oid
                     FROM pg_catalog.pg_class c WHERE c.oid = view_oid)
    LIMIT 1
$$;
COMMENT ON FUNCTION analytics.refresh_lock_holder(oid) IS
    'Server process refreshing the view right now, or null.';
