"""Server-rendered charts of the staff dashboard: matplotlib draws each one as an SVG document
(docs/decisions/0110-admin-dashboard-charts.md), served inline as a data: URI in an <img>, so that
the page needs no JavaScript, no network and no font files; each chart is also shown as a table."""
from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; set before any figure is made

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# Colour-blind-safe palette (Okabe-Ito), cycled when there are more series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
RC: dict[Any, Any] = {"svg.fonttype": "none", "font.size": 8, "svg.hashsalt": "biatec-dashboard"}


def _data_uri(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode()).decode()


def _figure(title: str, height: float = 2.6) -> tuple[Figure, Axes]:
    # A Figure of its own (not pyplot's global state): safe in a threaded web server.
    figure = Figure(figsize=(7.5, height), dpi=100)
    axes: Axes = figure.subplots()
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def stacked_bars_svg(title: str, categories: Sequence[str], series: Mapping[str, Sequence[float]]) -> str:
    """Vertical bars per category, one stacked segment per series (a legend names them)."""
    with matplotlib.rc_context(RC):
        figure, axes = _figure(title)
        positions = list(range(len(categories)))
        bottom = [0.0] * len(categories)
        for index, (label, values) in enumerate(series.items()):
            axes.bar(positions, values, bottom=bottom, label=label,
                     color=PALETTE[index % len(PALETTE)], width=0.8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        step = max(1, len(categories) // 10)
        axes.set_xticks(positions[::step], list(categories)[::step])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        if series:
            axes.legend(loc="upper left", fontsize=7, frameon=False)
        else:
            axes.text(0.5, 0.5, "no data", ha="center", va="center",
                      transform=axes.transAxes)
        return _data_uri(figure)


def horizontal_bars_svg(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """One horizontal bar per label, the largest at the top."""
    with matplotlib.rc_context(RC):
        figure, axes = _figure(title, height=max(1.6, 0.3 * len(labels) + 0.8))
        if labels:
            axes.barh(list(range(len(labels)))[::-1], values, color=PALETTE[0],
                      tick_label=list(labels))
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            axes.text(0.5, 0.5, "no data", ha="center", va="center",
                      transform=axes.transAxes)
        return _data_uri(figure)


def line_svg(title: str, categories: Sequence[str], values: Sequence[float | None], *, y_label: str) -> str:
    """One line over the categories; None values are gaps."""
    with matplotlib.rc_context(RC):
        figure, axes = _figure(title)
        points = [float("nan") if v is None else v for v in values]
        positions = list(range(len(categories)))
        axes.plot(positions, points, marker="o", markersize=3, color=PALETTE[2])
        step = max(1, len(categories) // 10)
        axes.set_xticks(positions[::step], list(categories)[::step])
        axes.set_ylim(0, 105)
        axes.set_ylabel(y_label)
        return _data_uri(figure)
