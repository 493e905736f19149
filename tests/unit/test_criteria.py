"""Every named criterion of ``auditor.checks.criteria.CRITERIA`` against its published definition.

Part one: a hand-made table of three groups (confusion counts chosen so that every rate is
an exact fraction). The expected figures are computed here with ``fractions.Fraction``
straight from the definitions the criteria cite:

- fairlearn (attribute level, over the groups judged): demographic_parity_difference =
  max - min selection rate, demographic_parity_ratio = min / max; equalized_odds_difference
  = max(TPR spread, FPR spread), equalized_odds_ratio = min(TPR min/max, FPR min/max);
  equal opportunity is the same on the TPR alone.
- AIF360 (per unprivileged group against the privileged = reference group):
  average_odds_difference = ((FPR_u - FPR_p) + (TPR_u - TPR_p)) / 2,
  average_abs_odds_difference = (|FPR_u - FPR_p| + |TPR_u - TPR_p|) / 2,
  disparate_impact = P(favourable | u) / P(favourable | p).
- Predictive parity (PPV), accuracy equality and treatment equality (FN / FP, Berk et al.
  2018) as max - min over the groups judged.

Part two: fairlearn.metrics' named functions on Adult (sex, race, sex x race), with and
without the census weight, to 1e-12; every group counts (min_group_size = 1, min_positives =
min_negatives = 0), as fairlearn counts every group.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
)

from auditor.checks.criteria import CRITERIA
from auditor.checks.fairness import group_table
from auditor.context import AuditContext, CheckSettings
from auditor.groups import encode_groups
from auditor.inputs.labels import BinaryLabels
from auditor.results import Criterion, GroupTable, Reason

F = Fraction
ROOT = Path(__file__).resolve().parents[2]
ADULT_CSV = ROOT / "tests" / "data" / "adult.csv"
EXACT = 1e-15
ATOL = 1e-12

# --- the hand-made table --------------------------------------------------------------------
# Group -> confusion counts. A is the largest group and the reference (the privileged group
# of AIF360's definitions). No two groups tie on any rate, so every "lowest / highest" and
# every "worst group" is unambiguous.
TABLE: dict[str, dict[str, int]] = {
    "A": {"tp": 6, "fp": 2, "fn": 2, "tn": 10},  # n = 20, 8 positives, 12 negatives
    "B": {"tp": 1, "fp": 1, "fn": 4, "tn": 4},  # n = 10, 5 positives, 5 negatives
    "C": {"tp": 5, "fp": 3, "fn": 1, "tn": 3},  # n = 12, 6 positives, 6 negatives
}
GROUPS = tuple(TABLE)
REF = "A"
KEY = {g: f"g={g}" for g in GROUPS}


def n_of(g: str) -> int:
    return sum(TABLE[g].values())


# Each rate from its textbook definition, as an exact fraction.
def selection_rate(c: dict[str, int]) -> Fraction:
    return F(c["tp"] + c["fp"], sum(c.values()))


def tpr(c: dict[str, int]) -> Fraction:
    return F(c["tp"], c["tp"] + c["fn"])


def fpr(c: dict[str, int]) -> Fraction:
    return F(c["fp"], c["fp"] + c["tn"])


def ppv(c: dict[str, int]) -> Fraction:
    return F(c["tp"], c["tp"] + c["fp"])


def accuracy(c: dict[str, int]) -> Fraction:
    return F(c["tp"] + c["tn"], sum(c.values()))


def fn_over_fp(c: dict[str, int]) -> Fraction:
    return F(c["fn"], c["fp"])


def favourable(positive_outcome: str) -> Callable[[dict[str, int]], Fraction]:
    """P(favourable): predicted positive when the positive label is favourable, else negative."""
    if positive_outcome == "favorable":
        return selection_rate
    return lambda c: 1 - selection_rate(c)


Rate = Callable[[dict[str, int]], Fraction]


def spread(rate: Rate, groups: tuple[str, ...]) -> Fraction:
    values = [rate(TABLE[g]) for g in groups]
    return max(values) - min(values)


def min_over_max(rate: Rate, groups: tuple[str, ...]) -> Fraction:
    values = [rate(TABLE[g]) for g in groups]
    return min(values) / max(values)


def minus_ref(rate: Rate, g: str) -> Fraction:
    return rate(TABLE[g]) - rate(TABLE[REF])


def over_ref(rate: Rate, g: str) -> Fraction:
    return rate(TABLE[g]) / rate(TABLE[REF])


def average_odds(g: str) -> Fraction:
    return (minus_ref(fpr, g) + minus_ref(tpr, g)) / 2


def average_abs_odds(g: str) -> Fraction:
    return (abs(minus_ref(fpr, g)) + abs(minus_ref(tpr, g))) / 2


def eo_by_group(g: str) -> Fraction:
    return max(abs(minus_ref(tpr, g)), abs(minus_ref(fpr, g)))


def signed_largest(values: dict[str, Fraction]) -> tuple[str, Fraction]:
    group = max(values, key=lambda g: abs(values[g]))
    return group, values[group]


def expected_criteria(
    judged: dict[str, tuple[str, ...]], positive_outcome: str = "favorable"
) -> dict[str, dict[str, Any]]:
    """Criterion name -> {'value', 'by_group', 'between'?} by the published definitions.

    ``judged[metric]`` are the groups the policy judges on a metric; a criterion uses the
    groups judged on all of its metrics.
    """

    def both(*metrics: str) -> tuple[str, ...]:
        return tuple(g for g in GROUPS if all(g in judged[m] for m in metrics))

    sr_groups = both("selection_rate")
    odds_groups = both("true_positive_rate", "false_positive_rate")
    fav = favourable(positive_outcome)
    fav_groups = both("favorable_rate")

    def others(groups: tuple[str, ...]) -> list[str]:
        return [g for g in groups if g != REF]

    def ends(rate: Rate, groups: tuple[str, ...]) -> str:
        low = min(groups, key=lambda g: rate(TABLE[g]))
        high = max(groups, key=lambda g: rate(TABLE[g]))
        return f"lowest {KEY[low]}, highest {KEY[high]}"

    def range_criterion(rate: Rate, metric: str) -> dict[str, Any]:
        groups = both(metric)
        return {
            "value": spread(rate, groups),
            "by_group": {g: minus_ref(rate, g) for g in others(groups)},
            "between": ends(rate, groups),
        }

    aod = {g: average_odds(g) for g in others(odds_groups)}
    aaod = {g: average_abs_odds(g) for g in others(odds_groups)}
    di = {g: over_ref(fav, g) for g in others(fav_groups)}
    aod_group, aod_value = signed_largest(aod)
    aaod_group = max(aaod, key=lambda g: aaod[g])
    di_group = min(di, key=lambda g: di[g])
    return {
        "demographic_parity_difference": range_criterion(selection_rate, "selection_rate"),
        "demographic_parity_ratio": {
            "value": min_over_max(selection_rate, sr_groups),
            "by_group": {g: over_ref(selection_rate, g) for g in others(sr_groups)},
            "between": ends(selection_rate, sr_groups),
        },
        "equalized_odds_difference": {
            "value": max(spread(tpr, odds_groups), spread(fpr, odds_groups)),
            "by_group": {g: eo_by_group(g) for g in others(odds_groups)},
        },
        "equalized_odds_ratio": {
            "value": min(min_over_max(tpr, odds_groups), min_over_max(fpr, odds_groups)),
            "by_group": {},
        },
        "equal_opportunity_difference": range_criterion(tpr, "true_positive_rate"),
        "predictive_parity_difference": range_criterion(ppv, "precision"),
        "accuracy_equality_difference": range_criterion(accuracy, "accuracy"),
        "treatment_equality_difference": range_criterion(fn_over_fp, "treatment_equality"),
        "average_odds_difference": {
            "value": aod_value,
            "by_group": aod,
            "between": f"{KEY[aod_group]} vs {KEY[REF]}",
        },
        "average_absolute_odds_difference": {
            "value": aaod[aaod_group],
            "by_group": aaod,
            "between": f"{KEY[aaod_group]} vs {KEY[REF]}",
        },
        "disparate_impact": {
            "value": di[di_group],
            "by_group": di,
            "between": f"{KEY[di_group]} vs {KEY[REF]}",
        },
    }


ALL_JUDGED: dict[str, tuple[str, ...]] = {
    m: GROUPS
    for m in (
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
        "precision",
        "accuracy",
        "treatment_equality",
        "favorable_rate",
    )
}


def hand_context(**settings: Any) -> AuditContext:
    """One row per counted case of TABLE, shuffled, grouped by 'g' with A as reference."""
    cell_labels = {
        "tp": (True, True),
        "fp": (False, True),
        "fn": (True, False),
        "tn": (False, False),
    }
    groups, y_true, y_pred = [], [], []
    for g, cells in TABLE.items():
        for cell, count in cells.items():
            t, p = cell_labels[cell]
            groups += [g] * count
            y_true += [t] * count
            y_pred += [p] * count
    order = np.random.default_rng(11).permutation(len(groups))
    frame = pd.DataFrame({"g": np.asarray(groups)[order]})
    settings = {"min_group_size": 1, **settings}
    return AuditContext(
        frame=frame,
        labels=BinaryLabels(positive="1", other="0"),
        y_true=np.asarray(y_true, dtype=bool)[order],
        y_pred=np.asarray(y_pred, dtype=bool)[order],
        scores=None,
        weights=None,
        groupings=encode_groups(frame, ["g"], references={"g": REF}),
        settings=CheckSettings(**settings),
    )


def hand_table(**settings: Any) -> GroupTable:
    ctx = hand_context(**settings)
    return group_table(ctx, ctx.groupings[0])


def assert_exact(got: float | None, expected: Fraction, where: object) -> None:
    assert got is not None, where
    assert abs(got - float(expected)) <= EXACT * max(1.0, abs(float(expected))), (
        where,
        got,
        expected,
    )


def check_criterion(name: str, criterion: Criterion, expected: dict[str, Any]) -> None:
    assert_exact(criterion.value.value, expected["value"], (name, "value"))
    assert criterion.value.reason is None
    got_groups = set(criterion.by_group)
    assert got_groups == {KEY[g] for g in expected["by_group"]}, (name, got_groups)
    for g, value in expected["by_group"].items():
        assert_exact(criterion.by_group[KEY[g]].value, value, (name, g))
    if "between" in expected:
        assert criterion.between == expected["between"], name


# --- hand-computed cases --------------------------------------------------------------------


def test_the_hand_table_has_no_ties_and_the_expected_literals() -> None:
    # The generic helpers above, spelled out once by hand for the table (guards the helpers).
    assert [selection_rate(TABLE[g]) for g in GROUPS] == [F(2, 5), F(1, 5), F(2, 3)]
    assert [tpr(TABLE[g]) for g in GROUPS] == [F(3, 4), F(1, 5), F(5, 6)]
    assert [fpr(TABLE[g]) for g in GROUPS] == [F(1, 6), F(1, 5), F(1, 2)]
    expected = expected_criteria(ALL_JUDGED)
    literals = {
        "demographic_parity_difference": F(7, 15),  # 2/3 - 1/5
        "demographic_parity_ratio": F(3, 10),  # (1/5) / (2/3)
        "equalized_odds_difference": F(19, 30),  # TPR 5/6 - 1/5 beats FPR 1/2 - 1/6
        "equalized_odds_ratio": F(6, 25),  # TPR (1/5)/(5/6) below FPR (1/6)/(1/2)
        "equal_opportunity_difference": F(19, 30),
        "predictive_parity_difference": F(1, 4),  # 3/4 - 1/2
        "accuracy_equality_difference": F(3, 10),  # 4/5 - 1/2
        "treatment_equality_difference": F(11, 3),  # 4 - 1/3
        "average_odds_difference": F(-31, 120),  # B: (1/30 - 11/20) / 2, beats C's 5/24
        "average_absolute_odds_difference": F(7, 24),  # B: (1/30 + 11/20) / 2
        "disparate_impact": F(1, 2),  # B: (1/5) / (2/5)
    }
    assert {name: e["value"] for name, e in expected.items()} == literals
    for rate in (selection_rate, tpr, fpr, ppv, accuracy, fn_over_fp):
        values = [rate(TABLE[g]) for g in GROUPS]
        assert len(set(values)) == len(values)


def test_every_criterion_has_a_hand_case() -> None:
    assert {c.name for c in CRITERIA} == set(expected_criteria(ALL_JUDGED))
    assert set(hand_table().criteria) == {c.name for c in CRITERIA}


@pytest.mark.parametrize("name", [c.name for c in CRITERIA])
def test_criterion_equals_its_definition_on_the_hand_table(name: str) -> None:
    table = hand_table()
    assert table.reference == KEY[REF]
    criterion = table.criteria[name]
    check_criterion(name, criterion, expected_criteria(ALL_JUDGED)[name])
    # Every group is judged: the criterion compares all the rows.
    assert criterion.n_compared == sum(n_of(g) for g in GROUPS)
    # No bootstrap replicates were given: no intervals, never an invented one.
    assert criterion.value.ci_low is None and criterion.value.ci_high is None


@pytest.mark.parametrize("name", ["disparate_impact"])
def test_disparate_impact_uses_the_favourable_rate_when_the_positive_label_is_adverse(
    name: str,
) -> None:
    # positive_outcome = adverse: the favourable outcome is the *negative* prediction, so
    # P(favourable) = 1 - selection rate: A 3/5, B 4/5, C 1/3 -> B 4/3, C 5/9, worst C.
    table = hand_table(positive_outcome="adverse")
    expected = expected_criteria(ALL_JUDGED, positive_outcome="adverse")[name]
    assert expected["value"] == F(5, 9)
    assert expected["by_group"] == {"B": F(4, 3), "C": F(5, 9)}
    check_criterion(name, table.criteria[name], expected)
    # The selection-rate criteria do not change with the meaning of the label.
    for other in ("demographic_parity_difference", "demographic_parity_ratio"):
        check_criterion(other, table.criteria[other], expected_criteria(ALL_JUDGED)[other])


def test_sign_conventions_on_the_hand_table() -> None:
    # B's selection rate (1/5) is below the reference's (2/5), C's (2/3) above it.
    table = hand_table()
    dp, di = table.criteria["demographic_parity_difference"], table.criteria["disparate_impact"]
    ratio = table.criteria["demographic_parity_ratio"]
    dp_b, dp_c = dp.by_group[KEY["B"]].value, dp.by_group[KEY["C"]].value
    di_b, di_c = di.by_group[KEY["B"]].value, di.by_group[KEY["C"]].value
    assert dp_b is not None and dp_c is not None and di_b is not None and di_c is not None
    assert dp_b < 0 < dp_c
    assert di_b < 1 < di_c
    assert ratio.by_group[KEY["B"]].value == di.by_group[KEY["B"]].value
    # The attribute-level fairlearn figures are >= 0 and <= 1 whichever way the gap points.
    assert dp.value.value is not None and dp.value.value > 0
    assert ratio.value.value is not None and 0 < ratio.value.value < 1
    # AIF360's average odds difference keeps its sign: B is predicted positive less often at
    # equal outcome (TPR 1/5 vs 3/4), and that gap is the largest in magnitude.
    aod = table.criteria["average_odds_difference"]
    assert aod.value.value is not None and aod.value.value < 0
    assert aod.between == f"{KEY['B']} vs {KEY['A']}"


def test_groups_below_min_positives_leave_the_tpr_criteria_only() -> None:
    # min_positives = 6: B (5 positives) is not judged on TPR, so it leaves every criterion
    # that uses the TPR; A (8) and C (6) stay. Criteria on other rates keep B.
    table = hand_table(min_positives=6)
    judged = dict(ALL_JUDGED)
    judged["true_positive_rate"] = ("A", "C")
    # treatment_equality needs positives and negatives: B leaves it too.
    judged["treatment_equality"] = ("A", "C")
    expected = expected_criteria(judged)
    for name, spec in expected.items():
        check_criterion(name, table.criteria[name], spec)
    eo = table.criteria["equalized_odds_difference"]
    # Over A and C alone: max(TPR 5/6 - 3/4, FPR 1/2 - 1/6) = 1/3, not the 19/30 with B.
    assert expected["equalized_odds_difference"]["value"] == F(1, 3)
    assert KEY["B"] not in eo.by_group
    assert eo.n_compared == n_of("A") + n_of("C")
    assert table.criteria["equalized_odds_ratio"].n_compared == n_of("A") + n_of("C")
    assert table.criteria["demographic_parity_difference"].n_compared == 42
    assert KEY["B"] in table.criteria["demographic_parity_difference"].by_group
    # B's TPR is still shown, marked as not judged.
    (row_b,) = [r for r in table.rows if r.group == KEY["B"]]
    assert row_b.metrics["true_positive_rate"].excluded == Reason.BELOW_MIN_POSITIVES
    assert row_b.metrics["selection_rate"].excluded is None


@pytest.mark.parametrize("name", [c.name for c in CRITERIA])
def test_criterion_is_undefined_with_fewer_than_two_judged_groups(name: str) -> None:
    # min_group_size = 15 leaves only A (20 rows) judged.
    table = hand_table(min_group_size=15)
    criterion = table.criteria[name]
    assert criterion.value.value is None
    assert criterion.value.reason == Reason.FEWER_THAN_TWO_GROUPS
    assert criterion.by_group == {}


@pytest.mark.parametrize("name", [c.name for c in CRITERIA])
def test_criterion_with_one_group_besides_the_reference(name: str) -> None:
    # min_group_size = 11 keeps A (20) and C (12): every criterion is defined, between them.
    table = hand_table(min_group_size=11)
    judged: dict[str, tuple[str, ...]] = {m: ("A", "C") for m in ALL_JUDGED}
    check_criterion(name, table.criteria[name], expected_criteria(judged)[name])


# --- fairlearn's named metrics on Adult -------------------------------------------------------


def adult_rule(frame: pd.DataFrame) -> np.ndarray:
    """A fixed rule: '>50K' for a degree (13+ years of education) or capital gains >= 5000."""
    return ((frame["education-num"] >= 13) | (frame["capital-gain"] >= 5000)).to_numpy()


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    # Every 8th row (4,071): fairlearn's named metrics build a MetricFrame each.
    frame = pd.read_csv(ADULT_CSV).iloc[::8].reset_index(drop=True)
    y_true = (frame["income-per-year"] == ">50K").to_numpy()
    y_pred = adult_rule(frame)
    # Every rate of every sex x race group is defined here (fairlearn would turn 0/0 into 0).
    cells = pd.DataFrame({"t": y_true, "p": y_pred, "sex": frame["sex"], "race": frame["race"]})
    for col in ("t", "p"):
        sums = cells.groupby(["sex", "race"])[col].agg(["sum", "count"])
        assert ((sums["sum"] > 0) & (sums["sum"] < sums["count"])).all()
    return frame


def adult_context(frame: pd.DataFrame, columns: list[str], weighted: bool) -> AuditContext:
    return AuditContext(
        frame=frame,
        labels=BinaryLabels(positive=">50K", other="<=50K"),
        y_true=(frame["income-per-year"] == ">50K").to_numpy(),
        y_pred=adult_rule(frame),
        scores=None,
        weights=frame["fnlwgt"].to_numpy(dtype=np.float64) if weighted else None,
        groupings=encode_groups(frame, columns),
        settings=CheckSettings(min_group_size=1, min_positives=0, min_negatives=0),
    )


# Each case costs about a second of fairlearn (a MetricFrame per named metric).
ADULT_CASES = [
    (("sex",), False),
    (("race",), True),
    (("sex", "race"), False),
    (("sex", "race"), True),
]


@pytest.mark.parametrize(
    ("columns", "weighted"),
    ADULT_CASES,
    ids=[f"{'x'.join(c)}-{'weighted' if w else 'unweighted'}" for c, w in ADULT_CASES],
)
def test_criteria_match_fairlearn_named_metrics_on_adult(
    adult: pd.DataFrame, columns: tuple[str, ...], weighted: bool
) -> None:
    ctx = adult_context(adult, list(columns), weighted)
    table = group_table(ctx, ctx.groupings[-1])
    assert tuple(table.columns) == columns
    y_true = ctx.y_true.astype(int)
    y_pred = ctx.y_pred.astype(int)
    sensitive = adult[columns[0]] if len(columns) == 1 else adult[list(columns)]
    kwargs = {"sensitive_features": sensitive, "sample_weight": ctx.weights}
    c = table.criteria
    expected = {
        "demographic_parity_difference": demographic_parity_difference(y_true, y_pred, **kwargs),
        "demographic_parity_ratio": demographic_parity_ratio(y_true, y_pred, **kwargs),
        "equalized_odds_difference": equalized_odds_difference(y_true, y_pred, **kwargs),
        "equalized_odds_ratio": equalized_odds_ratio(y_true, y_pred, **kwargs),
        "equal_opportunity_difference": equal_opportunity_difference(y_true, y_pred, **kwargs),
    }
    for name, value in expected.items():
        got = c[name].value.value
        assert got is not None and abs(got - value) <= ATOL, (name, got, value)
        assert c[name].n_compared == len(adult)
    # fairlearn's equal_opportunity_ratio is the TPR summary's min / max (auditor has no
    # separate criterion for it).
    tpr_ratio = table.summaries["true_positive_rate"].min_max_ratio.value
    fl_ratio = equal_opportunity_ratio(y_true, y_pred, **kwargs)
    assert tpr_ratio is not None and abs(tpr_ratio - fl_ratio) <= ATOL


def test_sign_conventions_on_adult_sex(adult: pd.DataFrame) -> None:
    # The largest group (Male) is the reference; women are selected less often by the rule,
    # so their demographic-parity figure is negative and their disparate impact below 1.
    ctx = adult_context(adult, ["sex"], weighted=False)
    table = group_table(ctx, ctx.groupings[0])
    assert table.reference == "sex=Male"
    women = adult["sex"] == "Female"
    rate_f = float(ctx.y_pred[women.to_numpy()].mean())
    rate_m = float(ctx.y_pred[~women.to_numpy()].mean())
    assert rate_f < rate_m
    dp = table.criteria["demographic_parity_difference"].by_group["sex=Female"].value
    di = table.criteria["disparate_impact"].by_group["sex=Female"].value
    assert dp is not None and abs(dp - (rate_f - rate_m)) <= ATOL and dp < 0
    assert di is not None and abs(di - rate_f / rate_m) <= ATOL and di < 1
    assert table.criteria["disparate_impact"].value.value == di  # the only other group
    # With the positive label adverse, the favourable outcome is a negative prediction:
    # women then get it more often, and their disparate impact is above 1.
    adverse = AuditContext(
        **{
            **ctx.__dict__,
            "settings": CheckSettings(min_group_size=1, positive_outcome="adverse"),
        }
    )
    di_adverse = group_table(adverse, adverse.groupings[0]).criteria["disparate_impact"]
    value = di_adverse.by_group["sex=Female"].value
    assert value is not None and abs(value - (1 - rate_f) / (1 - rate_m)) <= ATOL and value > 1


# --- undefined criteria and their reasons -----------------------------------------------------


def rows_context(groups: list[str], y_true: list[int], y_pred: list[int], **settings: Any) -> Any:
    frame = pd.DataFrame({"g": groups})
    return AuditContext(
        frame=frame,
        labels=BinaryLabels(positive="1", other="0"),
        y_true=np.asarray(y_true, dtype=bool),
        y_pred=np.asarray(y_pred, dtype=bool),
        scores=None,
        weights=None,
        groupings=encode_groups(frame, ["g"], references={"g": "a"}),
        settings=CheckSettings(**{"min_group_size": 1, **settings}),
    )


def test_ratio_criteria_against_a_reference_with_a_zero_rate_are_undefined() -> None:
    # The reference a selects nobody (rate 0); b selects 1 of 4, c 2 of 4.
    ctx = rows_context(
        ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
        [1, 0, 1, 0] * 3,
        [0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0],
    )
    table = group_table(ctx, ctx.groupings[0])
    di = table.criteria["disparate_impact"]
    assert di.value.value is None
    assert all(v.value is None for v in di.by_group.values())
    # fairlearn's min / max is defined (0 / 0.5 = 0): the reference is only one of the groups.
    assert table.criteria["demographic_parity_ratio"].value.value == 0.0
    # The per-group ratios of the metric cells say why: the reference's rate is 0.
    (row_b,) = [r for r in table.rows if r.group == "g=b"]
    assert row_b.metrics["favorable_rate"].ratio_to_reference.reason == Reason.REFERENCE_ZERO


def test_disparate_impact_against_a_zero_reference_says_the_reference_is_zero() -> None:
    # Same data as above. b (1/4) and c (2/4) are not zero, and the reference's rate (0) is
    # defined: the reason is 'reference_zero', as MetricCell.ratio_to_reference gives, and
    # no group is 'the worst' of an undefined value.
    ctx = rows_context(
        ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
        [1, 0, 1, 0] * 3,
        [0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0],
    )
    table = group_table(ctx, ctx.groupings[0])
    di = table.criteria["disparate_impact"]
    assert di.value.reason == Reason.REFERENCE_ZERO  # got ALL_ZERO ("every group is 0")
    assert di.between is None  # got "g=b vs g=a"
    ratio = table.criteria["demographic_parity_ratio"]
    for criterion in (di, ratio):
        for value in criterion.by_group.values():
            assert value.reason == Reason.REFERENCE_ZERO  # got REFERENCE_UNDEFINED


def test_aif360_criteria_with_an_excluded_reference_do_not_claim_too_few_groups() -> None:
    # Reference B (10 rows) is below min_group_size = 11; A (20) and C (12) are judged, and
    # the fairlearn-convention criteria compare them. The AIF360 ones, which need the
    # reference, are undefined -- but not because fewer than two groups have enough data.
    ctx = hand_context(min_group_size=11)
    frame = ctx.frame
    ctx = AuditContext(
        **{**ctx.__dict__, "groupings": encode_groups(frame, ["g"], references={"g": "B"})}
    )
    table = group_table(ctx, ctx.groupings[0])
    assert table.criteria["demographic_parity_difference"].n_compared == n_of("A") + n_of("C")
    for name in ("average_odds_difference", "average_absolute_odds_difference", "disparate_impact"):
        value = table.criteria[name].value
        assert value.value is None
        assert value.reason is Reason.REFERENCE_EXCLUDED, name
        assert table.criteria[name].excluded == {"g=B": Reason.BELOW_MIN_GROUP_SIZE}


def test_average_odds_difference_does_not_depend_on_group_names() -> None:
    # Reference a: TPR 1/2, FPR 1/2. One group has TPR 1 (AOD +1/4), the other TPR 0
    # (AOD -1/4), both FPR 1/2. Naming them b, c or c, b must not change the attribute value.
    y_true = [1, 1, 0, 0] * 3
    y_pred = [1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0]
    values = []
    for second, third in (("b", "c"), ("c", "b")):
        ctx = rows_context(["a"] * 4 + [second] * 4 + [third] * 4, y_true, y_pred)
        aod = group_table(ctx, ctx.groupings[0]).criteria["average_odds_difference"]
        figures = sorted(v.value for v in aod.by_group.values() if v.value is not None)
        assert figures == [-0.25, 0.25]
        values.append(aod.value.value)
    assert values[0] == values[1]  # got +0.25 and -0.25
