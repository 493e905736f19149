"""Group tables of the view model: each group's rates, intervals and ratios, capped for print.

Any check family's :class:`~auditor.results.GroupTable` goes through :func:`group_table`, so a
new family's tables appear in the report without template changes. Only the first
:data:`MAX_GROUP_ROWS` groups are shown, followed by a count of the rest (all are in audit.json).
"""

from __future__ import annotations

from auditor.report.charts import Chart, rate_chart
from auditor.report.formatting import Footnotes, count, label, number, reason_text, value_cell
from auditor.report.view import (
    Cell,
    CriterionRow,
    Fact,
    GroupRowView,
    GroupTableView,
    MetricCellView,
    SummaryRow,
)
from auditor.results import GroupTable, Reason

MAX_GROUP_ROWS = 50
MAX_LIST_ITEMS = 50
MAX_GENERIC_COLUMNS = 6
TABLE_METRICS = (  # the columns of a fairness group table, in order
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "precision",
    "accuracy",
    "base_rate",
)
SCORE_METRICS = (  # threshold-free columns, shown in a second table when a score was given
    "roc_auc",
    "average_precision",
    "brier_score",
    "expected_calibration_error",
    "scoring_rate",
    "selection_rate_at_threshold",
    "top_k_share",
)
REGRESSION_METRICS = (
    "mean_prediction",
    "mean_target",
    "mean_absolute_error",
    "root_mean_squared_error",
    "r2_score",
)
REFERENCE_RULES = {"user": "chosen by the user", "largest_group": "largest group"}


def table_columns(table: GroupTable, wanted: tuple[str, ...]) -> list[str]:
    """The preferred metrics the table has; for other families, the first metrics it has."""
    keys = [k for k in wanted if any(k in row.metrics for row in table.rows)]
    if keys:
        return keys
    present: dict[str, None] = {}
    for row in table.rows:
        present.update(dict.fromkeys(row.metrics))
    return list(present)[:MAX_GENERIC_COLUMNS]


def criteria_rows(table: GroupTable, labels: dict[str, str]) -> tuple[CriterionRow, ...]:
    """The named criteria of a table, in the engine's order, with the groups they come from."""
    return tuple(
        CriterionRow(
            label=labels.get(name, label(name)),
            value=value_cell(c.value),
            groups=c.between or "",
            n=count(c.n_compared) if c.n_compared else "–",
        )
        for name, c in table.criteria.items()
    )


def tests_note(table: GroupTable) -> str:
    """How the table's p-values were made, naming the multiple-comparison correction."""
    if table.correction is None:
        return ""
    return (
        "Each group's rates are tested against the reference group's (two-sided "
        "two-proportion z test; Fisher's exact test when an expected count is below 5); the "
        f"p-values of the groups of {table.attribute} are adjusted by {table.correction}. "
        "They are in audit.json and beside the findings that compare with the reference."
    )


def group_table(
    table: GroupTable,
    anchor: str,
    wanted: tuple[str, ...],
    *,
    min_group_size: int,
    with_chart: bool,
    caption: str = "Rates",
    criteria_labels: dict[str, str] | None = None,
    extra_chart: Chart | None = None,
) -> GroupTableView:
    """Format one group table: rows (capped), disparity summaries, footnotes and chart."""
    keys = table_columns(table, wanted)
    notes = Footnotes()
    rows = []
    for row in table.rows[:MAX_GROUP_ROWS]:
        cells = []
        for key in keys:
            metric = row.metrics.get(key)
            if metric is None:
                cells.append(MetricCellView(Cell("–"), Cell("–")))
                continue
            ratio = metric.ratio_to_reference
            if row.group == table.reference or ratio.reason is Reason.IS_REFERENCE:
                ratio_cell = Cell("reference")
            else:
                ratio_cell = notes.mark(number(ratio.value, ratio.reason))
            cells.append(MetricCellView(notes.mark(value_cell(metric.value)), ratio_cell))
        is_ref = row.group == table.reference
        too_small = row.n < min_group_size
        rows.append(GroupRowView(row.group, is_ref, too_small, count(row.n), tuple(cells)))
    hidden = len(table.rows) - len(rows)
    more = (
        f"Showing the first {len(rows):,} of {len(table.rows):,} groups; "
        f"… and {hidden:,} more groups (all groups are in audit.json)."
        if hidden > 0
        else ""
    )
    summaries: list[SummaryRow] = []
    excluded: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        summary = table.summaries.get(key)
        if summary is None:
            continue
        summaries.append(
            SummaryRow(
                label(key),
                notes.mark(value_cell(summary.min_max_ratio)),
                notes.mark(value_cell(summary.max_abs_difference)),
                count(len(summary.groups_compared)),
                count(len(summary.groups_excluded)),
            )
        )
        for group, reason in summary.groups_excluded.items():
            excluded.setdefault((group, reason_text(reason)), []).append(label(key).lower())
    chart = extra_chart
    if with_chart and keys:
        chart = rate_chart(table, metric=keys[0], label=label(keys[0]), max_groups=MAX_GROUP_ROWS)
    shown_excluded = list(excluded.items())[:MAX_LIST_ITEMS]
    return GroupTableView(
        anchor=anchor,
        attribute=table.attribute,
        reference=table.reference,
        reference_rule=REFERENCE_RULES.get(table.reference_rule, table.reference_rule),
        columns=tuple(label(k) for k in keys),
        rows=tuple(rows),
        more=more,
        footnotes=notes.facts(),
        summaries=tuple(summaries),
        excluded=tuple(
            Fact(group, f"{reason} ({_which(metrics, len(summaries))})")
            for (group, reason), metrics in shown_excluded
        ),
        chart=chart,
        caption=caption,
        criteria=criteria_rows(table, criteria_labels) if criteria_labels is not None else (),
        tests=tests_note(table) if criteria_labels is not None else "",
    )


def _which(metrics: list[str], total: int) -> str:
    return "all metrics" if len(metrics) == total else ", ".join(sorted(metrics))
