"""The view model of the transparency section: explanations and proxies as display-ready text.

Frozen dataclasses only, filled by :mod:`auditor.report.transparency` from the record and laid
out by ``templates/_transparency.html.j2``. Numbers arrive formatted; nothing here computes.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.report.charts import Chart
from auditor.report.view import Cell, Fact


@dataclass(frozen=True)
class ImportanceRow:
    """One feature of the global importance table."""

    feature: str
    mean_abs: Cell
    mean: Cell
    direction: str


@dataclass(frozen=True)
class DisparityRow:
    """How differently one feature drives the model for the groups of an attribute."""

    feature: str
    gap: Cell
    high: str  # the group with the largest mean SHAP
    low: str  # ... and the smallest


@dataclass(frozen=True)
class TermRow:
    """One feature's share of the gap in mean output between two groups."""

    feature: str
    difference: Cell
    other: bool = False  # the line that sums the features not listed


@dataclass(frozen=True)
class GapView:
    """The gap in mean output between a group and the reference, split over the features."""

    sentence: str
    terms: tuple[TermRow, ...]
    check: str
    chart: Chart | None


@dataclass(frozen=True)
class AttributeView:
    """Per-group importance, explanation disparity and gap attribution of one attribute."""

    attribute: str
    groups: str  # which groups are compared (and which are not drawn or left out)
    chart: Chart | None
    disparity: tuple[DisparityRow, ...]
    disparity_more: str
    gap: GapView | None


@dataclass(frozen=True)
class AdverseRow:
    """One of the most adverse outputs and its principal reasons (no feature values)."""

    rank: str
    output: str
    reasons: str


@dataclass(frozen=True)
class ExplanationView:
    """What was explained and how, and what the explanation says (the ``explain`` family)."""

    facts: tuple[Fact, ...]
    scale: str  # how to read the numbers: what adds up to what
    sample: str  # the sentence on rows explained
    sample_caption: str
    sample_rows: tuple[Fact, ...]  # rows explained by group of the finest grouping
    sample_more: str
    additivity: str
    additivity_warning: str
    sensitive_warning: str
    notes: tuple[str, ...]
    importance_chart: Chart | None
    importance: tuple[ImportanceRow, ...]
    importance_more: str
    attributes: tuple[AttributeView, ...]
    attributes_more: str
    adverse_intro: str
    adverse: tuple[AdverseRow, ...]
    adverse_more: str


@dataclass(frozen=True)
class AssociationRow:
    """How strongly one feature is tied to one sensitive attribute."""

    feature: str
    attribute: str
    strength: str
    measure: str
    near_copy: bool


@dataclass(frozen=True)
class PredictabilityRow:
    """How well the features together predict one sensitive attribute."""

    attribute: str
    auc: Cell
    n: str
    classes: str
    mark: str  # the footnote letter of the model that predicted it


@dataclass(frozen=True)
class ProxiesView:
    """Which features stand in for a sensitive attribute (the ``proxies`` family)."""

    intro: str
    near_copies: tuple[str, ...]
    associations: tuple[AssociationRow, ...]
    associations_more: str
    predictability: tuple[PredictabilityRow, ...]
    models: tuple[Fact, ...]  # footnotes: letter -> model description
    notes: tuple[str, ...]
