"""Plotly figures for the chart cards, drawn as their visualization settings say.

A card's ``display`` and settings (its visualization settings with units,
``columns.with_units``) decide the figure: line, bar and row charts plot
``graph.metrics`` over ``graph.dimensions``, a pie its ``pie.metric`` by
``pie.dimension``; titles, axis titles, currency symbols and suffixes come from
the settings, as in Metabase. A world map would need country shapes that
plotly.js does not bundle (it downloads them when drawing), so a map card is
drawn as a row chart of its ``map.metric`` by ``map.dimension``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from soleflip_analytics.dashboards.columns import column_key, currency_symbol

CHART_DISPLAYS = frozenset({"line", "bar", "row", "pie", "map"})

# Metabase's default chart colours, so that the preview looks like the dashboards.
COLORS = ("#509EE3", "#88BF4D", "#A989C5", "#EF8C8C", "#F9D45C", "#F2A86F", "#98D9D9", "#7172AD")
OTHER_COLOR = "#949AAB"  # the "Other" slice of a pie

_LAYOUT: dict[str, Any] = {
    "template": "none",
    "colorway": COLORS,
    "font": {"family": "Lato, 'Helvetica Neue', Helvetica, Arial, sans-serif", "size": 12},
    "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    "xaxis": {"automargin": True, "showgrid": False, "linecolor": "#d9d9d9"},
    "yaxis": {"automargin": True, "gridcolor": "#ececec", "zeroline": False},
}


def figure(
    display: str, settings: Mapping[str, Any], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> go.Figure:
    """The figure of a chart card (``display`` in CHART_DISPLAYS) for its query result."""
    values = {name: [row[index] for row in rows] for index, name in enumerate(columns)}
    if display == "pie":
        return _pie(values, settings)
    if display == "map":
        dimension, metric = settings["map.dimension"], settings["map.metric"]
        return _xy("row", values, settings, dimension, [metric], False)
    if display in ("line", "bar", "row"):
        (dimension,) = settings["graph.dimensions"]
        stacked = settings.get("stackable.stack_type") == "stacked"
        return _xy(display, values, settings, dimension, settings["graph.metrics"], stacked)
    raise ValueError(f"{display!r} is not a chart display")


def _column(settings: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return settings.get("column_settings", {}).get(column_key(name), {})


def _title(settings: Mapping[str, Any], name: str) -> str:
    return str(_column(settings, name).get("column_title", name))


def _value_format(settings: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Axis tick and hover formats of a value column: currency symbol, suffix, decimals."""
    column = _column(settings, name)
    prefix = column.get("prefix", "")
    if column.get("number_style") == "currency":
        prefix += currency_symbol(column["currency"])
    return {"tickprefix": prefix, "ticksuffix": column.get("suffix", "")}


def _hover(settings: Mapping[str, Any], name: str, axis: str) -> str:
    column = _column(settings, name)
    affixes = _value_format(settings, name)
    decimals = column.get("decimals", 2)
    return (
        f"%{{{'y' if axis == 'x' else 'x'}}}<br>{_title(settings, name)}: "
        f"{affixes['tickprefix']}%{{{axis}:,.{decimals}f}}{affixes['ticksuffix']}"
        "<extra></extra>"
    )


def _xy(
    display: str,
    values: Mapping[str, list[Any]],
    settings: Mapping[str, Any],
    dimension: str,
    metrics: Sequence[str],
    stacked: bool,
) -> go.Figure:
    """Line, bar or row (horizontal bar) chart: one series per metric."""
    horizontal = display == "row"
    traces = []
    for metric in metrics:
        categories, amounts = values[dimension], values[metric]
        name = str(settings.get("series_settings", {}).get(metric, {}).get("title", ""))
        name = name or _title(settings, metric)
        if display == "line":
            traces.append(
                go.Scatter(
                    x=categories, y=amounts, name=name, mode="lines+markers",
                    hovertemplate=_hover(settings, metric, "y"),
                )
            )  # fmt: skip
        elif horizontal:
            traces.append(
                go.Bar(
                    x=amounts, y=categories, name=name, orientation="h",
                    hovertemplate=_hover(settings, metric, "x"),
                )
            )  # fmt: skip
        else:
            hover = _hover(settings, metric, "y")
            traces.append(go.Bar(x=categories, y=amounts, name=name, hovertemplate=hover))
    fig = go.Figure(traces, layout=_LAYOUT)
    fig.update_layout(showlegend=len(metrics) > 1, barmode="stack" if stacked else "group")
    category_title = settings.get("graph.x_axis.title_text") or _title(settings, dimension)
    value_title = settings.get("graph.y_axis.title_text") or _title(settings, metrics[0])
    value_axis = {"title": value_title, **_value_format(settings, metrics[0])}
    if horizontal:
        # Rows top-down in the query's order, as Metabase draws a row chart.
        fig.update_layout(
            xaxis={**value_axis, "showgrid": True, "gridcolor": "#ececec"},
            yaxis={"title": category_title, "type": "category", "autorange": "reversed",
                   "showgrid": False},
        )  # fmt: skip
    else:
        fig.update_layout(xaxis={"title": category_title, "type": "category"}, yaxis=value_axis)
    return fig


def _pie(values: Mapping[str, list[Any]], settings: Mapping[str, Any]) -> go.Figure:
    dimension, metric = settings["pie.dimension"], settings["pie.metric"]
    labels = values[dimension]
    colors = itertools.cycle(COLORS)
    donut = go.Pie(
        labels=labels,
        values=values[metric],
        name=_title(settings, metric),
        hole=0.55,
        sort=False,
        textinfo="percent",
        textposition="inside",
        marker={"colors": [OTHER_COLOR if label == "Other" else next(colors) for label in labels]},
        hovertemplate=_hover(settings, metric, "value").replace("%{x}", "%{label}"),
    )
    fig = go.Figure(donut, layout=_LAYOUT)
    fig.update_layout(
        showlegend=bool(settings.get("pie.show_legend")),
        legend={"orientation": "v", "x": 1, "y": 0.5, "yanchor": "middle"},
        uniformtext={"minsize": 10, "mode": "hide"},  # no percentages on slivers
    )
    return fig
