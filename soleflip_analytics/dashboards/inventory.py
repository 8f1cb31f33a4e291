"""Inventory Management dashboard: what unsold stock is worth, how old it is, who supplied it.

Stock figures come from metabase_inventory_status (one row per stock item,
refreshed hourly); "in stock" means an item without a completed order. The cards
read three views refreshed right after it: the figures add up unsold_stock_summary
(the items in stock per age band, supplier and category), the slow-moving list
reads unsold_stock_items (the items in stock) in the order of its indexes, and
Stock by product adds up unsold_stock_by_product (the items in stock per age
band, supplier and product). Supplier matches a supplier's business name.
"""

from __future__ import annotations

from soleflip_analytics.dashboards.filters import STOCK_CATEGORY, SUPPLIER, equals
from soleflip_analytics.dashboards.model import Card, Dashboard, Filter, Place
from soleflip_analytics.dashboards.visualization import chart, pie, scalar, table, top_slices

_AGE_ORDER = (
    "array_position(ARRAY['Fast Moving', 'Normal', 'Slow Moving', 'Dead Stock', 'Unknown'],"
    " i.stock_category)"
)

_UNSOLD_ITEMS = "FROM analytics.unsold_stock_items i"
_STOCK_SUMMARY = """FROM analytics.unsold_stock_summary i
WHERE TRUE"""
_BY_SUPPLIER = equals("i.supplier_name", SUPPLIER)
_BY_CATEGORY_AND_SUPPLIER = f"{equals('i.stock_category', STOCK_CATEGORY)}\n{_BY_SUPPLIER}"

# Metabase shows at most 2,000 rows of a native question; asking for no more lets
# the query stop there, reading an index of unsold_stock_items in this order
# (inventory_id makes the order of equal rows, and so the rows shown, the same
# every time).
_OLDEST_FIRST = """ORDER BY i.days_in_stock DESC NULLS LAST, i.product_name, i.inventory_id
LIMIT 2000"""

_BOTH_NOTE = " Stock category and Supplier narrow the items counted."
_SUPPLIER_NOTE = " Supplier narrows the items counted."
_FIRST_2000 = " (the first 2,000, as many as Metabase shows)."


def _kpi(
    name: str,
    description: str,
    column: str,
    expression: str,
    where: str,
    filters: tuple[Filter, ...],
    col: int,
) -> Card:
    return Card(
        name=name,
        description=description,
        display="scalar",
        sql=f"SELECT {expression} AS {column}\n{where}",
        visualization=scalar(column),
        place=Place(col=col, row=0, width=8, height=3),
        filters=filters,
    )


CURRENT_STOCK_VALUE = _kpi(
    "Current stock value",
    "Gross purchase price (VAT included) of every item in stock, as of the last hourly "
    "refresh." + _BOTH_NOTE,
    "stock_value",
    "coalesce(sum(i.stock_value), 0)",
    f"{_STOCK_SUMMARY}\n{_BY_CATEGORY_AND_SUPPLIER}",
    (STOCK_CATEGORY, SUPPLIER),
    col=0,
)

DEAD_STOCK_COUNT = _kpi(
    "Dead stock count",
    "Items in stock for more than 180 days." + _SUPPLIER_NOTE,
    "dead_stock_items",
    "coalesce(sum(i.items), 0)::bigint",
    f"{_STOCK_SUMMARY}\n  AND i.stock_category = 'Dead Stock'\n{_BY_SUPPLIER}",
    (SUPPLIER,),
    col=8,
)

AVERAGE_DAYS_IN_STOCK = _kpi(
    "Average days in stock",
    "Average whole days since purchase of the items in stock that have a purchase date."
    + _BOTH_NOTE,
    "avg_days_in_stock",
    # avg() of integers is their numeric sum divided by their count, so this is it.
    "round(sum(i.days_in_stock_sum)::numeric / nullif(sum(i.days_in_stock_count), 0), 1)",
    f"{_STOCK_SUMMARY}\n{_BY_CATEGORY_AND_SUPPLIER}",
    (STOCK_CATEGORY, SUPPLIER),
    col=16,
)

AGING_DISTRIBUTION = Card(
    name="Aging distribution",
    description=(
        "Items in stock and their value per age band: Fast Moving (up to 30 days), Normal "
        "(31-90), Slow Moving (91-180), Dead Stock (over 180), Unknown (no purchase date)."
        + _SUPPLIER_NOTE
    ),
    display="bar",
    sql=f"""SELECT i.stock_category,
       sum(i.items)::bigint AS items,
       coalesce(sum(i.stock_value), 0) AS stock_value
{_STOCK_SUMMARY}
{_BY_SUPPLIER}
GROUP BY i.stock_category
ORDER BY {_AGE_ORDER}""",
    visualization=chart("stock_category", "items"),
    place=Place(col=0, row=3, width=12, height=6),
    filters=(SUPPLIER,),
)

_CATEGORY_SLICES = top_slices(
    "categories", "category_name", "stock_value", "items", "stock_value", counts="items"
)

STOCK_BY_CATEGORY = Card(
    name="Stock by category",
    description="Value of the items in stock per product category; beyond the eight largest, "
    "the rest as Other." + _BOTH_NOTE,
    display="pie",
    sql=f"""WITH categories AS (
    SELECT coalesce(i.category_name, 'No category') AS category_name,
           sum(i.items)::bigint AS items,
           coalesce(sum(i.stock_value), 0) AS stock_value
    {_STOCK_SUMMARY}
    {_BY_CATEGORY_AND_SUPPLIER}
    GROUP BY 1
),
{_CATEGORY_SLICES}""",
    visualization=pie("category_name", "stock_value"),
    place=Place(col=12, row=3, width=12, height=6),
    filters=(STOCK_CATEGORY, SUPPLIER),
)

_ITEM_COLUMNS = (
    "product_name",
    "sku",
    "brand_name",
    "size",
    "supplier_name",
    "purchase_date",
    "days_in_stock",
    "stock_category",
    "gross_purchase_price",
)
_ITEM_SELECT = "SELECT " + ",\n       ".join(f"i.{column}" for column in _ITEM_COLUMNS)

SLOW_MOVING_ITEMS = Card(
    name="Slow-moving items",
    description="Items in stock for more than 90 days (Slow Moving and Dead Stock), oldest first"
    + _FIRST_2000
    + _SUPPLIER_NOTE,
    display="table",
    sql=f"""{_ITEM_SELECT}
{_UNSOLD_ITEMS}
WHERE i.stock_category IN ('Slow Moving', 'Dead Stock')
{_BY_SUPPLIER}
{_OLDEST_FIRST}""",
    visualization=table(*_ITEM_COLUMNS),
    place=Place(col=0, row=9, width=24, height=7),
    filters=(SUPPLIER,),
)

STOCK_BY_PRODUCT = Card(
    name="Stock by product",
    description=(
        "What is in stock per product: items, their purchase value (VAT included) and how "
        "long they have waited, the largest value first." + _BOTH_NOTE
    ),
    display="table",
    sql=f"""SELECT i.product_name,
       i.sku,
       i.brand_name,
       sum(i.items)::bigint AS items,
       coalesce(sum(i.stock_value), 0) AS stock_value,
       round(sum(i.days_in_stock_sum)::numeric / nullif(sum(i.days_in_stock_count), 0), 1)
           AS avg_days_in_stock,
       max(i.oldest_days_in_stock) AS oldest_days_in_stock
FROM analytics.unsold_stock_by_product i
WHERE TRUE
{_BY_CATEGORY_AND_SUPPLIER}
GROUP BY i.product_name, i.sku, i.brand_name
ORDER BY stock_value DESC, i.product_name, i.sku""",
    visualization=table(
        "product_name",
        "sku",
        "brand_name",
        "items",
        "stock_value",
        "avg_days_in_stock",
        "oldest_days_in_stock",
    ),
    place=Place(col=0, row=16, width=24, height=8),
    filters=(STOCK_CATEGORY, SUPPLIER),
)

SUPPLIER_PERFORMANCE = Card(
    name="Supplier performance (all time)",
    description=(
        "What each supplier's items cost and earned: purchases, sell-through, revenue, profit, "
        "days to sell and unsold stock (the weekly supplier view). Supplier narrows to one "
        "supplier."
    ),
    display="table",
    sql=f"""SELECT s.supplier_name,
       s.country,
       s.total_purchases,
       s.units_sold,
       s.sell_through_rate,
       s.total_spent,
       s.total_revenue_generated,
       s.total_profit_generated,
       round(s.avg_roi, 2) AS avg_roi,
       round(s.avg_days_to_sell, 1) AS avg_days_to_sell,
       s.unsold_units,
       s.unsold_value
FROM analytics.metabase_supplier_performance s
WHERE TRUE
{equals("s.supplier_name", SUPPLIER)}
ORDER BY s.total_revenue_generated DESC, s.supplier_name""",
    visualization=table(
        "supplier_name",
        "country",
        "total_purchases",
        "units_sold",
        "sell_through_rate",
        "total_spent",
        "total_revenue_generated",
        "total_profit_generated",
        "avg_roi",
        "avg_days_to_sell",
        "unsold_units",
        "unsold_value",
    ),
    place=Place(col=0, row=24, width=24, height=7),
    filters=(SUPPLIER,),
)

INVENTORY_MANAGEMENT = Dashboard(
    slug="inventory-management",
    name="Inventory Management",
    description=(
        "Unsold stock: its value, its age, the slow movers, what is held per product, and "
        "how each supplier's items sell. Stock category picks one age band; Supplier narrows "
        "to one supplier, typed as its business name (case does not matter)."
    ),
    filters=(STOCK_CATEGORY, SUPPLIER),
    cards=(
        CURRENT_STOCK_VALUE,
        DEAD_STOCK_COUNT,
        AVERAGE_DAYS_IN_STOCK,
        AGING_DISTRIBUTION,
        STOCK_BY_CATEGORY,
        SLOW_MOVING_ITEMS,
        STOCK_BY_PRODUCT,
        SUPPLIER_PERFORMANCE,
    ),
)
