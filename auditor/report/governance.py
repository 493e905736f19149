"""The data-governance section's content: representation, data quality and privacy.

Reads :class:`~auditor.results_governance.Governance` from each family's check and turns it
into the display-ready text of :mod:`auditor.report.governance_view` (data quality in
:mod:`auditor.report.governance_quality`, privacy in :mod:`auditor.report.governance_privacy`):
sorted, capped, formatted, and worded for a reviewer who reads only the PDF. Nothing is
measured or judged here: every number is the record's, every verdict a finding's. Where a part
was not assessed, the text says which input would enable it.
"""

from __future__ import annotations

from auditor.report.formatting import cell_text, count, value_cell
from auditor.report.governance_charts import share_chart
from auditor.report.governance_format import (
    TRAIN_DATA,
    Judged,
    Setting,
    listing,
    p_value,
    plural,
    share,
)
from auditor.report.governance_privacy import privacy_view
from auditor.report.governance_quality import quality_view
from auditor.report.governance_view import (
    BalanceView,
    GovernanceView,
    RateRow,
    RepresentationPart,
    RepresentationView,
    ShareRow,
    ShiftRow,
)
from auditor.report.group_tables import MAX_GROUP_ROWS
from auditor.report.view import Cell
from auditor.results import CheckResult
from auditor.results_governance import AttributeBalance, Governance, Representation

MAX_ATTRIBUTES = 10  # attributes and intersections shown in detail
RATIO = ("representation_ratio",)
SHARE_CHECKS = ("representation_ratio", "total_variation")
SHIFT_CHECKS = ("share_shift", "base_rate_shift")


def _more(shown: int, total: int, what: str = "groups") -> str:
    if total <= shown:
        return ""
    return (
        f"Showing the first {shown:,} of {total:,} {what}; … and {total - shown:,} more "
        "(all are in audit.json)."
    )


def _cell(cell: Cell) -> Cell:
    """The cell with "-0.000" shown as "0.000" (a difference that rounds to nothing)."""
    text = "0.000" if cell.text == "-0.000" else cell.text
    interval = cell.interval.replace("-0.000", "0.000")
    return Cell(text, interval, cell.reason, undefined=cell.undefined)


def _share_view(
    rep: Representation, anchor: str, judged: Judged, s: Setting, with_charts: bool
) -> RepresentationView:
    reference = any(g.expected is not None for g in rep.groups)
    small = set(rep.below_min_group_size)
    rows = []
    for g in rep.groups[:MAX_GROUP_ROWS]:
        verdict, flagged = judged.verdict(RATIO, attribute=rep.attribute, group=g.group)
        worst = judged.worst(RATIO, attribute=rep.attribute, group=g.group)
        side = ""  # which bound of the rule's threshold the group missed
        if flagged and worst is not None and "min" in worst.threshold:
            side = "under-represented"
        elif flagged and worst is not None and "max" in worst.threshold:
            side = "over-represented"
        rows.append(
            ShareRow(
                group=g.group,
                n=count(g.n),
                observed=_cell(value_cell(g.observed)),
                expected=share(g.expected) if reference else "",
                ratio=_cell(value_cell(g.ratio)) if g.ratio is not None else None,
                verdict=verdict,
                flagged=flagged,
                side=side,
                too_small=g.group in small,
            )
        )
    test = ""
    if reference:
        if rep.chi_square is None:
            test = "The chi-square test of the shares against the population could not be made."
        else:
            dof = "" if rep.dof is None else f", {plural(rep.dof, 'degree')} of freedom"
            test = (
                f"Chi-square test of the shares against the population: χ² = "
                f"{rep.chi_square:.3f}{dof}, {p_value(rep.p_value)}. A small p says the data's "
                "shares are unlikely to be a random sample of this population."
            )
    small_text = ""
    if rep.below_min_group_size:
        small_text = (
            f"Too few rows to judge (fewer than {s.min_group_size:,}): "
            f"{listing(rep.below_min_group_size)}."
        )
    return RepresentationView(
        attribute=rep.attribute,
        anchor=anchor,
        reference=reference,
        source=rep.reference_source or ("not named in the policy" if reference else ""),
        rows=tuple(rows),
        more=_more(len(rows), len(rep.groups)),
        chart=share_chart(rep) if with_charts and reference else None,
        test=test,
        distance=cell_text(rep.total_variation) if rep.total_variation is not None else "",
        small=small_text,
        findings=judged.notes(SHARE_CHECKS, attribute=rep.attribute),
        notes=tuple(rep.notes),
    )


def _balance_view(b: AttributeBalance, judged: Judged) -> BalanceView:
    rates = tuple(
        RateRow(r.group, count(r.n), _cell(value_cell(r.rate)))
        for r in b.base_rates[:MAX_GROUP_ROWS]
    )
    shift = []
    for x in b.shift[:MAX_GROUP_ROWS]:
        verdict, flagged = judged.verdict(SHIFT_CHECKS, attribute=b.attribute, group=x.group)
        rate = x.base_rate_difference
        shift.append(
            ShiftRow(
                group=x.group,
                train_share=share(x.train_share),
                audit_share=share(x.audit_share),
                share_difference=_cell(value_cell(x.share_difference)),
                train_rate=share(x.train_base_rate) if rate is not None else "–",
                audit_rate=share(x.audit_base_rate) if rate is not None else "–",
                rate_difference=_cell(value_cell(rate)) if rate is not None else Cell("–"),
                verdict=verdict,
                flagged=flagged,
            )
        )
    test = ""
    if b.shift:
        tvd = share(b.shift_total_variation)
        test = (
            f"Are the groups' shares the same in the training and the audit data? Chi-square "
            f"test of homogeneity: {p_value(b.shift_p_value)} (a small p says the shares "
            f"differ); total variation distance {tvd} (the share of rows that would have to "
            "change group for the two to match)."
        )
    return BalanceView(
        attribute=b.attribute,
        rates=rates,
        rates_more=_more(len(rates), len(b.base_rates)),
        shift=tuple(shift),
        shift_more=_more(len(shift), len(b.shift)),
        shift_test=test,
        findings=judged.notes(SHIFT_CHECKS, attribute=b.attribute),
    )


def representation_part(g: Governance, s: Setting, *, with_charts: bool) -> RepresentationPart:
    """The ``representation`` family's shares, base rates and shift, formatted for the report."""
    judged = Judged(s.findings)
    shown = g.representation[:MAX_ATTRIBUTES]
    views = tuple(
        _share_view(rep, f"representation-{i}", judged, s, with_charts)
        for i, rep in enumerate(shown, start=1)
    )
    without = [v.attribute for v in views if not v.reference]
    absent = ""
    if without:
        absent = (
            f"Not compared with a population: the policy gives no population shares for "
            f"{listing(without)}, so only the groups' sizes and shares are shown. Add population "
            "shares to the policy (population: with each group's share and its source, e.g. "
            "census or applicant-pool figures) to test whether the data represent the people "
            "affected."
        )
    balance = tuple(_balance_view(b, judged) for b in g.balance[:MAX_ATTRIBUTES])
    has_shift = any(b.shift for b in g.balance)
    train_absent = ""
    if not has_shift:
        train_absent = (
            "Shift from the training data: not assessed, because no training data was given. "
            f"Pass the rows the model was trained on ({TRAIN_DATA}) to compare each group's "
            "share and base rate in training with the audited data."
        )
    rates = any(b.base_rates for b in g.balance)
    return RepresentationPart(
        intro=(
            f"Each group's share of the audited rows, with its {s.confidence} interval (Wilson). "
            "With population shares from the policy, the ratio observed ÷ expected shows whether "
            "a group is under-represented (below 1: fewer of its members than in the population)."
        ),
        reference_absent=absent,
        attributes=views,
        attributes_more=_more(len(views), len(g.representation), "attributes or intersections"),
        balance_intro=(
            "The base rate is the share of a group's rows with the positive label in the data. "
            "Groups with very different base rates give the model different things to learn."
            if rates
            else "No base rates were recorded: they are measured in classification audits."
        ),
        balance=balance,
        train_absent=train_absent,
        notes=tuple(g.notes),
    )


def governance_view(check: CheckResult, s: Setting, *, with_charts: bool) -> GovernanceView | None:
    """The data-governance content of one ``representation``, ``data_quality`` or ``privacy``
    check, or None for any other check (or one without governance results)."""
    g = check.governance
    if check.status == "error" or g is None:
        return None
    if check.family == "representation":
        return GovernanceView(representation=representation_part(g, s, with_charts=with_charts))
    if check.family == "data_quality" and g.quality is not None:
        return GovernanceView(quality=quality_view(g.quality, s))
    if check.family == "privacy" and g.privacy is not None:
        return GovernanceView(privacy=privacy_view(g.privacy, s))
    return None
