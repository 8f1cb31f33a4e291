-- analytics.track_changes, version 2: an UPDATE of the process's row first.

-- SECURITY DEFINER: the shop's writers need no privileges on schema analytics.
-- Each server process writes only its own row: writers never wait for each other.
-- An UPDATE first, as a process writes its row many times and inserts it once:
-- cheaper for the writer than INSERT ... ON CONFLICT, which locks the row
-- before updating it.
CREATE OR REPLACE FUNCTION analytics.track_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE analytics.source_changes c SET last_xid = pg_catalog.pg_current_xact_id()
    WHERE c.table_oid = TG_RELID AND c.backend_pid = pg_catalog.pg_backend_pid()
      AND c.last_xid <> pg_catalog.pg_current_xact_id();
    IF NOT FOUND THEN  -- the first write of this process, or this transaction's again
        INSERT INTO analytics.source_changes (table_oid, backend_pid, last_xid)
        VALUES (TG_RELID, pg_catalog.pg_backend_pid(), pg_catalog.pg_current_xact_id())
        ON CONFLICT (table_oid, backend_pid) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.track_changes() IS
    'Statement trigger of soleflip-analytics on the tables its views read: records the writing transaction for stale-only refreshes.';
