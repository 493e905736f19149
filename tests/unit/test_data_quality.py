"""Data quality by group: missingness, drift against the training data, duplicate rows.

Planted patterns with counts known exactly; chi-square cross-checked against scipy.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from auditor.errors import InputError
from auditor.governance import duplicate_rows
from auditor.governance.data_quality import (
    CategoryDrift,
    RangeDrift,
    drift_against_training,
    duplicates,
    missingness_by_group,
)

ADULT = Path(__file__).resolve().parents[2] / "tests" / "data" / "adult.csv"


# --- missingness ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    """2,000 rows in group 0 and 3,000 in group 1; 'income' missing for 40 % vs 2 %."""
    rng = np.random.default_rng(7)
    codes = np.repeat([0, 1], [2000, 3000])
    income = rng.normal(50, 10, codes.size)
    income[np.flatnonzero(codes == 0)[:800]] = np.nan  # 40 % of group 0
    income[np.flatnonzero(codes == 1)[:60]] = np.nan  # 2 % of group 1
    mcar = rng.normal(size=codes.size)
    mcar[rng.random(codes.size) < 0.1] = np.nan  # missing completely at random
    frame = pd.DataFrame(
        {
            "income": income,
            "mcar": mcar,
            "full": np.arange(codes.size),
            "label": pd.Series(np.where(codes == 0, "a", "b")).where(np.arange(codes.size) != 5),
        }
    )
    return frame, codes


def test_planted_missingness_depends_on_group(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, codes = planted
    m = missingness_by_group(frame, codes, 2, keys=["g=0", "g=1"])
    assert m.group_n.tolist() == [2000, 3000] and m.n_rows == 5000
    income = m.column("income")
    assert income.n_missing == 860 and income.share == pytest.approx(860 / 5000)
    assert income.group_missing.tolist() == [800, 60]
    np.testing.assert_allclose(income.group_share, [0.4, 0.02])
    assert income.gap == pytest.approx(0.38)
    table = np.array([[800, 60], [1200, 2940]])
    direct = chi2_contingency(table, correction=False)
    assert income.chi_square == pytest.approx(direct.statistic, rel=1e-12)
    assert income.p_value == pytest.approx(direct.pvalue, abs=1e-300)
    assert income.p_value < 1e-100 and income.dof == 1
    assert income.cramers_v == pytest.approx(math.sqrt(direct.statistic / 5000), rel=1e-12)
    assert income.cramers_v > 0.4
    assert income.test_reason is None and income.note is None


def test_random_and_absent_missingness(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, codes = planted
    m = missingness_by_group(frame, codes, 2)
    mcar = m.column("mcar")
    per_group = [int(frame["mcar"][codes == g].isna().sum()) for g in (0, 1)]
    assert mcar.group_missing.tolist() == per_group
    direct = chi2_contingency(
        np.array([per_group, [2000 - per_group[0], 3000 - per_group[1]]]), correction=False
    )
    assert mcar.chi_square == pytest.approx(direct.statistic, rel=1e-12)
    assert mcar.p_value == pytest.approx(direct.pvalue, rel=1e-9)
    assert mcar.p_value > 0.05 and mcar.cramers_v < 0.05

    full = m.column("full")
    assert full.n_missing == 0 and full.share == 0.0
    assert math.isnan(full.p_value) and math.isnan(full.cramers_v) and math.isnan(full.chi_square)
    assert full.dof is None and "no missing values" in str(full.test_reason)

    one = m.column("label")  # a single missing value: expected counts of 0.4 and 0.6
    assert one.group_missing.tolist() == [1, 0]
    assert one.note is not None and "< 5" in one.note


def test_missingness_edge_cases() -> None:
    frame = pd.DataFrame({"x": [np.nan, np.nan, np.nan], "y": [1.0, np.nan, 2.0]})
    m = missingness_by_group(frame, np.array([0, 0, 0]), 2)
    assert "every value" in str(m.column("x").test_reason)
    y = m.column("y")
    assert "fewer than two groups" in str(y.test_reason) and math.isnan(y.gap)
    assert y.group_share[0] == pytest.approx(1 / 3) and math.isnan(y.group_share[1])
    with pytest.raises(InputError, match="rows"):
        missingness_by_group(frame, np.array([0, 1]), 2)
    with pytest.raises(KeyError):
        m.column("nope")


def test_adult_placeholders_count_as_missing() -> None:
    adult = pd.read_csv(ADULT)
    codes, _ = pd.factorize(adult["sex"], sort=True)
    plain = missingness_by_group(adult, codes, 2)
    assert plain.column("workclass").n_missing == 0  # '?' is a value unless declared
    m = missingness_by_group(adult, codes, 2, placeholders=("?",))
    assert m.column("workclass").n_missing == int((adult["workclass"] == "?").sum()) == 1836
    occupation = m.column("occupation")
    female = adult["sex"] == "Female"
    expected = [int((adult["occupation"][female] == "?").sum())]
    expected.append(int((adult["occupation"][~female] == "?").sum()))
    assert occupation.group_missing.tolist() == expected
    assert occupation.p_value < 1e-6  # missing more often for women in Adult


# --- drift against the training data ----------------------------------------------------


def test_out_of_range_and_unseen_categories_exact() -> None:
    rng = np.random.default_rng(11)
    train = pd.DataFrame(
        {
            "amount": rng.uniform(0, 100, 1000),
            "kind": rng.choice(["a", "b", "c"], 1000),
            "rating": rng.integers(1, 6, 1000),  # 5 distinct values: a category
            "flag": rng.random(1000) < 0.5,
            "only_train": 1.0,
        }
    )
    train.loc[0, "amount"], train.loc[1, "amount"] = 0.0, 100.0
    amount = rng.uniform(0, 100, 500)
    amount[:30], amount[30:50], amount[50:60] = -5.0, 150.0, np.nan
    kind = rng.choice(["a", "b", "c"], 500).astype(object)
    kind[:7] = "zzz"
    kind[7:10] = "an unusually long category label that goes on"
    kind[10:12] = "new"
    kind[12:20] = None
    rating = rng.integers(1, 6, 500)
    rating[:4] = 9
    audit = pd.DataFrame(
        {"amount": amount, "kind": kind, "rating": rating, "flag": True, "only_audit": 0}
    )
    d = drift_against_training(train, audit)
    assert d.only_in_train == ("only_train",) and d.only_in_audit == ("only_audit",)
    assert (d.n_train, d.n_audit) == (1000, 500)

    a = d.column("amount")
    assert isinstance(a, RangeDrift)
    assert (a.train_min, a.train_max) == (0.0, 100.0)
    assert (a.n_below, a.n_above, a.n_checked) == (30, 20, 490)
    assert a.share_below == 30 / 500 and a.share_above == 20 / 500
    assert a.share_outside == pytest.approx(50 / 500)
    assert a.reason is None and a.n_not_comparable == 0

    k = d.column("kind")
    assert isinstance(k, CategoryDrift)
    assert k.n_train_categories == 3 and k.n_checked == 492
    assert k.n_unseen == 12 and k.share_unseen == 12 / 500 and k.n_unseen_categories == 3
    long_label = "an unusually long category la…"
    assert len(long_label) == 30
    assert k.unseen_examples == ("zzz", long_label, "new")

    r = d.column("rating")
    assert isinstance(r, CategoryDrift) and r.n_unseen == 4 and r.unseen_examples == ("9",)
    f = d.column("flag")
    assert isinstance(f, CategoryDrift) and f.n_unseen == 0 and f.share_unseen == 0.0


def test_drift_caps_examples_and_handles_types() -> None:
    train = pd.DataFrame(
        {
            "c": ["x"] * 50,
            "when": pd.date_range("2024-01-01", periods=50, freq="D"),
            "empty": np.nan,
            "num": np.arange(50.0),
        }
    )
    audit = pd.DataFrame(
        {
            "c": [f"v{i}" for i in range(8)] + ["v0"] * 2,
            "when": pd.to_datetime(["2023-12-01"] * 3 + ["2024-01-05"] * 6 + ["2025-01-01"]),
            "empty": 1.0,
            "num": ["1", "2", "oops", "-3", "60", None, "5", "6", "7", "8"],
        }
    )
    d = drift_against_training(train, audit)
    c = d.column("c")
    assert isinstance(c, CategoryDrift)
    assert c.n_unseen == 10 and c.n_unseen_categories == 8
    assert c.unseen_examples == ("v0", "v1", "v2", "v3", "v4")  # most frequent, then by name
    w = d.column("when")
    assert isinstance(w, RangeDrift)
    assert (w.n_below, w.n_above) == (3, 1) and w.train_min == "2024-01-01T00:00:00"
    e = d.column("empty")
    assert math.isnan(e.share_unseen if isinstance(e, CategoryDrift) else e.share_outside)
    assert e.reason is not None and "no values" in e.reason
    n = d.column("num")  # numbers read as text in the audit data
    assert isinstance(n, RangeDrift)
    assert (n.n_below, n.n_above, n.n_not_comparable, n.n_checked) == (1, 1, 1, 8)


# --- duplicates -------------------------------------------------------------------------


def test_planted_duplicates_counted_exactly() -> None:
    rng = np.random.default_rng(5)
    base = pd.DataFrame(
        {"a": rng.normal(size=1000), "b": rng.choice(["x", "y"], 1000), "c": np.arange(1000)}
    )
    copies = base.iloc[[3, 3, 10, 500, 999]]  # row 3 twice: 5 duplicates in all
    frame = pd.concat([base, copies], ignore_index=True)
    codes = np.r_[np.zeros(1000, int), [0, 0, 1, 1, 1]]
    codes[3], codes[10], codes[500], codes[999] = 0, 1, 1, 1
    d = duplicates(frame, ["b"], codes=codes, n_groups=2)
    assert d.n_rows == 1005 and d.n_duplicates == 5 and d.share == 5 / 1005
    assert d.subset == ("b",) and d.n_duplicates_subset == 1003  # 2 distinct values of b
    assert d.group_n_duplicates is not None and d.group_n_duplicates.tolist() == [2, 3]
    assert d.group_share is not None
    np.testing.assert_allclose(d.group_share, [2 / np.sum(codes == 0), 3 / np.sum(codes == 1)])
    assert frame.duplicated().sum() == 5
    with pytest.raises(InputError, match="nope"):
        duplicates(frame, ["nope"])


def test_duplicates_match_pandas_on_awkward_values(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    n = 3000
    frame = pd.DataFrame(
        {
            "f": rng.choice([0.0, -0.0, np.nan, 1.5], n),
            "o": pd.Series(rng.choice(np.array([None, np.nan, "a", 1, 1.0], dtype=object), n)),
            "s": pd.Series(rng.choice(np.array(["x", "y", None], dtype=object), n)),
            "cat": pd.Categorical(rng.choice(["p", "q"], n)),
            "i": pd.Series(rng.choice(np.array([1, 2, None], dtype=object), n), dtype="Int64"),
            "t": pd.to_datetime(rng.choice(np.array(["2020-01-01", None], dtype=object), n)),
            "b": rng.random(n) < 0.5,
        }
    )
    expected = frame.duplicated().to_numpy()
    np.testing.assert_array_equal(duplicate_rows.duplicated_rows(frame), expected)
    # every row hashing alike forces the check to fail and the exact fallback to run
    monkeypatch.setattr(duplicate_rows, "_mix", lambda x: np.zeros_like(x))
    np.testing.assert_array_equal(duplicate_rows.duplicated_rows(frame), expected)


def test_duplicates_of_empty_frame() -> None:
    d = duplicates(pd.DataFrame({"a": []}), ["a"])
    assert d.n_duplicates == 0 and math.isnan(d.share) and d.reason is not None
    assert d.share_subset is not None and math.isnan(d.share_subset)
