"""Formatting shared by the data-governance parts, and the policy's findings looked up by subject.

Nothing is judged here: a row is flagged only when the policy's own finding on it failed (or
was waived, or could not be evaluated), and every verdict shown is the finding's.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.report.findings import ORDER, family_of
from auditor.report.formatting import badge, count, number
from auditor.report.governance_view import PolicyNote
from auditor.report.view import Badge
from auditor.results import AuditRecord, Finding

MAX_LIST = 12  # names listed in a sentence before "and N more"
FLAGGED = frozenset({"fail", "waived", "error"})
TRAIN_DATA = "--train-data; train_data= in Python"


@dataclass(frozen=True)
class Setting:
    """What the data-governance parts need from the rest of the record."""

    findings: tuple[Finding, ...]
    has_model: bool
    train_rows: int | None  # None: no training data was given (as far as the record says)
    confidence: str  # "95%"
    min_group_size: int
    task: str


def setting(result: AuditRecord, *, min_group_size: int) -> Setting:
    """The record's facts the governance parts read (training rows from any family's)."""
    train_rows = None
    for check in result.checks:
        g = check.governance
        if g is None:
            continue
        if g.train_rows is not None:
            train_rows = g.train_rows
            break
    families = ("representation", "data_quality", "privacy")
    level = result.policy.settings.get("confidence", 0.95)
    return Setting(
        findings=tuple(f for f in result.findings if family_of(f.check) in families),
        has_model=result.setup.model is not None,
        train_rows=train_rows,
        confidence=f"{level:.0%}" if isinstance(level, float) else str(level),
        min_group_size=min_group_size,
        task=result.setup.task,
    )


def share(x: float | None) -> str:
    """A share with 3 decimals, or "undefined"."""
    return "undefined" if x is None else f"{x:.3f}"


def p_number(p: float | None) -> str:
    """``0.031``, ``3.0e-14``; a p-value that underflowed to 0 as ``< 1e-300``."""
    if p is None:
        return "undefined"
    if p == 0.0:
        return "< 1e-300"
    if p < 0.001:
        return f"{p:.1e}"
    return f"{p:.3f}"


def p_value(p: float | None) -> str:
    """``p = 0.031``, ``p = 3.0e-14``, ``p < 1e-300``, ``p undefined``."""
    text = p_number(p)
    return f"p {text}" if text.startswith(("<", "u")) else f"p = {text}"


def listing(names: list[str], limit: int = MAX_LIST) -> str:
    """``a, b and c``; past ``limit`` names, ``a, b, … and 7 more``."""
    shown = names[:limit]
    rest = len(names) - len(shown)
    if rest > 0:
        return f"{', '.join(shown)} and {rest:,} more"
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def plural(n: int, noun: str) -> str:
    """``1 column``, ``3 columns``."""
    return f"{count(n)} {noun}{'s' * (n != 1)}"


def rows_text(n: int, total: int | None = None) -> str:
    return plural(n, "row") + (f" of {count(total)}" if total is not None else "")


class Judged:
    """The policy's findings on the data-governance checks, looked up by what they are about."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        self.findings = findings

    def about(
        self,
        checks: tuple[str, ...],
        *,
        attribute: str | None = None,
        group: str | None = None,
        feature: str | None = None,
    ) -> list[Finding]:
        """Findings on ``checks`` (names without the family), narrowed by what is given."""
        found = []
        for f in self.findings:
            if f.check.split(".", 1)[-1] not in checks:
                continue
            if attribute is not None and f.attribute != attribute:
                continue
            if group is not None and f.group != group:
                continue
            if feature is not None and f.feature != feature:
                continue
            found.append(f)
        return found

    def worst(self, checks: tuple[str, ...], **subject: str | None) -> Finding | None:
        """The worst finding on one row when it did not pass, else None."""
        not_passed = [f for f in self.about(checks, **subject) if f.verdict != "pass"]
        return min(not_passed, key=lambda f: ORDER.get(f.verdict, 5)) if not_passed else None

    def verdict(self, checks: tuple[str, ...], **subject: str | None) -> tuple[Badge | None, bool]:
        """The worst verdict of the findings on one row when it did not pass, and whether the
        row is flagged (a finding failed, was waived or could not be evaluated)."""
        worst = self.worst(checks, **subject)
        if worst is None:
            return None, False
        return badge(worst.verdict), worst.verdict in FLAGGED

    def notes(self, checks: tuple[str, ...], **subject: str | None) -> tuple[PolicyNote, ...]:
        """The findings on ``checks`` as short lines, failures first; findings the policy could
        not apply (nothing measured) are left to the findings table."""
        found = sorted(
            (f for f in self.about(checks, **subject) if f.verdict != "not_applicable"),
            key=lambda f: (ORDER.get(f.verdict, 5), f.rule_id, f.group or "", f.feature or ""),
        )
        return tuple(_note(f) for f in found)


def _note(f: Finding) -> PolicyNote:
    if f.feature is not None:
        subject = f"{f.feature} by {f.attribute}" if f.attribute else f.feature
    else:
        subject = f.group or (f"all groups of {f.attribute}" if f.attribute else "")
    cell = number(f.value, f.reason)
    value = cell.text if not cell.undefined else f"undefined ({cell.reason})"
    return PolicyNote(badge(f.verdict), f.rule_id, subject or "all rows", value, f.threshold_text)
