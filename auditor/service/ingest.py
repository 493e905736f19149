"""From the ``audit.json`` a child wrote to the rows the service keeps: verdict, counts,
``audit_metrics`` (for trends) and ``audit_artifacts``.

Metric names are the check names findings use (``fairness.selection_rate``), with the
measure after a colon when it is not the value itself (``fairness.selection_rate:
ratio_to_reference``); the trends API and pages rely on them. A row's ``group_key`` is the
group (``sex=female``, ``sex=male & age_group=under 25``), else the attribute (a summary over
its groups, ``sex``), the feature (a column, ``income``) or both (``sex / zip``); ``""`` is
over all rows. A finding lands on the row of the number it judged, so the same key function
serves measurements and findings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from auditor.provenance import sha256_file
from auditor.results import AuditRecord, CheckResult, Finding, FindingList, GroupTable, Value
from auditor.service.jobs import ArtifactRow, MetricRow
from auditor.service.storage import ARTIFACTS

VERDICTS = {"passed": "pass", "failed": "fail", "inconclusive": "inconclusive"}
CELL_MEASURES = ("difference_to_reference", "ratio_to_reference", "ratio_to_highest")
SUMMARY_MEASURES = ("min_max_ratio", "max_abs_difference")
# When several findings judge one row, the row shows the worst of their verdicts.
_WORST_FIRST = ("error", "fail", "insufficient_data", "waived", "pass", "not_applicable")
# Checks whose item names a feature only to describe the value (the feature that drives the
# disparity), not to say what was measured: keyed by attribute alone, so trends stay joined.
_FEATURE_IS_DETAIL = frozenset({"explain.explanation_disparity"})


@dataclass(frozen=True)
class Ingested:
    """What the service keeps of one audit.json."""

    verdict: str  # pass | fail | inconclusive
    checks: int  # findings judged (every finding but the not-applicable ones)
    failed: int  # findings that failed or could not be evaluated (error)
    inconclusive: int  # findings not judged for lack of data
    metrics: list[MetricRow]


def load(path: Path) -> AuditRecord:
    """The audit record in ``path`` (pydantic validates it against the schema)."""
    return AuditRecord.from_json(path.read_text(encoding="utf-8"))


def ingest(record: AuditRecord) -> Ingested:
    """The verdict, the summary counts and every metric row of one audit."""
    findings = FindingList(record.findings)
    return Ingested(
        verdict=VERDICTS[record.verdict],
        checks=sum(1 for f in findings if f.verdict != "not_applicable"),
        failed=len(findings.failed()),
        inconclusive=len(findings.insufficient()),
        metrics=metric_rows(record),
    )


def metric_name(check: str, measure: str = "value") -> str:
    """``fairness.selection_rate`` for the value, ``fairness.selection_rate:<measure>`` else."""
    return check if measure == "value" else f"{check}:{measure}"


def group_key(
    check: str, attribute: str | None, group: str | None, feature: str | None = None
) -> str:
    """The ``group_key`` of a measurement or a finding (see the module's docstring)."""
    if group:
        return group
    if check in _FEATURE_IS_DETAIL or feature == attribute:
        feature = None
    return " / ".join(part for part in (attribute, feature) if part)


def metric_rows(record: AuditRecord) -> list[MetricRow]:
    """One row per metric x group of every check, then each finding's verdict on its row."""
    rows: dict[tuple[str, str], MetricRow] = {}
    for result in record.checks:
        if result.status == "ok":
            for row in _measured(result):
                rows.setdefault((row.metric, row.group_key), row)
    for finding in record.findings:
        key = (
            metric_name(finding.check, finding.measure),
            group_key(finding.check, finding.attribute, finding.group, finding.feature),
        )
        rows[key] = _judged(rows.get(key), key, finding)
    return list(rows.values())


def _measured(result: CheckResult) -> list[MetricRow]:
    family = result.family
    rows = [_row(f"{family}.{name}", "", value) for name, value in result.overall.items()]
    for table in result.tables:
        rows += _table_rows(family, table)
    for name, items in result.items.items():
        check = f"{family}.{name}"
        rows += [
            _row(check, group_key(check, i.attribute, i.group, i.feature), i.value, n=i.n)
            for i in items
        ]
    return rows


def _table_rows(family: str, table: GroupTable) -> list[MetricRow]:
    rows = []
    for row in table.rows:
        for name, cell in row.metrics.items():
            check = f"{family}.{name}"
            summary = table.summaries.get(name)
            rows.append(_row(check, row.group, cell.value, n=row.n, ref=table.reference))
            for measure in CELL_MEASURES:
                ref = summary.highest_group if measure == "ratio_to_highest" and summary else None
                rows.append(
                    _row(
                        metric_name(check, measure),
                        row.group,
                        getattr(cell, measure),
                        n=row.n,
                        ref=ref or table.reference,
                    )
                )
    for name, summary in table.summaries.items():
        for measure in SUMMARY_MEASURES:
            metric = metric_name(f"{family}.{name}", measure)
            value = getattr(summary, measure)
            rows.append(_row(metric, table.attribute, value, n=summary.n_compared or None))
    sizes = {row.group: row.n for row in table.rows}
    for name, criterion in table.criteria.items():
        check = f"{family}.{name}"
        n = criterion.n_compared or None
        rows.append(_row(check, table.attribute, criterion.value, n=n))
        for group, value in criterion.by_group.items():
            metric = metric_name(check, "by_group")
            rows.append(_row(metric, group, value, n=sizes.get(group), ref=table.reference))
    return rows


def _row(
    metric: str, key: str, value: Value, *, n: int | None = None, ref: str | None = None
) -> MetricRow:
    return MetricRow(
        metric=metric,
        group_key=key,
        reference_group=ref,
        value=_finite(value.value),
        ci_low=_finite(value.ci_low),
        ci_high=_finite(value.ci_high),
        n=n,
    )


def _judged(row: MetricRow | None, key: tuple[str, str], finding: Finding) -> MetricRow:
    """The row with the finding's verdict and bounds, unless it already has a worse one."""
    if row is None:  # a finding on something no check result lists (e.g. not measured)
        row = MetricRow(
            metric=key[0],
            group_key=key[1],
            value=_finite(finding.value),
            ci_low=_finite(finding.ci_low),
            ci_high=_finite(finding.ci_high),
            n=finding.n,
        )
    if row.verdict is not None and _rank(row.verdict) <= _rank(finding.verdict):
        return row
    low, high = _bounds(finding.threshold)
    return replace(row, verdict=finding.verdict, threshold_min=low, threshold_max=high)


def _rank(verdict: str) -> int:
    return _WORST_FIRST.index(verdict) if verdict in _WORST_FIRST else len(_WORST_FIRST)


def _bounds(threshold: dict[str, float]) -> tuple[float | None, float | None]:
    """``{'min': a}``, ``{'max': b}`` and ``{'max_abs': c}`` (that is -c..c) as (low, high).

    A bound that is not finite is no bound (None): PostgreSQL would store inf or NaN, but
    JSON cannot carry them to the trends API, and NaN would poison max() and min() here.
    """
    low, high = _finite(threshold.get("min")), _finite(threshold.get("max"))
    bound = _finite(threshold.get("max_abs"))
    if bound is not None:
        bound = abs(bound)
        low = -bound if low is None else max(low, -bound)
        high = bound if high is None else min(high, bound)
    return low, high


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def artifact_rows(out: Path) -> list[ArtifactRow]:
    """A row for each known artefact file in ``out`` (the audit's ``out/`` folder)."""
    rows = []
    for name, media_type in ARTIFACTS.items():
        path = out / name
        if path.is_symlink() or not path.is_file():  # the child could plant a link: never follow
            continue
        rows.append(
            ArtifactRow(
                name=name,
                media_type=media_type,
                size=path.stat().st_size,
                sha256=sha256_file(path),
                relpath=f"out/{name}",
            )
        )
    return rows
