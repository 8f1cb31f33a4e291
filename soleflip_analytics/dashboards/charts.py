"""Plotly figures for the chart cards, drawn as their visualization settings say.

A card's ``display`` and settings (``visualization``) decide the figure: line,
bar and row charts plot ``graph.metrics`` over ``graph.dimensions``, a pie its
``pie.metric`` by ``pie.dimension``. A world map would need country shapes that
plotly.js does not bundle (it downloads them when drawing), so a map card is
drawn as a row chart of its ``map.metric`` by ``map.dimension``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

CHART_DISPLAYS = frozenset({"line", "bar", "row", "pie", "map"})

# Metabase's default chart colours, so that the preview looks like the dashboards.
COLORS = ("#509EE3", "#88BF4D", "#A989C5", "#EF8C8C", "#F9D45C", "#F2A86F", "#98D9D9", "#7172AD")

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
        return _pie(values, settings["pie.dimension"], settings["pie.metric"], settings)
    if display == "map":
        return _xy("row", values, settings["map.dimension"], [settings["map.metric"]], False)
    if display in ("line", "bar", "row"):
        (dimension,) = settings["graph.dimensions"]
        stacked = settings.get("stackable.stack_type") == "stacked"
        return _xy(display, values, dimension, settings["graph.metrics"], stacked)
    raise ValueError(f"{display!r} is not a chart display")


def _xy(
    display: str,
    values: Mapping[str, list[Any]],
    dimension: str,
    metrics: Sequence[str],
    stacked: bool,
) -> go.Figure:
    """Line, bar or row (horizontal bar) chart: one series per metric."""
    horizontal = display == "row"
    traces = []
    for metric in metrics:
        categories, amounts = values[dimension], values[metric]
        if display == "line":
            traces.append(go.Scatter(x=categories, y=amounts, name=metric, mode="lines+markers"))
        elif horizontal:
            traces.append(go.Bar(x=amounts, y=categories, name=metric, orientation="h"))
        else:
            traces.append(go.Bar(x=categories, y=amounts, name=metric))
    fig = go.Figure(traces, layout=_LAYOUT)
    fig.update_layout(showlegend=len(metrics) > 1, barmode="stack" if stacked else "group")
    value_title = metrics[0] if len(metrics) == 1 else None
    if horizontal:
        # Rows top-down in the query's order, as Metabase draws a row chart.
        fig.update_layout(
            xaxis={"title": value_title, "showgrid": True, "gridcolor": "#ececec"},
            yaxis={"type": "category", "autorange": "reversed", "showgrid": False},
        )
    else:
        fig.update_layout(xaxis={"title": dimension}, yaxis={"title": value_title})
        if display == "bar":
            fig.update_xaxes(type="category")
    return fig


def _pie(
    values: Mapping[str, list[Any]], dimension: str, metric: str, settings: Mapping[str, Any]
) -> go.Figure:
    donut = go.Pie(
        labels=values[dimension],
        values=values[metric],
        name=metric,
        hole=0.55,
        sort=False,
        textinfo="percent",
        textposition="inside",
        marker={"colors": COLORS},
    )
    fig = go.Figure(donut, layout=_LAYOUT)
    fig.update_layout(
        showlegend=bool(settings.get("pie.show_legend")),
        legend={"orientation": "v", "x": 1, "y": 0.5, "yanchor": "middle"},
        uniformtext={"minsize": 10, "mode": "hide"},  # no percentages on slivers
    )
    return fig
