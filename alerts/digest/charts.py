"""The digest's charts as PNG images, drawn with matplotlib's Agg backend.

Figures are built with the object API (no pyplot), so drawing keeps no global state and
is safe in the scheduler's worker threads. Images are drawn at twice the width they are
shown at, so they stay sharp on high-density screens; an empty week still gets its axes
and a short note, because a blank hole in an email looks like a broken image.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from alerts.digest.i18n import Formats
from alerts.digest.metrics import SentimentCounts, WeekReport

# Shown this wide in the email (CSS pixels: the 600 px column less its padding);
# drawn at DPI / 100 times that.
DISPLAY_WIDTH = 552
_DPI = 200
_WIDTH_INCHES = DISPLAY_WIDTH / 100

COLORS = {"negative": "#d64545", "neutral": "#9aa5b1", "positive": "#2f9e6e", "unscored": "#dde3e9"}
STAR_COLORS = ("#d64545", "#e8833a", "#e5b83b", "#8cc26b", "#2f9e6e")
INK, GRID = "#33404d", "#e6eaee"
SENTIMENT_KEYS = ("negative", "neutral", "positive", "unscored")
MAX_SOURCES = 8


@dataclass(frozen=True)
class Chart:
    """One image of the digest; `name` is stable and makes its file name and Content-ID."""

    name: str
    title: str
    png: bytes
    width: int
    height: int


def _figure(height_inches: float) -> Figure:
    figure = Figure(figsize=(_WIDTH_INCHES, height_inches), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _style(axes: Axes) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.spines[["left", "bottom"]].set_color(GRID)
    axes.tick_params(colors=INK, labelsize=8, length=0)
    axes.set_axisbelow(True)


def _note(axes: Axes, text: str) -> None:
    """Write `text` across an empty plot instead of leaving a blank image."""
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", fontsize=10, color="#6b7785")


def _chart(name: str, title: str, figure: Figure) -> Chart:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, facecolor="white")
    width, height = figure.get_size_inches()
    return Chart(name, title, buffer.getvalue(), DISPLAY_WIDTH, round(DISPLAY_WIDTH * height / width))


def _legend(axes: Axes, formats: Formats, keys: Sequence[str]) -> None:
    axes.legend(
        [formats.text(key) for key in keys],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=len(keys),
        frameon=False,
        fontsize=8,
        handlelength=1.0,
        labelcolor=INK,
    )


def _shown_keys(counts: Sequence[SentimentCounts]) -> list[str]:
    """The sentiment series worth a legend entry: 'not scored yet' only when there is any."""
    return [key for key in SENTIMENT_KEYS if key != "unscored" or any(c.unscored for c in counts)]


def daily_mentions(report: WeekReport, formats: Formats) -> Chart:
    figure = _figure(2.4)
    axes = figure.add_subplot()
    _style(axes)
    labels = [formats.day(day) for day in report.week.days]
    keys = _shown_keys(report.days)
    bottoms = [0] * len(report.days)
    for key in keys:
        values = [getattr(day, key) for day in report.days]
        axes.bar(labels, values, bottom=bottoms, color=COLORS[key], width=0.62)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if any(bottoms):
        _legend(axes, formats, keys)
    else:
        axes.set_ylim(0, 1)
        _note(axes, formats.text("chart_no_mentions"))
    return _chart("daily", formats.text("chart_daily"), figure)


def sentiment_by_source(report: WeekReport, formats: Formats) -> Chart:
    sources = report.sources[:MAX_SOURCES]
    figure = _figure(max(1.6, 0.8 + 0.32 * len(sources)))
    axes = figure.add_subplot()
    _style(axes)
    if not sources:
        axes.set_yticks([])
        axes.set_xticks([])
        _note(axes, formats.text("chart_no_mentions"))
        return _chart("sources", formats.text("chart_sources"), figure)
    names = [name for name, _ in reversed(sources)]
    counts = [c for _, c in reversed(sources)]
    keys = _shown_keys(counts)
    lefts = [0] * len(sources)
    for key in keys:
        values = [getattr(c, key) for c in counts]
        axes.barh(names, values, left=lefts, color=COLORS[key], height=0.6)
        lefts = [left + value for left, value in zip(lefts, values, strict=True)]
    axes.grid(axis="x", color=GRID, linewidth=0.8)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    _legend(axes, formats, keys)
    return _chart("sources", formats.text("chart_sources"), figure)


def rating_distribution(report: WeekReport, formats: Formats) -> Chart:
    ratings = report.current.ratings
    figure = _figure(2.0)
    axes = figure.add_subplot()
    _style(axes)
    labels = [f"{stars} {formats.text('stars_axis')}" for stars in range(1, 6)]
    bars = axes.bar(labels, ratings.distribution, color=STAR_COLORS, width=0.6)
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if ratings.count:
        axes.bar_label(bars, labels=[formats.integer(n) for n in ratings.distribution], fontsize=8, color=INK)
        axes.set_ylim(0, max(ratings.distribution) * 1.2)
    else:
        axes.set_ylim(0, 1)
        _note(axes, formats.text("no_ratings"))
    return _chart("ratings", formats.text("chart_ratings"), figure)


def net_sentiment_trend(report: WeekReport, formats: Formats) -> Chart:
    figure = _figure(2.0)
    axes = figure.add_subplot()
    _style(axes)
    positions = list(range(len(report.trend)))
    values = [counts.net_sentiment for _, counts in report.trend]
    # NaN leaves a gap in the line for a week without positive or negative mentions.
    axes.plot(
        positions,
        [math.nan if v is None else v for v in values],
        color="#3b6fb6",
        marker="o",
        markersize=4,
        linewidth=2,
    )
    axes.axhline(0, color=GRID, linewidth=1.2, zorder=0)
    axes.set_xticks(positions, [formats.text("week_axis", week=week.week) for week, _ in report.trend])
    axes.set_xlim(-0.5, len(positions) - 0.5)
    axes.set_ylim(-1.35, 1.35)
    ticks = (-1, -0.5, 0, 0.5, 1)
    axes.set_yticks(ticks, [formats.decimal(t, 1, signed=True) for t in ticks])
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    for position, value in zip(positions, values, strict=True):
        if value is not None:
            # Above a point that is up, below one that is down: away from the line's end.
            axes.annotate(
                formats.decimal(value, 2, signed=True),
                (position, value),
                textcoords="offset points",
                xytext=(0, 7 if value >= 0 else -12),
                ha="center",
                fontsize=7,
                color=INK,
            )
    if all(value is None for value in values):
        _note(axes, formats.text("chart_no_trend"))
    return _chart("trend", formats.text("chart_trend"), figure)


def draw_charts(report: WeekReport, formats: Formats) -> list[Chart]:
    """The four charts, in the order the email shows them."""
    return [
        daily_mentions(report, formats),
        sentiment_by_source(report, formats),
        rating_distribution(report, formats),
        net_sentiment_trend(report, formats),
    ]
