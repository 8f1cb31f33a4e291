-- analytics.replica_safe_refresh, version 1: must the refresh spare hot standbys?
--
-- A standby is a walsender of pg_stat_replication that serves no logical slot,
-- or a physical replication slot (kept for a standby that is away for now, which
-- replays the same locks once it is back).

CREATE FUNCTION analytics.replica_safe_refresh() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE s.replica_safe
               WHEN 'on' THEN true
               WHEN 'off' THEN false
               ELSE EXISTS (SELECT FROM pg_catalog.pg_stat_replication r
                            WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_replication_slots l
                                              WHERE l.active_pid = r.pid
                                                AND l.slot_type = 'logical'))
                    OR EXISTS (SELECT FROM pg_catalog.pg_replication_slots l
                               WHERE l.slot_type = 'physical')
           END
    FROM analytics.refresh_settings s
$$;
COMMENT ON FUNCTION analytics.replica_safe_refresh() IS
    'Whether refreshes avoid locks that hot standbys replay (analytics.refresh_settings.replica_safe; auto: while a standby streams from this server or a physical slot is kept for one). analytics.refresh_view then refreshes big views concurrently instead of by swap.';
