"""The transparency section's content: what the explanation and the proxy search found.

Reads :class:`~auditor.results_transparency.Explanation` and
:class:`~auditor.results_transparency.Proxies` from the record and turns them into the
display-ready text of :mod:`auditor.report.transparency_view` (the proxies part in
:mod:`auditor.report.transparency_proxies`): sorted, capped, formatted, and worded for a
reviewer who reads only the PDF. Nothing is measured here; the one sum shown (the
features a gap table leaves out, added up) adds numbers the record holds. Feature values of
individual rows never appear: the record has none.
"""

from __future__ import annotations

from auditor.report.explain_charts import gap_chart, group_chart, importance_chart, num
from auditor.report.formatting import count, value_cell
from auditor.report.transparency_proxies import proxies_view
from auditor.report.transparency_view import (
    AdverseRow,
    AttributeView,
    DisparityRow,
    ExplanationView,
    GapView,
    ImportanceRow,
    ProxiesView,
    TermRow,
)
from auditor.report.view import Cell, Fact
from auditor.results import CheckResult
from auditor.results_transparency import AttributeExplanation, Explanation, GapAttribution
from auditor.results_values import Value

MAX_FEATURES = 15  # global importance: chart and table
MAX_GROUP_FEATURES = 8  # features compared across groups
MAX_CHART_GROUPS = 6  # groups drawn per attribute
MAX_ATTRIBUTES = 6  # attributes (and intersections) shown in detail
MAX_DISPARITY = 10
MAX_TERMS = 10
MAX_SAMPLE_ROWS = 12
MAX_ADVERSE = 20
NO_MODEL = {
    "explain": "Not assessed: this audit examined recorded decisions, not a model, so there is "
    "no model to explain; it cannot tell which features drive the decisions.",
    "proxies": "Not assessed: proxies are looked for among a model's features, and this audit "
    "examined recorded decisions without a model; whether other columns stand in for the "
    "sensitive attributes was not measured.",
}


def _cell(value: Value) -> Cell:
    cell = value_cell(value)
    if cell.undefined:
        return cell
    return Cell(num(value.value or 0.0), cell.interval.replace("-0.000", "0.000"))


def _scale_text(scale: str, adverse: str) -> str:
    if scale.startswith("log-odds"):
        how = (
            "SHAP values are in log-odds: they add up, and the base value plus a row's values "
            "is the model's log-odds for that row; +0.69 doubles the odds, −0.69 halves them"
        )
    elif scale.startswith("probability"):
        how = (
            "SHAP values are in probability points: the base value plus a row's values is the "
            "model's predicted probability for that row"
        )
    else:
        how = (
            f"SHAP values are on the model's own scale ({scale}): the base value plus a row's "
            "values is the model's output for that row"
        )
    side = "low" if adverse == "low" else "high"
    return f"{how}. A {side} output is the adverse outcome for the person."


def _direction(mean: Value, adverse: str) -> str:
    if mean.value is None:
        return "undefined"
    low = mean.ci_low if mean.ci_low is not None else mean.value
    high = mean.ci_high if mean.ci_high is not None else mean.value
    up, down = ("favourable", "adverse") if adverse == "low" else ("adverse", "favourable")
    if low > 0:
        return f"↑ raises the output (toward {up})"
    if high < 0:
        return f"↓ lowers the output (toward {down})"
    return "– no consistent direction"


def _sample(e: Explanation) -> tuple[str, str, tuple[Fact, ...], str]:
    if e.rows_explained >= e.rows_total:
        text = f"All {count(e.rows_total)} rows were explained, so every group is complete."
        return text, "", (), ""
    text = (
        f"A sample of {count(e.rows_explained)} of {count(e.rows_total)} rows was explained, "
        "stratified by group so that every group is represented."
    )
    if not e.sample_by_group:
        return text, "", (), ""
    finest = list(e.sample_by_group)[-1]
    groups = sorted(e.sample_by_group[finest].items(), key=lambda item: item[1])
    rows = tuple(Fact(g, count(n)) for g, n in groups[:MAX_SAMPLE_ROWS])
    more = groups[MAX_SAMPLE_ROWS:]
    rest = f"{len(more):,} more groups, {count(sum(n for _, n in more))} rows" if more else ""
    return text, f"Rows explained by group of {finest}, fewest first", rows, rest


def _gap(gap: GapAttribution, scale: str, with_charts: bool) -> GapView:
    """The gap sentence, its largest parts (the rest summed), the check line and the chart."""
    if gap.output_gap.value is None:
        sentence = f"The gap in mean output between {gap.group} and {gap.reference} is undefined."
        return GapView(sentence, (), "", None)
    word = "lower" if gap.output_gap.value < 0 else "higher"
    sentence = (
        f"The mean model output of {gap.group} is {num(abs(gap.output_gap.value))} {word} than "
        f"{gap.reference}'s ({num(gap.mean_output_group)} against "
        f"{num(gap.mean_output_reference)}, {scale}; gap {num(gap.output_gap.value)} "
        f"{_cell(gap.output_gap).interval}). These features account for it:"
    )
    ranked = sorted(gap.terms, key=lambda t: -abs(t.difference.value or 0.0))
    rows = [TermRow(t.feature, _cell(t.difference)) for t in ranked[:MAX_TERMS]]
    rest = ranked[MAX_TERMS:]
    if rest:
        summed = sum(t.difference.value or 0.0 for t in rest)
        rows.append(TermRow(f"{len(rest):,} other features together", Cell(num(summed)), True))
    check = (
        f"Check: the {len(gap.terms):,} parts add up to the gap of {num(gap.output_gap.value)}; "
        f"what they leave unexplained (residual) is {gap.residual:.1e}."
    )
    shown = gap.model_copy(update={"terms": ranked})
    chart = gap_chart(shown, MAX_TERMS, scale) if with_charts else None
    return GapView(sentence, tuple(rows), check, chart)


def _attribute(a: AttributeExplanation, e: Explanation, with_charts: bool) -> AttributeView:
    order = sorted(a.groups, key=lambda g: (g.group != a.reference, -g.rows_explained))
    drawn = [g.group for g in order[:MAX_CHART_GROUPS]]
    listed = ", ".join(f"{g.group} ({count(g.rows_explained)})" for g in order[:MAX_CHART_GROUPS])
    groups = f"Groups compared, with rows explained: {listed}" if order else ""
    if len(order) > len(drawn):
        groups += f", and {len(order) - len(drawn):,} more groups, not drawn"
    left_out = f"Groups with fewer than {a.min_rows:,} explained rows are left out."
    groups = f"{groups}. {left_out}" if order else f"No group has enough rows. {left_out}"
    features = [f.feature for f in e.features[:MAX_GROUP_FEATURES]]
    chart = group_chart(a, drawn, features, e.output_scale) if with_charts else None
    disparity = tuple(
        DisparityRow(d.feature, _cell(d.gap), d.high_group or "–", d.low_group or "–")
        for d in a.disparity[:MAX_DISPARITY]
    )
    more = len(a.disparity) - len(disparity)
    return AttributeView(
        attribute=a.attribute,
        groups=groups,
        chart=chart,
        disparity=disparity,
        disparity_more=f"{more:,} more features in audit.json." if more > 0 else "",
        gap=_gap(a.gap, e.output_scale, with_charts) if a.gap is not None else None,
    )


def explanation_view(e: Explanation, *, with_charts: bool) -> ExplanationView:
    """The ``explain`` family's explanation, formatted for the report."""
    sample, caption, rows, rest = _sample(e)
    exceeded = e.max_additivity_error > e.additivity_tolerance
    top = e.features[:MAX_FEATURES]
    adverse_side = "lowest" if e.adverse_direction == "low" else "highest"
    used = ", ".join(e.sensitive_features_used)
    return ExplanationView(
        facts=(
            Fact("Method", e.method),
            Fact("Exact", "yes" if e.exact else "no: the values are estimates"),
            Fact("Output scale", e.output_scale),
            Fact(
                "Base value",
                f"{num(e.base_value)} (the expected output every row's values start from)",
            ),
            Fact("Rows explained", f"{count(e.rows_explained)} of {count(e.rows_total)}"),
        ),
        scale=_scale_text(e.output_scale, e.adverse_direction),
        sample=sample,
        sample_caption=caption,
        sample_rows=rows,
        sample_more=rest,
        additivity=(
            f"Additivity: over the explained rows, base value plus SHAP values misses the model "
            f"output by at most {e.max_additivity_error:.2g} (tolerance "
            f"{e.additivity_tolerance:.2g}), {'above' if exceeded else 'within'} the tolerance."
        ),
        additivity_warning=(
            f"The explanation does not add up: the worst row misses the model output by "
            f"{e.max_additivity_error:.2g}, above the tolerance of {e.additivity_tolerance:.2g}. "
            "Read the values below as approximate."
            if exceeded
            else ""
        ),
        sensitive_warning=(
            f"Sensitive attributes used directly as model features: {used}. The model's output "
            "depends on the attribute itself, not only on stand-ins for it."
            if used
            else ""
        ),
        notes=tuple(e.notes),
        importance_chart=(
            importance_chart(
                [(f.feature, f.mean_abs) for f in top], e.output_scale, len(e.features)
            )
            if with_charts
            else None
        ),
        importance=tuple(
            ImportanceRow(
                f.feature, _cell(f.mean_abs), _cell(f.mean), _direction(f.mean, e.adverse_direction)
            )
            for f in top
        ),
        importance_more=(
            f"{len(e.features) - len(top):,} more features in audit.json."
            if len(e.features) > len(top)
            else ""
        ),
        attributes=tuple(_attribute(a, e, with_charts) for a in e.attributes[:MAX_ATTRIBUTES]),
        attributes_more=(
            f"{len(e.attributes) - MAX_ATTRIBUTES:,} more attributes or intersections are in "
            "audit.json."
            if len(e.attributes) > MAX_ATTRIBUTES
            else ""
        ),
        adverse_intro=(
            f"The {len(e.adverse_cases[:MAX_ADVERSE]):,} explained rows with the {adverse_side} "
            "model output (the most adverse for the person), each with the features that push it "
            "furthest toward the adverse outcome and by how much (SHAP value). Feature values are "
            "not shown."
        ),
        adverse=tuple(
            AdverseRow(
                str(c.rank),
                num(c.output),
                "; ".join(f"{r.feature} ({num(r.contribution)})" for r in c.reasons),
            )
            for c in e.adverse_cases[:MAX_ADVERSE]
        ),
        adverse_more=(
            f"{len(e.adverse_cases) - MAX_ADVERSE:,} more rows in audit.json."
            if len(e.adverse_cases) > MAX_ADVERSE
            else ""
        ),
    )


def transparency_parts(
    check: CheckResult, *, has_model: bool, with_charts: bool
) -> tuple[ExplanationView | None, ProxiesView | None, str]:
    """(explanation, proxies, not-assessed text) of one ``explain`` or ``proxies`` check."""
    if check.status == "error" or check.family not in NO_MODEL:
        return None, None, ""
    e, p = check.explanation, check.proxies
    explanation = explanation_view(e, with_charts=with_charts) if e is not None else None
    proxies = proxies_view(p) if p is not None else None
    if explanation is not None or proxies is not None:
        return explanation, proxies, ""
    if not has_model:
        return None, None, NO_MODEL[check.family]
    return None, None, "Not assessed: the audit recorded no results for these checks."
