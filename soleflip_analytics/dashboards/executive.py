"""Executive dashboard: this month's headline figures, the revenue trend, where sales come from."""

from __future__ import annotations

from soleflip_analytics.dashboards.filters import DATE_RANGE, in_period, period, whole_months
from soleflip_analytics.dashboards.model import Card, Dashboard, Place
from soleflip_analytics.dashboards.visualization import chart, scalar, table, world_map

_THIS_MONTH = (
    " in the current business month, up to today (month to date); with Start date or End "
    "date set, over that period instead (End date alone: its month)."
)


def _month_kpi(name: str, description: str, column: str, expression: str, col: int) -> Card:
    return Card(
        name=name,
        description=description + _THIS_MONTH,
        display="scalar",
        sql=f"""WITH {period(1)}
SELECT {expression} AS {column}
FROM analytics.metabase_executive_metrics e
CROSS JOIN period p
WHERE e.sale_date BETWEEN p.first_day AND p.last_day""",
        visualization=scalar(column),
        place=Place(col=col, row=0, width=6, height=3),
        filters=DATE_RANGE,
    )


REVENUE_THIS_MONTH = _month_kpi(
    "Revenue this month",
    "What buyers paid for completed orders (gross sales)",
    "revenue",
    "coalesce(sum(e.total_revenue), 0)",
    col=0,
)

PROFIT_THIS_MONTH = _month_kpi(
    "Profit this month",
    "Net profit of completed orders (proceeds minus purchase cost)",
    "profit",
    "coalesce(sum(e.total_profit), 0)",
    col=6,
)

AVERAGE_ROI_THIS_MONTH = _month_kpi(
    "Average ROI this month",
    "Average return on investment of completed orders, in percent, weighted by the number "
    "of orders of each day and platform",
    "avg_roi",
    "round(sum(e.avg_roi * e.total_orders)"
    " / nullif(sum(e.total_orders) FILTER (WHERE e.avg_roi IS NOT NULL), 0), 2)",
    col=12,
)

ORDERS_THIS_MONTH = _month_kpi(
    "Orders this month",
    "Number of completed orders",
    "orders",
    "coalesce(sum(e.total_orders), 0)",
    col=18,
)

REVENUE_TREND = Card(
    name="Revenue trend by month",
    description=(
        "Revenue and profit per business month, months without sales shown as 0. By default "
        "the last 12 months up to this one; Start date and End date choose another period. "
        "A month the period covers only in part is marked: the current one \"month to date\", "
        "one cut by Start date or End date \"partial\"."
    ),
    display="line",
    sql=f"""WITH {period(12)},
months AS (
    SELECT month::date AS sale_month,
           (month + interval '1 month')::date - 1 AS month_end
    FROM period p,
         generate_series(
             date_trunc('month', CAST(greatest(p.first_day,
                 (SELECT min(sale_date) FROM analytics.metabase_executive_metrics)) AS timestamp)),
             date_trunc('month', CAST(least(p.last_day, p.today) AS timestamp)),
             interval '1 month') AS month
),
totals AS (
    SELECT e.sale_month,
           sum(e.total_revenue) AS revenue,
           sum(e.total_profit) AS profit
    FROM analytics.metabase_executive_metrics e
    CROSS JOIN period p
    WHERE e.sale_date BETWEEN p.first_day AND p.last_day
    GROUP BY e.sale_month
)
SELECT m.sale_month,
       to_char(m.sale_month, 'Mon YYYY')
       || CASE WHEN m.month_end >= p.today AND p.last_day >= p.today THEN ' (month to date)'
               WHEN m.month_end > p.last_day OR m.sale_month < p.first_day THEN ' (partial)'
               ELSE '' END AS month,
       coalesce(t.revenue, 0) AS revenue,
       coalesce(t.profit, 0) AS profit
FROM months m
CROSS JOIN period p
LEFT JOIN totals t ON t.sale_month = m.sale_month
ORDER BY m.sale_month""",
    visualization=chart("month", "revenue", "profit"),
    place=Place(col=0, row=3, width=16, height=6),
    filters=DATE_RANGE,
)

REVENUE_SPLIT_BY_PLATFORM = Card(
    name="Revenue split by platform",
    description=(
        "Revenue of completed orders per sales platform. By default the last 12 months; "
        "Start date and End date choose another period."
    ),
    display="bar",
    sql=f"""WITH {period(12)}
SELECT e.platform_name,
       sum(e.total_revenue) AS revenue,
       sum(e.total_orders) AS orders
FROM analytics.metabase_executive_metrics e
CROSS JOIN period p
WHERE e.sale_date BETWEEN p.first_day AND p.last_day
GROUP BY e.platform_id, e.platform_name
ORDER BY revenue DESC, e.platform_name""",
    visualization=chart("platform_name", "revenue"),
    place=Place(col=16, row=3, width=8, height=6),
    filters=DATE_RANGE,
)

TOP_PRODUCTS = Card(
    name="Top 10 products by revenue",
    description=(
        "The ten products whose items sold for the most. An item counts on the business date "
        "of its latest completed sale, with all its completed orders. By default the last "
        "12 months; Start date and End date choose another period."
    ),
    display="table",
    sql=f"""WITH {period(12)},
{whole_months()}
SELECT i.product_name,
       i.sku,
       i.brand_name,
       sum(i.units_sold) AS units_sold,
       sum(i.revenue) AS revenue,
       sum(i.profit) AS profit
FROM analytics.sold_items_by_product i
CROSS JOIN span s
WHERE {in_period("i")}
GROUP BY i.product_id, i.product_name, i.sku, i.brand_name
ORDER BY revenue DESC, i.product_name
LIMIT 10""",
    visualization=table("product_name", "sku", "brand_name", "units_sold", "revenue", "profit"),
    place=Place(col=0, row=9, width=12, height=8),
    filters=DATE_RANGE,
)

SALES_BY_COUNTRY = Card(
    name="Sales by country (all time)",
    description=(
        "Completed orders and revenue by buyer destination country, since the first sale. "
        "Orders without a destination country are not shown. Not affected by the date filters."
    ),
    display="map",
    sql="""SELECT g.country,
       sum(g.total_orders) AS orders,
       sum(g.total_revenue) AS revenue
FROM analytics.metabase_customer_geography g
GROUP BY g.country
ORDER BY revenue DESC, g.country""",
    visualization=world_map("country", "revenue"),
    place=Place(col=12, row=9, width=12, height=8),
)

EXECUTIVE = Dashboard(
    slug="executive",
    name="Executive",
    description=(
        "Headline figures of the resale business. The four numbers on top cover the current "
        "business month, the charts the last 12 months, unless Start date / End date are set. "
        "Only completed orders count; dates are business dates (analytics.settings)."
    ),
    filters=DATE_RANGE,
    cards=(
        REVENUE_THIS_MONTH,
        PROFIT_THIS_MONTH,
        AVERAGE_ROI_THIS_MONTH,
        ORDERS_THIS_MONTH,
        REVENUE_TREND,
        REVENUE_SPLIT_BY_PLATFORM,
        TOP_PRODUCTS,
        SALES_BY_COUNTRY,
    ),
)
