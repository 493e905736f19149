"""Representativeness: group shares, shares against a reference, base rates, train/audit shift.

Every number is cross-checked against scipy (``chisquare``, ``chi2_contingency``,
``binomtest(...).proportion_ci(method="wilson")``) or a formula written out here.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, chi2_contingency, chisquare

from auditor.errors import InputError
from auditor.governance.representation import (
    OTHER,
    base_rates,
    compare_to_reference,
    group_shares,
    shift,
)

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT / "tests" / "data" / "adult.csv"
GERMAN = ROOT / "sample_models" / "data" / "german_credit.csv"

# Reference population shares, US-census style (rounded, stated here rather than sourced):
# sex from the 2010s census (women 50.8 %), race in Adult's five categories (White 76 %,
# Black 13.4 %, Asian or Pacific Islander 6.3 %, American Indian or Alaska Native 1.3 %,
# Other 3 %). Both already sum to exactly 1, so the normalisation changes nothing.
SEX_REFERENCE = {"sex=Female": 0.508, "sex=Male": 0.492}
RACE_REFERENCE = {
    "race=White": 0.76,
    "race=Black": 0.134,
    "race=Asian-Pac-Islander": 0.063,
    "race=Amer-Indian-Eskimo": 0.013,
    "race=Other": 0.03,
}


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return pd.read_csv(ADULT)


def encode(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    codes, uniques = pd.factorize(series, sort=True)
    return codes.astype(np.int64), [f"{series.name}={u}" for u in uniques]


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return ci.low, ci.high


# --- shares against a reference: Adult ---------------------------------------------------


def test_adult_sex_against_census(adult: pd.DataFrame) -> None:
    codes, keys = encode(adult["sex"])
    r = compare_to_reference(codes, len(keys), keys, SEX_REFERENCE, min_ratio=0.8)
    n = len(adult)
    counts = np.array([(adult["sex"] == "Female").sum(), (adult["sex"] == "Male").sum()])
    assert r.keys == ("sex=Female", "sex=Male")
    assert r.n.tolist() == counts.tolist() == [10771, 21790]
    expected = np.array([0.508, 0.492])
    np.testing.assert_allclose(r.observed, counts / n)
    np.testing.assert_allclose(r.expected, expected)
    np.testing.assert_allclose(r.ratio, counts / n / expected)
    assert r.ratio[0] == pytest.approx(0.6512, abs=1e-4)  # women under-represented
    for g in range(2):
        low, high = wilson(int(counts[g]), n)
        assert r.observed_low[g] == pytest.approx(low, rel=1e-9)
        assert r.observed_high[g] == pytest.approx(high, rel=1e-9)
        # the expected share is a fixed number: the ratio interval is the share's, rescaled
        assert r.ratio_low[g] == pytest.approx(low / expected[g], rel=1e-9)
        assert r.ratio_high[g] == pytest.approx(high / expected[g], rel=1e-9)
    assert r.under_represented == (True, False)
    assert r.ratio_reasons == (None, None)
    direct = chisquare(counts, expected * n)
    assert r.chi_square == pytest.approx(direct.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(direct.pvalue, abs=1e-300)
    assert r.dof == 1
    assert r.chi_square == pytest.approx(4090.94, abs=0.01)
    tvd = 0.5 * (abs(10771 / n - 0.508) + abs(21790 / n - 0.492))
    assert r.tvd == pytest.approx(tvd, rel=1e-12)
    assert r.tvd == pytest.approx(0.1772, abs=1e-4)
    assert r.tvd_low < r.tvd < r.tvd_high
    assert r.tvd_high - r.tvd_low < 0.02
    assert r.chi_square_note is None and r.chi_square_reason is None
    assert not r.weighted and r.n_effective == n


def test_adult_race_against_census(adult: pd.DataFrame) -> None:
    codes, keys = encode(adult["race"])
    r = compare_to_reference(codes, len(keys), keys, RACE_REFERENCE, min_ratio=0.8)
    n = len(adult)
    counts = adult["race"].value_counts().reindex([k.split("=")[1] for k in r.keys])
    expected = np.array([RACE_REFERENCE[k] for k in r.keys])
    np.testing.assert_allclose(r.observed, counts.to_numpy() / n)
    np.testing.assert_allclose(r.ratio, counts.to_numpy() / n / expected)
    direct = chisquare(counts.to_numpy(), expected * n)
    assert r.chi_square == pytest.approx(direct.statistic, rel=1e-12)
    assert r.dof == 4
    assert r.tvd == pytest.approx(0.5 * np.abs(counts.to_numpy() / n - expected).sum(), rel=1e-12)
    ratio = dict(zip(r.keys, r.ratio, strict=True))
    assert ratio["race=White"] == pytest.approx(1.124, abs=1e-3)
    assert ratio["race=Other"] == pytest.approx(0.277, abs=1e-3)
    flagged = {k for k, u in zip(r.keys, r.under_represented, strict=True) if u}
    assert flagged == set(RACE_REFERENCE) - {"race=White"}


def test_other_bucket_pools_the_unnamed_groups(adult: pd.DataFrame) -> None:
    codes, keys = encode(adult["race"])
    reference = {"race=White": 0.76, "race=Black": 0.134, OTHER: 0.106}
    r = compare_to_reference(codes, len(keys), keys, reference)
    assert r.keys == ("race=Black", "race=White", OTHER)
    assert set(r.members[2]) == {"race=Amer-Indian-Eskimo", "race=Asian-Pac-Islander", "race=Other"}
    assert r.n.tolist() == [3124, 27816, 311 + 1039 + 271]
    assert r.dof == 2
    direct = chisquare(r.n, np.array([0.134, 0.76, 0.106]) * len(adult))
    assert r.chi_square == pytest.approx(direct.statistic, rel=1e-12)


def test_reference_must_sum_to_one_and_cover_every_group() -> None:
    codes = np.array([0, 0, 1, 2])
    keys = ["a=x", "a=y", "a=z"]
    with pytest.raises(InputError, match=r"sum to 0\.9"):
        compare_to_reference(codes, 3, keys, {"a=x": 0.5, "a=y": 0.2, "a=z": 0.2})
    with pytest.raises(InputError, match="a=z"):
        compare_to_reference(codes, 3, keys, {"a=x": 0.5, "a=y": 0.5})
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        compare_to_reference(codes, 3, keys, {"a=x": 1.5, "a=y": -0.5, "a=z": 0.0})
    # within 1e-6 of 1: accepted and renormalised
    r = compare_to_reference(codes, 3, keys, {"a=x": 0.5, "a=y": 0.25, "a=z": 0.2500005})
    assert r.expected.sum() == pytest.approx(1.0, abs=1e-15)


def test_reference_group_absent_from_data_and_zero_expected_share() -> None:
    codes = np.array([0] * 60 + [1] * 40)
    keys = ["a=x", "a=y"]
    r = compare_to_reference(codes, 2, keys, {"a=x": 0.5, "a=y": 0.3, "a=w": 0.2}, min_ratio=0.8)
    assert r.keys == ("a=x", "a=y", "a=w")
    assert r.members[2] == ()
    assert r.n[2] == 0 and r.observed[2] == 0.0 and r.ratio[2] == 0.0
    assert r.under_represented[2] is True
    assert r.observed_low[2] == 0.0 and r.observed_high[2] > 0.0
    direct = chisquare([60, 40, 0], [50, 30, 20])
    assert r.chi_square == pytest.approx(direct.statistic)

    z = compare_to_reference(codes, 2, keys, {"a=x": 1.0, "a=y": 0.0}, min_ratio=0.8)
    assert math.isnan(z.ratio[1]) and "infinite" in str(z.ratio_reasons[1])
    assert z.under_represented[1] is None
    assert math.isnan(z.ratio_low[1]) and math.isnan(z.ratio_high[1])
    assert math.isnan(z.chi_square) and math.isnan(z.p_value) and z.chi_square_reason
    assert z.tvd == pytest.approx(0.4)

    absent = compare_to_reference(codes, 2, keys, {"a=x": 0.6, "a=y": 0.4, "a=w": 0.0})
    assert math.isnan(absent.ratio[2]) and "0 / 0" in str(absent.ratio_reasons[2])
    assert absent.dof == 1  # the empty category with share 0 adds nothing to the test
    assert absent.chi_square == pytest.approx(0.0, abs=1e-12)


def test_small_expected_counts_are_noted() -> None:
    codes = np.array([0] * 18 + [1] * 2)
    r = compare_to_reference(codes, 2, ["a=x", "a=y"], {"a=x": 0.9, "a=y": 0.1})
    assert r.chi_square_note is not None and "< 5" in r.chi_square_note


def test_weighted_reference_uses_effective_counts_and_ignores_weight_scale(
    adult: pd.DataFrame,
) -> None:
    codes, keys = encode(adult["sex"])
    w = adult["fnlwgt"].to_numpy(dtype=float)
    r = compare_to_reference(codes, 2, keys, SEX_REFERENCE, weights=w)
    r7 = compare_to_reference(codes, 2, keys, SEX_REFERENCE, weights=7 * w)
    share = np.bincount(codes, weights=w) / w.sum()
    n_eff = w.sum() ** 2 / (w * w).sum()
    np.testing.assert_allclose(r.observed, share)
    assert r.n_effective == pytest.approx(n_eff)
    direct = chisquare(share * n_eff, np.array([0.508, 0.492]) * n_eff)
    assert r.chi_square == pytest.approx(direct.statistic, rel=1e-9)
    assert r.chi_square_note is not None and "effective" in r.chi_square_note
    for field in ("observed", "observed_low", "observed_high", "ratio", "ratio_low", "ratio_high"):
        np.testing.assert_allclose(getattr(r7, field), getattr(r, field), rtol=1e-12)
    for field in ("chi_square", "p_value", "tvd", "tvd_low", "tvd_high", "n_effective"):
        assert getattr(r7, field) == pytest.approx(getattr(r, field), rel=1e-12)


# --- group shares -----------------------------------------------------------------------


def test_group_shares_without_reference(adult: pd.DataFrame) -> None:
    codes, keys = encode(adult["race"])
    s = group_shares(codes, len(keys), keys=keys, min_group_size=500)
    n = len(adult)
    counts = np.bincount(codes)
    assert s.n.tolist() == counts.tolist()
    np.testing.assert_allclose(s.share, counts / n)
    for g in range(len(keys)):
        low, high = wilson(int(counts[g]), n)
        assert s.low[g] == pytest.approx(low, rel=1e-9)
        assert s.high[g] == pytest.approx(high, rel=1e-9)
    small = {k for k, b in zip(s.keys, s.below_min_size, strict=True) if b}
    assert small == {"race=Amer-Indian-Eskimo", "race=Other"}
    assert s.reason is None and s.n_total == n

    w = adult["fnlwgt"].to_numpy(dtype=float)
    sw, sw7 = group_shares(codes, len(keys), w), group_shares(codes, len(keys), 7 * w)
    for field in ("share", "low", "high"):
        np.testing.assert_allclose(getattr(sw7, field), getattr(sw, field), rtol=1e-12)
    n_eff = w.sum() ** 2 / (w * w).sum()
    share = np.bincount(codes, weights=w) / w.sum()
    # Wilson on Kish effective counts, written out
    z = 1.959963984540054
    centre = (share + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
    half = z * np.sqrt(share * (1 - share) / n_eff + z * z / (4 * n_eff**2)) / (1 + z * z / n_eff)
    np.testing.assert_allclose(sw.low, centre - half, rtol=1e-9)
    np.testing.assert_allclose(sw.high, centre + half, rtol=1e-9)


def test_empty_data_and_empty_groups() -> None:
    s = group_shares(np.array([], dtype=np.int64), 2)
    assert np.isnan(s.share).all() and s.reason is not None
    s = group_shares(np.array([0, 0, 0]), 2, min_group_size=1)
    assert s.share.tolist() == [1.0, 0.0] and s.below_min_size.tolist() == [False, True]
    b = base_rates(np.array([0, 0, 0]), 2, np.array([True, False, True]))
    assert b.rate[0] == pytest.approx(2 / 3) and math.isnan(b.rate[1])
    assert b.reasons[0] is None and b.reasons[1] is not None
    assert math.isnan(b.low[1]) and math.isnan(b.high[1])
    with pytest.raises(InputError):
        group_shares(np.array([0, 2]), 2)
    with pytest.raises(InputError):
        group_shares(np.array([0, 1]), 2, weights=np.array([1.0, -1.0]))
    with pytest.raises(InputError):
        base_rates(np.array([0, 1]), 2, np.array([0, 2]))


# --- base rates: German credit ----------------------------------------------------------


def test_german_credit_base_rates_by_sex() -> None:
    german = pd.read_csv(GERMAN)
    female = german["personal_status"].isin(["A92", "A95"])
    sex = pd.Series(np.where(female, "female", "male"), name="sex")
    codes, keys = encode(sex)
    good = (german["credit"] == 1).to_numpy()
    b = base_rates(codes, 2, good, keys=keys)
    assert b.keys == ("sex=female", "sex=male")
    assert b.n.tolist() == [310, 690]
    k = [int(good[female].sum()), int(good[~female].sum())]
    assert b.n_positive.tolist() == k == [201, 499]
    np.testing.assert_allclose(b.rate, [201 / 310, 499 / 690])
    for g, n in enumerate([310, 690]):
        low, high = wilson(k[g], n)
        assert b.low[g] == pytest.approx(low, rel=1e-9)
        assert b.high[g] == pytest.approx(high, rel=1e-9)
    assert b.overall_rate == pytest.approx(0.7)
    low, high = wilson(700, 1000, 0.9)
    overall = base_rates(codes, 2, good, confidence=0.9)
    assert (overall.overall_low, overall.overall_high) == (pytest.approx(low), pytest.approx(high))

    w = np.where(german["age"] > 40, 2.0, 1.0)
    bw, bw7 = base_rates(codes, 2, good, w), base_rates(codes, 2, good, 7 * w)
    for field in ("rate", "low", "high", "n_effective"):
        np.testing.assert_allclose(getattr(bw7, field), getattr(bw, field), rtol=1e-12)
    f = female.to_numpy()
    assert bw.rate[0] == pytest.approx((w[f] * good[f]).sum() / w[f].sum())
    assert bw.n_effective[0] == pytest.approx(w[f].sum() ** 2 / (w[f] ** 2).sum())


# --- shift between training and audit data ----------------------------------------------


def test_shift_detects_dropped_women(adult: pd.DataFrame) -> None:
    codes, keys = encode(adult["sex"])
    y = (adult["income-per-year"] == ">50K").to_numpy()
    half = len(adult) // 2
    audit_rows = np.arange(half, len(adult))
    women = audit_rows[codes[audit_rows] == 0]
    kept = np.setdiff1d(audit_rows, women[::2])  # every other woman dropped: 50 %
    train_c, audit_c = codes[:half], codes[kept]
    s = shift(train_c, audit_c, 2, y[:half], y[kept], keys=keys)

    t_counts, a_counts = np.bincount(train_c), np.bincount(audit_c)
    t_share, a_share = t_counts / half, a_counts / kept.size
    np.testing.assert_allclose(s.train.share, t_share)
    np.testing.assert_allclose(s.audit.share, a_share)
    np.testing.assert_allclose(s.share_difference, a_share - t_share)
    assert s.share_difference[0] == pytest.approx(-0.1304, abs=1e-4)
    # Newcombe's hybrid score interval written out from scipy's Wilson intervals
    for g in range(2):
        l1, u1 = wilson(int(a_counts[g]), kept.size)
        l2, u2 = wilson(int(t_counts[g]), half)
        d = a_share[g] - t_share[g]
        low = d - math.sqrt((a_share[g] - l1) ** 2 + (u2 - t_share[g]) ** 2)
        high = d + math.sqrt((u1 - a_share[g]) ** 2 + (t_share[g] - l2) ** 2)
        assert s.share_difference_low[g] == pytest.approx(low, rel=1e-9)
        assert s.share_difference_high[g] == pytest.approx(high, rel=1e-9)
    direct = chi2_contingency(np.vstack([t_counts, a_counts]), correction=False)
    assert s.chi_square == pytest.approx(direct.statistic, rel=1e-12)
    assert s.p_value == pytest.approx(direct.pvalue, rel=1e-9)
    assert s.p_value < 1e-100 and s.dof == 1
    assert s.tvd == pytest.approx(abs(a_share[0] - t_share[0]), rel=1e-12)
    assert s.tvd_low < s.tvd < s.tvd_high

    assert s.train_rates is not None and s.audit_rates is not None
    assert s.rate_difference is not None and s.rate_reasons == (None, None)
    t_rate = np.bincount(train_c, weights=y[:half]) / t_counts
    a_rate = np.bincount(audit_c, weights=y[kept]) / a_counts
    np.testing.assert_allclose(s.rate_difference, a_rate - t_rate)
    np.testing.assert_allclose(s.train_rates.rate, t_rate)

    same = shift(codes[:half], codes[half:], 2, keys=keys)
    assert same.p_value > 0.05 and same.train_rates is None and same.rate_difference is None
    assert same.tvd_low == 0.0 or same.tvd_low < same.tvd


def test_shift_weights_scale_free_and_empty_groups() -> None:
    rng = np.random.default_rng(3)
    train, audit = rng.integers(0, 3, 400), rng.integers(0, 2, 300)  # group 2 not in audit
    ty, ay = rng.random(400) < 0.4, rng.random(300) < 0.5
    tw, aw = rng.random(400) + 0.5, rng.random(300) + 0.5
    s = shift(train, audit, 3, ty, ay, train_weights=tw, audit_weights=aw)
    s7 = shift(train, audit, 3, ty, ay, train_weights=7 * tw, audit_weights=7 * aw)
    for field in ("share_difference", "share_difference_low", "share_difference_high"):
        np.testing.assert_allclose(getattr(s7, field), getattr(s, field), rtol=1e-12)
    np.testing.assert_allclose(s7.rate_difference, s.rate_difference, rtol=1e-12)  # type: ignore[arg-type]
    assert s7.chi_square == pytest.approx(s.chi_square, rel=1e-12)
    assert s7.tvd_high == pytest.approx(s.tvd_high, rel=1e-12)
    assert s.chi_square_note is not None and "effective" in s.chi_square_note
    assert s.rate_difference is not None and math.isnan(s.rate_difference[2])
    assert s.rate_reasons is not None and "audit" in str(s.rate_reasons[2])
    assert s.share_difference[2] == pytest.approx(-s.train.share[2])
    with pytest.raises(InputError, match="both"):
        shift(train, audit, 3, ty, None)
