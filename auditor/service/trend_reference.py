"""Where a trend's reference group changes, so that the chart never joins values silently.

A ratio or a difference is measured against the table's reference group (by default the
largest group, or the highest one for ``ratio_to_highest``), which can change from one audit to
the next. Two values of one group measured against different references do not compare: the
chart breaks the group's line there, draws a dashed vertical marker between the two audits and
says what changed in a note and in the data table. This module finds the changes and lays out
their markers; ``trend_chart`` draws them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from auditor.service.queries import TrendPoint

MAX_NOTES = 5  # reference-change notes under a chart; the data table lists every change
LABEL_ROOM_PX = 44  # the width of a marker's label: closer labels go on another row
LABEL_ROWS = 3
LABEL_LINE_PX = 13


@dataclass(frozen=True)
class ReferenceChange:
    """The reference of ``group`` was ``before`` up to some audit and ``after`` from slot on."""

    group: str
    slot: int
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ReferenceMark:
    """A dashed vertical line between two audits, its short label and its full text."""

    x: float
    label: str
    label_x: float
    label_y: float
    title: str


def reference_label(reference: str | None) -> str:
    """The reference group as shown ('none recorded' when the row has none)."""
    return reference if reference is not None else "none recorded"


def find_changes(values: Mapping[int, TrendPoint], group: str) -> tuple[ReferenceChange, ...]:
    """The changes of reference between the consecutive audits (slots) that have this group."""
    out = []
    previous: TrendPoint | None = None
    for slot in sorted(values):
        point = values[slot]
        if previous is not None and point.reference_group != previous.reference_group:
            out.append(
                ReferenceChange(group, slot, previous.reference_group, point.reference_group)
            )
        previous = point
    return tuple(out)


def _describe(changes: Sequence[ReferenceChange], group_label: Callable[[str], str]) -> str:
    return "; ".join(
        f"{group_label(c.group)}: {reference_label(c.before)} → {reference_label(c.after)}"
        for c in changes
    )


def reference_marks(
    changes: Sequence[ReferenceChange],
    slot_names: Sequence[str],
    boundary_x: Callable[[int], float],
    top: float,
    group_label: Callable[[str], str],
) -> tuple[ReferenceMark, ...]:
    """One marker per audit boundary where some group's reference changed, labelled 'ref N'."""
    by_slot: dict[int, list[ReferenceChange]] = {}
    for change in changes:
        by_slot.setdefault(change.slot, []).append(change)
    marks: list[ReferenceMark] = []
    row_ends = [float("-inf")] * LABEL_ROWS
    for number, slot in enumerate(sorted(by_slot), start=1):
        x = round(boundary_x(slot), 1)
        row = next((r for r in range(LABEL_ROWS) if x - row_ends[r] >= LABEL_ROOM_PX), 0)
        row_ends[row] = x
        marks.append(
            ReferenceMark(
                x=x,
                label=f"ref {number}",
                label_x=round(x + 3, 1),
                label_y=round(top + 11 + row * LABEL_LINE_PX, 1),
                title=(
                    f"ref {number}: the reference group changed at {slot_names[slot]} "
                    f"({_describe(by_slot[slot], group_label)})"
                ),
            )
        )
    return tuple(marks)


def reference_notes(
    changes: Sequence[ReferenceChange],
    slot_names: Sequence[str],
    group_label: Callable[[str], str],
) -> list[str]:
    """The notes under the chart: what changed where, and why the line is broken there."""
    by_slot: dict[int, list[ReferenceChange]] = {}
    for change in changes:
        by_slot.setdefault(change.slot, []).append(change)
    if not by_slot:
        return []
    notes = [
        f"ref {number}, at {slot_names[slot]}: the reference group changed "
        f"({_describe(by_slot[slot], group_label)}). Values before and after are measured "
        "against different groups and do not compare: the line is broken there."
        for number, slot in enumerate(sorted(by_slot), start=1)
    ]
    if len(notes) > MAX_NOTES:
        more = len(notes) - MAX_NOTES
        notes = notes[:MAX_NOTES]
        notes.append(
            f"{more} more reference change{'s' if more != 1 else ''}: "
            "the data table lists each value's reference."
        )
    return notes
