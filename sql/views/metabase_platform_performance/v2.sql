-- analytics.metabase_platform_performance, version 2 (created in schema analytics).
-- One row per platform with at least one completed order.
--
-- Version 2: same contents as version 1, cheaper to refresh. The sums and
-- averages are hash-aggregated per platform; the three distinct counts come
-- from one pass of hashed grouping sets over (platform, month) and (platform,
-- country, city) instead of sorting every completed order by platform. The
-- business time zone is read by a scalar subquery (see
-- metabase_executive_metrics v2).

CREATE MATERIALIZED VIEW metabase_platform_performance AS
WITH per_platform AS (
    SELECT o.platform_id,
           count(*)                                 AS total_orders,
           sum(o.gross_sale)                        AS total_revenue,
           avg(o.gross_sale)                        AS avg_order_value,
           min(o.gross_sale)                        AS min_order_value,
           max(o.gross_sale)                        AS max_order_value,
           sum(o.platform_fee)                      AS total_fees,
           avg(o.platform_fee)                      AS avg_fee,
           round(avg(o.platform_fee / nullif(o.gross_sale, 0)) * 100, 2) AS avg_fee_pct,
           sum(o.shipping_cost)                     AS total_shipping,
           avg(o.shipping_cost)                     AS avg_shipping,
           coalesce(sum(o.net_proceeds), 0)         AS total_proceeds,
           coalesce(sum(o.net_profit), 0)           AS total_profit,
           avg(o.roi)                               AS avg_roi,
           round(avg(o.net_profit / nullif(o.gross_sale, 0)) * 100, 2) AS avg_profit_margin,
           count(*) FILTER (WHERE o.payout_received) AS payouts_received,
           avg((extract(epoch FROM o.payout_date)::numeric
                - extract(epoch FROM o.sold_at)::numeric) / 86400) AS avg_payout_days,
           min(o.sold_at)                           AS first_sale,
           max(o.sold_at)                           AS last_sale
    FROM transactions.orders o
    WHERE o.status = 'completed'
    GROUP BY o.platform_id
),
-- One row per (platform, month) and one per (platform, country, city) with a sale.
platform_reach AS (
    SELECT o.platform_id,
           date_trunc('month', o.sold_at AT TIME ZONE (SELECT s.business_time_zone
                                                       FROM analytics.settings s)) AS sale_month,
           o.buyer_destination_country AS country,
           o.buyer_destination_city AS city,
           GROUPING(o.buyer_destination_country) = 1 AS is_month
    FROM transactions.orders o
    WHERE o.status = 'completed'
    GROUP BY GROUPING SETS ((1, 2), (1, 3, 4))
),
per_platform_reach AS (
    SELECT platform_id,
           count(sale_month) FILTER (WHERE is_month) AS active_months,
           count(DISTINCT country) FILTER (WHERE NOT is_month) AS countries_served,
           count(DISTINCT (country, city)) FILTER (WHERE NOT is_month AND city IS NOT NULL)
               AS cities_served
    FROM platform_reach
    GROUP BY platform_id
)
SELECT pp.platform_id,
       p.name AS platform_name,
       p.slug AS platform_slug,
       pp.total_orders, r.active_months,
       pp.total_revenue, pp.avg_order_value, pp.min_order_value, pp.max_order_value,
       pp.total_fees, pp.avg_fee, pp.avg_fee_pct,
       pp.total_shipping, pp.avg_shipping,
       pp.total_proceeds, pp.total_profit, pp.avg_roi, pp.avg_profit_margin,
       pp.payouts_received, pp.avg_payout_days,
       r.countries_served, r.cities_served,
       pp.first_sale, pp.last_sale
FROM per_platform pp
JOIN per_platform_reach r ON r.platform_id = pp.platform_id
JOIN core.platforms p ON p.id = pp.platform_id;

CREATE UNIQUE INDEX metabase_platform_performance_grain
    ON metabase_platform_performance (platform_id);
CREATE INDEX metabase_platform_performance_revenue
    ON metabase_platform_performance (total_revenue DESC);

COMMENT ON MATERIALIZED VIEW metabase_platform_performance IS
    'All-time performance of each sales platform: orders, revenue, fees, margins, payouts and reach. One row per platform with a completed order.';
COMMENT ON COLUMN metabase_platform_performance.platform_id IS 'The platform.';
COMMENT ON COLUMN metabase_platform_performance.platform_name IS 'Platform name, e.g. StockX.';
COMMENT ON COLUMN metabase_platform_performance.platform_slug IS 'Platform short name, e.g. stockx.';
COMMENT ON COLUMN metabase_platform_performance.total_orders IS 'Number of completed orders.';
COMMENT ON COLUMN metabase_platform_performance.active_months IS 'Number of calendar months (business time zone) with at least one sale.';
COMMENT ON COLUMN metabase_platform_performance.total_revenue IS 'Sum of what buyers paid (gross sale).';
COMMENT ON COLUMN metabase_platform_performance.avg_order_value IS 'Average gross sale per order.';
COMMENT ON COLUMN metabase_platform_performance.min_order_value IS 'Smallest gross sale.';
COMMENT ON COLUMN metabase_platform_performance.max_order_value IS 'Largest gross sale.';
COMMENT ON COLUMN metabase_platform_performance.total_fees IS 'Sum of platform fees.';
COMMENT ON COLUMN metabase_platform_performance.avg_fee IS 'Average platform fee per order.';
COMMENT ON COLUMN metabase_platform_performance.avg_fee_pct IS 'Average fee as a percentage of the gross sale (orders with a zero sale left out), 2 decimals.';
COMMENT ON COLUMN metabase_platform_performance.total_shipping IS 'Sum of shipping costs.';
COMMENT ON COLUMN metabase_platform_performance.avg_shipping IS 'Average shipping cost per order.';
COMMENT ON COLUMN metabase_platform_performance.total_proceeds IS 'Sum of payouts after fees and shipping.';
COMMENT ON COLUMN metabase_platform_performance.total_profit IS 'Sum of net profit.';
COMMENT ON COLUMN metabase_platform_performance.avg_roi IS 'Average return on investment, in percent.';
COMMENT ON COLUMN metabase_platform_performance.avg_profit_margin IS 'Average net profit as a percentage of the gross sale (zero sales left out), 2 decimals.';
COMMENT ON COLUMN metabase_platform_performance.payouts_received IS 'Number of orders whose payout has been received.';
COMMENT ON COLUMN metabase_platform_performance.avg_payout_days IS 'Average days from sale to payout, over orders with a payout date.';
COMMENT ON COLUMN metabase_platform_performance.countries_served IS 'Number of distinct buyer countries.';
COMMENT ON COLUMN metabase_platform_performance.cities_served IS 'Number of distinct buyer (country, city) pairs.';
COMMENT ON COLUMN metabase_platform_performance.first_sale IS 'Time of the first sale on the platform.';
COMMENT ON COLUMN metabase_platform_performance.last_sale IS 'Time of the latest sale on the platform.';
