"""Typed results of the data-governance half of an audit: representativeness, data quality
and privacy. Part of ``audit.json`` (imported by :mod:`auditor.results`).

No raw value of the data appears here except category labels of columns the audit names
(unseen categories, capped and truncated) and masked PII examples.
"""

from __future__ import annotations

from pydantic import Field

from auditor.results_values import Value, _Model


class GroupShare(_Model):
    """One group's share of the rows, against the population's where a reference is given."""

    group: str
    n: int
    observed: Value = Field(description="Share of rows (weighted), Wilson interval")
    expected: float | None = None
    ratio: Value | None = Field(default=None, description="observed / expected")


class Representation(_Model):
    """The groups of one attribute (or intersection) and how they compare to a population."""

    attribute: str
    groups: list[GroupShare]
    reference_source: str | None = None
    chi_square: float | None = None
    dof: int | None = None
    p_value: float | None = None
    total_variation: Value | None = Field(default=None, description="0.5 * sum |obs - exp|")
    below_min_group_size: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class BaseRate(_Model):
    group: str
    n: int
    rate: Value


class GroupShift(_Model):
    """A group's share and base rate in the training data against the audit data."""

    group: str
    train_share: float | None
    audit_share: float | None
    share_difference: Value = Field(description="audit share - train share")
    train_base_rate: float | None = None
    audit_base_rate: float | None = None
    base_rate_difference: Value | None = None


class AttributeBalance(_Model):
    """Label balance of one attribute's groups, and its shift from the training data."""

    attribute: str
    base_rates: list[BaseRate]
    shift: list[GroupShift] = Field(default_factory=list)
    shift_p_value: float | None = Field(
        default=None, description="Chi-square test that group shares are the same in both"
    )
    shift_total_variation: float | None = None


class ColumnMissingness(_Model):
    attribute: str = Field(description="The attribute whose groups are compared")
    column: str
    missing_share: float
    by_group: dict[str, float] = Field(description="group -> missing share")
    p_value: float | None = Field(description="Chi-square test: missingness independent of group")
    cramers_v: float | None = None
    note: str | None = None


class ColumnDrift(_Model):
    """Values at audit time the training data never had."""

    column: str
    kind: str = Field(description="'numeric' or 'categorical'")
    out_of_range_share: float | None = None
    below_share: float | None = None
    above_share: float | None = None
    unseen_share: float | None = None
    unseen_examples: list[str] = Field(default_factory=list)


class DataQuality(_Model):
    missingness: list[ColumnMissingness]
    drift: list[ColumnDrift] = Field(default_factory=list)
    columns_only_in_train: list[str] = Field(default_factory=list)
    columns_only_in_audit: list[str] = Field(default_factory=list)
    duplicate_rows: int
    duplicate_share: float


class PiiFinding(_Model):
    column: str
    kind: str
    by_name: bool
    share: float | None
    matches: int
    checked: int
    example: str | None = Field(description="Masked; never the raw value")
    used_as_feature: bool = False
    note: str | None = None


class AnonymityResult(_Model):
    quasi_identifiers: list[str]
    rows: int
    classes: int
    smallest_class: int
    k: int
    rows_below_k: int
    share_below_k: float
    sensitive: str | None = None
    l_diversity: int | None = None
    entropy_l: float | None = None
    l: int | None = None  # noqa: E741 (the l of l-diversity)
    rows_below_l: int | None = None
    share_below_l: float | None = None
    class_sizes: dict[str, int] = Field(default_factory=dict)


class MembershipResult(_Model):
    auc: Value
    advantage: float
    members: int
    non_members: int
    signal: str
    notes: list[str] = Field(default_factory=list)


class Privacy(_Model):
    pii: list[PiiFinding]
    rows_scanned: int
    anonymity: AnonymityResult | None = None
    membership: MembershipResult | None = None
    notes: list[str] = Field(default_factory=list)


class Governance(_Model):
    """Everything the data-governance families measured (each family fills its part)."""

    representation: list[Representation] = Field(default_factory=list)
    balance: list[AttributeBalance] = Field(default_factory=list)
    quality: DataQuality | None = None
    privacy: Privacy | None = None
    train_rows: int | None = None
    notes: list[str] = Field(default_factory=list)
