"""Explanations and proxies inside a whole audit: real data, real models, the policy's verdicts.

The engine's agreement with shap is tested in tests/unit/test_explain_engine.py; here: that an
audit explains the right rows, weighs them right, and turns what it finds into findings.
"""

from __future__ import annotations

from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import pytest
import shap

from auditor import AuditResult, audit
from auditor.results import Finding
from tests.conftest import ROOT, SAMPLE_DATA, SAMPLE_MODEL

ADULT = ROOT / "tests" / "data" / "adult.csv"
NUMERIC = ["age", "education-num", "hours-per-week", "capital-gain", "capital-loss"]
CATEGORICAL = ["workclass", "occupation", "relationship", "marital-status"]


def _findings(result: AuditResult, rule_prefix: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id.startswith(rule_prefix)]


@pytest.fixture(scope="module")
def german_result() -> AuditResult:
    return audit(
        SAMPLE_DATA,
        model=SAMPLE_MODEL,
        target="credit",
        pos_label=1,
        sensitive=["sex", "age_group"],
        positive_outcome="favorable",
    )


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    frame = pd.read_csv(ADULT).iloc[:4000].copy()
    for column in CATEGORICAL:
        frame[column] = frame[column].astype("category")
    frame["income"] = (frame["income-per-year"] == ">50K").astype(int)
    return frame


@pytest.fixture(scope="module")
def booster(adult: pd.DataFrame) -> lightgbm.LGBMClassifier:
    model = lightgbm.LGBMClassifier(n_estimators=40, num_leaves=15, verbose=-1, random_state=0)
    return model.fit(adult[NUMERIC + CATEGORICAL], adult["income"])


def test_the_sample_audit_explains_every_row_exactly(german_result: AuditResult) -> None:
    explanation = german_result.check("explain").explanation
    assert explanation is not None
    assert explanation.exact and "linear" in explanation.method
    assert explanation.rows_explained == explanation.rows_total == 400
    assert explanation.max_additivity_error < 1e-9
    assert sum(explanation.sample_by_group["sex"].values()) == 400
    # Ranked by mean |SHAP|, each with an interval around it.
    ranked = [f.mean_abs.value for f in explanation.features]
    assert ranked == sorted(ranked, reverse=True)
    top = explanation.features[0].mean_abs
    assert top.ci_low is not None and top.ci_high is not None
    assert top.ci_low <= top.value <= top.ci_high
    verdicts = {f.rule_id: f.verdict for f in _findings(german_result, "builtin.")}
    assert verdicts == {
        "builtin.additivity_error": "pass",
        "builtin.sensitive_feature_used": "pass",
        "builtin.pii_feature_used": "pass",  # telephone is named like PII, never validates
    }


def test_gap_attribution_adds_up_to_the_gap_in_mean_output(german_result: AuditResult) -> None:
    explanation = german_result.check("explain").explanation
    assert explanation is not None
    for attribute in explanation.attributes:
        gap = attribute.gap
        assert gap is not None
        assert gap.output_gap.value is not None
        expected = gap.mean_output_group - gap.mean_output_reference
        assert gap.output_gap.value == pytest.approx(expected, abs=1e-12)
        terms = sum(t.difference.value or 0.0 for t in gap.terms)
        assert terms == pytest.approx(expected, abs=1e-9)
        assert abs(gap.residual) < 1e-9


def test_a_proxy_of_sex_in_the_sample_model_is_caught(german_result: AuditResult) -> None:
    """personal_status encodes sex in German credit (A92/A95 female): a near copy."""
    near = _findings(german_result, "proxy-near-copy")
    failed = {(f.feature, f.attribute) for f in near if f.verdict == "fail"}
    assert ("personal_status", "sex") in failed
    assert ("age", "age_group") in failed  # age fixes "under 25" by a threshold
    proxies = german_result.check("proxies").proxies
    assert proxies is not None
    assert proxies.associations[0].feature == "personal_status"
    predicted = {p.attribute: p.auc.value for p in proxies.predictability}
    assert predicted["sex"] is not None and predicted["sex"] > 0.95


def test_global_importance_matches_shap_on_every_row(
    adult: pd.DataFrame, booster: lightgbm.LGBMClassifier
) -> None:
    """All rows explained (budget above n), no weights: importance is the plain mean |SHAP|."""
    result = audit(
        adult,
        model=booster,
        target="income",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
    )
    explanation = result.check("explain").explanation
    assert explanation is not None and explanation.rows_explained == len(adult)
    raw = shap.TreeExplainer(booster).shap_values(adult[NUMERIC + CATEGORICAL])
    values = raw[1] if isinstance(raw, list) else raw
    expected = dict(zip(NUMERIC + CATEGORICAL, np.abs(values).mean(axis=0), strict=True))
    for feature in explanation.features:
        assert feature.mean_abs.value == pytest.approx(expected[feature.feature], abs=1e-6)


def test_a_row_budget_explains_a_stratified_sample_that_stands_for_all_rows(
    adult: pd.DataFrame, booster: lightgbm.LGBMClassifier, tmp_path: object
) -> None:
    """Below the data's size, every group is sampled and weighted back to its share."""
    policy = ROOT / "tests" / "data" / "small-explanation-budget.yaml"
    result = audit(
        adult,
        model=booster,
        target="income",
        pos_label=1,
        sensitive=["sex", "race"],
        positive_outcome="favorable",
        policy=policy,
    )
    explanation = result.check("explain").explanation
    assert explanation is not None
    assert explanation.rows_explained == 500 < explanation.rows_total
    sampled = explanation.sample_by_group["sex & race"]
    present = adult.groupby(["sex", "race"]).size()
    assert all(sampled[f"sex={s} & race={r}"] > 0 for s, r in present.index)
    # Weighted back, the estimate is close to the mean |SHAP| over every row.
    raw = shap.TreeExplainer(booster).shap_values(adult[NUMERIC + CATEGORICAL])
    values = raw[1] if isinstance(raw, list) else raw
    full = dict(zip(NUMERIC + CATEGORICAL, np.abs(values).mean(axis=0), strict=True))
    top = explanation.features[0]
    assert top.mean_abs.ci_low is not None and top.mean_abs.ci_high is not None
    assert top.mean_abs.ci_low - 0.05 <= full[top.feature] <= top.mean_abs.ci_high + 0.05


def test_a_sensitive_attribute_among_the_features_is_always_an_error(
    adult: pd.DataFrame,
) -> None:
    frame = adult.assign(sex_code=(adult["sex"] == "Male").astype(int))
    frame = frame.assign(sex=frame["sex_code"])  # the attribute itself, as a number
    features = [*NUMERIC, "sex"]
    model = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1, random_state=0)
    model.fit(frame[features], frame["income"])
    result = audit(
        frame,
        model=model,
        target="income",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
        policy="four-fifths",
    )
    used = _findings(result, "builtin.sensitive_feature_used")
    assert [(f.verdict, f.severity, f.feature) for f in used] == [("fail", "error", "sex")]
    assert result.verdict == "failed"


def test_decisions_mode_has_nothing_to_explain_and_no_error(
    decisions_csv: object,
) -> None:
    result = audit(
        decisions_csv,
        prediction="decision",
        target="credit",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
    )
    assert result.check("explain").explanation is None
    assert result.check("proxies").proxies is None
    assert not _findings(result, "builtin.")
    proxy_rules = [f for f in result.findings if f.check.startswith("proxies.")]
    assert proxy_rules and all(f.verdict == "not_applicable" for f in proxy_rules)


def test_an_explanation_that_does_not_add_up_fails_the_audit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Additivity is checked on every run; a broken explanation is an error finding."""
    import dataclasses

    from auditor.explain import shap_values

    real = shap_values.explain

    def broken(*args: object, **kwargs: object) -> shap_values.Explanation:
        good = real(*args, **kwargs)  # type: ignore[arg-type]
        return dataclasses.replace(good, max_additivity_error=0.25)

    monkeypatch.setattr(shap_values, "explain", broken)
    result = audit(
        SAMPLE_DATA,
        model=SAMPLE_MODEL,
        target="credit",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
    )
    additivity = _findings(result, "builtin.additivity_error")
    assert [(f.verdict, f.severity) for f in additivity] == [("fail", "error")]
    assert result.verdict == "failed"


def test_the_row_budget_holds_with_many_groups(
    adult: pd.DataFrame, booster: lightgbm.LGBMClassifier, tmp_path: Path
) -> None:
    """40 intersectional groups and a 100-row budget: every group explained, 100 rows."""
    policy = tmp_path / "tiny-budget.yaml"
    policy.write_text(
        "apiVersion: auditor/v1\nname: tiny-budget\nextends: default\n"
        "settings: {explanation_rows: 100, bootstrap_resamples: 50, min_group_size: 1}\n"
    )
    frame = adult.assign(band=pd.cut(adult["age"], [0, 30, 40, 50, 200]).astype(str))
    result = audit(
        frame,
        model=booster,
        target="income",
        pos_label=1,
        sensitive=["sex", "race", "band"],
        positive_outcome="favorable",
        policy=policy,
        max_groups=100,
    )
    explanation = result.check("explain").explanation
    assert explanation is not None
    assert explanation.rows_explained == 100
    finest = explanation.sample_by_group["sex & race & band"]
    present = frame.groupby(["sex", "race", "band"]).size()
    assert len(present) > 30
    assert all(finest[f"sex={s} & race={r} & band={b}"] >= 1 for s, r, b in present.index)
