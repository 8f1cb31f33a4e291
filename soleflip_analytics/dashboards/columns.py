"""What the cards' result columns are called and in which unit they are shown.

Every column a card shows has an entry in ``COLUMNS``: a human title and a
unit. ``with_units`` turns a card's visualization settings into the ones
exported to Metabase: a ``column_settings`` entry per column (title, number
style, currency, decimals, suffix) and axis and series titles; the preview
formats its numbers from the same settings, so both show the same.

Money is in the business currency, a three-letter ISO 4217 code (default
EUR). It is a setting of this package rather than of the database: the cards
are exported as files without a database connection, and the views compute
nothing with it.

Percentages are stored in percent units (an ROI of 26.35 means 26.35 %), so
they get a "%" suffix; Metabase's ``number_style: percent`` would multiply by
100 once more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

DEFAULT_CURRENCY = "EUR"

# What Metabase shows for a currency in "symbol" style (the en locale's symbols);
# other currencies show their code, as Metabase does for them.
CURRENCY_SYMBOLS = {
    "EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹", "KRW": "₩",
    "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "HKD": "HK$", "MXN": "MX$", "BRL": "R$",
    "ILS": "₪", "VND": "₫", "TWD": "NT$",
}  # fmt: skip

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


class Unit(Enum):
    MONEY = "money"  # in the business currency, 2 decimals
    PERCENT = "percent"  # in percent units, 1 decimal and "%"
    COUNT = "count"  # whole numbers
    DAYS = "days"  # 1 decimal and " days"
    SCORE = "score"  # a rating, 1 decimal
    TEXT = "text"
    DATE = "date"  # a date, or a time shown as its date


@dataclass(frozen=True)
class Column:
    title: str
    unit: Unit
    decimals: int | None = None  # instead of the unit's (whole days: 0)


_M, _P, _C, _D, _T = Unit.MONEY, Unit.PERCENT, Unit.COUNT, Unit.DAYS, Unit.TEXT

COLUMNS: dict[str, Column] = {
    # money
    "revenue": Column("Revenue", _M),
    "profit": Column("Profit", _M),
    "total_revenue": Column("Revenue", _M),
    "total_profit": Column("Profit", _M),
    "total_fees": Column("Fees", _M),
    "avg_order_value": Column("Avg order", _M),
    "avg_sale_price": Column("Avg price", _M),
    "stock_value": Column("Stock value", _M),
    "gross_purchase_price": Column("Cost (gross)", _M),
    "total_spent": Column("Spent", _M),
    "total_revenue_generated": Column("Revenue", _M),
    "total_profit_generated": Column("Profit", _M),
    "unsold_value": Column("Unsold value", _M),
    # percent
    "avg_roi": Column("ROI", _P),
    "avg_fee_pct": Column("Avg fee", _P),
    "fee_pct": Column("Fee rate", _P),
    "avg_profit_margin": Column("Margin", _P),
    "market_share_pct": Column("Market share", _P),
    "sell_through_pct": Column("Sell-through", _P),
    "sell_through_rate": Column("Sell-through", _P),
    # counts
    "orders": Column("Orders", _C),
    "total_orders": Column("Orders", _C),
    "units_sold": Column("Units sold", _C),
    "items": Column("Items", _C),
    "items_bought": Column("Items bought", _C),
    "items_sold": Column("Items sold", _C),
    "dead_stock_items": Column("Dead stock items", _C),
    "total_purchases": Column("Bought", _C),
    "unsold_units": Column("Unsold", _C),
    "countries_served": Column("Countries", _C),
    "cities_served": Column("Cities", _C),
    # days
    "avg_days_in_stock": Column("Avg days in stock", _D),
    "avg_payout_days": Column("Payout time", _D),
    "avg_days_to_sell": Column("Time to sell", _D),
    "days_in_stock": Column("In stock", _D, decimals=0),
    "oldest_days_in_stock": Column("Oldest", _D, decimals=0),
    # dates
    "purchase_date": Column("Bought on", Unit.DATE),
    "last_sale_date": Column("Last sale", Unit.DATE),
    # text
    "month": Column("Month", _T),
    "platform_name": Column("Platform", _T),
    "product_name": Column("Product", _T),
    "sku": Column("SKU", _T),
    "product_sku": Column("SKU", _T),
    "brand_name": Column("Brand", _T),
    "category_name": Column("Category", _T),
    "country": Column("Country", _T),
    "price_band": Column("Sale price band", _T),
    "stock_category": Column("Age band", _T),
    "size": Column("Size", _T),
    "supplier_name": Column("Supplier", _T),
}

_DECIMALS = {Unit.MONEY: 2, Unit.PERCENT: 1, Unit.COUNT: 0, Unit.DAYS: 1, Unit.SCORE: 1}


class CurrencyError(ValueError):
    """The business currency is not a three-letter currency code."""


def check_currency(code: str) -> str:
    """``code`` in upper case, if it is a three-letter ISO 4217 code."""
    upper = code.strip().upper()
    if not _CURRENCY_CODE.fullmatch(upper):
        raise CurrencyError(
            f"{code!r} is not a currency code: give three letters of ISO 4217, e.g. EUR or USD."
        )
    return upper


def currency_symbol(code: str) -> str:
    return CURRENCY_SYMBOLS.get(code, code)


def column(name: str) -> Column:
    """The title and unit of a result column; every column a card shows needs one."""
    try:
        return COLUMNS[name]
    except KeyError:
        raise KeyError(
            f"no title and unit for the result column {name!r} (columns.COLUMNS)"
        ) from None


def column_key(name: str) -> str:
    # Metabase keys a native query's column settings by the JSON text ["name","<column>"].
    return json.dumps(["name", name], separators=(",", ":"))


def metabase_column_settings(name: str, currency: str) -> dict[str, Any]:
    """The ``column_settings`` entry of a result column."""
    described = column(name)
    settings: dict[str, Any] = {"column_title": described.title}
    unit = described.unit
    if unit in _DECIMALS:
        decimals = _DECIMALS[unit] if described.decimals is None else described.decimals
        settings.update(number_style="decimal", decimals=decimals)
    if unit is Unit.MONEY:
        settings.update(
            number_style="currency",
            currency=currency,
            currency_style="symbol",
            currency_in_header=True,
        )
    elif unit is Unit.PERCENT:
        settings["suffix"] = "%"
    elif unit is Unit.DAYS:
        settings["suffix"] = " days"
    elif unit is Unit.DATE:
        settings.update(date_style="MMMM D, YYYY", date_abbreviate=True, time_enabled=None)
    return settings


def title_with_unit(name: str, currency: str) -> str:
    """A column's title as a table header or an axis title: money with its symbol."""
    described = column(name)
    if described.unit is Unit.MONEY:
        return f"{described.title} ({currency_symbol(currency)})"
    return described.title


def with_units(settings: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """The card's visualization settings with titles and units for every column it names."""
    result = dict(settings)
    result["column_settings"] = {
        column_key(name): metabase_column_settings(name, currency)
        for name in shown_columns(settings)
    }
    dimensions = list(settings.get("graph.dimensions", []))
    metrics = list(settings.get("graph.metrics", []))
    if dimensions and metrics:
        result["graph.x_axis.title_text"] = column(dimensions[0]).title
        result["graph.y_axis.title_text"] = _value_axis_title(metrics, currency)
        result["series_settings"] = {metric: {"title": column(metric).title} for metric in metrics}
    return result


def _value_axis_title(metrics: list[str], currency: str) -> str:
    if len(metrics) == 1:
        return title_with_unit(metrics[0], currency)
    units = {column(metric).unit for metric in metrics}
    if units == {Unit.MONEY}:
        return f"Amount ({currency_symbol(currency)})"
    return " and ".join(column(metric).title for metric in metrics)


def shown_columns(settings: Mapping[str, Any]) -> list[str]:
    """The result columns the settings show, in order, each once."""
    names: list[str] = []
    for key in ("scalar.field", "pie.dimension", "pie.metric", "map.dimension", "map.metric"):
        value = settings.get(key)
        if isinstance(value, str):
            names.append(value)
    for key in ("graph.dimensions", "graph.metrics"):
        names.extend(settings.get(key, []))
    names.extend(c["name"] for c in settings.get("table.columns", []) if c.get("enabled", True))
    return list(dict.fromkeys(names))
