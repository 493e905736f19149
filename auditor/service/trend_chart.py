"""A trend chart of one metric across a model's audits, as data for an inline SVG.

The geometry is computed here, in Python; ``templates/service/_trend_chart.html.j2`` only
draws it (every text goes through jinja's autoescape). The chart is honest about what it has:

- x: one evenly spaced slot per audit, oldest on the left, labelled with the model version and
  the audit's date (audits seconds apart stay readable; the data table gives exact times);
- one line per group, coloured and dashed per group; the confidence interval as whiskers;
- points marked by the row's verdict by shape and colour (pass ●, fail ✕, inconclusive ▲);
- the policy threshold as a dashed line, its value labelled in the right margin;
- an undefined value is a gap in its line, an "n/a" mark on the axis and a note: never a 0;
- where a group's reference group changes (ratios and differences are measured against it),
  its line breaks, a dashed vertical marker stands between the two audits, and a note and the
  data table say what changed (``trend_reference``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from auditor.service.queries import TrendPoint
from auditor.service.trend_chart_model import (
    Gap,
    Marker,
    Series,
    TableRow,
    Threshold,
    TrendChart,
    XTick,
    YTick,
    group_label,
    number,
    short,
    verdict_mark,
)
from auditor.service.trend_reference import (
    ReferenceChange,
    find_changes,
    reference_label,
    reference_marks,
    reference_notes,
)

_XFn = Callable[[int], float]
_YFn = Callable[[float], float]

WIDTH = 960
HEIGHT = 330
LEFT, RIGHT, TOP, BOTTOM = 58, 92, 16, 52
MAX_GROUPS = 8
MAX_AUDITS = 100
LABEL_MIN_PX = 84  # the narrowest room an x label gets before labels are thinned
GROUP_COLOURS = ("#0b5fa5", "#d17a00", "#6a3d9a", "#c4458f", "#2a9d8f", "#8c564b", "#4d4d4d")
GROUP_DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 2", "12 4", "1 2")


@dataclass(frozen=True)
class _Slot:
    audit_id: str
    version: str
    date: str
    when: str


def build_trend_chart(metric: str, slug: str, points: Sequence[TrendPoint]) -> TrendChart:
    """The chart of ``metric`` from its trend points (any order; one or more groups).

    Only the newest ``MAX_AUDITS`` audits are drawn (a note says how many there are).
    """
    slots = _slots(points)
    total = len(slots)
    if total > MAX_AUDITS:
        slots = slots[-MAX_AUDITS:]
        kept = {slot.audit_id for slot in slots}
        points = [p for p in points if p.audit_id in kept]
    index = {slot.audit_id: i for i, slot in enumerate(slots)}
    groups = sorted({p.group_key for p in points})
    drawn, hidden = groups[:MAX_GROUPS], groups[MAX_GROUPS:]
    by_group: dict[str, dict[int, TrendPoint]] = {g: {} for g in groups}
    for point in points:
        by_group[point.group_key].setdefault(index[point.audit_id], point)
    lo, hi = _y_range([p for p in points if p.group_key in drawn])
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot_w = plot_w / max(len(slots), 1)

    def x_of(i: int) -> float:
        return LEFT + (i + 0.5) * slot_w

    def y_of(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * plot_h

    changes = {g: find_changes(by_group[g], g) for g in groups}
    drawn_changes = [c for g in drawn for c in changes[g]]
    slot_names = [f"{slot.version} ({slot.when})" for slot in slots]
    dodge = min(5.0, slot_w * 0.4 / max(len(drawn), 1))
    series = []
    for g_index, group in enumerate(drawn):
        offset = (g_index - (len(drawn) - 1) / 2) * dodge
        breaks = {c.slot for c in changes[group]}
        series.append(_series(group, g_index, by_group[group], slots, x_of, offset, y_of, breaks))
    notes = [
        f"{s.group}: undefined in {len(s.undefined_in)} audit"
        f"{'s' if len(s.undefined_in) != 1 else ''} ({', '.join(s.undefined_in)}), "
        "drawn as a gap, not as 0."
        for s in series
        if s.undefined_in
    ]
    notes += reference_notes(drawn_changes, slot_names, group_label)
    if hidden:
        notes.append(
            f"{len(hidden)} more group{'s' if len(hidden) != 1 else ''} not drawn "
            f"({', '.join(group_label(g) for g in hidden[:5])}{'…' if len(hidden) > 5 else ''}); "
            "the data table below lists every group."
        )
    if not any(p.value is not None for p in points):
        notes.append("No audit has a defined value of this metric yet.")
    if total > MAX_AUDITS:
        notes.append(
            f"The newest {MAX_AUDITS} of {total} audits are shown; the trends API has them all."
        )
    return TrendChart(
        metric=metric,
        slug=slug,
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=HEIGHT - BOTTOM,
        x_ticks=_x_ticks(slots, x_of, slot_w),
        tick_end=HEIGHT - BOTTOM + 5,
        version_y=HEIGHT - BOTTOM + 19,
        date_y=HEIGHT - BOTTOM + 34,
        y_label_x=LEFT - 7,
        threshold_label_x=WIDTH - RIGHT + 7,
        gap_y=HEIGHT - BOTTOM - 5,
        y_ticks=tuple(YTick(round(y_of(v), 1), _tick_label(v, step)) for v, step in _ticks(lo, hi)),
        series=tuple(series),
        thresholds=_thresholds(points, slots, index, x_of, slot_w, y_of),
        gaps=_gaps(slots, by_group, drawn, x_of),
        reference_marks=reference_marks(
            drawn_changes, slot_names, lambda i: x_of(i) - slot_w / 2, TOP, group_label
        ),
        notes=tuple(notes),
        description=_description(metric, slots, drawn, points, len(drawn_changes)),
        rows=_table(points, slots, index, [c for g in groups for c in changes[g]]),
    )


def _slots(points: Sequence[TrendPoint]) -> list[_Slot]:
    """One slot per audit, oldest first; dates gain a time when two audits share a day."""
    first: dict[str, TrendPoint] = {}
    for point in sorted(points, key=lambda p: (p.created_at, p.audit_id)):
        first.setdefault(point.audit_id, point)
    ordered = list(first.values())
    days = [p.created_at.strftime("%Y-%m-%d") for p in ordered]
    same_day = len(set(days)) < len(days)
    return [
        _Slot(
            audit_id=p.audit_id,
            version=p.model_version or p.audit_id[:8],
            date=p.created_at.strftime("%m-%d %H:%M") if same_day else day,
            when=p.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
        for p, day in zip(ordered, days, strict=True)
    ]


def _y_range(points: Sequence[TrendPoint]) -> tuple[float, float]:
    """Values, intervals and thresholds all fit, with a little room above and below."""
    seen = [
        v
        for p in points
        for v in (p.value, p.ci_low, p.ci_high, p.threshold_min, p.threshold_max)
        if v is not None and math.isfinite(v)
    ]
    if not seen:
        return 0.0, 1.0
    lo, hi = min(seen), max(seen)
    if hi - lo < 1e-9:
        pad = max(abs(hi) * 0.1, 0.05)
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.08
    return lo - pad, hi + pad


def _ticks(lo: float, hi: float) -> list[tuple[float, float]]:
    """Round values between lo and hi (about five), each with the step that made it."""
    raw = (hi - lo) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(lo / step) * step
    count = math.floor((hi - start) / step + 1e-9) + 1
    return [(start + i * step, step) for i in range(count)]


def _tick_label(value: float, step: float) -> str:
    """The value with as few decimals as the step needs (0.25 steps get two)."""
    decimals = next((d for d in range(6) if abs(round(step, d) - step) < step * 1e-6), 6)
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if text.strip("-0.") == "" else text  # never "-0.0"


def _x_ticks(slots: Sequence[_Slot], x_of: _XFn, slot_w: float) -> tuple[XTick, ...]:
    """Labels on every k-th slot (always the newest) so that no two labels overlap."""
    step = max(1, math.ceil(LABEL_MIN_PX / slot_w))
    last = len(slots) - 1
    return tuple(
        XTick(round(x_of(i), 1), short(slot.version), slot.date)
        for i, slot in enumerate(slots)
        if (last - i) % step == 0
    )


def _series(
    group: str,
    g_index: int,
    values: dict[int, TrendPoint],
    slots: Sequence[_Slot],
    x_of: _XFn,
    offset: float,
    y_of: _YFn,
    breaks: set[int],
) -> Series:
    """A group's path, broken wherever the value is undefined, the group is absent, or its
    reference group changed (before the slots in ``breaks``)."""
    paths: list[str] = []
    run: list[tuple[float, float]] = []
    markers = []
    undefined = []
    for i, slot in enumerate(slots):
        point = values.get(i)
        if i in breaks:
            if len(run) > 1:
                paths.append(_path(run))
            run = []
        if point is None or point.value is None:
            if point is not None:
                undefined.append(f"{slot.version}, {slot.date}")
            if len(run) > 1:
                paths.append(_path(run))
            run = []
            continue
        x, y = round(x_of(i) + offset, 1), round(y_of(point.value), 1)
        run.append((x, y))
        css, symbol, word = verdict_mark(point.verdict)
        low, high = point.ci_low, point.ci_high
        interval = "" if low is None or high is None else f" [{number(low)}, {number(high)}]"
        markers.append(
            Marker(
                x=x,
                y=y,
                shape=_shape(css, x, y),
                css=css,
                symbol=symbol,
                ci_top=None if low is None or high is None else round(y_of(high), 1),
                ci_bottom=None if low is None or high is None else round(y_of(low), 1),
                cap_left=round(x - 3, 1),
                cap_right=round(x + 3, 1),
                title=(
                    f"{group_label(group)} · {slot.version} · {slot.when}: "
                    f"{number(point.value)}{interval} · {symbol} {word}"
                ),
            )
        )
    if len(run) > 1:
        paths.append(_path(run))
    return Series(
        group=group_label(group),
        colour=GROUP_COLOURS[g_index % len(GROUP_COLOURS)],
        dash=GROUP_DASHES[g_index % len(GROUP_DASHES)],
        paths=tuple(paths),
        markers=tuple(markers),
        undefined_in=tuple(undefined),
    )


_SHAPES = {  # offsets from the centre of each closed mark
    "waived": ((0, -5.5), (5.5, 0), (0, 5.5), (-5.5, 0)),
    "inconclusive": ((0, -6), (5.5, 4), (-5.5, 4)),
}


def _shape(css: str, x: float, y: float) -> str:
    """The verdict's mark centred on (x, y): circle (pass), cross (fail), triangle
    (inconclusive), diamond (waived), small ring (not judged)."""
    if css == "fail":
        return (
            f"{_path([(x - 5, y - 5), (x + 5, y + 5)])} {_path([(x - 5, y + 5), (x + 5, y - 5)])}"
        )
    if css in _SHAPES:
        return _path([(x + dx, y + dy) for dx, dy in _SHAPES[css]]) + " Z"
    r = 4.5 if css == "pass" else 3.5
    return f"M{x - r:.1f},{y:.1f} a{r},{r} 0 1,0 {2 * r:.1f},0 a{r},{r} 0 1,0 {-2 * r:.1f},0 Z"


def _path(run: Sequence[tuple[float, float]]) -> str:
    head, *rest = run
    return f"M{head[0]:.1f},{head[1]:.1f}" + "".join(f" L{x:.1f},{y:.1f}" for x, y in rest)


def _thresholds(
    points: Sequence[TrendPoint],
    slots: Sequence[_Slot],
    index: dict[str, int],
    x_of: _XFn,
    slot_w: float,
    y_of: _YFn,
) -> tuple[Threshold, ...]:
    """The lower and upper limits as step lines over the audits that had them.

    A limit that changed between audits steps; the label gives the newest audit's value.
    """
    out = []
    for side, sign in (("threshold_max", "≤"), ("threshold_min", "≥")):
        per_slot: dict[int, float] = {}
        for point in points:
            value = getattr(point, side)
            if value is not None and math.isfinite(value):
                per_slot.setdefault(index[point.audit_id], value)
        if not per_slot:
            continue
        pieces = []
        previous: int | None = None
        for i in sorted(per_slot):
            x0, x1 = round(x_of(i) - slot_w / 2, 1), round(x_of(i) + slot_w / 2, 1)
            y = round(y_of(per_slot[i]), 1)
            joined = previous is not None and previous == i - 1
            pieces.append(f" L{x0},{y} L{x1},{y}" if joined else f" M{x0},{y} L{x1},{y}")
            previous = i
        newest = per_slot[max(per_slot)]
        label_y = round(y_of(newest) + 4, 1)  # the text's baseline, centred on the line
        out.append(Threshold("".join(pieces).strip(), f"{sign} {newest:g}", label_y))
    if len(out) == 2 and abs(out[0].label_y - out[1].label_y) < 14:  # keep labels apart
        upper, lower = out
        middle = (upper.label_y + lower.label_y) / 2
        out = [
            Threshold(upper.path, upper.label, middle - 7),
            Threshold(lower.path, lower.label, middle + 7),
        ]
    return tuple(out)


def _gaps(
    slots: Sequence[_Slot],
    by_group: dict[str, dict[int, TrendPoint]],
    drawn: Sequence[str],
    x_of: _XFn,
) -> tuple[Gap, ...]:
    out = []
    for i in range(len(slots)):
        missing = [
            group_label(g) for g in drawn if i in by_group[g] and by_group[g][i].value is None
        ]
        if missing:
            out.append(Gap(round(x_of(i), 1), f"undefined here: {', '.join(missing)}"))
    return tuple(out)


def _description(
    metric: str,
    slots: Sequence[_Slot],
    drawn: Sequence[str],
    points: Sequence[TrendPoint],
    reference_changes: int,
) -> str:
    if not slots:
        return f"No audits of {metric} yet."
    groups = ", ".join(group_label(g) for g in drawn)
    changed = (
        f" The reference group changes {reference_changes} time"
        f"{'s' if reference_changes != 1 else ''}: the line breaks there (see the notes)."
        if reference_changes
        else ""
    )
    return (
        f"Trend of {metric} over {len(slots)} audit{'s' if len(slots) != 1 else ''} "
        f"from {slots[0].when} to {slots[-1].when}, for {groups}.{changed} "
        "The data table below lists every value."
    )


def _table(
    points: Sequence[TrendPoint],
    slots: Sequence[_Slot],
    index: dict[str, int],
    changes: Sequence[ReferenceChange],
) -> tuple[TableRow, ...]:
    ordered = sorted(points, key=lambda p: (-index[p.audit_id], p.group_key))
    was = {(c.group, c.slot): reference_label(c.before) for c in changes}
    rows = []
    for p in ordered:
        slot = slots[index[p.audit_id]]
        css, symbol, word = verdict_mark(p.verdict)
        has_ci = p.ci_low is not None or p.ci_high is not None
        rows.append(
            TableRow(
                when=slot.when,
                version=slot.version,
                group=group_label(p.group_key),
                value=number(p.value),
                interval=f"[{number(p.ci_low)}, {number(p.ci_high)}]" if has_ci else "–",
                verdict_symbol=symbol,
                verdict_word=word,
                verdict_css=css,
                reference=reference_label(p.reference_group),
                reference_was=was.get((p.group_key, index[p.audit_id])),
            )
        )
    return tuple(rows)
