-- analytics.metabase_supplier_performance, version 2 (created in schema analytics).
-- One row per supplier with at least one stock item. Item figures count each
-- item once, however many orders it has.
--
-- Version 2: same contents as version 1, cheaper to refresh. Version 1 grouped
-- the orders per item, materialised every stock item, sorted it on disk by
-- supplier and joined the orders to the stock a second time for the order
-- sums. Version 2 reads each stock item with its completed orders once and
-- hash-aggregates per (supplier, product): an item's first completed order
-- stands for the item, and the rare later ones (sold, returned and sold again)
-- are found by a semi-join and only add to the order sums. Distinct products
-- and brands are counted on the few thousand (supplier, product) rows.

CREATE MATERIALIZED VIEW metabase_supplier_performance AS
WITH repeat_sales AS (
    SELECT o.id
    FROM transactions.orders o
    WHERE o.status = 'completed'
      AND EXISTS (SELECT FROM transactions.orders e
                  WHERE e.inventory_item_id = o.inventory_item_id
                    AND e.status = 'completed'
                    AND (e.sold_at, e.id) < (o.sold_at, o.id))
),
-- One row per item and completed order, or per unsold item; first_sale marks
-- the row that stands for the item.
item_sales AS (
    SELECT st.supplier_id,
           st.product_id,
           st.gross_purchase_price,
           st.purchase_date,
           o.id IS NOT NULL AS sold,
           rs.id IS NULL AS first_sale,
           o.sold_at,
           o.gross_sale,
           o.net_profit,
           o.roi
    FROM inventory.stock st
    LEFT JOIN transactions.orders o ON o.inventory_item_id = st.id AND o.status = 'completed'
    LEFT JOIN repeat_sales rs ON rs.id = o.id
    WHERE st.supplier_id IS NOT NULL
),
per_supplier_product AS (
    SELECT supplier_id,
           product_id,
           count(*) FILTER (WHERE first_sale)                        AS items,
           count(gross_purchase_price) FILTER (WHERE first_sale)     AS price_count,
           sum(gross_purchase_price) FILTER (WHERE first_sale)       AS price_sum,
           count(*) FILTER (WHERE sold AND first_sale)               AS sold_items,
           count(*) FILTER (WHERE sold AND first_sale AND sold_at IS NOT NULL
                              AND purchase_date IS NOT NULL)         AS days_count,
           sum((extract(epoch FROM sold_at)::numeric
                - extract(epoch FROM purchase_date)::numeric) / 86400)
               FILTER (WHERE sold AND first_sale)                    AS days_sum,
           count(*) FILTER (WHERE NOT sold)                          AS unsold_items,
           sum(gross_purchase_price) FILTER (WHERE NOT sold)         AS unsold_price_sum,
           min(purchase_date)                                        AS first_purchase,
           max(purchase_date)                                        AS last_purchase,
           sum(gross_sale)                                           AS gross_sale_sum,
           sum(net_profit)                                           AS net_profit_sum,
           count(roi)                                                AS roi_count,
           sum(roi)                                                  AS roi_sum
    FROM item_sales
    GROUP BY supplier_id, product_id
),
per_supplier AS (
    SELECT psp.supplier_id,
           sum(psp.items)::bigint                          AS total_purchases,
           coalesce(sum(psp.price_sum), 0)                 AS total_spent,
           sum(psp.price_sum) / sum(psp.price_count)       AS avg_purchase_price,
           count(psp.product_id)                           AS unique_products,
           count(DISTINCT pr.brand_id)                     AS unique_brands,
           sum(psp.sold_items)::bigint                     AS units_sold,
           coalesce(sum(psp.gross_sale_sum), 0)            AS total_revenue_generated,
           coalesce(sum(psp.net_profit_sum), 0)            AS total_profit_generated,
           sum(psp.roi_sum) / sum(psp.roi_count)           AS avg_roi,
           sum(psp.days_sum) / sum(psp.days_count)         AS avg_days_to_sell,
           sum(psp.unsold_items)::bigint                   AS unsold_units,
           coalesce(sum(psp.unsold_price_sum), 0)          AS unsold_value,
           min(psp.first_purchase)                         AS first_purchase,
           max(psp.last_purchase)                          AS last_purchase
    FROM per_supplier_product psp
    JOIN catalog.product pr ON pr.id = psp.product_id
    GROUP BY psp.supplier_id
),
brand_lists AS (
    SELECT supplier_id,
           string_agg(name, ', ' ORDER BY lower(name) COLLATE "C", name COLLATE "C") AS brand_list
    FROM (SELECT DISTINCT psp.supplier_id, b.name
          FROM per_supplier_product psp
          JOIN catalog.product pr ON pr.id = psp.product_id
          JOIN catalog.brand b ON b.id = pr.brand_id) distinct_brands
    GROUP BY supplier_id
)
SELECT su.id AS supplier_id,
       su.business_name AS supplier_name,
       su.contact_email,
       su.phone,
       su.country,
       su.rating,
       ps.total_purchases,
       ps.total_spent,
       ps.avg_purchase_price,
       ps.unique_products,
       ps.unique_brands,
       bl.brand_list,
       ps.units_sold,
       round(ps.units_sold::numeric / ps.total_purchases * 100, 2) AS sell_through_rate,
       ps.total_revenue_generated,
       ps.total_profit_generated,
       ps.avg_roi,
       ps.avg_days_to_sell,
       ps.unsold_units,
       ps.unsold_value,
       ps.first_purchase,
       ps.last_purchase
FROM per_supplier ps
JOIN core.suppliers su ON su.id = ps.supplier_id
LEFT JOIN brand_lists bl ON bl.supplier_id = ps.supplier_id;

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
