"""Platform Performance dashboard: orders, revenue, fees and payouts per sales platform.

Cards that follow the date filters read the daily metabase_executive_metrics;
payout days, the platform table and geographic reach exist only all-time, in
metabase_platform_performance. Platform matches a platform's name or slug.
"""

from __future__ import annotations

from soleflip_analytics.dashboards.filters import DATE_RANGE, PLATFORM, equals_any, within_dates
from soleflip_analytics.dashboards.model import Card, Dashboard, Place
from soleflip_analytics.dashboards.visualization import chart, scalar, table

_DAILY_SALES = f"""FROM analytics.metabase_executive_metrics e
WHERE TRUE
{within_dates("e.sale_date")}
{equals_any(("e.platform_name", "e.platform_slug"), PLATFORM)}"""

_ALL_PLATFORMS = f"""FROM analytics.metabase_platform_performance pp
WHERE TRUE
{equals_any(("pp.platform_name", "pp.platform_slug"), PLATFORM)}"""

_PERIOD_NOTE = " All time unless Start date / End date are set; Platform narrows to one platform."
_ALL_TIME_NOTE = " Since the first sale; Platform narrows to one platform, the dates do not apply."


def _kpi(name: str, description: str, column: str, expression: str, col: int) -> Card:
    return Card(
        name=name,
        description=description + _PERIOD_NOTE,
        display="scalar",
        sql=f"SELECT {expression} AS {column}\n{_DAILY_SALES}",
        visualization=scalar(column),
        place=Place(col=col, row=0, width=6, height=3),
        filters=(*DATE_RANGE, PLATFORM),
    )


PLATFORM_ORDERS = _kpi(
    "Platform orders",
    "Completed orders on the platforms.",
    "orders",
    "coalesce(sum(e.total_orders), 0)",
    col=0,
)

PLATFORM_REVENUE = _kpi(
    "Platform revenue",
    "What buyers paid for completed orders (gross sales).",
    "revenue",
    "coalesce(sum(e.total_revenue), 0)",
    col=6,
)

AVERAGE_FEE_PCT = _kpi(
    "Average fee %",
    "Platform fees as a percentage of revenue (the revenue-weighted average fee rate).",
    "avg_fee_pct",
    "round(sum(e.total_fees) / nullif(sum(e.total_revenue), 0) * 100, 2)",
    col=12,
)

AVERAGE_PAYOUT_DAYS = Card(
    name="Average payout days (all time)",
    description=(
        "Average days from sale to payout, over orders with a payout date; across several "
        "platforms, their averages weighted by payouts received." + _ALL_TIME_NOTE
    ),
    display="scalar",
    sql=f"""SELECT round(sum(pp.avg_payout_days * pp.payouts_received)
             / nullif(sum(pp.payouts_received) FILTER (WHERE pp.avg_payout_days IS NOT NULL), 0),
             1) AS avg_payout_days
{_ALL_PLATFORMS}""",
    visualization=scalar("avg_payout_days"),
    place=Place(col=18, row=0, width=6, height=3),
    filters=(PLATFORM,),
)

REVENUE_BY_PLATFORM = Card(
    name="Revenue by platform",
    description="Revenue and profit of completed orders per platform." + _PERIOD_NOTE,
    display="bar",
    sql=f"""SELECT e.platform_name,
       sum(e.total_revenue) AS revenue,
       sum(e.total_profit) AS profit
{_DAILY_SALES}
GROUP BY e.platform_id, e.platform_name
ORDER BY revenue DESC, e.platform_name""",
    visualization=chart("platform_name", "revenue", "profit"),
    place=Place(col=0, row=3, width=12, height=6),
    filters=(*DATE_RANGE, PLATFORM),
)

FEE_COMPARISON = Card(
    name="Fee comparison",
    description=(
        "Platform fees as a percentage of revenue, and fees in total, per platform." + _PERIOD_NOTE
    ),
    display="bar",
    sql=f"""SELECT e.platform_name,
       round(sum(e.total_fees) / nullif(sum(e.total_revenue), 0) * 100, 2) AS fee_pct,
       sum(e.total_fees) AS total_fees
{_DAILY_SALES}
GROUP BY e.platform_id, e.platform_name
ORDER BY fee_pct DESC NULLS LAST, e.platform_name""",
    visualization=chart("platform_name", "fee_pct"),
    place=Place(col=12, row=3, width=12, height=6),
    filters=(*DATE_RANGE, PLATFORM),
)

PLATFORMS = Card(
    name="Platforms (all time)",
    description=(
        "Each platform's orders, revenue, fees (the average fee averages each order's fee "
        "percentage), margin, ROI and payout time." + _ALL_TIME_NOTE
    ),
    display="table",
    sql=f"""SELECT pp.platform_name,
       pp.total_orders,
       pp.total_revenue,
       round(pp.avg_order_value, 2) AS avg_order_value,
       pp.total_fees,
       pp.avg_fee_pct,
       pp.total_profit,
       pp.avg_profit_margin,
       round(pp.avg_roi, 2) AS avg_roi,
       round(pp.avg_payout_days, 1) AS avg_payout_days
{_ALL_PLATFORMS}
ORDER BY pp.total_revenue DESC, pp.platform_name""",
    visualization=table(
        "platform_name",
        "total_orders",
        "total_revenue",
        "avg_order_value",
        "total_fees",
        "avg_fee_pct",
        "total_profit",
        "avg_profit_margin",
        "avg_roi",
        "avg_payout_days",
    ),
    place=Place(col=0, row=9, width=24, height=6),
    filters=(PLATFORM,),
)

GEOGRAPHIC_COVERAGE = Card(
    name="Geographic coverage (all time)",
    description="Distinct buyer countries and cities each platform has sold to." + _ALL_TIME_NOTE,
    display="bar",
    sql=f"""SELECT pp.platform_name,
       pp.countries_served,
       pp.cities_served
{_ALL_PLATFORMS}
ORDER BY pp.countries_served DESC, pp.platform_name""",
    visualization=chart("platform_name", "countries_served", "cities_served"),
    place=Place(col=0, row=15, width=24, height=6),
    filters=(PLATFORM,),
)

PLATFORM_PERFORMANCE = Dashboard(
    slug="platform-performance",
    name="Platform Performance",
    description=(
        "How each sales platform performs: orders, revenue, fees, payouts and reach. All time "
        "unless Start date / End date are set (cards marked all time ignore them); Platform "
        "narrows to one platform, by name or slug (case does not matter)."
    ),
    filters=(*DATE_RANGE, PLATFORM),
    cards=(
        PLATFORM_ORDERS,
        PLATFORM_REVENUE,
        AVERAGE_FEE_PCT,
        AVERAGE_PAYOUT_DAYS,
        REVENUE_BY_PLATFORM,
        FEE_COMPARISON,
        PLATFORMS,
        GEOGRAPHIC_COVERAGE,
    ),
)
