-- Refresh by swap: a big view's new contents are built beside the old ones and
-- swapped in within a moment, instead of REFRESH ... CONCURRENTLY comparing
-- every old row with every new one. Readers keep reading the old rows until
-- the swap, and wait at most a lock timeout for it; when the swap cannot get
-- its lock, it gives up and the view is refreshed concurrently after all.

ALTER TABLE analytics.refresh_settings
    ADD COLUMN swap_min_rows bigint NOT NULL DEFAULT 100000 CHECK (swap_min_rows >= 0),
    ADD COLUMN swap_lock_timeout interval NOT NULL DEFAULT '50 milliseconds'
        CHECK (swap_lock_timeout > interval '0'),
    ADD COLUMN swap_attempts integer NOT NULL DEFAULT 10 CHECK (swap_attempts > 0);
COMMENT ON COLUMN analytics.refresh_settings.swap_min_rows IS
    'A view with at least this many rows is refreshed by building its new contents beside the old and swapping them in (method swap); smaller views concurrently.';
COMMENT ON COLUMN analytics.refresh_settings.swap_lock_timeout IS
    'How long the swap may wait for the view''s readers; a dashboard query waits at most this long behind it.';
COMMENT ON COLUMN analytics.refresh_settings.swap_attempts IS
    'How often the swap tries for its lock, pausing between tries, before the view is refreshed concurrently instead.';

ALTER TABLE analytics.refresh_log
    DROP CONSTRAINT refresh_log_method_check,
    ADD CONSTRAINT refresh_log_method_check CHECK (method IN ('concurrently', 'plain', 'swap'));
COMMENT ON COLUMN analytics.refresh_log.method IS
    'concurrently or swap (readers never blocked; swap: the new contents were built beside the old and swapped in), or plain (first population, or no unique index allows concurrent refresh).';

\ir ../../functions/refresh_lock_key/v1.sql
COMMENT ON FUNCTION analytics.refresh_lock_class() IS
    'First key of the advisory lock that serializes the refreshes of a view; the second is analytics.refresh_lock_key(view name).';

-- New contents are built here under the view's own name, then moved into
-- schema analytics. Nobody but the owner uses it; it is empty between refreshes.
CREATE SCHEMA analytics_swap;
COMMENT ON SCHEMA analytics_swap IS
    'soleflip-analytics builds the new contents of big views here before swapping them into schema analytics; empty between refreshes.';

\ir ../../functions/build_shadow/v1.sql

\ir ../../functions/refresh_by_swap/v1.sql

REVOKE EXECUTE ON FUNCTION analytics.build_shadow(oid, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.refresh_by_swap(text) FROM PUBLIC;
