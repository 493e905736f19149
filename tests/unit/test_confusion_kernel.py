"""The confusion-count kernel, every rate in RATES, and the Wilson interval, against hand values.

The expected numbers below are written by hand from a confusion table (four cells per group)
and from the textbook Wilson formula; none is copied from auditor's output.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from auditor.checks.fairness import group_table
from auditor.checks.metric_catalog import FAVORABLE_RATE
from auditor.context import AuditContext, CheckSettings
from auditor.groups import Grouping
from auditor.inputs.labels import BinaryLabels
from auditor.results import GroupTable, Reason
from auditor.stats.confusion import CELLS, RATES, grouped_confusion, rate
from auditor.stats.intervals import kish_effective_n, wilson_interval, z_value

F = Fraction

# --- the hand-made confusion table --------------------------------------------------------
# Group -> (TP, FP, FN, TN). Written by hand; every expected rate below comes from these.
GROUPS = ("A", "B", "C", "D", "E")
TABLE: dict[str, dict[str, int]] = {
    "A": {"tp": 3, "fp": 1, "fn": 2, "tn": 4},  # n = 10, everything defined
    "B": {"tp": 0, "fp": 2, "fn": 0, "tn": 3},  # n = 5, no actual positives
    "C": {"tp": 0, "fp": 0, "fn": 0, "tn": 0},  # n = 0, empty (declared, no rows)
    "D": {"tp": 2, "fp": 1, "fn": 0, "tn": 0},  # n = 3, no predicted negatives
    "E": {"tp": 0, "fp": 0, "fn": 3, "tn": 0},  # n = 3, no actual negatives, none predicted +
}
N = {g: sum(TABLE[g].values()) for g in GROUPS}


class Undefined:
    """An expected undefined value, with the reason code auditor must give."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Undefined({self.reason})"


NO_POS = Undefined("no_positives")
NO_NEG = Undefined("no_negatives")
NO_PPOS = Undefined("no_predicted_positives")
NO_PNEG = Undefined("no_predicted_negatives")
EMPTY = Undefined("empty_group")

# Rate -> value per group (A, B, C, D, E), computed by hand from TABLE and the definitions:
#   selection_rate (TP+FP)/n   base_rate (TP+FN)/n   TPR TP/(TP+FN)   FNR FN/(TP+FN)
#   FPR FP/(FP+TN)   TNR TN/(FP+TN)   precision TP/(TP+FP)   FDR FP/(TP+FP)
#   NPV TN/(TN+FN)   FOR FN/(TN+FN)   accuracy (TP+TN)/n
# The empty group C: every rate is undefined because the group has no rows.
HAND: dict[str, tuple[object, ...]] = {
    "selection_rate": (F(4, 10), F(2, 5), EMPTY, F(3, 3), F(0, 3)),
    "base_rate": (F(5, 10), F(0, 5), EMPTY, F(2, 3), F(3, 3)),
    "true_positive_rate": (F(3, 5), NO_POS, EMPTY, F(2, 2), F(0, 3)),
    "false_negative_rate": (F(2, 5), NO_POS, EMPTY, F(0, 2), F(3, 3)),
    "false_positive_rate": (F(1, 5), F(2, 5), EMPTY, F(1, 1), NO_NEG),
    "true_negative_rate": (F(4, 5), F(3, 5), EMPTY, F(0, 1), NO_NEG),
    "precision": (F(3, 4), F(0, 2), EMPTY, F(2, 3), NO_PPOS),
    "false_discovery_rate": (F(1, 4), F(2, 2), EMPTY, F(1, 3), NO_PPOS),
    "negative_predictive_value": (F(4, 6), F(3, 3), EMPTY, NO_PNEG, F(0, 3)),
    "false_omission_rate": (F(2, 6), F(0, 3), EMPTY, NO_PNEG, F(3, 3)),
    "accuracy": (F(7, 10), F(3, 5), EMPTY, F(2, 3), F(0, 3)),
}
# Numerator and denominator counts of each rate per group, by hand (for the Wilson checks).
HAND_COUNTS: dict[str, tuple[tuple[int, int], ...]] = {
    "selection_rate": ((4, 10), (2, 5), (0, 0), (3, 3), (0, 3)),
    "base_rate": ((5, 10), (0, 5), (0, 0), (2, 3), (3, 3)),
    "true_positive_rate": ((3, 5), (0, 0), (0, 0), (2, 2), (0, 3)),
    "false_negative_rate": ((2, 5), (0, 0), (0, 0), (0, 2), (3, 3)),
    "false_positive_rate": ((1, 5), (2, 5), (0, 0), (1, 1), (0, 0)),
    "true_negative_rate": ((4, 5), (3, 5), (0, 0), (0, 1), (0, 0)),
    "precision": ((3, 4), (0, 2), (0, 0), (2, 3), (0, 0)),
    "false_discovery_rate": ((1, 4), (2, 2), (0, 0), (1, 3), (0, 0)),
    "negative_predictive_value": ((4, 6), (3, 3), (0, 0), (0, 0), (0, 3)),
    "false_omission_rate": ((2, 6), (0, 3), (0, 0), (0, 0), (3, 3)),
    "accuracy": ((7, 10), (3, 5), (0, 0), (2, 3), (0, 3)),
}
NON_EMPTY = [i for i, g in enumerate(GROUPS) if N[g] > 0]
EMPTY_INDEX = GROUPS.index("C")


def rows_from_table(
    table: dict[str, dict[str, int]], seed: int = 7
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per counted case, in shuffled order: (codes, y_true, y_pred)."""
    cell_to_labels = {"tp": (1, 1), "fp": (0, 1), "fn": (1, 0), "tn": (0, 0)}
    codes, y_true, y_pred = [], [], []
    for code, group in enumerate(GROUPS):
        for cell, count in table[group].items():
            t, p = cell_to_labels[cell]
            codes += [code] * count
            y_true += [t] * count
            y_pred += [p] * count
    order = np.random.default_rng(seed).permutation(len(codes))
    return (
        np.asarray(codes, dtype=np.int64)[order],
        np.asarray(y_true, dtype=bool)[order],
        np.asarray(y_pred, dtype=bool)[order],
    )


def make_context(
    codes: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    keys: tuple[str, ...] = tuple(f"g={g}" for g in GROUPS),
    reference: int = 0,
    weights: np.ndarray | None = None,
    **settings: object,
) -> tuple[AuditContext, Grouping]:
    grouping = Grouping(
        attribute="g",
        columns=("g",),
        codes=codes,
        keys=keys,
        labels=tuple({"g": k.split("=", 1)[1]} for k in keys),
        reference=reference,
        reference_rule="user",
    )
    ctx = AuditContext(
        frame=pd.DataFrame({"g": [keys[c] for c in codes]}),
        labels=BinaryLabels(positive="1", other="0"),
        y_true=y_true,
        y_pred=y_pred,
        scores=None,
        weights=weights,
        groupings=[grouping],
        settings=CheckSettings(**settings),  # type: ignore[arg-type]
    )
    return ctx, grouping


def hand_table(**settings: object) -> GroupTable:
    codes, y_true, y_pred = rows_from_table(TABLE)
    ctx, grouping = make_context(codes, y_true, y_pred, **settings)
    return group_table(ctx, grouping)


def wilson_by_hand(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval: (k + z²/2 ± z·√n·√(p̂q̂ + z²/4n)) / (n + z²)."""
    z = z_value(confidence)
    p = k / n
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(n) / (n + z * z) * math.sqrt(p * (1 - p) + z * z / (4 * n))
    return centre - half, centre + half


# --- the kernel ---------------------------------------------------------------------------


def test_grouped_confusion_cells_equal_the_hand_table() -> None:
    codes, y_true, y_pred = rows_from_table(TABLE)
    counts = grouped_confusion(codes, len(GROUPS), y_true, y_pred)
    assert counts.n_groups == len(GROUPS)
    for i, group in enumerate(GROUPS):
        for cell in CELLS:
            assert counts.cell(cell)[i] == TABLE[group][cell], (group, cell)
        assert counts.cell("n")[i] == N[group]
        assert counts.rows[i] == N[group]


def test_every_rate_in_rates_has_a_hand_value() -> None:
    assert set(RATES) == set(HAND), "a rate was added or removed: write its hand values"


@pytest.mark.parametrize("name", sorted(HAND))
def test_kernel_rate_matches_its_definition(name: str) -> None:
    codes, y_true, y_pred = rows_from_table(TABLE)
    counts = grouped_confusion(codes, len(GROUPS), y_true, y_pred)
    num, den, value = rate(counts, RATES[name])
    for i, expected in enumerate(HAND[name]):
        k, n = HAND_COUNTS[name][i]
        assert num[i] == k and den[i] == n, (name, GROUPS[i])
        if isinstance(expected, Undefined):
            assert np.isnan(value[i]), (name, GROUPS[i], value[i])
        else:
            assert value[i] == pytest.approx(float(expected), abs=1e-15), (name, GROUPS[i])


def test_selection_rate_is_predicted_positives_not_the_base_rate() -> None:
    # TRAPS: responsible-ai-toolbox PR#1958 computed (FN + TP) / n and called it selection rate.
    codes, y_true, y_pred = rows_from_table(TABLE)
    counts = grouped_confusion(codes, len(GROUPS), y_true, y_pred)
    _, _, selection = rate(counts, RATES["selection_rate"])
    a = GROUPS.index("A")
    tp, fp, fn = TABLE["A"]["tp"], TABLE["A"]["fp"], TABLE["A"]["fn"]
    assert selection[a] == pytest.approx((tp + fp) / N["A"])  # 0.4
    assert selection[a] != pytest.approx((tp + fn) / N["A"])  # 0.5 would be the base rate
    assert RATES["selection_rate"].numerator == ("tp", "fp")
    assert RATES["base_rate"].numerator == ("tp", "fn")
    # Independently of the table: the share of rows predicted positive.
    assert selection[a] == pytest.approx(y_pred[codes == a].mean())


def test_empty_group_gets_zero_counts_not_an_error() -> None:
    codes = np.array([0, 0, 2], dtype=np.int64)
    counts = grouped_confusion(codes, 4, np.array([1, 0, 1], bool), np.array([1, 1, 0], bool))
    assert counts.cells.shape == (4, 4)
    assert counts.cells[1].tolist() == [0, 0, 0, 0]
    assert counts.cells[3].tolist() == [0, 0, 0, 0]
    assert counts.rows.tolist() == [2, 0, 1, 0]


def test_weighted_counts_equal_repeated_rows() -> None:
    codes, y_true, y_pred = rows_from_table(TABLE)
    weights = np.random.default_rng(3).integers(1, 5, size=codes.size).astype(np.float64)
    repeat = weights.astype(np.int64)
    weighted = grouped_confusion(codes, len(GROUPS), y_true, y_pred, weights)
    repeated = grouped_confusion(
        np.repeat(codes, repeat), len(GROUPS), np.repeat(y_true, repeat), np.repeat(y_pred, repeat)
    )
    np.testing.assert_array_equal(weighted.cells, repeated.cells)
    # The row count stays the number of rows, not the weight sum.
    np.testing.assert_array_equal(weighted.rows, [N[g] for g in GROUPS])
    for name, spec in RATES.items():
        _, _, w_value = rate(weighted, spec)
        _, _, r_value = rate(repeated, spec)
        np.testing.assert_allclose(w_value, r_value, rtol=0, atol=1e-15, err_msg=name)


def test_weighted_group_table_equals_repeated_rows() -> None:
    codes, y_true, y_pred = rows_from_table(TABLE)
    weights = np.random.default_rng(5).integers(1, 4, size=codes.size).astype(np.float64)
    repeat = weights.astype(np.int64)
    ctx_w, grouping_w = make_context(codes, y_true, y_pred, weights=weights)
    ctx_r, grouping_r = make_context(
        np.repeat(codes, repeat), np.repeat(y_true, repeat), np.repeat(y_pred, repeat)
    )
    weighted, repeated = group_table(ctx_w, grouping_w), group_table(ctx_r, grouping_r)
    for row_w, row_r, group in zip(weighted.rows, repeated.rows, GROUPS, strict=True):
        assert row_w.n == N[group]
        assert row_w.weight_sum == pytest.approx(row_r.n)
        assert row_w.counts == row_r.counts
        for name in RATES:
            vw, vr = row_w.metrics[name].value, row_r.metrics[name].value
            if vr.value is None:
                assert vw.value is None and vw.reason == vr.reason
            else:
                assert vw.value == pytest.approx(vr.value, abs=1e-15), (group, name)


def test_scaling_every_weight_leaves_rates_unchanged() -> None:
    codes, y_true, y_pred = rows_from_table(TABLE)
    w = np.random.default_rng(11).uniform(0.2, 3.0, size=codes.size)
    base = grouped_confusion(codes, len(GROUPS), y_true, y_pred, w)
    scaled = grouped_confusion(codes, len(GROUPS), y_true, y_pred, w * 7.5)
    np.testing.assert_allclose(scaled.cells, base.cells * 7.5, rtol=1e-14)
    for spec in RATES.values():
        np.testing.assert_allclose(rate(scaled, spec)[2], rate(base, spec)[2], rtol=1e-13)


# --- group_table: values, undefined values and reasons ------------------------------------


@pytest.mark.parametrize("name", sorted(HAND))
def test_group_table_value_or_reason_matches_hand(name: str) -> None:
    table = hand_table(min_group_size=1)
    for i in NON_EMPTY:
        row, expected = table.rows[i], HAND[name][i]
        value = row.metrics[name].value
        if isinstance(expected, Undefined):
            # Undefined is None with a reason: never 0 (AIF360#307), never a NaN.
            assert value.value is None, (name, row.group, value)
            assert value.reason == Reason(expected.reason), (name, row.group)
            assert value.ci_low is None and value.ci_high is None
        else:
            assert value.value == pytest.approx(float(expected), abs=1e-15), (name, row.group)
            assert value.reason is None


def test_group_table_counts_and_sizes_equal_the_hand_table() -> None:
    table = hand_table()
    assert [row.group for row in table.rows] == [f"g={g}" for g in GROUPS]
    for row, group in zip(table.rows, GROUPS, strict=True):
        assert row.n == N[group]
        assert row.counts == {c: float(TABLE[group][c]) for c in ("tp", "fp", "fn", "tn")}
        assert row.weight_sum is None


def test_empty_group_every_rate_undefined_with_reason_empty_group() -> None:
    # A declared group with no rows: every rate is undefined *because the group is empty*;
    # "no actual positives" or "no predicted negatives" would misdescribe it.
    row = hand_table(min_group_size=0).rows[EMPTY_INDEX]
    assert row.n == 0
    wrong = {
        name: cell.value.reason
        for name, cell in row.metrics.items()
        if cell.value.value is not None or cell.value.reason != Reason.EMPTY_GROUP
    }
    assert wrong == {}, f"empty group: rates not undefined with reason empty_group: {wrong}"


def test_empty_group_values_and_disparities_are_never_numbers() -> None:
    row = hand_table(min_group_size=0).rows[EMPTY_INDEX]
    for name, cell in row.metrics.items():
        for measure in (
            cell.value,
            cell.difference_to_reference,
            cell.ratio_to_reference,
            cell.ratio_to_highest,
        ):
            assert measure.value is None and measure.reason is not None, (name, measure)


@pytest.mark.parametrize("outcome", ["favorable", "adverse"])
def test_favorable_rate_follows_the_positive_outcome(outcome: str) -> None:
    table = hand_table(positive_outcome=outcome)
    for i in NON_EMPTY:
        cells = TABLE[GROUPS[i]]
        if outcome == "favorable":  # predicted positive is the good outcome
            expected = F(cells["tp"] + cells["fp"], N[GROUPS[i]])
        else:  # predicted negative is the good outcome
            expected = F(cells["tn"] + cells["fn"], N[GROUPS[i]])
        value = table.rows[i].metrics[FAVORABLE_RATE].value.value
        assert value == pytest.approx(float(expected), abs=1e-15), (outcome, GROUPS[i])
    empty = table.rows[EMPTY_INDEX].metrics[FAVORABLE_RATE].value
    assert empty.value is None and empty.reason == Reason.EMPTY_GROUP


# --- disparities and summaries against exact fraction arithmetic --------------------------


@pytest.mark.parametrize("reference", [0, 3])
@pytest.mark.parametrize("name", sorted(HAND))
def test_disparities_and_summaries_match_fraction_arithmetic(name: str, reference: int) -> None:
    min_group_size = 4  # eligible: A (10 rows) and B (5); C, D, E are too small
    table = hand_table(min_group_size=min_group_size, reference=reference)
    values = HAND[name]
    ref_value = values[reference]
    eligible = [i for i, g in enumerate(GROUPS) if N[g] >= min_group_size]
    defined = [i for i in eligible if not isinstance(values[i], Undefined)]
    highest = max((values[i] for i in defined), default=None)
    assert table.reference == f"g={GROUPS[reference]}"
    for i, group in enumerate(GROUPS):
        cell = table.rows[i].metrics[name]
        own = values[i]
        if isinstance(own, Undefined):
            for measure in (
                cell.difference_to_reference,
                cell.ratio_to_reference,
                cell.ratio_to_highest,
            ):
                assert measure.value is None, (name, group)
                if N[group] > 0:
                    assert measure.reason == Reason(own.reason), (name, group)
            continue
        assert isinstance(own, Fraction)
        if isinstance(ref_value, Undefined):
            assert cell.difference_to_reference.value is None
            assert cell.difference_to_reference.reason == Reason.REFERENCE_UNDEFINED
            assert cell.ratio_to_reference.reason == Reason.REFERENCE_UNDEFINED
        else:
            diff = cell.difference_to_reference.value
            assert diff == pytest.approx(float(own - ref_value), abs=1e-15), (name, group)
            if ref_value == 0:
                assert cell.ratio_to_reference.value is None
                assert cell.ratio_to_reference.reason == Reason.REFERENCE_ZERO
            else:
                expected = float(own / ref_value)
                assert cell.ratio_to_reference.value == pytest.approx(expected, rel=1e-14)
        if len(defined) < 2:  # one judged group has no "highest" to compare with
            assert cell.ratio_to_highest.reason == Reason.FEWER_THAN_TWO_GROUPS
        elif highest == 0:
            assert cell.ratio_to_highest.reason == Reason.ALL_ZERO
        else:
            assert cell.ratio_to_highest.value == pytest.approx(float(own / highest), rel=1e-14)

    summary = table.summaries[name]
    assert summary.groups_compared == [f"g={GROUPS[i]}" for i in defined]
    for i, group in enumerate(GROUPS):
        key = f"g={group}"
        if i not in eligible:
            too_small = Reason.EMPTY_GROUP if N[group] == 0 else Reason.BELOW_MIN_GROUP_SIZE
            assert summary.groups_excluded[key] == too_small
        elif i not in defined:
            assert summary.groups_excluded[key] == Reason(values[i].reason)  # type: ignore[union-attr]
    if len(defined) < 2:
        assert summary.min_max_ratio.reason == Reason.FEWER_THAN_TWO_GROUPS
        assert summary.max_abs_difference.reason == Reason.FEWER_THAN_TWO_GROUPS
    else:
        picked = [values[i] for i in defined]
        low, high = min(picked), max(picked)  # type: ignore[type-var]
        assert summary.max_abs_difference.value == pytest.approx(float(high - low), abs=1e-15)
        if high == 0:
            assert summary.min_max_ratio.reason == Reason.ALL_ZERO
        else:
            assert summary.min_max_ratio.value == pytest.approx(float(low / high), rel=1e-14)


def test_reference_with_rate_zero_gives_reference_zero_not_infinity() -> None:
    # Reference B has precision 0/2 = 0: ratios to it are undefined, differences are not.
    table = hand_table(reference=GROUPS.index("B"), min_group_size=1)
    a = table.rows[GROUPS.index("A")].metrics["precision"]
    assert a.ratio_to_reference.value is None
    assert a.ratio_to_reference.reason == Reason.REFERENCE_ZERO
    assert a.difference_to_reference.value == pytest.approx(3 / 4 - 0)
    # Reference B has no actual positives: its TPR is undefined, and so is every TPR gap to it.
    tpr = table.rows[GROUPS.index("A")].metrics["true_positive_rate"]
    assert tpr.difference_to_reference.reason == Reason.REFERENCE_UNDEFINED
    assert tpr.ratio_to_reference.reason == Reason.REFERENCE_UNDEFINED


def test_all_zero_rates_give_all_zero_not_a_ratio() -> None:
    # Two groups, nobody predicted positive: selection rate 0 and 0.
    codes = np.array([0, 0, 0, 1, 1], dtype=np.int64)
    y_true = np.array([1, 0, 1, 0, 1], dtype=bool)
    y_pred = np.zeros(5, dtype=bool)
    ctx, grouping = make_context(codes, y_true, y_pred, keys=("g=x", "g=y"), min_group_size=1)
    table = group_table(ctx, grouping)
    summary = table.summaries["selection_rate"]
    assert summary.min_max_ratio.value is None
    assert summary.min_max_ratio.reason == Reason.ALL_ZERO
    assert summary.max_abs_difference.value == 0.0
    for row in table.rows:
        cell = row.metrics["selection_rate"]
        assert cell.value.value == 0.0  # a defined zero stays a zero
        assert cell.ratio_to_highest.reason == Reason.ALL_ZERO
        assert cell.ratio_to_reference.reason == Reason.REFERENCE_ZERO


def test_summary_needs_two_eligible_groups() -> None:
    table = hand_table(min_group_size=1000)
    for name in RATES:
        summary = table.summaries[name]
        assert summary.min_max_ratio.reason == Reason.FEWER_THAN_TWO_GROUPS
        assert summary.max_abs_difference.reason == Reason.FEWER_THAN_TWO_GROUPS
        assert summary.groups_compared == []
        for key, reason in summary.groups_excluded.items():
            empty = N[key.removeprefix("g=")] == 0
            assert reason == (Reason.EMPTY_GROUP if empty else Reason.BELOW_MIN_GROUP_SIZE)


# --- Wilson interval ----------------------------------------------------------------------


def test_z_value_is_the_normal_quantile() -> None:
    assert z_value(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert z_value(0.90) == pytest.approx(1.6448536269514722, abs=1e-12)
    assert z_value(0.99) == pytest.approx(2.5758293035489004, abs=1e-12)
    for bad in (0.0, 1.0, 95.0, -0.5):
        with pytest.raises(ValueError):
            z_value(bad)


def test_wilson_eight_of_ten_by_hand() -> None:
    low, high = wilson_interval(np.array([8.0]), np.array([10.0]), 0.95)
    z = 1.959963984540054
    centre = (8 + z * z / 2) / (10 + z * z)
    half = z * math.sqrt(10) / (10 + z * z) * math.sqrt(0.8 * 0.2 + z * z / 40)
    assert low[0] == pytest.approx(centre - half, abs=1e-12)
    assert high[0] == pytest.approx(centre + half, abs=1e-12)
    # The published value (e.g. Newcombe 1998, method 3) to four places: 0.4902 to 0.9433.
    assert round(float(low[0]), 4) == 0.4902
    assert round(float(high[0]), 4) == 0.9433


def test_wilson_zero_successes_by_hand() -> None:
    low, high = wilson_interval(np.array([0.0]), np.array([10.0]), 0.95)
    z2 = 1.959963984540054**2
    assert low[0] == pytest.approx(0.0, abs=1e-15)
    assert high[0] == pytest.approx(z2 / (10 + z2), abs=1e-12)


def test_wilson_interval_contains_the_estimate_exactly_at_0_and_1() -> None:
    # With 0 successes the estimate is 0 and the Wilson lower bound is exactly 0 (as scipy's
    # binomtest gives); a bound of 1e-17 would be an interval that excludes its own estimate.
    n = np.array([1.0, 3.0, 10.0, 17.0, 1000.0])
    low0, _ = wilson_interval(np.zeros_like(n), n, 0.95)
    _, high1 = wilson_interval(n, n, 0.95)
    assert low0.tolist() == [0.0] * n.size, f"lower bounds at k=0: {low0.tolist()}"
    assert high1.tolist() == [1.0] * n.size, f"upper bounds at k=n: {high1.tolist()}"


def test_wilson_zero_trials_is_nan() -> None:
    low, high = wilson_interval(np.array([0.0, 3.0]), np.array([0.0, 4.0]))
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert np.isfinite(low[1]) and np.isfinite(high[1])


GRID = [
    (k, n) for n in (1, 2, 3, 5, 10, 17, 50, 123, 1000) for k in range(0, n + 1, max(1, n // 7))
]


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_wilson_matches_scipy_binomtest(confidence: float) -> None:
    k = np.array([k for k, _ in GRID], dtype=np.float64)
    n = np.array([n for _, n in GRID], dtype=np.float64)
    low, high = wilson_interval(k, n, confidence)
    for i, (ki, ni) in enumerate(GRID):
        ci = binomtest(ki, ni).proportion_ci(confidence_level=confidence, method="wilson")
        assert low[i] == pytest.approx(ci.low, abs=1e-12), (ki, ni)
        assert high[i] == pytest.approx(ci.high, abs=1e-12), (ki, ni)


def test_wilson_formula_properties() -> None:
    k = np.array([k for k, _ in GRID], dtype=np.float64)
    n = np.array([n for _, n in GRID], dtype=np.float64)
    p = k / n
    low, high = wilson_interval(k, n, 0.95)
    # Within [0, 1] and containing the point estimate.
    assert np.all((low >= 0) & (high <= 1))
    assert np.all((low <= p + 1e-15) & (p - 1e-15 <= high))
    # Symmetry: the interval for failures is the mirror of the interval for successes.
    low_f, high_f = wilson_interval(n - k, n, 0.95)
    np.testing.assert_allclose(low, 1 - high_f, atol=1e-12)
    np.testing.assert_allclose(high, 1 - low_f, atol=1e-12)
    # k = 0 starts at 0, k = n ends at 1 (up to rounding; exactness is tested above).
    assert np.allclose(low[k == 0], 0, rtol=0, atol=1e-15)
    assert np.allclose(high[k == n], 1, rtol=0, atol=1e-15)
    # A higher confidence level gives a wider interval that contains the narrower one.
    low99, high99 = wilson_interval(k, n, 0.99)
    assert np.all(low99 <= low + 1e-15) and np.all(high <= high99 + 1e-15)
    # Against this file's own transcription of the formula, for fractional counts too.
    for ki, ni in [(8, 10), (2.5, 7.25), (0.4, 3.3), (40.0, 41.0)]:
        hand_low, hand_high = wilson_by_hand(ki, ni)
        lo, hi = wilson_interval(np.array([ki]), np.array([ni]))
        assert lo[0] == pytest.approx(max(hand_low, 0.0), abs=1e-12)
        assert hi[0] == pytest.approx(min(hand_high, 1.0), abs=1e-12)


@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_group_table_intervals_are_wilson_on_the_rate_counts(confidence: float) -> None:
    table = hand_table(confidence=confidence, min_group_size=1)
    for name in RATES:
        for i in NON_EMPTY:
            k, n = HAND_COUNTS[name][i]
            value = table.rows[i].metrics[name].value
            if n == 0:
                assert value.ci_low is None and value.ci_high is None
                continue
            ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
            assert value.ci_low == pytest.approx(ci.low, abs=1e-12), (name, GROUPS[i])
            assert value.ci_high == pytest.approx(ci.high, abs=1e-12), (name, GROUPS[i])


def test_kish_effective_n_by_hand() -> None:
    codes = np.array([0, 0, 0, 1, 1], dtype=np.int64)
    weights = np.array([1.0, 1.0, 2.0, 3.0, 3.0])
    eff = kish_effective_n(codes, 3, weights)
    assert eff[0] == pytest.approx((1 + 1 + 2) ** 2 / (1 + 1 + 4))  # 16/6
    assert eff[1] == pytest.approx((3 + 3) ** 2 / (9 + 9))  # 2: equal weights, n rows
    assert eff[2] == 0.0


def test_equal_weights_give_the_unweighted_interval() -> None:
    codes, y_true, y_pred = rows_from_table(TABLE)
    plain = group_table(*make_context(codes, y_true, y_pred))
    ctx, grouping = make_context(codes, y_true, y_pred, weights=np.full(codes.size, 2.5))
    weighted = group_table(ctx, grouping)
    for row_p, row_w in zip(plain.rows, weighted.rows, strict=True):
        for name in RATES:
            vp, vw = row_p.metrics[name].value, row_w.metrics[name].value
            if vp.value is None:
                assert vw.value is None and vw.reason == vp.reason
            else:
                assert vw.value == pytest.approx(vp.value, abs=1e-15)
            if vp.ci_low is None:
                assert vw.ci_low is None
            else:
                assert vw.ci_low == pytest.approx(vp.ci_low, abs=1e-12)
                assert vw.ci_high == pytest.approx(vp.ci_high, abs=1e-12)


def test_weighted_interval_uses_kish_effective_sample_size() -> None:
    codes, y_true, y_pred = rows_from_table(TABLE)
    weights = np.random.default_rng(2).uniform(0.5, 4.0, size=codes.size)
    ctx, grouping = make_context(codes, y_true, y_pred, weights=weights)
    table = group_table(ctx, grouping)
    a = GROUPS.index("A")
    in_a = codes == a
    w = weights[in_a]
    kish = w.sum() ** 2 / (w * w).sum()
    sel = y_pred[in_a]
    p = w[sel].sum() / w.sum()
    # selection rate: denominator n, so the effective trials are Kish's n itself.
    hand_low, hand_high = wilson_by_hand(p * kish, kish)
    value = table.rows[a].metrics["selection_rate"].value
    assert value.value == pytest.approx(p, abs=1e-14)
    assert value.ci_low == pytest.approx(hand_low, abs=1e-12)
    assert value.ci_high == pytest.approx(hand_high, abs=1e-12)
    # TPR: Kish's effective size of the positives themselves (the rate's own rows).
    pos = y_true[in_a]
    tpr = w[pos & sel].sum() / w[pos].sum()
    trials = w[pos].sum() ** 2 / (w[pos] ** 2).sum()
    hand_low, hand_high = wilson_by_hand(tpr * trials, trials)
    value = table.rows[a].metrics["true_positive_rate"].value
    assert value.value == pytest.approx(tpr, abs=1e-14)
    assert value.ci_low == pytest.approx(hand_low, abs=1e-12)
    assert value.ci_high == pytest.approx(hand_high, abs=1e-12)
