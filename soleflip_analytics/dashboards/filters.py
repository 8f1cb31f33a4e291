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


def variable(flt: Filter) -> str:
    """The filter's variable as it is written in a query: ``{{slug}}``."""
    return "{{" + flt.slug + "}}"


def _date(flt: Filter) -> str:
    return f"CAST({variable(flt)} AS date)"


def within_dates(date: str) -> str:
    """``AND`` clauses keeping rows whose date lies from Start date to End date, both
    included; with neither set, every row (all time)."""
    return f"[[AND {date} >= {_date(START_DATE)}]]\n[[AND {date} <= {_date(END_DATE)}]]"


def period(default_months: int) -> str:
    """A CTE ``period`` (first_day, last_day, today, zone) for cards whose default is
    not all time: by default the last ``default_months`` calendar months up to today
    (1 = this month); Start date and End date replace either end. With only End date
    set, the period is the ``default_months`` months ending in End date's month.

    ``LIMIT 1`` says what the planner cannot know, that analytics.settings has one
    row: estimating more made it multiply every join by a guess and compile the
    query to machine code (JIT) for much longer than the query takes."""
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
          FROM analytics.settings LIMIT 1) AS clock
)"""


def equals(column: str, flt: Filter) -> str:
    """An ``AND`` clause: the column equals the filter's value, ignoring case."""
    return f"[[AND lower({column}) = lower({variable(flt)})]]"


def equals_any(columns: tuple[str, ...], flt: Filter) -> str:
    """An ``AND`` clause: one of the columns equals the filter's value, ignoring case."""
    listed = ", ".join(f"lower({column})" for column in columns)
    return f"[[AND lower({variable(flt)}) IN ({listed})]]"


def all_time_period() -> str:
    """A CTE ``period`` (first_day, last_day) for cards that show all time by default:
    Start date and End date bound either end, an unset end is -infinity / infinity."""
    return f"""period AS (
    SELECT coalesce([[{_date(START_DATE)},]] DATE '-infinity') AS first_day,
           coalesce([[{_date(END_DATE)},]] DATE 'infinity') AS last_day
)"""


def whole_months() -> str:
    """A CTE ``span``: the ``period`` CTE's first_day and last_day, and the whole
    months within them, from months_from up to (not including) months_to; when the
    period lies within one month, months_from comes after months_to.

    It serves the views with a row per day and a row per month (column ``period``,
    ``day`` or ``month``, and ``period_start``): see ``in_period``."""
    return """span AS (
    SELECT p.first_day,
           p.last_day,
           (date_trunc('month', CAST(p.first_day - 1 AS timestamp))
            + interval '1 month')::date AS months_from,
           date_trunc('month', CAST(p.last_day + 1 AS timestamp))::date AS months_to
    FROM period p
)"""


def in_period(alias: str) -> str:
    """A condition on a view with a row per day and a row per month (``period``,
    ``period_start``), joined with the ``span`` CTE as ``s``: it keeps the month rows
    of the whole months from first_day to last_day and the day rows of the days
    before and after them, so that every day of the period counts once and the
    fewest rows are read."""
    a = alias
    return f"""(({a}.period = 'month'
        AND {a}.period_start >= s.months_from AND {a}.period_start < s.months_to)
    OR ({a}.period = 'day'
        AND {a}.period_start >= s.first_day
        AND {a}.period_start < least(s.months_from, s.last_day + 1))
    OR ({a}.period = 'day'
        AND {a}.period_start >= greatest(s.months_from, s.months_to)
        AND {a}.period_start <= s.last_day))"""
