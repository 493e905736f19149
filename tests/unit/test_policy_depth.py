"""Evaluation of the depth features: confidence-requiring rules, the policy's minimum counts,
p-values on findings, rules on named criteria, and checks an audit could not measure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor import audit
from auditor.policy import evaluate_policy
from auditor.policy.schema import Policy
from auditor.results import (
    CheckResult,
    Criterion,
    Finding,
    GroupRow,
    GroupTable,
    MetricCell,
    Reason,
    SignificanceTest,
    Summary,
    Value,
)


def one_rule(**rule: object) -> Policy:
    base = {"id": "r", "check": "fairness.true_positive_rate"}
    return Policy.model_validate({"name": "p", "rules": [{**base, **rule}]})


def table(diff: Value, *, excluded: Reason | None = None, n: int = 100) -> GroupTable:
    """Two groups of 100 rows; group b's difference to the reference a is ``diff``."""
    zero = Value(value=0.0)
    ref_cell = MetricCell(
        value=Value(value=0.8),
        difference_to_reference=zero,
        ratio_to_reference=Value(value=1.0),
        ratio_to_highest=Value(value=1.0),
    )
    test = SignificanceTest(method="two-proportion z test", statistic=2.1, p_value=0.03)
    b_cell = MetricCell(
        value=Value(value=0.8 + (diff.value or 0)),
        difference_to_reference=diff,
        ratio_to_reference=Value(value=0.9),
        ratio_to_highest=Value(value=0.9),
        excluded=excluded,
        test=test.model_copy(update={"p_adjusted": 0.06}),
    )
    rows = [
        GroupRow(group=g, labels={"g": g}, n=k, counts={}, metrics={"true_positive_rate": c})
        for g, k, c in (("g=a", 100, ref_cell), ("g=b", n, b_cell))
    ]
    summary = Summary(
        min_max_ratio=Value(value=0.9),
        max_abs_difference=Value(value=abs(diff.value or 0)),
        groups_compared=["g=a", "g=b"],
        groups_excluded={},
    )
    criterion = Criterion(
        value=Value(value=-0.15, ci_low=-0.2, ci_high=-0.1),
        between="g=b vs g=a",
        n_compared=200,
        by_group={"g=b": Value(value=-0.15, ci_low=-0.2, ci_high=-0.1)},
    )
    return GroupTable(
        attribute="g",
        columns=["g"],
        reference="g=a",
        reference_rule="largest_group",
        rows=rows,
        summaries={"true_positive_rate": summary},
        criteria={"average_odds_difference": criterion},
    )


def judge(policy: Policy, t: GroupTable) -> list[Finding]:
    return evaluate_policy(policy, [CheckResult(family="fairness", status="ok", tables=[t])])


CASES = [
    # (interval of the difference, verdict when confidence is required)
    ((-0.30, -0.15), "fail"),  # wholly beyond -0.1: a violation with confidence
    ((-0.30, -0.05), "insufficient_data"),  # reaches the threshold
    ((-0.25, 0.25), "insufficient_data"),  # beyond |x| <= 0.1 at both ends, yet spans it
]


@pytest.mark.parametrize(("interval", "verdict"), CASES)
def test_a_rule_requiring_confidence_fails_only_when_the_interval_is_beyond(
    interval: tuple[float, float], verdict: str
) -> None:
    diff = Value(value=-0.2, ci_low=interval[0], ci_high=interval[1])
    policy = one_rule(
        measure="difference_to_reference", threshold={"max_abs": 0.1}, require_confidence=True
    )
    (finding,) = judge(policy, table(diff))
    assert finding.verdict == verdict
    if verdict != "fail":
        assert finding.reason is Reason.NOT_CONFIDENT
        assert "confidence interval reaches the threshold" in finding.message
    # Without the requirement the same point value fails.
    lax = one_rule(measure="difference_to_reference", threshold={"max_abs": 0.1})
    assert judge(lax, table(diff))[0].verdict == "fail"


@pytest.mark.parametrize(
    ("interval", "verdict"),
    [((0.5, 1.4), "insufficient_data"), ((0.5, 0.75), "fail"), ((1.3, 1.6), "fail")],
)
def test_confidence_with_a_two_sided_range_needs_the_interval_on_one_side(
    interval: tuple[float, float], verdict: str
) -> None:
    """[0.5, 1.4] violates min at one end and max at the other, yet covers [0.8, 1.25]."""
    ratio = Value(value=0.7, ci_low=interval[0], ci_high=interval[1])
    t = table(Value(value=-0.2))
    row = t.rows[1]
    cell = row.metrics["true_positive_rate"].model_copy(update={"ratio_to_reference": ratio})
    rows = [t.rows[0], row.model_copy(update={"metrics": {"true_positive_rate": cell}})]
    policy = one_rule(
        measure="ratio_to_reference", threshold={"min": 0.8, "max": 1.25}, require_confidence=True
    )
    (finding,) = judge(policy, t.model_copy(update={"rows": rows}))
    assert finding.verdict == verdict


def test_require_confidence_without_an_interval_is_not_a_failure() -> None:
    policy = Policy.model_validate(
        {
            "name": "p",
            "settings": {"require_confidence": True},
            "rules": [
                {
                    "id": "r",
                    "check": "fairness.true_positive_rate",
                    "measure": "difference_to_reference",
                    "threshold": {"max_abs": 0.1},
                }
            ],
        }
    )
    (finding,) = judge(policy, table(Value(value=-0.2)))
    assert finding.verdict == "insufficient_data" and finding.reason is Reason.NO_INTERVAL


def test_a_group_excluded_by_min_positives_is_not_judged_and_says_why() -> None:
    diff = Value(value=-0.4, ci_low=-0.6, ci_high=-0.2)
    policy = one_rule(measure="difference_to_reference", threshold={"max_abs": 0.1})
    (finding,) = judge(policy, table(diff, excluded=Reason.BELOW_MIN_POSITIVES))
    assert finding.verdict == "insufficient_data"
    assert finding.reason is Reason.BELOW_MIN_POSITIVES
    assert "fewer actual positives than the policy's min_positives" in finding.message
    assert finding.value == pytest.approx(-0.4)  # shown for information


def test_findings_against_the_reference_carry_the_groups_test() -> None:
    diff = Value(value=-0.2, ci_low=-0.3, ci_high=-0.1)
    compared = judge(
        one_rule(measure="difference_to_reference", threshold={"max_abs": 0.1}), table(diff)
    )
    assert (compared[0].p_value, compared[0].p_adjusted) == (0.03, 0.06)
    # A group's own value is not a comparison with the reference: no p-value.
    own = judge(one_rule(measure="value", threshold={"min": 0.5}), table(diff))
    assert all(f.p_value is None for f in own)


def test_rules_on_a_named_criterion_judge_the_attribute_and_each_group() -> None:
    t = table(Value(value=-0.2))
    whole = one_rule(
        check="fairness.average_odds_difference", measure="value", threshold={"max_abs": 0.1}
    )
    (finding,) = judge(whole, t)
    assert (finding.attribute, finding.group, finding.verdict) == ("g", None, "fail")
    assert finding.n == 200 and finding.compared_to == "g=b vs g=a"
    per_group = whole.model_copy(
        update={"rules": [whole.rules[0].model_copy(update={"measure": "by_group"})]}
    )
    (finding,) = judge(per_group, t)
    assert (finding.group, finding.compared_to, finding.verdict) == ("g=b", "g=a", "fail")
    assert "against the reference group" in finding.message


def test_a_measure_a_criterion_lacks_is_refused_when_the_policy_is_read() -> None:
    with pytest.raises(ValueError, match="has no measure 'by_group'"):
        one_rule(check="fairness.equalized_odds_ratio", measure="by_group", threshold={"min": 1})


def test_a_regression_check_on_a_classification_audit_is_an_error_that_says_why() -> None:
    policy = Policy.model_validate(
        {
            "name": "p",
            "rules": [{"id": "fit", "check": "performance.r2_score", "threshold": {"min": 0}}],
        }
    )
    overall = {"accuracy": Value(value=0.9)}
    results = [CheckResult(family="performance", status="ok", overall=overall)]
    (finding,) = evaluate_policy(policy, results)
    assert finding.verdict == "error"
    assert "needs a regression audit (--task regression)" in finding.message


def test_min_positives_from_the_policy_reaches_the_tables(tmp_path: Path) -> None:
    """End to end: a group with 5 actual positives is judged on its selection rate but not
    on its true positive rate when the policy asks for 10."""
    rng = np.random.default_rng(0)
    n = 400
    g = np.where(np.arange(n) < 60, "small", "large")
    y = rng.random(n) < 0.5
    y[:60] = False
    y[:5] = True  # 'small' has 5 positives and 55 negatives
    frame = pd.DataFrame({"g": g, "y": y.astype(int), "p": (rng.random(n) < 0.5).astype(int)})
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "apiVersion: auditor/v1\nname: p\nsettings: {min_group_size: 30, min_positives: 10}\n"
        "rules:\n"
        "  - {id: tpr, check: fairness.true_positive_rate, measure: value, threshold: {min: 0}}\n"
        "  - {id: sel, check: fairness.selection_rate, measure: value, threshold: {min: 0}}\n"
    )
    result = audit(frame, target="y", prediction="p", sensitive="g", policy=policy)
    tpr = {f.group: f for f in result.findings.by_rule("tpr")}
    assert tpr["g=small"].verdict == "insufficient_data"
    assert tpr["g=small"].reason is Reason.BELOW_MIN_POSITIVES
    assert tpr["g=large"].verdict == "pass"
    assert {f.verdict for f in result.findings.by_rule("sel")} == {"pass"}
    small = result.check("fairness").tables[0].rows[1]
    assert small.group == "g=small"
    assert small.metrics["true_positive_rate"].excluded is Reason.BELOW_MIN_POSITIVES
    assert small.metrics["selection_rate"].excluded is None


def test_the_metric_reference_in_docs_is_up_to_date() -> None:
    from auditor.checks.reference import DOC_PATH, metrics_reference

    assert DOC_PATH.read_text(encoding="utf-8") == metrics_reference(), "run `make docs`"


def test_weighted_rates_use_the_effective_size_of_their_own_rows() -> None:
    """Positives weighted 10 and negatives 1: the true positive rate's interval must be as
    wide as for 100 unweighted positives (equal weights within the positives), not narrowed
    by the 900 negatives; and the true negative rate's as for 900 negatives."""
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(100), np.zeros(900)].astype(int)
    frame = pd.DataFrame(
        {"g": ["A"] * 1000 + ["B"] * 1000, "y": np.r_[y, y], "p": rng.random(2000) < 0.5}
    )
    frame["p"] = frame["p"].astype(int)
    frame.loc[1000:, "p"] = frame.loc[:999, "p"].to_numpy()  # B: the same decisions as A
    frame["w"] = np.where((frame["g"] == "A") & (frame["y"] == 1), 10.0, 1.0)
    result = audit(frame, target="y", prediction="p", sensitive="g", weight="w")
    a, b = result.check("fairness").tables[0].rows
    for metric in ("true_positive_rate", "true_negative_rate"):
        va, vb = a.metrics[metric].value, b.metrics[metric].value
        assert va.value == pytest.approx(vb.value)
        assert (va.ci_low, va.ci_high) == pytest.approx((vb.ci_low, vb.ci_high), abs=1e-12)


def test_ratios_of_negative_means_are_undefined_and_one_judged_group_has_no_highest() -> None:
    frame = pd.DataFrame(
        {
            "g": ["a"] * 40 + ["b"] * 40 + ["c"] * 5,
            "y": np.linspace(-3, -1, 85),
            "p": np.r_[np.full(40, -2.0), np.full(40, -1.0), np.full(5, -1.5)],
        }
    )
    result = audit(frame, target="y", prediction="p", sensitive="g", task="regression")
    (table,) = result.check("fairness").tables
    summary = table.summaries["mean_prediction"]
    assert summary.min_max_ratio.value is None
    assert summary.min_max_ratio.reason is Reason.NOT_POSITIVE
    for row in table.rows:
        assert row.metrics["mean_prediction"].ratio_to_highest.value is None
    lonely = audit(
        frame[frame.g != "b"], target="y", prediction="p", sensitive="g", task="regression"
    )
    (table,) = lonely.check("fairness").tables  # only 'a' has 30 rows or more
    a = table.rows[0].metrics["mean_absolute_error"]
    assert a.ratio_to_highest.value is None
    assert a.ratio_to_highest.reason is Reason.FEWER_THAN_TWO_GROUPS
