"""Measurement trend charts (mm over time, one line per site) as SVG, drawn with matplotlib's
object API (no pyplot: no global state, safe in threads). Used inline in the review page and
embedded in the PDF. Site names are free text: matplotlib writes them as SVG text nodes, escaped."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # before any figure code; never a display
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text (smaller, selectable, escaped)
matplotlib.rcParams["svg.hashsalt"] = "secondopinion"  # deterministic ids: same data, same SVG


@dataclass(frozen=True)
class Point:
    site: str
    on: date
    value_mm: Decimal


def series(points: Iterable[Point]) -> dict[str, list[Point]]:
    """Points grouped by site, each site in date order."""
    grouped: dict[str, list[Point]] = defaultdict(list)
    for point in points:
        grouped[point.site].append(point)
    return {site: sorted(values, key=lambda p: p.on) for site, values in sorted(grouped.items())}


def trend_svg(
    points: Iterable[Point], *, title: str = "", y_label: str = "mm", width_in: float = 6.0, height_in: float = 3.0
) -> str:
    """An SVG line chart of the measurements; empty string when there is nothing to draw."""
    grouped = series(points)
    if not grouped:
        return ""
    figure = Figure(figsize=(width_in, height_in), dpi=96)
    axes = figure.add_subplot()
    for site, values in grouped.items():
        axes.plot(
            [p.on for p in values],  # type: ignore[arg-type]
            [float(p.value_mm) for p in values],
            marker="o",
            label=site,
        )
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_ylabel(y_label)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    if title:
        axes.set_title(title)
    if len(grouped) > 1:
        axes.legend(fontsize="small")
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    # Drop the XML prolog and DOCTYPE so the SVG can be inlined in HTML.
    return svg[svg.index("<svg") :]
