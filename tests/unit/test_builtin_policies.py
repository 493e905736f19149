"""Built-in policies: each is documented and runs end to end on the German credit sample."""

from __future__ import annotations

import pandas as pd
import pytest

from auditor import AuditResult, audit
from auditor.policy import list_builtin_policies, load_policy
from tests.conftest import SAMPLE_DATA, SAMPLE_MODEL

VERDICTS_JUDGED = {"pass", "fail", "insufficient_data"}
ATTRIBUTES = {"sex", "age_group", "sex & age_group"}


@pytest.mark.parametrize("name", list_builtin_policies())
def test_builtin_policy_is_documented(name: str) -> None:
    policy = load_policy(name).policy
    assert policy.name == name
    assert policy.description.strip(), f"policy '{name}' has no description"
    assert policy.rules
    no_rationale = [r.id for r in policy.rules if not r.rationale.strip()]
    no_reference = [r.id for r in policy.rules if not any(ref.strip() for ref in r.references)]
    assert not no_rationale, f"{name}: rules without a rationale: {no_rationale}"
    assert not no_reference, f"{name}: rules without a reference: {no_reference}"


# The rules every model audit judges whatever its policy (auditor/checks/explain.py).
BUILTIN = {
    "builtin.additivity_error",
    "builtin.sensitive_feature_used",
    "builtin.pii_feature_used",
}


def test_new_policies_are_listed() -> None:
    assert {"nyc-ll144", "equal-opportunity", "lending", "four-fifths"} <= set(
        list_builtin_policies()
    )


def _audit_sample(policy: str) -> AuditResult:
    return audit(
        SAMPLE_DATA,
        model=SAMPLE_MODEL,
        target="credit",
        pos_label=1,
        sensitive=["sex", "age_group"],
        policy=policy,
    )


def _rule_ids(name: str) -> set[str]:
    return {rule.id for rule in load_policy(name).policy.rules}


@pytest.fixture(scope="module")
def ll144() -> AuditResult:
    return _audit_sample("nyc-ll144")


@pytest.fixture(scope="module")
def equal_opportunity() -> AuditResult:
    return _audit_sample("equal-opportunity")


@pytest.fixture(scope="module")
def lending() -> AuditResult:
    return _audit_sample("lending")


@pytest.fixture(scope="module")
def four_fifths() -> AuditResult:
    return _audit_sample("four-fifths")


# --- NYC Local Law 144 ---------------------------------------------------------------------


def test_ll144_rules_report_and_warn_but_never_error(ll144: AuditResult) -> None:
    assert {f.rule_id for f in ll144.findings} == _rule_ids("nyc-ll144") | BUILTIN
    own = [f for f in ll144.findings if f.rule_id not in BUILTIN]
    assert {f.severity for f in own} <= {"warning", "info"}
    assert {f.verdict for f in ll144.findings} <= VERDICTS_JUDGED
    assert ll144.setup.positive_outcome == "favorable"
    # The law sets no pass mark: nothing here can fail the audit at the default fail_on.
    assert ll144.verdict == "passed"


def test_ll144_covers_each_attribute_and_the_intersection(ll144: AuditResult) -> None:
    for rule in ("selection-impact-ratio", "scoring-impact-ratio"):
        findings = ll144.findings.by_rule(rule)
        assert {f.attribute for f in findings} == ATTRIBUTES
        assert all(f.measure == "ratio_to_highest" for f in findings)
        # The most selected (highest scoring) category of each attribute has ratio 1.
        tops = [f for f in findings if f.value == pytest.approx(1.0)]
        assert {f.attribute for f in tops} == ATTRIBUTES


def test_ll144_scoring_rate_is_measured_from_the_models_scores(ll144: AuditResult) -> None:
    scoring = ll144.findings.by_rule("scoring-rate")
    assert scoring and all(f.value is not None and 0 <= f.value <= 1 for f in scoring)
    assert all(f.verdict == "pass" and f.severity == "info" for f in scoring)


def test_ll144_records_every_categorys_selection_rate(ll144: AuditResult) -> None:
    rates = ll144.findings.by_rule("selection-rate")
    # sex (2) + age_group (2) + their intersection (4): every category, none left out.
    assert len(rates) == 8
    assert all(f.verdict == "pass" and f.value is not None for f in rates)


def test_ll144_scoring_rules_without_scores_are_not_applicable_and_name_the_input(
    german: pd.DataFrame,
) -> None:
    from auditor.inputs.model_files import load_model_file

    model = load_model_file(SAMPLE_MODEL).estimator
    frame = german.assign(decision=model.predict(german[list(model.feature_names_in_)]))
    result = audit(
        frame,
        target="credit",
        pos_label=1,
        sensitive=["sex"],
        prediction="decision",
        policy="nyc-ll144",
    )
    assert result.setup.mode == "decisions" and result.setup.score is None
    for rule in ("scoring-impact-ratio", "scoring-rate"):
        (finding,) = result.findings.by_rule(rule)
        assert finding.verdict == "not_applicable"  # optional: a selection tool has no scores
        assert finding.severity in ("warning", "info")  # the rule's severity is kept
        assert "fairness.scoring_rate was not measured" in finding.message
        assert "needs scores" in finding.message and "--score" in finding.message
    # The selection-rate rules do not need scores and are judged as usual.
    selection = result.findings.by_rule("selection-impact-ratio")
    assert selection and {f.verdict for f in selection} <= VERDICTS_JUDGED
    assert result.verdict == "passed"  # a selection tool is not failed for having no scores


def test_a_rule_that_is_not_optional_errors_when_its_check_cannot_be_measured(
    german: pd.DataFrame,
) -> None:
    from auditor.policy.evaluate import evaluate_policy
    from auditor.policy.schema import Policy
    from auditor.results import CheckResult, GroupTable

    table = GroupTable(
        attribute="sex",
        columns=["sex"],
        reference="sex=male",
        reference_rule="largest_group",
        rows=[],
        summaries={},
    )
    results = [CheckResult(family="fairness", status="ok", tables=[table])]
    rule = {"id": "auc", "check": "fairness.roc_auc", "threshold": {"min": 0.7}}
    required = Policy.model_validate({"name": "p", "rules": [rule]})
    optional = Policy.model_validate({"name": "p", "rules": [{**rule, "optional": True}]})
    (error,) = evaluate_policy(required, results)
    (skipped,) = evaluate_policy(optional, results)
    assert error.verdict == "error" and "needs scores" in error.message
    assert skipped.verdict == "not_applicable" and "optional" in skipped.message


# --- Equal opportunity ---------------------------------------------------------------------


def test_equal_opportunity_policy_settings() -> None:
    policy = load_policy("equal-opportunity").policy
    assert "min_positives" in policy.settings.model_fields_set
    main = next(r for r in policy.rules if r.id == "tpr-gap")
    assert main.require_confidence is True and main.severity == "error"


def test_equal_opportunity_runs(equal_opportunity: AuditResult) -> None:
    findings = equal_opportunity.findings
    assert {f.rule_id for f in findings} == _rule_ids("equal-opportunity") | BUILTIN
    assert {f.verdict for f in findings} <= VERDICTS_JUDGED
    gaps = findings.by_rule("tpr-gap")
    assert {f.attribute for f in gaps} == ATTRIBUTES
    # min_positives: 20 leaves out the young women (34 rows, fewer than 20 actual positives).
    assert {f.group for f in gaps if f.reason == "below_min_positives"} == {
        "sex=female & age_group=under 25"
    }
    judged = [f for f in gaps if f.reason is None]
    assert judged and all(f.compared_to is not None for f in judged)  # against the reference
    for rule in ("tpr-spread", "equalized-odds"):  # one figure per attribute
        assert {(f.attribute, f.group) for f in findings.by_rule(rule)} == {
            (a, None) for a in ATTRIBUTES
        }
    # A gap fails only when its whole interval lies beyond 0.1.
    for f in gaps.failed():
        assert f.ci_low is not None and f.ci_high is not None
        assert min(abs(f.ci_low), abs(f.ci_high)) > 0.1 and f.ci_low * f.ci_high > 0


# --- Lending ---------------------------------------------------------------------------------


def test_lending_runs(lending: AuditResult) -> None:
    findings = lending.findings
    assert {f.rule_id for f in findings} == _rule_ids("lending") | BUILTIN
    assert {f.verdict for f in findings} <= VERDICTS_JUDGED
    assert lending.setup.positive_outcome == "favorable"
    air = findings.by_rule("adverse-impact-ratio")
    assert {f.severity for f in air} == {"error"}
    # Each group against the reference (control) group, which is not compared with itself.
    references = {"sex=male", "age_group=25 and over", "sex=male & age_group=25 and over"}
    judged = [f for f in air if f.verdict != "insufficient_data"]
    assert {f.compared_to for f in judged} == references
    assert not {f.group for f in air} & references
    for rule in ("creditworthy-denied-gap", "uncreditworthy-approved-gap"):
        assert {f.severity for f in findings.by_rule(rule)} == {"warning"}


# --- Four-fifths -----------------------------------------------------------------------------


def test_four_fifths_runs(four_fifths: AuditResult) -> None:
    findings = four_fifths.findings
    assert {f.rule_id for f in findings} == {"adverse-impact"} | BUILTIN
    assert {f.verdict for f in findings} <= VERDICTS_JUDGED
    assert any("1607.4(D)" in ref for f in findings for ref in f.references)
