"""Data quality by group: missing values, values the model never saw, duplicate rows.

One family, ``data_quality``: every column's missing share, overall and per group of each
sensitive attribute, with a chi-square test of whether missingness depends on the group and
Cramér's V as its effect size (a tiny p on a million rows can be a negligible effect); with
``--train-data``, audit values outside the training range or in categories training never
had; and duplicate rows.
"""

from __future__ import annotations

import numpy as np

from auditor.checks.disparities import finite_or_none
from auditor.checks.registry import ValueCheck, register_family, register_value_checks
from auditor.context import AuditContext
from auditor.results import CheckResult, ItemValue, Reason, Value
from auditor.results_governance import ColumnDrift, ColumnMissingness, DataQuality, Governance

FAMILY = "data_quality"
MISSING = "missing_share"
DEPENDENCE = "missingness_dependence"
OUT_OF_RANGE = "out_of_range_share"
UNSEEN = "unseen_category_share"
DUPLICATES = "duplicate_share"
MAX_NAMED_CATEGORIES = 20


@register_family(FAMILY)
def data_quality(ctx: AuditContext) -> CheckResult:
    """Missingness by group, drift from the training data, duplicates."""
    from auditor.governance.data_quality import duplicates, missingness_by_group

    items: dict[str, list[ItemValue]] = {MISSING: [], DEPENDENCE: []}
    missing: list[ColumnMissingness] = []
    attributes = [g for g in ctx.groupings if len(g.columns) == 1]
    for position, g in enumerate(attributes):
        m = missingness_by_group(ctx.frame, g.codes, g.n_groups, keys=g.keys)
        # By name: the result must not depend on where a column sits in the frame.
        for c in sorted(m.columns, key=lambda c: c.column):
            if position == 0:  # the overall share does not depend on the attribute
                items[MISSING].append(
                    ItemValue(
                        attribute=None, feature=c.column, value=Value(value=c.share), n=m.n_rows
                    )
                )
            if c.column in g.columns:
                continue  # a column's own missing values make its own groups: V = 1
            v = Value(
                value=finite_or_none(c.cramers_v),
                reason=None if not np.isnan(c.cramers_v) else Reason.NOT_AVAILABLE,
                note=c.test_reason or (f"p = {c.p_value:.3g}" if not np.isnan(c.p_value) else None),
            )
            if c.n_missing > 0:
                items[DEPENDENCE].append(
                    ItemValue(attribute=g.attribute, feature=c.column, value=v, n=m.n_rows)
                )
            missing.append(
                ColumnMissingness(
                    attribute=g.attribute,
                    column=c.column,
                    missing_share=float(c.share),
                    by_group={
                        k: float(c.group_share[i]) for i, k in enumerate(g.keys) if m.group_n[i] > 0
                    },
                    p_value=finite_or_none(c.p_value),
                    cramers_v=finite_or_none(c.cramers_v),
                    note=" ".join(x for x in (c.test_reason, c.note) if x) or None,
                )
            )
    dup = duplicates(ctx.frame)
    items[DUPLICATES] = [
        ItemValue(
            attribute=None,
            value=Value(value=float(dup.share), note=f"{dup.n_duplicates:,} duplicate rows"),
            n=dup.n_rows,
        )
    ]
    quality = DataQuality(
        missingness=missing,
        duplicate_rows=int(dup.n_duplicates),
        duplicate_share=float(dup.share),
    )
    if ctx.train is not None:
        quality = _with_drift(ctx, quality, items)
    if not items[DEPENDENCE]:  # no column has missing values: nothing depends on a group
        items[DEPENDENCE] = [
            ItemValue(attribute=None, value=Value(value=0.0, note="no column has missing values"))
        ]
    return CheckResult(
        family=FAMILY, status="ok", items=items, governance=Governance(quality=quality)
    )


def _with_drift(
    ctx: AuditContext, quality: DataQuality, items: dict[str, list[ItemValue]]
) -> DataQuality:
    """Values at audit time outside what the training data had."""
    from auditor.governance.data_quality import drift_against_training
    from auditor.governance.pii import scan_pii

    assert ctx.train is not None
    drift = drift_against_training(ctx.train.frame, ctx.frame)
    unseen_columns = [c.column for c in drift.columns if getattr(c, "n_unseen", 0)]
    # Unseen values are data: never name them for a column that holds personal data.
    personal = {p.column for p in scan_pii(ctx.frame[unseen_columns])} if unseen_columns else set()
    columns, out_of_range, unseen = [], [], []
    for c in sorted(drift.columns, key=lambda c: c.column):
        if c.kind == "range":
            columns.append(
                ColumnDrift(
                    column=c.column,
                    kind="numeric",
                    out_of_range_share=finite_or_none(c.share_outside),
                    below_share=finite_or_none(c.share_below),
                    above_share=finite_or_none(c.share_above),
                )
            )
            value = Value(value=finite_or_none(c.share_outside), reason=None, note=c.reason)
            if value.value is not None:
                out_of_range.append(
                    ItemValue(attribute=None, feature=c.column, value=value, n=c.n_audit)
                )
        else:
            # Named only for a few-valued column (a code list), never for free text or a
            # column holding personal data: examples are raw values of the data.
            few = c.n_train_categories <= MAX_NAMED_CATEGORIES
            examples = list(c.unseen_examples) if few and c.column not in personal else []
            columns.append(
                ColumnDrift(
                    column=c.column,
                    kind="categorical",
                    unseen_share=finite_or_none(c.share_unseen),
                    unseen_examples=examples,
                )
            )
            value = Value(value=finite_or_none(c.share_unseen), note=c.reason or c.note)
            if value.value is not None:
                unseen.append(ItemValue(attribute=None, feature=c.column, value=value, n=c.n_audit))
    items[OUT_OF_RANGE], items[UNSEEN] = out_of_range, unseen
    return quality.model_copy(
        update={
            "drift": columns,
            "columns_only_in_train": list(drift.only_in_train),
            "columns_only_in_audit": list(drift.only_in_audit),
        }
    )


_DEFINITIONS = (
    (MISSING, "Missing values in a column", "Share of rows where the column is missing.", ""),
    (
        DEPENDENCE,
        "Missingness depends on the group",
        "Cramér's V of the 2 x groups table of missing / present values of a column against "
        "the attribute's groups (0: missing equally often in every group; 1: missing in one "
        "group only); the chi-square test's p-value is in the note. A model that learns from "
        "missing values treats those groups differently.",
        "",
    ),
    (
        OUT_OF_RANGE,
        "Audit values outside the training range",
        "Share of audit rows whose value of a numeric column lies below the training minimum or "
        "above the training maximum: the model extrapolates there.",
        "needs the training data (--train-data)",
    ),
    (
        UNSEEN,
        "Audit categories unseen in training",
        "Share of audit rows whose value of a categorical column never occurs in the training "
        "data: the model has learnt nothing about them.",
        "needs the training data (--train-data)",
    ),
    (
        DUPLICATES,
        "Duplicate rows",
        "Share of rows that repeat an earlier row in every column.",
        "",
    ),
)
register_value_checks(
    FAMILY,
    tuple(
        ValueCheck(
            metric, label, definition, "the column has no values to compare", requires, exact=True
        )
        for metric, label, definition, requires in _DEFINITIONS
    ),
)
