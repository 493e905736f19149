"""The data-governance section: representation, label balance, data quality and privacy.

Two real audits, built once for the module: the German credit sample model with a population
reference for sex, quasi-identifiers, the training rows, and planted trouble in the audit data
(valid card numbers, e-mail addresses and SSNs, a column missing mostly for women, unseen
categories, values outside the training range, duplicate rows); and the same data as recorded
decisions with the default policy (no model, no reference, no training data). Most checks
read the view model or HTML rendered without charts; one full HTML renders everything.
"""

from __future__ import annotations

import base64
import html as html_module
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from auditor import audit
from auditor.report import render_markdown
from auditor.report.context import build_context
from auditor.report.governance import governance_view
from auditor.report.governance_charts import MAX_CHART_GROUPS, share_chart
from auditor.report.governance_format import Setting, p_number, setting
from auditor.report.governance_view import (
    PrivacyView,
    QualityView,
    RepresentationPart,
)
from auditor.report.group_tables import MAX_GROUP_ROWS
from auditor.report.html import render_context, render_html
from auditor.report.view import ReportContext
from auditor.results import AuditRecord
from auditor.results_governance import GroupShare, Representation
from auditor.results_values import Value
from tests.conftest import ROOT, SAMPLE_DATA, SAMPLE_MODEL

SCRIPT = "<script>alert(1)</script>"
SPLIT_SEED = 20261128  # sample_models/train_german_credit.py
POLICY = """\
apiVersion: auditor/v1
name: governance-test
description: The default policy with a population reference and quasi-identifiers.
extends: default
settings:
  bootstrap_resamples: 200
  explanation_rows: 200
population:
  - attribute: sex
    shares: {female: 0.5, male: 0.5}
    source: "illustrative 50/50"
privacy:
  quasi_identifiers: [age, sex, foreign_worker]
  k: 5
  l: 2
"""


def _card(i: int) -> str:
    """A Visa-shaped number with a valid Luhn check digit."""
    body = f"4{i:014d}"
    total = 0
    for k, digit in enumerate(int(c) for c in reversed(body)):
        doubled = digit * 2 if k % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return body + str((10 - total % 10) % 10)


def _planted() -> tuple[pd.DataFrame, dict[str, list[str]]]:
    frame = pd.read_csv(SAMPLE_DATA)
    n = len(frame)
    raw = {
        "card_number": [_card(1_234_567 + 7_919 * i) for i in range(n)],
        "contact": [f"applicant.{i:04d}@mail-example.org" for i in range(n)],
        "ssn": [f"{123 + i % 500:03d}-{45 + i % 50:02d}-{1000 + i:04d}" for i in range(n)],
    }
    frame = frame.assign(**raw)
    rng = np.random.default_rng(0)
    female = frame["sex"].eq("female").to_numpy()
    missing = rng.random(n) < np.where(female, 0.3, 0.05)
    branches = np.array(["north", "south", "east"], dtype=object)[np.arange(n) % 3]
    frame["branch"] = np.where(missing, None, branches)
    frame.loc[frame.index[:6], "purpose"] = "A47"  # a category training never had
    frame.loc[frame.index[6:9], "credit_amount"] = 99_999  # above the training maximum
    frame = pd.concat([frame, frame.iloc[:3]], ignore_index=True)  # 3 duplicate rows
    return frame, raw


def _training() -> pd.DataFrame:
    frame = pd.read_csv(ROOT / "sample_models" / "data" / "german_credit.csv")
    female = frame["personal_status"].isin(["A92", "A95"])
    frame["sex"] = np.where(female, "female", "male")
    frame["age_group"] = np.where(frame["age"] < 25, "under 25", "25 and over")
    train, _ = train_test_split(
        frame, test_size=0.4, random_state=SPLIT_SEED, stratify=frame["credit"]
    )
    return train


@pytest.fixture(scope="module")
def planted(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[AuditRecord, dict[str, list[str]]]:
    frame, raw = _planted()
    policy = tmp_path_factory.mktemp("governance") / "policy.yaml"
    policy.write_text(POLICY)
    result = audit(
        frame,
        model=str(SAMPLE_MODEL),
        target="credit",
        pos_label=1,
        sensitive=["sex", "age_group"],
        positive_outcome="favorable",
        policy=policy,
        train_data=_training(),
    )
    return result, raw


@pytest.fixture(scope="module")
def record(planted: tuple[AuditRecord, dict[str, list[str]]]) -> AuditRecord:
    return planted[0]


@pytest.fixture(scope="module")
def decisions(decisions_csv: Path) -> AuditRecord:
    return audit(
        str(decisions_csv),
        prediction="decision",
        target="credit",
        pos_label=1,
        sensitive=["sex", "age_group"],
        positive_outcome="favorable",
    )


@pytest.fixture(scope="module")
def context(record: AuditRecord) -> ReportContext:
    return build_context(record, with_charts=False)


@pytest.fixture(scope="module")
def html(record: AuditRecord) -> str:
    return render_html(record)


@pytest.fixture(scope="module")
def decisions_html(decisions: AuditRecord) -> str:
    return render_context(build_context(decisions, with_charts=False))


def _setting(result: AuditRecord) -> Setting:
    return setting(result, min_group_size=int(result.policy.settings["min_group_size"]))


def _representation(result: AuditRecord, *, with_charts: bool = False) -> RepresentationPart:
    view = governance_view(
        result.check("representation"), _setting(result), with_charts=with_charts
    )
    assert view is not None and view.representation is not None
    return view.representation


def _quality(result: AuditRecord) -> QualityView:
    view = governance_view(result.check("data_quality"), _setting(result), with_charts=False)
    assert view is not None and view.quality is not None
    return view.quality


def _privacy(result: AuditRecord) -> PrivacyView:
    view = governance_view(result.check("privacy"), _setting(result), with_charts=False)
    assert view is not None and view.privacy is not None
    return view.privacy


def _reps(result: AuditRecord) -> dict[str, Representation]:
    g = result.check("representation").governance
    assert g is not None
    return {r.attribute: r for r in g.representation}


def _section(page: str) -> str:
    """The data-governance section of a rendered report."""
    return page[page.index('id="sec-data"') : page.index('id="sec-ethics"')]


def _text(page: str) -> str:
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_reference_table_has_the_records_numbers(record: AuditRecord) -> None:
    sex = _reps(record)["sex"]
    view = next(a for a in _representation(record).attributes if a.attribute == "sex")
    assert view.reference and view.source == "illustrative 50/50"
    for group, row in zip(sex.groups, view.rows, strict=True):
        assert row.group == group.group and row.n == f"{group.n:,}"
        assert group.observed.ci_low is not None and group.observed.ci_high is not None
        assert row.observed.text == f"{group.observed.value:.3f}"
        assert row.observed.interval == (
            f"[{group.observed.ci_low:.3f}, {group.observed.ci_high:.3f}]"
        )
        assert row.expected == f"{group.expected:.3f}"
        assert row.ratio is not None and group.ratio is not None
        assert row.ratio.text == f"{group.ratio.value:.3f}"
    failed = {
        f.group
        for f in record.findings
        if f.check == "representation.representation_ratio" and f.verdict == "fail"
    }
    assert failed == {"sex=female"}  # the planted data: 31% women against 50%
    assert {r.group for r in view.rows if r.flagged} == failed
    female = next(r for r in view.rows if r.group == "sex=female")
    assert female.verdict is not None and female.verdict.word == "fail"
    assert female.side == "under-represented"
    assert sex.chi_square is not None and sex.dof == 1
    assert f"χ² = {sex.chi_square:.3f}, 1 degree of freedom, p = " in view.test
    assert sex.total_variation is not None and sex.total_variation.value is not None
    assert view.distance.startswith(f"{sex.total_variation.value:.3f} [")
    assert [n.rule for n in view.findings] == ["under-representation"]


def test_reference_chart_draws_observed_against_expected(record: AuditRecord, html: str) -> None:
    sex = _reps(record)["sex"]
    view = next(a for a in _representation(record, with_charts=True).attributes)
    assert view.attribute == "sex" and view.chart is not None
    for group in sex.groups:
        assert group.observed.value is not None and group.expected is not None
        assert f"{group.group}: observed {group.observed.value:.3f}" in view.chart.alt
        assert f"expected {group.expected:.3f}" in view.chart.alt
    svg = base64.b64decode(view.chart.uri.split(",", 1)[1]).decode()
    assert svg.count("<path") > 10 and "<text" not in svg  # text drawn as paths
    section = _section(html)
    assert view.chart.uri in section and "illustrative 50/50" in section
    assert "Observed and expected shares by group for sex" in section
    assert 'class="flagged"' in section and "under-represented" in section


def test_p_value_that_underflowed_is_printed_as_a_bound(record: AuditRecord) -> None:
    assert p_number(0.0) == "< 1e-300"
    assert p_number(2.96e-14) == "3.0e-14"
    assert p_number(0.31) == "0.310"
    g = record.check("representation").governance
    assert g is not None
    zero = [r.model_copy(update={"p_value": 0.0}) for r in g.representation]
    check = record.check("representation").model_copy(
        update={"governance": g.model_copy(update={"representation": zero})}
    )
    view = governance_view(check, _setting(record), with_charts=False)
    assert view is not None and view.representation is not None
    assert "p < 1e-300" in view.representation.attributes[0].test


def test_without_a_reference_group_sizes_and_the_way_to_add_one(
    record: AuditRecord, decisions: AuditRecord, decisions_html: str
) -> None:
    part = _representation(record)
    assert "age_group and sex & age_group" in part.reference_absent
    assert "Add population shares to the policy" in part.reference_absent
    both = next(a for a in part.attributes if a.attribute == "sex & age_group")
    assert not both.reference and both.chart is None and both.test == ""
    small = _reps(record)["sex & age_group"].below_min_group_size
    assert small == ["sex=male & age_group=under 25"]
    assert [r.group for r in both.rows if r.too_small] == small
    assert both.small == f"Too few rows to judge (fewer than 30): {small[0]}."
    text = _text(_section(decisions_html))
    assert "no population shares for sex, age_group and sex & age_group" in text
    assert "Group sizes and shares for sex (no population reference)" in text
    assert "Observed and expected shares" not in text


def test_shift_table_with_training_data(record: AuditRecord, context: ReportContext) -> None:
    part = _representation(record)
    assert part.train_absent == ""
    g = record.check("representation").governance
    assert g is not None and g.train_rows == 600
    balance = {b.attribute: b for b in g.balance}
    for view in part.balance:
        source = balance[view.attribute]
        assert [r.group for r in view.rates] == [r.group for r in source.base_rates]
        assert [r.rate.text for r in view.rates] == [
            f"{r.rate.value:.3f}" for r in source.base_rates
        ]
        assert len(view.shift) == len(source.shift) > 0
        for row, shift in zip(view.shift, source.shift, strict=True):
            assert row.train_share == f"{shift.train_share:.3f}"
            assert row.audit_share == f"{shift.audit_share:.3f}"
            assert row.share_difference.text == f"{shift.share_difference.value:.3f}".replace(
                "-0.000", "0.000"
            )
            assert shift.base_rate_difference is not None
            assert row.rate_difference.text == f"{shift.base_rate_difference.value:.3f}"
            assert row.train_rate == f"{shift.train_base_rate:.3f}"
        assert f"total variation distance {source.shift_total_variation:.3f}" in view.shift_test
        assert "Chi-square test of homogeneity: p" in view.shift_test
    page = _text(render_context(context))
    assert "Shift from the training data to the audited data for sex" in page
    assert "Training base rate" in page


def test_personal_data_is_shown_masked_only(
    planted: tuple[AuditRecord, dict[str, list[str]]], html: str
) -> None:
    record, raw = planted
    markdown = render_markdown(record)
    as_json = record.to_json()
    for column, values in raw.items():
        for value in values:
            for text in (html, markdown, as_json):
                assert value not in text, (column, value)
            if column == "contact":
                continue
            digits = re.sub(r"\D", "", value)  # the number without its separators
            assert digits not in html and digits not in markdown, (column, value)
            if column == "card_number":  # 16 digits: never by chance among the floats
                assert digits not in as_json
    view = _privacy(record)
    rows = {r.column: r for r in view.pii}
    assert {"card_number", "contact", "ssn"} <= set(rows)
    assert rows["card_number"].kind == "payment card number"
    assert rows["card_number"].example.startswith("**** **** **** ")
    assert rows["contact"].found_by == "its values"
    assert rows["ssn"].example.startswith("***-**-**")
    assert rows["card_number"].share == "1.000 (403 of 403)"
    assert rows["card_number"].verdict is not None and rows["card_number"].verdict.word == "fail"
    section = _section(html)
    for column in ("card_number", "ssn"):
        assert rows[column].example in section
    features = [r.column for r in view.pii if r.feature]
    assert features == ["telephone"]  # the German data's own column, a model feature
    assert "telephone (phone number; found by its name only" in view.pii_features
    assert '<tr class="feature">' in section


def test_k_anonymity_and_l_diversity_facts(record: AuditRecord, context: ReportContext) -> None:
    privacy = record.check("privacy").governance
    assert privacy is not None and privacy.privacy is not None
    a = privacy.privacy.anonymity
    assert a is not None
    view = _privacy(record).anonymity
    assert view is not None
    facts = {f.label: f.value for f in view.facts}
    assert facts["Quasi-identifiers"] == "age, sex, foreign_worker"
    assert facts["Equivalence classes"].startswith(f"{a.classes:,} ")
    assert facts["Smallest class"] == f"{a.smallest_class:,} row" + "s" * (a.smallest_class != 1)
    assert facts["Rows in classes smaller than k"] == (
        f"{a.rows_below_k:,} ({a.share_below_k:.3f} of the rows)"
    )
    assert [z.classes for z in view.sizes] == [f"{n:,}" for n in a.class_sizes.values()]
    assert [z.below_k for z in view.sizes] == [True] * (a.k - 1) + [False]
    assert view.sizes[-1].size == "5 or more (k or more)"
    l_facts = {f.label: f.value for f in view.l_facts}
    assert l_facts["Distinct l"].startswith(f"{a.l_diversity:,}:")
    assert l_facts["Rows in classes with fewer than l distinct values"].startswith(
        f"{a.rows_below_l:,} ("
    )
    assert view.l_absent == ""
    page = _text(_section(render_context(context)))
    assert "Equivalence classes by size (rows per class)" in page
    assert "k-anonymity · all rows" in page


def test_membership_inference_in_plain_words(record: AuditRecord) -> None:
    privacy = record.check("privacy").governance
    assert privacy is not None and privacy.privacy is not None
    m = privacy.privacy.membership
    assert m is not None and m.auc.value is not None
    view = _privacy(record).membership
    assert view is not None
    facts = {f.label: f.value for f in view.facts}
    assert facts["Attack AUC"].startswith(f"{m.auc.value:.3f} [")
    assert facts["Membership advantage"].startswith(f"{m.advantage:.3f}")
    assert facts["Training rows (members)"] == f"{m.members:,}"
    assert facts["Audited rows (non-members)"] == f"{m.non_members:,}"
    assert "0.5 means the model does not reveal who was in its training data" in view.meaning


def test_data_quality_missing_drift_duplicates(record: AuditRecord) -> None:
    g = record.check("data_quality").governance
    assert g is not None and g.quality is not None
    q = _quality(record)
    assert q.missing_summary.startswith("1 of ") and ": branch." in q.missing_summary
    by_sex = next(t for t in q.missing if t.attribute == "sex")
    (row,) = by_sex.rows
    source = next(m for m in g.quality.missingness if m.attribute == "sex" and m.column == "branch")
    assert source.cramers_v is not None and source.p_value is not None
    assert row.overall == f"{source.missing_share:.3f}"
    assert row.cramers_v == f"{source.cramers_v:.3f}"
    assert row.p == f"{source.p_value:.1e}"
    assert row.by_group == " · ".join(
        f"{k.removeprefix('sex=')} {v:.3f}" for k, v in source.by_group.items()
    )
    assert row.flagged and row.verdict is not None  # Cramér's V 0.32 > 0.1
    drift = {d.column: d for d in q.drift}
    assert set(drift) == {"purpose", "credit_amount"}
    assert drift["purpose"].detail == "unseen categories: 'A47'"
    assert drift["credit_amount"].kind.startswith("numeric")
    assert "2 columns hold such values" in q.drift_summary and not q.drift_absent
    only = {f.label: f.value for f in q.only_in}
    assert only == {"Only in the audited data": "card_number, contact, ssn and branch"}
    assert q.duplicates.startswith("3 rows (0.007 of the rows) repeat")


def test_decisions_mode_says_what_was_not_assessed(decisions_html: str) -> None:
    text = _text(_section(decisions_html))
    positions = [
        text.index(f"{t} ({f})")
        for t, f in (
            ("Representation", "representation"),
            ("Data quality", "data_quality"),
            ("Privacy", "privacy"),
        )
    ]
    assert positions == sorted(positions)
    assert "No column has missing values" in text
    assert "Not assessed: no training data was given" in text
    assert "--train-data" in text
    assert "the policy names no quasi-identifiers (privacy: quasi_identifiers:" in text
    assert "this audit examined recorded decisions, not a model" in text
    assert "Shift from the training data: not assessed" in text
    # Nothing missing is a measurement (V = 0 everywhere), so the rule passes and is listed.
    assert "The policy's findings on missing values" in text
    assert "missingness-by-group" in text


def test_many_groups_are_capped(record: AuditRecord) -> None:
    groups = [
        GroupShare(
            group=f"postcode={i:05d}",
            n=10 + i,
            observed=Value(value=0.001, ci_low=0.0005, ci_high=0.002),
            expected=0.001,
            ratio=Value(value=1.0, ci_low=0.5, ci_high=2.0),
        )
        for i in range(120)
    ]
    rep = Representation(attribute="postcode", groups=groups, reference_source=SCRIPT)
    g = record.check("representation").governance
    assert g is not None
    check = record.check("representation").model_copy(
        update={"governance": g.model_copy(update={"representation": [rep]})}
    )
    view = governance_view(check, _setting(record), with_charts=True)
    assert view is not None and view.representation is not None
    (shown,) = view.representation.attributes
    assert len(shown.rows) == MAX_GROUP_ROWS
    assert "first 50 of 120 groups" in shown.more
    assert shown.chart is not None
    assert f"The first {MAX_CHART_GROUPS} of 120 groups are drawn." in shown.chart.caption
    page = render_context(
        build_context(record.model_copy(update={"checks": [check]}), with_charts=False)
    )
    assert SCRIPT not in page and "&lt;script&gt;" in page


def test_unseen_categories_are_escaped(record: AuditRecord) -> None:
    g = record.check("data_quality").governance
    assert g is not None and g.quality is not None
    drift = [
        d.model_copy(update={"unseen_examples": [SCRIPT]}) if d.column == "purpose" else d
        for d in g.quality.drift
    ]
    quality = g.quality.model_copy(update={"drift": drift})
    check = record.check("data_quality").model_copy(
        update={"governance": g.model_copy(update={"quality": quality})}
    )
    page = render_context(
        build_context(record.model_copy(update={"checks": [check]}), with_charts=False)
    )
    assert SCRIPT not in page and "&#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;" in page


def test_charts_are_deterministic(record: AuditRecord) -> None:
    sex = _reps(record)["sex"]
    again = AuditRecord.from_json(record.to_json())
    first, second = share_chart(sex), share_chart(_reps(again)["sex"])
    assert first is not None and first == second
    assert _representation(record) == _representation(again)
    assert _privacy(record) == _privacy(again) and _quality(record) == _quality(again)


def test_markdown_summary(record: AuditRecord, decisions: AuditRecord) -> None:
    text = render_markdown(record)
    part = text[text.index("### Data governance") :]
    ratio = next(
        f.value for f in record.findings if f.rule_id == "under-representation" and f.value
    )
    assert f"under-represented groups: sex=female (ratio {ratio:.3f})" in part
    assert r"card\_number (payment card number)" in part
    assert "telephone (phone number, by its name only, **a model feature**)" in part
    assert "k-anonymity (k = 5 over age, sex, foreign\\_worker): " in part
    assert "Membership-inference AUC: 0." in part
    plain = render_markdown(decisions)
    block = plain[plain.index("### Data governance") :]
    assert "Representation" not in block and "k-anonymity" not in block
    assert "Membership" not in block
