"""Invariances of the fairness family, as hypothesis properties of ``group_fairness``.

A small audit is a frame of rows (one or two sensitive attributes, actual and predicted
labels, optional weights and scores) and a few policy settings. Whatever it is:

- permuting its rows changes no value (group metrics, differences, ratios, summaries,
  criteria, p-values, the analytic intervals; and the bootstrap intervals too where the
  bootstrap resamples counts, i.e. unweighted labels without scores);
- renaming the groups changes no value of the corresponding group (the reference follows
  its rows);
- multiplying every weight by a positive constant changes no value and no interval
  (Wilson / Newcombe / Katz use Kish effective counts, which are scale-free, and the
  bootstrap draws the same rows);
- duplicating every row keeps every value and narrows (or keeps) every Wilson, Newcombe and
  Katz interval; on a larger case the bootstrap intervals narrow too;
- the bootstrap is reproducible from its seed, and recorded;
- every Wilson, Newcombe and Katz interval contains its point estimate.

Two properties once failed and are kept as tests: scaling equal weights must not switch
Fisher's exact test for the z test (Kish counts of 4.999... are whole), and bootstrap
intervals of max - min, min / max and |x| must contain their estimate near parity (the
percentile bootstrap is biased away from parity there; the interval is widened).

Values are compared to 1e-12 (relative above 1). Fields that depend on how a tie between
groups is broken (the highest group of a metric, the lowest and highest names of a summary,
the worst group of a criterion) are compared only when there is no tie: renaming groups
changes their order, and sums of weights in another order can split a tie by one ulp.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.checks.fairness import group_fairness
from auditor.checks.metric_catalog import GROUP_METRICS
from auditor.context import AuditContext, CheckSettings
from auditor.groups import encode_groups
from auditor.inputs.labels import BinaryLabels
from auditor.results import CheckResult, GroupTable, Value

TOL = 1e-12
TIE = 1e-9
EXAMPLES = int(os.environ.get("AUDITOR_PROPERTY_EXAMPLES", "20"))
# Derandomised and without an example database: the same examples on every run (and no
# .hypothesis directory); AUDITOR_PROPERTY_EXAMPLES=500 explores further.
FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- audits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audit:
    """Rows (g, maybe h, t, p, maybe w, maybe s) and the settings of one small audit."""

    rows: pd.DataFrame
    columns: tuple[str, ...]
    weighted: bool
    scored: bool
    settings: CheckSettings
    references: dict[str, str] | None = None

    def context(self) -> AuditContext:
        rows = self.rows.reset_index(drop=True)
        return AuditContext(
            frame=rows,
            labels=BinaryLabels(positive="1", other="0"),
            y_true=rows["t"].to_numpy(dtype=bool),
            y_pred=rows["p"].to_numpy(dtype=bool),
            scores=rows["s"].to_numpy(dtype=np.float64) if self.scored else None,
            weights=rows["w"].to_numpy(dtype=np.float64) if self.weighted else None,
            groupings=encode_groups(rows, list(self.columns), references=self.references),
            settings=self.settings,
        )

    def run(self, **changes: Any) -> CheckResult:
        audit = replace(self, settings=replace(self.settings, **changes)) if changes else self
        return group_fairness(audit.context())

    def with_rows(self, rows: pd.DataFrame) -> Audit:
        return replace(self, rows=rows)


SCORES = [0.0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0]  # few values: ties across groups


@st.composite
def audits(
    draw: st.DrawFn,
    *,
    weighted: bool | None = None,
    scored: bool | None = None,
    judge_all: bool = False,
    resamples: int = 0,
    max_rows: int = 30,
) -> Audit:
    n = draw(st.integers(2, max_rows))
    two = draw(st.sampled_from([False, False, True]))  # three tables cost three times one
    weighted = draw(st.booleans()) if weighted is None else weighted
    scored = draw(st.booleans()) if scored is None else scored
    column = st.lists(st.sampled_from(["ann", "bob", "cy"]), min_size=n, max_size=n)
    rows = pd.DataFrame({"g": draw(column)})
    if two:
        rows["h"] = draw(st.lists(st.sampled_from(["x", "yo"]), min_size=n, max_size=n))
    flags = st.lists(st.booleans(), min_size=n, max_size=n)
    rows["t"], rows["p"] = draw(flags), draw(flags)
    weight = st.one_of(st.sampled_from([0.5, 1.0, 2.0, 3.0]), st.floats(0.05, 20.0))
    rows["w"] = draw(st.lists(weight, min_size=n, max_size=n))
    rows["s"] = draw(st.lists(st.sampled_from(SCORES), min_size=n, max_size=n))
    if judge_all:
        policy = CheckSettings(min_group_size=1, bootstrap_resamples=resamples)
    else:
        policy = CheckSettings(
            min_group_size=draw(st.sampled_from([1, 2, 4])),
            min_positives=draw(st.sampled_from([0, 1, 2])),
            min_negatives=draw(st.sampled_from([0, 1])),
            positive_outcome=draw(st.sampled_from(["favorable", "adverse"])),
            multiple_comparisons=draw(st.sampled_from(["holm", "bonferroni", "fdr_bh", "none"])),
            bootstrap_resamples=resamples,
            seed=draw(st.integers(0, 3)),
        )
    if scored:
        policy = replace(
            policy, score_threshold=draw(st.sampled_from(SCORES)), top_k=draw(st.integers(1, n))
        )
    columns = ("g", "h") if two else ("g",)
    return Audit(rows, columns, weighted, scored, policy)


# --- a result as a flat dict ----------------------------------------------------------------

# Tags: "value" (points, reasons, names), "size" (rows), "amount" (weighted counts),
# "analytic" (Wilson / Newcombe / Katz bounds), "test" (significance tests),
# "boot" (percentile-bootstrap bounds).
Entry = tuple[tuple[str, ...], object, str]


def _value(path: tuple[str, ...], v: Value, interval: str) -> Iterator[Entry]:
    yield (*path, "value"), v.value, "value"
    yield (*path, "reason"), v.reason, "value"
    yield (*path, "ci_low"), v.ci_low, interval
    yield (*path, "ci_high"), v.ci_high, interval


def _tied(values: list[float], pick: Callable[[list[float]], float]) -> bool:
    """Whether more than one value is (within TIE) the picked one."""
    if not values:
        return False
    best = pick(values)
    return sum(abs(v - best) <= TIE * max(1.0, abs(best)) for v in values) > 1


def flatten(table: GroupTable, key: Callable[[str], str] = lambda k: k) -> dict[Any, Any]:
    """Every number and word of a table, by path, with group keys passed through ``key``."""
    entries: list[Entry] = []
    name_of_keys = _key_names(table, key)
    skip: set[tuple[str, ...]] = set()
    for row in table.rows:
        g = key(row.group)
        entries.append(((g, "n"), row.n, "size"))
        entries.append(((g, "weight_sum"), row.weight_sum, "amount"))
        entries += [((g, "count", c), v, "amount") for c, v in row.counts.items()]
        for metric, cell in row.metrics.items():
            interval = "analytic" if GROUP_METRICS[metric].proportion else "boot"
            entries += _value((g, metric), cell.value, interval)
            entries += _value((g, metric, "diff"), cell.difference_to_reference, interval)
            entries += _value((g, metric, "ratio"), cell.ratio_to_reference, interval)
            entries += _value((g, metric, "to_highest"), cell.ratio_to_highest, interval)
            entries.append(((g, metric, "excluded"), cell.excluded, "value"))
            test = cell.test
            entries.append(((g, metric, "test"), test is None, "value"))
            if test is not None:
                entries.append(((g, metric, "method"), test.method, "test"))
                entries.append(((g, metric, "statistic"), test.statistic, "test"))
                entries.append(((g, metric, "p"), test.p_value, "test"))
                entries.append(((g, metric, "p_adjusted"), test.p_adjusted, "test"))
    for metric, s in table.summaries.items():
        entries += _value((metric, "min_max_ratio"), s.min_max_ratio, "boot")
        entries += _value((metric, "max_abs_difference"), s.max_abs_difference, "boot")
        entries.append(((metric, "compared"), sorted(map(key, s.groups_compared)), "value"))
        excluded = {key(k): v for k, v in s.groups_excluded.items()}
        entries.append(((metric, "excluded"), excluded, "value"))
        entries.append(((metric, "n_compared"), s.n_compared, "size"))
        entries.append(((metric, "lowest"), name_of_keys(s.lowest_group), "value"))
        entries.append(((metric, "highest"), name_of_keys(s.highest_group), "value"))
        judged = [
            r.metrics[metric].value.value
            for r in table.rows
            if r.group in s.groups_compared and r.metrics[metric].value.value is not None
        ]
        if _tied(judged, min):  # type: ignore[arg-type]
            skip.add((metric, "lowest"))
        if _tied(judged, max):  # type: ignore[arg-type]
            skip.add((metric, "highest"))
            for r in table.rows:  # the Katz interval to *which* highest group
                skip |= {(key(r.group), metric, "to_highest", b) for b in ("ci_low", "ci_high")}
    for name, c in table.criteria.items():
        entries += _value((name,), c.value, "boot")
        entries.append(((name, "between"), name_of_keys(c.between), "value"))
        entries.append(((name, "n_compared"), c.n_compared, "size"))
        entries.append(((name, "by_group"), sorted(map(key, c.by_group)), "value"))
        for g, v in c.by_group.items():
            entries += _value((name, key(g)), v, "boot")
        if c.value.value is None:
            # An undefined value names no group that matters (see test_criteria's test of
            # disparate impact against a reference with no favourable outcomes).
            skip.add((name, "between"))
        elif c.between and " vs " in c.between:  # AIF360's worst group
            figures = [v.value for v in c.by_group.values() if v.value is not None]
            if name == "average_odds_difference":  # the largest |x|, signed
                if _tied([abs(x) for x in figures], max):
                    # +x and -x are equally large: key order picks the group and the sign.
                    skip |= {(name, "between"), (name, "value")}
            elif _tied(figures, WORST[name]):
                skip.add((name, "between"))
        elif c.between:  # 'lowest X, highest Y' of the criterion's one metric
            metric = _criterion_metric(name)
            if (metric, "lowest") in skip or (metric, "highest") in skip:
                skip.add((name, "between"))
    out: dict[Any, Any] = {path: (value, tag) for path, value, tag in entries}
    out["__skip__"] = skip
    return out


# How an AIF360 criterion picks its worst group (criteria.py's ``worst``).
WORST: dict[str, Callable[[list[float]], float]] = {
    "average_absolute_odds_difference": max,
    "disparate_impact": min,
}


def _criterion_metric(name: str) -> str:
    from auditor.checks.criteria import CRITERIA

    (spec,) = [c for c in CRITERIA if c.name == name]
    return spec.uses[0]


def _key_names(table: GroupTable, key: Callable[[str], str]) -> Callable[[str | None], Any]:
    """Replace every group key inside a text ('lowest g=a, highest g=b') through ``key``."""
    keys = sorted((r.group for r in table.rows), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(k) for k in keys))

    def names(text: str | None) -> str | None:
        return None if text is None else pattern.sub(lambda m: key(m.group(0)), text)

    return names


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isinf(a) or math.isinf(b):
            return a == b
        return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))
    return bool(a == b)


def assert_same(
    a: dict[Any, Any],
    b: dict[Any, Any],
    tags: set[str],
    *,
    amount: float = 1.0,
    size: int = 1,
) -> None:
    """b's entries with these tags equal a's, weighted counts times ``amount`` and row
    counts times ``size``."""
    skip = a["__skip__"] | b["__skip__"]
    assert a.keys() == b.keys()
    for path in a:
        if path == "__skip__" or path in skip:
            continue
        (x, tag), (y, _) = a[path], b[path]
        if tag not in tags:
            continue
        if tag == "amount" and x is not None:
            x = x * amount
        if tag == "size":
            x = x * size
        assert _close(x, y), (path, x, y)


def same_results(
    a: CheckResult, b: CheckResult, tags: set[str], key: Callable[[str], str] = lambda k: k
) -> None:
    assert [t.attribute for t in a.tables] == [t.attribute for t in b.tables]
    for ta, tb in zip(a.tables, b.tables, strict=True):
        assert ta.reference == key(tb.reference)
        assert_same(flatten(ta), flatten(tb, key), tags)


EVERYTHING = {"value", "size", "amount", "analytic", "test", "boot"}
NO_BOOT = EVERYTHING - {"boot"}

# --- permutations ----------------------------------------------------------------------------


@FAST
@given(audit=audits(resamples=10), seed=st.integers(0, 2**32 - 1))
def test_permuting_rows_changes_no_value(audit: Audit, seed: int) -> None:
    order = np.random.default_rng(seed).permutation(len(audit.rows))
    shuffled = audit.with_rows(audit.rows.iloc[order])
    # Counts-only bootstrap (unweighted, no scores) draws from the cells: order-free too.
    tags = EVERYTHING if not (audit.weighted or audit.scored) else NO_BOOT
    same_results(audit.run(), shuffled.run(), tags)


# --- relabelling -----------------------------------------------------------------------------

RENAME = {"g": {"ann": "zed", "bob": "al", "cy": "mo"}, "h": {"x": "z", "yo": "a"}}


@FAST
@given(audit=audits(), pick=st.integers(0, 10**6))
def test_relabelling_groups_changes_no_value_of_the_same_group(audit: Audit, pick: int) -> None:
    # A reference chosen from the data (so the intersection's reference is the combination).
    first = audit.rows.iloc[pick % len(audit.rows)]
    references = {c: str(first[c]) for c in audit.columns}
    original = replace(audit, references=references)
    renamed_rows = audit.rows.copy()
    for c in audit.columns:
        renamed_rows[c] = renamed_rows[c].map(RENAME[c])
    renamed = replace(
        audit,
        rows=renamed_rows,
        references={c: RENAME[c][v] for c, v in references.items()},
    )
    back = {c: {new: old for old, new in RENAME[c].items()} for c in audit.columns}

    def original_key(new_key: str) -> str:
        parts = [part.split("=", 1) for part in new_key.split(" & ")]
        return " & ".join(f"{c}={back[c][v]}" for c, v in parts)

    a, b = original.run(), renamed.run()
    assert [t.reference_rule for t in b.tables] == ["user"] * len(b.tables)
    same_results(a, b, NO_BOOT, key=original_key)


# --- scaling the weights ---------------------------------------------------------------------


@FAST
@given(
    audit=audits(weighted=True, resamples=20),
    scale=st.one_of(st.sampled_from([2.0, 3.0, 0.5, 1000.0]), st.floats(1e-3, 1e3)),
)
def test_scaling_the_weights_changes_no_value_or_interval(audit: Audit, scale: float) -> None:
    rows = audit.rows.copy()
    rows["w"] = rows["w"] * scale
    a, b = audit.run(), audit.with_rows(rows).run()
    for ta, tb in zip(a.tables, b.tables, strict=True):
        assert_same(flatten(ta), flatten(tb), EVERYTHING, amount=scale)


# --- duplicating rows ------------------------------------------------------------------------


def analytic_intervals(table: GroupTable) -> Iterator[tuple[tuple[str, ...], Value]]:
    for row in table.rows:
        for metric, cell in row.metrics.items():
            if GROUP_METRICS[metric].proportion:
                yield (row.group, metric, "value"), cell.value
                yield (row.group, metric, "diff"), cell.difference_to_reference
                yield (row.group, metric, "ratio"), cell.ratio_to_reference
                yield (row.group, metric, "to_highest"), cell.ratio_to_highest


@FAST
@given(audit=audits(judge_all=True), k=st.sampled_from([2, 3]))
def test_duplicating_rows_keeps_values_and_narrows_analytic_intervals(audit: Audit, k: int) -> None:
    copies = audit.with_rows(pd.concat([audit.rows] * k, ignore_index=True))
    # The top k of the original rows are the top k * k of the copies.
    top_k = None if audit.settings.top_k is None else audit.settings.top_k * k
    a, b = audit.run(), copies.run(top_k=top_k)
    for ta, tb in zip(a.tables, b.tables, strict=True):
        fa, fb = flatten(ta), flatten(tb)
        # Rows and weighted counts grow k-fold; every value, reason and name stays.
        assert_same(fa, fb, {"value", "size", "amount"}, amount=k, size=k)
        narrower = dict(analytic_intervals(tb))
        for path, wide in analytic_intervals(ta):
            tight = narrower[path]
            if path[-1] == "to_highest" and (path[1], "highest") in fa["__skip__"]:
                continue
            if wide.ci_low is None or tight.ci_low is None:
                assert (wide.ci_low is None) == (tight.ci_low is None), path
                continue
            assert wide.ci_high is not None and tight.ci_high is not None
            assert tight.ci_low >= wide.ci_low - TOL, (path, wide, tight)
            if audit.weighted and path[-1] in ("ratio", "to_highest") and wide.value == 0:
                # Katz at a zero numerator adds 0.5 to it and its denominator (upper bound
                # only). With a Kish-effective denominator below one row (a predicted
                # positive of weight 0.5 in a group of design factor 2/3 counts 1/3), more
                # such rows raise that bound a little: 3.463 -> 3.483 in one case hypothesis
                # found. With whole counts (>= 1) the bound falls, as checked unweighted.
                continue
            assert tight.ci_high <= wide.ci_high + TOL * max(1.0, wide.ci_high), (path, wide, tight)


# --- intervals contain their estimates -------------------------------------------------------


def every_value(table: GroupTable) -> Iterator[tuple[tuple[str, ...], Value, str]]:
    for row in table.rows:
        for metric, cell in row.metrics.items():
            kind = "analytic" if GROUP_METRICS[metric].proportion else "boot"
            for measure in ("value", "difference_to_reference", "ratio_to_reference"):
                yield (row.group, metric, measure), getattr(cell, measure), kind
            yield (row.group, metric, "ratio_to_highest"), cell.ratio_to_highest, kind
    for metric, s in table.summaries.items():
        yield (metric, "min_max_ratio"), s.min_max_ratio, "boot"
        yield (metric, "max_abs_difference"), s.max_abs_difference, "boot"
    for name, c in table.criteria.items():
        yield (name,), c.value, "boot"
        for g, v in c.by_group.items():
            yield (name, g), v, "boot"


def _contains(v: Value) -> bool:
    assert v.value is not None and v.ci_low is not None and v.ci_high is not None
    slack = TOL * max(1.0, abs(v.value))
    return v.ci_low - slack <= v.value <= v.ci_high + slack


@FAST
@given(audit=audits())
def test_analytic_intervals_contain_their_estimates(audit: Audit) -> None:
    for table in audit.run().tables:
        for path, v, kind in every_value(table):
            if kind == "analytic" and v.value is not None and v.ci_low is not None:
                assert _contains(v), (path, v)


# --- the bootstrap ---------------------------------------------------------------------------


def moderate_audit(*, weighted: bool, scored: bool, resamples: int = 200) -> Audit:
    """Three groups of 60-150 rows with different rates, fixed by a seed."""
    rng = np.random.default_rng(2024)
    sizes = {"ann": 150, "bob": 90, "cy": 60}
    parts = []
    for i, (g, n) in enumerate(sizes.items()):
        t = rng.random(n) < 0.3 + 0.15 * i
        s = np.clip(np.round(0.25 + 0.4 * t + rng.normal(0, 0.2, n), 2), 0, 1)
        parts.append(
            pd.DataFrame(
                {
                    "g": g,
                    "h": rng.choice(["x", "yo"], n),
                    "t": t,
                    "p": s >= 0.5,
                    "w": rng.uniform(0.5, 3.0, n),
                    "s": s,
                }
            )
        )
    policy = CheckSettings(
        min_group_size=1, bootstrap_resamples=resamples, seed=7, score_threshold=0.5, top_k=50
    )
    return Audit(pd.concat(parts, ignore_index=True), ("g", "h"), weighted, scored, policy)


def bootstrap_widths(result: CheckResult) -> dict[tuple[str, ...], float]:
    out = {}
    for table in result.tables:
        for path, v, kind in every_value(table):
            low, high = v.ci_low, v.ci_high
            if kind != "boot" or low is None or high is None:
                continue
            if math.isfinite(low) and math.isfinite(high):
                out[(table.attribute, *path)] = high - low
    return out


@pytest.mark.parametrize(("weighted", "scored"), [(False, False), (True, True)])
def test_bootstrap_is_reproducible_from_its_seed_and_recorded(weighted: bool, scored: bool) -> None:
    audit = moderate_audit(weighted=weighted, scored=scored, resamples=60)
    a, b = audit.run(), audit.run()
    assert a.model_dump() == b.model_dump()
    assert a.bootstrap is not None
    assert (a.bootstrap.resamples, a.bootstrap.seed) == (60, 7)
    assert (
        a.bootstrap.confidence == 0.95 and "within each intersectional group" in a.bootstrap.scheme
    )
    other = audit.run(seed=8)
    assert other.bootstrap is not None and other.bootstrap.seed == 8
    wa, wo = bootstrap_widths(a), bootstrap_widths(other)
    # (Which intervals exist can change: one needs half of its replicates defined.)
    common = wa.keys() & wo.keys()
    assert len(common) > 0.9 * len(wa) and len(common) > 50
    assert sum(wa[p] != wo[p] for p in common) > len(common) // 2
    # The point estimates do not depend on the seed.
    same_results(a, other, NO_BOOT)
    # No resamples: no bootstrap intervals and no record of one.
    none = audit.run(bootstrap_resamples=0)
    assert none.bootstrap is None
    assert bootstrap_widths(none) == {}


@pytest.mark.parametrize(("weighted", "scored"), [(False, False), (True, True)])
def test_duplicating_rows_narrows_the_bootstrap_intervals(weighted: bool, scored: bool) -> None:
    audit = moderate_audit(weighted=weighted, scored=scored)
    k = 3
    copies = audit.with_rows(pd.concat([audit.rows] * k, ignore_index=True))
    wide, tight = bootstrap_widths(audit.run()), bootstrap_widths(copies.run())
    # More rows: more replicates define a ratio like FN / FP, never fewer intervals.
    assert wide.keys() <= tight.keys() and len(wide) > 50

    # sqrt(1/3) = 0.58 in theory; each width is itself estimated from 200 resamples.
    # Ranges, min/max ratios and criteria over groups have basic intervals clipped to their
    # domain (a range >= 0): near parity that is about [0, estimate], and duplicating rows
    # keeps the estimate, so those need not narrow; they must not widen beyond noise.
    # FN / FP is defined in more replicates with more rows, which can widen its interval.
    def over_groups(path: tuple[str, ...]) -> bool:
        return len(path) == 2 or path[-1] in ("min_max_ratio", "max_abs_difference")

    kept = [p for p in wide if wide[p] > 0 and "treatment_equality" not in str(p)]
    per_group = np.array([tight[p] / wide[p] for p in kept if not over_groups(p)])
    ranges = np.array([tight[p] / wide[p] for p in kept if over_groups(p)])
    assert np.median(per_group) < 0.7 and np.median(ranges) < 1.0
    assert (per_group < 1.0).mean() > 0.95, sorted(per_group)[-5:]
    assert (ranges < 1.2).mean() > 0.95, sorted(ranges)[-5:]
    assert all(tight[p] == 0 for p in wide if wide[p] == 0)


def test_scaling_equal_weights_keeps_the_significance_test() -> None:
    # Equal weights are no weights: every Kish-effective count is the row count. The counts
    # of b's selection rate (5 of 6 against 3 of 12) are small enough for Fisher's exact
    # test. With weights 1.0 or 3.0 the effective counts come out whole and Fisher's test
    # runs (p = 0.043, as unweighted); with 0.1 they come out as 4.999999999999999 and the
    # z test runs instead (p = 0.019).
    rows = pd.DataFrame(
        {
            "g": ["ann"] * 12 + ["bob"] * 6,
            "t": [True, False] * 9,
            "p": [True] * 3 + [False] * 9 + [True] * 5 + [False],
            "w": 1.0,
            "s": 0.5,
        }
    )
    policy = CheckSettings(min_group_size=1, bootstrap_resamples=0)
    tests = {}
    for scale in (1.0, 3.0, 0.1):
        scaled = rows.assign(w=rows["w"] * scale)
        table = Audit(scaled, ("g",), True, False, policy).run().tables[0]
        (bob,) = [r for r in table.rows if r.group == "g=bob"]
        tests[scale] = bob.metrics["selection_rate"].test
    assert tests[1.0] is not None and tests[1.0].method == "Fisher's exact test"
    assert tests[3.0] == tests[1.0]
    assert tests[0.1] == tests[1.0]  # got the z test, p = 0.019


def test_analytic_intervals_of_a_larger_audit_contain_their_estimates() -> None:
    for weighted, scored in [(False, False), (True, True)]:
        for table in moderate_audit(weighted=weighted, scored=scored, resamples=0).run().tables:
            for path, v, kind in every_value(table):
                if kind == "analytic" and v.value is not None and v.ci_low is not None:
                    assert _contains(v), (path, v)


def test_bootstrap_intervals_of_summaries_contain_their_estimates() -> None:
    # Three groups with nearly equal precision (0.2% apart): the bootstrap max - min is
    # never that small, so the whole 95% interval lies above the estimate -- it reads as
    # "a gap of at least 2 points, with 95% confidence" when the sample shows 0.2.
    audit = moderate_audit(weighted=False, scored=False, resamples=200)
    (table, *_) = audit.run().tables
    assert table.attribute == "g"
    gap = table.summaries["precision"].max_abs_difference
    assert gap.value is not None and gap.value < 0.005
    assert gap.ci_low is not None and gap.ci_high is not None
    outside = [
        (path, v)
        for t in audit.run().tables
        for path, v, kind in every_value(t)
        if kind == "boot" and v.value is not None and v.ci_low is not None and not _contains(v)
    ]
    assert outside == [], outside[:3]
