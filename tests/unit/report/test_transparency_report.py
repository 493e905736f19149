"""The transparency section: what was explained and how, importance, gaps, reasons, proxies.

One real audit of the German credit sample model (built once for the module), one audit of
recorded decisions (no model: nothing to explain), and copies of the real record stretched
to hundreds of groups, features and associations, or with hostile names, to test the caps.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pandas as pd
import pytest

from auditor import audit
from auditor.report import render_markdown
from auditor.report.charts import Chart
from auditor.report.context import build_context
from auditor.report.html import render_html
from auditor.report.transparency import (
    MAX_CHART_GROUPS,
    MAX_FEATURES,
    MAX_SAMPLE_ROWS,
    MAX_TERMS,
    NO_MODEL,
    explanation_view,
)
from auditor.report.transparency_proxies import MAX_ASSOCIATIONS, proxies_view
from auditor.report.transparency_view import ExplanationView, ProxiesView
from auditor.results import AuditRecord
from auditor.results_transparency import (
    Association,
    Explanation,
    FeatureImportance,
    GroupImportance,
    Proxies,
)
from auditor.results_values import Value
from tests.conftest import SAMPLE_DATA, SAMPLE_MODEL

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def record() -> AuditRecord:
    return audit(
        str(SAMPLE_DATA),
        model=str(SAMPLE_MODEL),
        target="credit",
        pos_label=1,
        sensitive=["sex", "age_group"],
        positive_outcome="favorable",
    )


@pytest.fixture(scope="module")
def explanation(record: AuditRecord) -> Explanation:
    e = record.check("explain").explanation
    assert e is not None
    return e


@pytest.fixture(scope="module")
def proxies(record: AuditRecord) -> Proxies:
    p = record.check("proxies").proxies
    assert p is not None
    return p


@pytest.fixture(scope="module")
def view(explanation: Explanation) -> ExplanationView:
    return explanation_view(explanation, with_charts=True)


@pytest.fixture(scope="module")
def html(record: AuditRecord) -> str:
    return render_html(record)


def section(html: str) -> str:
    """The transparency section of the page, data URIs cut out."""
    start = html.index('id="sec-transparency"')
    part = html[start : html.index('<section id="sec-data"', start)]
    return re.sub(r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+", "", part)


def svg(chart: Chart) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert chart.uri.startswith(prefix)
    return base64.b64decode(chart.uri[len(prefix) :]).decode("utf-8")


def test_method_scale_sample_and_additivity(html: str, explanation: Explanation) -> None:
    text = section(html)
    assert explanation.method in text
    assert "log-odds of class 1" in text
    assert "SHAP values are in log-odds: they add up" in text
    assert "A low output is the adverse outcome for the person." in text
    assert f"All {explanation.rows_total:,} rows were explained" in text
    assert f"at most {explanation.max_additivity_error:.2g} " in text
    assert f"(tolerance {explanation.additivity_tolerance:.2g}), within the tolerance." in text
    assert "does not add up" not in text and "used as a feature" not in text
    assert "Additivity error" not in text  # the generic fact gives way to the explanation


def test_top_features_in_order(view: ExplanationView, html: str, explanation: Explanation) -> None:
    ranked = [f.feature for f in explanation.features]
    assert [row.feature for row in view.importance] == ranked[:MAX_FEATURES]
    table = section(html).split("Global importance of the features")[1]
    positions = [table.index(f">{f.replace('_', '_<wbr>')}<") for f in ranked[:5]]
    assert positions == sorted(positions)
    assert view.importance[0].mean_abs.interval.startswith("[")
    assert view.importance_chart is not None
    assert "status: 0.765" in view.importance_chart.alt


def test_gap_table_terms_sum_to_the_gap(view: ExplanationView, explanation: Explanation) -> None:
    for attribute, shown in zip(explanation.attributes, view.attributes, strict=False):
        gap = attribute.gap
        assert gap is not None and shown.gap is not None and gap.output_gap.value is not None
        recorded = sum(t.difference.value or 0.0 for t in gap.terms) + gap.residual
        assert recorded == pytest.approx(gap.output_gap.value, abs=1e-9)
        assert len(shown.gap.terms) == MAX_TERMS + 1 and shown.gap.terms[-1].other
        listed = sum(float(t.difference.text) for t in shown.gap.terms)
        assert listed == pytest.approx(gap.output_gap.value, abs=0.0005 * len(shown.gap.terms))
        word = "lower" if gap.output_gap.value < 0 else "higher"
        assert f"The mean model output of {gap.group} is " in shown.gap.sentence
        assert f" {word} than {gap.reference}'s" in shown.gap.sentence
        assert f"(residual) is {gap.residual:.1e}" in shown.gap.check


def test_disparity_and_group_charts(view: ExplanationView) -> None:
    sex = view.attributes[0]
    assert sex.attribute == "sex"
    assert sex.disparity[0].feature == "personal_status"
    assert {sex.disparity[0].high, sex.disparity[0].low} == {"sex=male", "sex=female"}
    assert sex.chart is not None and "sex=female: status" in sex.chart.alt
    assert "Groups with fewer than 30 explained rows are left out." in sex.groups


def test_adverse_cases_show_reasons_but_no_raw_values(
    view: ExplanationView, html: str, german: pd.DataFrame
) -> None:
    assert view.adverse and view.adverse[0].rank == "1"
    assert re.fullmatch(r"-?\d+\.\d{3}", view.adverse[0].output)
    assert re.match(r"\w+ \(-?\d+\.\d{3}\); ", view.adverse[0].reasons)
    text = section(html)
    codes = {v for c in german.columns for v in german[c].astype(str) if re.fullmatch(r"A\d+", v)}
    amounts = {str(v) for v in german["credit_amount"] if v >= 1000}
    words = set(re.findall(r"[A-Za-z0-9]+", text))
    assert not codes & words and not amounts & words


def test_near_copies_are_highlighted(html: str, proxies: Proxies) -> None:
    view = proxies_view(proxies)
    recorded = [(a.feature, a.attribute) for a in proxies.associations if a.near_copy]
    assert ("personal_status", "sex") in recorded
    assert [(a.feature, a.attribute) for a in view.associations if a.near_copy] == recorded
    assert "personal_status is a near copy of sex (strength 0.997)" in view.near_copies
    assert len(view.near_copies) == len(recorded)
    text = section(html)
    rows = re.findall(r'<tr class="near-copy">.*?</tr>', text)
    assert any("personal_<wbr>status" in row for row in rows)
    assert all("✓</span> yes" in row for row in rows)
    assert "Near copies of a sensitive attribute." in text
    assert "An AUC of 0.5 is chance" in text and "a perfect proxy" in text
    auc = {row.attribute: row.auc.text for row in view.predictability}
    assert auc == {"sex": "1.000", "age_group": "0.980"}
    assert view.models[0].value.startswith("logistic regression")


def test_charts_are_reproducible_svg(view: ExplanationView, explanation: Explanation) -> None:
    assert explanation_view(explanation, with_charts=True) == view
    charts = [view.importance_chart, *(a.chart for a in view.attributes)]
    charts += [a.gap.chart for a in view.attributes if a.gap is not None]
    assert len(charts) == 7
    for chart in charts:
        assert chart is not None and chart.alt and chart.caption
        text = svg(chart)
        assert text.lstrip().startswith("<?xml") and "<svg" in text and "<dc:date>" not in text


def test_decisions_mode_says_not_assessed(decisions_csv: Path) -> None:
    decided = audit(
        str(decisions_csv),
        target="credit",
        pos_label=1,
        sensitive=["sex"],
        prediction="decision",
        positive_outcome="favorable",
    )
    families = {
        f.family: f
        for s in build_context(decided).sections
        if s.key == "transparency"
        for f in s.families
    }
    assert set(families) == {"explain", "proxies"}
    for name, family in families.items():
        assert family.explanation is None and family.proxies is None
        assert family.not_assessed == NO_MODEL[name]
    text = section(render_html(decided))
    assert "there is no model to explain" in text and "without a model" in text
    assert "## Transparency" not in render_markdown(decided)


def _stretched(e: Explanation, p: Proxies) -> tuple[Explanation, Proxies]:
    """300 groups in the intersection, 300 features, 600 associations, a hostile name."""
    value = Value(value=0.1, ci_low=0.05, ci_high=0.15)
    names = [f"{SCRIPT} $x$" if i == 0 else f"feature_{i:03d}" for i in range(300)]
    features = [FeatureImportance(feature=n, mean_abs=value, mean=value) for n in names]
    groups = [
        GroupImportance(group=f"g{i:03d}", rows_explained=40, mean_abs={names[0]: value}, mean={})
        for i in range(300)
    ]
    big = e.attributes[-1].model_copy(update={"groups": groups})
    sample = {"sex & age_group": {f"g{i:03d}": 40 for i in range(300)}}
    e = e.model_copy(
        update={
            "features": features,
            "attributes": [big],
            "sample_by_group": sample,
            "rows_explained": 12_000,
            "rows_total": 50_000,
            "max_additivity_error": 0.02,
            "sensitive_features_used": ["sex"],
        }
    )
    pairs = [
        Association(feature=n, attribute=a, measure="cramers_v", strength=0.5, n=10, near_copy=True)
        for n in names
        for a in ("sex", "age_group")
    ]
    return e, p.model_copy(update={"associations": pairs})


def test_hundreds_of_groups_are_capped(explanation: Explanation, proxies: Proxies) -> None:
    e, p = _stretched(explanation, proxies)
    view = explanation_view(e, with_charts=True)
    assert len(view.importance) == MAX_FEATURES and "285 more features" in view.importance_more
    assert len(view.sample_rows) == MAX_SAMPLE_ROWS
    assert view.sample_more == "288 more groups, 11,520 rows"
    (big,) = view.attributes
    assert "and 294 more groups, not drawn" in big.groups
    assert big.chart is not None
    assert big.chart.alt.count(": <script>") == MAX_CHART_GROUPS  # one line per group drawn
    tolerance = f"{e.additivity_tolerance:.2g}"
    assert f"misses the model output by 0.02, above the tolerance of {tolerance}" in (
        view.additivity_warning
    )
    assert "sex" in view.sensitive_warning
    shown: ProxiesView = proxies_view(p)
    assert len(shown.associations) == MAX_ASSOCIATIONS
    assert shown.associations_more == "585 more associations in audit.json."
    assert shown.near_copies[-1] == "and 585 more near copies in audit.json"


def test_hostile_names_are_escaped_and_warnings_shown(
    record: AuditRecord, explanation: Explanation, proxies: Proxies
) -> None:
    e, p = _stretched(explanation, proxies)
    checks = [
        c.model_copy(update={"explanation": e})
        if c.family == "explain"
        else c.model_copy(update={"proxies": p})
        if c.family == "proxies"
        else c
        for c in record.checks
    ]
    text = section(render_html(record.model_copy(update={"checks": checks})))
    assert SCRIPT not in text and "&lt;script&gt;" in text
    assert "Warning: the explanation does not add up." in text
    assert "Warning: sensitive attribute used as a feature." in text
    assert "Rows explained by group of sex &amp; age_group, fewest first" in text


def test_markdown_summary(record: AuditRecord, explanation: Explanation) -> None:
    text = render_markdown(record)
    part = text[text.index("### Transparency") :]
    assert "log-odds of class 1" in part
    top = [f.feature.replace("_", r"\_") for f in explanation.features[:5]]
    positions = [part.index(f) for f in top]
    assert positions == sorted(positions)
    assert r"personal\_status (sex, strength 0.997)" in part
    assert "sex 1.000" in part and "age\\_group 0.980" in part
