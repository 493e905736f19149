"""The report's view model: an :class:`AuditRecord` turned into formatted, display-ready text.

Templates only lay out what is built here, and this module only formats what the result holds:
nothing is measured or judged. Numbers are formatted in one place (rates and ratios with 3
decimals, counts with thousands separators); an undefined value is the word "undefined" with
its reason, never 0 or blank; a verdict always carries a word and a symbol, never colour alone.
"""

from __future__ import annotations

import shlex
from collections import Counter
from datetime import UTC, datetime
from pathlib import PurePath

from auditor.report.charts import rate_chart
from auditor.report.formatting import (
    Footnotes,
    badge,
    cell_text,
    count,
    label,
    number,
    reason_text,
    value_cell,
)
from auditor.report.view import (
    Cell,
    Fact,
    FindingRow,
    GroupRowView,
    GroupTableView,
    MetricCellView,
    ReportContext,
    RuleView,
    SummaryRow,
)
from auditor.results import AuditRecord, Finding, GroupTable, Reason

MAX_GROUP_ROWS = 50
MAX_FINDING_ROWS = 100
MAX_LIST_ITEMS = 50
TABLE_METRICS = (  # the columns of a group table, in order
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "precision",
    "accuracy",
    "base_rate",
)
_ORDER = {
    "error": 0,
    "fail": 1,
    "waived": 2,
    "insufficient_data": 3,
    "pass": 4,
    "not_applicable": 5,
}
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_BOUNDS = {"min": "≥", "max": "≤", "max_abs": "|x| ≤"}
_REFERENCE_RULES = {"user": "chosen by the user", "largest_group": "largest group"}


def _group_table(
    table: GroupTable,
    index: int,
    wanted: tuple[str, ...],
    *,
    min_group_size: int,
    with_chart: bool,
) -> GroupTableView:
    keys = [k for k in wanted if any(k in row.metrics for row in table.rows)]
    notes = Footnotes()
    rows = []
    for row in table.rows[:MAX_GROUP_ROWS]:
        cells = []
        for key in keys:
            metric = row.metrics.get(key)
            if metric is None:
                cells.append(MetricCellView(Cell("–"), Cell("–")))
                continue
            ratio = metric.ratio_to_reference
            if row.group == table.reference or ratio.reason is Reason.IS_REFERENCE:
                ratio_cell = Cell("reference")
            else:
                ratio_cell = notes.mark(number(ratio.value, ratio.reason))
            cells.append(MetricCellView(notes.mark(value_cell(metric.value)), ratio_cell))
        is_ref = row.group == table.reference
        too_small = row.n < min_group_size
        rows.append(GroupRowView(row.group, is_ref, too_small, count(row.n), tuple(cells)))
    hidden = len(table.rows) - len(rows)
    more = f"… and {hidden:,} more groups (all groups are in audit.json)." if hidden > 0 else ""
    summaries: list[SummaryRow] = []
    excluded: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        summary = table.summaries.get(key)
        if summary is None:
            continue
        summaries.append(
            SummaryRow(
                label(key),
                notes.mark(value_cell(summary.min_max_ratio)),
                notes.mark(value_cell(summary.max_abs_difference)),
                count(len(summary.groups_compared)),
                count(len(summary.groups_excluded)),
            )
        )
        for group, reason in summary.groups_excluded.items():
            excluded.setdefault((group, reason_text(reason)), []).append(label(key).lower())
    chart = None
    if with_chart:
        chart = rate_chart(table, label="Selection rate", max_groups=MAX_GROUP_ROWS)
    return GroupTableView(
        anchor=f"table-{index}",
        attribute=table.attribute,
        reference=table.reference,
        reference_rule=_REFERENCE_RULES.get(table.reference_rule, table.reference_rule),
        columns=tuple(label(k) for k in keys),
        rows=tuple(rows),
        more=more,
        footnotes=notes.facts(),
        summaries=tuple(summaries),
        excluded=tuple(
            Fact(group, f"{reason} ({_which(metrics, len(summaries))})")
            for (group, reason), metrics in list(excluded.items())[:MAX_LIST_ITEMS]
        ),
        chart=chart,
    )


def _which(metrics: list[str], total: int) -> str:
    return "all metrics" if len(metrics) == total else ", ".join(sorted(metrics))


def _finding_row(finding: Finding) -> FindingRow:
    cell = number(finding.value, finding.reason)
    if not cell.undefined and finding.ci_low is not None and finding.ci_high is not None:
        cell = Cell(cell.text, interval=f"[{finding.ci_low:.3f}, {finding.ci_high:.3f}]")
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
        waiver=_waiver_text(finding),
    )


def _waiver_text(finding: Finding) -> str:
    w = finding.waiver
    if w is None:
        return ""
    state = "expired on" if w.expired else "in force until"
    return f"waiver {state} {w.expires}, owner {w.owner}: {w.reason}"


def _why_excluded(finding: Finding) -> str:
    """The finding's own words when they carry n and the limit, else the reason's text."""
    if finding.reason is Reason.BELOW_MIN_GROUP_SIZE:
        return finding.message.split(": ", 1)[-1]
    return reason_text(finding.reason)


def _sorted(findings: list[Finding]) -> list[Finding]:
    def key(f: Finding) -> tuple[int, int, str, str, str]:
        order = _ORDER.get(f.verdict, 5), _SEVERITY_ORDER.get(f.severity, 3)
        return (*order, f.rule_id, f.attribute or "", f.group or "")

    return sorted(findings, key=key)


def _summary(result: AuditRecord) -> tuple[str, tuple[str, ...]]:
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
    if counts["error"]:
        text += f"; {counts['error']:,} could not be evaluated because of an error"
    text += "."
    failed: dict[tuple[str, str], list[str]] = {}
    for f in _sorted(result.findings):
        if f.verdict == "fail":
            key = (f.rule_id, f.severity)
            failed.setdefault(key, []).append(f.group or f.attribute or "all rows")
    floor = _SEVERITY_ORDER[result.fail_on]
    lines = []
    for (rule, severity), groups in failed.items():
        shown = ", ".join(groups[:5]) + (
            f" and {len(groups) - 5:,} more" if len(groups) > 5 else ""
        )
        effect = (
            "this fails the audit"
            if _SEVERITY_ORDER[severity] <= floor
            else f"a {severity}: reported, but the audit fails only on severity {result.fail_on}"
        )
        lines.append(f"Rule '{rule}' failed for {shown} ({effect}).")
    if not failed:
        text += " No rule failed for any group."
    return text, tuple(lines)


def _when(created: str) -> tuple[str, str]:
    """Return (display date, W3C timestamp for PDF metadata) from the provenance time."""
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return created, ""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.date().isoformat(), moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _setup_facts(result: AuditRecord) -> tuple[Fact, ...]:
    s = result.setup
    outcome = "favourable" if s.positive_outcome == "favorable" else "adverse"
    mode = "a model's predictions" if s.mode == "model" else "recorded decisions"
    facts = [
        Fact("Audited", mode),
        Fact("Data", s.data_path or "in-memory data", mono=bool(s.data_path)),
        Fact("Rows", count(s.rows)),
        Fact("Target column", s.target),
        Fact(
            "Labels",
            f"Positive label '{s.pos_label}' = {outcome} outcome for the person; "
            f"other label '{s.other_label}'",
        ),
        Fact(
            "Sensitive attributes",
            ", ".join(s.sensitive) + (" and their intersection" if len(s.sensitive) > 1 else ""),
        ),
        Fact(
            "Missing sensitive values",
            "audited as their own group '(missing)'"
            if s.missing_as_group
            else "none (the audit refuses data with missing sensitive values)",
        ),
    ]
    for role, column in (("Prediction", s.prediction), ("Score", s.score), ("Weight", s.weight)):
        if column:
            facts.append(Fact(f"{role} column", column))
    if s.ignored_columns:
        facts.append(
            Fact(
                "Columns the model does not use",
                ", ".join(s.ignored_columns[:MAX_LIST_ITEMS]),
            )
        )
    for check in result.checks:
        for table in check.tables if check.family == "fairness" else ():
            rule = _REFERENCE_RULES.get(table.reference_rule, table.reference_rule)
            facts.append(Fact(f"Reference for {table.attribute}", f"{table.reference} ({rule})"))
    fails = "error" if result.fail_on == "error" else "warning or error"
    facts.append(Fact("Fails on", f"a failed finding of severity {fails}"))
    return tuple(facts)


def _model_facts(result: AuditRecord) -> tuple[Fact, ...]:
    m = result.setup.model
    if m is None:
        return ()
    features = ", ".join(m.features[:10]) + (
        f" and {len(m.features) - 10:,} more" * (len(m.features) > 10)
    )
    facts = [
        Fact("Model file", m.path or "in-memory model", mono=bool(m.path)),
        Fact("Format", m.format),
        Fact("Class", m.class_name),
        Fact(
            "Decision threshold",
            f"score ≥ {number(m.threshold).text} is predicted positive"
            if m.threshold is not None
            else "the model's own predict()",
        ),
        Fact("Features", f"{len(m.features):,}" + (f": {features}" if features else "")),
    ]
    return tuple(facts)


def _rules(result: AuditRecord) -> tuple[RuleView, ...]:
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


def _more(hidden: Counter[str], what: str) -> str:
    if not hidden:
        return ""
    parts = ", ".join(f"{n:,} {word}" for word, n in sorted(hidden.items()))
    return f"… and {hidden.total():,} more {what} ({parts}), all in audit.json."


def _performance(result: AuditRecord) -> tuple[Fact, ...]:
    facts = []
    for check in result.checks:
        if check.family != "performance":
            continue
        for key, value in check.overall.items():
            is_count = key == "n" and value.value is not None
            text = count(int(value.value or 0)) if is_count else cell_text(value)
            facts.append(Fact(label(key), text))
    return tuple(facts)


def _provenance(result: AuditRecord) -> tuple[Fact, ...]:
    p = result.provenance
    return (
        Fact("Created", p.created),
        Fact("auditor version", p.tool_version),
        Fact("Python", p.python),
        Fact("Random seed", str(p.seed)),
        Fact("Command", shlex.join(p.command), mono=True),
        Fact("Policy source", result.policy.source, mono=True),
        Fact("Schema version", result.schema_version),
    )


def _subject(result: AuditRecord) -> tuple[str, str, str]:
    """(kind, subject, data name): what the report's title and running header name."""
    model, data_path, rows = result.setup.model, result.setup.data_path, result.setup.rows
    data = f"{PurePath(data_path).name if data_path else 'in-memory data'} ({count(rows)} rows)"
    if model is not None:
        return "Model", PurePath(model.path).name if model.path else model.class_name, data
    return "Decisions", PurePath(data_path).name if data_path else "in-memory data", data


def build_context(result: AuditRecord, *, with_charts: bool = True) -> ReportContext:
    """Build the report's view model from an audit result.

    Parameters
    ----------
    result : AuditRecord
        The audit; only its fields are read, nothing is recomputed.
    with_charts : bool, default True
        Draw the group charts (formats without images can skip the cost).
    """
    date, w3c = _when(result.provenance.created)
    kind, subject, data_name = _subject(result)
    summary, failed_lines = _summary(result)
    ordered = _sorted(result.findings)
    insufficient = [f for f in ordered if f.verdict == "insufficient_data"]
    tables = [t for c in result.checks if c.family == "fairness" for t in c.tables]
    wanted: tuple[str, ...] = TABLE_METRICS
    if result.setup.positive_outcome == "adverse":  # the favourable rate is then 1 - selection
        wanted = ("favorable_rate", *TABLE_METRICS)
    confidence = result.policy.settings.get("confidence", 0.95)
    min_n = int(result.policy.settings.get("min_group_size", 1))
    model = result.setup.model
    return ReportContext(
        title=f"Fairness audit of {subject}",
        subject=subject,
        subject_kind=kind,
        data_name=data_name,
        date=date,
        created_w3c=w3c,
        verdict=badge(result.verdict),
        summary=summary,
        failed_lines=failed_lines,
        policy_name=result.policy.name,
        policy_description=result.policy.description,
        setup=_setup_facts(result),
        model=_model_facts(result),
        pickle_warning=model is not None and model.pickle_loaded,
        check_errors=tuple(
            Fact(c.family, c.error or "unknown error") for c in result.checks if c.status == "error"
        ),
        findings=tuple(_finding_row(f) for f in ordered[:MAX_FINDING_ROWS]),
        findings_more=_more(
            Counter(badge(f.verdict).word for f in ordered[MAX_FINDING_ROWS:]), "findings"
        ),
        excluded=tuple(
            Fact(f"{f.rule_id} · {f.group or f.attribute or 'all rows'}", _why_excluded(f))
            for f in insufficient[:MAX_LIST_ITEMS]
        ),
        excluded_more=_more(
            Counter(["insufficient data"] * len(insufficient[MAX_LIST_ITEMS:])), "findings"
        ),
        performance=_performance(result),
        group_tables=tuple(
            _group_table(t, i, wanted, min_group_size=min_n, with_chart=with_charts)
            for i, t in enumerate(tables, 1)
        ),
        notes=tuple(result.notes),
        confidence=f"{confidence:.0%}" if isinstance(confidence, float) else str(confidence),
        min_group_size=min_n,
        definitions=tuple(result.definitions),
        policy_settings=tuple(Fact(k, str(v)) for k, v in sorted(result.policy.settings.items())),
        rules=_rules(result),
        provenance=_provenance(result),
        libraries=tuple(Fact(k, v) for k, v in sorted(result.provenance.libraries.items())),
        hashes=tuple(Fact(k, v, mono=True) for k, v in sorted(result.provenance.sha256.items())),
    )
