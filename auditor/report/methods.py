"""How the numbers' uncertainty was measured, in the words the methodology section prints.

Read from the audit record (the bootstrap's resamples and seed, the correction applied to
the p-values, the policy's settings), so the text describes this audit, not a default.
"""

from __future__ import annotations

from auditor.results import AuditRecord


def statistical_methods(result: AuditRecord) -> tuple[str, ...]:
    """One sentence per method the audit used for its intervals, tests and verdicts."""
    settings = result.policy.settings
    confidence = settings.get("confidence", 0.95)
    level = f"{confidence:.0%}" if isinstance(confidence, float) else str(confidence)
    lines = [
        f"Rates (shares of a group's rows) have {level} Wilson score intervals; with sample "
        "weights, the counts are replaced by Kish's effective sample size of the rows the "
        "rate is taken over (the group's actual positives for a true positive rate).",
        "Differences between a group's rate and the reference group's have Newcombe's hybrid "
        "score interval (method 10); ratios have the Katz log interval (with 0.5 added when "
        "the group has no events). Ratios to the highest group are simultaneous over the "
        "groups compared (Bonferroni), because the highest group is picked from the data.",
    ]
    fairness = next((c for c in result.checks if c.family == "fairness"), None)
    boot = fairness.bootstrap if fairness is not None else None
    if boot is not None and boot.note:
        lines.append(f"Bootstrap: {boot.note}.")
    if boot is not None and boot.resamples > 0:
        lines.append(
            "Every other value of a group (F1, balanced accuracy, threshold-free and "
            f"regression metrics, and their differences and ratios) has a "
            f"{boot.confidence:.0%} {boot.scheme}: {boot.resamples:,} resamples, seed "
            f"{boot.seed} (the same seed gives the same intervals). The score's cut-offs (its "
            "median, the policy's threshold and top k) stay those of the audited data."
        )
        lines.append(
            "Largest differences, min/max ratios and the named criteria over groups are biased "
            "away from parity in every resample (noise widens a range), so their intervals are "
            "basic (reflected) bootstrap intervals, clipped to the values they can take; any "
            "interval that would miss its own estimate is widened to include it."
        )
    else:
        lines.append(
            "The bootstrap was turned off (bootstrap_resamples: 0): values other than rates "
            "have no interval."
        )
    corrections = sorted(
        {t.correction for c in result.checks for t in c.tables if t.correction is not None}
    )
    if corrections:
        lines.append(
            "Each group's rate is tested against the reference group's: two-sided "
            "two-proportion z test (the Pearson chi-square test of the 2x2 table), or Fisher's "
            "exact test when an expected count is below 5 and the counts are whole (always "
            "the z test with unequal sample weights). Within each attribute and metric the "
            f"p-values are adjusted for the number of groups compared by {corrections[0]}."
        )
    if settings.get("require_confidence") or any(
        r.get("require_confidence") for r in result.policy.rules
    ):
        lines.append(
            "Rules that require confidence fail only when the whole interval lies beyond the "
            "threshold; a value beyond the threshold whose interval reaches it is reported as "
            "insufficient data (not a violation with the required confidence)."
        )
    else:
        lines.append(
            "A verdict compares the point value with the threshold; an interval that straddles "
            "the threshold means the data cannot tell the two sides apart."
        )
    return tuple(lines)
