"""The report's view model: plain frozen dataclasses of display-ready text for the templates."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.report.charts import Chart
from auditor.results import Definition


@dataclass(frozen=True)
class Badge:
    """A verdict as css class, symbol and word (e.g. ``fail``, ``✘``, ``fail``)."""

    css: str
    symbol: str
    word: str


@dataclass(frozen=True)
class Cell:
    """A formatted number; ``mark`` points to a footnote that gives an undefined value's reason."""

    text: str
    interval: str = ""
    reason: str = ""
    mark: str = ""
    undefined: bool = False


@dataclass(frozen=True)
class Fact:
    """One labelled line of a definition list (setup, model, provenance)."""

    label: str
    value: str
    mono: bool = False


@dataclass(frozen=True)
class FindingRow:
    """One row of the findings table."""

    rule: str
    check: str
    attribute: str
    group: str
    compared_to: str
    value: Cell
    threshold: str
    n: str
    severity: str
    verdict: Badge
    message: str
    waiver: str


@dataclass(frozen=True)
class MetricCellView:
    """A group's value of one metric and its ratio to the reference."""

    value: Cell
    ratio: Cell


@dataclass(frozen=True)
class GroupRowView:
    """One group's row of a group table."""

    group: str
    is_reference: bool
    too_small: bool
    n: str
    cells: tuple[MetricCellView, ...]


@dataclass(frozen=True)
class SummaryRow:
    """Disparities of one metric over the groups of an attribute."""

    metric: str
    min_max_ratio: Cell
    max_abs_difference: Cell
    compared: str
    excluded: str


@dataclass(frozen=True)
class GroupTableView:
    """One sensitive attribute (or intersection): rows, summaries, footnotes and chart."""

    anchor: str
    attribute: str
    reference: str
    reference_rule: str
    columns: tuple[str, ...]
    rows: tuple[GroupRowView, ...]
    more: str
    footnotes: tuple[Fact, ...]
    summaries: tuple[SummaryRow, ...]
    excluded: tuple[Fact, ...]
    chart: Chart | None


@dataclass(frozen=True)
class RuleView:
    """One policy rule as shown in the policy section."""

    id: str
    facts: tuple[Fact, ...]
    rationale: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class ReportContext:
    """Everything the report template shows, already formatted as text."""

    title: str
    subject: str
    subject_kind: str
    data_name: str
    date: str
    created_w3c: str
    verdict: Badge
    summary: str
    failed_lines: tuple[str, ...]
    policy_name: str
    policy_description: str
    setup: tuple[Fact, ...]
    model: tuple[Fact, ...]
    pickle_warning: bool
    check_errors: tuple[Fact, ...]
    findings: tuple[FindingRow, ...]
    findings_more: str
    excluded: tuple[Fact, ...]
    excluded_more: str
    performance: tuple[Fact, ...]
    group_tables: tuple[GroupTableView, ...]
    notes: tuple[str, ...]
    confidence: str
    min_group_size: int
    definitions: tuple[Definition, ...]
    policy_settings: tuple[Fact, ...]
    rules: tuple[RuleView, ...]
    provenance: tuple[Fact, ...]
    libraries: tuple[Fact, ...]
    hashes: tuple[Fact, ...]
