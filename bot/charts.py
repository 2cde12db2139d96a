"""Charts: one definition (`ChartSpec`) drawn by matplotlib as PNG for the chat and SVG for
the web console. Made for a phone: large type, at most six bars (the rest summed as
"Lainnya") or one line.

matplotlib with the Agg backend draws without a display, a browser or the network.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import matplotlib

matplotlib.use("Agg")  # before anything draws: no display, no GUI toolkit

from matplotlib.figure import Figure

MAX_BARS = 6
MAX_SERIES = 2
COLOURS = ("#1f6f8b", "#f0a500")
FONT_SIZE = 17
TITLE_SIZE = 21
SIZE_INCHES = (7.0, 7.0)
PNG_DPI = 130
LABEL_WIDTH = 18  # characters of a bar's label before it wraps
TITLE_WIDTH = 34


class ChartKind(StrEnum):
    BARS = "bars"
    LINE = "line"


@dataclass(frozen=True)
class DataSeries:
    name: str  # shown in the legend when there are two
    values: tuple[float, ...]


@dataclass(frozen=True)
class ChartSpec:
    """What to draw: a title, the category labels and one or two series of values."""

    title: str
    labels: tuple[str, ...]
    series: tuple[DataSeries, ...]
    kind: ChartKind = ChartKind.BARS

    def __post_init__(self) -> None:
        if not 1 <= len(self.series) <= MAX_SERIES:
            raise ValueError(f"a chart has 1 to {MAX_SERIES} series")
        if any(len(s.values) != len(self.labels) for s in self.series):
            raise ValueError("every series needs one value per label")
        if self.kind == ChartKind.BARS and len(self.labels) > MAX_BARS:
            raise ValueError(f"at most {MAX_BARS} bars: sum the rest with bar_chart()")
        if self.kind == ChartKind.LINE and len(self.series) != 1:
            raise ValueError("a line chart has one line")


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[DataSeries],
    *,
    other_label: str,
) -> ChartSpec:
    """Bars in the order given; beyond six, the first five and the rest summed as `other_label`."""
    labels = list(labels)
    if len(labels) <= MAX_BARS:
        return ChartSpec(title, tuple(labels), tuple(series))
    kept = MAX_BARS - 1
    folded = tuple(DataSeries(s.name, (*s.values[:kept], sum(s.values[kept:]))) for s in series)
    return ChartSpec(title, (*labels[:kept], other_label), folded)


def line_chart(title: str, labels: Sequence[str], values: Sequence[float], name: str) -> ChartSpec:
    return ChartSpec(title, tuple(labels), (DataSeries(name, tuple(values)),), kind=ChartKind.LINE)


def figure(spec: ChartSpec) -> Figure:
    """The matplotlib figure of a spec (no pyplot: nothing global, safe in threads)."""
    fig = Figure(figsize=SIZE_INCHES, layout="constrained")
    axes = fig.add_subplot()
    axes.set_title(textwrap.fill(spec.title, TITLE_WIDTH), fontsize=TITLE_SIZE, loc="left")
    axes.tick_params(labelsize=FONT_SIZE)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if spec.kind == ChartKind.LINE:
        _draw_line(axes, spec)
    else:
        _draw_bars(axes, spec)
    return fig


def _draw_line(axes, spec: ChartSpec) -> None:  # noqa: ANN001 - a matplotlib Axes
    values = spec.series[0].values
    positions = range(len(spec.labels))
    axes.plot(positions, values, color=COLOURS[0], linewidth=4, marker="o", markersize=9)
    axes.set_xticks(list(positions), spec.labels, rotation=60, ha="right")
    axes.set_ylim(bottom=0, top=max([*values, 1]) * 1.2)
    if values:
        axes.annotate(
            _number(values[-1]),
            (len(values) - 1, values[-1]),
            textcoords="offset points",
            xytext=(0, 12),
            ha="center",
            fontsize=FONT_SIZE,
            fontweight="bold",
        )
    axes.grid(axis="y", alpha=0.3)


def _draw_bars(axes, spec: ChartSpec) -> None:  # noqa: ANN001 - a matplotlib Axes
    count = len(spec.series)
    height = 0.8 / count
    rows = range(len(spec.labels))
    for index, series in enumerate(spec.series):
        offsets = [row - 0.4 + height * (index + 0.5) for row in rows]
        bars = axes.barh(offsets, series.values, height=height, color=COLOURS[index])
        axes.bar_label(
            bars, labels=[_number(v) for v in series.values], padding=4, fontsize=FONT_SIZE
        )
    axes.set_yticks(list(rows), [_wrapped(label) for label in spec.labels])
    axes.invert_yaxis()  # the first (largest) on top
    axes.set_xlim(right=max([v for s in spec.series for v in s.values] + [1]) * 1.25)
    axes.xaxis.set_visible(False)
    axes.spines["bottom"].set_visible(False)
    if count > 1:
        axes.legend([s.name for s in spec.series], fontsize=FONT_SIZE - 2, loc="lower right")


def _wrapped(label: str) -> str:
    words, lines, current = label.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > LABEL_WIDTH:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    return "\n".join(lines[:2])


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")  # Indonesian thousands: 1.234


def to_png(spec: ChartSpec) -> bytes:
    buffer = io.BytesIO()
    figure(spec).savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


def to_svg(spec: ChartSpec) -> str:
    buffer = io.StringIO()
    # Text as text (searchable, scales, small); a fixed salt makes the same chart the same file.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "sinergi"}):
        figure(spec).savefig(buffer, format="svg")
    return buffer.getvalue()
