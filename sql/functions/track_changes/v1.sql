-- analytics.track_changes, version 1.

-- SECURITY DEFINER: the shop's writers need no privileges on schema analytics.
-- Each server process upserts only its own row: writers never wait for each other.
CREATE OR REPLACE FUNCTION analytics.track_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO analytics.source_changes AS c (table_oid, backend_pid, last_xid)
    VALUES (TG_RELID, pg_catalog.pg_backend_pid(), pg_catalog.pg_current_xact_id())
    ON CONFLICT (table_oid, backend_pid) DO UPDATE SET last_xid = excluded.last_xid
    WHERE c.last_xid <> excluded.last_xid;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.track_changes() IS
    'Statement trigger of soleflip-analytics on the tables its views read: records the writing transaction for stale-only refreshes.';
