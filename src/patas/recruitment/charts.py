"""Dashboard charts as SVG, drawn server-side with matplotlib (no pyplot, no display: Agg-safe).

Each chart reads only its Table, so the page, the download and the static export agree.
"""

from __future__ import annotations

import io
from itertools import accumulate
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from patas.recruitment.dashboard import Chart, Table  # noqa: E402

STYLE = {
    "svg.fonttype": "none",  # text stays text: small files, selectable labels
    "svg.hashsalt": "patas",  # stable ids: the same data gives the same file
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
MAX_BARS = 40


def _series(table: Table, chart: Chart) -> tuple[list[Any], dict[str, list[float]]]:
    """x values and {series name: y values}; long tables are pivoted on `chart.series`."""
    rows = table.rows[:-1] if table.extra.get("chart_skip_last") else table.rows
    ix = table.columns.index(chart.x)
    if chart.series:
        xs = sorted({r[ix] for r in rows}, key=str)
        si, vi = table.columns.index(chart.series), table.columns.index(chart.value)
        names = sorted({str(r[si]) for r in rows})
        grid = {name: dict.fromkeys(xs, 0.0) for name in names}
        for r in rows:
            grid[str(r[si])][r[ix]] += float(r[vi] or 0)
        series = {name: [grid[name][x] for x in xs] for name in names}
    else:
        xs = [r[ix] for r in rows]
        series = {y: [float(r[table.columns.index(y)] or 0) for r in rows] for y in chart.ys}
    if chart.cumulative:
        series = {name: list(accumulate(values)) for name, values in series.items()}
    return xs, series


def render(table: Table) -> bytes:
    """The table's chart as an SVG document (an empty frame saying so when there is no data)."""
    chart = table.chart
    with rc_context(STYLE):  # type: ignore[arg-type]
        figure = Figure(figsize=(6.4, 2.8))
        figure.subplots_adjust(left=0.09, right=0.98, top=0.88, bottom=0.12)
        axes = figure.add_subplot()
        xs, series = _series(table, chart) if chart else ([], {})
        if not xs:
            axes.text(0.5, 0.5, "—", ha="center", va="center", transform=axes.transAxes)
            axes.set_xticks([])
            axes.set_yticks([])
        elif chart is not None and chart.kind == "lines":
            for name, values in series.items():
                axes.plot(range(len(xs)), values, label=name, linewidth=1.5)
            _ticks(axes, xs)
        elif chart is not None:
            _bars(axes, xs[:MAX_BARS], {k: v[:MAX_BARS] for k, v in series.items()})
        if chart is not None and chart.share and xs:
            axes.yaxis.set_major_formatter(PercentFormatter(1.0))
            axes.set_ylim(0, 1.05)
        if len(series) > 1 and xs:
            axes.legend(frameon=False, fontsize=8)
        axes.set_title(str(table.title), loc="left", fontsize=10)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _ticks(axes: Any, xs: list[Any]) -> None:
    step = max(1, len(xs) // 8)
    positions = list(range(0, len(xs), step))
    axes.set_xticks(positions, [str(xs[i]) for i in positions], rotation=0, fontsize=7)


def _bars(axes: Any, xs: list[Any], series: dict[str, list[float]]) -> None:
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        axes.bar([x + offset for x in range(len(xs))], values, width=width, label=name)
    _ticks(axes, xs)
