"""The report's view model: an :class:`AuditRecord` turned into formatted, display-ready text.

Templates only lay out what is built here, and this package only formats and selects what the
result holds: nothing is measured or judged. Numbers are formatted in one place (rates and
ratios with 3 decimals, counts with thousands separators); an undefined value is the word
"undefined" with its reason, never 0 or blank; a verdict always carries a word and a symbol,
never colour alone. The parts live in their own modules: findings, group tables, sections by
concern, the executive summary and the regulatory mapping.
"""

from __future__ import annotations

import shlex
from collections import Counter
from datetime import UTC, datetime
from pathlib import PurePath

from auditor.report.findings import (
    MAX_FINDING_ROWS,
    findings_table,
    more,
    sorted_findings,
    summary,
    why_excluded,
)
from auditor.report.formatting import badge, count, number
from auditor.report.group_tables import (
    MAX_GROUP_ROWS,
    MAX_LIST_ITEMS,
    REFERENCE_RULES,
    REGRESSION_METRICS,
    TABLE_METRICS,
)
from auditor.report.methods import statistical_methods
from auditor.report.regulations import regulation_views
from auditor.report.rules import rule_views, waiver_views
from auditor.report.sections import anchors, model_card, sections
from auditor.report.summary import executive_summary
from auditor.report.view import Fact, ReportContext, SectionView, TocEntry
from auditor.results import AuditRecord

__all__ = ["MAX_FINDING_ROWS", "MAX_GROUP_ROWS", "ReportContext", "build_context"]


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
        )
        if s.task == "classification"
        else Fact(
            "Task",
            f"regression: the predicted numbers are compared by group; a higher prediction is "
            f"{outcome} for the person",
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
    if s.engine is not None:
        engine = s.engine.detail
        if s.engine.cells is not None:
            engine += f"; {count(s.engine.cells)} distinct cells of the finest groups"
        if s.engine.sample_rows is not None:
            engine += f"; explanations on a stratified sample of {count(s.engine.sample_rows)} rows"
        if s.engine.uniform_sample_rows is not None:
            engine += (
                "; proxies and the personal-data scan on a uniform sample of "
                f"{count(s.engine.uniform_sample_rows)} rows"
            )
        if s.engine.not_measured:
            engine += "; not measured (they need row-level data): " + ", ".join(
                s.engine.not_measured
            )
        facts.append(Fact("Engine", engine))
    if s.ignored_columns:
        facts.append(
            Fact(
                "Columns the model does not use",
                ", ".join(s.ignored_columns[:MAX_LIST_ITEMS]),
            )
        )
    for check in result.checks:
        for table in check.tables if check.family == "fairness" else ():
            rule = REFERENCE_RULES.get(table.reference_rule, table.reference_rule)
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


def _provenance(result: AuditRecord) -> tuple[Fact, ...]:
    p = result.provenance
    return (
        Fact("Created", p.created),
        Fact("auditor version", p.tool_version),
        Fact("Python", p.python),
        Fact("Random seed", str(p.seed)),
        Fact("Command", shlex.join(p.command), mono=True),
        Fact("Policy source", result.policy.source, mono=True),
        Fact(
            "Model card source",
            (result.metadata.source or "given without a file name")
            if result.metadata is not None
            else "none supplied (--metadata)",
            mono=result.metadata is not None and bool(result.metadata.source),
        ),
        Fact("Schema version", result.schema_version),
    )


def _subject(result: AuditRecord) -> tuple[str, str, str]:
    """(kind, subject, data name): what the report's title and running header name."""
    model, data_path, rows = result.setup.model, result.setup.data_path, result.setup.rows
    data = f"{PurePath(data_path).name if data_path else 'in-memory data'} ({count(rows)} rows)"
    if model is not None:
        return "Model", PurePath(model.path).name if model.path else model.class_name, data
    return "Decisions", PurePath(data_path).name if data_path else "in-memory data", data


def _toc(parts: tuple[SectionView, ...]) -> tuple[TocEntry, ...]:
    head = [TocEntry("Executive summary", "summary"), TocEntry("What was audited", "audited")]
    head.append(TocEntry("Findings", "findings"))
    body = []
    for s in parts:
        body.append(TocEntry(s.title, s.anchor))
        body += [TocEntry(f.title, f.anchor, 3) for f in s.families]
    tail = ("Methodology and limitations", "method"), ("Regulatory mapping", "regulations")
    return (*head, *body, *(TocEntry(*t) for t in tail), TocEntry("Provenance", "provenance"))


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
    text, failed_lines = summary(result)
    insufficient = [f for f in sorted_findings(result.findings) if f.verdict == "insufficient_data"]
    wanted: tuple[str, ...] = TABLE_METRICS
    if result.setup.task == "regression":
        wanted = REGRESSION_METRICS
    elif result.setup.positive_outcome == "adverse":  # the favourable rate is 1 - selection
        wanted = ("favorable_rate", *TABLE_METRICS)
    confidence = result.policy.settings.get("confidence", 0.95)
    min_n = int(result.policy.settings.get("min_group_size", 1))
    parts = sections(result, wanted, min_n=min_n, with_charts=with_charts)
    rows, rows_more = findings_table(result, anchors(result)[0])
    model = result.setup.model
    return ReportContext(
        title=f"Fairness audit of {subject}",
        subject=subject,
        subject_kind=kind,
        data_name=data_name,
        date=date,
        created_w3c=w3c,
        verdict=badge(result.verdict),
        summary=text,
        failed_lines=failed_lines,
        executive=executive_summary(result, subject, failed_lines, parts),
        toc=_toc(parts),
        policy_name=result.policy.name,
        policy_description=result.policy.description,
        setup=_setup_facts(result),
        model=_model_facts(result),
        pickle_warning=model is not None and model.pickle_loaded,
        check_errors=tuple(
            Fact(c.family, c.error or "unknown error") for c in result.checks if c.status == "error"
        ),
        findings=rows,
        findings_more=rows_more,
        excluded=tuple(
            Fact(f"{f.rule_id} · {f.group or f.attribute or 'all rows'}", why_excluded(f))
            for f in insufficient[:MAX_LIST_ITEMS]
        ),
        excluded_more=more(
            Counter(["insufficient data"] * len(insufficient[MAX_LIST_ITEMS:])), "findings"
        ),
        sections=parts,
        model_card=model_card(result.metadata),
        regulations=regulation_views(result),
        notes=tuple(result.notes),
        confidence=f"{confidence:.0%}" if isinstance(confidence, float) else str(confidence),
        min_group_size=min_n,
        statistics=statistical_methods(result),
        definitions=tuple(result.definitions),
        policy_settings=tuple(Fact(k, str(v)) for k, v in sorted(result.policy.settings.items())),
        rules=rule_views(result),
        waivers=waiver_views(result),
        provenance=_provenance(result),
        libraries=tuple(Fact(k, v) for k, v in sorted(result.provenance.libraries.items())),
        hashes=tuple(Fact(k, v, mono=True) for k, v in sorted(result.provenance.sha256.items())),
    )
