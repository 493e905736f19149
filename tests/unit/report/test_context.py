"""The view model: number formats, undefined values, verdict badges, summaries and caps."""

from __future__ import annotations

import dataclasses

import pytest

from auditor.report.context import ReportContext, build_context
from auditor.report.formatting import badge, number, value_cell
from auditor.results import REASON_TEXT, AuditRecord, Reason, Value

from .conftest import UNDEFINED_GROUP, make_result


@pytest.fixture(scope="module")
def context(audit_result: AuditRecord) -> ReportContext:
    return build_context(audit_result, with_charts=False)


def test_numbers_have_three_decimals_and_intervals() -> None:
    assert number(0.41234).text == "0.412"
    cell = value_cell(Value(value=0.5, ci_low=0.41, ci_high=0.5912))
    assert (cell.text, cell.interval) == ("0.500", "[0.410, 0.591]")


def test_undefined_is_a_word_with_its_reason_never_zero() -> None:
    cell = value_cell(Value(value=None, reason=Reason.NO_POSITIVES, ci_low=0.0, ci_high=0.0))
    assert cell.undefined and cell.text == "undefined" and cell.interval == ""
    assert cell.reason == REASON_TEXT[Reason.NO_POSITIVES]
    assert number(None).reason == "no reason was recorded"


@pytest.mark.parametrize(
    ("verdict", "symbol", "word"),
    [
        ("pass", "✔", "pass"),
        ("fail", "✘", "fail"),
        ("insufficient_data", "?", "insufficient data"),
        ("error", "!", "error"),
        ("failed", "✘", "failed"),
        ("inconclusive", "?", "inconclusive"),
    ],
)
def test_verdicts_have_a_symbol_and_a_word(verdict: str, symbol: str, word: str) -> None:
    assert (badge(verdict).symbol, badge(verdict).word) == (symbol, word)


def test_summary_counts_findings_and_names_failed_groups(context: ReportContext) -> None:
    assert context.verdict.word == "failed"
    assert "3 failed (2 of severity error, 1 of severity warning), 2 passed" in context.summary
    assert "2 could not be judged for lack of data" in context.summary
    assert context.failed_lines[0] == (
        "Rule 'adverse-impact' failed for age_group=<25, sex=female (this fails the audit)."
    )
    warning = next(line for line in context.failed_lines if "(a warning" in line)
    assert "reported, but the audit fails only on severity error" in warning


def test_findings_are_sorted_failures_first(context: ReportContext) -> None:
    words = [row.verdict.word for row in context.findings]
    assert words == ["fail"] * 3 + ["insufficient data"] * 2 + ["pass"] * 2
    undefined = next(row for row in context.findings if row.group == UNDEFINED_GROUP)
    assert undefined.value.text == "undefined"
    assert undefined.value.reason == REASON_TEXT[Reason.NO_POSITIVES]


def test_excluded_items_list_insufficient_findings_with_reasons(context: ReportContext) -> None:
    labels = {fact.label: fact.value for fact in context.excluded}
    assert labels[f"equal-opportunity · {UNDEFINED_GROUP}"] == REASON_TEXT[Reason.NO_POSITIVES]


def test_group_table_marks_undefined_cells_with_a_footnote(context: ReportContext) -> None:
    table = next(t for t in context.group_tables if t.attribute == "sex & age_group")
    row = next(r for r in table.rows if r.group == UNDEFINED_GROUP)
    tpr = row.cells[table.columns.index("True positive rate")]
    assert tpr.value.undefined and tpr.value.mark == "a"
    assert table.footnotes[0].value == REASON_TEXT[Reason.NO_POSITIVES]
    assert table.reference_rule == "largest group"
    reference = next(r for r in table.rows if r.is_reference)
    assert reference.cells[0].ratio.text == "reference"


def test_setup_states_label_meaning_and_reference_choice(context: ReportContext) -> None:
    facts = {fact.label: fact.value for fact in context.setup}
    assert facts["Labels"].startswith("Positive label '1' = favourable outcome")
    assert facts["Reference for sex"] == "sex=male (largest group)"
    assert context.pickle_warning is True
    assert context.confidence == "95%"
    bias = next(s for s in context.sections if s.key == "bias")
    performance = next(f for f in bias.families if f.family == "performance")
    assert {f.label: f.value for f in performance.overall}["Rows (n)"] == "1,000"


def test_adverse_positive_label_adds_the_favourable_rate_column() -> None:
    base = make_result()
    setup = base.setup.model_copy(update={"positive_outcome": "adverse", "model": None})
    context = build_context(base.model_copy(update={"setup": setup}), with_charts=False)
    assert context.group_tables[0].columns[0] == "Favourable-outcome rate"
    assert {f.label: f.value for f in context.setup}["Labels"].startswith(
        "Positive label '1' = adverse outcome"
    )
    assert context.subject_kind == "Decisions" and context.subject == "credit.csv"
    assert not context.pickle_warning


def test_view_model_is_frozen(context: ReportContext) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.summary = "changed"  # type: ignore[misc]
