"""Product Analytics dashboard: best sellers, brands, categories, prices, sell-through.

Cards that follow the date filters count sold stock items (one row of
metabase_inventory_status each) on the business date of their latest completed
sale; the rest show the all-time product and brand views. The stock items are
read added up per day and per month (sold_items_by_product,
sold_items_by_price_band, bought_items_by_brand, refreshed with
metabase_inventory_status): the months within the period and the days before
and after them, a few thousand rows instead of a million.
"""

from __future__ import annotations

from soleflip_analytics.dashboards.filters import (
    BRAND,
    DATE_RANGE,
    all_time_period,
    equals,
    in_period,
    whole_months,
)
from soleflip_analytics.dashboards.model import Card, Dashboard, Place
from soleflip_analytics.dashboards.visualization import chart, pie, table, top_slices

_SPAN = f"WITH {all_time_period()},\n{whole_months()}"


def _sold_in_period(view: str) -> str:
    return f"""FROM analytics.{view} i
CROSS JOIN span s
WHERE {in_period("i")}
{equals("i.brand_name", BRAND)}"""


_SOLD_ITEMS = _sold_in_period("sold_items_by_product")

_SOLD_ITEMS_NOTE = (
    " Each sold item counts on the business date of its latest completed sale. All time "
    "unless Start date / End date are set; Brand narrows to one brand."
)


def _best_sellers(name: str, what: str, column: str, expression: str, col: int) -> Card:
    return Card(
        name=name,
        description=f"The ten products with the most {what}." + _SOLD_ITEMS_NOTE,
        display="row",
        sql=f"""{_SPAN}
SELECT i.product_name,
       {expression} AS {column}
{_SOLD_ITEMS}
GROUP BY i.product_id, i.product_name
ORDER BY {column} DESC, i.product_name
LIMIT 10""",
        visualization=chart("product_name", column),
        place=Place(col=col, row=0, width=12, height=7),
        filters=(*DATE_RANGE, BRAND),
    )


BEST_SELLERS_BY_REVENUE = _best_sellers(
    "Best sellers by revenue", "revenue", "revenue", "sum(i.revenue)", col=0
)

BEST_SELLERS_BY_UNITS = _best_sellers(
    "Best sellers by units sold", "units sold", "units_sold", "sum(i.units_sold)", col=12
)

BRAND_MARKET_SHARE = Card(
    name="Brand market share (all time)",
    description=(
        "Each brand's share of the revenue of all brands, since the first sale (the market "
        "share of the brand view); beyond the eight largest, the rest as Other. Not affected "
        "by the filters."
    ),
    display="pie",
    sql=f"""WITH brands AS (
    SELECT b.brand_name, b.total_revenue, b.market_share_pct
    FROM analytics.metabase_brand_analytics b
),
{top_slices("brands", "brand_name", "total_revenue", "total_revenue", "market_share_pct")}""",
    visualization=pie("brand_name", "total_revenue"),
    place=Place(col=0, row=7, width=8, height=7),
)

CATEGORY_DISTRIBUTION = Card(
    name="Category distribution",
    description="Units sold per product category; beyond the eight largest, the rest as Other."
    + _SOLD_ITEMS_NOTE,
    display="pie",
    sql=f"""{_SPAN},
categories AS (
    SELECT coalesce(i.category_name, 'No category') AS category_name,
           sum(i.units_sold) AS units_sold
    {_SOLD_ITEMS}
    GROUP BY 1
),
{top_slices("categories", "category_name", "units_sold", "units_sold")}""",
    visualization=pie("category_name", "units_sold"),
    place=Place(col=8, row=7, width=8, height=7),
    filters=(*DATE_RANGE, BRAND),
)

PRICE_DISTRIBUTION = Card(
    name="Price distribution",
    description=(
        "Units sold per sale-price band of 50 (lower bound included; 500 and more in one "
        "band), an item's price being the average of its completed sales." + _SOLD_ITEMS_NOTE
    ),
    display="bar",
    sql=f"""{_SPAN},
bands AS (
    SELECT i.price_band AS band,
           sum(i.units_sold) AS units_sold
{_sold_in_period("sold_items_by_price_band")}
    GROUP BY 1
)
SELECT CASE WHEN band >= 10 THEN '500+'
            ELSE (band * 50)::text || '-' || (band * 50 + 50)::text END AS price_band,
       units_sold
FROM bands
ORDER BY band""",
    visualization=chart("price_band", "units_sold"),
    place=Place(col=16, row=7, width=8, height=7),
    filters=(*DATE_RANGE, BRAND),
)

SELL_THROUGH_BY_BRAND = Card(
    name="Sell-through by brand",
    description=(
        "Share of stock items bought that have sold, per brand, in percent. With Start date / "
        "End date set, only items bought (purchase date, business calendar) in that period; "
        "Brand narrows to one brand."
    ),
    display="bar",
    sql=f"""{_SPAN},
brands AS (
    SELECT coalesce(i.brand_name, 'No brand') AS brand_name,
           sum(i.items_bought)::bigint AS items_bought,
           sum(i.items_sold)::bigint AS items_sold
    FROM analytics.bought_items_by_brand i
    CROSS JOIN span s
    WHERE ({in_period("i")}
           -- Items without a purchase date count only when no date is set.
           OR (i.period = 'undated'
               AND s.first_day = DATE '-infinity' AND s.last_day = DATE 'infinity'))
    {equals("i.brand_name", BRAND)}
    GROUP BY 1
)
SELECT b.brand_name,
       b.items_bought,
       b.items_sold,
       round(b.items_sold * 100.0 / b.items_bought, 2) AS sell_through_pct
FROM brands b
ORDER BY sell_through_pct DESC, brand_name""",
    visualization=chart("brand_name", "sell_through_pct"),
    place=Place(col=0, row=14, width=24, height=6),
    filters=(*DATE_RANGE, BRAND),
)

PRODUCTS = Card(
    name="Products (all time)",
    description=(
        "Every product with a completed order: units, revenue, average price, profit and ROI "
        "since its first sale. Brand narrows to one brand; the date filters do not apply."
    ),
    display="table",
    sql=f"""SELECT pp.product_name,
       pp.product_sku,
       pp.brand_name,
       pp.units_sold,
       pp.total_revenue,
       round(pp.avg_sale_price, 2) AS avg_sale_price,
       pp.total_profit,
       round(pp.avg_roi, 2) AS avg_roi,
       pp.last_sale_date
FROM analytics.metabase_product_performance pp
WHERE TRUE
{equals("pp.brand_name", BRAND)}
ORDER BY pp.total_revenue DESC, pp.product_name""",
    visualization=table(
        "product_name",
        "product_sku",
        "brand_name",
        "units_sold",
        "total_revenue",
        "avg_sale_price",
        "total_profit",
        "avg_roi",
        "last_sale_date",
    ),
    place=Place(col=0, row=20, width=24, height=9),
    filters=(BRAND,),
)

PRODUCT_ANALYTICS = Dashboard(
    slug="product-analytics",
    name="Product Analytics",
    description=(
        "What sells: best sellers, brands, categories, price bands and sell-through. All time "
        "unless Start date / End date are set (cards marked all time ignore them); Brand "
        "narrows to one brand, typed as in the catalog (case does not matter)."
    ),
    filters=(*DATE_RANGE, BRAND),
    cards=(
        BEST_SELLERS_BY_REVENUE,
        BEST_SELLERS_BY_UNITS,
        BRAND_MARKET_SHARE,
        CATEGORY_DISTRIBUTION,
        PRICE_DISTRIBUTION,
        SELL_THROUGH_BY_BRAND,
        PRODUCTS,
    ),
)
