"""The report's sections by concern, and the check families each one shows.

:data:`FAMILY_SECTIONS` is the one place that says where a check family's results go; a
family it does not name goes to "Other checks", never dropped. Each family is shown the same
way (its group tables, its overall values as facts), so a new family needs no template change;
``explain`` and ``proxies`` add their own content (:mod:`auditor.report.transparency`), and so
do ``representation``, ``data_quality`` and ``privacy`` (:mod:`auditor.report.governance`). A
section without results says so, and what that leaves unsaid.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from auditor.report.findings import family_of
from auditor.report.formatting import badge, cell_text, count, label
from auditor.report.governance import governance_view
from auditor.report.governance_format import Setting, setting
from auditor.report.group_tables import SCORE_METRICS, group_table
from auditor.report.reliability import reliability_chart
from auditor.report.transparency import transparency_parts
from auditor.report.view import (
    CardField,
    Fact,
    FamilyView,
    GroupTableView,
    ModelCardView,
    SectionView,
)
from auditor.results import AuditRecord, CheckResult, ModelCard, ModelCardFields


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    checks: str  # the kind of checks, for "no <checks> checks were run"
    unsaid: str  # what the audit then cannot say


SECTIONS = (
    Section(
        "bias",
        "Bias and fairness",
        "Whether outcomes and errors differ between groups of people, and overall performance.",
        "fairness or performance",
        "the audit says nothing about whether outcomes or error rates differ between groups",
    ),
    Section(
        "transparency",
        "Transparency and explainability",
        "How the model reaches its decisions and which features stand in for sensitive ones.",
        "explainability or proxy",
        "the audit says nothing about how the model reaches its decisions, nor whether other "
        "features act as proxies for the sensitive attributes",
    ),
    Section(
        "data",
        "Data governance, representativeness and privacy",
        "Whether the data represent the people affected, their quality, and privacy risks.",
        "representation, data-quality or privacy",
        "the audit says nothing about whether the data represent the people the model affects, "
        "about the data's quality, or about privacy risks",
    ),
    Section(
        "ethics",
        "Ethics and accountability",
        "Who answers for the model, what it is for, and how people oversee it.",
        "accountability",
        "the completeness of the model card was not measured or judged by the policy",
    ),
)
OTHER = Section(
    "other",
    "Other checks",
    "Check families this report has no section for; their results are shown as recorded.",
    "other",
    "",
)
FAMILY_SECTIONS = {
    "fairness": "bias",
    "performance": "bias",
    "explain": "transparency",
    "proxies": "transparency",
    "representation": "data",
    "data_quality": "data",
    "privacy": "data",
    "accountability": "ethics",
}
FAMILY_TITLES = {
    "fairness": "Fairness by group",
    "performance": "Overall performance",
    "explain": "Explanations",
    "proxies": "Proxies for sensitive attributes",
    "representation": "Representation",
    "data_quality": "Data quality",
    "privacy": "Privacy",
    "accountability": "Accountability",
}
CARD_FIELDS = tuple(ModelCardFields.model_fields)


FAMILY_ORDER = {family: i for i, family in enumerate(FAMILY_SECTIONS)}


def _order(family: str) -> int:
    """A section shows its families in the order of :data:`FAMILY_SECTIONS` (others last)."""
    return FAMILY_ORDER.get(family, len(FAMILY_ORDER))


def section_of(family: str) -> str:
    return FAMILY_SECTIONS.get(family, OTHER.key)


def anchors(result: AuditRecord) -> tuple[dict[tuple[str, str | None], str], list[list[str]]]:
    """Ids for links: (family, attribute or None) -> id, and the id of each check's tables."""
    links: dict[tuple[str, str | None], str] = {}
    ids: list[list[str]] = []
    index = 0
    for check in result.checks:
        links.setdefault((check.family, None), f"family-{check.family}")
        ids.append([])
        for table in check.tables:
            index += 1
            ids[-1].append(f"table-{index}")
            links.setdefault((check.family, table.attribute), f"table-{index}")
    return links, ids


def _family(
    check: CheckResult,
    ids: list[str],
    verdicts: Counter[tuple[str, str]],
    *,
    wanted: tuple[str, ...],
    min_n: int,
    with_charts: bool,
    criteria_labels: dict[str, str],
    has_model: bool,
    governance: Setting,
) -> FamilyView:
    overall = []
    for key, value in check.overall.items():
        is_count = key == "n" and value.value is not None
        text = count(int(value.value or 0)) if is_count else cell_text(value)
        overall.append(Fact(label(key), text))
    chart = with_charts and check.family == "fairness"
    tables: list[GroupTableView] = []
    for table, anchor in zip(check.tables, ids, strict=True):
        tables.append(
            group_table(
                table,
                anchor,
                wanted,
                min_group_size=min_n,
                with_chart=chart,
                criteria_labels=criteria_labels,
            )
        )
        if any(m in SCORE_METRICS for m in table.summaries):
            tables.append(
                group_table(
                    table,
                    f"{anchor}-scores",
                    SCORE_METRICS,
                    min_group_size=min_n,
                    with_chart=False,
                    caption="Threshold-free metrics of the score",
                    extra_chart=reliability_chart(table) if chart else None,
                )
            )
    found = {v: n for (f, v), n in verdicts.items() if f == check.family}
    said = ", ".join(f"{n:,} {v}" for v, n in sorted(found.items()))
    explanation, proxies, absent = transparency_parts(
        check, has_model=has_model, with_charts=with_charts
    )
    return FamilyView(
        family=check.family,
        title=FAMILY_TITLES.get(check.family, check.family.replace("_", " ").capitalize()),
        anchor=f"family-{check.family}",
        error=(check.error or "unknown error") if check.status == "error" else "",
        tables=tuple(tables),
        overall=tuple(overall),
        findings=f"Findings of the policy on these checks: {said}." if said else "",
        explanation=explanation,
        proxies=proxies,
        governance=governance_view(check, governance, with_charts=with_charts),
        not_assessed=absent,
    )


def sections(
    result: AuditRecord, wanted: tuple[str, ...], *, min_n: int, with_charts: bool
) -> tuple[SectionView, ...]:
    """The concern sections in order, each with its families; "Other checks" when needed."""
    _, ids = anchors(result)
    governance = setting(result, min_group_size=min_n)
    verdicts = Counter((family_of(f.check), badge(f.verdict).word) for f in result.findings)
    labels = {d.check.split(".", 1)[-1]: d.label for d in result.definitions}
    views = []
    for section in (*SECTIONS, OTHER):
        families = tuple(
            _family(
                c,
                i,
                verdicts,
                wanted=wanted,
                min_n=min_n,
                with_charts=with_charts,
                criteria_labels=labels,
                has_model=result.setup.model is not None,
                governance=governance,
            )
            for c, i in sorted(
                zip(result.checks, ids, strict=True), key=lambda pair: _order(pair[0].family)
            )
            if section_of(c.family) == section.key
        )
        if section is OTHER and not families:
            continue
        not_assessed = (
            f"Not assessed in this audit: no {section.checks} checks were run, so {section.unsaid}."
        )
        views.append(
            SectionView(
                key=section.key,
                title=section.title,
                anchor=f"sec-{section.key}",
                intro=section.intro,
                families=families,
                not_assessed="" if families else not_assessed,
            )
        )
    return tuple(views)


def _text(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def model_card(card: ModelCard | None) -> ModelCardView:
    """Every field of the model card; a required field left empty is shown as missing."""
    if card is None:
        return ModelCardView(False, (), (), "")
    fields = []
    for name in CARD_FIELDS:
        value = _text(getattr(card, name))
        missing = name in card.missing
        text = value or ("missing" if missing else "not given")
        fields.append(CardField(label(name), text, missing))
    missing_labels = tuple(label(m) for m in card.missing)
    return ModelCardView(True, tuple(fields), missing_labels, card.source or "")
