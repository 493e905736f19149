"""Classification metrics that are not plain proportions, from the same confusion cells.

Each takes cells of shape (..., 4) in ``CELLS`` order, so one code path serves a single
table (G, 4) and a stack of bootstrap tables (B, G, 4). Undefined values are NaN; the
caller turns them into an explicit "undefined" with its reason.
"""

from __future__ import annotations

import numpy as np

from auditor.stats.confusion import FloatArray, cell_sum, ratio


def f1_score(cells: FloatArray) -> FloatArray:
    """F1 = 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall.

    NaN when TP + FP + FN = 0 (no positives, actual or predicted): scikit-learn returns 0
    there (``zero_division``), which would read as "the worst possible".
    """
    tp = cell_sum(cells, ("tp",))
    return ratio(2 * tp, 2 * tp + cell_sum(cells, ("fp", "fn")))


def balanced_accuracy(cells: FloatArray) -> FloatArray:
    """(TPR + TNR) / 2; NaN unless the group has both actual positives and negatives.

    scikit-learn averages the recall of the classes present (so a one-class group gets its
    one recall); a group without both classes has no balanced accuracy to speak of.
    """
    tpr = ratio(cell_sum(cells, ("tp",)), cell_sum(cells, ("tp", "fn")))
    tnr = ratio(cell_sum(cells, ("tn",)), cell_sum(cells, ("tn", "fp")))
    return np.asarray((tpr + tnr) / 2.0, dtype=np.float64)


def treatment_equality(cells: FloatArray) -> FloatArray:
    """FN / FP (Berk et al. 2018): errors against positives per error against negatives.

    NaN when the group has no false positives.
    """
    return ratio(cell_sum(cells, ("fn",)), cell_sum(cells, ("fp",)))
