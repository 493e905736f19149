"""Representativeness: who is in the data, against the population and the training data.

One family, ``representation``: for every attribute and the intersection, the groups' shares
(Wilson intervals), against the policy's population shares when it gives them (ratio
observed / expected, chi-square goodness of fit, total variation distance); the base rate of
the target per group; and with ``--train-data`` the shift of shares and base rates between
the training and the audit data.
"""

from __future__ import annotations

import numpy as np

from auditor.checks.disparities import as_value, finite_or_none
from auditor.checks.registry import ValueCheck, register_family, register_value_checks
from auditor.checks.training_groups import aligned_training_codes
from auditor.context import AuditContext
from auditor.errors import InputError
from auditor.governance.group_arrays import CellRows
from auditor.groups import Grouping
from auditor.results import CheckResult, ItemValue, Reason, Value
from auditor.results_governance import (
    AttributeBalance,
    BaseRate,
    Governance,
    GroupShare,
    GroupShift,
    Representation,
)

FAMILY = "representation"
RATIO = "representation_ratio"
DISTANCE = "total_variation"
SHARE_SHIFT = "share_shift"
RATE_SHIFT = "base_rate_shift"


def _measured(v: float, low: float = np.nan, high: float = np.nan, why: str | None = None) -> Value:
    return as_value(v, Reason.NOT_AVAILABLE, low, high, why)


def _keyed(shares: dict[str, float], grouping: Grouping) -> dict[str, float]:
    """Policy shares keyed as the audit keys groups: 'Female' -> 'sex=Female'."""
    if len(grouping.columns) != 1:
        return shares
    prefix = f"{grouping.columns[0]}="
    # Values may themselves hold "=" ("<=30"): only a key that already names the column is
    # left as it is.
    return {k if k.startswith(prefix) or k == "other" else prefix + k: v for k, v in shares.items()}


@register_family(FAMILY)
def representation(ctx: AuditContext) -> CheckResult:
    """Shares against the population, base rates, and shifts from the training data."""
    from auditor.governance.representation import compare_to_reference, group_shares

    settings = ctx.settings
    items: dict[str, list[ItemValue]] = {RATIO: [], DISTANCE: [], SHARE_SHIFT: [], RATE_SHIFT: []}
    reps, balance = [], []
    for g in ctx.groupings:
        shares = settings.population.get(g.attribute)
        comparison, problem = None, None
        if shares:
            try:
                comparison = compare_to_reference(
                    g.codes,
                    g.n_groups,
                    g.keys,
                    _keyed(shares, g),
                    ctx.weights,
                    settings.confidence,
                    n_resamples=settings.bootstrap_resamples,
                    seed=settings.seed,
                    cells=_cells(ctx),
                )
            except InputError as error:  # e.g. a group the population does not name
                problem = f"population shares not used: {error}"
                undefined = Value(value=None, reason=Reason.NOT_AVAILABLE, note=problem)
                items[RATIO].append(ItemValue(attribute=g.attribute, value=undefined))
        if comparison is not None:
            c = comparison
            groups = [
                GroupShare(
                    group=key,
                    n=int(c.n[i]),
                    observed=_measured(c.observed[i], c.observed_low[i], c.observed_high[i]),
                    expected=float(c.expected[i]),
                    ratio=_measured(
                        c.ratio[i], c.ratio_low[i], c.ratio_high[i], c.ratio_reasons[i]
                    ),
                )
                for i, key in enumerate(c.keys)
            ]
            tvd = _measured(c.tvd, c.tvd_low, c.tvd_high, c.tvd_reason)
            items[RATIO] += [
                ItemValue(attribute=g.attribute, group=s.group, value=s.ratio, n=s.n)
                for s in groups
                if s.ratio is not None
            ]
            items[DISTANCE].append(ItemValue(attribute=g.attribute, value=tvd, n=c.n_total))
            notes = [n for n in (c.chi_square_reason, c.chi_square_note) if n]
            reps.append(
                Representation(
                    attribute=g.attribute,
                    groups=groups,
                    reference_source=settings.population_sources.get(g.attribute) or None,
                    chi_square=None if np.isnan(c.chi_square) else float(c.chi_square),
                    dof=c.dof,
                    p_value=None if np.isnan(c.p_value) else float(c.p_value),
                    total_variation=tvd,
                    notes=notes,
                )
            )
        else:
            s = group_shares(
                g.codes,
                g.n_groups,
                ctx.weights,
                settings.confidence,
                keys=g.keys,
                min_group_size=settings.min_group_size,
                cells=_cells(ctx),
            )
            reps.append(
                Representation(
                    attribute=g.attribute,
                    groups=[
                        GroupShare(
                            group=k,
                            n=int(s.n[i]),
                            observed=_measured(s.share[i], s.low[i], s.high[i]),
                        )
                        for i, k in enumerate(g.keys)
                        if s.n[i] > 0
                    ],
                    below_min_group_size=[
                        k for i, k in enumerate(g.keys) if s.below_min_size[i] and s.n[i] > 0
                    ],
                    notes=[problem] if problem else [],
                )
            )
        balance.append(_balance(ctx, g, items))
    notes = [] if ctx.train is None else [f"training data: {len(ctx.train.frame):,} rows"]
    audited = {g.attribute for g in ctx.groupings}
    unknown = sorted(set(settings.population) - audited)
    if unknown:  # a typo, or an intersection named in another order than --sensitive
        notes.append(
            f"population shares for {unknown} match no audited attribute "
            f"(audited: {sorted(audited)}); they were not used"
        )
    return CheckResult(
        family=FAMILY,
        status="ok",
        items={k: v for k, v in items.items() if v},
        governance=Governance(
            representation=reps,
            balance=balance,
            train_rows=None if ctx.train is None else len(ctx.train.frame),
            notes=notes,
        ),
    )


def _cells(ctx: AuditContext) -> CellRows | None:
    """An engine's cells, as the share computations count them (None: rows)."""
    return None if ctx.counts is None else CellRows(ctx.counts, ctx.weights_sq)


def _balance(ctx: AuditContext, g: Grouping, items: dict[str, list[ItemValue]]) -> AttributeBalance:
    """Base rate per group; with training data, the shift of shares and base rates."""
    from auditor.governance.representation import base_rates, shift

    settings = ctx.settings
    rates: list[BaseRate] = []
    if ctx.task == "classification":
        r = base_rates(
            g.codes,
            g.n_groups,
            ctx.y_true,
            ctx.weights,
            settings.confidence,
            keys=g.keys,
            cells=_cells(ctx),
        )
        rates = [
            BaseRate(
                group=k,
                n=int(r.n[i]),
                rate=_measured(r.rate[i], r.low[i], r.high[i], r.reasons[i]),
            )
            for i, k in enumerate(g.keys)
            if r.n[i] > 0
        ]
    if ctx.train is None:
        return AttributeBalance(attribute=g.attribute, base_rates=rates)
    train_codes, audit_codes, keys = aligned_training_codes(ctx.train.frame, g)
    classification = ctx.task == "classification" and ctx.train.y_true is not None
    d = shift(
        train_codes,
        audit_codes,
        len(keys),
        ctx.train.y_true if classification else None,
        ctx.y_true if classification else None,
        keys=keys,
        audit_weights=ctx.weights,
        confidence=settings.confidence,
        n_resamples=settings.bootstrap_resamples,
        seed=settings.seed,
    )
    shifts = []
    for i, key in enumerate(keys):
        if d.train.n[i] == 0 and d.audit.n[i] == 0:
            continue
        share = _measured(
            d.share_difference[i], d.share_difference_low[i], d.share_difference_high[i]
        )
        rate = None
        low, high = d.rate_difference_low, d.rate_difference_high
        if d.rate_difference is not None and low is not None and high is not None:
            why = d.rate_reasons[i] if d.rate_reasons is not None else None
            rate = _measured(d.rate_difference[i], low[i], high[i], why)
        shifts.append(
            GroupShift(
                group=key,
                train_share=finite_or_none(d.train.share[i]),
                audit_share=finite_or_none(d.audit.share[i]),
                share_difference=share,
                train_base_rate=None
                if d.train_rates is None
                else finite_or_none(d.train_rates.rate[i]),
                audit_base_rate=None
                if d.audit_rates is None
                else finite_or_none(d.audit_rates.rate[i]),
                base_rate_difference=rate,
            )
        )
        n = int(d.audit.n[i])
        items[SHARE_SHIFT].append(ItemValue(attribute=g.attribute, group=key, value=share, n=n))
        if rate is not None:
            items[RATE_SHIFT].append(ItemValue(attribute=g.attribute, group=key, value=rate, n=n))
    return AttributeBalance(
        attribute=g.attribute,
        base_rates=rates,
        shift=shifts,
        shift_p_value=finite_or_none(d.p_value),
        shift_total_variation=finite_or_none(d.tvd),
    )


_DEFINITIONS = (
    (
        RATIO,
        "Representation ratio",
        "A group's share of the audited rows divided by its share of the population the policy "
        "names (population:); below 1 the group is under-represented. Interval: the Wilson "
        "interval of the observed share over the expected share (taken as exact).",
        "the expected share is 0",
        "needs population shares in the policy (population: or population_file:)",
    ),
    (
        DISTANCE,
        "Total variation distance to the population",
        "Half the sum over groups of |observed share - expected share|: the share of rows that "
        "would have to change group for the data to match the population. Basic multinomial "
        "bootstrap interval.",
        "no population shares",
        "needs population shares in the policy (population: or population_file:)",
    ),
    (
        SHARE_SHIFT,
        "Shift of a group's share from the training data",
        "The group's share of the audit rows minus its share of the training rows (Newcombe "
        "interval).",
        "the group is absent from both",
        "needs the training data (--train-data)",
    ),
    (
        RATE_SHIFT,
        "Shift of a group's base rate from the training data",
        "The share of the group's audit rows with the positive label minus that share in the "
        "training rows (Newcombe interval).",
        "the group has no rows in one of the two",
        "needs the training data (--train-data) of a classification audit",
    ),
)
register_value_checks(FAMILY, tuple(ValueCheck(*definition) for definition in _DEFINITIONS))
