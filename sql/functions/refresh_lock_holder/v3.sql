-- analytics.refresh_lock_holder, version 3: the refresh lock is a row of
-- analytics.refresh_locks; its locker's transaction is the row's xmax.

CREATE OR REPLACE FUNCTION analytics.refresh_lock_holder(view_oid oid) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.pid
    FROM pg_catalog.pg_class c
    JOIN analytics.refresh_locks r ON r.view_name = c.relname
    JOIN pg_catalog.pg_locks l
      ON l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
     AND l.transactionid = r.xmax
    WHERE c.oid = view_oid AND c.relnamespace = 'analytics'::pg_catalog.regnamespace
      AND r.xmax <> '0'::xid
    LIMIT 1
$$;
COMMENT ON FUNCTION analytics.refresh_lock_holder(oid) IS
    'Server process refreshing the view right now (holding its row of analytics.refresh_locks), or null.';
REVOKE EXECUTE ON FUNCTION analytics.refresh_lock_holder(oid) FROM PUBLIC;
