-- analytics.metabase_supplier_performance, version 1 (created in schema analytics).
-- One row per supplier with at least one stock item. Item figures count each
-- item once, however many orders it has.

CREATE MATERIALIZED VIEW metabase_supplier_performance AS
WITH item_sales AS (
    SELECT o.inventory_item_id,
           min(o.sold_at) AS first_sold_at
    FROM transactions.orders o
    WHERE o.status = 'completed'
    GROUP BY o.inventory_item_id
),
items AS (
    SELECT st.id,
           st.supplier_id,
           st.product_id,
           st.gross_purchase_price,
           st.purchase_date,
           pr.brand_id,
           sa.first_sold_at,
           (extract(epoch FROM sa.first_sold_at)::numeric
            - extract(epoch FROM st.purchase_date)::numeric) / 86400 AS days_to_sell
    FROM inventory.stock st
    JOIN catalog.product pr ON pr.id = st.product_id
    LEFT JOIN item_sales sa ON sa.inventory_item_id = st.id
    WHERE st.supplier_id IS NOT NULL
),
per_supplier_items AS (
    SELECT supplier_id,
           count(*)                                            AS total_purchases,
           coalesce(sum(gross_purchase_price), 0)              AS total_spent,
           avg(gross_purchase_price)                           AS avg_purchase_price,
           count(DISTINCT product_id)                          AS unique_products,
           count(DISTINCT brand_id)                            AS unique_brands,
           count(*) FILTER (WHERE first_sold_at IS NOT NULL)   AS units_sold,
           avg(days_to_sell)                                   AS avg_days_to_sell,
           count(*) FILTER (WHERE first_sold_at IS NULL)       AS unsold_units,
           coalesce(sum(gross_purchase_price) FILTER (WHERE first_sold_at IS NULL), 0)
                                                               AS unsold_value,
           min(purchase_date)                                  AS first_purchase,
           max(purchase_date)                                  AS last_purchase
    FROM items
    GROUP BY supplier_id
),
per_supplier_orders AS (
    SELECT st.supplier_id,
           sum(o.gross_sale) AS total_revenue_generated,
           sum(o.net_profit) AS total_profit_generated,
           avg(o.roi)        AS avg_roi
    FROM transactions.orders o
    JOIN inventory.stock st ON st.id = o.inventory_item_id
    WHERE o.status = 'completed'
      AND st.supplier_id IS NOT NULL
    GROUP BY st.supplier_id
),
brand_lists AS (
    SELECT supplier_id,
           string_agg(name, ', ' ORDER BY lower(name) COLLATE "C", name COLLATE "C") AS brand_list
    FROM (SELECT DISTINCT i.supplier_id, b.name
          FROM items i JOIN catalog.brand b ON b.id = i.brand_id) distinct_brands
    GROUP BY supplier_id
)
SELECT su.id AS supplier_id,
       su.business_name AS supplier_name,
       su.contact_email,
       su.phone,
       su.country,
       su.rating,
       psi.total_purchases,
       psi.total_spent,
       psi.avg_purchase_price,
       psi.unique_products,
       psi.unique_brands,
       bl.brand_list,
       psi.units_sold,
       round(psi.units_sold::numeric / psi.total_purchases * 100, 2) AS sell_through_rate,
       coalesce(pso.total_revenue_generated, 0) AS total_revenue_generated,
       coalesce(pso.total_profit_generated, 0) AS total_profit_generated,
       pso.avg_roi,
       psi.avg_days_to_sell,
       psi.unsold_units,
       psi.unsold_value,
       psi.first_purchase,
       psi.last_purchase
FROM per_supplier_items psi
JOIN core.suppliers su ON su.id = psi.supplier_id
LEFT JOIN per_supplier_orders pso ON pso.supplier_id = psi.supplier_id
LEFT JOIN brand_lists bl ON bl.supplier_id = psi.supplier_id;

CREATE UNIQUE INDEX metabase_supplier_performance_grain
    ON metabase_supplier_performance (supplier_id);
CREATE INDEX metabase_supplier_performance_revenue
    ON metabase_supplier_performance (total_revenue_generated DESC);

COMMENT ON MATERIALIZED VIEW metabase_supplier_performance IS
    'What each supplier''s stock cost and earned: purchases, sell-through, revenue, profit and unsold stock. One row per supplier with a stock item.';
COMMENT ON COLUMN metabase_supplier_performance.supplier_id IS 'The supplier.';
COMMENT ON COLUMN metabase_supplier_performance.supplier_name IS 'Supplier''s business name.';
COMMENT ON COLUMN metabase_supplier_performance.contact_email IS 'Supplier contact e-mail.';
COMMENT ON COLUMN metabase_supplier_performance.phone IS 'Supplier phone number.';
COMMENT ON COLUMN metabase_supplier_performance.country IS 'Supplier country (ISO 3166-1 alpha-2).';
COMMENT ON COLUMN metabase_supplier_performance.rating IS 'Supplier rating, 0 to 5.';
COMMENT ON COLUMN metabase_supplier_performance.total_purchases IS 'Number of stock items bought from the supplier.';
COMMENT ON COLUMN metabase_supplier_performance.total_spent IS 'Sum of gross purchase prices of those items.';
COMMENT ON COLUMN metabase_supplier_performance.avg_purchase_price IS 'Average gross purchase price per item.';
COMMENT ON COLUMN metabase_supplier_performance.unique_products IS 'Number of distinct products among the items.';
COMMENT ON COLUMN metabase_supplier_performance.unique_brands IS 'Number of distinct brands among the items.';
COMMENT ON COLUMN metabase_supplier_performance.brand_list IS 'Those brands'' names, alphabetical, comma separated.';
COMMENT ON COLUMN metabase_supplier_performance.units_sold IS 'Number of items with at least one completed order.';
COMMENT ON COLUMN metabase_supplier_performance.sell_through_rate IS 'Items sold as a percentage of items bought, 2 decimals.';
COMMENT ON COLUMN metabase_supplier_performance.total_revenue_generated IS 'Sum of what buyers paid for the supplier''s items.';
COMMENT ON COLUMN metabase_supplier_performance.total_profit_generated IS 'Sum of net profit on the supplier''s items.';
COMMENT ON COLUMN metabase_supplier_performance.avg_roi IS 'Average return on investment of those orders, in percent.';
COMMENT ON COLUMN metabase_supplier_performance.avg_days_to_sell IS 'Average days from purchase to first sale, over sold items with a purchase date.';
COMMENT ON COLUMN metabase_supplier_performance.unsold_units IS 'Number of items never sold.';
COMMENT ON COLUMN metabase_supplier_performance.unsold_value IS 'Sum of gross purchase prices of the unsold items.';
COMMENT ON COLUMN metabase_supplier_performance.first_purchase IS 'Earliest purchase date.';
COMMENT ON COLUMN metabase_supplier_performance.last_purchase IS 'Latest purchase date.';
