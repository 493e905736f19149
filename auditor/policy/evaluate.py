"""Rules x measurements -> findings. The only place where a number becomes a verdict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from auditor.checks import CHECKS
from auditor.policy.schema import Policy, Rule
from auditor.policy.waivers import apply_waivers
from auditor.results import REASON_TEXT, CheckResult, Finding, GroupTable, Reason, Value

_TO_REFERENCE = ("difference_to_reference", "ratio_to_reference")
_SUMMARY = ("min_max_ratio", "max_abs_difference")
_MEASURE_TEXT = {
    "value": "",
    "difference_to_reference": "difference to the reference group",
    "ratio_to_reference": "ratio to the reference group",
    "ratio_to_highest": "ratio to the highest group",
    "min_max_ratio": "min/max ratio over groups",
    "max_abs_difference": "largest difference between groups",
}


def evaluate_policy(
    policy: Policy, results: list[CheckResult], *, today: date | None = None
) -> list[Finding]:
    """Judge every rule against the measurements; one finding per rule and group.

    Waivers are applied last, as of ``today`` (default: the current date).
    """
    by_family = {r.family: r for r in results}
    findings: list[Finding] = []
    for rule in policy.rules:
        spec = CHECKS[rule.check]
        result = by_family.get(spec.family)
        if result is None or result.status == "error":
            error = result.error if result is not None else "the check did not run"
            findings.append(_finding(rule, None, None, None, None, "error", None, error or ""))
            continue
        if spec.metric in result.overall:  # one value for the whole audit, not per group
            findings.append(_judge(rule, None, None, result.overall[spec.metric], None))
            continue
        tables = [
            t
            for t in result.tables
            if rule.attributes in (None, []) or t.attribute in rule.attributes
        ]
        if not tables:
            message = f"the rule applies to attributes {rule.attributes}, none of them audited"
            findings.append(_finding(rule, None, None, None, None, "not_applicable", None, message))
        for table in tables:
            findings.extend(_judge_table(rule, spec.metric, table, policy.settings.min_group_size))
    return apply_waivers(findings, policy.waivers, today or date.today())


def _judge_table(rule: Rule, metric: str, table: GroupTable, min_n: int) -> Iterator[Finding]:
    summary = table.summaries[metric]
    if rule.measure in _SUMMARY:
        value: Value = getattr(summary, rule.measure)
        n = summary.n_compared
        between = None
        if summary.lowest_group and summary.highest_group:
            between = f"lowest {summary.lowest_group}, highest {summary.highest_group}"
        yield _judge(rule, table.attribute, None, value, n, between)
        return
    compared_to = table.reference if rule.measure in _TO_REFERENCE else None
    if rule.measure == "ratio_to_highest":
        compared_to = summary.highest_group
    for row in table.rows:
        if rule.measure in _TO_REFERENCE and row.group == table.reference:
            continue  # the reference is not compared with itself
        cell = getattr(row.metrics[metric], rule.measure)
        if row.n < min_n:
            yield _insufficient(rule, table.attribute, row.group, cell, row.n, min_n)
            continue
        yield _judge(rule, table.attribute, row.group, cell, row.n, compared_to)


def _judge(
    rule: Rule,
    attribute: str | None,
    group: str | None,
    value: Value,
    n: int | None,
    compared_to: str | None = None,
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
            f"undefined: {REASON_TEXT[reason]}",
        )
    failed = rule.threshold.violated_by(value.value)
    what = _MEASURE_TEXT[rule.measure]
    label = CHECKS[rule.check].label + (f", {what}" if what else "")
    if compared_to:
        label += f" ({compared_to})"
    relation = "outside" if failed else "within"
    message = (
        f"{group or attribute or 'all rows'}: {label} = {value.value:.3f}, {relation} "
        f"{rule.threshold.as_text()}" + (f" (n={n:,})" if n is not None else "")
    )
    if value.note:
        message += f": {value.note}"
    verdict = "fail" if failed else "pass"
    return _finding(rule, attribute, group, value, n, verdict, None, message, compared_to)


def _insufficient(
    rule: Rule, attribute: str, group: str, value: Value, n: int, min_n: int
) -> Finding:
    """A group too small to judge: its value is shown for information, never judged."""
    reason = Reason.EMPTY_GROUP if n == 0 else Reason.BELOW_MIN_GROUP_SIZE
    message = f"{group}: {n:,} rows, fewer than the policy's min_group_size of {min_n}; not judged"
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
) -> Finding:
    return Finding.model_validate(
        {
            "rule_id": rule.id,
            "check": rule.check,
            "measure": rule.measure,
            "attribute": attribute,
            "group": group,
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
