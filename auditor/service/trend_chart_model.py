"""What a trend chart is, as data: the frozen dataclasses the template draws, and their words.

``trend_chart`` computes the geometry of one metric's trend (``build_trend_chart``) and returns
it as a ``TrendChart``; ``templates/service/_trend_chart.html.j2`` draws it. This module holds
only those plain, immutable descriptions (axis ticks, each group's line and verdict markers,
thresholds, gaps, the data table's rows) and the small helpers that turn values into their text:
a group's label, a verdict's mark, a number, a shortened version.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.service.trend_reference import ReferenceMark

VERSION_CHARS = 12
VERDICT_MARKS = {  # a row's verdict -> css class, symbol, word: never colour alone
    "pass": ("pass", "●", "pass"),
    "fail": ("fail", "✕", "fail"),
    "error": ("fail", "✕", "error"),
    "inconclusive": ("inconclusive", "▲", "inconclusive"),
    "insufficient_data": ("inconclusive", "▲", "insufficient data"),
    "waived": ("waived", "◆", "waived"),
}
NO_VERDICT = ("none", "○", "not judged")


@dataclass(frozen=True)
class XTick:
    """A labelled audit slot on the x axis."""

    x: float
    version: str
    date: str


@dataclass(frozen=True)
class YTick:
    y: float
    label: str


@dataclass(frozen=True)
class Marker:
    """One defined value: its verdict mark (an SVG path), whisker and tooltip text."""

    x: float
    y: float
    shape: str
    css: str
    symbol: str
    ci_top: float | None
    ci_bottom: float | None
    cap_left: float
    cap_right: float
    title: str


@dataclass(frozen=True)
class Series:
    """One group's line: path pieces between gaps, its markers and where it is undefined."""

    group: str
    colour: str
    dash: str
    paths: tuple[str, ...]
    markers: tuple[Marker, ...]
    undefined_in: tuple[str, ...]


@dataclass(frozen=True)
class Threshold:
    """The policy's limit as a dashed path and its label in the right margin."""

    path: str
    label: str
    label_y: float


@dataclass(frozen=True)
class Gap:
    """An 'n/a' mark at the foot of a slot where some group's value is undefined."""

    x: float
    title: str


@dataclass(frozen=True)
class TableRow:
    """One row of the chart's data table (the accessible alternative to the picture)."""

    when: str
    version: str
    group: str
    value: str
    interval: str
    verdict_symbol: str
    verdict_word: str
    verdict_css: str
    reference: str
    reference_was: str | None  # the previous audit's reference of this group, if it differed


@dataclass(frozen=True)
class TrendChart:
    """Everything the template needs to draw one metric's trend."""

    metric: str
    slug: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_ticks: tuple[XTick, ...]
    y_ticks: tuple[YTick, ...]
    tick_end: float
    version_y: float
    date_y: float
    y_label_x: float
    threshold_label_x: float
    gap_y: float
    series: tuple[Series, ...]
    thresholds: tuple[Threshold, ...]
    gaps: tuple[Gap, ...]
    reference_marks: tuple[ReferenceMark, ...]
    notes: tuple[str, ...]
    description: str
    rows: tuple[TableRow, ...]


def group_label(group_key: str) -> str:
    """The group as shown: '' is the value over all rows."""
    return group_key or "all rows"


def verdict_mark(verdict: str | None) -> tuple[str, str, str]:
    """(css class, symbol, word) of a row's verdict."""
    return VERDICT_MARKS.get(verdict or "", NO_VERDICT)


def number(value: float | None) -> str:
    """Three decimals, or 'undefined'."""
    return "undefined" if value is None else f"{value:.3f}"


def short(text: str, limit: int = VERSION_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
