"""The report's view model: plain frozen dataclasses of display-ready text for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.report.charts import Chart
from auditor.results import Definition

if TYPE_CHECKING:  # the transparency and governance views build on the cells and facts here
    from auditor.report.governance_view import GovernanceView
    from auditor.report.transparency_view import ExplanationView, ProxiesView


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
    link: str
    subject: str  # what the row is about: its group, all groups of its attribute, or all rows
    p: str = ""  # the test against the reference group, when the finding has one


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
class CriterionRow:
    """A named fairness criterion of one attribute."""

    label: str
    value: Cell
    groups: str
    n: str


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
    caption: str = "Rates"
    criteria: tuple[CriterionRow, ...] = ()
    tests: str = ""  # how the p-values were made, when the table has any


@dataclass(frozen=True)
class RuleView:
    """One policy rule as shown in the policy section."""

    id: str
    facts: tuple[Fact, ...]
    rationale: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class FamilyView:
    """The results of one check family, shown generically: its group tables and overall facts."""

    family: str
    title: str
    anchor: str
    error: str
    tables: tuple[GroupTableView, ...]
    overall: tuple[Fact, ...]
    findings: str
    explanation: ExplanationView | None = None  # the explain family's explanation
    proxies: ProxiesView | None = None  # the proxies family's associations
    governance: GovernanceView | None = None  # representation, data quality or privacy
    not_assessed: str = ""  # why a family that ran has nothing to show (e.g. no model)


@dataclass(frozen=True)
class SectionView:
    """One concern of the report (bias, transparency, ...) and the check families under it."""

    key: str
    title: str
    anchor: str
    intro: str
    families: tuple[FamilyView, ...]
    not_assessed: str


@dataclass(frozen=True)
class CardField:
    """One field of the model card; ``missing`` when the card left a required field empty."""

    label: str
    value: str
    missing: bool


@dataclass(frozen=True)
class ModelCardView:
    """The model card as shown under Ethics and accountability (``supplied`` False: a gap)."""

    supplied: bool
    fields: tuple[CardField, ...]
    missing: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class RegulationView:
    """One regulation of the informational mapping and what this audit says about it."""

    name: str
    citation: str
    asks: str
    speaks_to: str
    addressed: Badge
    by: str


@dataclass(frozen=True)
class WaiverView:
    """A waiver of the policy: what it covers, who owns it, until when."""

    rule: str
    group: str
    owner: str
    reason: str
    expires: str
    state: Badge


@dataclass(frozen=True)
class TocEntry:
    """A line of the table of contents (``level`` 2 for sections, 3 for sub-sections)."""

    title: str
    anchor: str
    level: int = 2


@dataclass(frozen=True)
class ExecutiveSummary:
    """The one-page plain-language summary: what was audited, failed, undecided, what next."""

    audited: str
    failed: tuple[str, ...]
    failed_more: str
    inconclusive: tuple[str, ...]
    not_assessed: tuple[str, ...]
    next_steps: tuple[str, ...]


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
    executive: ExecutiveSummary
    toc: tuple[TocEntry, ...]
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
    sections: tuple[SectionView, ...]
    model_card: ModelCardView
    regulations: tuple[RegulationView, ...]
    notes: tuple[str, ...]
    confidence: str
    statistics: tuple[str, ...]
    min_group_size: int
    definitions: tuple[Definition, ...]
    policy_settings: tuple[Fact, ...]
    rules: tuple[RuleView, ...]
    waivers: tuple[WaiverView, ...]
    provenance: tuple[Fact, ...]
    libraries: tuple[Fact, ...]
    hashes: tuple[Fact, ...]

    @property
    def group_tables(self) -> tuple[GroupTableView, ...]:
        """Every group table of every section, in the order the report shows them."""
        return tuple(t for s in self.sections for f in s.families for t in f.tables)
