"""The Poisson bootstrap on cells against a row-level Poisson bootstrap of the same rows.

A cell of k identical rows resampled with Poisson(1) multiplicities has a Poisson(k) total,
so resampling the cells is the row-level Poisson bootstrap, exactly in distribution for
unweighted rows; weighted cells match its mean and variance. These tests compare the two
within Monte Carlo error, and check that the cells' draws are independent (the trap of a
hash that correlates resamples: standard errors come out too small).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from auditor.checks.fairness import _score_inputs
from auditor.checks.resampling import bootstrap_samples
from auditor.context import CheckSettings
from auditor.engines.cells import ColumnRoles
from auditor.engines.memory import MemoryEngine
from auditor.prepare import AuditRequest
from auditor.prepare_cells import prepare_cells
from auditor.stats.bootstrap import cell_masses, poisson_cells
from auditor.stats.scores import calibration_bins, grouped_calibration, top_k_mask

B = 600  # resamples: standard errors to about 3% (1 / sqrt(2 B))


def log(n: int = 20_000, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.7, 0.25, 0.05])
    y = rng.random(n) < 0.4
    score = np.clip(0.35 * y + 0.6 * rng.random(n), 0, 1).round(2)
    return pd.DataFrame(
        {
            "g": group,
            "y": y.astype(int),
            "d": (score > 0.4).astype(int),
            "s": score,
            "w": rng.lognormal(0.0, 0.8, n),
        }
    )


def cells_context(frame: pd.DataFrame, weighted: bool):
    roles = ColumnRoles("y", ("g",), "d", score="s", weight="w" if weighted else None)
    request = AuditRequest(target="y", sensitive=["g"], prediction="d", score="s")
    cells = MemoryEngine(frame).cells(roles, 10)
    return prepare_cells(cells, request, settings=CheckSettings(bootstrap_resamples=B)).context


def row_level_poisson(frame: pd.DataFrame, weighted: bool, seed: int = 5) -> dict[str, np.ndarray]:
    """The reference: every row gets its own Poisson(1) multiplicity in every resample."""
    rng = np.random.default_rng(seed)
    codes = frame["g"].map({"a": 0, "b": 1, "c": 2}).to_numpy()
    w = frame["w"].to_numpy() if weighted else np.ones(len(frame))
    d, y, s = frame["d"].to_numpy(), frame["y"].to_numpy(), frame["s"].to_numpy()
    rates, aucs = [], []
    for _ in range(B):
        m = rng.poisson(1.0, len(frame)) * w
        rates.append(np.bincount(codes, m * d, 3) / np.bincount(codes, m, 3))
        aucs.append(
            [
                roc_auc_score(y[codes == g], s[codes == g], sample_weight=m[codes == g])
                for g in (0, 1, 2)
            ]
        )
    return {"selection_rate": np.array(rates), "roc_auc": np.array(aucs)}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cell_bootstrap_matches_a_row_level_poisson_bootstrap(weighted):
    frame = log()
    ctx = cells_context(frame, weighted)
    grouping = ctx.groupings[0]
    assert grouping.keys == ("g=a", "g=b", "g=c")
    ours = bootstrap_samples(ctx, _score_inputs(ctx), B)[0]
    reference = row_level_poisson(frame, weighted)
    for metric in ("selection_rate", "roc_auc"):
        se_ours = ours[metric].std(axis=0, ddof=1)
        se_rows = reference[metric].std(axis=0, ddof=1)
        # Two independent estimates of one standard error, each within ~3% (B = 600).
        np.testing.assert_allclose(se_ours, se_rows, rtol=0.15, err_msg=metric)
        np.testing.assert_allclose(
            ours[metric].mean(axis=0),
            reference[metric].mean(axis=0),
            atol=float(4 * se_rows.max() / np.sqrt(B)),
        )


def test_poisson_cells_are_poisson_and_independent():
    cells = np.array([[5.0, 40.0, 0.0, 300.0], [1.0, 12.0, 80.0, 2000.0]])
    draws = poisson_cells(cells, 4000, np.random.default_rng(2))
    assert draws.shape == (4000, 2, 4)
    flat = draws.reshape(4000, -1)
    counts = cells.ravel()
    present = counts > 0
    # A Poisson count has variance equal to its mean.
    ratio = flat[:, present].var(axis=0, ddof=1) / flat[:, present].mean(axis=0)
    np.testing.assert_allclose(ratio, 1.0, atol=0.12)
    assert (flat[:, ~present] == 0).all()
    # Independent cells: no correlation beyond Monte Carlo noise (|r| ~ 1/sqrt(4000)).
    corr = np.corrcoef(flat[:, present], rowvar=False)
    off_diagonal = corr[~np.eye(len(corr), dtype=bool)]
    assert np.abs(off_diagonal).max() < 0.06


def test_weighted_cell_masses_have_the_row_level_mean_and_variance():
    rng = np.random.default_rng(4)
    weights = [rng.lognormal(0, 1, k) for k in (3, 50, 400)]
    sums = np.array([w.sum() for w in weights])
    squares = np.array([(w * w).sum() for w in weights])
    masses = np.array(list(cell_masses(np.array([3, 50, 400]), sums, squares, 20_000, rng)))
    np.testing.assert_allclose(masses.mean(axis=0), sums, rtol=0.02)
    np.testing.assert_allclose(masses.var(axis=0), squares, rtol=0.06)
    # Equal weights: exactly w * Poisson(k).
    equal = np.array(list(cell_masses(np.array([7]), np.array([14.0]), np.array([28.0]), 50, rng)))
    assert np.allclose(equal / 2.0, np.round(equal / 2.0))


def test_top_k_and_calibration_of_cells_equal_those_of_the_rows():
    rng = np.random.default_rng(8)
    scores = np.round(rng.random(3000), 1)
    y = rng.random(3000) < 0.5
    codes = rng.integers(0, 2, 3000)
    frame = pd.DataFrame({"c": codes, "y": y, "s": scores})
    cells = frame.groupby(["c", "y", "s"]).size().reset_index(name="n")
    for k in (1, 299, 300, 301, 2999, 3000, 5000):
        rows = top_k_mask(scores, k)
        by_cell = top_k_mask(cells.s.to_numpy(), k, cells.n.to_numpy())
        assert (cells.n * by_cell).sum() == rows.sum(), k
    expanded = grouped_calibration(codes, 2, y, scores)
    aggregated = grouped_calibration(
        cells.c.to_numpy(),
        2,
        cells.y.to_numpy(),
        cells.s.to_numpy(),
        cells.n.to_numpy(dtype=float),
        counts=cells.n.to_numpy(),
    )
    np.testing.assert_array_equal(expanded.rows, aggregated.rows)
    np.testing.assert_allclose(expanded.ece, aggregated.ece, rtol=1e-12)
    assert calibration_bins(cells.s.to_numpy(), 10).max() <= 9
