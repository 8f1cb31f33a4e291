-- Undo v1.sql. Swaps already logged are recorded as what they were for
-- readers of the earlier version: full rebuilds.

DROP FUNCTION analytics.refresh_by_swap(text);
DROP FUNCTION analytics.build_shadow(oid, text, text);
DROP SCHEMA analytics_swap;
COMMENT ON FUNCTION analytics.refresh_lock_class() IS
    'First key of the advisory lock that serializes the refreshes of a view; the second is the view''s oid.';
DROP FUNCTION analytics.refresh_lock_key(text);

UPDATE analytics.refresh_log SET method = 'plain' WHERE method = 'swap';
ALTER TABLE analytics.refresh_log
    DROP CONSTRAINT refresh_log_method_check,
    ADD CONSTRAINT refresh_log_method_check CHECK (method IN ('concurrently', 'plain'));
COMMENT ON COLUMN analytics.refresh_log.method IS
    'concurrently (readers never blocked) or plain (first population, or no unique index allows concurrent refresh).';

ALTER TABLE analytics.refresh_settings
    DROP COLUMN swap_min_rows,
    DROP COLUMN swap_lock_timeout,
    DROP COLUMN swap_attempts;
