-- analytics.bought_items_by_brand, version 2 (created in schema analytics).
-- Version 2 reads metabase_inventory_status through its read-through view
-- (analytics_internal.metabase_inventory_status), which a swap of the big
-- view points at the new rows: the swap no longer rebuilds this view in its
-- own transaction; it is refreshed on its own once the big view is.
--
-- Every stock item of metabase_inventory_status, sold or not, added up per
-- brand and business date of its purchase, once per day and once per month (as
-- in sold_items_by_product), and items without a purchase date once per brand
-- (period undated). Grouping makes the grain unique, empty brand and date
-- included (the unique index cannot check those rows: it treats empty values
-- as distinct).

CREATE MATERIALIZED VIEW bought_items_by_brand AS
WITH days AS (
    SELECT (i.purchase_date AT TIME ZONE s.business_time_zone)::date AS purchase_day,
           i.brand_name,
           count(*)                                 AS items_bought,
           count(*) FILTER (WHERE i.times_sold > 0) AS items_sold
    FROM analytics_internal.metabase_inventory_status i
    CROSS JOIN analytics.settings s
    GROUP BY 1, 2
)
SELECT CASE WHEN d.purchase_day IS NULL THEN 'undated' ELSE 'day' END AS period,
       d.purchase_day AS period_start,
       d.brand_name,
       d.items_bought,
       d.items_sold
FROM days d
UNION ALL
SELECT 'month',
       date_trunc('month', CAST(d.purchase_day AS timestamp))::date,
       d.brand_name,
       sum(d.items_bought)::bigint,
       sum(d.items_sold)::bigint
FROM days d
WHERE d.purchase_day IS NOT NULL
GROUP BY 2, 3;

CREATE UNIQUE INDEX bought_items_by_brand_grain
    ON bought_items_by_brand (period, period_start, brand_name);

COMMENT ON MATERIALIZED VIEW bought_items_by_brand IS
    'Stock items (metabase_inventory_status, sold or not) and how many of them have sold, per brand and business day, and per brand and business month, of their purchase, as of its latest refresh (which follows that of metabase_inventory_status). One row per period, its first day and brand.';
COMMENT ON COLUMN bought_items_by_brand.period IS 'day or month: how long the period of the row is; undated for the items without a purchase date.';
COMMENT ON COLUMN bought_items_by_brand.period_start IS 'The business day, or the first day of the business month, of the items'' purchase; empty when undated.';
COMMENT ON COLUMN bought_items_by_brand.brand_name IS 'Brand name; empty when none is set.';
COMMENT ON COLUMN bought_items_by_brand.items_bought IS 'Number of stock items bought.';
COMMENT ON COLUMN bought_items_by_brand.items_sold IS 'Number of those items with at least one completed order.';
