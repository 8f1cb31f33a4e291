-- analytics.sold_items_by_product, version 2 (created in schema analytics).
-- Version 2 reads metabase_inventory_status through its read-through view
-- (analytics_internal.metabase_inventory_status), which a swap of the big
-- view points at the new rows: the swap no longer rebuilds this view in its
-- own transaction; it is refreshed on its own once the big view is.
--
-- The sold items of metabase_inventory_status added up per product and
-- business date of their latest completed sale, once per day and once per
-- month: a period of whole months reads the month rows, the days before its
-- first and after its last whole month read day rows. One row per (period,
-- period_start, product_id).

CREATE MATERIALIZED VIEW sold_items_by_product AS
WITH days AS (
    SELECT (i.last_sold_at AT TIME ZONE s.business_time_zone)::date AS sale_date,
           i.product_id,
           i.product_name,
           i.sku,
           i.brand_name,
           i.category_name,
           count(*)                  AS items_sold,
           sum(i.times_sold)::bigint AS units_sold,
           sum(i.total_revenue)      AS revenue,
           sum(i.total_profit)       AS profit
    FROM analytics_internal.metabase_inventory_status i
    CROSS JOIN analytics.settings s
    WHERE i.times_sold > 0
    GROUP BY 1, i.product_id, i.product_name, i.sku, i.brand_name, i.category_name
)
SELECT 'day'::text AS period,
       d.sale_date AS period_start,
       d.product_id,
       d.product_name,
       d.sku,
       d.brand_name,
       d.category_name,
       d.items_sold,
       d.units_sold,
       d.revenue,
       d.profit
FROM days d
UNION ALL
SELECT 'month'::text,
       date_trunc('month', CAST(d.sale_date AS timestamp))::date,
       d.product_id,
       d.product_name,
       d.sku,
       d.brand_name,
       d.category_name,
       sum(d.items_sold)::bigint,
       sum(d.units_sold)::bigint,
       sum(d.revenue),
       sum(d.profit)
FROM days d
GROUP BY 2, d.product_id, d.product_name, d.sku, d.brand_name, d.category_name;

CREATE UNIQUE INDEX sold_items_by_product_grain
    ON sold_items_by_product (period, period_start, product_id);

COMMENT ON MATERIALIZED VIEW sold_items_by_product IS
    'Sold stock items (metabase_inventory_status with times_sold above 0) per product and business day, and per product and business month, of their latest completed sale, as of its latest refresh (which follows that of metabase_inventory_status). One row per period, its first day and product.';
COMMENT ON COLUMN sold_items_by_product.period IS 'day or month: how long the period of the row is.';
COMMENT ON COLUMN sold_items_by_product.period_start IS 'The business day, or the first day of the business month, of the items'' latest completed sale.';
COMMENT ON COLUMN sold_items_by_product.product_id IS 'The product the items are.';
COMMENT ON COLUMN sold_items_by_product.product_name IS 'Product name.';
COMMENT ON COLUMN sold_items_by_product.sku IS 'Product SKU (style code).';
COMMENT ON COLUMN sold_items_by_product.brand_name IS 'Brand name; empty when none is set.';
COMMENT ON COLUMN sold_items_by_product.category_name IS 'Category name; empty when none is set.';
COMMENT ON COLUMN sold_items_by_product.items_sold IS 'Number of sold stock items.';
COMMENT ON COLUMN sold_items_by_product.units_sold IS 'Completed orders of those items (their times_sold added up).';
COMMENT ON COLUMN sold_items_by_product.revenue IS 'What buyers paid for those items, all their completed orders (their total_revenue added up).';
COMMENT ON COLUMN sold_items_by_product.profit IS 'Net profit on those items, all their completed orders (their total_profit added up).';
