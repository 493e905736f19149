"""The data-quality part of the data-governance section: missing values, drift, duplicates.

Reads :class:`~auditor.results_governance.DataQuality` and returns the display-ready
:class:`~auditor.report.governance_view.QualityView`. Only columns with missing values, and
only columns with values training never had, get rows (the others are counted); the unseen
categories shown are the record's own examples. Nothing is measured here.
"""

from __future__ import annotations

from auditor.report.formatting import count, number
from auditor.report.governance_format import (
    TRAIN_DATA,
    Judged,
    Setting,
    listing,
    p_number,
    plural,
    rows_text,
    share,
)
from auditor.report.governance_view import (
    DriftRow,
    MissingRow,
    MissingTable,
    QualityView,
)
from auditor.report.view import Fact
from auditor.results_governance import ColumnDrift, ColumnMissingness, DataQuality

MAX_COLUMNS = 30  # columns listed per table
MAX_GROUPS_LISTED = 8  # groups named in the "by group" cell
MAX_EXAMPLES = 5
MISSING_CHECKS = ("missing_share", "missingness_dependence")
DRIFT_CHECKS = ("out_of_range_share", "unseen_category_share")


def _by_group(shares: dict[str, float], attribute: str) -> str:
    prefix = f"{attribute}="
    parts = [f"{g.removeprefix(prefix)} {share(v)}" for g, v in shares.items()]
    shown = parts[:MAX_GROUPS_LISTED]
    more = len(parts) - len(shown)
    return " · ".join(shown) + (f" · and {more:,} more groups" if more > 0 else "")


def _missing_row(m: ColumnMissingness, judged: Judged) -> MissingRow:
    verdict, flagged = judged.verdict(
        ("missingness_dependence",), attribute=m.attribute, feature=m.column
    )
    return MissingRow(
        column=m.column,
        overall=share(m.missing_share),
        by_group=_by_group(m.by_group, m.attribute),
        p=p_number(m.p_value) if m.p_value is not None else "–",
        cramers_v=number(m.cramers_v).text if m.cramers_v is not None else "–",
        verdict=verdict,
        flagged=flagged,
        note=m.note or "",
    )


def _missing(q: DataQuality, judged: Judged) -> tuple[str, tuple[MissingTable, ...]]:
    with_missing = [m for m in q.missingness if m.missing_share > 0]
    columns = list(dict.fromkeys(m.column for m in q.missingness))
    if not columns:
        return "No column was checked for missing values.", ()
    if not with_missing:
        return f"No column has missing values ({plural(len(columns), 'column')} checked).", ()
    names = list(dict.fromkeys(m.column for m in with_missing))
    summary = (
        f"{count(len(names))} of {plural(len(columns), 'column')} "
        f"{'has' if len(names) == 1 else 'have'} missing values: "
        f"{listing(names)}. For each sensitive attribute, the table shows how often each "
        "column is missing in each group; the chi-square test asks whether missingness "
        "depends on the group, and Cramér's V says how strongly (0: missing equally often in "
        "every group; 1: missing in one group only). A tiny p on many rows can go with a "
        "negligible V."
    )
    tables = []
    for attribute in dict.fromkeys(m.attribute for m in with_missing):
        rows = [m for m in with_missing if m.attribute == attribute]
        shown = rows[:MAX_COLUMNS]
        more = len(rows) - len(shown)
        tables.append(
            MissingTable(
                attribute=attribute,
                rows=tuple(_missing_row(m, judged) for m in shown),
                more=f"… and {more:,} more columns (in audit.json)." if more > 0 else "",
            )
        )
    return summary, tuple(tables)


def _drift_row(d: ColumnDrift, judged: Judged) -> DriftRow:
    numeric = d.kind == "numeric"
    value = d.out_of_range_share if numeric else d.unseen_share
    checks = ("out_of_range_share",) if numeric else ("unseen_category_share",)
    verdict, flagged = judged.verdict(checks, feature=d.column)
    if numeric:
        detail = (
            f"below the training minimum {share(d.below_share)}; above the training maximum "
            f"{share(d.above_share)}"
        )
    else:
        examples = d.unseen_examples[:MAX_EXAMPLES]
        quoted = ", ".join(f"'{e}'" for e in examples)
        if len(d.unseen_examples) > len(examples):
            quoted += f" and {len(d.unseen_examples) - len(examples):,} more"
        detail = f"unseen categories: {quoted}" if quoted else "unseen categories not shown"
    return DriftRow(
        column=d.column,
        kind="numeric: outside the training range" if numeric else "categorical: unseen",
        share=number(value),
        detail=detail,
        verdict=verdict,
        flagged=flagged,
    )


def _drift(q: DataQuality, s: Setting, judged: Judged) -> tuple[str, list[DriftRow]]:
    compared = q.drift or q.columns_only_in_train or q.columns_only_in_audit
    if not compared:
        if s.train_rows is not None:
            return "The audit and training data have no column in common to compare.", []
        return (
            "Not assessed: no training data was given, so the audit cannot tell whether the "
            "audited rows hold values the model never saw in training (where it extrapolates). "
            f"Pass the training rows ({TRAIN_DATA}) to compare them.",
            [],
        )
    changed = [
        d
        for d in q.drift
        if (d.out_of_range_share if d.kind == "numeric" else d.unseen_share) != 0.0
    ]
    clean = len(q.drift) - len(changed)
    train = f" ({rows_text(s.train_rows)})" if s.train_rows is not None else ""
    summary = (
        f"{plural(len(q.drift), 'column')} of the audited data were compared with the training "
        f"data{train}: a numeric value outside the training range, or a category training "
        "never had, is a case the model has learnt nothing about. "
    )
    if not changed:
        summary += "Every audited value of every compared column was seen in training."
    else:
        summary += (
            f"{plural(len(changed), 'column')} {'holds' if len(changed) == 1 else 'hold'} such "
            "values (below); in the other "
            f"{count(clean)}, every audited value was seen in training."
        )
    return summary, [_drift_row(d, judged) for d in changed]


def quality_view(q: DataQuality, s: Setting) -> QualityView:
    """The ``data_quality`` family's missingness, drift and duplicates, formatted."""
    judged = Judged(s.findings)
    missing_summary, missing = _missing(q, judged)
    drift_summary, drift = _drift(q, s, judged)
    only = []
    if q.columns_only_in_train:
        only.append(Fact("Only in the training data", listing(q.columns_only_in_train, 30)))
    if q.columns_only_in_audit:
        only.append(Fact("Only in the audited data", listing(q.columns_only_in_audit, 30)))
    duplicates = (
        "No row repeats an earlier row in every column."
        if q.duplicate_rows == 0
        else f"{rows_text(q.duplicate_rows)} ({share(q.duplicate_share)} of the rows) repeat "
        "an earlier row in every column. Duplicates give some people more weight in every "
        "rate of the audit, and in training."
    )
    return QualityView(
        missing_summary=missing_summary,
        missing=missing,
        missing_findings=judged.notes(MISSING_CHECKS),
        drift_summary=drift_summary,
        drift_absent=not (q.drift or q.columns_only_in_train or q.columns_only_in_audit),
        drift=tuple(drift[:MAX_COLUMNS]),
        drift_more=(
            f"… and {len(drift) - MAX_COLUMNS:,} more columns (in audit.json)."
            if len(drift) > MAX_COLUMNS
            else ""
        ),
        drift_findings=judged.notes(DRIFT_CHECKS),
        only_in=tuple(only),
        duplicates=duplicates,
        duplicate_findings=judged.notes(("duplicate_share",)),
    )
