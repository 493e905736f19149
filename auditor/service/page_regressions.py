"""The "regressions" section of a model's page: its newest succeeded audit against the one before.

The comparison is ``auditor diff``'s own (:func:`auditor.diff.compare_audits` on the two
``audit.json`` files) and the words are its renderer's (:mod:`auditor.diff.render`); this
module only arranges an :class:`~auditor.diff.AuditDiff` into rows for the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from auditor.diff import AuditDiff, FindingChange, compare_audits
from auditor.diff.render import (
    MAX_METRICS,
    describe_where,
    finding_values,
    format_change,
    format_number,
    format_verdict,
    metric_label,
)
from auditor.errors import AuditorError
from auditor.results import AuditRecord
from auditor.service.db import Audit
from auditor.service.page_views import Badge, audit_href, format_time, verdict_badge
from auditor.service.storage import artifact_path

AUDIT_VERDICTS = {"passed": "pass", "failed": "fail", "inconclusive": "inconclusive"}


@dataclass(frozen=True)
class AuditRef:
    """One side of the comparison: a link to the audit, its version, date and verdict."""

    href: str
    version: str
    created: str
    verdict: Badge


@dataclass(frozen=True)
class FindingRow:
    rule: str
    severity: str
    where: str
    base_verdict: str
    new_verdict: str
    measure: str
    values: str
    limit: str
    blocking: bool


@dataclass(frozen=True)
class MetricRow:
    metric: str
    where: str
    base: str
    new: str
    change: str


@dataclass(frozen=True)
class Regressions:
    """What the page shows; ``message`` alone when there is nothing to compare."""

    message: str | None
    base: AuditRef | None = None
    new: AuditRef | None = None
    regressed: bool = False
    base_verdict: Badge | None = None
    new_verdict: Badge | None = None
    verdict_changed: bool = False
    has_changes: bool = False
    new_failures: tuple[FindingRow, ...] = ()
    fixed_failures: tuple[FindingRow, ...] = ()
    other_changes: tuple[FindingRow, ...] = ()
    moved: tuple[MetricRow, ...] = ()
    moved_total: int = 0
    moved_more: int = 0
    tolerance: str = ""
    groups: tuple[tuple[str, str, str], ...] = ()
    warnings: tuple[str, ...] = ()


def regressions(audits_root: Path, newest_first: list[Audit]) -> Regressions:
    """Compare the first two succeeded audits of ``newest_first`` (newest, then the one before)."""
    if len(newest_first) < 2:
        return Regressions(
            "Regressions need two succeeded audits of this model; "
            f"there {'is' if len(newest_first) == 1 else 'are'} {len(newest_first)}."
        )
    new, base = newest_first[0], newest_first[1]
    records = []
    for audit in (base, new):
        path = artifact_path(audits_root, audit.id, "audit.json")
        if not path.is_file():
            return Regressions(
                f"The audit of {audit.model_version or audit.id[:8]} has no audit.json "
                "(deleted, or written by another tool): the two audits cannot be compared."
            )
        try:
            records.append(AuditRecord.from_json(path.read_text(encoding="utf-8")))
        except (ValidationError, ValueError, AuditorError) as error:
            return Regressions(
                f"The audit.json of {audit.model_version or audit.id[:8]} could not be read "
                f"({type(error).__name__}); the two audits cannot be compared."
            )
    diff = compare_audits(records[0], records[1])
    return _view(diff, _ref(base), _ref(new))


def _ref(audit: Audit) -> AuditRef:
    return AuditRef(
        href=audit_href(audit.id),
        version=audit.model_version or audit.id[:8],
        created=format_time(audit.created_at),
        verdict=verdict_badge(audit.verdict),
    )


def _findings(changes: tuple[FindingChange, ...]) -> tuple[FindingRow, ...]:
    return tuple(
        FindingRow(
            rule=c.rule_id,
            severity=c.severity,
            where=describe_where(c.attribute, c.group),
            base_verdict=format_verdict(c.base_verdict),
            new_verdict=format_verdict(c.new_verdict),
            measure=c.measure,
            values=finding_values(c, "→"),
            limit=c.threshold_text,
            blocking=c.blocking,
        )
        for c in changes
    )


def _view(diff: AuditDiff, base: AuditRef, new: AuditRef) -> Regressions:
    moved = tuple(
        MetricRow(
            metric=metric_label(m),
            where=describe_where(m.attribute, m.group),
            base=format_number(m.base),
            new=format_number(m.new),
            change=format_change(m),
        )
        for m in diff.moved_metrics[:MAX_METRICS]
    )
    groups = (
        *((a, "(attribute)", "appeared") for a in diff.attributes_appeared),
        *((a, "(attribute)", "vanished") for a in diff.attributes_vanished),
        *((g.attribute, g.group, g.change) for g in diff.group_changes),
    )
    return Regressions(
        message=None,
        base=base,
        new=new,
        regressed=diff.regressed,
        base_verdict=verdict_badge(AUDIT_VERDICTS[diff.base_verdict]),
        new_verdict=verdict_badge(AUDIT_VERDICTS[diff.new_verdict]),
        verdict_changed=diff.verdict_changed,
        has_changes=diff.has_changes,
        new_failures=_findings(diff.new_failures),
        fixed_failures=_findings(diff.fixed_failures),
        other_changes=_findings(diff.other_verdict_changes),
        moved=moved,
        moved_total=len(diff.moved_metrics),
        moved_more=max(0, len(diff.moved_metrics) - MAX_METRICS),
        tolerance=f"{diff.tolerance:g}",
        groups=tuple(groups),
        warnings=diff.warnings,
    )
