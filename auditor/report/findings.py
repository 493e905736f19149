"""Findings of the view model: rows of the findings table, failures first, and their summary.

Each row links to the place of the report its value comes from: the group table of its
attribute, or the section of its check family. Nothing is judged here; the verdicts are the
policy's.
"""

from __future__ import annotations

from collections import Counter

from auditor.report.formatting import badge, count, number, p_text, reason_text
from auditor.report.view import Cell, FindingRow
from auditor.results import SEVERITY_RANK, AuditRecord, Finding, Reason, at_or_above

MAX_FINDING_ROWS = 100
ORDER = {
    "error": 0,
    "fail": 1,
    "waived": 2,
    "insufficient_data": 3,
    "pass": 4,
    "not_applicable": 5,
}


def family_of(check: str) -> str:
    """The check family of a dotted check name (``fairness.selection_rate`` -> fairness)."""
    return check.split(".", 1)[0]


def finding_row(finding: Finding, links: dict[tuple[str, str | None], str]) -> FindingRow:
    """One row of the findings table; ``links`` maps (family, attribute) to an anchor."""
    cell = number(finding.value, finding.reason)
    if not cell.undefined and finding.ci_low is not None and finding.ci_high is not None:
        cell = Cell(cell.text, interval=f"[{finding.ci_low:.3f}, {finding.ci_high:.3f}]")
    family = family_of(finding.check)
    link = links.get((family, finding.attribute)) or links.get((family, None), "")
    return FindingRow(
        rule=finding.rule_id,
        check=f"{finding.check} · {finding.measure.replace('_', ' ')}",
        attribute=finding.attribute or "all rows",
        group=finding.group or "–",
        compared_to=finding.compared_to or "",
        value=cell,
        threshold=finding.threshold_text,
        n=count(finding.n),
        severity=finding.severity,
        verdict=badge(finding.verdict),
        message=finding.message,
        waiver=waiver_text(finding),
        link=link,
        subject=finding.group
        or (f"all groups of {finding.attribute}" if finding.attribute else "all rows"),
        p=p_text(finding.p_value, finding.p_adjusted),
    )


def waiver_text(finding: Finding) -> str:
    w = finding.waiver
    if w is None:
        return ""
    state = "expired on" if w.expired else "in force until"
    return f"waiver {state} {w.expires}, owner {w.owner}: {w.reason}"


def why_excluded(finding: Finding) -> str:
    """The finding's own words when they carry n and the limit, else the reason's text."""
    if finding.reason is Reason.BELOW_MIN_GROUP_SIZE:
        return finding.message.split(": ", 1)[-1]
    return reason_text(finding.reason)


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    """Failures first, then waived, undecided and passed; by severity, rule and group."""

    def key(f: Finding) -> tuple[int, int, str, str, str]:
        order = ORDER.get(f.verdict, 5), -SEVERITY_RANK[f.severity]
        return (*order, f.rule_id, f.attribute or "", f.group or "")

    return sorted(findings, key=key)


def blocks(finding: Finding, fail_on: str) -> bool:
    """Whether a failed finding's severity is one the audit fails on (the policy's setting)."""
    return at_or_above(finding.severity, fail_on)


def shown(items: list[str], limit: int = 5) -> str:
    """``a, b, c and 4 more``: a list cut to ``limit`` items and a count of the rest."""
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit:,} more" if len(items) > limit else "")


def summary(result: AuditRecord) -> tuple[str, tuple[str, ...]]:
    """The verdict in one paragraph, and one line per failed rule naming its groups."""
    counts = Counter(f.verdict for f in result.findings)
    words = badge(result.verdict).word
    severities = Counter(f.severity for f in result.findings if f.verdict == "fail")
    by_severity = ", ".join(f"{n:,} of severity {s}" for s, n in sorted(severities.items()))
    text = (
        f"The audit {words} under the policy '{result.policy.name}'. Of {len(result.findings):,} "
        f"findings, {counts['fail']:,} failed{f' ({by_severity})' if by_severity else ''}, "
        f"{counts['pass']:,} passed and {counts['insufficient_data']:,} could not be judged "
        "for lack of data"
    )
    if counts["waived"]:
        text += f"; {counts['waived']:,} failed but are covered by a waiver in force"
    if counts["error"]:
        text += f"; {counts['error']:,} could not be evaluated because of an error"
    text += "."
    failed: dict[tuple[str, str], list[str]] = {}
    for f in sorted_findings(result.findings):
        if f.verdict == "fail":
            failed.setdefault((f.rule_id, f.severity), []).append(
                f.group or f.attribute or "all rows"
            )
    lines = []
    for (rule, severity), groups in failed.items():
        effect = (
            "this fails the audit"
            if at_or_above(severity, result.fail_on)
            else f"a {severity}: reported, but the audit fails only on severity {result.fail_on}"
        )
        lines.append(f"Rule '{rule}' failed for {shown(groups)} ({effect}).")
    if not failed:
        text += " No rule failed for any group."
    return text, tuple(lines)


def more(hidden: Counter[str], what: str) -> str:
    if not hidden:
        return ""
    parts = ", ".join(f"{n:,} {word}" for word, n in sorted(hidden.items()))
    return f"… and {hidden.total():,} more {what} ({parts}), all in audit.json."


def findings_table(
    result: AuditRecord, links: dict[tuple[str, str | None], str]
) -> tuple[tuple[FindingRow, ...], str]:
    """The rows of the findings table (capped) and the count of the rest."""
    ordered = sorted_findings(result.findings)
    rows = tuple(finding_row(f, links) for f in ordered[:MAX_FINDING_ROWS])
    rest = Counter(badge(f.verdict).word for f in ordered[MAX_FINDING_ROWS:])
    return rows, more(rest, "findings")
