-- analytics.wait_for_standbys, version 1: let the hot standbys catch up first.
--
-- A standby's replay waits behind its own queries whenever it replays a lock
-- they conflict with, or the removal of rows their snapshots may still need
-- (pruning after any refresh, vacuum, even the catalog rows of a concurrent
-- refresh's temporary table). Each wait is short, but they add up while the
-- primary keeps writing; once replay is max_standby_streaming_delay (30 s)
-- behind, the next conflict cancels the standby's query at once. Waiting here,
-- before each refresh and swap, until every standby has replayed what this
-- server has written keeps that lag to one refresh's worth.
--
-- pg_stat_replication shows the replay position only to superusers and members
-- of pg_read_all_stats: for the views' owner without either, this cannot tell
-- and returns null at once.

CREATE FUNCTION analytics.wait_for_standbys(timeout interval) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    target   pg_lsn := pg_catalog.pg_current_wal_lsn();
    deadline timestamptz := pg_catalog.clock_timestamp() + timeout;
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') THEN
        RETURN NULL;
    END IF;
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_stat_replication r
                       WHERE (r.replay_lsn IS NULL OR r.replay_lsn < target)
                         AND NOT EXISTS (SELECT FROM pg_catalog.pg_replication_slots l
                                         WHERE l.active_pid = r.pid
                                           AND l.slot_type = 'logical')) THEN
            RETURN true;
        END IF;
        IF pg_catalog.clock_timestamp() >= deadline THEN
            RETURN false;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.01);
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.wait_for_standbys(interval) IS
    'Wait until every hot standby streaming from this server has replayed all it had written when called, at most timeout: true once they have, false if the time ran out, null when the replay positions are not visible to the function''s owner (pg_read_all_stats). Called before each refresh and swap while analytics.replica_safe_refresh() says standbys read the views.';
