"""Sensitive columns to groups: missing values, declared-but-empty groups, non-binary
attributes, identifier-like columns, reference groups and intersections (TRAPS.md, "Rows and
groups"). Expected values are counted independently with pandas."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.checks.fairness import group_table
from auditor.context import AuditContext, CheckSettings
from auditor.errors import InputError, UsageError
from auditor.groups import MISSING_LABEL, encode_groups
from auditor.inputs.labels import BinaryLabels
from auditor.results import GroupTable, Reason
from auditor.stats.confusion import RATES

ROOT = Path(__file__).resolve().parents[2]
GERMAN_CSV = ROOT / "sample_models" / "data" / "german_credit_audit.csv"
ADULT_CSV = ROOT / "tests" / "data" / "adult.csv"


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    frame = pd.read_csv(GERMAN_CSV)
    # Recorded decisions: a fixed rule, so the audit needs no model.
    frame["decision"] = np.where(frame["month"] <= 24, 1, 2)
    return frame


@pytest.fixture(scope="module")
def adult_sample() -> pd.DataFrame:
    return pd.read_csv(ADULT_CSV, usecols=["sex", "race", "income-per-year"]).iloc[::16]


def context_for(
    frame: pd.DataFrame,
    sensitive: list[str],
    *,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    min_group_size: int = 1,
    **encode: object,
) -> AuditContext:
    groupings = encode_groups(frame, sensitive, **encode)  # type: ignore[arg-type]
    return AuditContext(
        frame=frame,
        labels=BinaryLabels(positive="1", other="0"),
        y_true=np.asarray(y_true, dtype=bool),
        y_pred=np.asarray(y_pred, dtype=bool),
        scores=None,
        weights=None,
        groupings=groupings,
        settings=CheckSettings(min_group_size=min_group_size),
    )


def tables_for(ctx: AuditContext) -> dict[str, GroupTable]:
    return {g.attribute: group_table(ctx, g) for g in ctx.groupings}


def german_labels(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (frame["credit"] == 1).to_numpy(), (frame["decision"] == 1).to_numpy()


# --- missing values -----------------------------------------------------------------------

MISSING_COLUMNS = {
    "object-nan": lambda: pd.Series(["f", np.nan, "m", "m"], dtype=object),
    "object-none": lambda: pd.Series(["f", None, "m", "m"], dtype=object),
    "string-na": lambda: pd.Series(["f", pd.NA, "m", "m"], dtype="string"),
    "str-nan": lambda: pd.Series(["f", None, "m", "m"], dtype="str"),
    "float-nan": lambda: pd.Series([1.0, np.nan, 2.0, 2.0]),
    "categorical-nan": lambda: pd.Series(pd.Categorical(["f", np.nan, "m", "m"])),
}


@pytest.mark.parametrize("kind", sorted(MISSING_COLUMNS))
def test_missing_sensitive_value_raises_input_error(kind: str) -> None:
    frame = pd.DataFrame({"sex": MISSING_COLUMNS[kind]()})
    with pytest.raises(InputError) as err:
        encode_groups(frame, ["sex"])
    message = str(err.value)
    assert "'sex'" in message and "1 missing value" in message
    assert "--missing-as-group" in message


@pytest.mark.parametrize("kind", sorted(MISSING_COLUMNS))
def test_missing_as_group_gives_a_missing_group_never_nan(kind: str) -> None:
    frame = pd.DataFrame({"sex": MISSING_COLUMNS[kind]()})
    (grouping,) = encode_groups(frame, ["sex"], missing_as_group=True)
    assert f"sex={MISSING_LABEL}" in grouping.keys
    assert not any(k.lower() in ("sex=nan", "sex=none", "sex=<na>") for k in grouping.keys)
    assert grouping.keys[grouping.codes[1]] == f"sex={MISSING_LABEL}"
    assert sorted(np.bincount(grouping.codes, minlength=grouping.n_groups)) == [1, 1, 2]


def test_missing_group_is_counted_in_the_group_table_and_the_totals(german: pd.DataFrame) -> None:
    # TRAPS (fairlearn PR#1698): missing values dropped from the group table but still
    # counted in the overall figures. Here they are a group, and every row is in one group.
    frame = german.copy()
    frame["sex"] = frame["sex"].where(frame.index % 7 != 0)  # about 1 row in 7 missing
    n_missing = int(frame["sex"].isna().sum())
    assert n_missing > 0

    from auditor.api import audit

    result = audit(
        frame,
        target="credit",
        sensitive=["sex", "age_group"],
        prediction="decision",
        pos_label=1,
        missing_as_group=True,
    )
    (fairness,) = [c for c in result.checks if c.family == "fairness"]
    (performance,) = [c for c in result.checks if c.family == "performance"]
    tables = {t.attribute: t for t in fairness.tables}
    sex = tables["sex"]
    rows = {r.group: r for r in sex.rows}
    assert set(rows) == {"sex=female", "sex=male", f"sex={MISSING_LABEL}"}
    assert rows[f"sex={MISSING_LABEL}"].n == n_missing
    # Per group, against pandas (dropna=False keeps the NaN group).
    y_true, y_pred = german_labels(frame)
    cells = pd.DataFrame({"sex": frame["sex"], "t": y_true, "p": y_pred})
    for value, part in cells.groupby("sex", dropna=False):
        key = f"sex={MISSING_LABEL}" if pd.isna(value) else f"sex={value}"
        row = rows[key]
        assert row.n == len(part)
        assert row.counts["tp"] == (part.t & part.p).sum()
        assert row.counts["fp"] == (~part.t & part.p).sum()
        assert row.counts["fn"] == (part.t & ~part.p).sum()
        assert row.counts["tn"] == (~part.t & ~part.p).sum()
    # Totals: the groups add up to every row, in each table and in the overall figures.
    for table in tables.values():
        assert sum(r.n for r in table.rows) == len(frame) == result.setup.rows
    assert performance.overall["n"].value == len(frame)
    totals = {c: sum(r.counts[c] for r in sex.rows) for c in ("tp", "fp", "fn", "tn")}
    assert performance.overall["selection_rate"].value == pytest.approx(
        (totals["tp"] + totals["fp"]) / len(frame)
    )
    assert performance.overall["accuracy"].value == pytest.approx(
        (totals["tp"] + totals["tn"]) / len(frame)
    )
    # The intersection carries the missing group too.
    inter = {r.group: r.n for r in tables["sex & age_group"].rows}
    missing_inter = {k: n for k, n in inter.items() if k.startswith(f"sex={MISSING_LABEL} & ")}
    assert sum(missing_inter.values()) == n_missing
    assert result.setup.missing_as_group is True


def test_missing_sensitive_value_fails_the_audit_without_the_flag(german: pd.DataFrame) -> None:
    from auditor.api import audit

    frame = german.copy()
    frame.loc[3, "age_group"] = np.nan
    with pytest.raises(InputError, match="missing-as-group"):
        audit(frame, target="credit", sensitive=["age_group"], prediction="decision", pos_label=1)


def test_a_real_value_spelled_like_the_missing_label_does_not_merge_or_collide() -> None:
    # A column that already holds the text '(missing)' and also has real missing values:
    # two different groups must not share one key (tables, summaries and findings are keyed
    # by it). Refusing the column with an InputError is acceptable too.
    frame = pd.DataFrame({"sex": pd.Series([MISSING_LABEL, "f", None, "f"], dtype=object)})
    try:
        (grouping,) = encode_groups(frame, ["sex"], missing_as_group=True)
    except InputError:
        return
    assert len(set(grouping.keys)) == grouping.n_groups, grouping.keys


def test_integer_coded_column_with_a_missing_value_keeps_its_integer_labels() -> None:
    # pandas reads an integer column with a blank as float64. Its groups should still be the
    # values as written ('1', not '1.0'), as auditor.inputs.labels.label_text does for labels,
    # so that the keys do not change with the presence of one missing value and
    # --reference code=1 keeps working.
    complete = pd.DataFrame({"code": [1, 2, 2, 3]})
    with_gap = pd.DataFrame({"code": [1, 2, np.nan, 3]})
    (plain,) = encode_groups(complete, ["code"])
    (gapped,) = encode_groups(with_gap, ["code"], missing_as_group=True)
    assert plain.keys == ("code=1", "code=2", "code=3")
    assert gapped.keys == ("code=1", "code=2", "code=3", f"code={MISSING_LABEL}")
    (chosen,) = encode_groups(with_gap, ["code"], missing_as_group=True, references={"code": "2"})
    assert chosen.keys[chosen.reference] == "code=2"


# --- declared groups with no rows ---------------------------------------------------------


def _with_unused_category(german: pd.DataFrame) -> pd.DataFrame:
    frame = german.copy()
    frame["sex"] = pd.Categorical(frame["sex"], categories=["female", "male", "non-binary"])
    assert (frame["sex"] == "non-binary").sum() == 0
    return frame


def test_unused_categorical_category_is_kept_as_an_empty_group(german: pd.DataFrame) -> None:
    frame = _with_unused_category(german)
    y_true, y_pred = german_labels(frame)
    ctx = context_for(frame, ["sex", "age_group"], y_true=y_true, y_pred=y_pred)
    tables = tables_for(ctx)
    rows = {r.group: r for r in tables["sex"].rows}
    assert list(rows) == ["sex=female", "sex=male", "sex=non-binary"]
    empty = rows["sex=non-binary"]
    assert empty.n == 0
    assert empty.counts == {"tp": 0.0, "fp": 0.0, "fn": 0.0, "tn": 0.0}
    for name, cell in empty.metrics.items():
        assert cell.value.value is None, name  # never 0, never a number
        assert cell.value.reason is not None, name
    # It is named in the summary's exclusions, not silently dropped.
    for name in RATES:
        assert "sex=non-binary" in tables["sex"].summaries[name].groups_excluded
    # The intersection lists its combinations too, with n = 0.
    inter = {r.group: r.n for r in tables["sex & age_group"].rows}
    for age in sorted(frame["age_group"].unique()):
        assert inter[f"sex=non-binary & age_group={age}"] == 0
    # The other groups are counted as pandas counts them.
    sizes = frame["sex"].value_counts()
    assert rows["sex=female"].n == sizes["female"] and rows["sex=male"].n == sizes["male"]


def test_unused_categorical_category_rates_have_reason_empty_group(german: pd.DataFrame) -> None:
    frame = _with_unused_category(german)
    y_true, y_pred = german_labels(frame)
    ctx = context_for(frame, ["sex"], y_true=y_true, y_pred=y_pred)
    (table,) = tables_for(ctx).values()
    empty = next(r for r in table.rows if r.group == "sex=non-binary")
    reasons = {name: cell.value.reason for name, cell in empty.metrics.items()}
    wrong = {name: r for name, r in reasons.items() if r != Reason.EMPTY_GROUP}
    assert wrong == {}, f"the empty group's rates should say empty_group: {wrong}"


# --- more than two groups -----------------------------------------------------------------


def test_three_valued_attribute_is_not_read_as_binary(german: pd.DataFrame) -> None:
    # TRAPS (Fair-Code#668): code written for a binary attribute run on a three-valued one.
    frame = german.copy()
    frame["age_band"] = pd.cut(
        frame["age"], bins=[0, 29, 44, 200], labels=["under 30", "30 to 44", "45 and over"]
    ).astype(str)
    y_true, y_pred = german_labels(frame)
    ctx = context_for(frame, ["age_band"], y_true=y_true, y_pred=y_pred)
    (table,) = tables_for(ctx).values()
    assert len(table.rows) == 3
    cells = pd.DataFrame({"band": frame["age_band"], "t": y_true, "p": y_pred})
    selection = cells.groupby("band")["p"].mean()
    tpr = cells[cells.t].groupby("band")["p"].mean()
    sizes = cells.groupby("band").size()
    assert table.reference == f"age_band={sizes.idxmax()}"
    for row in table.rows:
        band = row.labels["age_band"]
        assert row.n == sizes[band]
        sel = row.metrics["selection_rate"]
        assert sel.value.value == pytest.approx(selection[band], abs=1e-12)
        assert sel.ratio_to_highest.value == pytest.approx(
            selection[band] / selection.max(), rel=1e-12
        )
        assert sel.difference_to_reference.value == pytest.approx(
            selection[band] - selection[sizes.idxmax()], abs=1e-12
        )
        assert row.metrics["true_positive_rate"].value.value == pytest.approx(tpr[band], abs=1e-12)
    summary = table.summaries["selection_rate"]
    assert len(summary.groups_compared) == 3
    assert summary.min_max_ratio.value == pytest.approx(
        selection.min() / selection.max(), rel=1e-12
    )
    assert summary.max_abs_difference.value == pytest.approx(
        selection.max() - selection.min(), abs=1e-12
    )


# --- identifier-like columns --------------------------------------------------------------


def test_identifier_like_column_raises_with_advice() -> None:
    frame = pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(3000)]})
    with pytest.raises(InputError) as err:
        encode_groups(frame, ["customer_id"])
    message = str(err.value)
    assert "looks like an identifier" in message
    assert "--max-groups" in message
    assert "3,000" in message and "customer_id" in message


def test_continuous_column_raises_and_max_groups_lets_it_through() -> None:
    values = np.random.default_rng(0).normal(size=2500)
    frame = pd.DataFrame({"income": values})
    with pytest.raises(InputError, match="looks like an identifier"):
        encode_groups(frame, ["income"])
    (grouping,) = encode_groups(frame, ["income"], max_groups=5000)
    assert grouping.n_groups == len(np.unique(values))


def test_identifier_column_through_audit_names_the_flag(german: pd.DataFrame) -> None:
    from auditor.api import audit

    frame = german.assign(applicant=[f"A{i}" for i in range(len(german))])
    with pytest.raises(InputError, match=r"looks like an identifier.*--max-groups"):
        audit(frame, target="credit", sensitive=["applicant"], prediction="decision", pos_label=1)


# --- reference groups ---------------------------------------------------------------------


def test_reference_defaults_to_the_largest_group(adult_sample: pd.DataFrame) -> None:
    groupings = encode_groups(adult_sample, ["sex", "race"])
    for grouping in groupings:
        sizes = adult_sample.groupby(list(grouping.columns)).size()
        largest = sizes.idxmax()
        largest = largest if isinstance(largest, tuple) else (largest,)
        expected = " & ".join(f"{c}={v}" for c, v in zip(grouping.columns, largest, strict=True))
        assert grouping.keys[grouping.reference] == expected
        assert grouping.reference_rule == "largest_group"


def test_reference_tie_goes_to_the_first_value_in_sorted_order() -> None:
    frame = pd.DataFrame({"g": ["b", "b", "a", "c", "a"]})
    (grouping,) = encode_groups(frame, ["g"])
    assert grouping.keys[grouping.reference] == "g=a"


def test_reference_can_be_set_per_attribute(adult_sample: pd.DataFrame) -> None:
    y_true = (adult_sample["income-per-year"] == ">50K").to_numpy()
    ctx = context_for(
        adult_sample,
        ["sex", "race"],
        y_true=y_true,
        y_pred=y_true,
        references={"race": "Black"},
    )
    tables = tables_for(ctx)
    assert tables["race"].reference == "race=Black"
    assert tables["race"].reference_rule == "user"
    assert tables["sex"].reference == f"sex={adult_sample['sex'].value_counts().idxmax()}"
    assert tables["sex"].reference_rule == "largest_group"
    # Only one attribute has a reference: the intersection's is the largest combination.
    sizes = adult_sample.groupby(["sex", "race"]).size()
    sex, race = sizes.idxmax()
    assert tables["sex & race"].reference == f"sex={sex} & race={race}"
    assert tables["sex & race"].reference_rule == "largest_group"
    # The reference's own difference is 0 and ratio 1 (its base rate is not 0 here).
    ref_row = next(r for r in tables["race"].rows if r.group == "race=Black")
    assert ref_row.metrics["base_rate"].difference_to_reference.value == 0.0
    assert ref_row.metrics["base_rate"].ratio_to_reference.value == 1.0


def test_intersection_reference_is_the_combination_of_the_given_references(
    adult_sample: pd.DataFrame,
) -> None:
    groupings = encode_groups(
        adult_sample, ["sex", "race"], references={"sex": "Female", "race": "Black"}
    )
    inter = groupings[-1]
    assert inter.keys[inter.reference] == "sex=Female & race=Black"
    assert inter.reference_rule == "user"
    assert inter.labels[inter.reference] == {"sex": "Female", "race": "Black"}


def test_unknown_reference_value_is_an_input_error_and_column_a_usage_error(
    adult_sample: pd.DataFrame,
) -> None:
    # The value depends on the data (exit 3); a column that is not --sensitive is a flag
    # that does not fit the others (exit 2).
    with pytest.raises(InputError, match="'Martian' is not a value of 'race'"):
        encode_groups(adult_sample, ["race"], references={"race": "Martian"})
    with pytest.raises(UsageError, match="not --sensitive columns"):
        encode_groups(adult_sample, ["race"], references={"sex": "Female"})


# --- intersections ------------------------------------------------------------------------


def test_intersection_keys_and_sizes(adult_sample: pd.DataFrame) -> None:
    groupings = encode_groups(adult_sample, ["sex", "race"])
    assert [g.attribute for g in groupings] == ["sex", "race", "sex & race"]
    inter = groupings[-1]
    assert inter.columns == ("sex", "race")
    sexes = sorted(adult_sample["sex"].unique())
    races = sorted(adult_sample["race"].unique())
    expected_keys = {f"sex={s} & race={r}" for s, r in product(sexes, races)}
    assert set(inter.keys) == expected_keys
    assert "sex=Female & race=White" in inter.keys
    sizes = adult_sample.groupby(["sex", "race"]).size()
    counted = np.bincount(inter.codes, minlength=inter.n_groups)
    for key, label, n in zip(inter.keys, inter.labels, counted, strict=True):
        assert key == f"sex={label['sex']} & race={label['race']}"
        assert n == sizes.get((label["sex"], label["race"]), 0)
    # Each row's intersection group is its own pair of values.
    for i in range(0, len(adult_sample), 97):
        row = adult_sample.iloc[i]
        assert inter.keys[inter.codes[i]] == f"sex={row['sex']} & race={row['race']}"


def test_three_attribute_intersection_keeps_unobserved_combinations() -> None:
    frame = pd.DataFrame(
        {
            "a": ["x", "x", "y", "y", "y"],
            "b": ["1", "2", "1", "1", "2"],
            "c": ["p", "p", "p", "q", "q"],
        }
    )
    groupings = encode_groups(frame, ["a", "b", "c"])
    inter = groupings[-1]
    assert inter.attribute == "a & b & c"
    assert inter.n_groups == 8
    counted = dict(zip(inter.keys, np.bincount(inter.codes, minlength=8), strict=True))
    observed = frame.groupby(["a", "b", "c"]).size()
    for (a, b, c), n in observed.items():
        assert counted[f"a={a} & b={b} & c={c}"] == n
    assert counted["a=x & b=1 & c=q"] == 0
    assert sum(counted.values()) == len(frame)
