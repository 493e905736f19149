"""k-anonymity and l-diversity: hand-computed cases, a planted violation, and pandas groupby."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.errors import InputError
from auditor.governance.anonymity import Anonymity, k_anonymity

ROOT = Path(__file__).resolve().parents[2]
GERMAN = ROOT / "sample_models" / "data" / "german_credit.csv"
QIS = ["age", "zip", "sex"]


def _small() -> pd.DataFrame:
    """Four classes: (30,A,M) x3, (40,B,F) x2, (50,C,M) x1, (missing,C,M) x2."""
    return pd.DataFrame(
        {
            "age": [30, 30, 30, 40, 40, 50, np.nan, None],
            "zip": ["A", "A", "A", "B", "B", "C", "C", "C"],
            "sex": ["M", "M", "M", "F", "F", "M", "M", "M"],
            "disease": ["flu", "flu", "cold", "flu", "hiv", "flu", "cold", "cold"],
        }
    )


def test_hand_computed_every_field() -> None:
    result = k_anonymity(_small(), QIS, k=2, sensitive="disease", l=2)
    assert result == Anonymity(
        quasi_identifiers=("age", "zip", "sex"),
        rows=8,
        classes=4,  # NaN and None ages are one missing value: one class of 2
        smallest_class=1,
        k=2,
        rows_below_k=1,
        share_below_k=1 / 8,
        classes_below_k=1,
        sensitive="disease",
        l_diversity=1,  # (50,C,M) has only flu, (missing,C,M) only cold
        l=2,
        rows_below_l=3,
        share_below_l=3 / 8,
        entropy_l=1.0,  # a one-value class has entropy 0
        class_sizes={1: 1, 2: 3},
    )
    assert not result.meets_k and result.meets_l is False


def test_hand_computed_entropy_l() -> None:
    # Classes {flu, flu, cold} and {flu, hiv}: entropies H(2/3, 1/3) < ln 2.
    result = k_anonymity(_small().iloc[:5], QIS, k=2, sensitive="disease", l=2)
    h = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert result.entropy_l == pytest.approx(math.exp(h), rel=1e-12)
    assert result.entropy_l == pytest.approx(3 / 2 ** (2 / 3), rel=1e-12)
    assert result.l_diversity == 2 and result.rows_below_l == 0 and result.share_below_l == 0
    assert result.smallest_class == 2 and result.rows_below_k == 0 and result.meets_k
    assert result.class_sizes == {1: 0, 2: 2}
    # A uniform class reaches its distinct count: {a, b, c} once each gives entropy l = 3.
    uniform = pd.DataFrame({"q": [1, 1, 1], "s": ["a", "b", "c"]})
    assert k_anonymity(uniform, ["q"], k=1, sensitive="s").entropy_l == pytest.approx(3.0)


def test_histogram_caps_at_k() -> None:
    result = k_anonymity(_small(), QIS, k=3)
    assert result.class_sizes == {1: 1, 2: 2, 3: 1}  # key 3 means "3 or more"
    result = k_anonymity(_small(), QIS, k=1)
    assert result.class_sizes == {1: 4} and result.rows_below_k == 0


def test_without_sensitive_or_without_l() -> None:
    result = k_anonymity(_small(), QIS, k=2)
    assert result.sensitive is None and result.l_diversity is None and result.entropy_l is None
    assert result.rows_below_l is None and result.meets_l is None
    result = k_anonymity(_small(), QIS, k=2, sensitive="disease")
    assert result.l_diversity == 1 and result.l is None and result.rows_below_l is None


def test_planted_violation() -> None:
    rng = np.random.default_rng(0)
    n = 10_000
    # Every (age, zip, sex) combination of the bulk recurs n / 40 = 250 times.
    cycle = np.arange(n)
    frame = pd.DataFrame(
        {
            "age": 20 + 10 * (cycle % 5),
            "zip": np.array(["10115", "20095", "80331", "50667"])[(cycle // 5) % 4],
            "sex": np.array(["F", "M"])[(cycle // 20) % 2],
            "disease": rng.choice(["flu", "cold", "hiv"], n),
        }
    )
    planted = pd.DataFrame(
        {
            "age": [97, 98, 99, 33, 33],
            "zip": ["10115", "10115", "99999", "20095", "20095"],
            "sex": ["F", "M", "F", "M", "M"],
            "disease": ["flu", "cold", "flu", "hiv", "hiv"],
        }
    )
    data = pd.concat([frame, planted], ignore_index=True).sample(frac=1.0, random_state=1)
    result = k_anonymity(data, QIS, k=5, sensitive="disease", l=2)
    assert result.rows == n + 5 and result.classes == 40 + 4
    assert result.smallest_class == 1
    assert result.rows_below_k == 5 and result.classes_below_k == 4
    assert result.share_below_k == pytest.approx(5 / (n + 5))
    assert result.class_sizes[1] == 3 and result.class_sizes[2] == 1 and result.class_sizes[5] == 40
    # The planted classes each hold one disease; the bulk's 250-row classes hold all three.
    assert result.l_diversity == 1 and result.rows_below_l == 5


def test_german_credit_against_groupby() -> None:
    german = pd.read_csv(GERMAN)
    qis = ["age", "personal_status", "foreign_worker"]
    sizes = german.groupby(qis, dropna=False).size()
    diverse = german.groupby(qis, dropna=False)["credit"].nunique(dropna=False)
    for k in (1, 2, 5, 10):
        result = k_anonymity(german, qis, k=k, sensitive="credit", l=2)
        assert result.rows == len(german) == sizes.sum()
        assert result.classes == len(sizes)
        assert result.smallest_class == sizes.min()
        assert result.rows_below_k == sizes[sizes < k].sum()
        assert result.classes_below_k == (sizes < k).sum()
        assert result.l_diversity == diverse.min()
        assert result.rows_below_l == sizes[diverse < 2].sum()
        assert sum(result.class_sizes.values()) == len(sizes)
    shares = german.groupby(qis, dropna=False)["credit"].value_counts(normalize=True)
    entropy = (-shares * np.log(shares)).groupby(level=list(range(len(qis)))).sum()
    assert result.entropy_l == pytest.approx(math.exp(entropy.min()), abs=1e-12)


def test_bins_generalise_into_larger_classes() -> None:
    german = pd.read_csv(GERMAN)
    qis = ["age", "personal_status", "foreign_worker"]
    exact = k_anonymity(german, qis, k=5)
    decades = k_anonymity(german, qis, k=5, bins={"age": [30, 40, 50, 60]})
    assert decades.classes < exact.classes
    assert decades.smallest_class >= exact.smallest_class
    assert decades.rows_below_k < exact.rows_below_k
    band = pd.cut(german["age"], [-np.inf, 30, 40, 50, 60, np.inf], right=False)
    expected = german.assign(age=band).groupby(qis, dropna=False, observed=True).size()
    assert decades.classes == len(expected) and decades.smallest_class == expected.min()
    assert decades.rows_below_k == expected[expected < 5].sum()


def test_bins_edges_are_left_closed_and_open_ended() -> None:
    frame = pd.DataFrame({"age": [5, 29, 30, 39, 40, 100, np.nan]})
    result = k_anonymity(frame, ["age"], k=1, bins={"age": [30, 40]})
    # <30: {5, 29}; [30, 40): {30, 39}; >=40: {40, 100}; missing: {NaN}.
    assert result.classes == 4 and result.class_sizes == {1: 4}
    assert k_anonymity(frame, ["age"], k=3, bins={"age": [30, 40]}).class_sizes == {
        1: 1,
        2: 3,
        3: 0,
    }


def test_missing_kinds_are_one_value() -> None:
    frame = pd.DataFrame({"zip": ["A", None, np.nan, pd.NA], "sex": ["F", "F", "F", "F"]})
    frame["zip"] = frame["zip"].astype(object)
    result = k_anonymity(frame, ["zip", "sex"], k=2)
    assert result.classes == 2 and result.smallest_class == 1 and result.rows_below_k == 1


def test_many_high_cardinality_columns_do_not_overflow() -> None:
    rng = np.random.default_rng(3)
    n = 5_000
    frame = pd.DataFrame({f"c{i}": rng.integers(0, 10**6, n) for i in range(6)})
    frame = pd.concat([frame, frame.iloc[:10]], ignore_index=True)
    expected = frame.groupby(list(frame.columns)).size()
    result = k_anonymity(frame, list(frame.columns), k=2)
    assert result.classes == len(expected) and result.rows_below_k == (expected < 2).sum()


def test_million_rows_smoke() -> None:
    rng = np.random.default_rng(0)
    n = 1_000_000
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "zip": np.array([f"{z:05d}" for z in range(1000)])[rng.integers(0, 1000, n)],
            "sex": rng.choice(["F", "M"], n),
            "disease": rng.choice(["a", "b", "c"], n),
        }
    )
    result = k_anonymity(frame, QIS, k=5, sensitive="disease", l=2)
    assert result.rows == n and sum(result.class_sizes.values()) == result.classes
    assert 0 < result.rows_below_k < n


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quasi_identifiers": ["age", "postcode"], "k": 2}, "not in the data.*postcode"),
        ({"quasi_identifiers": [], "k": 2}, "at least one quasi-identifier"),
        ({"quasi_identifiers": ["age", "age"], "k": 2}, "more than once"),
        ({"quasi_identifiers": QIS, "k": 0}, "k must be a whole number of at least 1"),
        ({"quasi_identifiers": QIS, "k": 2.5}, "k must be"),
        ({"quasi_identifiers": QIS, "k": True}, "k must be"),
        ({"quasi_identifiers": QIS, "k": 2, "l": 2}, "needs a sensitive column"),
        ({"quasi_identifiers": QIS, "k": 2, "sensitive": "disease", "l": 0}, "l must be"),
        ({"quasi_identifiers": QIS, "k": 2, "sensitive": "diagnosis"}, "not in the data"),
        ({"quasi_identifiers": QIS, "k": 2, "sensitive": "sex"}, "also a quasi-identifier"),
        ({"quasi_identifiers": QIS, "k": 2, "bins": {"disease": [1]}}, "not a quasi-identifier"),
        ({"quasi_identifiers": QIS, "k": 2, "bins": {"zip": [1]}}, "numeric column"),
        ({"quasi_identifiers": QIS, "k": 2, "bins": {"age": [40, 30]}}, "strictly increasing"),
        ({"quasi_identifiers": QIS, "k": 2, "bins": {"age": []}}, "strictly increasing"),
        ({"quasi_identifiers": QIS, "k": 2, "bins": {"age": "30"}}, "list of numbers"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        k_anonymity(_small(), **kwargs)  # type: ignore[arg-type]


def test_empty_frame_and_non_frame() -> None:
    with pytest.raises(InputError, match="empty"):
        k_anonymity(_small().iloc[:0], QIS, k=2)
    with pytest.raises(InputError, match="DataFrame"):
        k_anonymity(_small().to_dict(), QIS, k=2)  # type: ignore[arg-type]
