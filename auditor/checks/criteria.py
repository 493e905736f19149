"""Named fairness criteria, computed from the group metrics and stated with their convention.

Two conventions, named in each definition: fairlearn's attribute-level figures over the
groups the policy judges (``max - min`` of a rate, ``min / max``, the worst of two), and
AIF360's per-group figures against the reference (privileged) group (``group - reference``,
``group / reference``). Every value has a percentile-bootstrap interval from the same
replicates as the group metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from auditor.checks.disparities import percentile_bounds, value_of
from auditor.results import Criterion, Reason, Value
from auditor.stats.bootstrap import basic_interval

FloatArray = npt.NDArray[np.float64]
Arrays = Mapping[str, FloatArray]
BoolArray = npt.NDArray[np.bool_]


def _spread(x: FloatArray) -> FloatArray:
    return np.asarray(x.max(axis=-1) - x.min(axis=-1), dtype=np.float64)


def _min_over_max(x: FloatArray) -> FloatArray:
    high = x.max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(high > 0, x.min(axis=-1) / high, np.nan), dtype=np.float64)


def _to_ref(x: FloatArray, ref: int) -> FloatArray:
    return np.asarray(x - x[..., [ref]], dtype=np.float64)


def _over_ref(x: FloatArray, ref: int) -> FloatArray:
    base = x[..., [ref]]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(base > 0, x / base, np.nan), dtype=np.float64)


def _odds_gap(v: Arrays, ref: int) -> FloatArray:
    return (_to_ref(v["false_positive_rate"], ref) + _to_ref(v["true_positive_rate"], ref)) / 2


def _abs_odds_gap(v: Arrays, ref: int) -> FloatArray:
    fpr, tpr = v["false_positive_rate"], v["true_positive_rate"]
    return (np.abs(_to_ref(fpr, ref)) + np.abs(_to_ref(tpr, ref))) / 2


def _largest_magnitude(x: FloatArray) -> FloatArray:
    """The signed entry of largest absolute value along the last axis.

    On a tie between +a and -a the negative one wins (the group favoured less), so the
    answer never depends on the order, that is the names, of the groups.
    """
    magnitude = np.abs(x).max(axis=-1)
    negative_at_top = ((x < 0) & (np.abs(x) == magnitude[..., None])).any(axis=-1)
    picked = np.where(negative_at_top, -magnitude, magnitude)
    return np.asarray(np.where(np.isnan(x).any(axis=-1), np.nan, picked), dtype=np.float64)


@dataclass(frozen=True)
class CriterionSpec:
    """A named criterion: the metrics it uses, its attribute-level and per-group figures.

    ``worst`` set: the attribute-level value is the per-group figure of the judged
    non-reference group picked by it ('magnitude': largest |x|, 'max', 'min'); otherwise
    ``attribute`` reduces the judged groups' metric values directly.
    """

    name: str
    label: str
    definition: str
    uses: tuple[str, ...]
    attribute: Callable[[Arrays], FloatArray] | None = None
    by_group: Callable[[Arrays, int], FloatArray] | None = None
    worst: Literal["magnitude", "max", "min"] | None = None
    domain: tuple[float | None, float | None] = (0.0, None)  # where the value can lie


_REDUCE: dict[str, Callable[[FloatArray], FloatArray]] = {
    "magnitude": lambda x: _largest_magnitude(x),
    "max": lambda x: np.asarray(x.max(axis=-1), dtype=np.float64),
    "min": lambda x: np.asarray(x.min(axis=-1), dtype=np.float64),
}
_ARG: dict[str, Callable[[FloatArray], int]] = {
    "magnitude": lambda x: int(np.flatnonzero(x == _largest_magnitude(x))[0]),
    "max": lambda x: int(np.argmax(x)),
    "min": lambda x: int(np.argmin(x)),
}


def _range_of(metric: str, label: str, what: str) -> CriterionSpec:
    return CriterionSpec(
        name=f"{label.lower().replace(' ', '_')}_difference",
        label=f"{label} difference",
        definition=f"Largest minus smallest {what} over the groups judged (fairlearn's "
        f"convention, always ≥ 0; 0 is parity). Per group: the group's {what} minus the "
        "reference group's (AIF360's convention, negative when the group's is lower).",
        uses=(metric,),
        attribute=lambda v: _spread(v[metric]),
        by_group=lambda v, ref: _to_ref(v[metric], ref),
    )


CRITERIA: tuple[CriterionSpec, ...] = (
    _range_of("selection_rate", "Demographic parity", "selection rate"),
    CriterionSpec(
        name="demographic_parity_ratio",
        label="Demographic parity ratio",
        definition="Smallest over largest selection rate of the groups judged (fairlearn's "
        "convention, 1 is parity). Per group: the group's selection rate over the reference "
        "group's.",
        uses=("selection_rate",),
        attribute=lambda v: _min_over_max(v["selection_rate"]),
        by_group=lambda v, ref: _over_ref(v["selection_rate"], ref),
        domain=(0.0, 1.0),
    ),
    CriterionSpec(
        name="equalized_odds_difference",
        label="Equalized odds difference",
        definition="The larger of the true-positive-rate and false-positive-rate differences "
        "(each largest minus smallest over the groups judged; fairlearn's convention, ≥ 0, "
        "0 when both rates are equal across groups). Per group: the larger of |TPR - TPR of "
        "the reference| and |FPR - FPR of the reference|.",
        uses=("true_positive_rate", "false_positive_rate"),
        attribute=lambda v: np.maximum(
            _spread(v["true_positive_rate"]), _spread(v["false_positive_rate"])
        ),
        by_group=lambda v, ref: np.maximum(
            np.abs(_to_ref(v["true_positive_rate"], ref)),
            np.abs(_to_ref(v["false_positive_rate"], ref)),
        ),
    ),
    CriterionSpec(
        name="equalized_odds_ratio",
        label="Equalized odds ratio",
        definition="The smaller of the true-positive-rate and false-positive-rate min/max "
        "ratios over the groups judged (fairlearn's convention, 1 is parity).",
        uses=("true_positive_rate", "false_positive_rate"),
        attribute=lambda v: np.minimum(
            _min_over_max(v["true_positive_rate"]), _min_over_max(v["false_positive_rate"])
        ),
        domain=(0.0, 1.0),
    ),
    _range_of("true_positive_rate", "Equal opportunity", "true positive rate"),
    _range_of("precision", "Predictive parity", "precision (PPV)"),
    _range_of("accuracy", "Accuracy equality", "accuracy"),
    _range_of("treatment_equality", "Treatment equality", "FN / FP ratio"),
    CriterionSpec(
        name="average_odds_difference",
        label="Average odds difference",
        definition="AIF360's definition, per group: ((FPR - FPR of the reference) + (TPR - "
        "TPR of the reference)) / 2, negative when the group gets fewer positive predictions "
        "at equal true outcome. A higher FPR and a lower TPR can cancel out: read it beside "
        "the average absolute odds difference. For the attribute: the group value of largest "
        "magnitude (signed).",
        uses=("true_positive_rate", "false_positive_rate"),
        by_group=_odds_gap,
        worst="magnitude",
        domain=(-1.0, 1.0),
    ),
    CriterionSpec(
        name="average_absolute_odds_difference",
        label="Average absolute odds difference",
        definition="AIF360's definition, per group: (|FPR - FPR of the reference| + |TPR - "
        "TPR of the reference|) / 2, ≥ 0; the errors cannot cancel out. For the attribute: "
        "the largest group value.",
        uses=("true_positive_rate", "false_positive_rate"),
        by_group=_abs_odds_gap,
        worst="max",
    ),
    CriterionSpec(
        name="disparate_impact",
        label="Disparate impact (AIF360)",
        definition="AIF360's definition, per group: the group's favourable-outcome rate over "
        "the reference (privileged) group's; below 1 when the group is favoured less. For "
        "the attribute: the smallest group value.",
        uses=("favorable_rate",),
        by_group=lambda v, ref: _over_ref(v["favorable_rate"], ref),
        worst="min",
    ),
)


def criteria_for_table(
    values: Arrays,
    samples: Arrays,
    why_not: Mapping[str, list[Reason | None]],
    keys: tuple[str, ...],
    rows: npt.NDArray[np.int64],
    ref: int,
    confidence: float,
) -> dict[str, Criterion]:
    """Every criterion whose metrics the table has, with its groups and intervals.

    ``why_not[metric][g]`` is why group g is not judged on a metric (None: it is); a group
    counts in a criterion when it is judged on every metric the criterion uses.
    """
    out: dict[str, Criterion] = {}
    for spec in CRITERIA:
        if not all(m in values for m in spec.uses):
            continue
        reasons = [
            next((why_not[m][g] for m in spec.uses if why_not[m][g]), None)
            for g in range(len(keys))
        ]
        mask = np.array([r is None for r in reasons])
        point = {m: values[m] for m in spec.uses}
        boot = {m: samples[m] for m in spec.uses} if all(m in samples for m in spec.uses) else None
        criterion = _criterion(spec, point, boot, mask, keys, rows, ref, confidence)
        excluded = {keys[g]: r for g, r in enumerate(reasons) if r is not None}
        out[spec.name] = criterion.model_copy(update={"excluded": excluded})
    return out


def _criterion(
    spec: CriterionSpec,
    point: Arrays,
    boot: Arrays | None,
    mask: BoolArray,
    keys: tuple[str, ...],
    rows: npt.NDArray[np.int64],
    ref: int,
    confidence: float,
) -> Criterion:
    by_group: dict[str, Value] = {}
    # A per-group figure is undefined only through the reference: a ratio to a zero rate.
    ref_zero = any(point[m][ref] == 0 for m in spec.uses)
    missing = Reason.REFERENCE_ZERO if ref_zero else Reason.REFERENCE_UNDEFINED
    if spec.by_group is not None and mask[ref]:
        figures = spec.by_group(point, ref)
        low = high = np.full(len(keys), np.nan)
        if boot is not None:
            low, high = percentile_bounds(spec.by_group(boot, ref), confidence)
        for g in np.flatnonzero(mask):
            if g != ref:
                by_group[keys[g]] = value_of(
                    float(figures[g]), missing, float(low[g]), float(high[g])
                )
    if spec.worst is not None:
        others = mask.copy()
        others[ref] = False
        if spec.by_group is None or not others.any():
            return Criterion(value=Value(value=None, reason=Reason.FEWER_THAN_TWO_GROUPS))
        if not mask[ref]:
            return Criterion(value=Value(value=None, reason=Reason.REFERENCE_EXCLUDED))
        figures = spec.by_group(point, ref)[others]
        if np.isnan(figures).all():
            return Criterion(value=Value(value=None, reason=missing), by_group=by_group)
        worst = int(np.flatnonzero(others)[_ARG[spec.worst](figures)])
        value = figures[_ARG[spec.worst](figures)]
        boot_value = None
        if boot is not None:
            boot_value = _REDUCE[spec.worst](spec.by_group(boot, ref)[..., others])
        n = int(rows[others].sum() + rows[ref])
        between = f"{keys[worst]} vs {keys[ref]}"
    else:
        assert spec.attribute is not None
        if mask.sum() < 2:
            return Criterion(value=Value(value=None, reason=Reason.FEWER_THAN_TWO_GROUPS))
        value = spec.attribute({m: a[mask] for m, a in point.items()})
        boot_value = None
        if boot is not None:
            boot_value = spec.attribute({m: a[:, mask] for m, a in boot.items()})
        n = int(rows[mask].sum())
        between = None
        if len(spec.uses) == 1:  # name the groups at the two ends of the one metric
            judged_keys = [keys[g] for g in np.flatnonzero(mask)]
            x = point[spec.uses[0]][mask]
            between = f"lowest {judged_keys[int(np.argmin(x))]}, highest "
            between += judged_keys[int(np.argmax(x))]
    bounds = (np.nan, np.nan)
    if boot_value is not None and not np.isnan(value):
        # Ranges and the most extreme group are biased away from parity: basic bootstrap.
        bounds = basic_interval(boot_value, float(value), confidence, spec.domain)
    return Criterion(
        value=value_of(float(value), Reason.ALL_ZERO, *bounds),
        between=between,
        n_compared=n,
        by_group=by_group,
    )
