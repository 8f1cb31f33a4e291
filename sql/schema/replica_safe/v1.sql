-- Refreshes that hot standbys replay without stalling or cancelling their
-- queries. A standby replays every ACCESS EXCLUSIVE lock the primary takes: a
-- swap's DROP of the old view, a plain refresh, vacuum's truncation of a
-- table's empty end. Replay waits behind the standby's queries on that
-- relation (up to max_standby_streaming_delay, then cancels them), and new
-- queries on it queue behind the waiting replay. REFRESH ... CONCURRENTLY
-- takes an EXCLUSIVE lock, which standbys never see.

ALTER TABLE analytics.refresh_settings
    ADD COLUMN replica_safe text NOT NULL DEFAULT 'auto'
        CHECK (replica_safe IN ('auto', 'on', 'off'));
COMMENT ON COLUMN analytics.refresh_settings.replica_safe IS
    'on: big views are refreshed concurrently instead of by swap, so that hot standbys never replay a lock that waits for their queries; off: swaps as usual; auto (the default): on while a standby streams from this server or a physical replication slot is kept for one.';

ALTER TABLE analytics.refresh_settings
    ADD COLUMN standby_wait interval NOT NULL DEFAULT '10 seconds'
        CHECK (standby_wait >= interval '0');
COMMENT ON COLUMN analytics.refresh_settings.standby_wait IS
    'While replica-safe: how long a refresh or a deploy''s swap waits at most for hot standbys to replay what the server has written before it starts (analytics.wait_for_standbys); 0 never waits.';

\ir ../../functions/replica_safe_refresh/v1.sql
REVOKE EXECUTE ON FUNCTION analytics.replica_safe_refresh() FROM PUBLIC;
\ir ../../functions/wait_for_standbys/v1.sql
REVOKE EXECUTE ON FUNCTION analytics.wait_for_standbys(interval) FROM PUBLIC;

-- No truncation by vacuum: it would take an ACCESS EXCLUSIVE lock on the view.
-- A swap keeps the view's storage parameters (analytics.build_shadow).
DO $$
DECLARE
    view record;
BEGIN
    FOR view IN SELECT m.matviewname FROM pg_catalog.pg_matviews m
                WHERE m.schemaname = 'analytics' ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format(
            'ALTER MATERIALIZED VIEW analytics.%I SET (vacuum_truncate = off)', view.matviewname);
    END LOOP;
END
$$;
