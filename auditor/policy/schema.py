"""The policy file's schema: strict pydantic models (unknown keys, NaN and inf are errors)."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from auditor.checks import CHECKS

API_VERSION: Final = "auditor/v1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Threshold(_Strict):
    """Bounds a measure must stay within: ``min`` <= x, x <= ``max``, |x| <= ``max_abs``."""

    min: float | None = None
    max: float | None = None
    max_abs: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _at_least_one(self) -> Threshold:
        if self.min is None and self.max is None and self.max_abs is None:
            raise ValueError("a threshold needs at least one of min, max, max_abs")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def violated_by(self, x: float) -> bool:
        """True when ``x`` is outside the bounds."""
        return (
            (self.min is not None and x < self.min)
            or (self.max is not None and x > self.max)
            or (self.max_abs is not None and abs(x) > self.max_abs)
        )

    def as_text(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"≥ {self.min:g}")
        if self.max is not None:
            parts.append(f"≤ {self.max:g}")
        if self.max_abs is not None:
            parts.append(f"|x| ≤ {self.max_abs:g}")
        return " and ".join(parts)

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Rule(_Strict):
    """One judgement: a check's measure against a threshold, at a severity."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    check: str
    measure: str = "value"
    threshold: Threshold
    severity: Literal["error", "warning", "info"] = "error"
    attributes: list[str] | None = Field(
        default=None, description="Restrict the rule to these attributes (default: all)"
    )
    require_confidence: bool | None = Field(
        default=None,
        description="Fail only when the whole confidence interval lies beyond the threshold "
        "(default: the policy's require_confidence setting)",
    )
    optional: bool = Field(
        default=False,
        description="Not applicable (instead of an error) when the audit cannot measure the "
        "check, e.g. a score-based rule on decisions without scores",
    )
    rationale: str = ""
    references: list[str] = Field(default_factory=list)

    @field_validator("check")
    @classmethod
    def _known_check(cls, name: str) -> str:
        if name not in CHECKS:
            close = difflib.get_close_matches(name, list(CHECKS), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"unknown check '{name}'.{hint} See `auditor policy show`.")
        return name

    @model_validator(mode="after")
    def _known_measure(self) -> Rule:
        allowed = CHECKS[self.check].measures
        if self.measure not in allowed:
            raise ValueError(
                f"check '{self.check}' has no measure '{self.measure}'; it has {list(allowed)}"
            )
        return self


class Waiver(_Strict):
    """An accepted risk: a rule (for one group, or all of them) waived until a date.

    A waived finding does not block while the waiver is in force and is shown, marked as
    waived, in every report. After ``expires`` the waiver itself fails the audit, so that
    nobody forgets it.
    """

    rule: str = Field(min_length=1)
    group: str | None = Field(
        default=None,
        description="Group key ('sex=female', 'sex=female & age=young') or attribute name for "
        "rules over all groups; omitted: every group of the rule",
    )
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: date


class Settings(_Strict):
    """Settings that apply to every rule of the policy."""

    min_group_size: int = Field(default=30, ge=1)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    positive_outcome: Literal["favorable", "adverse"] | None = None
    inconclusive_blocks: bool = False
    max_groups: int = Field(default=100, ge=2)
    min_positives: int = Field(
        default=10, ge=0, description="Fewest actual positives for rates among positives"
    )
    min_negatives: int = Field(
        default=10, ge=0, description="Fewest actual negatives for rates among negatives"
    )
    bootstrap_resamples: int = Field(
        default=1000, ge=0, le=100_000, description="0 turns the bootstrap intervals off"
    )
    multiple_comparisons: Literal["holm", "bonferroni", "fdr_bh", "none"] = "holm"
    require_confidence: bool = False
    score_threshold: float | None = Field(
        default=None, description="Score at or above which a row counts as selected"
    )
    top_k: int | None = Field(
        default=None, ge=1, description="Rows selected from the top of the score ranking"
    )
    explanation_rows: int = Field(
        default=5000,
        ge=100,
        description="Rows explained with SHAP: a sample stratified by group when the data is "
        "larger (every group represented)",
    )
    explanation_seconds: float = Field(
        default=60.0, gt=0, description="Time budget of the sampling (permutation) explainer"
    )
    background_rows: int = Field(
        default=200_000,
        ge=100,
        description="Largest data used whole as the background of linear and permutation "
        "explanations (above it: the sample explained)",
    )
    adverse_cases: int = Field(
        default=10,
        ge=0,
        description="Individuals with the most adverse outcome whose "
        "principal reasons the report lists",
    )
    proxy_rows: int = Field(
        default=20_000, ge=100, description="Rows (a seeded random sample) used for proxy detection"
    )


class PopulationReference(_Strict):
    """Expected population shares of one attribute's groups (e.g. census, applicant pool)."""

    attribute: str = Field(
        min_length=1,
        description="A sensitive column, or several joined by ' & ' for their intersection",
    )
    shares: dict[str, float] = Field(
        description="Group value (or 'col=value & col=value' key) -> expected share; the "
        "shares sum to 1 and cover every group the data has"
    )
    source: str = Field(default="", description="Where the shares come from, for the report")

    @field_validator("shares")
    @classmethod
    def _proper_shares(cls, shares: dict[str, float]) -> dict[str, float]:
        if not shares:
            raise ValueError("a population reference needs at least one share")
        bad = {k: v for k, v in shares.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"shares must lie in [0, 1]: {bad}")
        total = sum(shares.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares sum to {total:.6g}, not 1")
        return shares


class PrivacySettings(_Strict):
    """What the privacy checks look at: quasi-identifiers and their k and l."""

    quasi_identifiers: list[str] = Field(
        default_factory=list,
        description="Columns that together could re-identify a person (e.g. age, zip, sex)",
    )
    k: int = Field(default=5, ge=1, description="Smallest acceptable equivalence class")
    l: int | None = Field(  # noqa: E741 (the name of the measure)
        default=None, ge=1, description="Fewest distinct sensitive values in every class"
    )
    sensitive_column: str | None = Field(
        default=None, description="The column l-diversity protects (default: the target)"
    )
    bins: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Cut points that generalise numeric quasi-identifiers (age -> bands)",
    )


class Policy(_Strict):
    """A whole policy file after ``extends:`` has been resolved."""

    apiVersion: Literal["auditor/v1"] = API_VERSION
    name: str = Field(min_length=1)
    description: str = ""
    extends: str | None = None
    settings: Settings = Field(default_factory=Settings)
    rules: list[Rule] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    population: list[PopulationReference] = Field(default_factory=list)
    population_file: str | None = Field(
        default=None,
        description="A YAML file (relative to the policy) holding a `population:` list",
    )
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id '{rule.id}' appears twice")
            seen.add(rule.id)
        return rules
