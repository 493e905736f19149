"""Explanations and proxy detection: computations on the model and its features.

SHAP values of a fitted classifier: :func:`auditor.explain.shap_values.explain`, returning an
:class:`auditor.explain.shap_values.Explanation`.
"""
