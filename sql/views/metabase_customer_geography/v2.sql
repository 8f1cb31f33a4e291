-- analytics.metabase_customer_geography, version 2 (created in schema analytics).
-- One row per buyer destination (country, city) of completed orders with a
-- country; a missing city is reported as 'Unknown'.
--
-- Version 2: same contents as version 1, cheaper to refresh. Version 1
-- materialised every sale with its product and brand and sorted it on disk by
-- country and city for a group aggregate with several count(DISTINCT ...).
-- Version 2 sums the orders per (destination, platform) by hash aggregation
-- (averages are sum / count, exactly as avg() computes them), takes the
-- distinct products and months from one pass of hashed grouping sets over the
-- orders with their stock items, and joins platforms and products (for names
-- and brands) to those few thousand rows afterwards. Every order has its stock
-- item and product (foreign keys), so summing the orders without joining them
-- counts the same orders. The business time zone is read by a scalar subquery
-- (see metabase_executive_metrics v2).

CREATE MATERIALIZED VIEW metabase_customer_geography AS
WITH per_destination_platform AS (
    SELECT o.buyer_destination_country AS country,
           coalesce(o.buyer_destination_city, 'Unknown') AS city,
           o.platform_id,
           count(*)               AS orders,
           count(o.gross_sale)    AS gross_sale_count,
           sum(o.gross_sale)      AS gross_sale_sum,
           sum(o.net_profit)      AS net_profit_sum,
           count(o.roi)           AS roi_count,
           sum(o.roi)             AS roi_sum,
           count(o.shipping_cost) AS shipping_cost_count,
           sum(o.shipping_cost)   AS shipping_cost_sum,
           min(o.sold_at)         AS first_order,
           max(o.sold_at)         AS last_order
    FROM transactions.orders o
    WHERE o.status = 'completed'
      AND o.buyer_destination_country IS NOT NULL
    GROUP BY 1, 2, 3
),
per_destination AS (
    SELECT country,
           city,
           sum(orders)::bigint                                AS total_orders,
           sum(gross_sale_sum)                                AS total_revenue,
           sum(gross_sale_sum) / sum(gross_sale_count)        AS avg_order_value,
           coalesce(sum(net_profit_sum), 0)                   AS total_profit,
           sum(roi_sum) / sum(roi_count)                      AS avg_roi,
           sum(shipping_cost_sum) / sum(shipping_cost_count)  AS avg_shipping_cost,
           count(platform_id)                                 AS platforms_used,
           min(first_order)                                   AS first_order,
           max(last_order)                                    AS last_order
    FROM per_destination_platform
    GROUP BY country, city
),
platform_names AS (
    SELECT country, city,
           string_agg(name, ', ' ORDER BY lower(name) COLLATE "C", name COLLATE "C") AS names
    FROM (SELECT DISTINCT dp.country, dp.city, p.name
          FROM per_destination_platform dp
          JOIN core.platforms p ON p.id = dp.platform_id) distinct_names
    GROUP BY country, city
),
-- One row per destination and product and one per destination and month with a sale.
destination_reach AS (
    SELECT o.buyer_destination_country AS country,
           coalesce(o.buyer_destination_city, 'Unknown') AS city,
           st.product_id,
           date_trunc('month', o.sold_at AT TIME ZONE (SELECT s.business_time_zone
                                                       FROM analytics.settings s)) AS sale_month,
           GROUPING(st.product_id) = 0 AS is_product
    FROM transactions.orders o
    JOIN inventory.stock st ON st.id = o.inventory_item_id
    WHERE o.status = 'completed'
      AND o.buyer_destination_country IS NOT NULL
    GROUP BY GROUPING SETS ((1, 2, 3), (1, 2, 4))
),
per_destination_reach AS (
    SELECT r.country,
           r.city,
           count(r.sale_month) FILTER (WHERE NOT r.is_product)       AS active_months,
           count(r.product_id) FILTER (WHERE r.is_product)           AS unique_products,
           count(DISTINCT pr.brand_id) FILTER (WHERE r.is_product)   AS unique_brands
    FROM destination_reach r
    LEFT JOIN catalog.product pr ON pr.id = r.product_id
    GROUP BY r.country, r.city
)
SELECT d.country,
       d.city,
       d.total_orders,
       r.active_months,
       d.total_revenue,
       d.avg_order_value,
       d.total_profit,
       d.avg_roi,
       d.avg_shipping_cost,
       d.platforms_used,
       pn.names AS platform_names,
       r.unique_products,
       r.unique_brands,
       d.first_order,
       d.last_order
FROM per_destination d
JOIN platform_names pn ON pn.country = d.country AND pn.city = d.city
JOIN per_destination_reach r ON r.country = d.country AND r.city = d.city;

CREATE UNIQUE INDEX metabase_customer_geography_grain ON metabase_customer_geography (country, city);
CREATE INDEX metabase_customer_geography_revenue ON metabase_customer_geography (total_revenue DESC);

COMMENT ON MATERIALIZED VIEW metabase_customer_geography IS
    'Where buyers are: completed orders by destination country and city. One row per (country, city); orders without a city count under Unknown.';
COMMENT ON COLUMN metabase_customer_geography.country IS 'Buyer destination country (ISO 3166-1 alpha-2).';
COMMENT ON COLUMN metabase_customer_geography.city IS 'Buyer destination city; Unknown when not recorded.';
COMMENT ON COLUMN metabase_customer_geography.total_orders IS 'Number of completed orders.';
COMMENT ON COLUMN metabase_customer_geography.active_months IS 'Number of calendar months (business time zone) with at least one sale.';
COMMENT ON COLUMN metabase_customer_geography.total_revenue IS 'Sum of what buyers paid.';
COMMENT ON COLUMN metabase_customer_geography.avg_order_value IS 'Average gross sale per order.';
COMMENT ON COLUMN metabase_customer_geography.total_profit IS 'Sum of net profit.';
COMMENT ON COLUMN metabase_customer_geography.avg_roi IS 'Average return on investment, in percent.';
COMMENT ON COLUMN metabase_customer_geography.avg_shipping_cost IS 'Average shipping cost per order.';
COMMENT ON COLUMN metabase_customer_geography.platforms_used IS 'Number of distinct platforms sold through.';
COMMENT ON COLUMN metabase_customer_geography.platform_names IS 'Names of those platforms, alphabetical, comma separated.';
COMMENT ON COLUMN metabase_customer_geography.unique_products IS 'Number of distinct products sold there.';
COMMENT ON COLUMN metabase_customer_geography.unique_brands IS 'Number of distinct brands sold there.';
COMMENT ON COLUMN metabase_customer_geography.first_order IS 'Time of the first sale.';
COMMENT ON COLUMN metabase_customer_geography.last_order IS 'Time of the latest sale.';
