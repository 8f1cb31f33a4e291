DROP VIEW analytics_internal.metabase_inventory_status;
DROP SCHEMA analytics_internal;
