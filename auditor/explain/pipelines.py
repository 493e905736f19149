"""A scikit-learn Pipeline: explain its final step on the transformed matrix, fold columns back.

The final step may be a classifier or a regressor: the folding is the same.

When every transformed column derives from one input column (:mod:`column_origins`), the
SHAP values of the columns born of input column j are summed into column j. For an additive
model (linear) this is exactly the interventional SHAP value of the original column; for a
tree model it is the usual grouped attribution: it still adds up to the model output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.pipeline import Pipeline

from auditor.explain.attribution import Attribution, FloatArray, Matrix
from auditor.explain.column_origins import Origins, column_origins
from auditor.explain.families import exact_attribution, has_exact_method, is_linear


def fold(values: FloatArray, origins: Origins, n_inputs: int) -> FloatArray:
    """Sum the columns of ``values`` into the input columns ``origins`` names, (rows, n_inputs)."""
    membership = np.zeros((len(origins), n_inputs))
    membership[np.arange(len(origins)), origins] = 1.0
    return values @ membership


def _transform(preprocess: Pipeline | None, frame: pd.DataFrame, final: Any) -> Matrix:
    """The matrix the final step sees: dense, named as the final step was fitted if it was."""
    out: Any = frame if preprocess is None else preprocess.transform(frame)
    if sparse.issparse(out):
        out = out.toarray()
    names = getattr(final, "feature_names_in_", None)
    if not isinstance(out, pd.DataFrame) and names is not None:
        out = pd.DataFrame(out, columns=list(names))
    return out


def explain_pipeline(
    pipeline: Pipeline,
    features: pd.DataFrame,
    positive_index: int,
    background: pd.DataFrame | None,
) -> tuple[Attribution | None, list[str]]:
    """Exact SHAP values of a Pipeline on its input columns, or None and the reason why not."""
    name, final = pipeline.steps[-1]
    preprocess = pipeline[:-1] if len(pipeline.steps) > 1 else None
    kind = type(final).__name__
    if not has_exact_method(final):
        return None, [f"final step {name!r} ({kind}) has no exact SHAP method"]
    origins = column_origins(preprocess, features.shape[1])
    if origins is None:
        return None, [
            "the pipeline's transformers could not be mapped column by column back to the "
            "input columns (a step may mix columns), so the exact method was not used"
        ]
    transformed = _transform(preprocess, features, final)
    if transformed.shape[1] != len(origins):
        return None, [
            f"the pipeline produced {transformed.shape[1]} columns where the mapping expected "
            f"{len(origins)}, so the exact method was not used"
        ]
    reference = None if background is None else _transform(preprocess, background, final)
    attribution = exact_attribution(final, transformed, positive_index, reference)
    if attribution is None:  # has_exact_method said yes; kept for the type checker
        return None, [f"final step {name!r} ({kind}) has no exact SHAP method"]
    notes = [
        f"explained the final step {name!r} ({kind}) on the {len(origins)} columns the "
        "preceding steps produce; the SHAP values of the columns derived from each input "
        "column were summed back into it"
    ]
    if not is_linear(final):
        notes.append(
            "for a tree model the summed values are a grouped attribution: they add up to the "
            "model output but are not Shapley values with each input column as one player"
        )
    folded = Attribution(
        method=f"{attribution.method}, folded back to input columns",
        output_scale=attribution.output_scale,
        values=fold(attribution.values, origins, features.shape[1]),
        base_value=attribution.base_value,
        model_output=attribution.model_output,
        exact=attribution.exact,
        notes=attribution.notes,
        float32=attribution.float32,
    )
    return folded.with_notes(*notes), []
