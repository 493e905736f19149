"""Proxy detection on real data: per-feature association and joint predictability of an attribute.

Measures are checked against scipy/scikit-learn computed by hand on the same rows; detection
against planted proxies (a copy of sex with 2% of values flipped, a noisy 0/1 encoding of it)
and Adult's known relationship/sex association.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency
from sklearn.metrics import normalized_mutual_info_score, roc_auc_score

from auditor.errors import InputError
from auditor.explain.proxies import Association, feature_associations, predictability
from auditor.explain.proxy_auc import ovr_auc

ROOT = Path(__file__).resolve().parents[2]
ADULT_CSV = ROOT / "tests" / "data" / "adult.csv"
GERMAN_CSV = ROOT / "sample_models" / "data" / "german_credit.csv"
SENSITIVE = ["sex", "race"]


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return pd.read_csv(ADULT_CSV)


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    """German credit with sex derived from personal_status (A92, A95 female)."""
    frame = pd.read_csv(GERMAN_CSV)
    female = frame["personal_status"].isin(["A92", "A95"])
    return frame.assign(sex=np.where(female, "female", "male"))


def adult_features(adult: pd.DataFrame) -> pd.DataFrame:
    return adult.drop(columns=[*SENSITIVE, "income-per-year"])


def german_features(german: pd.DataFrame) -> pd.DataFrame:
    return german.drop(columns=["sex", "personal_status", "credit"])


def with_planted(features: pd.DataFrame, sex: pd.Series, seed: int = 1) -> pd.DataFrame:
    """Add a 2%-flipped copy of sex and a noisy 0/1 numeric encoding of it."""
    rng = np.random.default_rng(seed)
    values = sex.to_numpy()
    flip = rng.random(len(values)) < 0.02
    other = {v: w for v, w in zip(sorted(set(values)), sorted(set(values))[::-1], strict=True)}
    copy = np.where(flip, [other[v] for v in values], values)
    code = (values == values[0]).astype(float) + rng.normal(0.0, 0.15, len(values))
    return features.assign(sex_copy=copy, sex_code=code)


def by_feature(found: list[Association]) -> dict[str, Association]:
    return {a.feature: a for a in found}


@pytest.mark.parametrize("dataset", ["adult", "german"])
def test_planted_proxies_are_near_copies_ranked_first(
    dataset: str, request: pytest.FixtureRequest
) -> None:
    frame = request.getfixturevalue(dataset)
    base = adult_features(frame) if dataset == "adult" else german_features(frame)
    found = feature_associations(with_planted(base, frame["sex"]), frame["sex"])
    assert {a.feature for a in found[:2]} == {"sex_copy", "sex_code"}
    for planted in found[:2]:
        assert planted.near_copy and planted.strength >= 0.9, planted
    copy = by_feature(found)["sex_copy"]
    assert copy.measure == "cramers_v" and copy.determination >= 0.97
    assert by_feature(found)["sex_code"].kind == "numeric"
    assert not any(a.near_copy for a in found[2:])


def test_adult_relationship_outranks_education_and_noise_is_weak(adult: pd.DataFrame) -> None:
    rng = np.random.default_rng(7)
    features = adult_features(adult).assign(
        noise=rng.normal(size=len(adult)),
        noise_categories=rng.integers(0, 30, len(adult)).astype(str),
    )
    found = feature_associations(features, adult["sex"])
    ranks = {a.feature: i for i, a in enumerate(found)}
    assert found[0].feature == "relationship" and found[0].strength > 0.5
    assert ranks["relationship"] < ranks["education-num"]
    assert by_feature(found)["noise"].strength < 0.05
    assert by_feature(found)["noise_categories"].strength < 0.05
    strengths = [a.strength for a in found]
    assert strengths == sorted(strengths, reverse=True)
    assert all(a.n == len(adult) and a.attribute == "sex" for a in found)


@pytest.mark.parametrize("feature", ["relationship", "occupation", "native-country", "with_nan"])
@pytest.mark.parametrize("attribute", SENSITIVE)
def test_cramers_v_matches_chi2_contingency(
    adult: pd.DataFrame, feature: str, attribute: str
) -> None:
    with_nan = adult["workclass"].where(adult["age"] % 7 != 0)  # NaN is a category of its own
    column = with_nan if feature == "with_nan" else adult[feature]
    found = feature_associations(pd.DataFrame({feature: column}), adult[attribute])[0]
    table = pd.crosstab(column.fillna("<NaN>"), adult[attribute]).to_numpy()
    chi2 = chi2_contingency(table, correction=False)[0]
    n, (r, c) = table.sum(), table.shape
    assert found.cramers_v == pytest.approx(np.sqrt(chi2 / (n * (min(r, c) - 1))), abs=1e-12)
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    r_bar, c_bar = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    corrected = np.sqrt(phi2 / min(r_bar - 1, c_bar - 1))
    assert found.cramers_v_corrected == pytest.approx(corrected, abs=1e-12)
    assert found.strength == found.cramers_v_corrected and found.categories == r


@pytest.mark.parametrize("feature", ["age", "hours-per-week", "fnlwgt", "occupation"])
def test_nmi_matches_sklearn_on_the_same_bins(adult: pd.DataFrame, feature: str) -> None:
    column = adult[feature].where(adult["education-num"] != 9)  # some missing values
    found = feature_associations(pd.DataFrame({feature: column}), adult["race"])[0]
    if found.kind == "numeric":
        codes = pd.qcut(column, 10, duplicates="drop").cat.codes  # NaN -> -1, its own bin
    else:
        codes = pd.Series(pd.factorize(column, use_na_sentinel=False)[0])
    assert found.categories == codes.nunique()
    expected = normalized_mutual_info_score(adult["race"], codes)
    assert found.nmi == pytest.approx(expected, abs=1e-10)


def test_dates_are_numeric_and_can_be_proxies(german: pd.DataFrame) -> None:
    rng = np.random.default_rng(2)
    days = np.where(german["sex"] == "female", 0, 400) + rng.integers(0, 300, len(german))
    dates = pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")
    found = feature_associations(pd.DataFrame({"opened": dates}), german["sex"])[0]
    assert found.kind == "numeric" and found.near_copy and found.strength > 0.9


def test_eta_matches_a_groupby_computation(adult: pd.DataFrame) -> None:
    found = feature_associations(adult[["hours-per-week"]], adult["race"])[0]
    x, groups = adult["hours-per-week"].astype(float), adult["race"]
    between = (groups.map(x.groupby(groups).mean()) - x.mean()).pow(2).sum()
    eta2 = between / (x - x.mean()).pow(2).sum()
    n, g = len(x), groups.nunique()
    assert found.eta == pytest.approx(np.sqrt(1 - (1 - eta2) * (n - 1) / (n - g)), abs=1e-12)


def test_identifiers_and_lopsided_attributes_are_not_near_copies(german: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    ids = pd.DataFrame({"row_id": [f"id{i}" for i in range(len(german))]})
    found = feature_associations(ids, german["sex"])[0]
    assert found.cramers_v == pytest.approx(1.0)  # one row per category: plain V is fooled
    assert found.strength == 0.0 and found.determination == 0.0 and not found.near_copy
    rare = pd.Series(np.where(np.arange(len(german)) < 8, "a", "b"), name="rare")
    coin = pd.DataFrame({"coin": rng.integers(0, 2, len(german))})
    found = feature_associations(coin, rare)[0]
    assert found.determination >= 0.98 and found.baseline >= 0.98 and not found.near_copy


def test_missingness_can_be_the_proxy_and_missing_attribute_rows_are_left_out(
    german: pd.DataFrame,
) -> None:
    sex = german["sex"].where(german["age"] != 30)  # 40 rows without the attribute
    telltale = pd.Series(np.where(german["sex"] == "female", None, "x"), dtype=object)
    found = feature_associations(pd.DataFrame({"telltale": telltale}), sex)[0]
    assert found.near_copy and found.strength == pytest.approx(1.0)
    assert found.n == sex.notna().sum() < len(german)


def test_bad_input_is_an_input_error(german: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="at least one feature"):
        feature_associations(german[[]], german["sex"])
    with pytest.raises(InputError, match="rows"):
        predictability(german[["age"]], german["sex"].iloc[:10])
    with pytest.raises(InputError, match="no non-missing"):
        feature_associations(german[["age"]], pd.Series([None] * len(german), name="sex"))


def test_single_valued_attribute_gives_no_auc_and_zero_strength(german: pd.DataFrame) -> None:
    constant = pd.Series("female", index=german.index, name="sex")
    result = predictability(german_features(german), constant)
    assert result.auc is None and result.ci_low is None and "1 value" in (result.reason or "")
    found = feature_associations(german_features(german), constant)
    assert all(a.strength == 0.0 and not a.near_copy and a.note for a in found)


def test_auc_kernel_matches_sklearn_with_ties_and_weights() -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 3, 500)
    proba = rng.multinomial(20, np.ones(3) / 3, 500) / 20  # coarse: many ties
    weights = rng.integers(0, 4, 500).astype(float)
    expected = roc_auc_score(codes, proba, multi_class="ovr", average="macro")
    assert ovr_auc(proba, codes) == pytest.approx(expected, abs=1e-12)
    binary = codes % 2
    two = np.column_stack([1 - proba[:, 0], proba[:, 0]])
    assert ovr_auc(two, binary) == pytest.approx(roc_auc_score(binary, two[:, 1]), abs=1e-12)
    weighted = roc_auc_score(binary, two[:, 1], sample_weight=weights)
    assert ovr_auc(two, binary, weights) == pytest.approx(weighted, abs=1e-12)


def test_predictability_of_noise_is_chance(german: pd.DataFrame) -> None:
    rng = np.random.default_rng(11)
    noise = pd.DataFrame(
        {"x": rng.normal(size=len(german)), "c": rng.integers(0, 4, len(german)).astype(str)}
    )
    result = predictability(noise, german["sex"])
    assert result.auc is not None and result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= 0.5 <= result.ci_high
    assert result.metric == "roc_auc" and result.classes == ("female", "male")


def test_predictability_with_a_planted_proxy_is_high_and_reproducible(
    german: pd.DataFrame,
) -> None:
    features = with_planted(german_features(german), german["sex"])
    first = predictability(features, german["sex"], seed=4)
    again = predictability(features, german["sex"], seed=4)
    assert first == again
    assert first.auc is not None and first.auc > 0.9
    assert first.ci_low is not None and first.ci_high is not None
    assert first.ci_low <= first.auc <= first.ci_high
    assert first.n == len(german) and not first.subsampled and first.reason is None


def test_predictability_of_race_is_multiclass_on_a_stratified_subsample(
    adult: pd.DataFrame,
) -> None:
    result = predictability(adult_features(adult), adult["race"], max_rows=4000, folds=3)
    assert result.metric == "macro_ovr_auc" and len(result.classes) == 5
    assert result.subsampled and abs(result.n - 4000) <= 5 and result.n_available == len(adult)
    assert result.auc is not None and result.ci_low is not None and result.ci_high is not None
    assert 0.6 < result.auc < 0.95 and result.ci_low <= result.auc <= result.ci_high
    assert any("subsample" in note for note in result.notes)


def test_classes_smaller_than_the_folds_are_dropped_with_a_note(german: pd.DataFrame) -> None:
    status = german["personal_status"].where(german.index >= 3, "A95")  # A95: 3 rows
    result = predictability(german_features(german), status, folds=5)
    assert "A95" not in result.classes and len(result.classes) == 4
    assert result.auc is not None and any("'A95' dropped" in note for note in result.notes)


def test_a_threshold_inside_a_quantile_bin_is_still_a_near_copy(german: pd.DataFrame) -> None:
    """Age determines "under 25" exactly, though no quantile bin edge need fall at 25."""
    band = pd.Series(np.where(german["age"] < 25, "under 25", "25 and over"), name="age_group")
    found = feature_associations(german[["age"]], band)[0]
    assert found.kind == "numeric"
    assert found.determination >= 0.98
    assert found.near_copy


def test_ties_in_a_file_sorted_by_the_attribute_do_not_look_like_a_copy(
    german: pd.DataFrame,
) -> None:
    """A heavily tied numeric feature, rows sorted by sex: within a tie the file order would
    give the attribute away to the nearest-neighbour rule unless ties are shuffled."""
    rng = np.random.default_rng(5)
    ordered = german.sort_values("sex").reset_index(drop=True)
    tied = pd.DataFrame(
        {"tied": np.where(rng.random(len(ordered)) < 0.9, 0.0, rng.random(len(ordered)))}
    )
    found = feature_associations(tied, ordered["sex"])[0]
    assert found.determination < 0.9
    assert not found.near_copy
