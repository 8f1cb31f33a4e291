-- analytics.metabase_customer_geography, version 1 (created in schema analytics).
-- One row per buyer destination (country, city) of completed orders with a
-- country; a missing city is reported as 'Unknown'.

CREATE MATERIALIZED VIEW metabase_customer_geography AS
WITH sales AS (
    SELECT o.buyer_destination_country AS country,
           coalesce(o.buyer_destination_city, 'Unknown') AS city,
           o.platform_id,
           o.gross_sale,
           o.net_profit,
           o.roi,
           o.shipping_cost,
           o.sold_at,
           date_trunc('month', o.sold_at AT TIME ZONE s.business_time_zone) AS sale_month,
           st.product_id,
           pr.brand_id
    FROM transactions.orders o
    CROSS JOIN analytics.settings s
    JOIN inventory.stock st ON st.id = o.inventory_item_id
    JOIN catalog.product pr ON pr.id = st.product_id
    WHERE o.status = 'completed'
      AND o.buyer_destination_country IS NOT NULL
),
platform_names AS (
    SELECT country, city,
           string_agg(name, ', ' ORDER BY lower(name) COLLATE "C", name COLLATE "C") AS names
    FROM (SELECT DISTINCT sa.country, sa.city, p.name
          FROM sales sa JOIN core.platforms p ON p.id = sa.platform_id) distinct_names
    GROUP BY country, city
)
SELECT sa.country,
       sa.city,
       count(*)                           AS total_orders,
       count(DISTINCT sa.sale_month)      AS active_months,
       sum(sa.gross_sale)                 AS total_revenue,
       avg(sa.gross_sale)                 AS avg_order_value,
       coalesce(sum(sa.net_profit), 0)    AS total_profit,
       avg(sa.roi)                        AS avg_roi,
       avg(sa.shipping_cost)              AS avg_shipping_cost,
       count(DISTINCT sa.platform_id)     AS platforms_used,
       min(pn.names)                      AS platform_names,
       count(DISTINCT sa.product_id)      AS unique_products,
       count(DISTINCT sa.brand_id)        AS unique_brands,
       min(sa.sold_at)                    AS first_order,
       max(sa.sold_at)                    AS last_order
FROM sales sa
JOIN platform_names pn ON pn.country = sa.country AND pn.city = sa.city
GROUP BY sa.country, sa.city;

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
