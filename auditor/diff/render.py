"""Format an :class:`~auditor.diff.compare.AuditDiff` as terminal text or pull-request Markdown.

Pure formatting: every number and list comes from :func:`~auditor.diff.compare.compare_audits`.
The small formatters (``format_number``, ``describe_where``...) are public so that other views
of a diff (the service's pages) use the same words.
Group names, attribute names and rule ids come from the user's data and policy, so they are
treated as hostile: control characters are made visible in text, and Markdown metacharacters
and ``< > &`` are escaped in Markdown (GitHub renders raw HTML in comments).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from auditor.diff.compare import AuditDiff, FindingChange, MetricChange

MAX_METRICS = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~@])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _plain(text: str) -> str:
    """User text for a terminal: control and bidi characters shown as escapes, one line."""
    text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def md_escape(text: str) -> str:
    """User text for Markdown (and a table cell): no HTML, links, emphasis or cell breaks."""
    text = _plain(text)
    text = "".join(_HTML.get(ch, ch) for ch in text)
    return _MD_SPECIAL.sub(r"\\\1", text)


def format_number(value: float | None) -> str:
    """A value with three decimals, or 'undefined'."""
    return "undefined" if value is None else f"{value:.3f}"


def format_change(metric: MetricChange) -> str:
    """A signed change ('+0.012'), or whether the value became (un)defined."""
    if metric.change is None:
        return "became undefined" if metric.new is None else "became defined"
    return f"{metric.change:+.3f}"


def format_verdict(verdict: str | None) -> str:
    """A finding's verdict, or '(absent)' when the finding is not in that audit."""
    return "(absent)" if verdict is None else verdict


def finding_values(change: FindingChange, arrow: str) -> str:
    """Base and new value of a finding; a side where the finding is absent shows '–'."""
    base = "–" if change.base_verdict is None else format_number(change.base_value)
    new = "–" if change.new_verdict is None else format_number(change.new_value)
    return f"{base} {arrow} {new}"


def describe_where(attribute: str | None, group: str | None) -> str:
    """The group a value is about: the group, the attribute's groups, or 'all rows'."""
    if attribute is None and group is None:
        return "all rows"
    return group or f"{attribute} (all groups)"


def metric_label(metric: MetricChange) -> str:
    """'check.metric (measure)', the name of a moved value."""
    return f"{metric.check}.{metric.metric} ({metric.measure})"


def _headline(diff: AuditDiff) -> str:
    if diff.verdict_changed:
        return f"Verdict: {diff.base_verdict} -> {diff.new_verdict}"
    return f"Verdict: {diff.new_verdict} (unchanged)"


def render_diff_text(diff: AuditDiff) -> str:
    """Plain text for a terminal: verdict, new failures, fixed, moved metrics, groups, warnings."""
    lines = [f"Audit diff: {'REGRESSION' if diff.regressed else 'no regression'}"]
    lines.append(_headline(diff))
    if not diff.has_changes:
        lines.append("No changes between the audits.")

    def findings(title: str, changes: Sequence[FindingChange]) -> None:
        if not changes:
            return
        lines.extend(["", f"{title} ({len(changes)}):"])
        for c in changes:
            flag = "  BLOCKING" if c.blocking and title.startswith("New") else ""
            where = _plain(describe_where(c.attribute, c.group))
            lines.append(
                f"  [{c.severity}] {_plain(c.rule_id)}  {where}: "
                f"{format_verdict(c.base_verdict)} -> {format_verdict(c.new_verdict)}, {c.measure} "
                f"{finding_values(c, '->')} "
                f"(limit {_plain(c.threshold_text)}){flag}"
            )

    findings("New failures", diff.new_failures)
    findings("Fixed failures", diff.fixed_failures)
    findings("Other verdict changes", diff.other_verdict_changes)
    if diff.moved_metrics:
        lines.extend(
            ["", f"Metrics moved by more than {diff.tolerance:g} ({len(diff.moved_metrics)}):"]
        )
        for m in diff.moved_metrics[:MAX_METRICS]:
            lines.append(
                f"  {_plain(metric_label(m))}  {_plain(describe_where(m.attribute, m.group))}: "
                f"{format_number(m.base)} -> {format_number(m.new)} ({format_change(m)})"
            )
        if len(diff.moved_metrics) > MAX_METRICS:
            lines.append(f"  … and {len(diff.moved_metrics) - MAX_METRICS} more")
    groups = [
        *(f"  attribute {_plain(a)}: appeared" for a in diff.attributes_appeared),
        *(f"  attribute {_plain(a)}: vanished" for a in diff.attributes_vanished),
        *(f"  {_plain(g.attribute)}: {_plain(g.group)} {g.change}" for g in diff.group_changes),
    ]
    if groups:
        lines.extend(["", "Groups:", *groups])
    if diff.warnings:
        lines.extend(["", "Warnings (the audits do not compare like for like):"])
        lines.extend(f"  - {_plain(w)}" for w in diff.warnings)
    return "\n".join(lines) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return [*out, ""]


def _finding_rows(changes: Sequence[FindingChange], blocking: bool) -> list[list[str]]:
    rows = []
    for c in changes:
        row = [
            md_escape(c.rule_id),
            c.severity,
            md_escape(describe_where(c.attribute, c.group)),
            f"{format_verdict(c.base_verdict)} → {format_verdict(c.new_verdict)}",
            md_escape(c.measure),
            finding_values(c, "→"),
            md_escape(c.threshold_text),
        ]
        rows.append([*row, "yes" if c.blocking else "no"] if blocking else row)
    return rows


def render_diff_markdown(diff: AuditDiff) -> str:
    """Markdown for a pull-request comment: a Regression / No regression heading, then tables."""
    lines = [f"## Audit diff: {'Regression' if diff.regressed else 'No regression'}", ""]
    verdict = _headline(diff).replace("->", "→").replace("Verdict:", "**Verdict:**")
    lines.extend([verdict, ""])
    if not diff.has_changes:
        lines.extend(["No changes between the audits.", ""])
    header = ["Rule", "Severity", "Group", "Verdict", "Measure", "Value", "Limit"]
    for title, changes, blocking in (
        ("New failures", diff.new_failures, True),
        ("Fixed failures", diff.fixed_failures, False),
        ("Other verdict changes", diff.other_verdict_changes, False),
    ):
        if changes:
            lines.extend([f"### {title} ({len(changes)})", ""])
            columns = [*header, "Blocking"] if blocking else header
            lines.extend(_table(columns, _finding_rows(changes, blocking)))
    if diff.moved_metrics:
        lines.extend(
            [f"### Metrics moved by more than {diff.tolerance:g} ({len(diff.moved_metrics)})", ""]
        )
        rows = [
            [
                md_escape(metric_label(m)),
                md_escape(describe_where(m.attribute, m.group)),
                format_number(m.base),
                format_number(m.new),
                format_change(m),
            ]
            for m in diff.moved_metrics[:MAX_METRICS]
        ]
        lines.extend(_table(["Metric", "Group", "Base", "New", "Change"], rows))
        if len(diff.moved_metrics) > MAX_METRICS:
            lines.extend([f"… and {len(diff.moved_metrics) - MAX_METRICS} more", ""])
    groups = [
        *([md_escape(a), "(attribute)", "appeared"] for a in diff.attributes_appeared),
        *([md_escape(a), "(attribute)", "vanished"] for a in diff.attributes_vanished),
        *([md_escape(g.attribute), md_escape(g.group), g.change] for g in diff.group_changes),
    ]
    if groups:
        lines.extend(["### Groups", "", *_table(["Attribute", "Group", "Change"], groups)])
    if diff.warnings:
        lines.extend(["### Warnings: the audits do not compare like for like", ""])
        lines.extend(f"- {md_escape(w)}" for w in diff.warnings)
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
