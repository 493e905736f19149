"""Compare two audits (``audit.json`` of a base and a new run) and say what changed.

Everything here is computed from two :class:`~auditor.results.AuditRecord` objects and nothing
else; the renderers in :mod:`auditor.diff.render` only format an :class:`AuditDiff`. Audits that
are not comparable like for like (another policy, target, data...) still compare: the
differences are listed as warnings, never raised.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from auditor.errors import UsageError
from auditor.results import SEVERITY_RANK, AuditRecord, Finding, Severity, Verdict

AuditVerdict = Literal["passed", "failed", "inconclusive"]
MEASURES = ("value", "ratio_to_reference")
_FAILING = ("fail", "error")
_FIXED = ("pass", "waived")
_VERDICT_RANK = {"passed": 0, "inconclusive": 1, "failed": 2}


@dataclass(frozen=True)
class MetricChange:
    """One measured value that moved, or became defined or undefined, between the audits.

    ``attribute`` and ``group`` are None for a value over all rows (``performance.accuracy``).
    """

    check: str
    attribute: str | None
    group: str | None
    metric: str
    measure: str
    base: float | None
    new: float | None

    @property
    def change(self) -> float | None:
        """``new - base``, or None when either side is undefined."""
        return None if self.base is None or self.new is None else self.new - self.base

    @property
    def kind(self) -> Literal["moved", "became_undefined", "became_defined"]:
        if self.change is not None:
            return "moved"
        return "became_undefined" if self.new is None else "became_defined"


@dataclass(frozen=True)
class FindingChange:
    """A finding of one rule for one group whose verdict differs between the audits.

    A verdict of None means the finding does not exist in that audit.
    """

    rule_id: str
    attribute: str | None
    group: str | None
    measure: str
    severity: Severity
    base_verdict: Verdict | None
    new_verdict: Verdict | None
    base_value: float | None
    new_value: float | None
    threshold_text: str
    n: int | None
    blocking: bool = False


@dataclass(frozen=True)
class GroupChange:
    """A group of an attribute present in only one of the audits."""

    attribute: str
    group: str
    change: Literal["appeared", "vanished"]


@dataclass(frozen=True)
class AuditDiff:
    """What changed from a base audit to a new one; every sequence is sorted deterministically.

    ``regressed`` is True when a new failure blocks (verdict ``error``, or ``fail`` at a
    severity at or above the new audit's ``fail_on``) or the audit verdict got worse
    (passed -> inconclusive -> failed).
    """

    base_verdict: AuditVerdict
    new_verdict: AuditVerdict
    fail_on: Severity
    tolerance: float
    regressed: bool
    new_failures: tuple[FindingChange, ...]
    fixed_failures: tuple[FindingChange, ...]
    other_verdict_changes: tuple[FindingChange, ...]
    moved_metrics: tuple[MetricChange, ...]
    group_changes: tuple[GroupChange, ...]
    attributes_appeared: tuple[str, ...]
    attributes_vanished: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def verdict_changed(self) -> bool:
        return self.base_verdict != self.new_verdict

    @property
    def has_changes(self) -> bool:
        """True when anything at all differs (warnings aside)."""
        return bool(
            self.verdict_changed
            or self.new_failures
            or self.fixed_failures
            or self.other_verdict_changes
            or self.moved_metrics
            or self.group_changes
            or self.attributes_appeared
            or self.attributes_vanished
        )


def compare_audits(base: AuditRecord, new: AuditRecord, *, tolerance: float = 0.01) -> AuditDiff:
    """Compare ``new`` against ``base``.

    Parameters
    ----------
    tolerance : float
        A value (``value`` or ``ratio_to_reference`` of a group metric, or an overall value)
        is reported as moved when it changed by more than this, in absolute terms.

    Raises
    ------
    UsageError
        When ``tolerance`` is negative or not a finite number.
    """
    if not math.isfinite(tolerance) or tolerance < 0:
        raise UsageError(f"tolerance must be a finite number >= 0, got {tolerance!r}.")
    new_failures, fixed, other = _finding_changes(base, new)
    groups_base, groups_new = _groups(base), _groups(new)
    worse = _VERDICT_RANK[new.verdict] > _VERDICT_RANK[base.verdict]
    return AuditDiff(
        base_verdict=base.verdict,
        new_verdict=new.verdict,
        fail_on=new.fail_on,
        tolerance=tolerance,
        regressed=worse or any(c.blocking for c in new_failures),
        new_failures=new_failures,
        fixed_failures=fixed,
        other_verdict_changes=other,
        moved_metrics=_moved_metrics(base, new, tolerance),
        group_changes=_group_changes(groups_base, groups_new),
        attributes_appeared=tuple(sorted(groups_new.keys() - groups_base.keys())),
        attributes_vanished=tuple(sorted(groups_base.keys() - groups_new.keys())),
        warnings=tuple(_comparability_warnings(base, new)),
    )


_FindingKey = tuple[str, str, str]


def _finding_key(finding: Finding) -> _FindingKey:
    return (finding.rule_id, finding.attribute or "", finding.group or "")


def _finding_changes(
    base: AuditRecord, new: AuditRecord
) -> tuple[tuple[FindingChange, ...], tuple[FindingChange, ...], tuple[FindingChange, ...]]:
    """New failures, fixed failures and every other change of verdict, each sorted."""
    before: dict[_FindingKey, Finding] = {}
    after: dict[_FindingKey, Finding] = {}
    for findings, into in ((base.findings, before), (new.findings, after)):
        for finding in findings:
            into.setdefault(_finding_key(finding), finding)
    new_failures, fixed, other = [], [], []
    for key in sorted(before.keys() | after.keys()):
        old, cur = before.get(key), after.get(key)
        old_verdict = old.verdict if old else None
        new_verdict = cur.verdict if cur else None
        if old_verdict == new_verdict:
            continue
        shown = cur or old
        assert shown is not None  # the key came from one of the two
        change = FindingChange(
            rule_id=shown.rule_id,
            attribute=shown.attribute,
            group=shown.group,
            measure=shown.measure,
            severity=shown.severity,
            base_verdict=old_verdict,
            new_verdict=new_verdict,
            base_value=old.value if old else None,
            new_value=cur.value if cur else None,
            threshold_text=shown.threshold_text,
            n=shown.n,
            blocking=cur is not None and cur.blocks(new.fail_on),
        )
        if new_verdict in _FAILING and old_verdict not in _FAILING:
            new_failures.append(change)
        elif old_verdict in _FAILING and new_verdict in _FIXED:
            fixed.append(change)
        else:
            other.append(change)
    new_failures.sort(key=lambda c: (not c.blocking, -SEVERITY_RANK[c.severity]))
    fixed.sort(key=lambda c: -SEVERITY_RANK[c.severity])
    return tuple(new_failures), tuple(fixed), tuple(other)


_MetricKey = tuple[str, str, str, str, str]


def _values(record: AuditRecord) -> Iterator[tuple[_MetricKey, float | None]]:
    """Every comparable value of an audit keyed by (check, attribute, group, metric, measure)."""
    for check in record.checks:
        for name, overall in check.overall.items():
            yield (check.family, "", "", name, "value"), overall.value
        for table in check.tables:
            for row in table.rows:
                for metric, cell in row.metrics.items():
                    for measure in MEASURES:
                        value = getattr(cell, measure).value
                        yield (check.family, table.attribute, row.group, metric, measure), value


def _moved_metrics(
    base: AuditRecord, new: AuditRecord, tolerance: float
) -> tuple[MetricChange, ...]:
    """Values present in both audits that moved by more than ``tolerance`` or changed
    definedness; definedness changes first, then the largest moves."""
    before = dict(_values(base))
    moved = []
    for key, value in _values(new):
        if key not in before:
            continue
        old = before[key]
        if old is None and value is None:
            continue
        if old is not None and value is not None and abs(value - old) <= tolerance:
            continue
        check, attribute, group, metric, measure = key
        moved.append(
            MetricChange(check, attribute or None, group or None, metric, measure, old, value)
        )

    def order(c: MetricChange) -> tuple[float, tuple[str, ...]]:
        size = math.inf if c.change is None else abs(c.change)
        return (-size, (c.check, c.attribute or "", c.group or "", c.metric, c.measure))

    return tuple(sorted(moved, key=order))


def _group_changes(base: dict[str, set[str]], new: dict[str, set[str]]) -> tuple[GroupChange, ...]:
    """Groups that appeared or vanished, for the attributes present in both audits."""
    changes = []
    for attribute in sorted(base.keys() & new.keys()):
        changes += [
            GroupChange(attribute, g, "appeared") for g in sorted(new[attribute] - base[attribute])
        ]
        changes += [
            GroupChange(attribute, g, "vanished") for g in sorted(base[attribute] - new[attribute])
        ]
    return tuple(changes)


def _groups(record: AuditRecord) -> dict[str, set[str]]:
    """Groups of every attribute (and intersection) measured in the audit."""
    groups: dict[str, set[str]] = {}
    for check in record.checks:
        for table in check.tables:
            groups.setdefault(table.attribute, set()).update(row.group for row in table.rows)
    return groups


def _comparability_warnings(base: AuditRecord, new: AuditRecord) -> Iterator[str]:
    """One sentence for each way the two audits do not compare like for like."""
    if base.schema_version != new.schema_version:
        yield (
            f"The audits were written in different schema versions (base {base.schema_version}, "
            f"new {new.schema_version}); some values may not compare like for like."
        )
    if base.policy.name != new.policy.name:
        yield (
            f"The audits used different policies (base '{base.policy.name}', new "
            f"'{new.policy.name}'): new and fixed failures may come from the policy change."
        )
    old_rules = {str(r.get("id")): r for r in base.policy.rules}
    new_rules = {str(r.get("id")): r for r in new.policy.rules}
    parts = [
        f"{label}: {', '.join(sorted(ids))}"
        for label, ids in (
            ("added", new_rules.keys() - old_rules.keys()),
            ("removed", old_rules.keys() - new_rules.keys()),
            (
                "changed",
                {i for i in old_rules.keys() & new_rules.keys() if old_rules[i] != new_rules[i]},
            ),
        )
        if ids
    ]
    if parts:
        yield f"The policy rules differ between the audits ({'; '.join(parts)})."
    if base.policy.settings != new.policy.settings:
        yield "The policy settings (such as min_group_size) differ between the audits."
    if base.policy.waivers != new.policy.waivers:
        yield "The policy waivers differ between the audits: a failure may be waived in one only."
    if base.fail_on != new.fail_on:
        yield (
            f"The audits block at different severities (base fail_on '{base.fail_on}', new "
            f"'{new.fail_on}'); regressions are judged at the new audit's."
        )
    for field, label in (
        ("target", "target column"),
        ("pos_label", "positive label"),
        ("positive_outcome", "positive outcome"),
        ("sensitive", "sensitive columns"),
    ):
        old, cur = getattr(base.setup, field), getattr(new.setup, field)
        if old != cur:
            yield (
                f"The {label} differs (base {_show(old)}, new {_show(cur)}): the audits measure "
                "different things."
            )
    old_data, new_data = base.provenance.sha256.get("data"), new.provenance.sha256.get("data")
    if old_data != new_data:
        yield (
            f"The audits read different data (SHA-256 {_short(old_data)} vs {_short(new_data)}): "
            "changes may come from the data, not the model."
        )
    if base.setup.rows != new.setup.rows:
        rows = f"base {base.setup.rows:,}, new {new.setup.rows:,}"
        yield f"The audits have different row counts ({rows})."
    old_engine, new_engine = _engine(base), _engine(new)
    if old_engine != new_engine and "memory" in (old_engine, new_engine):
        yield (
            f"The audits ran on different engines (base {old_engine}, new {new_engine}): their "
            "bootstrap intervals come from different schemes (rows in memory, a Poisson "
            "bootstrap of cells out of core), and checks measured on a sample differ by "
            "sampling."
        )
    old_refs, new_refs = _references(base), _references(new)
    for attribute in sorted(old_refs.keys() & new_refs.keys()):
        if old_refs[attribute] != new_refs[attribute]:
            yield (
                f"The reference group of '{attribute}' changed (base '{old_refs[attribute]}', new "
                f"'{new_refs[attribute]}'): ratios and differences to the reference do not "
                "compare like for like."
            )
    for check in new.checks:
        if check.status == "error":
            yield f"The {check.family} checks did not run in the new audit: {check.error}"


def _show(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(f"'{v}'" for v in value) + "]"
    return f"'{value}'"


def _short(digest: str | None) -> str:
    return "unknown" if digest is None else digest[:12] + "…"


def _references(record: AuditRecord) -> dict[str, str]:
    return {t.attribute: t.reference for c in record.checks for t in c.tables}


def _engine(record: AuditRecord) -> str:
    """The engine an audit ran on (older audits, before engines were recorded: memory)."""
    return "memory" if record.setup.engine is None else record.setup.engine.name
