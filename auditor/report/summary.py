"""The executive summary: the audit's findings retold in plain language, with next steps.

Every sentence here restates what the findings, the setup and the model card already say;
nothing is measured or judged. Lists are cut to a few items with a count of the rest, so the
summary fits one page however many groups the audit has.
"""

from __future__ import annotations

from auditor.report.findings import blocks, shown, sorted_findings, why_excluded
from auditor.report.formatting import count, label, reason_text
from auditor.report.view import ExecutiveSummary, SectionView
from auditor.results import AuditRecord, Finding, Reason

MAX_LINES = 6
_RATES = {"selection_rate", "favorable_rate"}


def _audited(result: AuditRecord, subject: str) -> str:
    s = result.setup
    what = f"the model {subject}" if s.mode == "model" else f"the decisions recorded in {subject}"
    attributes = ", ".join(s.sensitive)
    rules = len(result.policy.rules)
    return (
        f"This audit examined {what} on {count(s.rows)} rows of data, comparing groups of people "
        f"by {attributes}, against the policy '{result.policy.name}' ({rules:,} "
        f"rule{'s' * (rules != 1)}). The positive label '{s.pos_label}' is the "
        f"{'favourable' if s.positive_outcome == 'favorable' else 'adverse'} outcome for the "
        "person."
    )


def _investigate(f: Finding, favourable: bool) -> str:
    """A next step for a blocking failure, in the words of its measure."""
    if f.verdict == "error":
        return f"Resolve why rule '{f.rule_id}' could not be evaluated: {f.message}."
    if f.measure == "expires":
        return f"Renew or remove the expired waiver: {f.message}."
    metric = f.check.split(".", 1)[-1]
    who = f.group or f.attribute or "all rows"
    value = "an undefined value" if f.value is None else f"{f.value:.3f}"
    other = f.compared_to or "the reference group"
    if f.measure in ("ratio_to_reference", "ratio_to_highest") and metric in _RATES:
        outcome = (
            "the favourable outcome"
            if favourable or metric == "favorable_rate"
            else ("the positive (adverse) outcome")
        )
        what = f"receives {outcome} at {value} of the rate of {other}"
    elif f.measure.startswith("ratio"):
        what = f"has a {label(metric).lower()} {value} times that of {other}"
    elif f.measure.startswith("difference"):
        what = f"has a {label(metric).lower()} that differs by {value} from {other}"
    else:
        what = f"has a {label(metric).lower()} ({f.measure.replace('_', ' ')}) of {value}"
    return (
        f"Investigate why {who} {what} (rule '{f.rule_id}', {f.threshold_text}) before deployment."
    )


def _next_steps(
    result: AuditRecord, sections: tuple[SectionView, ...], failing: list[Finding]
) -> list[str]:
    favourable = result.setup.positive_outcome == "favorable"
    steps = [_investigate(f, favourable) for f in failing[:MAX_LINES]]
    if len(failing) > MAX_LINES:
        steps.append(f"… and {len(failing) - MAX_LINES:,} more blocking failures (see Findings).")
    ordered = sorted_findings(result.findings)
    warned = sorted({f.rule_id for f in ordered if f.verdict == "fail" and f not in failing})
    if warned:
        steps.append(
            f"Review the warnings of {shown([repr(r) for r in warned])}: they do not fail the "
            "audit, but show disparities to explain or accept."
        )
    small = [f.group or f.attribute or "all rows" for f in ordered if _too_small(f)]
    if small:
        min_n = result.policy.settings.get("min_group_size", "?")
        steps.append(
            f"Collect more data for {shown(sorted(set(small)))}, or lower min_group_size "
            f"({min_n}) knowingly: their findings could not be judged."
        )
    undefined = [f for f in ordered if f.verdict == "insufficient_data" and not _too_small(f)]
    if undefined:
        groups = shown(sorted({f.group or f.attribute or "all rows" for f in undefined}))
        steps.append(
            f"Check the data of {groups}: a measure is undefined there "
            f"({reason_text(undefined[0].reason)}), so the policy could not judge it."
        )
    waived = sorted(
        {(f.rule_id, f.waiver.expires) for f in ordered if f.verdict == "waived" and f.waiver}
    )
    for rule, expires in waived[:MAX_LINES]:
        steps.append(f"Confirm the waiver of rule '{rule}' is still justified before {expires}.")
    errors = [c.family for c in result.checks if c.status == "error"]
    if errors:
        steps.append(
            f"Fix the checks that could not run ({', '.join(errors)}) and run the audit again: "
            "an error is never a pass."
        )
    card = result.metadata
    if card is None:
        steps.append(
            "Supply a model card (--metadata) naming the owner, intended use, human oversight "
            "and known limitations of the model."
        )
    elif card.missing:
        steps.append(
            f"Complete the model card: {shown([m.replace('_', ' ') for m in card.missing])} "
            f"{'is' if len(card.missing) == 1 else 'are'} missing."
        )
    skipped = [s.title.lower() for s in sections if _unassessed(s)]
    if skipped:
        steps.append(
            f"Decide whether this model also needs checks of {shown(skipped)}: "
            "this audit did not assess them."
        )
    if not steps:
        steps.append(
            "Nothing to act on under this policy; audit again when the model or data change."
        )
    return steps


def _unassessed(section: SectionView) -> str:
    """Why a section says nothing: no family of it ran, or every one that ran had nothing to
    look at (the transparency families in decisions mode, which has no model)."""
    if section.not_assessed:
        return section.not_assessed.removeprefix("Not assessed in this audit: ")
    families = section.families
    if families and all(f.not_assessed for f in families):
        return " ".join(f.not_assessed for f in families)
    return ""


def _too_small(f: Finding) -> bool:
    return f.verdict == "insufficient_data" and f.reason is Reason.BELOW_MIN_GROUP_SIZE


def executive_summary(
    result: AuditRecord,
    subject: str,
    failed_lines: tuple[str, ...],
    sections: tuple[SectionView, ...],
) -> ExecutiveSummary:
    """What was audited, what failed, what was inconclusive, what was not assessed, what next."""
    ordered = sorted_findings(result.findings)
    failing = [f for f in ordered if f.verdict in ("fail", "error") and blocks(f, result.fail_on)]
    undecided: dict[str, list[Finding]] = {}
    for f in ordered:
        if f.verdict == "insufficient_data":
            undecided.setdefault(f.group or f.attribute or "all rows", []).append(f)
    inconclusive = [
        f"{group}: {shown([repr(f.rule_id) for f in found], 4)} could not be judged "
        f"({why_excluded(found[0]).removesuffix('; not judged')})."
        for group, found in undecided.items()
    ]
    if len(inconclusive) > MAX_LINES:
        rest = len(inconclusive) - MAX_LINES
        inconclusive = [*inconclusive[:MAX_LINES], f"… and {rest:,} more groups (see Findings)."]
    hidden = len(failed_lines) - MAX_LINES
    return ExecutiveSummary(
        audited=_audited(result, subject),
        failed=failed_lines[:MAX_LINES],
        failed_more=f"… and {hidden:,} more failed rules (see Findings)." if hidden > 0 else "",
        inconclusive=tuple(inconclusive),
        not_assessed=tuple(f"{s.title}: {_unassessed(s)}" for s in sections if _unassessed(s)),
        next_steps=tuple(_next_steps(result, sections, failing)),
    )
