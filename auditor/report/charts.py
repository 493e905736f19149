"""Charts for the report: one bar chart of a rate by group, as an inline SVG data URI.

Charts draw what an :class:`~auditor.results.GroupTable` holds and compute nothing new. They
are drawn with a bare :class:`matplotlib.figure.Figure` (no pyplot, so the caller's backend is
never switched) and written as SVG with a fixed hash salt and no date, so the same table gives
the same bytes. Text is drawn as paths: the chart looks the same on a machine without fonts.
"""

from __future__ import annotations

import base64
import io
from contextlib import AbstractContextManager
from dataclasses import dataclass

from auditor.results import REASON_TEXT, GroupTable

_WIDTH_IN = 6.3  # fits the A4 text width (170 mm) with a little room
_ROW_IN = 0.26
_MAX_HEIGHT_IN = 8.5
_LABEL_CHARS = 42
_BAR = "#6b8fb3"
_BAR_REFERENCE = "#3d3d3d"


@dataclass(frozen=True)
class Chart:
    """An image ready for an ``<img>``: its data URI, alt text and a visible caption."""

    uri: str
    alt: str
    caption: str
    compact: bool = False  # drawn at a fixed size smaller than the text width


@dataclass(frozen=True)
class _Point:
    group: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    reason: str


def plain_label(text: str) -> str:
    """Escape ``$`` so matplotlib never reads data as mathtext; shorten long labels."""
    if len(text) > _LABEL_CHARS:
        text = text[: _LABEL_CHARS - 1] + "…"
    return text.replace("$", r"\$")


def _points(table: GroupTable, metric: str, max_groups: int) -> list[_Point]:
    points = []
    for row in table.rows[:max_groups]:
        cell = row.metrics.get(metric)
        if cell is None:
            points.append(_Point(row.group, None, None, None, "not measured"))
            continue
        value = cell.value
        reason = REASON_TEXT[value.reason] if value.reason else "no reason given"
        points.append(_Point(row.group, value.value, value.ci_low, value.ci_high, reason))
    return points


def _reference_value(table: GroupTable, metric: str) -> float | None:
    for row in table.rows:
        if row.group == table.reference and metric in row.metrics:
            return row.metrics[metric].value.value
    return None


def _alt_text(table: GroupTable, label: str, points: list[_Point], ref: float | None) -> str:
    ref_text = f"{ref:.3f}" if ref is not None else "undefined"
    parts = [
        f"Bar chart of {label.lower()} by group for {table.attribute}.",
        f"Reference group {table.reference}: {ref_text}.",
    ]
    for point in points:
        if point.value is None:
            parts.append(f"{point.group}: undefined ({point.reason}).")
        elif point.ci_low is not None and point.ci_high is not None:
            parts.append(
                f"{point.group}: {point.value:.3f}, interval {point.ci_low:.3f} "
                f"to {point.ci_high:.3f}."
            )
        else:
            parts.append(f"{point.group}: {point.value:.3f}.")
    hidden = len(table.rows) - len(points)
    if hidden > 0:
        parts.append(f"{hidden:,} more groups are not drawn.")
    return " ".join(parts)


def chart_style() -> AbstractContextManager[None]:
    """The report's matplotlib settings, for the duration of one drawing."""
    from matplotlib import rc_context

    return rc_context(
        {
            "svg.hashsalt": "auditor-report",  # fixed ids: the same chart, the same bytes
            "svg.fonttype": "path",  # text as outlines: no font needed where it is shown
            "font.family": "DejaVu Sans",
            "font.size": 8.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def svg_uri(svg: bytes) -> str:
    """An SVG as a data URI for an ``<img>`` (the PDF renderer fetches nothing else)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _draw(points: list[_Point], ref: float | None, reference: str, label: str) -> bytes:
    from matplotlib.figure import Figure

    height = min(_MAX_HEIGHT_IN, 1.1 + _ROW_IN * len(points))
    with chart_style():
        fig = Figure(figsize=(_WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
        values_column = ax.get_yaxis_transform()  # x in axes fraction, y in data
        highs = [p.ci_high if p.ci_high is not None else p.value or 0.0 for p in points]
        right = min(1.0, max([*highs, ref or 0.0, 0.05]) * 1.08)
        for y, point in enumerate(points):
            if point.value is None:
                ax.text(1.02, y, "undefined", transform=values_column, va="center", color="#8a5d00")
                continue
            colour = _BAR_REFERENCE if point.group == reference else _BAR
            ax.barh(y, point.value, height=0.62, color=colour)
            if point.ci_low is not None and point.ci_high is not None:
                low = max(0.0, point.value - point.ci_low)
                high = max(0.0, point.ci_high - point.value)
                ax.errorbar(
                    point.value,
                    y,
                    xerr=[[low], [high]],
                    fmt="none",
                    ecolor="#111111",
                    elinewidth=0.9,
                    capsize=2.5,
                )
            ax.text(1.02, y, f"{point.value:.3f}", transform=values_column, va="center")
        if ref is not None:
            ref_label = f"reference group {plain_label(reference)}: {ref:.3f}"
            ax.axvline(ref, color="#b22222", linestyle="--", linewidth=1.2, label=ref_label)
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, fontsize=8)
        ax.set_yticks(range(len(points)), labels=[plain_label(p.group) for p in points])
        ax.set_ylim(len(points) - 0.5, -0.5)
        ax.set_xlim(0.0, right)
        ax.set_xlabel(label)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def rate_chart(
    table: GroupTable, *, metric: str = "selection_rate", label: str, max_groups: int
) -> Chart | None:
    """Draw ``metric`` by group as horizontal bars, or return None if no group has it.

    Bars show each group's value with its interval (``ci_low`` to ``ci_high``) as whiskers; a
    dashed line marks the reference group's value. Undefined values get no bar, only the word
    "undefined". At most ``max_groups`` rows are drawn, in the table's order.
    """
    if not any(metric in row.metrics for row in table.rows):
        return None
    points = _points(table, metric, max_groups)
    ref = _reference_value(table, metric)
    svg = _draw(points, ref, table.reference, label)
    caption = (
        f"{label} by group for {table.attribute}: bars with interval whiskers; the dashed "
        f"line is the reference group's value."
    )
    if len(table.rows) > len(points):
        caption += f" The first {len(points):,} of {len(table.rows):,} groups are drawn."
    return Chart(uri=svg_uri(svg), alt=_alt_text(table, label, points, ref), caption=caption)
