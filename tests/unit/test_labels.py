"""Labels: which value is positive, and every way a label column can be wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.errors import InputError
from auditor.inputs.labels import BinaryLabels, positive_mask, resolve_labels


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0, 1, 1], "1"), ([-1, 1], "1"), ([True, False], "True"), ([0.0, 1.0], "1")],
)
def test_default_positive_label_for_conventional_encodings(values: list, expected: str) -> None:
    assert resolve_labels(pd.Series(values, name="y"), None).positive == expected


def test_string_labels_without_pos_label_say_what_to_do() -> None:
    with pytest.raises(InputError, match=r"takes values in \{'bad', 'good'\} and --pos-label"):
        resolve_labels(pd.Series(["good", "bad"], name="y"), None)


def test_pos_label_must_be_a_value_of_the_target() -> None:
    with pytest.raises(InputError, match="--pos-label 'yes' is not a value of target 'y'"):
        resolve_labels(pd.Series(["good", "bad"], name="y"), "yes")


def test_numeric_target_matches_pos_label_given_as_text() -> None:
    labels = resolve_labels(pd.Series([1, 2, 2], name="credit"), "1")
    assert labels == BinaryLabels(positive="1", other="2")
    mask = positive_mask(pd.Series([1, 2, 2], name="credit"), labels, "target")
    assert mask.tolist() == [True, False, False]


def test_multiclass_target_is_refused() -> None:
    with pytest.raises(InputError, match="has 3 classes"):
        resolve_labels(pd.Series(["a", "b", "c"], name="y"), "a")


def test_probabilities_passed_as_labels_are_refused() -> None:
    labels = BinaryLabels("1", "0")
    with pytest.raises(InputError, match="look like scores or probabilities.*--score"):
        positive_mask(pd.Series([0.2, 0.9, 0.51], name="p"), labels, "prediction")


def test_probabilities_as_target_are_refused() -> None:
    with pytest.raises(InputError, match="target 'y' holds non-integer values"):
        resolve_labels(pd.Series([0.1, 0.7], name="y"), None)


def test_prediction_with_a_label_the_target_lacks_is_refused() -> None:
    labels = BinaryLabels("1", "0")
    with pytest.raises(InputError, match="labels the target does not have: \\{'2'\\}"):
        positive_mask(pd.Series([1, 2], name="pred"), labels, "prediction")


def test_multiclass_prediction_is_refused() -> None:
    labels = BinaryLabels("a", "b")
    with pytest.raises(InputError, match="more than two classes"):
        positive_mask(pd.Series(["a", "b", "c"], name="pred"), labels, "prediction")


@pytest.mark.parametrize("role", ["target", "prediction"])
def test_missing_labels_are_refused_with_rows(role: str) -> None:
    series = pd.Series([1, np.nan, 0, np.nan], name="col")
    with pytest.raises(InputError, match=r"2 missing value\(s\) \(rows 1, 3\)"):
        if role == "target":
            resolve_labels(series, None)
        else:
            positive_mask(series, BinaryLabels("1", "0"), role)


def test_single_class_target_still_audits() -> None:
    labels = resolve_labels(pd.Series([1, 1, 1], name="y"), None)
    assert labels == BinaryLabels(positive="1", other="0")
