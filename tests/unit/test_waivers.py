"""Waivers: an accepted risk stops blocking until its date, stays visible, and then fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor import audit
from auditor.errors import PolicyError
from auditor.report import render_html

JAN_1_2027 = "1798761600"  # SOURCE_DATE_EPOCH of 2027-01-01T00:00:00Z


def policy_file(tmp_path: Path, waivers: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "apiVersion: auditor/v1\nname: waived\n"
        "rules:\n"
        "  - {id: di, check: fairness.favorable_rate, measure: ratio_to_highest, "
        "threshold: {min: 0.8}}\n"
        "  - {id: dp, check: fairness.selection_rate, measure: max_abs_difference, "
        "threshold: {max: 0.1}, severity: warning}\n" + waivers
    )
    return path


@pytest.fixture()
def biased(german: pd.DataFrame) -> pd.DataFrame:
    """Women granted credit far less often than men: 'di' fails for sex=female."""
    rng = np.random.default_rng(7)
    granted = np.where(
        german["sex"] == "male", rng.random(len(german)) < 0.8, rng.random(len(german)) < 0.4
    )
    return german.assign(decision=np.where(granted, 1, 2))


def run(frame: pd.DataFrame, policy: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", JAN_1_2027)
    return audit(
        frame,
        target="credit",
        pos_label=1,
        sensitive="sex",
        prediction="decision",
        policy=policy,
        positive_outcome="favorable",
    )


def test_without_a_waiver_the_audit_fails(biased, tmp_path, monkeypatch) -> None:
    result = run(biased, policy_file(tmp_path, ""), monkeypatch)
    assert result.verdict == "failed"
    assert [f.group for f in result.findings.failed().by_rule("di")] == ["sex=female"]


def test_a_waiver_in_force_marks_the_finding_waived_and_passes(biased, tmp_path, monkeypatch):
    waivers = (
        "waivers:\n  - {rule: di, group: sex=female, reason: 'retraining in Q1', "
        "owner: risk-team, expires: 2027-03-01}\n"
    )
    result = run(biased, policy_file(tmp_path, waivers), monkeypatch)
    assert result.verdict == "passed"
    (waived,) = [f for f in result.findings if f.verdict == "waived"]
    assert (waived.rule_id, waived.group) == ("di", "sex=female")
    assert waived.waiver is not None and not waived.waiver.expired
    assert waived.waiver.owner == "risk-team" and waived.waiver.expires == "2027-03-01"
    html = render_html(result)
    assert "waiver in force until 2027-03-01, owner risk-team: retraining in Q1" in html
    assert result.policy.waivers[0]["expires"] == "2027-03-01"


def test_an_expired_waiver_fails_the_audit(biased, tmp_path, monkeypatch) -> None:
    waivers = (
        "waivers:\n  - {rule: di, group: sex=female, reason: 'old excuse', "
        "owner: risk-team, expires: 2026-12-31}\n"
    )
    result = run(biased, policy_file(tmp_path, waivers), monkeypatch)
    assert result.verdict == "failed"
    original = next(
        f
        for f in result.findings
        if f.rule_id == "di" and f.group == "sex=female" and f.check != "policy.waiver"
    )
    assert original.verdict == "fail" and original.waiver is not None and original.waiver.expired
    expiry = next(f for f in result.findings if f.check == "policy.waiver")
    assert (expiry.verdict, expiry.severity) == ("fail", "error")
    assert "expired on 2026-12-31: renew it with a new date or remove it" in expiry.message


def test_a_waiver_without_group_covers_every_group_and_summaries_by_attribute(
    biased, tmp_path, monkeypatch
) -> None:
    waivers = (
        "waivers:\n  - {rule: di, reason: r, owner: o, expires: 2027-06-30}\n"
        "  - {rule: dp, group: sex, reason: r, owner: o, expires: 2027-06-30}\n"
    )
    result = run(biased, policy_file(tmp_path, waivers), monkeypatch)
    assert not result.findings.failed()
    assert {f.rule_id for f in result.findings if f.verdict == "waived"} == {"di", "dp"}


def test_a_waiver_of_an_unknown_rule_is_a_policy_error(tmp_path: Path) -> None:
    waivers = "waivers:\n  - {rule: nope, reason: r, owner: o, expires: 2027-01-01}\n"
    with pytest.raises(
        PolicyError, match=r"waivers name rules that the policy does not have: \['nope'\]"
    ):
        from auditor.policy import load_policy

        load_policy(policy_file(tmp_path, waivers))


def test_a_waiver_needs_reason_owner_and_a_real_date(tmp_path: Path) -> None:
    from auditor.policy import load_policy

    waivers = "waivers:\n  - {rule: di, reason: '', owner: o, expires: 2027-02-30}\n"
    with pytest.raises(PolicyError) as caught:
        load_policy(policy_file(tmp_path, waivers))
    assert "waivers[0].reason" in str(caught.value) and "waivers[0].expires" in str(caught.value)
