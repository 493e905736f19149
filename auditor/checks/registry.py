"""The check registry: policies refer to checks by explicit dotted name.

A *family* is one function that computes many measurements in one pass (the fairness
family computes every group rate from one bincount). A *check* is one named measurement a
policy rule can judge (``fairness.selection_rate``), with the measures it offers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from auditor.context import AuditContext
from auditor.results import CheckResult

FamilyFunction = Callable[[AuditContext], CheckResult]


@dataclass(frozen=True)
class CheckSpec:
    """A named measurement: where it comes from, what it means, which measures it has."""

    name: str
    family: str
    metric: str
    label: str
    definition: str
    undefined_when: str
    measures: tuple[str, ...]
    requires: str = ""  # what the audit must have for this check, said when it lacks it
    # A rule judged in every audit that measures the check, whatever the policy says (unless
    # the policy has its own rule on it): {"threshold": {...}, "severity": ..., "rationale": ...}
    builtin_rule: dict[str, object] | None = None
    # A count or indicator, not an estimate: rules judge it as it is, never asking for an
    # interval (require_confidence does not apply).
    exact: bool = False


GROUP_MEASURES = (
    "value",
    "difference_to_reference",
    "ratio_to_reference",
    "ratio_to_highest",
    "min_max_ratio",
    "max_abs_difference",
)
OVERALL_MEASURES = ("value",)

CHECKS: dict[str, CheckSpec] = {}
FAMILIES: dict[str, FamilyFunction] = {}


def register_family(name: str) -> Callable[[FamilyFunction], FamilyFunction]:
    """Register the function that computes a family of checks; a duplicate name raises."""

    def decorate(function: FamilyFunction) -> FamilyFunction:
        if name in FAMILIES:
            raise ValueError(f"check family '{name}' is registered twice")
        FAMILIES[name] = function
        return function

    return decorate


def register_check(spec: CheckSpec) -> None:
    """Register one named check; a duplicate name raises (never a silent overwrite)."""
    if spec.name in CHECKS:
        raise ValueError(f"check '{spec.name}' is registered twice")
    if spec.family not in FAMILIES:
        raise ValueError(f"check '{spec.name}' names unknown family '{spec.family}'")
    CHECKS[spec.name] = spec


def run_families(ctx: AuditContext, names: list[str]) -> list[CheckResult]:
    """Run each family once; an exception becomes an error result, not a crash or a pass."""
    results = []
    for name in names:
        try:
            results.append(FAMILIES[name](ctx))
        except Exception as exc:  # reported as an error finding by the policy
            results.append(
                CheckResult(family=name, status="error", error=f"{type(exc).__name__}: {exc}")
            )
    return results


@dataclass(frozen=True)
class ValueCheck:
    """A check judged by its value alone (``measure: value``), one per metric of a family
    whose results are overall values or per-item values (``CheckResult.items``)."""

    metric: str
    label: str
    definition: str
    undefined_when: str = "never"
    requires: str = ""
    builtin_rule: dict[str, object] | None = None
    exact: bool = False


def register_value_checks(family: str, checks: tuple[ValueCheck, ...]) -> None:
    """Register each check of a family whose only measure is the value itself."""
    for check in checks:
        register_check(
            CheckSpec(
                name=f"{family}.{check.metric}",
                family=family,
                metric=check.metric,
                label=check.label,
                definition=check.definition,
                undefined_when=check.undefined_when,
                measures=OVERALL_MEASURES,
                requires=check.requires,
                builtin_rule=check.builtin_rule,
                exact=check.exact,
            )
        )
