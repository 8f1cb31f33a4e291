-- analytics.sold_items_by_price_band, version 2 (created in schema analytics).
-- Version 2 reads metabase_inventory_status through its read-through view
-- (analytics_internal.metabase_inventory_status), which a swap of the big
-- view points at the new rows: the swap no longer rebuilds this view in its
-- own transaction; it is refreshed on its own once the big view is.
--
-- The sold items of metabase_inventory_status added up per brand, sale-price
-- band and business date of their latest completed sale, once per day and
-- once per month (as in sold_items_by_product). Grouping makes the grain
-- unique, empty brand included (the unique index cannot check those rows: it
-- treats empty values as distinct).

CREATE MATERIALIZED VIEW sold_items_by_price_band AS
WITH days AS (
    SELECT (i.last_sold_at AT TIME ZONE s.business_time_zone)::date AS sale_date,
           i.brand_name,
           least(floor(i.total_revenue / i.times_sold / 50), 10)::integer AS price_band,
           count(*)                  AS items_sold,
           sum(i.times_sold)::bigint AS units_sold
    FROM analytics_internal.metabase_inventory_status i
    CROSS JOIN analytics.settings s
    WHERE i.times_sold > 0
    GROUP BY 1, 2, 3
)
SELECT 'day'::text AS period,
       d.sale_date AS period_start,
       d.brand_name,
       d.price_band,
       d.items_sold,
       d.units_sold
FROM days d
UNION ALL
SELECT 'month'::text,
       date_trunc('month', CAST(d.sale_date AS timestamp))::date,
       d.brand_name,
       d.price_band,
       sum(d.items_sold)::bigint,
       sum(d.units_sold)::bigint
FROM days d
GROUP BY 2, 3, 4;

CREATE UNIQUE INDEX sold_items_by_price_band_grain
    ON sold_items_by_price_band (period, period_start, brand_name, price_band);

COMMENT ON MATERIALIZED VIEW sold_items_by_price_band IS
    'Sold stock items (metabase_inventory_status with times_sold above 0) per brand and sale-price band, per business day and per business month of their latest completed sale, as of its latest refresh (which follows that of metabase_inventory_status). One row per period, its first day, brand and price band.';
COMMENT ON COLUMN sold_items_by_price_band.period IS 'day or month: how long the period of the row is.';
COMMENT ON COLUMN sold_items_by_price_band.period_start IS 'The business day, or the first day of the business month, of the items'' latest completed sale.';
COMMENT ON COLUMN sold_items_by_price_band.brand_name IS 'Brand name; empty when none is set.';
COMMENT ON COLUMN sold_items_by_price_band.price_band IS 'Sale-price band of 50: an item''s average sale price (total_revenue / times_sold) divided by 50, rounded down, at most 10 (500 and more).';
COMMENT ON COLUMN sold_items_by_price_band.items_sold IS 'Number of sold stock items.';
COMMENT ON COLUMN sold_items_by_price_band.units_sold IS 'Completed orders of those items (their times_sold added up).';
