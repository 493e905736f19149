"""The trend chart's geometry (no database): gaps, thresholds, labels that never overlap."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

from auditor.service.queries import TrendPoint
from auditor.service.trend_chart import (
    HEIGHT,
    LABEL_MIN_PX,
    MAX_AUDITS,
    MAX_GROUPS,
    TOP,
    build_trend_chart,
)
from auditor.service.trend_reference import LABEL_ROOM_PX, MAX_NOTES

T0 = datetime(2025, 1, 1, 12, tzinfo=UTC)


def point(
    i: int,
    value: float | None,
    *,
    group: str = "sex=female",
    verdict: str | None = "pass",
    low: float | None = 0.8,
    high: float | None = None,
    hours: bool = False,
    reference: str | None = None,
) -> TrendPoint:
    step = timedelta(hours=i) if hours else timedelta(days=i)
    return TrendPoint(
        audit_id=f"00000000-0000-4000-8000-{i:012d}",
        created_at=T0 + step,
        model_version=f"v{i}",
        group_key=group,
        value=value,
        ci_low=None if value is None else value - 0.05,
        ci_high=None if value is None else value + 0.05,
        verdict=verdict,
        audit_verdict="pass",
        threshold_min=low,
        threshold_max=high,
        reference_group=reference,
    )


def test_an_undefined_value_is_a_gap_never_zero() -> None:
    points = [point(0, 0.9), point(1, 0.85), point(2, None, verdict=None), point(3, 0.95)]
    chart = build_trend_chart("m", "c1", points)
    (series,) = chart.series
    assert len(series.paths) == 1  # 0-1 joined; 3 stands alone after the gap
    assert len(series.markers) == 3
    assert series.undefined_in == ("v2, 2025-01-03",)
    assert chart.notes == (
        "sex=female: undefined in 1 audit (v2, 2025-01-03), drawn as a gap, not as 0.",
    )
    assert [g.title for g in chart.gaps] == ["undefined here: sex=female"]
    zero_y = [t.y for t in chart.y_ticks if t.label in ("0", "0.0", "0.00")]
    assert not zero_y  # the axis does not even reach 0: nothing was drawn there
    assert [r.value for r in chart.rows if r.version == "v2"] == ["undefined"]


def test_markers_follow_the_verdict_and_sit_on_the_value() -> None:
    points = [point(0, 0.9), point(1, 0.7, verdict="fail"), point(2, 0.8, verdict="waived")]
    points.append(point(3, 0.75, verdict="insufficient_data"))
    chart = build_trend_chart("m", "c1", points)
    marks = chart.series[0].markers
    assert [m.css for m in marks] == ["pass", "fail", "waived", "inconclusive"]
    assert [m.symbol for m in marks] == ["●", "✕", "◆", "▲"]
    higher, lower = marks[0], marks[1]
    assert higher.y < lower.y  # SVG y grows downwards
    assert all(m.ci_top is not None and m.ci_top < m.y < (m.ci_bottom or 0) for m in marks)
    assert "0.700 [0.650, 0.750] · ✕ fail" in lower.title


def test_the_threshold_is_a_labelled_dashed_line_inside_the_plot() -> None:
    chart = build_trend_chart("m", "c1", [point(i, 0.95 + i / 100) for i in range(4)])
    (threshold,) = chart.thresholds
    assert threshold.label == "≥ 0.8"
    ys = {float(y) for y in re.findall(r",([\d.]+)", threshold.path)}
    assert len(ys) == 1 and TOP <= ys.pop() <= HEIGHT  # the range was stretched to show it


def test_a_threshold_that_changed_steps_and_is_labelled_with_the_newest() -> None:
    points = [point(0, 0.9, low=0.8), point(1, 0.9, low=0.8), point(2, 0.9, low=0.85)]
    (threshold,) = build_trend_chart("m", "c1", points).thresholds
    assert threshold.label == "≥ 0.85"
    assert len({y for y in re.findall(r",([\d.]+)", threshold.path)}) == 2
    assert threshold.path.count("M") == 1  # one continuous step line


def test_both_bounds_of_a_two_sided_rule_have_apart_labels() -> None:
    points = [point(i, 0.0, low=-0.01, high=0.01) for i in range(3)]
    upper, lower = build_trend_chart("m", "c1", points).thresholds
    assert (upper.label, lower.label) == ("≤ 0.01", "≥ -0.01")
    assert lower.label_y - upper.label_y >= 14


def test_many_audits_get_thinned_labels_that_never_overlap() -> None:
    chart = build_trend_chart("m", "c1", [point(i, 0.9, hours=True) for i in range(60)])
    xs = [t.x for t in chart.x_ticks]
    assert 2 < len(xs) < 60
    assert min(b - a for a, b in itertools.pairwise(xs)) >= LABEL_MIN_PX - 0.5
    assert chart.x_ticks[-1].version == "v59"  # the newest audit is always labelled
    assert chart.x_ticks[0].date.count(":") == 1  # audits share a day: the time is shown


def test_one_audit_is_one_mark_and_no_line() -> None:
    chart = build_trend_chart("m", "c1", [point(0, 0.9)])
    assert chart.series[0].paths == ()
    assert len(chart.series[0].markers) == 1 and len(chart.x_ticks) == 1


def test_too_many_groups_are_listed_not_drawn() -> None:
    points = [point(0, 0.9, group=f"g={k:02d}") for k in range(MAX_GROUPS + 3)]
    chart = build_trend_chart("m", "c1", points)
    assert len(chart.series) == MAX_GROUPS
    assert chart.notes[-1].startswith("3 more groups not drawn (g=08, g=09, g=10)")
    assert len(chart.rows) == MAX_GROUPS + 3  # the table keeps every group


def test_nothing_defined_says_so() -> None:
    chart = build_trend_chart("m", "c1", [point(0, None, verdict=None, low=None)])
    assert chart.series[0].markers == ()
    assert "No audit has a defined value of this metric yet." in chart.notes
    assert chart.thresholds == ()


def test_tick_labels_are_round_and_never_negative_zero() -> None:
    chart = build_trend_chart("m", "c1", [point(0, -0.12, low=-0.1, high=0.1), point(1, 0.05)])
    labels = [t.label for t in chart.y_ticks]
    assert "-0.0" not in labels and "-0.00" not in labels
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", label) for label in labels)


def test_only_the_newest_audits_are_drawn() -> None:
    chart = build_trend_chart("m", "c1", [point(i, 0.9, hours=True) for i in range(MAX_AUDITS + 5)])
    assert len(chart.series[0].markers) == MAX_AUDITS
    assert chart.x_ticks[-1].version == f"v{MAX_AUDITS + 4}"
    assert chart.notes[0].startswith(f"The newest {MAX_AUDITS} of {MAX_AUDITS + 5} audits")


def test_a_changed_reference_group_breaks_the_line_and_is_marked() -> None:
    refs = ["sex=male", "sex=male", "sex=other", "sex=other"]
    points = [point(i, 0.9 - i / 50, reference=ref) for i, ref in enumerate(refs)]
    chart = build_trend_chart("m", "c1", points)
    (series,) = chart.series
    assert len(series.paths) == 2 and all(p.count("L") == 1 for p in series.paths)  # 0-1, 2-3
    (mark,) = chart.reference_marks
    x1, x2 = (m.x for m in series.markers[1:3])
    assert x1 < mark.x < x2 and mark.label == "ref 1"
    assert "sex=female: sex=male → sex=other" in mark.title
    (note,) = chart.notes
    assert note.startswith("ref 1, at v2 (2025-01-03 12:00 UTC): the reference group changed")
    assert "(sex=female: sex=male → sex=other)" in note and "the line is broken there" in note
    assert "The reference group changes 1 time" in chart.description
    assert [(r.version, r.reference, r.reference_was) for r in chart.rows] == [
        ("v3", "sex=other", None),
        ("v2", "sex=other", "sex=male"),
        ("v1", "sex=male", None),
        ("v0", "sex=male", None),
    ]


def test_an_unchanged_reference_draws_no_marker() -> None:
    points = [point(i, 0.9, reference="sex=male") for i in range(4)]
    chart = build_trend_chart("m", "c1", points)
    assert chart.reference_marks == () and chart.notes == ()
    assert len(chart.series[0].paths) == 1
    assert {r.reference for r in chart.rows} == {"sex=male"}


def test_groups_changing_together_share_one_marker_and_note() -> None:
    points = [
        point(i, 0.9, group=group, reference=ref)
        for i, ref in enumerate(["age=25+", "age=25+", "age=<25"])
        for group in ("age=<25", "age=25+")
    ]
    chart = build_trend_chart("m", "c1", points)
    assert len(chart.reference_marks) == 1
    (note,) = chart.notes
    assert "age=25+: age=25+ → age=<25; age=<25: age=25+ → age=<25" in note
    assert all(len(s.paths) == 1 for s in chart.series)  # each: 0-1 joined, 2 alone


def test_a_reference_that_keeps_changing_has_labels_apart_and_few_notes() -> None:
    points = [point(i, 0.9, hours=True, reference=f"g={i % 2}") for i in range(30)]
    chart = build_trend_chart("m", "c1", points)
    marks = chart.reference_marks
    assert len(marks) == 29 and [m.label for m in marks[:2]] == ["ref 1", "ref 2"]
    by_row: dict[float, list[float]] = {}
    for mark in marks:
        by_row.setdefault(mark.label_y, []).append(mark.x)
    for xs in by_row.values():  # labels on one row never overlap
        assert all(b - a >= LABEL_ROOM_PX or b - a < 0 for a, b in itertools.pairwise(xs))
    assert len(chart.notes) == MAX_NOTES + 1
    assert chart.notes[-1].startswith("24 more reference changes")
    assert chart.series[0].paths == ()  # no two values joined


def test_charts_failing_in_the_newest_audit_come_first_then_fairness() -> None:
    from datetime import UTC, datetime

    from auditor.service.pages import chart_rank
    from auditor.service.queries import TrendPoint

    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)

    def point(when: datetime, verdict: str) -> TrendPoint:
        return TrendPoint("a", when, "v", "", 0.5, None, None, verdict, "fail", 0.8, None)

    once_failed = [point(old, "fail"), point(new, "pass")]
    fails_now = [point(old, "pass"), point(new, "fail")]
    charts = {
        "privacy.k_anonymity": fails_now,
        "fairness.selection_rate:ratio_to_reference": once_failed,
        "accountability.model_card_completeness": once_failed,
        "fairness.true_positive_rate:difference_to_reference": fails_now,
    }
    order = sorted(charts, key=lambda m: chart_rank(m, charts[m]))
    assert order == [
        "fairness.true_positive_rate:difference_to_reference",
        "privacy.k_anonymity",
        "fairness.selection_rate:ratio_to_reference",
        "accountability.model_card_completeness",
    ]
