"""The policy as the report shows it: its rules with thresholds and references, its waivers."""

from __future__ import annotations

from auditor.report.view import Badge, Fact, RuleView, WaiverView
from auditor.results import AuditRecord

_BOUNDS = {"min": "≥", "max": "≤", "max_abs": "|x| ≤"}


def rule_views(result: AuditRecord) -> tuple[RuleView, ...]:
    views = []
    for rule in result.policy.rules:
        threshold = rule.get("threshold")
        if isinstance(threshold, dict):
            threshold = " and ".join(f"{_BOUNDS.get(k, k)} {v}" for k, v in threshold.items())
        measure = str(rule.get("measure", "value")).replace("_", " ")
        pairs = (
            ("Check", rule.get("check")),
            ("Measure", measure),
            ("Threshold", threshold),
            ("Severity", rule.get("severity")),
            ("Attributes", rule.get("attributes")),
        )
        facts = tuple(
            Fact(name, ", ".join(map(str, v)) if isinstance(v, list) else str(v))
            for name, v in pairs
            if v is not None
        )
        refs = rule.get("references")
        references = tuple(str(r) for r in refs) if isinstance(refs, list) else ()
        views.append(
            RuleView(str(rule.get("id", "")), facts, str(rule.get("rationale", "")), references)
        )
    return tuple(views)


def waiver_views(result: AuditRecord) -> tuple[WaiverView, ...]:
    """The policy's waivers; one is expired when the policy reported it so (a failed finding)."""
    expired = {
        (f.rule_id, f.group) for f in result.findings if f.waiver is not None and f.waiver.expired
    }
    views = []
    for w in result.policy.waivers:
        rule, group = str(w.get("rule", "")), w.get("group")
        expires = str(w.get("expires", ""))
        state = (
            Badge("fail", "✘", f"expired on {expires}")
            if (rule, group) in expired
            else Badge("waived", "⚑", f"in force until {expires}")
        )
        views.append(
            WaiverView(
                rule=rule,
                group=str(group) if group else "every group",
                owner=str(w.get("owner", "")),
                reason=str(w.get("reason", "")),
                expires=expires,
                state=state,
            )
        )
    return tuple(views)
