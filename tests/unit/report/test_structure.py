"""The report's structure: sections by concern, the model card, the regulatory mapping, the
executive summary, waivers, links and table of contents, and the PDF with hundreds of groups.

The fixture extends the shared one with a model card, waivers, more check families (one the
report has no section for, one that failed) and hostile strings in every new free text.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from auditor.report import render_pdf
from auditor.report.context import MAX_GROUP_ROWS, ReportContext, build_context
from auditor.report.html import render_html
from auditor.report.pdf import fetch_resource, html_to_pdf
from auditor.report.sections import FAMILY_SECTIONS
from auditor.resources import templates_dir
from auditor.results import AuditRecord, CheckResult, ModelCard, Value

from .conftest import IMG, SCRIPT, make_result, many_groups_table

EVIL_JS = "javascript:alert(2)"


def full_result() -> AuditRecord:
    base = make_result()
    card = ModelCard(
        source=f"cards/{SCRIPT}.yaml",
        name="credit-model",
        owner=f"Risk team {SCRIPT}",
        contact=f"<a href='{EVIL_JS}'>mail</a>",
        intended_use=f"Pre-screening {IMG}",
        intended_users=["loan officers"],
        known_limitations=["trained on 1970s data", SCRIPT],
        missing=["human_oversight", "review_date"],
    )
    policy = base.policy.model_copy(
        update={
            "description": f"Credit policy {SCRIPT}",
            "waivers": [
                {
                    "rule": "adverse-impact",
                    "group": "age_group=<25",
                    "reason": f"remediation planned {IMG}",
                    "owner": f"cro {SCRIPT}",
                    "expires": "2026-06-30",
                }
            ],
        }
    )
    extra = [
        CheckResult(family="explain", status="ok", overall={"top_feature_share": Value(value=0.4)}),
        CheckResult(family="robustness", status="ok", tables=[many_groups_table(3)]),
        CheckResult(family="privacy", status="error", error=f"boom {SCRIPT}"),
    ]
    return base.model_copy(
        update={"metadata": card, "policy": policy, "checks": [*base.checks, *extra]}
    )


@pytest.fixture(scope="module")
def result() -> AuditRecord:
    return full_result()


@pytest.fixture(scope="module")
def context(result: AuditRecord) -> ReportContext:
    return build_context(result, with_charts=False)


@pytest.fixture(scope="module")
def html(result: AuditRecord) -> str:
    return render_html(result)


def test_every_family_lands_in_its_section_and_unknown_ones_in_other(
    context: ReportContext,
) -> None:
    placed = {f.family: s.key for s in context.sections for f in s.families}
    assert placed == {
        "fairness": "bias",
        "performance": "bias",
        "explain": "transparency",
        "privacy": "data",
        "robustness": "other",
    }
    assert all(FAMILY_SECTIONS.get(k, "other") == v for k, v in placed.items())
    assert [s.key for s in context.sections] == ["bias", "transparency", "data", "ethics", "other"]
    ethics = next(s for s in context.sections if s.key == "ethics")
    assert ethics.not_assessed.startswith("Not assessed in this audit: no accountability checks")
    other = next(s for s in context.sections if s.key == "other")
    assert other.families[0].tables[0].attribute == "postcode"


def test_sections_without_results_say_so_and_what_it_means() -> None:
    context = build_context(make_result(), with_charts=False)
    transparency = next(s for s in context.sections if s.key == "transparency")
    assert not transparency.families
    assert "no explainability or proxy checks were run" in transparency.not_assessed
    assert "how the model reaches its decisions" in transparency.not_assessed
    assert "other" not in [s.key for s in context.sections]


def test_failed_family_shows_its_error(html: str, context: ReportContext) -> None:
    data = next(s for s in context.sections if s.key == "data")
    assert data.families[0].error == f"boom {SCRIPT}"
    assert "These checks could not run:</strong> boom &lt;script&gt;" in html


def test_model_card_fields_and_missing_ones(context: ReportContext, html: str) -> None:
    card = context.model_card
    fields = {f.label: f for f in card.fields}
    assert fields["Human oversight"].missing and fields["Review date"].missing
    assert fields["Known limitations"].value == f"trained on 1970s data; {SCRIPT}"
    assert fields["Societal impact"].value == "not given" and not fields["Societal impact"].missing
    assert html.count('<span class="symbol" aria-hidden="true">✘</span> missing</span>') == 2


def test_no_model_card_is_reported_as_a_gap() -> None:
    html = render_html(make_result())
    assert "No model card was supplied (--metadata)." in html
    assert "This is itself a gap" in html
    context = build_context(make_result(), with_charts=False)
    assert any("Supply a model card (--metadata)" in s for s in context.executive.next_steps)


def test_hostile_metadata_and_policy_texts_render_as_text(html: str) -> None:
    assert "<script" not in html.lower()
    assert "<img src=file" not in html
    assert "<a href='javascript" not in html and 'href="javascript' not in html
    assert "&lt;a href=&#39;javascript:alert(2)&#39;&gt;mail&lt;/a&gt;" in html
    assert "Risk team &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "remediation planned &lt;img src=file:///etc/passwd&gt;" in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("#") for h in hrefs)


def test_every_link_points_to_an_id_of_the_page(html: str, context: ReportContext) -> None:
    ids = set(re.findall(r'id="([^"]+)"', html))
    hrefs = set(re.findall(r'href="#([^"]+)"', html))
    assert hrefs <= ids, hrefs - ids
    rows = {(row.rule, row.group): row.link for row in context.findings}
    assert rows[("adverse-impact", "sex=female")] == "table-1"
    assert rows[("adverse-impact", "age_group=<25")] == "table-2"
    assert rows[("min-accuracy", "–")] == "family-performance"
    assert {e.anchor for e in context.toc} <= ids


def test_regulatory_mapping_by_family_and_by_references(context: ReportContext, html: str) -> None:
    regs = {r.name.split(":")[0]: r for r in context.regulations}
    assert len(regs) == 8
    eeoc = regs["EEOC Uniform Guidelines"]
    assert eeoc.addressed.word == "addressed" and "adverse-impact" in eeoc.by
    assert "min-accuracy" in regs["EU AI Act Art. 15"].by
    gdpr = regs["GDPR Art. 22"]
    assert gdpr.addressed.word == "partly"  # explanations measured, no rule; oversight missing
    assert "human oversight" not in gdpr.by
    bare = build_context(make_result(), with_charts=False)
    bare_regs = {r.name.split(":")[0]: r for r in bare.regulations}
    assert bare_regs["GDPR Art. 22"].by == "Not addressed by this audit."
    assert bare_regs["GDPR Art. 22"].addressed.symbol and bare_regs["GDPR Art. 22"].addressed.word
    assert "Informational mapping, not legal advice." in html


def test_regulation_cited_in_references_maps_even_with_another_check() -> None:
    base = make_result()
    rules = [{**base.policy.rules[2], "references": ["29 CFR 1607.4(D)"]}]
    policy = base.policy.model_copy(update={"rules": rules})
    context = build_context(base.model_copy(update={"policy": policy}), with_charts=False)
    eeoc = next(r for r in context.regulations if r.citation == "29 CFR 1607.4(D)")
    assert "min-accuracy" in eeoc.by


def test_executive_summary_says_what_to_do_next(context: ReportContext) -> None:
    e = context.executive
    assert "comparing groups of people by sex, age_group" in e.audited
    assert e.failed and e.failed[0].startswith("Rule 'adverse-impact' failed")
    steps = " ".join(e.next_steps)
    assert (
        "Investigate why sex=female receives the favourable outcome at 0.767 of the rate of"
        in steps
    )
    assert "before deployment" in steps
    assert f"Collect more data for age_group={IMG}, or lower min_group_size (30)" in steps
    assert "Complete the model card: human oversight, review date are missing." in steps
    assert "Review the warnings of 'equal-opportunity'" in steps
    assert any(line.startswith(f"age_group={IMG}: 'adverse-impact'") for line in e.inconclusive)
    # The explain and proxies families ran but recorded nothing: not assessed either.
    assert [t.split(":")[0] for t in e.not_assessed] == [
        "Transparency and explainability",
        "Ethics and accountability",
    ]


def test_waivers_are_listed_with_owner_reason_and_expiry(context: ReportContext) -> None:
    (waiver,) = context.waivers
    assert (waiver.rule, waiver.group, waiver.expires) == (
        "adverse-impact",
        "age_group=<25",
        "2026-06-30",
    )
    assert waiver.state.word == "in force until 2026-06-30" and waiver.state.symbol
    provenance = {f.label: f.value for f in context.provenance}
    assert provenance["Model card source"] == f"cards/{SCRIPT}.yaml"


def test_pdf_has_toc_page_numbers_and_fetches_nothing_else(result: AuditRecord) -> None:
    calls: list[str] = []

    def fetch(url: str) -> object:
        calls.append(url)
        return fetch_resource(url)

    pdf = html_to_pdf(render_html(result), fetch=fetch)
    root = templates_dir().resolve().as_uri()
    assert all(url.startswith(("data:", root)) for url in calls)
    reader = PdfReader(io.BytesIO(pdf))
    first = reader.pages[0].extract_text()
    assert re.search(r"Executive summary\s*\.+\s*2\n", first), first
    assert re.search(r"Regulatory mapping\s*\.+\s*\d+\n", first)
    text = "".join(p.extract_text() for p in reader.pages)
    assert "No model card" not in text and "✘ missing" in text
    assert "Risk team <script>alert(1)</script>" in text  # shown as text, never run


def test_pdf_with_500_groups_caps_the_table_and_stays_short() -> None:
    base = make_result()
    fairness = base.checks[0].model_copy(update={"tables": [many_groups_table(500)]})
    result = base.model_copy(update={"checks": [fairness, base.checks[1]]})
    context = build_context(result, with_charts=False)
    (table,) = context.group_tables
    assert len(table.rows) == MAX_GROUP_ROWS
    assert "Showing the first 50 of 500 groups" in table.more and "450 more groups" in table.more
    pdf = render_pdf(result)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) < 25
    text = "".join(p.extract_text() for p in reader.pages)
    assert "450 more groups" in text and "postcode=00049" in text
    assert "postcode=00050" not in text


def test_a_regulation_is_addressed_only_when_every_check_it_calls_for_ran(audit_result) -> None:  # type: ignore[no-untyped-def]
    """Art. 10 needs data-governance checks: fairness rules alone make it 'partly', never more."""
    from auditor.report.regulations import REGULATIONS, regulation_view

    art10 = next(r for r in REGULATIONS if "Art. 10" in r.name)
    view = regulation_view(art10, audit_result)
    assert view.addressed.word in ("partly", "not addressed")
    if view.addressed.word == "partly":
        assert "Not run in this audit:" in view.by
