"""Privacy: personal data in the columns, re-identification risk, membership inference.

One family, ``privacy``: a PII scan of every column (by name and by validated content; only
masked examples leave it), k-anonymity and l-diversity over the policy's quasi-identifiers,
and, with ``--train-data`` and a model, a membership-inference attack on the model's
confidence in the true label (training rows against audit rows).
"""

from __future__ import annotations

import numpy as np

from auditor.checks.registry import ValueCheck, register_family, register_value_checks
from auditor.context import AuditContext
from auditor.errors import InputError
from auditor.results import CheckResult, ItemValue, Value
from auditor.results_governance import (
    AnonymityResult,
    Governance,
    MembershipResult,
    PiiFinding,
    Privacy,
)
from auditor.stats.scores import scores_are_probabilities

FAMILY = "privacy"
PII_SHARE = "pii_share"
PII_FEATURE = "pii_feature_used"
BELOW_K = "share_below_k"
BELOW_L = "share_below_l"
MEMBERSHIP = "membership_auc"


@register_family(FAMILY)
def privacy(ctx: AuditContext) -> CheckResult:
    """PII columns, k-anonymity / l-diversity, and membership-inference risk."""
    from auditor.governance.pii import scan_pii  # slow imports, here not at start-up

    settings = ctx.settings
    features = set(ctx.model.features) if ctx.model is not None else set()
    pii = [
        PiiFinding(
            column=c.column,
            kind=c.kind,
            by_name=c.by_name,
            share=c.share,
            matches=c.matches,
            checked=c.checked,
            example=c.example,
            used_as_feature=c.column in features,
            note=c.note,
        )
        for c in sorted(scan_pii(ctx.frame, seed=settings.seed), key=lambda c: c.column)
    ]
    items: dict[str, list[ItemValue]] = {
        PII_SHARE: [
            ItemValue(
                attribute=None,
                feature=p.column,
                value=Value(
                    value=1.0 if p.share is None else p.share,
                    note=f"{p.kind}{' (by its name)' if p.share is None else ''}",
                ),
                n=p.checked or None,
            )
            for p in pii
        ]
        or [ItemValue(attribute=None, value=Value(value=0.0, note="no column holds PII"))],
    }
    if features:
        items[PII_FEATURE] = [
            ItemValue(attribute=None, feature=p.column, value=Value(value=1.0, note=p.kind))
            for p in pii
            # A column named like PII whose values never validate (German credit's
            # "telephone": A191/A192, a yes/no flag) is not personal data in the model.
            if p.used_as_feature and (p.share is None or p.share > 0)
        ] or [ItemValue(attribute=None, value=Value(value=0.0, note="no PII column is a feature"))]
    anonymity = _anonymity(ctx, items)
    notes: list[str] = []
    if ctx.train is not None:
        missing = [f for f in features if f not in ctx.train.frame.columns]
        if missing:
            notes.append(f"the training data lacks model features {missing[:5]}")
    membership = _membership(ctx, items, notes) if not notes else None
    return CheckResult(
        family=FAMILY,
        status="ok",
        items=items,
        governance=Governance(
            privacy=Privacy(
                pii=pii,
                rows_scanned=min(ctx.n_rows, 10_000),
                anonymity=anonymity,
                membership=membership,
                notes=notes,
            )
        ),
    )


def _anonymity(ctx: AuditContext, items: dict[str, list[ItemValue]]) -> AnonymityResult | None:
    settings = ctx.settings
    if not settings.quasi_identifiers:
        return None
    from auditor.governance.anonymity import k_anonymity

    sensitive = None
    if settings.l_diversity is not None:
        sensitive = settings.l_column or ctx.target_column
    # An engine's sample would make every class look smaller: it counts the classes of
    # every row instead (ctx.class_counts), and the answer is exact.
    classes = ctx.class_counts
    a = k_anonymity(
        ctx.frame if classes is None else classes.frame,
        list(settings.quasi_identifiers),
        k=settings.k_anonymity,
        sensitive=sensitive,
        l=settings.l_diversity,
        bins=settings.qi_bins or None,
        counts=None if classes is None else classes.counts,
    )
    items[BELOW_K] = [
        ItemValue(
            attribute=None,
            value=Value(
                value=a.share_below_k,
                note=f"smallest class {a.smallest_class:,} rows; {a.rows_below_k:,} rows in "
                f"classes smaller than k = {a.k}",
            ),
            n=a.rows,
        )
    ]
    if a.l is not None and a.share_below_l is not None:
        items[BELOW_L] = [
            ItemValue(
                attribute=None,
                value=Value(
                    value=a.share_below_l,
                    note=f"least diverse class has {a.l_diversity} distinct values of "
                    f"{a.sensitive}; l = {a.l}",
                ),
                n=a.rows,
            )
        ]
    return AnonymityResult(
        quasi_identifiers=list(a.quasi_identifiers),
        rows=a.rows,
        classes=a.classes,
        smallest_class=a.smallest_class,
        k=a.k,
        rows_below_k=a.rows_below_k,
        share_below_k=a.share_below_k,
        sensitive=a.sensitive,
        l_diversity=a.l_diversity,
        entropy_l=a.entropy_l,
        l=a.l,
        rows_below_l=a.rows_below_l,
        share_below_l=a.share_below_l,
        class_sizes={
            (f"{size}+" if size == a.k else str(size)): count
            for size, count in sorted(a.class_sizes.items())
        },
    )


def _membership(
    ctx: AuditContext, items: dict[str, list[ItemValue]], notes: list[str]
) -> MembershipResult | None:
    """The attack on the model's confidence in the true label: training vs audit rows."""
    train, handle = ctx.train, ctx.model
    if train is None or handle is None or ctx.labels is None or train.y_true is None:
        return None
    from auditor.governance.membership import membership_inference
    from auditor.inputs.predict import predict

    losses = []
    for frame, y_true in ((train.frame, train.y_true), (ctx.frame, ctx.y_true)):
        try:
            output = predict(handle.estimator, frame[handle.features], ctx.labels, reserved=set())
        except (InputError, KeyError) as error:  # e.g. training data without a feature
            notes.append(f"membership inference not measured: {error}")
            return None
        scores = output.scores
        # A log loss needs probabilities: a decision-function margin is not one.
        if scores is None or not scores_are_probabilities(scores):
            notes.append("membership inference not measured: the model gives no probabilities")
            return None
        confidence = np.where(y_true, scores, 1.0 - scores)
        losses.append(-np.log(np.clip(confidence, np.finfo(np.float64).eps, 1.0)))
    risk = membership_inference(
        losses[0],
        losses[1],
        signal="loss",
        confidence=ctx.settings.confidence,
        resamples=min(ctx.settings.bootstrap_resamples, 200),
        seed=ctx.settings.seed,
    )
    auc = Value(
        value=risk.auc,
        ci_low=risk.ci_low,
        ci_high=risk.ci_high,
        note=f"advantage {risk.advantage:.3f}; {risk.members:,} training vs "
        f"{risk.non_members:,} audit rows",
    )
    items[MEMBERSHIP] = [ItemValue(attribute=None, value=auc, n=risk.members + risk.non_members)]
    return MembershipResult(
        auc=auc,
        advantage=risk.advantage,
        members=risk.members,
        non_members=risk.non_members,
        signal=risk.signal,
        notes=list(risk.notes),
    )


_DEFINITIONS = (
    (
        PII_SHARE,
        "Personal data in a column",
        "Share of a column's (sampled, non-missing) values that validate as personal data: "
        "e-mail, phone (libphonenumber), US SSN (valid ranges), payment card (Luhn and issuer "
        "prefix), IBAN (mod 97), IP address, date of birth; 1 for a column named like a kind "
        "that has no validator (names, addresses). One finding per column found.",
        "never",
    ),
    (
        PII_FEATURE,
        "Personal data used as a model feature",
        "1 for each column holding personal data that is also an input of the model.",
        "the audit has no model",
    ),
    (
        BELOW_K,
        "Rows below k-anonymity",
        "Share of rows whose combination of the policy's quasi-identifiers is shared by fewer "
        "than k rows (privacy.k): they can be singled out.",
        "the policy declares no quasi-identifiers",
    ),
    (
        BELOW_L,
        "Rows below l-diversity",
        "Share of rows in equivalence classes with fewer than l distinct values of the "
        "sensitive column (privacy.l; default column: the target).",
        "the policy sets no l",
    ),
    (
        MEMBERSHIP,
        "Membership-inference AUC",
        "How well the model's loss on a row tells training rows from audit rows (AUC of a "
        "loss-threshold attack, Yeom et al. 2018): 0.5 leaks nothing, 1 reveals membership.",
        "no --train-data, no model, or a model without probabilities",
    ),
)
_REQUIRES = {
    PII_FEATURE: "needs a model (--model)",
    BELOW_K: "needs quasi-identifiers in the policy (privacy.quasi_identifiers)",
    BELOW_L: "needs privacy.quasi_identifiers and privacy.l in the policy",
    MEMBERSHIP: "needs a model with probabilities and its training data (--train-data)",
}
_PII_FEATURE_RULE: dict[str, object] = {
    "threshold": {"max": 0.0},
    "severity": "warning",
    "rationale": "A model fed personal identifiers can memorise and reveal them, and data "
    "minimisation (GDPR Art. 5(1)(c)) asks whether each is needed.",
    "references": ["GDPR Art. 5(1)(c) (data minimisation)", "EU AI Act Art. 10(5)"],
}
register_value_checks(
    FAMILY,
    tuple(
        ValueCheck(
            metric,
            label,
            definition,
            undefined,
            _REQUIRES.get(metric, ""),
            _PII_FEATURE_RULE if metric == PII_FEATURE else None,
            exact=metric != MEMBERSHIP,
        )
        for metric, label, definition, undefined in _DEFINITIONS
    ),
)
