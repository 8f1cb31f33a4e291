-- analytics.unsold_stock_summary, version 2 (created in schema analytics).
-- Version 2 reads metabase_inventory_status through its read-through view
-- (analytics_internal.metabase_inventory_status), which a swap of the big
-- view points at the new rows: the swap no longer rebuilds this view in its
-- own transaction; it is refreshed on its own once the big view is.
--
-- One row per (stock_category, supplier_name, category_name) of the unsold
-- items of metabase_inventory_status: the few hundred rows the Inventory
-- Management figures add up instead of every unsold item. Grouping makes the
-- grain unique, empty supplier and category included (the unique index cannot
-- check those rows: it treats empty values as distinct).

CREATE MATERIALIZED VIEW unsold_stock_summary AS
SELECT i.stock_category,
       i.supplier_name,
       i.category_name,
       count(*)                                   AS items,
       coalesce(sum(i.current_inventory_value), 0) AS stock_value,
       coalesce(sum(i.days_in_stock), 0)          AS days_in_stock_sum,
       count(i.days_in_stock)                     AS days_in_stock_count
FROM analytics_internal.metabase_inventory_status i
WHERE i.times_sold = 0
GROUP BY i.stock_category, i.supplier_name, i.category_name;

CREATE UNIQUE INDEX unsold_stock_summary_grain
    ON unsold_stock_summary (stock_category, supplier_name, category_name);

COMMENT ON MATERIALIZED VIEW unsold_stock_summary IS
    'Unsold stock items (metabase_inventory_status with times_sold 0) counted and valued per stock category, supplier and product category, as of its latest refresh (which follows that of metabase_inventory_status). One row per stock category, supplier and category.';
COMMENT ON COLUMN unsold_stock_summary.stock_category IS 'Age band of the items: Fast Moving, Normal, Slow Moving, Dead Stock or Unknown (no purchase date).';
COMMENT ON COLUMN unsold_stock_summary.supplier_name IS 'Supplier''s business name; empty when none is set.';
COMMENT ON COLUMN unsold_stock_summary.category_name IS 'Product category name; empty when none is set.';
COMMENT ON COLUMN unsold_stock_summary.items IS 'Number of unsold stock items.';
COMMENT ON COLUMN unsold_stock_summary.stock_value IS 'Sum of their gross purchase prices (VAT included).';
COMMENT ON COLUMN unsold_stock_summary.days_in_stock_sum IS 'Sum of their whole days in stock, over the items with a purchase date.';
COMMENT ON COLUMN unsold_stock_summary.days_in_stock_count IS 'Number of those items with a purchase date: days_in_stock_sum / days_in_stock_count is their average days in stock.';
