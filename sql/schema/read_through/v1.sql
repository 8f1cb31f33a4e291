-- Read-through views: a materialized view built on a big, swapped view reads it
-- through a plain view of the same name in schema analytics_internal, exactly
-- SELECT * of it. A swap points that plain view at the new contents (CREATE OR
-- REPLACE VIEW) and drops the old ones without dropping the views built on it;
-- they are refreshed on their own right after, on either connection, instead
-- of being rebuilt inside the swap's transaction. Metabase's role has no use
-- of this schema.

CREATE SCHEMA analytics_internal;
COMMENT ON SCHEMA analytics_internal IS
    'soleflip-analytics: read-through views (SELECT * of the view of schema analytics of the same name) that the views built on a swapped view read it through.';

CREATE VIEW analytics_internal.metabase_inventory_status AS
    SELECT * FROM analytics.metabase_inventory_status;
COMMENT ON VIEW analytics_internal.metabase_inventory_status IS
    'analytics.metabase_inventory_status, read through: the views built on it read this, which a swap points at the new contents.';
