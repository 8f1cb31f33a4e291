-- analytics.metabase_executive_metrics, version 2 (created in schema analytics).
-- One row per (sale_date, platform) with at least one completed order.
--
-- Version 2: same contents as version 1, cheaper to refresh. The business time
-- zone is read by a scalar subquery instead of a cross join with
-- analytics.settings: autovacuum never analyzes that one-row table, so the
-- planner took it for about 1,300 rows and every estimate above it for that
-- many times too large, which made it sort instead of hash and compile the
-- query with JIT optimisation.

CREATE MATERIALIZED VIEW metabase_executive_metrics AS
WITH daily AS (
    SELECT (o.sold_at AT TIME ZONE (SELECT s.business_time_zone
                                    FROM analytics.settings s))::date AS sale_date,
           o.platform_id,
           count(*)                                AS total_orders,
           sum(o.gross_sale)                       AS total_revenue,
           coalesce(sum(o.net_proceeds), 0)        AS total_net_proceeds,
           coalesce(sum(o.net_profit), 0)          AS total_profit,
           avg(o.roi)                              AS avg_roi,
           sum(o.platform_fee)                     AS total_fees,
           sum(o.shipping_cost)                    AS total_shipping,
           avg(o.gross_sale)                       AS avg_order_value,
           min(o.sold_at)                          AS first_sale,
           max(o.sold_at)                          AS last_sale
    FROM transactions.orders o
    WHERE o.status = 'completed'
    GROUP BY 1, 2
)
SELECT d.sale_date,
       date_trunc('week', d.sale_date::timestamp)::date    AS sale_week,
       date_trunc('month', d.sale_date::timestamp)::date   AS sale_month,
       date_trunc('quarter', d.sale_date::timestamp)::date AS sale_quarter,
       date_trunc('year', d.sale_date::timestamp)::date    AS sale_year,
       d.platform_id,
       p.name AS platform_name,
       p.slug AS platform_slug,
       d.total_orders,
       d.total_revenue,
       d.total_net_proceeds,
       d.total_profit,
       d.avg_roi,
       d.total_fees,
       d.total_shipping,
       d.avg_order_value,
       d.first_sale,
       d.last_sale
FROM daily d
JOIN core.platforms p ON p.id = d.platform_id;

CREATE UNIQUE INDEX metabase_executive_metrics_grain
    ON metabase_executive_metrics (sale_date, platform_id);
CREATE INDEX metabase_executive_metrics_month ON metabase_executive_metrics (sale_month);
CREATE INDEX metabase_executive_metrics_platform ON metabase_executive_metrics (platform_id, sale_date);

COMMENT ON MATERIALIZED VIEW metabase_executive_metrics IS
    'Daily sales per platform: completed orders, revenue, proceeds, profit, fees and shipping. One row per sale date and platform.';
COMMENT ON COLUMN metabase_executive_metrics.sale_date IS 'Day of the sale in the business time zone.';
COMMENT ON COLUMN metabase_executive_metrics.sale_week IS 'Monday of the ISO week of the sale date.';
COMMENT ON COLUMN metabase_executive_metrics.sale_month IS 'First day of the month of the sale date.';
COMMENT ON COLUMN metabase_executive_metrics.sale_quarter IS 'First day of the quarter of the sale date.';
COMMENT ON COLUMN metabase_executive_metrics.sale_year IS 'First day of the year of the sale date.';
COMMENT ON COLUMN metabase_executive_metrics.platform_id IS 'Platform the orders were sold on.';
COMMENT ON COLUMN metabase_executive_metrics.platform_name IS 'Platform name, e.g. StockX.';
COMMENT ON COLUMN metabase_executive_metrics.platform_slug IS 'Platform short name, e.g. stockx.';
COMMENT ON COLUMN metabase_executive_metrics.total_orders IS 'Number of completed orders.';
COMMENT ON COLUMN metabase_executive_metrics.total_revenue IS 'Sum of what buyers paid (gross sale).';
COMMENT ON COLUMN metabase_executive_metrics.total_net_proceeds IS 'Sum of payouts after platform fees and shipping.';
COMMENT ON COLUMN metabase_executive_metrics.total_profit IS 'Sum of net profit: proceeds minus purchase cost.';
COMMENT ON COLUMN metabase_executive_metrics.avg_roi IS 'Average return on investment of the orders, in percent.';
COMMENT ON COLUMN metabase_executive_metrics.total_fees IS 'Sum of platform fees.';
COMMENT ON COLUMN metabase_executive_metrics.total_shipping IS 'Sum of shipping costs.';
COMMENT ON COLUMN metabase_executive_metrics.avg_order_value IS 'Average gross sale per order.';
COMMENT ON COLUMN metabase_executive_metrics.first_sale IS 'Time of the earliest sale of the day.';
COMMENT ON COLUMN metabase_executive_metrics.last_sale IS 'Time of the latest sale of the day.';
