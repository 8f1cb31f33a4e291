-- analytics.unsold_stock_items, version 2 (created in schema analytics).
-- Version 2 reads metabase_inventory_status through its read-through view
-- (analytics_internal.metabase_inventory_status), which a swap of the big
-- view points at the new rows: the swap no longer rebuilds this view in its
-- own transaction; it is refreshed on its own once the big view is.
--
-- The unsold items of metabase_inventory_status (times_sold 0) with the columns
-- the Inventory Management item lists show, indexed in the order they list
-- them (oldest first), by themselves and after the Supplier and Stock category
-- filters, so that a list reads only the rows it shows. A view of its own
-- rather than partial indexes (WHERE times_sold = 0) on metabase_inventory_status:
-- the filters compare lower(...), which PostgreSQL estimates from the statistics
-- of an index on that expression but not of a partial index; it then
-- reckoned a supplier had a few hundred unsold items and sorted them all.
-- One row per unsold stock item.

CREATE MATERIALIZED VIEW unsold_stock_items AS
SELECT i.inventory_id,
       i.product_name,
       i.sku,
       i.brand_name,
       i.category_name,
       i.size,
       i.condition,
       i.supplier_name,
       i.inventory_status,
       i.purchase_date,
       i.gross_purchase_price,
       i.days_in_stock,
       i.stock_category
FROM analytics_internal.metabase_inventory_status i
WHERE i.times_sold = 0;

CREATE UNIQUE INDEX unsold_stock_items_grain ON unsold_stock_items (inventory_id);
CREATE INDEX unsold_stock_items_oldest_first
    ON unsold_stock_items (days_in_stock DESC NULLS LAST, product_name, inventory_id);
CREATE INDEX unsold_stock_items_supplier_oldest_first
    ON unsold_stock_items
    (lower(supplier_name), days_in_stock DESC NULLS LAST, product_name, inventory_id);
CREATE INDEX unsold_stock_items_category_oldest_first
    ON unsold_stock_items
    (lower(stock_category), days_in_stock DESC NULLS LAST, product_name, inventory_id);
CREATE INDEX unsold_stock_items_supplier_category_oldest_first
    ON unsold_stock_items
    (lower(supplier_name), lower(stock_category), days_in_stock DESC NULLS LAST, product_name,
     inventory_id);

COMMENT ON MATERIALIZED VIEW unsold_stock_items IS
    'Every unsold stock item (metabase_inventory_status with times_sold 0): what it is, who supplied it, what it cost and how long it has been in stock, as of its latest refresh (which follows that of metabase_inventory_status). One row per unsold stock item.';
COMMENT ON COLUMN unsold_stock_items.inventory_id IS 'The stock item (one physical pair).';
COMMENT ON COLUMN unsold_stock_items.product_name IS 'Product name.';
COMMENT ON COLUMN unsold_stock_items.sku IS 'Product SKU (style code).';
COMMENT ON COLUMN unsold_stock_items.brand_name IS 'Brand name; empty when none is set.';
COMMENT ON COLUMN unsold_stock_items.category_name IS 'Category name; empty when none is set.';
COMMENT ON COLUMN unsold_stock_items.size IS 'Size.';
COMMENT ON COLUMN unsold_stock_items.condition IS 'Condition, e.g. new or used.';
COMMENT ON COLUMN unsold_stock_items.supplier_name IS 'Supplier''s business name; empty when none is set.';
COMMENT ON COLUMN unsold_stock_items.inventory_status IS 'Stock status as stored: in_stock, listed, reserved, sold, returned.';
COMMENT ON COLUMN unsold_stock_items.purchase_date IS 'When the item was bought.';
COMMENT ON COLUMN unsold_stock_items.gross_purchase_price IS 'Purchase price including VAT.';
COMMENT ON COLUMN unsold_stock_items.days_in_stock IS 'Whole days from purchase to the refresh; empty without a purchase date.';
COMMENT ON COLUMN unsold_stock_items.stock_category IS 'Unknown (no purchase date), Dead Stock (over 180 days in stock), Slow Moving (over 90), Normal (over 30) or Fast Moving.';
