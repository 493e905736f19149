"""Proxy detection: which model features stand in for a sensitive attribute.

One family, ``proxies``: for every model feature and every sensitive attribute, the
strength of their association (bias-corrected Cramér's V, or for numeric features the
larger of the correlation ratio and the V of their quantile bins; NMI beside it), near
copies flagged; and per attribute the cross-validated AUC with which all the features
together predict it. Runs on a seeded random sample of ``proxy_rows`` rows (a random, not
a stratified, sample: stratifying by the attribute would change the association measured).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.checks.registry import ValueCheck, register_family, register_value_checks
from auditor.context import AuditContext
from auditor.results import CheckResult, ItemValue, Reason, Value
from auditor.results_transparency import Association, Predictability, Proxies

MEASURE_WORDS = {
    "cramers_v": "bias-corrected Cramér's V",
    "correlation_ratio": "correlation ratio (eta)",
    "binned_cramers_v": "bias-corrected Cramér's V of quantile bins",
}
FAMILY = "proxies"
STRENGTH = "association"
NEAR_COPY = "near_copy"
PREDICTABILITY = "predictability"


@register_family(FAMILY)
def proxies(ctx: AuditContext) -> CheckResult:
    """Associations of every feature with every sensitive attribute, and predictability."""
    if ctx.model is None:
        return CheckResult(family=FAMILY, status="ok")
    from auditor.explain.proxies import feature_associations, predictability  # slow import

    settings = ctx.settings
    groupings = [g for g in ctx.groupings if len(g.columns) == 1]
    attributes = [g.attribute for g in groupings]
    features = [f for f in ctx.model.features if f not in attributes]
    notes = []
    if not features:
        notes.append("every model feature is a sensitive attribute: no proxies to look for")
    rows = np.arange(ctx.n_rows)
    if ctx.n_rows > settings.proxy_rows:
        rng = np.random.default_rng(settings.seed)
        rows = np.sort(rng.choice(ctx.n_rows, settings.proxy_rows, replace=False))
    total = ctx.sample_of or ctx.n_rows  # an engine's uniform sample stands for all rows
    if rows.size < total:
        notes.append(f"measured on a random sample of {rows.size:,} of {total:,} rows")
    frame = ctx.frame.iloc[rows]
    associations: list[Association] = []
    predicted: list[Predictability] = []
    single_valued: set[str] = set()
    for g in groupings if features else []:
        attribute = g.attribute
        # The audit's groups (a "(missing)" group included), not the raw column.
        sensitive = pd.Series(np.asarray(g.keys, dtype=object)[g.codes[rows]], name=attribute)
        if sensitive.nunique() < 2:
            single_valued.add(attribute)
        for a in feature_associations(frame[features].reset_index(drop=True), sensitive):
            associations.append(
                Association(
                    feature=a.feature,
                    attribute=attribute,
                    measure=a.measure,
                    strength=a.strength,
                    cramers_v=a.cramers_v,
                    nmi=a.nmi,
                    n=a.n,
                    near_copy=a.near_copy,
                )
            )
        p = predictability(
            frame[features].reset_index(drop=True),
            sensitive,
            seed=settings.seed,
            confidence=settings.confidence,
        )
        predicted.append(
            Predictability(
                attribute=attribute,
                auc=Value(value=p.auc, ci_low=p.ci_low, ci_high=p.ci_high, note=p.reason)
                if p.auc is not None
                else Value(value=None, reason=None, note=p.reason),
                n=p.n,
                classes=list(p.classes),
                model=p.model,
                notes=list(p.notes),
            )
        )
    associations.sort(key=lambda a: (-a.strength, a.attribute, a.feature))
    items = {
        STRENGTH: [_undefined(a) for a in associations if a.attribute in single_valued]
        + [
            _item(a, a.strength, MEASURE_WORDS.get(a.measure, a.measure))
            for a in associations
            if a.attribute not in single_valued
        ],
        NEAR_COPY: [
            _item(
                a,
                1.0 if a.near_copy else 0.0,
                f"{'a near copy' if a.near_copy else 'not a near copy'}: strength {a.strength:.3f}",
            )
            for a in associations
            if a.attribute not in single_valued
        ]
        + [_undefined(a) for a in associations if a.attribute in single_valued],
        PREDICTABILITY: [ItemValue(attribute=p.attribute, value=p.auc, n=p.n) for p in predicted],
    }
    return CheckResult(
        family=FAMILY,
        status="ok",
        items=items,
        proxies=Proxies(
            features=features,
            associations=associations,
            predictability=predicted,
            rows_used=int(rows.size),
            notes=notes,
        ),
    )


def _undefined(a: Association) -> ItemValue:
    """A feature against an attribute with one value: no feature can reveal it."""
    why = Value(
        value=None,
        reason=Reason.NOT_AVAILABLE,
        note="the attribute has a single value in these rows: the association is undefined",
    )
    return ItemValue(attribute=a.attribute, feature=a.feature, value=why, n=a.n)


def _item(a: Association, value: float, note: str) -> ItemValue:
    return ItemValue(
        attribute=a.attribute, feature=a.feature, value=Value(value=value, note=note), n=a.n
    )


_DEFINITIONS = (
    (
        STRENGTH,
        "Proxy strength",
        "How strongly a model feature is tied to a sensitive attribute, from 0 (independent) "
        "to 1 (determines it): for categorical features Cramér's V with Bergsma's "
        "small-sample correction; for numeric ones the larger of the chance-adjusted "
        "correlation ratio (eta) and the corrected V of ten quantile bins. One finding per "
        "feature and attribute.",
    ),
    (
        NEAR_COPY,
        "Near copy of a sensitive attribute",
        "1 when the feature is a near copy of the attribute: strength at least 0.9, or the "
        "feature's value determines the attribute in at least 98% of rows while removing at "
        "least half the errors of always guessing the most common value; else 0.",
    ),
    (
        PREDICTABILITY,
        "Predictability of the attribute from the features",
        "Cross-validated ROC AUC (5 stratified folds; mean one-vs-rest AUC for more than two "
        "groups) of a logistic regression predicting the sensitive attribute from all model "
        "features together; 0.5 is chance, 1 is a perfect proxy. Interval: bootstrap of the "
        "out-of-fold predictions.",
    ),
)
register_value_checks(
    FAMILY,
    tuple(
        ValueCheck(
            metric,
            label,
            definition,
            "the attribute has a single value, or the audit has no model",
            "needs a model (--model): proxies are looked for among its features",
            exact=metric != PREDICTABILITY,  # strengths have no interval to wait for
        )
        for metric, label, definition in _DEFINITIONS
    ),
)
