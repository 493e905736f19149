"""Edge cases of the transparency and governance checks found in review, each a regression test.

Verdicts that must not silently flip (require_confidence, an errored family with no rule),
numbers that must not be wrong (own-column missingness, margins, decision-function scores),
and personal data that must not leak (unseen-category examples).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.svm import LinearSVC

from auditor import AuditResult, audit
from auditor.policy import load_policy
from auditor.policy.evaluate import evaluate_policy
from auditor.policy.schema import Policy
from auditor.results import CheckResult, Finding, ItemValue, Value
from tests.conftest import SAMPLE_DATA, SAMPLE_MODEL


def _policy(tmp_path: Path, body: str, name: str = "p") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"apiVersion: auditor/v1\nname: {name}\nextends: default\n{body}")
    return path


def _rule(result: AuditResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id]


def _german(tmp_path: Path, body: str = "", settings: str = "", **options: object) -> AuditResult:
    arguments: dict[str, object] = {
        "model": SAMPLE_MODEL,
        "target": "credit",
        "pos_label": 1,
        "sensitive": ["sex"],
        "positive_outcome": "favorable",
        "policy": _policy(tmp_path, f"settings: {{bootstrap_resamples: 50{settings}}}\n{body}"),
    }
    return audit(SAMPLE_DATA, **{**arguments, **options})


def test_require_confidence_does_not_silence_an_exact_builtin_rule(tmp_path: Path) -> None:
    """personal_status is a model feature: used as the sensitive attribute, it is direct use,
    and a count has no interval to wait for."""
    result = _german(
        tmp_path,
        settings=", require_confidence: true",
        sensitive=["personal_status"],
        max_groups=10,
    )
    used = _rule(result, "builtin.sensitive_feature_used")
    assert [(f.verdict, f.severity) for f in used] == [("fail", "error")]
    assert result.verdict == "failed"


def test_an_errored_family_without_rules_still_fails_the_audit() -> None:
    policy = load_policy("default").policy
    errored = CheckResult(family="explain", status="error", error="boom")
    findings = evaluate_policy(policy, [errored], today=date(2026, 1, 1))
    ran = [f for f in findings if f.rule_id.startswith("builtin.")]
    assert [(f.rule_id, f.verdict) for f in ran] == [("builtin.explain-ran", "error")]
    assert "boom" in ran[0].message


def test_nearest_passing_item_uses_the_margin_for_max_abs() -> None:
    """All pass: the item reported is the one closest to a bound (|-0.045| vs 0.05)."""
    policy = Policy.model_validate(
        {
            "name": "margin",
            "rules": [
                {
                    "id": "shift",
                    "check": "representation.share_shift",
                    "threshold": {"max_abs": 0.05},
                },
                {
                    "id": "ratio",
                    "check": "representation.representation_ratio",
                    "threshold": {"min": 0.8, "max": 5},
                },
            ],
        }
    )
    items = {
        "share_shift": [
            ItemValue(attribute="sex", group=g, value=Value(value=v))
            for g, v in (("sex=female", -0.045), ("sex=male", 0.01))
        ],
        "representation_ratio": [
            ItemValue(attribute="sex", group=g, value=Value(value=v))
            for g, v in (("a", 0.82), ("b", 1.0), ("c", 1.2))
        ],
    }
    result = CheckResult(family="representation", status="ok", items=items)
    found = {f.rule_id: f for f in evaluate_policy(policy, [result], today=date(2026, 1, 1))}
    assert (found["shift"].group, found["shift"].value) == ("sex=female", -0.045)
    assert (found["ratio"].group, found["ratio"].value) == ("a", 0.82)


def test_unseen_examples_never_show_free_text_or_scattered_emails(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 400
    train = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "decision": rng.integers(0, 2, n),
            "sex": rng.choice(["f", "m"], n),
            "note": [f"free text {i}" for i in range(n)],
            "branch": rng.choice(["north", "south"], n),
        }
    )
    audited = train.copy()
    audited.loc[:7, "note"] = [f"john.smith{i}@example.com" for i in range(8)]  # 2%
    audited.loc[:3, "branch"] = "east"
    result = audit(
        audited,
        prediction="decision",
        target="y",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
        train_data=train,
        policy=_policy(tmp_path, ""),
    )
    text = result.to_json()
    assert "john.smith0@example.com" not in text
    governance = result.check("data_quality").governance
    assert governance is not None and governance.quality is not None
    drift = {d.column: d for d in governance.quality.drift}
    assert drift["note"].unseen_examples == []
    assert drift["branch"].unseen_examples == ["east"]  # a short code list may be named


def test_missing_as_group_does_not_test_a_column_against_its_own_groups(
    tmp_path: Path,
) -> None:
    german = pd.read_csv(SAMPLE_DATA)
    german.loc[:2, "sex"] = np.nan
    result = audit(
        german,
        model=SAMPLE_MODEL,
        target="credit",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
        missing_as_group=True,
        policy=_policy(tmp_path, ""),
    )
    flagged = [f for f in _rule(result, "missingness-by-group") if f.verdict == "fail"]
    assert [f.feature for f in flagged if f.feature == "sex"] == []


def test_population_values_with_equals_signs_and_an_unnamed_group(tmp_path: Path) -> None:
    german = pd.read_csv(SAMPLE_DATA)
    german["band"] = np.where(german["age"] <= 30, "<=30", ">30")
    shares = "{'<=30': 0.4, '>30': 0.6}"
    result = audit(
        german,
        model=SAMPLE_MODEL,
        target="credit",
        pos_label=1,
        sensitive=["band", "sex"],
        positive_outcome="favorable",
        policy=_policy(
            tmp_path,
            f"population:\n  - attribute: band\n    shares: {shares}\n"
            "  - attribute: sex\n    shares: {female: 1.0}\n"
            "  - attribute: colour\n    shares: {red: 1.0}\n",
        ),
    )
    assert result.check("representation").status == "ok"
    ratios = [f for f in _rule(result, "under-representation") if f.attribute == "band"]
    assert {f.verdict for f in ratios} <= {"pass", "fail"} and ratios
    (sex,) = [f for f in _rule(result, "under-representation") if f.attribute == "sex"]
    assert sex.verdict == "insufficient_data" and "no share for" in sex.message
    governance = result.check("representation").governance
    assert governance is not None
    assert any("colour" in note for note in governance.notes)


def test_membership_needs_probabilities_not_margins(tmp_path: Path) -> None:
    german = pd.read_csv(SAMPLE_DATA)
    features = ["month", "credit_amount", "age"]
    model = LinearSVC().fit(german[features], german["credit"])
    result = audit(
        german[[*features, "credit", "sex"]],
        model=model,
        target="credit",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
        train_data=german[[*features, "credit", "sex"]].iloc[:200],
        policy=_policy(tmp_path, ""),
    )
    governance = result.check("privacy").governance
    assert governance is not None and governance.privacy is not None
    assert governance.privacy.membership is None
    assert any("no probabilities" in note for note in governance.privacy.notes)


def test_proxies_of_a_single_valued_attribute_are_undefined(tmp_path: Path) -> None:
    german = pd.read_csv(SAMPLE_DATA).assign(country="DE")
    result = audit(
        german,
        model=SAMPLE_MODEL,
        target="credit",
        pos_label=1,
        sensitive=["country"],
        positive_outcome="favorable",
        policy=_policy(tmp_path, ""),
    )
    near = _rule(result, "proxy-near-copy")
    assert near and all(f.verdict == "insufficient_data" for f in near)


def test_extends_merges_privacy_settings_key_by_key(tmp_path: Path) -> None:
    parent = _policy(tmp_path, "privacy: {quasi_identifiers: [age, sex], k: 4}\n", "parent")
    child = tmp_path / "child.yaml"
    child.write_text(
        f"apiVersion: auditor/v1\nname: child\nextends: {parent.name}\nprivacy: {{l: 2}}\n"
    )
    policy = load_policy(child).policy
    assert policy.privacy.quasi_identifiers == ["age", "sex"]
    assert (policy.privacy.k, policy.privacy.l) == (4, 2)


@pytest.mark.parametrize("rule_id", ["builtin.additivity_error"])
def test_builtin_rules_are_judged_without_require_confidence(tmp_path: Path, rule_id: str) -> None:
    result = _german(tmp_path, settings=", require_confidence: true")
    assert [f.verdict for f in _rule(result, rule_id)] == ["pass"]
