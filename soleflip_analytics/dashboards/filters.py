"""The dashboard filters, and the SQL clauses through which a card obeys them.

Dates are plain ``date`` variables filled by two "Single date" filters, Start
date and End date, rather than one field filter: a field filter needs the
Metabase field id of a column, which exists only after Metabase has synced the
database, so exported payloads could not carry it; plain variables work in any
Metabase as exported. Every clause is optional (``[[...]]``): a filter left
empty leaves the card on its default period.

Calendar dates are business dates, in the time zone of ``analytics.settings``,
like every date column of the views.
"""

from __future__ import annotations

from soleflip_analytics.dashboards.model import Filter

START_DATE = Filter("start_date", "Start date", "date/single")
END_DATE = Filter("end_date", "End date", "date/single")
BRAND = Filter("brand", "Brand", "string/=")
PLATFORM = Filter("platform", "Platform", "string/=")
SUPPLIER = Filter("supplier", "Supplier", "string/=")
STOCK_CATEGORY = Filter(
    "stock_category",
    "Stock category",
    "string/=",
    choices=("Fast Moving", "Normal", "Slow Moving", "Dead Stock", "Unknown", "Sold"),
)

DATE_RANGE = (START_DATE, END_DATE)

_BUSINESS_ZONE = "(SELECT business_time_zone FROM analytics.settings)"


def variable(flt: Filter) -> str:
    """The filter's variable as it is written in a query: ``{{slug}}``."""
    return "{{" + flt.slug + "}}"


def _date(flt: Filter) -> str:
    return f"CAST({variable(flt)} AS date)"


def business_date(timestamp: str) -> str:
    """The business-calendar date of a timestamptz expression."""
    return f"({timestamp} AT TIME ZONE {_BUSINESS_ZONE})::date"


def within_dates(date: str) -> str:
    """``AND`` clauses keeping rows whose date lies from Start date to End date, both
    included; with neither set, every row (all time)."""
    return f"[[AND {date} >= {_date(START_DATE)}]]\n[[AND {date} <= {_date(END_DATE)}]]"


def period(default_months: int) -> str:
    """A CTE ``period`` (first_day, last_day, today, zone) for cards whose default is
    not all time: by default the last ``default_months`` calendar months up to today
    (1 = this month); Start date and End date replace either end. With only End date
    set, the period is the ``default_months`` months ending in End date's month."""
    end_or_today = f"coalesce([[{_date(END_DATE)},]] clock.today)"
    return f"""period AS (
    SELECT coalesce([[{_date(START_DATE)},]]
                    (date_trunc('month', CAST({end_or_today} AS timestamp))
                     - interval '{default_months - 1} months')::date) AS first_day,
           coalesce([[{_date(END_DATE)},]] DATE 'infinity') AS last_day,
           clock.today,
           clock.zone
    FROM (SELECT business_time_zone AS zone,
                 (now() AT TIME ZONE business_time_zone)::date AS today
          FROM analytics.settings) AS clock
)"""


def equals(column: str, flt: Filter) -> str:
    """An ``AND`` clause: the column equals the filter's value, ignoring case."""
    return f"[[AND lower({column}) = lower({variable(flt)})]]"


def equals_any(columns: tuple[str, ...], flt: Filter) -> str:
    """An ``AND`` clause: one of the columns equals the filter's value, ignoring case."""
    listed = ", ".join(f"lower({column})" for column in columns)
    return f"[[AND lower({variable(flt)}) IN ({listed})]]"
