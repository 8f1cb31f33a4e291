-- analytics.unsold_stock_by_product, version 2 (created in schema analytics).
-- Version 2 reads metabase_inventory_status through its read-through view
-- (analytics_internal.metabase_inventory_status), which a swap of the big
-- view points at the new rows: the swap no longer rebuilds this view in its
-- own transaction; it is refreshed on its own once the big view is.
--
-- The unsold items of metabase_inventory_status (times_sold 0) counted and
-- valued per stock category, supplier and product: the few ten thousand rows
-- the Stock by product card adds up, after its Stock category and Supplier
-- filters, instead of every unsold item. Grouping makes the grain unique,
-- empty supplier included (the unique index cannot check those rows: it treats
-- empty values as distinct).

CREATE MATERIALIZED VIEW unsold_stock_by_product AS
SELECT i.stock_category,
       i.supplier_name,
       i.product_id,
       i.product_name,
       i.sku,
       i.brand_name,
       count(*)                                    AS items,
       coalesce(sum(i.gross_purchase_price), 0)   AS stock_value,
       coalesce(sum(i.days_in_stock), 0)          AS days_in_stock_sum,
       count(i.days_in_stock)                     AS days_in_stock_count,
       max(i.days_in_stock)                       AS oldest_days_in_stock
FROM analytics_internal.metabase_inventory_status i
WHERE i.times_sold = 0
GROUP BY i.stock_category, i.supplier_name, i.product_id, i.product_name, i.sku, i.brand_name;

CREATE UNIQUE INDEX unsold_stock_by_product_grain
    ON unsold_stock_by_product (stock_category, supplier_name, product_id);

COMMENT ON MATERIALIZED VIEW unsold_stock_by_product IS
    'Unsold stock items (metabase_inventory_status with times_sold 0) counted and valued per stock category, supplier and product, as of its latest refresh (which follows that of metabase_inventory_status). One row per stock category, supplier and product.';
COMMENT ON COLUMN unsold_stock_by_product.stock_category IS 'Age band of the items: Fast Moving, Normal, Slow Moving, Dead Stock or Unknown (no purchase date).';
COMMENT ON COLUMN unsold_stock_by_product.supplier_name IS 'Supplier''s business name; empty when none is set.';
COMMENT ON COLUMN unsold_stock_by_product.product_id IS 'The product the items are.';
COMMENT ON COLUMN unsold_stock_by_product.product_name IS 'Product name.';
COMMENT ON COLUMN unsold_stock_by_product.sku IS 'Product SKU (style code).';
COMMENT ON COLUMN unsold_stock_by_product.brand_name IS 'Brand name; empty when none is set.';
COMMENT ON COLUMN unsold_stock_by_product.items IS 'Number of unsold stock items.';
COMMENT ON COLUMN unsold_stock_by_product.stock_value IS 'Sum of their gross purchase prices (VAT included).';
COMMENT ON COLUMN unsold_stock_by_product.days_in_stock_sum IS 'Sum of their whole days in stock, over the items with a purchase date.';
COMMENT ON COLUMN unsold_stock_by_product.days_in_stock_count IS 'Number of those items with a purchase date: days_in_stock_sum / days_in_stock_count is their average days in stock.';
COMMENT ON COLUMN unsold_stock_by_product.oldest_days_in_stock IS 'Whole days in stock of the oldest of them; empty when none has a purchase date.';
