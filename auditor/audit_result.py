"""``AuditResult``: the audit record with what people who work in Python need on top.

The data is :class:`auditor.results.AuditRecord` (exactly what ``audit.json`` holds); this class
adds the verdict as a bool, a tidy DataFrame, saving the report files, an inline notebook view
and an assertion for test suites. It sits above the renderers so it can call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import PrivateAttr

from auditor.report import render_notebook_html, write_reports
from auditor.results import AuditRecord, Finding, GroupTable, Value

if TYPE_CHECKING:
    import pandas as pd

FRAME_COLUMNS = (
    "check",
    "metric",
    "measure",
    "attribute",
    "group",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "reference",
    "reason",
)
_GROUP_MEASURES = ("value", "difference_to_reference", "ratio_to_reference", "ratio_to_highest")


class AuditResult(AuditRecord):
    """The result of :func:`auditor.audit`: measurements, findings and provenance.

    Examples
    --------
    >>> result = auditor.audit(frame, target="credit", pos_label=1, sensitive="sex",
    ...                        prediction="decision")            # doctest: +SKIP
    >>> result.passed, result.findings.failed().by_rule("disparate-impact")  # doctest: +SKIP
    >>> result.to_frame().pivot_table(index="group", columns="metric", values="value")
    ...                                                            # doctest: +SKIP
    """

    _saved: dict[str, Path] = PrivateAttr(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when the policy passed (verdict 'passed')."""
        return self.verdict == "passed"

    def to_frame(self) -> pd.DataFrame:
        """Every measurement as one tidy DataFrame, one row per value.

        Columns: check, metric, measure (value, difference_to_reference, ratio_to_reference,
        ratio_to_highest, min_max_ratio, max_abs_difference; for the named criteria value and
        by_group), attribute, group, value, ci_low,
        ci_high, n, reference (the group compared with), reason (why a value is undefined).
        """
        import pandas as pd

        rows: list[tuple[object, ...]] = []
        for check in self.checks:
            for table in check.tables:
                rows.extend(_table_rows(check.family, table))
            for metric, value in check.overall.items():
                rows.append(
                    _row(
                        check.family,
                        metric,
                        "value",
                        None,
                        "all rows",
                        value,
                        self.setup.rows,
                        None,
                    )
                )
        return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))

    def save(
        self, directory: str | Path, formats: Sequence[str] = ("html", "pdf", "json")
    ) -> dict[str, Path]:
        """Write the same files as ``auditor audit --out DIR`` and return their paths."""
        written = write_reports(self, Path(directory), list(formats))
        self._saved.update(written)
        return written

    def assert_passes(self) -> None:
        """Raise AssertionError naming every finding that keeps the audit from passing."""
        __tracebackhide__ = True  # pytest shows the caller's line, not this one
        if self.passed:
            return
        lines = [
            f"audit {self.verdict} against policy '{self.policy.name}' "
            f"(fails on severity >= {self.fail_on}):"
        ]
        lines += [f"  - {_describe(f)}" for f in self.blocking_findings]
        if "html" in self._saved:
            lines.append(f"report: {self._saved['html']}")
        raise AssertionError("\n".join(lines))

    def _repr_html_(self) -> str:
        return render_notebook_html(self)


def _describe(finding: Finding) -> str:
    value = "undefined" if finding.value is None else f"{finding.value:.3f}"
    where = finding.group or finding.attribute or "all rows"
    versus = f", vs {finding.compared_to}" if finding.compared_to else ""
    n = "" if finding.n is None else f", n={finding.n:,}"
    why = f" ({finding.reason})" if finding.reason else ""
    return (
        f"{finding.rule_id} [{finding.severity}] {where}: {finding.check} {finding.measure} = "
        f"{value}{why}, threshold {finding.threshold_text}{n}{versus}"
    )


def _row(
    family: str,
    metric: str,
    measure: str,
    attribute: str | None,
    group: str | None,
    value: Value,
    n: int | None,
    reference: str | None,
) -> tuple[object, ...]:
    return (
        family,
        metric,
        measure,
        attribute,
        group,
        value.value,
        value.ci_low,
        value.ci_high,
        n,
        reference,
        None if value.reason is None else value.reason.value,
    )


def _table_rows(family: str, table: GroupTable) -> list[tuple[object, ...]]:
    rows = []
    for row in table.rows:
        for metric, cell in row.metrics.items():
            compared = {
                "value": None,
                "difference_to_reference": table.reference,
                "ratio_to_reference": table.reference,
                "ratio_to_highest": table.summaries[metric].highest_group,
            }
            for measure in _GROUP_MEASURES:
                value = getattr(cell, measure)
                rows.append(
                    _row(
                        family,
                        metric,
                        measure,
                        table.attribute,
                        row.group,
                        value,
                        row.n,
                        compared[measure],
                    )
                )
    for metric, summary in table.summaries.items():
        n = summary.n_compared
        for measure in ("min_max_ratio", "max_abs_difference"):
            rows.append(
                _row(
                    family,
                    metric,
                    measure,
                    table.attribute,
                    None,
                    getattr(summary, measure),
                    n,
                    None,
                )
            )
    sizes = {row.group: row.n for row in table.rows}
    for name, criterion in table.criteria.items():
        compared_n = criterion.n_compared or None
        rows.append(
            _row(family, name, "value", table.attribute, None, criterion.value, compared_n, None)
        )
        for group, by_group in criterion.by_group.items():
            n_group = sizes.get(group)
            rows.append(
                _row(
                    family,
                    name,
                    "by_group",
                    table.attribute,
                    group,
                    by_group,
                    n_group,
                    table.reference,
                )
            )
    return rows
