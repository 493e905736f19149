"""Rules x measurements -> findings. The only place where a number becomes a verdict."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

import numpy as np

from auditor.checks import CHECKS
from auditor.policy.schema import Policy, Rule
from auditor.policy.waivers import apply_waivers
from auditor.results import (
    REASON_TEXT,
    CheckResult,
    Finding,
    GroupTable,
    ItemValue,
    Reason,
    Value,
)

_TO_REFERENCE = ("difference_to_reference", "ratio_to_reference")
_SUMMARY = ("min_max_ratio", "max_abs_difference")
_MEASURE_TEXT = {
    "value": "",
    "difference_to_reference": "difference to the reference group",
    "ratio_to_reference": "ratio to the reference group",
    "ratio_to_highest": "ratio to the highest group",
    "min_max_ratio": "min/max ratio over groups",
    "max_abs_difference": "largest difference between groups",
    "by_group": "against the reference group",
}


def evaluate_policy(
    policy: Policy,
    results: list[CheckResult],
    *,
    today: date | None = None,
    not_measured: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Judge every rule against the measurements; one finding per rule and group.

    Waivers are applied last, as of ``today`` (default: the current date).
    ``not_measured``: families the audit deliberately did not run, and why; their rules
    are not applicable when optional and errors otherwise.
    """
    by_family = {r.family: r for r in results}
    skipped = dict(not_measured or {})
    findings: list[Finding] = []
    for rule in [*policy.rules, *_builtin_rules(policy, by_family)]:
        spec = CHECKS[rule.check]
        result = by_family.get(spec.family)
        if result is None and spec.family in skipped:
            message = f"{rule.check} was not measured: {skipped[spec.family]}"
            findings.append(_unmeasured(rule, None, message))
            continue
        if result is None or result.status == "error":
            error = result.error if result is not None else "the check did not run"
            findings.append(_finding(rule, None, None, None, None, "error", None, error or ""))
            continue
        confident = not spec.exact and (
            rule.require_confidence
            if rule.require_confidence is not None
            else policy.settings.require_confidence
        )
        if spec.metric in result.overall:  # one value for the whole audit, not per group
            overall = result.overall[spec.metric]
            findings.append(_judge(rule, None, None, overall, None, None, confident))
            continue
        if spec.metric in result.items:  # one value per attribute (and feature)
            findings.extend(_judge_items(rule, result.items[spec.metric], confident))
            continue
        if not result.tables:  # an overall check this audit could not measure
            message = f"{rule.check} was not measured in this audit; it {spec.requires}"
            findings.append(_unmeasured(rule, None, message))
            continue
        tables = [
            t
            for t in result.tables
            if rule.attributes in (None, []) or t.attribute in rule.attributes
        ]
        if not tables:
            message = f"the rule applies to attributes {rule.attributes}, none of them audited"
            findings.append(_finding(rule, None, None, None, None, "not_applicable", None, message))
        min_n = policy.settings.min_group_size
        for table in tables:
            findings.extend(_judge_table(rule, spec.metric, table, confident, min_n))
    findings.extend(_unjudged_errors(policy, results))
    return apply_waivers(findings, policy.waivers, today or date.today())


def _unjudged_errors(policy: Policy, results: list[CheckResult]) -> Iterator[Finding]:
    """An error finding for each family that failed and that no rule of the policy names:
    an exception must fail the audit even where the policy has nothing to judge there."""
    judged = {CHECKS[rule.check].family for rule in policy.rules}
    for result in results:
        if result.status != "error" or result.family in judged:
            continue
        first = next((s for s in CHECKS.values() if s.family == result.family), None)
        if first is None:
            continue
        rule = Rule.model_validate(
            {
                "id": f"builtin.{result.family}-ran",
                "check": first.name,
                "threshold": {"max": 0},
                "rationale": "Every check family the audit runs must complete.",
            }
        )
        message = f"the {result.family} checks failed: {result.error or 'unknown error'}"
        yield _finding(rule, None, None, None, None, "error", None, message)


def _builtin_rules(policy: Policy, by_family: dict[str, CheckResult]) -> list[Rule]:
    """The rules every audit judges (a sensitive attribute used as a feature, SHAP values
    that do not add up), for checks the policy has no rule of its own on and that ran."""
    covered = {rule.check for rule in policy.rules}
    rules = []
    for spec in CHECKS.values():
        result = by_family.get(spec.family)
        if spec.builtin_rule is None or spec.name in covered or result is None:
            continue
        if spec.metric not in result.overall and spec.metric not in result.items:
            continue  # not measured (no model): nothing to judge
        rules.append(
            Rule.model_validate(
                {
                    "id": f"builtin.{spec.metric}",
                    "check": spec.name,
                    "require_confidence": False,
                    **spec.builtin_rule,
                }
            )
        )
    return rules


def _judge_items(rule: Rule, items: list[ItemValue], confident: bool) -> Iterator[Finding]:
    """Per attribute: a finding for every item (feature) that does not pass, or when all
    pass, one passing finding for the item nearest the threshold. Forty features times
    three attributes would otherwise bury the findings table under passes."""
    kept = [i for i in items if rule.attributes in (None, []) or i.attribute in rule.attributes]
    if not kept:
        message = f"{rule.check}: nothing measured for the attributes this rule applies to"
        yield _finding(rule, None, None, None, None, "not_applicable", None, message)
    by_attribute: dict[str | None, list[ItemValue]] = {}
    for item in kept:
        by_attribute.setdefault(item.attribute, []).append(item)
    for attribute, group in by_attribute.items():
        judged = [
            _judge(rule, attribute, i.group, i.value, i.n, None, confident, i.feature)
            for i in group
        ]
        not_passed = [f for f in judged if f.verdict != "pass"]
        if not_passed:
            yield from not_passed
            continue
        # All pass: the one nearest the threshold stands for them.
        yield min(judged, key=lambda f: _margin(rule, f.value))


def _margin(rule: Rule, value: float | None) -> float:
    """How far a passing value is inside the threshold's bounds (smallest over the bounds)."""
    if value is None:
        return float("inf")
    t = rule.threshold
    margins = [
        m
        for m in (
            None if t.min is None else value - t.min,
            None if t.max is None else t.max - value,
            None if t.max_abs is None else t.max_abs - abs(value),
        )
        if m is not None
    ]
    return min(margins, default=float("inf"))


def _judge_table(
    rule: Rule, metric: str, table: GroupTable, confident: bool, min_n: int
) -> Iterator[Finding]:
    if metric in table.criteria:
        yield from _judge_criterion(rule, table, confident)
        return
    if metric not in table.summaries:
        needs = CHECKS[rule.check].requires
        message = f"{table.attribute}: {rule.check} was not measured in this audit; it {needs}"
        yield _unmeasured(rule, table.attribute, message)
        return
    summary = table.summaries[metric]
    if rule.measure in _SUMMARY:
        value: Value = getattr(summary, rule.measure)
        n = summary.n_compared
        between = None
        if summary.lowest_group and summary.highest_group:
            between = f"lowest {summary.lowest_group}, highest {summary.highest_group}"
        yield _judge(rule, table.attribute, None, value, n, between, confident)
        return
    compared_to = table.reference if rule.measure in _TO_REFERENCE else None
    if rule.measure == "ratio_to_highest":
        compared_to = summary.highest_group
    reference_row = next((r for r in table.rows if r.group == table.reference), None)
    reference_out = reference_row is not None and reference_row.metrics[metric].excluded is not None
    for row in table.rows:
        if rule.measure in _TO_REFERENCE and row.group == table.reference:
            continue  # the reference is not compared with itself
        metric_cell = row.metrics[metric]
        cell = getattr(metric_cell, rule.measure)
        excluded = metric_cell.excluded
        if excluded is None and row.n < min_n:  # a table made without the engine's marks
            excluded = Reason.EMPTY_GROUP if row.n == 0 else Reason.BELOW_MIN_GROUP_SIZE
        if excluded is None and reference_out and rule.measure in _TO_REFERENCE:
            excluded = Reason.REFERENCE_EXCLUDED
        if excluded is not None:
            yield _insufficient(rule, table.attribute, row.group, cell, row.n, excluded)
            continue
        finding = _judge(rule, table.attribute, row.group, cell, row.n, compared_to, confident)
        test = metric_cell.test
        if test is not None and rule.measure in _TO_REFERENCE:  # the test is against the reference
            finding = finding.model_copy(
                update={"p_value": test.p_value, "p_adjusted": test.p_adjusted}
            )
        yield finding


def _unmeasured(rule: Rule, attribute: str | None, message: str) -> Finding:
    """A rule the audit has no measurement for: an error, unless the policy made it optional."""
    if rule.optional:
        message += " (the policy marks this rule optional)"
        return _finding(rule, attribute, None, None, None, "not_applicable", None, message)
    return _finding(rule, attribute, None, None, None, "error", None, message)


def _judge_criterion(rule: Rule, table: GroupTable, confident: bool) -> Iterator[Finding]:
    criterion = table.criteria[CHECKS[rule.check].metric]
    if rule.measure == "value":
        n = criterion.n_compared or None
        yield _judge(rule, table.attribute, None, criterion.value, n, criterion.between, confident)
        return
    sizes = {row.group: row for row in table.rows}
    for row in table.rows:
        if row.group == table.reference:
            continue
        value = criterion.by_group.get(row.group)
        if value is None:  # not judged: the group or the reference is left out
            reason = criterion.excluded.get(row.group)
            if reason is None:
                excluded_ref = table.reference in criterion.excluded
                reason = Reason.REFERENCE_EXCLUDED if excluded_ref else Reason.NOT_AVAILABLE
            yield _insufficient(rule, table.attribute, row.group, Value(value=None), row.n, reason)
            continue
        n = sizes[row.group].n
        yield _judge(rule, table.attribute, row.group, value, n, table.reference, confident)


def _judge(
    rule: Rule,
    attribute: str | None,
    group: str | None,
    value: Value,
    n: int | None,
    compared_to: str | None = None,
    confident: bool = False,
    feature: str | None = None,
) -> Finding:
    if value.value is None:
        reason = value.reason or Reason.NOT_AVAILABLE
        return _finding(
            rule,
            attribute,
            group,
            value,
            n,
            "insufficient_data",
            reason,
            f"undefined: {value.note or REASON_TEXT[reason]}",
            feature=feature,
        )
    failed = rule.threshold.violated_by(value.value)
    what = _MEASURE_TEXT[rule.measure]
    label = CHECKS[rule.check].label + (f", {what}" if what else "")
    if compared_to:
        label += f" ({compared_to})"
    relation = "outside" if failed else "within"
    subject = group or attribute or "all rows"
    if feature:
        subject = f"{feature} ({subject})" if group or attribute else feature
    message = (
        f"{subject}: {label} = {_number(value.value)}, {relation} "
        f"{rule.threshold.as_text()}" + (f" (n={n:,})" if n is not None else "")
    )
    if value.ci_low is not None and value.ci_high is not None:
        message += f"; interval [{value.ci_low:.3f}, {value.ci_high:.3f}]"
    if value.note:
        message += f": {value.note}"
    if failed and confident:
        doubt = _not_confident(rule, value)
        if doubt is not None:
            message += f". {REASON_TEXT[doubt].capitalize()}"
            return _finding(
                rule,
                attribute,
                group,
                value,
                n,
                "insufficient_data",
                doubt,
                message,
                compared_to,
                feature,
            )
    verdict = "fail" if failed else "pass"
    return _finding(rule, attribute, group, value, n, verdict, None, message, compared_to, feature)


def _number(x: float) -> str:
    """Three decimals, or three significant digits for values too small to show that way."""
    return f"{x:.3f}" if x == 0 or abs(x) >= 0.001 else f"{x:.3g}"


def _not_confident(rule: Rule, value: Value) -> Reason | None:
    """Why a violation is not established with confidence, or None when it is.

    Confident means the whole interval lies outside the acceptable range [low, high] that
    the threshold's bounds (min, max, |x| <= max_abs) leave, on one side of it.
    """
    if value.ci_low is None or value.ci_high is None:
        return Reason.NO_INTERVAL
    t = rule.threshold
    bounds_low = [b for b in (t.min, None if t.max_abs is None else -t.max_abs) if b is not None]
    bounds_high = [b for b in (t.max, t.max_abs) if b is not None]
    low = max(bounds_low, default=-np.inf)
    high = min(bounds_high, default=np.inf)
    beyond = value.ci_high < low or value.ci_low > high
    return None if beyond else Reason.NOT_CONFIDENT


def _insufficient(
    rule: Rule, attribute: str, group: str, value: Value, n: int, reason: Reason
) -> Finding:
    """A group the policy does not judge: its value is shown for information, never judged."""
    message = f"{group}: {n:,} rows; not judged: {REASON_TEXT[reason]}"
    if n > 0 and value.value is None and value.reason is not None:
        message += f" (and the value is undefined: {REASON_TEXT[value.reason]})"
    shown = value if value.value is not None else None
    return _finding(rule, attribute, group, shown, n, "insufficient_data", reason, message)


def _finding(
    rule: Rule,
    attribute: str | None,
    group: str | None,
    value: Value | None,
    n: int | None,
    verdict: str,
    reason: Reason | None,
    message: str,
    compared_to: str | None = None,
    feature: str | None = None,
) -> Finding:
    return Finding.model_validate(
        {
            "rule_id": rule.id,
            "check": rule.check,
            "measure": rule.measure,
            "attribute": attribute,
            "group": group,
            "feature": feature,
            "value": value.value if value is not None else None,
            "ci_low": value.ci_low if value is not None else None,
            "ci_high": value.ci_high if value is not None else None,
            "threshold": rule.threshold.as_dict(),
            "threshold_text": rule.threshold.as_text(),
            "compared_to": compared_to,
            "n": n,
            "severity": rule.severity,
            "verdict": verdict,
            "reason": reason,
            "message": message,
            "rationale": rule.rationale,
            "references": rule.references,
        }
    )
