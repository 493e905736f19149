"""Data governance inside a whole audit: real data, planted problems, the policy's verdicts.

The computations are tested on their own in tests/unit/test_representation.py,
test_data_quality.py, test_pii.py, test_anonymity.py and test_membership.py; here: that an
audit measures them on the right rows and turns them into findings, and that no raw personal
data reaches audit.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare
from sklearn.tree import DecisionTreeClassifier

from auditor import AuditResult, audit
from auditor.results import Finding
from tests.conftest import ROOT, audit_args, run_cli

ADULT = ROOT / "tests" / "data" / "adult.csv"
# Illustrative population shares (roughly the US adult population; stated, not official).
SEX_SHARES = {"Female": 0.508, "Male": 0.492}
NUMERIC = ["age", "education-num", "hours-per-week", "capital-gain", "capital-loss"]


def _policy(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "apiVersion: auditor/v1\nname: governance-test\nextends: default\n"
        "settings: {bootstrap_resamples: 200}\n" + body
    )
    return path


def _failed(result: AuditResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule and f.verdict == "fail"]


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    frame = pd.read_csv(ADULT)
    return frame.assign(income=(frame["income-per-year"] == ">50K").astype(int))


def _decisions(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(decision=(frame["education-num"] >= 13).astype(int))


def test_adult_sex_shares_against_a_population(adult: pd.DataFrame, tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        "population:\n  - attribute: sex\n    source: illustrative census shares\n"
        "    shares: {Female: 0.508, Male: 0.492}\n",
    )
    result = audit(
        _decisions(adult),
        prediction="decision",
        target="income",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
        policy=policy,
    )
    governance = result.check("representation").governance
    assert governance is not None
    (sex,) = [r for r in governance.representation if r.attribute == "sex"]
    counts = adult["sex"].value_counts().sort_index()
    expected = np.array([SEX_SHARES[k] for k in counts.index]) * counts.sum()
    scipy_result = chisquare(counts.to_numpy(), expected)
    assert sex.chi_square == pytest.approx(scipy_result.statistic, rel=1e-9)
    assert sex.dof == 1
    female = next(g for g in sex.groups if g.group == "sex=Female")
    share = counts["Female"] / counts.sum()
    assert female.observed.value == pytest.approx(share, abs=1e-12)
    assert female.ratio is not None and female.ratio.value == pytest.approx(share / 0.508)
    tvd = 0.5 * sum(abs(counts[k] / counts.sum() - v) for k, v in SEX_SHARES.items())
    assert sex.total_variation is not None
    assert sex.total_variation.value == pytest.approx(tvd, abs=1e-12)
    assert sex.reference_source == "illustrative census shares"
    under = _failed(result, "under-representation")
    assert [(f.group, f.severity) for f in under] == [("sex=Female", "warning")]


def test_training_data_shift_and_unseen_values(adult: pd.DataFrame, tmp_path: Path) -> None:
    train, rest = adult.iloc[:16000], adult.iloc[16000:]
    # Half the women left out of the audit rows, and a category training never had.
    drop = rest.index[(rest["sex"] == "Female").to_numpy() & (np.arange(len(rest)) % 2 == 0)]
    audited = rest.drop(index=drop).copy()
    audited.loc[audited.index[:400], "workclass"] = "Space-agency"
    result = audit(
        _decisions(audited),
        prediction="decision",
        target="income",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
        train_data=train,
        policy=_policy(tmp_path, ""),
    )
    shifted = _failed(result, "training-share-shift")
    assert {f.group for f in shifted} == {"sex=Female", "sex=Male"}
    female = next(f for f in shifted if f.group == "sex=Female")
    train_share = (train["sex"] == "Female").mean()
    audit_share = (audited["sex"] == "Female").mean()
    assert female.value == pytest.approx(audit_share - train_share, abs=1e-12)
    unseen = _failed(result, "unseen-values")
    assert [f.feature for f in unseen] == ["workclass"]
    assert unseen[0].value == pytest.approx(400 / len(audited))


def test_planted_personal_data_is_found_and_never_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 400
    cards = np.where(np.arange(n) % 2 == 0, "4111111111111111", "4111111111111112")
    frame = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "decision": rng.integers(0, 2, n),
            "group": rng.choice(["a", "b"], n),
            "card": cards,
            "contact": [f"person{i}@example.org" for i in range(n)],
            "tax_id": ["123-45-6789" if i % 4 == 0 else "000-12-3456" for i in range(n)],
        }
    )
    result = audit(
        frame,
        prediction="decision",
        target="y",
        pos_label=1,
        sensitive=["group"],
        positive_outcome="favorable",
        policy=_policy(tmp_path, ""),
    )
    governance = result.check("privacy").governance
    assert governance is not None and governance.privacy is not None
    found = {p.column: p for p in governance.privacy.pii}
    assert found["card"].kind == "payment_card" and found["card"].share == pytest.approx(0.5)
    assert found["contact"].kind == "email" and found["contact"].share == pytest.approx(1.0)
    assert found["tax_id"].kind == "us_ssn" and found["tax_id"].share == pytest.approx(0.25)
    flagged = {f.feature for f in _failed(result, "personal-data")}
    assert flagged == {"card", "contact", "tax_id"}
    text = result.to_json()
    for raw in ("4111111111111111", "person0@example.org", "123-45-6789", "123456789"):
        assert raw not in text


def test_k_anonymity_violation_and_missingness_pattern(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    n = 2000
    frame = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "decision": rng.integers(0, 2, n),
            "sex": rng.choice(["female", "male"], n),
            "zip": rng.choice(["10001", "10002", "10003"], n),
            "age_band": rng.choice(["20-29", "30-39", "40-49"], n),
        }
    )
    frame.loc[:2, "zip"] = ["99901", "99902", "99903"]  # three people who stand out
    income = rng.normal(50, 10, n)
    missing = np.where(frame["sex"] == "female", rng.random(n) < 0.4, rng.random(n) < 0.02)
    frame["income"] = np.where(missing, np.nan, income)
    policy = _policy(tmp_path, "privacy: {quasi_identifiers: [zip, age_band, sex], k: 5}\n")
    result = audit(
        frame,
        prediction="decision",
        target="y",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
        policy=policy,
    )
    governance = result.check("privacy").governance
    assert governance is not None and governance.privacy is not None
    anonymity = governance.privacy.anonymity
    assert anonymity is not None
    assert anonymity.smallest_class == 1
    sizes = frame.groupby(["zip", "age_band", "sex"]).size()
    assert anonymity.rows_below_k == int(sizes[sizes < 5].sum())
    assert [f.value for f in _failed(result, "k-anonymity")] == [anonymity.share_below_k]
    dependent = _failed(result, "missingness-by-group")
    assert [(f.feature, f.attribute) for f in dependent] == [("income", "sex")]


def test_membership_inference_of_a_memorising_model(adult: pd.DataFrame, tmp_path: Path) -> None:
    sample = adult.sample(4000, random_state=0)
    train, held_out = sample.iloc[:2000], sample.iloc[2000:]
    model = DecisionTreeClassifier(random_state=0).fit(train[NUMERIC], train["income"])
    result = audit(
        held_out[[*NUMERIC, "income", "sex"]],
        model=model,
        target="income",
        pos_label=1,
        sensitive=["sex"],
        positive_outcome="favorable",
        train_data=train[[*NUMERIC, "income", "sex"]],
        policy=_policy(tmp_path, ""),
    )
    governance = result.check("privacy").governance
    assert governance is not None and governance.privacy is not None
    membership = governance.privacy.membership
    assert membership is not None
    assert membership.members == 2000 and membership.non_members == 2000
    assert membership.auc.value is not None and membership.auc.value > 0.6
    assert membership.auc.ci_low is not None and membership.auc.ci_low > 0.5
    assert _failed(result, "membership-inference")


def test_cli_takes_the_training_data(tmp_path: Path) -> None:
    german = pd.read_csv(ROOT / "sample_models" / "data" / "german_credit_audit.csv")
    train = tmp_path / "train.csv"
    german.iloc[:200].to_csv(train, index=False)
    out = tmp_path / "out"
    done = run_cli(*audit_args("sex"), "--train-data", train, "--out", out, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    text = (out / "audit.json").read_text()
    assert '"train_rows": 200' in text
