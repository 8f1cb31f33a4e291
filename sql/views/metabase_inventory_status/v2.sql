-- analytics.metabase_inventory_status, version 2 (created in schema analytics).
-- One row per stock item, sold or not.
--
-- Version 2: the same rows, cheaper to refresh. Indexed on the grain only: no
-- dashboard card reads this view any more (they read the views built on it,
-- revision 0014, indexed for their own filters), and its five other indexes
-- took 4 of its 10 s to rebuild at a million orders, written to the WAL again
-- at every refresh. days_in_stock takes one epoch of the difference instead of
-- two epochs (the same exact value), and the stock category compares it once
-- instead of up to three times: a column of a subquery is computed again
-- wherever the outer query names it, and this numeric arithmetic was a quarter
-- of the view's CPU time.

CREATE MATERIALIZED VIEW metabase_inventory_status AS
WITH sales AS (
    SELECT o.inventory_item_id,
           count(*)          AS times_sold,
           max(o.sold_at)    AS last_sold_at,
           sum(o.gross_sale) AS total_revenue,
           sum(o.net_profit) AS total_profit
    FROM transactions.orders o
    WHERE o.status = 'completed'
    GROUP BY o.inventory_item_id
),
items AS (
    SELECT st.id, st.product_id, st.supplier_id, st.size, st.color, st.condition,
           st.status, st.purchase_price, st.gross_purchase_price, st.vat_amount,
           st.purchase_date, st.created_at, st.updated_at,
           coalesce(sa.times_sold, 0)     AS times_sold,
           sa.last_sold_at,
           coalesce(sa.total_revenue, 0)  AS total_revenue,
           coalesce(sa.total_profit, 0)   AS total_profit,
           floor(extract(epoch FROM coalesce(sa.last_sold_at, now()) - st.purchase_date)
                 / 86400)::integer        AS days_in_stock
    FROM inventory.stock st
    LEFT JOIN sales sa ON sa.inventory_item_id = st.id
)
SELECT i.id AS inventory_id,
       i.product_id,
       pr.name AS product_name,
       pr.sku,
       b.name AS brand_name,
       c.name AS category_name,
       i.purchase_price,
       i.gross_purchase_price,
       i.vat_amount,
       i.purchase_date,
       su.business_name AS supplier_name,
       i.status AS inventory_status,
       i.condition,
       i.size,
       i.color,
       i.times_sold,
       i.last_sold_at,
       i.total_revenue,
       i.total_profit,
       i.days_in_stock,
       CASE WHEN i.times_sold > 0 THEN 'Sold'
            WHEN i.purchase_date IS NULL THEN 'Unknown'
            -- over 30, 90 and 180 days, in one comparison
            ELSE (ARRAY['Fast Moving', 'Normal', 'Slow Moving', 'Dead Stock'])
                 [width_bucket(i.days_in_stock, ARRAY[31, 91, 181]) + 1] END AS stock_category,
       CASE WHEN i.times_sold = 0 THEN i.gross_purchase_price ELSE 0 END
           AS current_inventory_value,
       i.created_at,
       i.updated_at
FROM items i
JOIN catalog.product pr ON pr.id = i.product_id
LEFT JOIN catalog.brand b ON b.id = pr.brand_id
LEFT JOIN catalog.category c ON c.id = pr.category_id
LEFT JOIN core.suppliers su ON su.id = i.supplier_id;

CREATE UNIQUE INDEX metabase_inventory_status_grain ON metabase_inventory_status (inventory_id);

COMMENT ON MATERIALIZED VIEW metabase_inventory_status IS
    'Every stock item with what it cost, whether and how often it sold, how long it has been in stock, and what unsold stock is worth. One row per stock item.';
COMMENT ON COLUMN metabase_inventory_status.inventory_id IS 'The stock item (one physical pair).';
COMMENT ON COLUMN metabase_inventory_status.product_id IS 'The product the item is.';
COMMENT ON COLUMN metabase_inventory_status.product_name IS 'Product name.';
COMMENT ON COLUMN metabase_inventory_status.sku IS 'Product SKU (style code).';
COMMENT ON COLUMN metabase_inventory_status.brand_name IS 'Brand name; empty when none is set.';
COMMENT ON COLUMN metabase_inventory_status.category_name IS 'Category name; empty when none is set.';
COMMENT ON COLUMN metabase_inventory_status.purchase_price IS 'Purchase price net of VAT.';
COMMENT ON COLUMN metabase_inventory_status.gross_purchase_price IS 'Purchase price including VAT.';
COMMENT ON COLUMN metabase_inventory_status.vat_amount IS 'VAT paid on the purchase.';
COMMENT ON COLUMN metabase_inventory_status.purchase_date IS 'When the item was bought.';
COMMENT ON COLUMN metabase_inventory_status.supplier_name IS 'Supplier''s business name; empty when none is set.';
COMMENT ON COLUMN metabase_inventory_status.inventory_status IS 'Stock status as stored: in_stock, listed, reserved, sold, returned.';
COMMENT ON COLUMN metabase_inventory_status.condition IS 'Condition, e.g. new or used.';
COMMENT ON COLUMN metabase_inventory_status.size IS 'Size.';
COMMENT ON COLUMN metabase_inventory_status.color IS 'Colour.';
COMMENT ON COLUMN metabase_inventory_status.times_sold IS 'Number of completed orders of this item (0 when none).';
COMMENT ON COLUMN metabase_inventory_status.last_sold_at IS 'Time of the latest completed sale; empty when never sold.';
COMMENT ON COLUMN metabase_inventory_status.total_revenue IS 'Sum of what buyers paid for this item (0 when never sold).';
COMMENT ON COLUMN metabase_inventory_status.total_profit IS 'Sum of net profit on this item (0 when never sold).';
COMMENT ON COLUMN metabase_inventory_status.days_in_stock IS 'Whole days from purchase to the latest sale, or to the last refresh when unsold; empty without a purchase date.';
COMMENT ON COLUMN metabase_inventory_status.stock_category IS 'Sold; or for unsold items: Unknown (no purchase date), Dead Stock (over 180 days), Slow Moving (over 90), Normal (over 30), Fast Moving.';
COMMENT ON COLUMN metabase_inventory_status.current_inventory_value IS 'Gross purchase price of an unsold item; 0 once sold.';
COMMENT ON COLUMN metabase_inventory_status.created_at IS 'When the stock record was created.';
COMMENT ON COLUMN metabase_inventory_status.updated_at IS 'When the stock record was last changed.';
