"""The view model of the data-governance section: representation, data quality and privacy.

Frozen dataclasses only, filled by :mod:`auditor.report.governance` (and its
``governance_quality`` / ``governance_privacy`` parts) from the record and laid out by
``templates/_governance.html.j2``. Numbers arrive formatted; nothing here computes.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.report.charts import Chart
from auditor.report.view import Badge, Cell, Fact


@dataclass(frozen=True)
class PolicyNote:
    """One finding of the policy on the numbers of a table: verdict, rule, subject, value."""

    verdict: Badge
    rule: str
    subject: str
    value: str
    threshold: str


@dataclass(frozen=True)
class ShareRow:
    """One group's share of the rows, against the population's when a reference is given."""

    group: str
    n: str
    observed: Cell
    expected: str = ""
    ratio: Cell | None = None
    verdict: Badge | None = None  # the policy's, when it judged this group and it did not pass
    flagged: bool = False  # a finding on this group failed (or was waived)
    side: str = ""  # "under-represented" for a failed minimum, "over-represented" for a maximum
    too_small: bool = False  # the record lists the group below the minimum group size


@dataclass(frozen=True)
class RepresentationView:
    """Who is in the data, for one attribute or intersection."""

    attribute: str
    anchor: str
    reference: bool  # compared with population shares
    source: str
    rows: tuple[ShareRow, ...]
    more: str
    chart: Chart | None
    test: str  # chi-square goodness of fit, in words
    distance: str  # total variation distance [interval]
    small: str  # the groups below the minimum group size
    findings: tuple[PolicyNote, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class RateRow:
    """One group's base rate."""

    group: str
    n: str
    rate: Cell


@dataclass(frozen=True)
class ShiftRow:
    """One group's share and base rate in the training data against the audit data."""

    group: str
    train_share: str
    audit_share: str
    share_difference: Cell
    train_rate: str
    audit_rate: str
    rate_difference: Cell
    verdict: Badge | None = None
    flagged: bool = False


@dataclass(frozen=True)
class BalanceView:
    """Label balance of one attribute and, with training data, its shift."""

    attribute: str
    rates: tuple[RateRow, ...]
    rates_more: str
    shift: tuple[ShiftRow, ...]
    shift_more: str
    shift_test: str  # homogeneity p-value and total variation distance, in words
    findings: tuple[PolicyNote, ...]


@dataclass(frozen=True)
class RepresentationPart:
    """The ``representation`` family: shares against the population, base rates, shift."""

    intro: str
    reference_absent: str  # which attributes had no population shares, and how to add them
    attributes: tuple[RepresentationView, ...]
    attributes_more: str
    balance_intro: str
    balance: tuple[BalanceView, ...]
    train_absent: str  # the shift was not assessed: no training data
    notes: tuple[str, ...]


@dataclass(frozen=True)
class MissingRow:
    """How often one column is missing, overall and by group of one attribute."""

    column: str
    overall: str
    by_group: str
    p: str
    cramers_v: str
    verdict: Badge | None = None
    flagged: bool = False
    note: str = ""


@dataclass(frozen=True)
class MissingTable:
    """Missingness by group of one attribute."""

    attribute: str
    rows: tuple[MissingRow, ...]
    more: str


@dataclass(frozen=True)
class DriftRow:
    """Audit values of one column that training never had."""

    column: str
    kind: str
    share: Cell
    detail: str
    verdict: Badge | None = None
    flagged: bool = False


@dataclass(frozen=True)
class QualityView:
    """The ``data_quality`` family: missing values, drift from training, duplicates."""

    missing_summary: str
    missing: tuple[MissingTable, ...]
    missing_findings: tuple[PolicyNote, ...]
    drift_summary: str  # what was compared, or why not
    drift_absent: bool  # not assessed: no training data
    drift: tuple[DriftRow, ...]
    drift_more: str
    drift_findings: tuple[PolicyNote, ...]
    only_in: tuple[Fact, ...]  # columns only in the training or the audit data
    duplicates: str
    duplicate_findings: tuple[PolicyNote, ...]


@dataclass(frozen=True)
class PiiRow:
    """One kind of personal data found in one column (masked example only)."""

    column: str
    kind: str
    found_by: str
    share: str
    example: str
    feature: bool
    verdict: Badge | None = None
    mark: str = ""  # footnote letter of the scan's note


@dataclass(frozen=True)
class SizeRow:
    """How many equivalence classes have a given size."""

    size: str
    classes: str
    below_k: bool


@dataclass(frozen=True)
class AnonymityView:
    """k-anonymity and l-diversity over the policy's quasi-identifiers."""

    intro: str
    facts: tuple[Fact, ...]
    sizes: tuple[SizeRow, ...]
    l_facts: tuple[Fact, ...]
    l_absent: str


@dataclass(frozen=True)
class MembershipView:
    """The membership-inference attack and what its AUC means."""

    facts: tuple[Fact, ...]
    meaning: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class PrivacyView:
    """The ``privacy`` family: personal data, re-identification, membership inference."""

    pii_intro: str
    pii: tuple[PiiRow, ...]
    pii_more: str
    pii_notes: tuple[Fact, ...]  # footnotes: letter -> the scan's note
    pii_features: str  # warning: personal-data columns the model uses
    pii_findings: tuple[PolicyNote, ...]
    anonymity: AnonymityView | None
    anonymity_absent: str
    anonymity_findings: tuple[PolicyNote, ...]
    membership: MembershipView | None
    membership_absent: str
    membership_findings: tuple[PolicyNote, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class GovernanceView:
    """What one data-governance family measured: exactly one part is set."""

    representation: RepresentationPart | None = None
    quality: QualityView | None = None
    privacy: PrivacyView | None = None
