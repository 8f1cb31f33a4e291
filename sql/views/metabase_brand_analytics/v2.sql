-- analytics.metabase_brand_analytics, version 2 (created in schema analytics).
-- One row per brand whose products have at least one completed order.
--
-- Version 2: same contents as version 1, cheaper to refresh. The business time
-- zone is read by a scalar subquery instead of a cross join with
-- analytics.settings (see metabase_executive_metrics v2): with version 1's
-- estimates, that many times too large, the refresh spent as long compiling
-- the query with JIT optimisation as running it.

CREATE MATERIALIZED VIEW metabase_brand_analytics AS
WITH per_brand AS (
    SELECT pr.brand_id,
           count(*)                          AS total_sales,
           sum(o.gross_sale)                 AS total_revenue,
           avg(o.gross_sale)                 AS avg_price,
           stddev_samp(o.gross_sale)         AS price_variance,
           coalesce(sum(o.net_profit), 0)    AS total_profit,
           avg(o.roi)                        AS avg_roi,
           count(DISTINCT pr.id)             AS product_variety,
           count(DISTINCT date_trunc('month', o.sold_at AT TIME ZONE
                                          (SELECT s.business_time_zone
                                           FROM analytics.settings s)))
                                             AS active_months,
           min(o.sold_at)                    AS first_sale,
           max(o.sold_at)                    AS last_sale
    FROM transactions.orders o
    JOIN inventory.stock st ON st.id = o.inventory_item_id
    JOIN catalog.product pr ON pr.id = st.product_id
    WHERE o.status = 'completed'
      AND pr.brand_id IS NOT NULL
    GROUP BY pr.brand_id
)
SELECT b.id AS brand_id,
       b.name AS brand_name,
       b.segment,
       b.price_tier,
       b.target_demographic,
       b.is_collaboration,
       parent.name AS parent_brand_name,
       pb.total_sales, pb.total_revenue, pb.avg_price, pb.price_variance,
       pb.total_profit, pb.avg_roi, pb.product_variety, pb.active_months,
       pb.first_sale, pb.last_sale,
       round(pb.total_revenue / nullif(sum(pb.total_revenue) OVER (), 0) * 100, 2)
           AS market_share_pct,
       round(pb.total_sales / nullif(sum(pb.total_sales) OVER (), 0) * 100, 2)
           AS sales_share_pct,
       CASE WHEN pb.avg_price > 200 THEN 'Premium'
            WHEN pb.avg_price > 100 THEN 'Mid-Range'
            ELSE 'Entry-Level' END AS price_positioning,
       CASE WHEN pb.total_sales > 100 THEN 'High Volume'
            WHEN pb.total_sales > 50 THEN 'Medium Volume'
            ELSE 'Low Volume' END AS volume_tier
FROM per_brand pb
JOIN catalog.brand b ON b.id = pb.brand_id
LEFT JOIN catalog.brand parent ON parent.id = b.parent_brand_id;

CREATE UNIQUE INDEX metabase_brand_analytics_grain ON metabase_brand_analytics (brand_id);
CREATE INDEX metabase_brand_analytics_revenue ON metabase_brand_analytics (total_revenue DESC);

COMMENT ON MATERIALIZED VIEW metabase_brand_analytics IS
    'All-time sales of each brand: volume, revenue, profit, market share and positioning. One row per brand with a completed order.';
COMMENT ON COLUMN metabase_brand_analytics.brand_id IS 'The brand.';
COMMENT ON COLUMN metabase_brand_analytics.brand_name IS 'Brand name.';
COMMENT ON COLUMN metabase_brand_analytics.segment IS 'Market segment, e.g. Sportswear or Luxury.';
COMMENT ON COLUMN metabase_brand_analytics.price_tier IS 'Price tier, e.g. Budget, Mid, Premium.';
COMMENT ON COLUMN metabase_brand_analytics.target_demographic IS 'Target demographic of the brand.';
COMMENT ON COLUMN metabase_brand_analytics.is_collaboration IS 'Whether the brand is a collaboration.';
COMMENT ON COLUMN metabase_brand_analytics.parent_brand_name IS 'Name of the parent brand (Nike for Jordan); empty when none.';
COMMENT ON COLUMN metabase_brand_analytics.total_sales IS 'Number of completed orders of the brand''s products.';
COMMENT ON COLUMN metabase_brand_analytics.total_revenue IS 'Sum of what buyers paid.';
COMMENT ON COLUMN metabase_brand_analytics.avg_price IS 'Average gross sale.';
COMMENT ON COLUMN metabase_brand_analytics.price_variance IS 'Sample standard deviation of the gross sale (despite the name); empty with one sale.';
COMMENT ON COLUMN metabase_brand_analytics.total_profit IS 'Sum of net profit.';
COMMENT ON COLUMN metabase_brand_analytics.avg_roi IS 'Average return on investment, in percent.';
COMMENT ON COLUMN metabase_brand_analytics.product_variety IS 'Number of distinct products sold.';
COMMENT ON COLUMN metabase_brand_analytics.active_months IS 'Number of calendar months (business time zone) with at least one sale.';
COMMENT ON COLUMN metabase_brand_analytics.first_sale IS 'Time of the first sale.';
COMMENT ON COLUMN metabase_brand_analytics.last_sale IS 'Time of the latest sale.';
COMMENT ON COLUMN metabase_brand_analytics.market_share_pct IS 'Share of the revenue of all brands in this view, in percent, 2 decimals.';
COMMENT ON COLUMN metabase_brand_analytics.sales_share_pct IS 'Share of the completed orders of all brands in this view, in percent, 2 decimals.';
COMMENT ON COLUMN metabase_brand_analytics.price_positioning IS 'Premium (average price over 200), Mid-Range (over 100) or Entry-Level.';
COMMENT ON COLUMN metabase_brand_analytics.volume_tier IS 'High Volume (over 100 sales), Medium Volume (over 50) or Low Volume.';
