-- analytics.metabase_product_performance, version 1 (created in schema analytics).
-- One row per product with at least one completed order.

CREATE MATERIALIZED VIEW metabase_product_performance AS
WITH per_product AS (
    SELECT st.product_id,
           count(*)                          AS units_sold,
           sum(o.gross_sale)                 AS total_revenue,
           avg(o.gross_sale)                 AS avg_sale_price,
           min(o.gross_sale)                 AS min_sale_price,
           max(o.gross_sale)                 AS max_sale_price,
           stddev_samp(o.gross_sale)         AS price_volatility,
           coalesce(sum(o.net_profit), 0)    AS total_profit,
           avg(o.roi)                        AS avg_roi,
           sum(o.platform_fee)               AS total_fees_paid,
           avg(st.purchase_price)            AS avg_purchase_price,
           count(DISTINCT st.supplier_id)    AS supplier_count,
           min(o.sold_at)                    AS first_sale_date,
           max(o.sold_at)                    AS last_sale_date
    FROM transactions.orders o
    JOIN inventory.stock st ON st.id = o.inventory_item_id
    WHERE o.status = 'completed'
    GROUP BY st.product_id
)
SELECT pr.id   AS product_id,
       pr.name AS product_name,
       pr.sku  AS product_sku,
       c.id    AS category_id,
       c.name  AS category_name,
       b.id    AS brand_id,
       b.name  AS brand_name,
       b.segment AS brand_segment,
       b.price_tier,
       b.is_collaboration,
       pp.units_sold, pp.total_revenue, pp.avg_sale_price, pp.min_sale_price,
       pp.max_sale_price, pp.price_volatility, pp.total_profit, pp.avg_roi,
       pp.total_fees_paid, pp.avg_purchase_price, pp.supplier_count,
       pp.first_sale_date, pp.last_sale_date
FROM per_product pp
JOIN catalog.product pr ON pr.id = pp.product_id
LEFT JOIN catalog.brand b ON b.id = pr.brand_id
LEFT JOIN catalog.category c ON c.id = pr.category_id;

CREATE UNIQUE INDEX metabase_product_performance_grain
    ON metabase_product_performance (product_id);
CREATE INDEX metabase_product_performance_brand ON metabase_product_performance (brand_id);
CREATE INDEX metabase_product_performance_category ON metabase_product_performance (category_id);
CREATE INDEX metabase_product_performance_revenue ON metabase_product_performance (total_revenue DESC);
CREATE INDEX metabase_product_performance_units ON metabase_product_performance (units_sold DESC);

COMMENT ON MATERIALIZED VIEW metabase_product_performance IS
    'All-time sales of each product: units, revenue, price spread, profit and sourcing. One row per product with a completed order.';
COMMENT ON COLUMN metabase_product_performance.product_id IS 'The product.';
COMMENT ON COLUMN metabase_product_performance.product_name IS 'Product name.';
COMMENT ON COLUMN metabase_product_performance.product_sku IS 'Product SKU (style code).';
COMMENT ON COLUMN metabase_product_performance.category_id IS 'Product category; empty when none is set.';
COMMENT ON COLUMN metabase_product_performance.category_name IS 'Category name; empty when none is set.';
COMMENT ON COLUMN metabase_product_performance.brand_id IS 'Product brand; empty when none is set.';
COMMENT ON COLUMN metabase_product_performance.brand_name IS 'Brand name; empty when none is set.';
COMMENT ON COLUMN metabase_product_performance.brand_segment IS 'Brand market segment, e.g. Sportswear.';
COMMENT ON COLUMN metabase_product_performance.price_tier IS 'Brand price tier, e.g. Premium.';
COMMENT ON COLUMN metabase_product_performance.is_collaboration IS 'Whether the brand is a collaboration.';
COMMENT ON COLUMN metabase_product_performance.units_sold IS 'Number of completed orders.';
COMMENT ON COLUMN metabase_product_performance.total_revenue IS 'Sum of what buyers paid.';
COMMENT ON COLUMN metabase_product_performance.avg_sale_price IS 'Average gross sale.';
COMMENT ON COLUMN metabase_product_performance.min_sale_price IS 'Lowest gross sale.';
COMMENT ON COLUMN metabase_product_performance.max_sale_price IS 'Highest gross sale.';
COMMENT ON COLUMN metabase_product_performance.price_volatility IS 'Sample standard deviation of the gross sale; empty with a single sale.';
COMMENT ON COLUMN metabase_product_performance.total_profit IS 'Sum of net profit.';
COMMENT ON COLUMN metabase_product_performance.avg_roi IS 'Average return on investment, in percent.';
COMMENT ON COLUMN metabase_product_performance.total_fees_paid IS 'Sum of platform fees.';
COMMENT ON COLUMN metabase_product_performance.avg_purchase_price IS 'Average net purchase price of the sold items, one value per order.';
COMMENT ON COLUMN metabase_product_performance.supplier_count IS 'Number of distinct suppliers of the sold items.';
COMMENT ON COLUMN metabase_product_performance.first_sale_date IS 'Time of the first sale (a timestamp despite the name).';
COMMENT ON COLUMN metabase_product_performance.last_sale_date IS 'Time of the latest sale (a timestamp despite the name).';
