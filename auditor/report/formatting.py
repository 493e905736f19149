"""Formatting of numbers, verdicts and reasons: one place, so every format says the same.

Rates and ratios get 3 decimals, counts thousands separators; an undefined value is the word
"undefined" with its reason, never 0 or blank; a verdict is a symbol and a word, never colour.
"""

from __future__ import annotations

from string import ascii_lowercase

from auditor.report.view import Badge, Cell, Fact
from auditor.results import REASON_TEXT, Reason, Value

METRIC_LABELS = {
    "n": "Rows (n)",
    "favorable_rate": "Favourable-outcome rate",
    "selection_rate": "Selection rate",
    "base_rate": "Base rate",
    "true_positive_rate": "True positive rate",
    "false_negative_rate": "False negative rate",
    "false_positive_rate": "False positive rate",
    "true_negative_rate": "True negative rate",
    "precision": "Precision",
    "false_discovery_rate": "False discovery rate",
    "negative_predictive_value": "Negative predictive value",
    "false_omission_rate": "False omission rate",
    "accuracy": "Accuracy",
    "f1_score": "F1 score",
    "balanced_accuracy": "Balanced accuracy",
    "treatment_equality": "FN / FP",
    "roc_auc": "ROC AUC",
    "average_precision": "Average precision",
    "brier_score": "Brier score",
    "expected_calibration_error": "Calibration error (ECE)",
    "scoring_rate": "Scoring rate",
    "selection_rate_at_threshold": "Selected at threshold",
    "top_k_share": "Selected in top k",
    "mean_prediction": "Mean prediction",
    "mean_target": "Mean target",
    "mean_absolute_error": "Mean absolute error",
    "root_mean_squared_error": "RMSE",
    "r2_score": "R²",
}
_VERDICTS = {  # key -> (css class, symbol, word)
    "pass": ("pass", "✔", "pass"),
    "fail": ("fail", "✘", "fail"),
    "insufficient_data": ("insufficient", "?", "insufficient data"),
    "error": ("error", "!", "error"),
    "not_applicable": ("na", "–", "not applicable"),
    "waived": ("waived", "⚑", "waived"),
    "passed": ("pass", "✔", "passed"),
    "failed": ("fail", "✘", "failed"),
    "inconclusive": ("insufficient", "?", "inconclusive"),
}


def badge(verdict: str) -> Badge:
    """Return the symbol-and-word badge of a finding verdict or an overall audit verdict."""
    return Badge(*_VERDICTS.get(verdict, ("na", "–", verdict.replace("_", " "))))


def number(value: float | None, reason: Reason | None = None) -> Cell:
    """Format a number with 3 decimals, or "undefined" with the reason's text."""
    if value is None:
        return Cell("undefined", reason=reason_text(reason), undefined=True)
    return Cell(f"{value:.3f}")


def p_text(p_value: float | None, p_adjusted: float | None) -> str:
    """``p = 0.012 (adjusted 0.036)``; tiny p-values as ``p < 0.001``."""
    if p_value is None:
        return ""

    def fmt(p: float) -> str:
        return "< 0.001" if p < 0.001 else f"= {p:.3f}"

    text = f"p {fmt(p_value)}"
    if p_adjusted is not None:
        text += f" (adjusted {fmt(p_adjusted).removeprefix('= ')})"
    return text


def value_cell(value: Value) -> Cell:
    """Format a :class:`Value` with its interval when it has one."""
    cell = number(value.value, value.reason)
    if cell.undefined or value.ci_low is None or value.ci_high is None:
        return cell
    return Cell(cell.text, interval=f"[{value.ci_low:.3f}, {value.ci_high:.3f}]")


def label(metric: str) -> str:
    """Human name of a metric key (``true_positive_rate`` -> "True positive rate")."""
    return METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())


def reason_text(reason: Reason | None) -> str:
    if reason is None:
        return "no reason was recorded"
    return REASON_TEXT.get(reason, reason.value.replace("_", " "))


def count(n: int | None) -> str:
    return f"{n:,}" if n is not None else "–"


class Footnotes:
    """Letters a, b, c... for the distinct reasons of undefined values in one table."""

    def __init__(self) -> None:
        self.marks: dict[str, str] = {}

    def mark(self, cell: Cell) -> Cell:
        if not cell.undefined:
            return cell
        index = len(self.marks)
        letter = self.marks.setdefault(
            cell.reason, ascii_lowercase[index] if index < 26 else str(index)
        )
        return Cell(cell.text, reason=cell.reason, mark=letter, undefined=True)

    def facts(self) -> tuple[Fact, ...]:
        return tuple(Fact(letter, reason) for reason, letter in self.marks.items())


def cell_text(value: Value) -> str:
    cell = value_cell(value)
    if cell.undefined:
        return f"undefined ({cell.reason})"
    return f"{cell.text} {cell.interval}".strip()
