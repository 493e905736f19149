"""Typed results: measurements, group tables, findings and the audit result.

These are pydantic models so that ``audit.json`` round-trips exactly and its JSON Schema
(``auditor/schema/audit.schema.json``) is generated from the same classes the code uses.
Checks produce :class:`CheckResult`; the policy produces :class:`Finding`; the engine wraps
both into :class:`AuditRecord` (the data of ``audit.json``; ``auditor.AuditResult`` adds the
Python conveniences on top). Renderers read an :class:`AuditRecord` and nothing else.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field

from auditor.results_governance import Governance
from auditor.results_transparency import Explanation, ItemValue, Proxies
from auditor.results_values import REASON_TEXT as REASON_TEXT
from auditor.results_values import Reason as Reason
from auditor.results_values import Value as Value
from auditor.results_values import _Model

SCHEMA_VERSION = "1.0"


class SignificanceTest(_Model):
    """A test that the group's rate equals the reference group's (two-sided)."""

    method: str = Field(description="'two-proportion z test' or \"Fisher's exact test\"")
    statistic: float | None = None
    p_value: float
    p_adjusted: float | None = Field(
        default=None, description="p-value after the table's multiple-comparison correction"
    )


class MetricCell(_Model):
    """One metric for one group: its value and its disparities to the reference and the best.

    ``excluded`` says why the policy does not judge this group on this metric (too few rows,
    positives or negatives); its values are still shown for information.
    """

    value: Value
    difference_to_reference: Value
    ratio_to_reference: Value
    ratio_to_highest: Value
    excluded: Reason | None = None
    test: SignificanceTest | None = None


class GroupRow(_Model):
    """One group of one attribute (or intersection) with its counts and metrics."""

    group: str = Field(description="Group key, 'col=value' joined by ' & ' for intersections")
    labels: dict[str, str]
    n: int = Field(description="Rows in the group (unweighted)")
    weight_sum: float | None = None
    counts: dict[str, float] = Field(description="tp, fp, fn, tn (weighted when weights are given)")
    metrics: dict[str, MetricCell]


class Summary(_Model):
    """Disparities over all groups of an attribute that have enough data to compare."""

    min_max_ratio: Value
    max_abs_difference: Value
    groups_compared: list[str]
    groups_excluded: dict[str, Reason]
    n_compared: int = Field(default=0, description="Rows in the groups compared")
    lowest_group: str | None = None
    highest_group: str | None = None


class Criterion(_Model):
    """A named fairness criterion over one attribute (e.g. equalized odds difference).

    ``value`` is the attribute-level figure (its convention is in the check's definition);
    ``by_group`` holds each non-reference group's figure against the reference group, where
    the criterion has one (AIF360's convention: group minus, or over, the reference).
    """

    value: Value
    between: str | None = Field(default=None, description="The groups the value comes from")
    n_compared: int = 0
    by_group: dict[str, Value] = Field(default_factory=dict)
    excluded: dict[str, Reason] = Field(
        default_factory=dict, description="Groups left out of the criterion, and why"
    )


class ReliabilityBin(_Model):
    """One score bin of a group's reliability (calibration) table."""

    low: float
    high: float
    n: int
    mean_score: float | None
    fraction_positive: float | None


class GroupTable(_Model):
    """Every group of one sensitive attribute or intersection of attributes."""

    attribute: str
    columns: list[str]
    reference: str
    reference_rule: Literal["user", "largest_group"]
    rows: list[GroupRow]
    summaries: dict[str, Summary]
    criteria: dict[str, Criterion] = Field(default_factory=dict)
    correction: str | None = Field(
        default=None, description="Multiple-comparison correction applied to the p-values"
    )
    calibration: dict[str, list[ReliabilityBin]] = Field(
        default_factory=dict, description="Reliability table per group (when scores are given)"
    )


class BootstrapInfo(_Model):
    """How the bootstrap intervals were made, so that anyone can make them again."""

    resamples: int = Field(description="Resamples drawn (0: none; see note)")
    seed: int
    confidence: float
    scheme: str
    note: str | None = None


class CheckResult(_Model):
    """What one family of checks measured; ``status == 'error'`` carries the message."""

    family: str
    status: Literal["ok", "error"]
    error: str | None = None
    tables: list[GroupTable] = Field(default_factory=list)
    overall: dict[str, Value] = Field(default_factory=dict)
    items: dict[str, list[ItemValue]] = Field(
        default_factory=dict,
        description="metric -> judged values per attribute (and feature), e.g. proxy strengths",
    )
    bootstrap: BootstrapInfo | None = None
    explanation: Explanation | None = None
    proxies: Proxies | None = None
    governance: Governance | None = None


Verdict = Literal["pass", "fail", "insufficient_data", "error", "not_applicable", "waived"]
Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


def at_or_above(severity: str, fail_on: str) -> bool:
    """Whether a rule of this severity counts toward the verdict when failing on ``fail_on``."""
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[fail_on]


class WaiverInfo(_Model):
    """A waiver of the policy that matched a finding: who accepted the risk, why, until when."""

    reason: str
    owner: str
    expires: str = Field(description="ISO date; the waiver is void after it")
    expired: bool


class Finding(_Model):
    """A rule applied to one measurement: the policy's judgement.

    ``verdict == 'waived'``: the finding failed, but a waiver in force covers it; it does not
    block, and every report shows it with its waiver.
    """

    rule_id: str
    check: str
    measure: str
    attribute: str | None
    group: str | None
    feature: str | None = Field(
        default=None, description="The model feature a per-feature finding is about"
    )
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    threshold: dict[str, float]
    threshold_text: str
    compared_to: str | None = Field(
        default=None, description="The group(s) the value is measured against, if any"
    )
    n: int | None
    p_value: float | None = Field(
        default=None, description="Two-sided test of the group's rate against the reference's"
    )
    p_adjusted: float | None = Field(
        default=None, description="The p-value after the policy's multiple-comparison correction"
    )
    severity: Severity
    verdict: Verdict
    reason: Reason | None = None
    message: str
    rationale: str = ""
    references: list[str] = Field(default_factory=list)
    waiver: WaiverInfo | None = None

    def blocks(self, fail_on: str, *, inconclusive: bool = False) -> bool:
        """Whether this finding decides the verdict, the one rule every output applies.

        An error always does; a failure does at or above ``fail_on``; insufficient data does
        at or above ``fail_on`` when the audit is inconclusive (the policy blocks on it).
        """
        if self.verdict == "error":
            return True
        counted = at_or_above(self.severity, fail_on)
        if self.verdict == "fail":
            return counted
        return inconclusive and self.verdict == "insufficient_data" and counted


class FindingList(list[Finding]):
    """The findings of an audit, filterable: ``result.findings.failed().by_rule("x")``."""

    def failed(self) -> FindingList:
        """Findings that failed their rule or could not be evaluated (any severity)."""
        return FindingList(f for f in self if f.verdict in ("fail", "error"))

    def insufficient(self) -> FindingList:
        """Findings not judged for lack of data."""
        return FindingList(f for f in self if f.verdict == "insufficient_data")

    def by_rule(self, rule_id: str) -> FindingList:
        """Findings of one rule of the policy."""
        return FindingList(f for f in self if f.rule_id == rule_id)

    def by_severity(self, severity: Severity) -> FindingList:
        """Findings of rules at one severity."""
        return FindingList(f for f in self if f.severity == severity)

    def by_attribute(self, attribute: str) -> FindingList:
        """Findings about the groups of one attribute (or intersection, 'sex & race')."""
        return FindingList(f for f in self if f.attribute == attribute)


class ModelInfo(_Model):
    path: str | None
    format: str
    class_name: str
    pickle_loaded: bool = False
    threshold: float | None = None
    features: list[str] = Field(default_factory=list)
    params: dict[str, str] = Field(
        default_factory=dict, description="The estimator's parameters (get_params), as text"
    )
    params_sha256: str | None = Field(
        default=None, description="SHA-256 of the parameters, for in-memory models"
    )


class EngineInfo(_Model):
    """Where the rows were read and aggregated: in memory, DuckDB or Spark."""

    name: Literal["memory", "duckdb", "spark"]
    detail: str = Field(description="Limits and source, as the engine describes itself")
    cells: int | None = Field(
        default=None, description="Distinct cells the engine aggregated the rows into"
    )
    sample_rows: int | None = Field(
        default=None,
        description="Rows of the stratified sample the engine drew for explanations",
    )
    uniform_sample_rows: int | None = Field(
        default=None,
        description="Rows of its uniform part (proxies, the personal-data scan)",
    )
    not_measured: list[str] = Field(
        default_factory=list,
        description="Check families that need row-level data and did not run on this engine",
    )


class AuditSetup(_Model):
    """What was audited and how the labels are read."""

    mode: Literal["model", "decisions"]
    task: Literal["classification", "regression"] = "classification"
    data_path: str | None
    rows: int
    target: str
    prediction: str | None
    score: str | None
    weight: str | None
    sensitive: list[str]
    pos_label: str | None = Field(description="None in a regression audit")
    other_label: str | None
    positive_outcome: Literal["favorable", "adverse"] = Field(
        description="Classification: what the positive label means for the person; "
        "regression: what a higher predicted value means"
    )
    missing_as_group: bool
    model: ModelInfo | None = None
    ignored_columns: list[str] = Field(default_factory=list)
    engine: EngineInfo | None = Field(
        default=None, description="Which engine aggregated the rows (None: an older audit)"
    )


class PolicySummary(_Model):
    name: str
    description: str
    source: str
    settings: dict[str, float | int | bool | str]
    rules: list[dict[str, object]]
    waivers: list[dict[str, object]] = Field(default_factory=list)


class Provenance(_Model):
    created: str
    tool_version: str
    python: str
    libraries: dict[str, str]
    sha256: dict[str, str]
    command: list[str]
    seed: int


class ModelCardFields(_Model):
    """The fields of a model card, in the order every report lists them."""

    name: str | None = None
    version: str | None = None
    owner: str | None = None
    contact: str | None = None
    intended_use: str | None = None
    intended_users: list[str] = Field(default_factory=list)
    out_of_scope_uses: list[str] = Field(default_factory=list)
    human_oversight: str | None = None
    known_limitations: list[str] = Field(default_factory=list)
    affected_groups: list[str] = Field(default_factory=list)
    societal_impact: str | None = None
    review_date: str | None = None


class ModelCard(ModelCardFields):
    """The model card (``--metadata``): who answers for the model and what it is for.

    ``missing`` lists the required fields the file left empty; the accountability check
    measures completeness from it and the policy judges it.
    """

    source: str | None = None
    missing: list[str] = Field(default_factory=list)


class Definition(_Model):
    """What a measured quantity means, carried in the result so every report says the same."""

    check: str
    label: str
    definition: str
    undefined_when: str


class AuditRecord(_Model):
    """The whole audit: the one object every report format is rendered from."""

    schema_version: str = SCHEMA_VERSION
    verdict: Literal["passed", "failed", "inconclusive"]
    fail_on: Severity
    setup: AuditSetup
    policy: PolicySummary
    checks: list[CheckResult]
    findings: Annotated[list[Finding], AfterValidator(FindingList)]
    notes: list[str]
    metadata: ModelCard | None = None
    definitions: list[Definition] = Field(default_factory=list)
    provenance: Provenance

    @property
    def blocking_findings(self) -> FindingList:
        """The findings that decide the verdict (see :meth:`Finding.blocks`)."""
        inconclusive = self.verdict == "inconclusive"
        return FindingList(
            f for f in self.findings if f.blocks(self.fail_on, inconclusive=inconclusive)
        )

    def check(self, family: str) -> CheckResult:
        """The results of one family of checks ('fairness', 'performance', 'accountability')."""
        for result in self.checks:
            if result.family == family:
                return result
        ran = ", ".join(r.family for r in self.checks)
        raise KeyError(f"no check family '{family}' in this audit (it ran: {ran})")

    def to_json(self) -> str:
        """Serialise in field order, so the same audit gives the same bytes and a round trip
        through audit.json keeps every mapping in its order."""
        import json

        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.model_validate_json(text)
