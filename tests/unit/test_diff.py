"""`auditor diff` logic: compare two audits, then render the comparison as text and Markdown."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from auditor.api import audit
from auditor.diff import AuditDiff, compare_audits, render_diff_markdown, render_diff_text
from auditor.errors import UsageError
from auditor.results import AuditRecord

OPTIONS: dict[str, Any] = {
    "target": "credit",
    "pos_label": 1,
    "positive_outcome": "favorable",
    "sensitive": ["sex", "age_group"],
}
HOSTILE = "<img src=x onerror=alert(1)>|x"


def _fair(frame: pd.DataFrame) -> np.ndarray:
    """70% favourable decisions in every group, by row position (no group involved)."""
    return np.where(np.arange(len(frame)) % 10 < 7, 1, 2)


def _biased(frame: pd.DataFrame) -> np.ndarray:
    """Men as in _fair; women favourable in 30% of rows only."""
    slot = np.arange(len(frame)) % 10
    return np.where((slot < 7) & ((frame["sex"] == "male").to_numpy() | (slot < 3)), 1, 2)


def _audit(frame: pd.DataFrame, prediction: np.ndarray, **options: Any) -> AuditRecord:
    return audit(frame, prediction=prediction, **{**OPTIONS, **options})


@pytest.fixture(scope="module")
def fair(german: pd.DataFrame) -> AuditRecord:
    return _audit(german, _fair(german))


@pytest.fixture(scope="module")
def biased(german: pd.DataFrame) -> AuditRecord:
    return _audit(german, _biased(german))


def _keys(changes: Any) -> set[tuple[str, str | None]]:
    return {(c.rule_id, c.group) for c in changes}


def test_identical_audits_have_no_changes(fair: AuditRecord) -> None:
    diff = compare_audits(fair, AuditRecord.from_json(fair.to_json()))
    assert not diff.has_changes and not diff.regressed and diff.warnings == ()
    assert "No changes" in render_diff_text(diff)
    assert render_diff_markdown(diff).startswith("## Audit diff: No regression\n")


def test_biased_decisions_are_a_regression(fair: AuditRecord, biased: AuditRecord) -> None:
    assert (fair.verdict, biased.verdict) == ("passed", "failed")
    diff = compare_audits(fair, biased)
    assert diff.regressed and diff.verdict_changed and diff.fixed_failures == ()
    assert ("disparate-impact", "sex=female") in _keys(diff.new_failures)
    assert all(c.group is None or "female" in c.group for c in diff.new_failures)
    first = diff.new_failures[0]
    assert first.blocking and first.severity == "error" and first.new_verdict == "fail"
    blocking = [c.blocking for c in diff.new_failures]
    assert blocking == sorted(blocking, reverse=True)  # blocking ones first
    text = render_diff_text(diff)
    assert text.startswith("Audit diff: REGRESSION\nVerdict: passed -> failed\n")
    assert "disparate-impact  sex=female: pass -> fail" in text
    markdown = render_diff_markdown(diff)
    assert markdown.startswith("## Audit diff: Regression\n")
    assert "| disparate\\-impact | error | sex=female | pass → fail |" in markdown


def test_removing_the_bias_is_a_fix(fair: AuditRecord, biased: AuditRecord) -> None:
    diff = compare_audits(biased, fair)
    assert not diff.regressed and diff.new_failures == ()
    assert ("disparate-impact", "sex=female") in _keys(diff.fixed_failures)
    assert {c.new_verdict for c in diff.fixed_failures} <= {"pass", "waived"}
    assert "Fixed failures" in render_diff_text(diff)


def test_moved_metric_matches_the_tables(
    german: pd.DataFrame, fair: AuditRecord, biased: AuditRecord
) -> None:
    diff = compare_audits(fair, biased)
    [moved] = [
        m
        for m in diff.moved_metrics
        if (m.attribute, m.group, m.metric, m.measure)
        == ("sex", "sex=female", "selection_rate", "value")
    ]
    women = (german["sex"] == "female").to_numpy()
    assert moved.base == pytest.approx(np.mean(_fair(german)[women] == 1))
    assert moved.new == pytest.approx(np.mean(_biased(german)[women] == 1))
    assert moved.base is not None and moved.new is not None and moved.kind == "moved"
    assert moved.change == pytest.approx(moved.new - moved.base)
    [table] = [t for c in biased.checks for t in c.tables if t.attribute == "sex"]
    [row] = [r for r in table.rows if r.group == "sex=female"]
    assert row.metrics["selection_rate"].value.value == moved.new
    sizes = [abs(m.change) for m in diff.moved_metrics if m.change is not None]
    assert sizes == sorted(sizes, reverse=True)
    text = render_diff_text(diff)
    assert f"… and {len(diff.moved_metrics) - 20} more" in text


def test_tolerance_hides_small_moves(german: pd.DataFrame, fair: AuditRecord) -> None:
    decisions = _fair(german)
    first_man = int(np.flatnonzero((german["sex"] == "male").to_numpy() & (decisions == 2))[0])
    decisions[first_man] = 1  # one of 276 men: the rate moves by 1/276 < 0.01
    nudged = _audit(german, decisions)
    key = ("sex", "sex=male", "selection_rate", "value")
    loose = compare_audits(fair, nudged, tolerance=0.01)
    tight = compare_audits(fair, nudged, tolerance=0.001)
    assert key not in {(m.attribute, m.group, m.metric, m.measure) for m in loose.moved_metrics}
    [moved] = [m for m in tight.moved_metrics if (m.attribute, m.group, m.metric, m.measure) == key]
    assert moved.change == pytest.approx(1 / 276)
    with pytest.raises(UsageError, match="tolerance"):
        compare_audits(fair, nudged, tolerance=-1)


def test_groups_and_attributes_appear_and_vanish(german: pd.DataFrame, fair: AuditRecord) -> None:
    older = german.assign(age_group=german["age_group"].where(german["age"] < 60, "60 and over"))
    new = _audit(older, _fair(older))
    diff = compare_audits(fair, new)
    assert ("age_group", "age_group=60 and over", "appeared") in {
        (g.attribute, g.group, g.change) for g in diff.group_changes
    }
    assert not any(g.change == "vanished" for g in diff.group_changes)
    only_sex = compare_audits(fair, _audit(german, _fair(german), sensitive=["sex"]))
    assert only_sex.attributes_vanished == ("age_group", "sex & age_group")
    assert any("sensitive columns" in w for w in only_sex.warnings)
    assert "attribute age_group: vanished" in render_diff_text(only_sex)


def test_different_policy_and_target_warn(german: pd.DataFrame, fair: AuditRecord) -> None:
    four_fifths = _audit(german, _fair(german), policy="four-fifths")
    diff = compare_audits(fair, four_fifths)
    assert any("'default'" in w and "'four-fifths'" in w for w in diff.warnings)
    assert any("rules differ" in w and "removed" in w for w in diff.warnings)
    appeared = {c.rule_id for c in diff.other_verdict_changes if c.base_verdict is None}
    assert appeared == {"adverse-impact"}  # a rule only the new policy has
    assert "equal-opportunity" in {c.rule_id for c in diff.other_verdict_changes}
    renamed = german.rename(columns={"credit": "outcome"})
    other = _audit(renamed, _fair(renamed), target="outcome")
    warnings = compare_audits(fair, other).warnings
    assert any("target column differs (base 'credit', new 'outcome')" in w for w in warnings)
    assert any("different data" in w for w in warnings)
    future = fair.model_copy(update={"schema_version": "9.9"})
    assert any("schema versions" in w for w in compare_audits(fair, future).warnings)


def test_blocking_follows_fail_on_and_errors(fair: AuditRecord) -> None:
    index = next(
        i for i, f in enumerate(fair.findings) if f.severity == "warning" and f.verdict == "pass"
    )
    findings = list(fair.findings)
    findings[index] = findings[index].model_copy(update={"verdict": "fail"})
    failing = fair.model_copy(update={"findings": findings})
    assert not compare_audits(fair, failing).regressed  # a warning, audit blocks at error
    strict = failing.model_copy(update={"fail_on": "warning"})
    diff = compare_audits(fair, strict)
    assert diff.regressed and diff.new_failures[0].blocking
    assert any("fail_on" in w for w in diff.warnings)
    findings[index] = findings[index].model_copy(update={"verdict": "error"})
    assert compare_audits(fair, fair.model_copy(update={"findings": findings})).regressed


def _cells(line: str) -> list[str]:
    return re.split(r"(?<!\\)\|", line)[1:-1]


def test_hostile_group_names_are_escaped(german: pd.DataFrame, fair: AuditRecord) -> None:
    hostile = german.assign(sex=german["sex"].replace({"female": HOSTILE, "male": "m\x1b[31m"}))
    diff: AuditDiff = compare_audits(fair, _audit(hostile, _fair(hostile)))
    assert f"sex={HOSTILE}" in {g.group for g in diff.group_changes}
    markdown = render_diff_markdown(diff)
    assert "<img" not in markdown and "&lt;img src=x onerror=alert\\(1\\)&gt;\\|x" in markdown
    assert "\x1b" not in markdown
    tables = [line for line in markdown.splitlines() if line.startswith("|")]
    assert tables and all(len(_cells(line)) == len(_cells(tables[0])) for line in tables[:3])
    for line in tables:
        assert len(_cells(line)) in (3, 5, 7, 8)  # groups, metrics, findings tables
    text = render_diff_text(diff)
    assert HOSTILE in text and "\x1b" not in text and "\\u001b" in text


def test_diff_warns_when_the_audits_ran_on_different_engines():
    from auditor.results import EngineInfo

    base = audit(
        "sample_models/data/german_credit_audit.csv",
        target="credit",
        pos_label=1,
        positive_outcome="favorable",
        sensitive=["sex"],
        model="sample_models/german_credit_model.skops",
    )
    engine = EngineInfo(name="duckdb", detail="duckdb (test)", cells=10)
    new = base.model_copy(update={"setup": base.setup.model_copy(update={"engine": engine})})
    warnings = compare_audits(base, new).warnings
    assert any("different engines (base memory, new duckdb)" in w for w in warnings)
    assert not any("different engines" in w for w in compare_audits(base, base).warnings)
