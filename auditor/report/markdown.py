"""A compact Markdown summary for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

The verdict comes first, as a heading on the first line; then one sentence of counts; then a
table of the findings that matter: those that decide the verdict (marked **blocking**), then
failures below ``--fail-on``, then waived findings, then findings with insufficient data.
Passing findings are only counted. The table stops at :data:`MAX_ROWS` rows; a few lines on
transparency follow when a model was explained (method, the top features, near copies of a
sensitive attribute, how well the features predict each attribute), and a few on data
governance when it was measured (under-represented groups, personal-data columns,
k-anonymity, the membership-inference AUC); the summary ends by pointing at the full report.
It is a comment, not the report: methodology, group tables and provenance live in
``report.html`` / ``report.pdf``.

Every value taken from the audit (group names, rule ids, thresholds, the policy name) is user
input, and GitHub renders raw HTML inside Markdown, so each is neutralised before it is written:
control characters removed, line breaks turned into spaces, ``& < >`` HTML-escaped, and the
Markdown metacharacters ``\\ ` * _ [ ] | ~`` backslash-escaped (``|`` would otherwise split a
table cell). The policy name in the heading is a code span, whose content Markdown shows
verbatim. The same record gives the same text.
"""

from __future__ import annotations

import html
import re

from auditor.report.governance_privacy import kind_text
from auditor.results import AuditRecord, Finding

MAX_ROWS = 30
TOP_FEATURES = 5
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_NEWLINE = re.compile(r"\r\n|[\r\n\t\v\f\u2028\u2029\x85]")
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")
_HEADINGS = {
    "passed": "✔ Fairness audit PASSED",
    "failed": "✘ Fairness audit FAILED",
    "inconclusive": "? Fairness audit INCONCLUSIVE",
}
_COLUMNS = ("verdict", "rule", "group", "value", "threshold", "n", "compared with")
_WORDS = {
    "error": "! error",
    "fail": "✘ fail",
    "waived": "⚑ waived",
    "insufficient_data": "? insufficient data",
}


def _one_line(text: str) -> str:
    return _NEWLINE.sub(" ", _CONTROL.sub("", text)).strip()


def escape(text: str) -> str:
    """Make user text safe inside a Markdown table cell (no HTML, no markup, no new cells)."""
    return _MARKDOWN.sub(r"\\\1", html.escape(_one_line(text), quote=False))


def code(text: str) -> str:
    """Return ``text`` as an inline code span, fenced so that backticks inside cannot end it."""
    text = _one_line(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _blocking(finding: Finding, result: AuditRecord) -> bool:
    return finding.blocks(result.fail_on, inconclusive=result.verdict == "inconclusive")


def _rank(finding: Finding, result: AuditRecord) -> int | None:
    """Table position of a finding (lower first), or None when it is only counted."""
    if _blocking(finding, result):
        return {"error": 0, "fail": 1}.get(finding.verdict, 2)
    return {"fail": 3, "waived": 4, "insufficient_data": 5}.get(finding.verdict)


def _verdict_cell(finding: Finding, blocking: bool) -> str:
    word = _WORDS[finding.verdict]
    if blocking:
        return f"**{word} · blocking** ({finding.severity})"
    if finding.verdict == "waived" and finding.waiver is not None:
        waiver = finding.waiver
        return (
            f"{word} ({finding.severity}) until {escape(waiver.expires)}, "
            f"owner {escape(waiver.owner)}: {escape(waiver.reason)}"
        )
    return f"{word} ({finding.severity})"


def _row(finding: Finding, blocking: bool) -> str:
    cells = (
        _verdict_cell(finding, blocking),
        escape(finding.rule_id),
        escape(finding.group or finding.attribute or "all rows"),
        "undefined" if finding.value is None else f"{finding.value:.3f}",
        escape(finding.threshold_text),
        "–" if finding.n is None else f"{finding.n:,}",
        escape(finding.compared_to) if finding.compared_to else "–",
    )
    return "| " + " | ".join(cells) + " |"


def _counts(result: AuditRecord, ranks: list[int | None]) -> str:
    """One sentence: how many findings there are and what became of them."""
    if not result.findings:
        return "The policy produced no findings."
    verdicts = [f.verdict for f in result.findings]
    errors = verdicts.count("error")
    parts = [
        (sum(rank is not None and rank <= 2 for rank in ranks), "blocking"),
        (errors, "could not be evaluated"),
        (ranks.count(3), f"failed below --fail-on {result.fail_on}"),
        (verdicts.count("waived"), "waived"),
        (verdicts.count("insufficient_data"), "with insufficient data"),
        (verdicts.count("pass"), "passed"),
    ]
    shown = ", ".join(f"{count} {text}" for count, text in parts if count)
    noun = "finding" if len(verdicts) == 1 else "findings"
    return f"{len(verdicts)} {noun}: {shown}."


def _transparency(result: AuditRecord) -> list[str]:
    """A few lines on the explanation and the proxies, when the audit has them."""
    lines = []
    for check in result.checks:
        e, p = check.explanation, check.proxies
        if e is not None:
            top = ", ".join(
                f"{escape(f.feature)} {f.mean_abs.value:.3f}"
                for f in e.features[:TOP_FEATURES]
                if f.mean_abs.value is not None
            )
            lines.append(
                f"- Explanation: {escape(e.method)}. {e.rows_explained:,} of {e.rows_total:,} "
                f"rows explained; values in {escape(e.output_scale)}."
            )
            lines.append(f"- Most important features (mean \\|SHAP\\|): {top or 'none'}.")
            if e.sensitive_features_used:
                used = ", ".join(escape(a) for a in e.sensitive_features_used)
                lines.append(f"- **Sensitive attributes used as model features: {used}.**")
        if p is not None:
            copies = ", ".join(
                f"{escape(a.feature)} ({escape(a.attribute)}, strength {a.strength:.3f})"
                for a in p.associations
                if a.near_copy
            )
            lines.append(f"- Near copies of a sensitive attribute: {copies or 'none'}.")
            auc = ", ".join(
                f"{escape(x.attribute)} "
                + ("undefined" if x.auc.value is None else f"{x.auc.value:.3f}")
                for x in p.predictability
            )
            if auc:
                lines.append(
                    "- Sensitive attributes predicted from the features (cross-validated AUC; "
                    f"0.5 is chance, 1 a perfect proxy): {auc}."
                )
    return ["### Transparency", "", *lines, ""] if lines else []


def _governance(result: AuditRecord) -> list[str]:
    """A few lines on representation, personal data and privacy risk, when they were measured."""
    lines = []
    under = [
        f
        for f in result.findings
        if f.check == "representation.representation_ratio"
        and f.verdict in ("fail", "waived")
        and "min" in f.threshold
    ]
    governance = [c.governance for c in result.checks if c.governance is not None]
    compared = [
        escape(r.attribute)
        for g in governance
        for r in g.representation
        if any(s.expected is not None for s in r.groups)
    ]
    if compared:
        groups = ", ".join(
            f"{escape(f.group or '')} (ratio "
            + ("undefined" if f.value is None else f"{f.value:.3f}")
            + (", waived" if f.verdict == "waived" else "")
            + ")"
            for f in under
        )
        lines.append(
            f"- Representation against population shares ({', '.join(compared)}): "
            f"under-represented groups: {groups or 'none'}."
        )
    for p in (g.privacy for g in governance if g.privacy is not None):
        pii = ", ".join(
            f"{escape(x.column)} ({escape(kind_text(x.kind))}"
            + (", by its name only" if x.by_name and not x.matches else "")
            + (", **a model feature**" if x.used_as_feature else "")
            + ")"
            for x in p.pii
        )
        lines.append(f"- Personal data (PII) columns: {pii or 'none found'}.")
        a = p.anonymity
        if a is not None:
            qis = ", ".join(escape(q) for q in a.quasi_identifiers)
            lines.append(
                f"- k-anonymity (k = {a.k} over {qis}): {a.rows_below_k:,} of {a.rows:,} rows "
                f"({a.share_below_k:.3f}) in classes smaller than k; smallest class "
                f"{a.smallest_class:,}."
            )
        m = p.membership
        if m is not None:
            auc = "undefined" if m.auc.value is None else f"{m.auc.value:.3f}"
            if m.auc.ci_low is not None and m.auc.ci_high is not None:
                auc += f" [{m.auc.ci_low:.3f}, {m.auc.ci_high:.3f}]"
            lines.append(
                f"- Membership-inference AUC: {auc} (0.5: the model does not reveal who was in "
                "its training data)."
            )
    return ["### Data governance", "", *lines, ""] if lines else []


def render_markdown(result: AuditRecord) -> str:
    """Render the audit as a short Markdown summary, verdict first.

    Parameters
    ----------
    result : AuditRecord
        The audit to summarise; nothing is recomputed.

    Returns
    -------
    str
        Markdown whose first line is a level-2 heading with the verdict and the policy name.
    """
    ranks = [_rank(f, result) for f in result.findings]
    picked = sorted((rank, index) for index, rank in enumerate(ranks) if rank is not None)
    lines = [
        f"## {_HEADINGS[result.verdict]} — policy {code(result.policy.name)}",
        "",
        _counts(result, ranks),
        "",
    ]
    if picked:
        lines.append("| " + " | ".join(_COLUMNS) + " |")
        lines.append("|" + "---|" * len(_COLUMNS))
        for rank, index in picked[:MAX_ROWS]:
            lines.append(_row(result.findings[index], rank <= 2))
        if len(picked) > MAX_ROWS:
            lines += ["", f"… and {len(picked) - MAX_ROWS} more."]
        lines.append("")
    else:
        lines += ["No finding failed, errored, was waived or lacked data.", ""]
    lines += _transparency(result)
    lines += _governance(result)
    lines.append(
        "The full report, with every group, the methodology and the limitations, is in "
        "`report.html` / `report.pdf` (all numbers in `audit.json`) next to this summary."
    )
    return "\n".join(lines) + "\n"
