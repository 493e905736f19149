"""Waivers: findings a policy owner accepted, until a date. Applied after every rule is judged."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from auditor.policy.schema import Waiver
from auditor.results import Finding, WaiverInfo

WAIVER_CHECK = "policy.waiver"


def _covers(waiver: Waiver, finding: Finding) -> bool:
    if waiver.rule != finding.rule_id:
        return False
    if waiver.group is None:
        return True
    if finding.feature is not None and waiver.group == finding.feature:
        return True  # a per-feature finding (a proxy) is waived by naming the feature
    return waiver.group == finding.group or (
        finding.group is None and waiver.group == finding.attribute
    )


def _info(waiver: Waiver, today: date) -> WaiverInfo:
    return WaiverInfo(
        reason=waiver.reason,
        owner=waiver.owner,
        expires=waiver.expires.isoformat(),
        expired=today > waiver.expires,
    )


def apply_waivers(findings: Iterable[Finding], waivers: list[Waiver], today: date) -> list[Finding]:
    """Mark findings covered by a waiver; add a failing finding for every expired waiver.

    A failed finding under a waiver in force becomes ``waived`` (it no longer blocks). Under an
    expired waiver it stays failed, with the waiver shown. A waiver in force that covers no
    failure is kept on the findings it covers, so the report still lists it.
    """
    out: list[Finding] = []
    for finding in findings:
        waiver = next((w for w in waivers if _covers(w, finding)), None)
        if waiver is None:
            out.append(finding)
            continue
        info = _info(waiver, today)
        verdict = "waived" if finding.verdict == "fail" and not info.expired else finding.verdict
        out.append(finding.model_copy(update={"waiver": info, "verdict": verdict}))
    out.extend(_expired(w, today) for w in waivers if today > w.expires)
    return out


def _expired(waiver: Waiver, today: date) -> Finding:
    target = waiver.group or "every group"
    return Finding(
        rule_id=waiver.rule,
        check=WAIVER_CHECK,
        measure="expires",
        attribute=None,
        group=waiver.group,
        value=None,
        threshold={},
        threshold_text=f"in force until {waiver.expires.isoformat()}",
        n=None,
        severity="error",
        verdict="fail",
        message=(
            f"the waiver of rule '{waiver.rule}' for {target} (owner {waiver.owner}) expired on "
            f"{waiver.expires.isoformat()}: renew it with a new date or remove it"
        ),
        rationale=waiver.reason,
        waiver=_info(waiver, today),
    )
