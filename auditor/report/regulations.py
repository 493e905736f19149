"""What regulations and guidelines ask, and which parts of an audit speak to them.

A declarative table of presentation knowledge, not a computation: for each regulation, what it
asks in a sentence, the check families (or single checks) whose results bear on it, the text
that marks a policy rule's ``references`` as citing it, and the model-card fields that document
it. The report shows it as an informational mapping, never as legal advice or a compliance
verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.report.view import Badge, RegulationView
from auditor.results import AuditRecord


@dataclass(frozen=True)
class Regulation:
    name: str
    citation: str
    asks: str
    checks: tuple[str, ...]  # check families ("fairness") or checks ("fairness.selection_rate")
    cited_as: tuple[str, ...]  # text in a rule's references that cites it (case-insensitive)
    card_fields: tuple[str, ...] = ()  # model-card fields that document it


REGULATIONS = (
    Regulation(
        "EEOC Uniform Guidelines: four-fifths rule",
        "29 CFR 1607.4(D)",
        "A selection rate for any group below four-fifths (80%) of the highest group's rate is "
        "generally regarded as evidence of adverse impact in employment selection.",
        ("fairness.selection_rate", "fairness.favorable_rate"),
        ("1607",),
    ),
    Regulation(
        "NYC Local Law 144: automated employment decision tools",
        "NYC Admin. Code 20-870 ff.; 6 RCNY 5-300 ff.",
        "A yearly independent bias audit of tools used in hiring or promotion: selection rates "
        "and impact ratios by sex, race/ethnicity and their intersections, published.",
        ("fairness.selection_rate", "fairness.favorable_rate"),
        ("local law 144", "ll144", "ll 144"),
    ),
    Regulation(
        "EU AI Act Art. 10: data and data governance",
        "Regulation (EU) 2024/1689, Art. 10",
        "Training, validation and test data of high-risk systems must be relevant, sufficiently "
        "representative and examined for possible biases, with appropriate data governance.",
        ("representation", "data_quality", "privacy", "fairness"),
        ("art. 10", "article 10"),
    ),
    Regulation(
        "EU AI Act Art. 13: transparency and information to deployers",
        "Regulation (EU) 2024/1689, Art. 13",
        "High-risk systems must be transparent enough for deployers to interpret their output, "
        "with instructions stating intended purpose, accuracy, limitations and oversight.",
        ("explain", "proxies", "accountability"),
        ("art. 13", "article 13"),
        ("intended_use", "known_limitations", "human_oversight"),
    ),
    Regulation(
        "EU AI Act Art. 15: accuracy, robustness and cybersecurity",
        "Regulation (EU) 2024/1689, Art. 15",
        "High-risk systems must achieve an appropriate, declared level of accuracy and "
        "robustness, consistently over their lifecycle.",
        # Robustness checks do not exist yet: accuracy alone is only part of the article.
        ("performance", "robustness"),
        ("art. 15", "article 15"),
    ),
    Regulation(
        "EU AI Act Art. 27: fundamental-rights impact assessment",
        "Regulation (EU) 2024/1689, Art. 27",
        "Certain deployers must assess, before use, the groups of people likely to be affected, "
        "the specific risks of harm to them, human oversight and the measures if risks occur.",
        ("accountability", "fairness"),
        ("art. 27", "article 27"),
        ("affected_groups", "societal_impact", "human_oversight"),
    ),
    Regulation(
        "ECOA / Regulation B: equal credit opportunity",
        "15 U.S.C. 1691; 12 CFR 1002",
        "Creditors may not discriminate on a prohibited basis (disparate treatment or impact) "
        "and must give applicants the principal reasons for adverse action.",
        ("fairness", "explain", "proxies"),
        ("1002", "ecoa", "regulation b", "reg b"),
    ),
    Regulation(
        "GDPR Art. 22: automated individual decisions",
        "Regulation (EU) 2016/679, Art. 22",
        "People may not be subject to decisions based solely on automated processing with legal "
        "or similarly significant effects, save with safeguards: human intervention, the right "
        "to contest, meaningful information about the logic involved.",
        ("explain", "accountability"),
        ("gdpr", "2016/679"),
        ("human_oversight",),
    ),
)


ADDRESSED = Badge("info", "●", "addressed")
PARTLY = Badge("info", "◐", "partly")
NOT_ADDRESSED = Badge("na", "○", "not addressed")


def _speaks(regulation: Regulation, check: str) -> bool:
    """Whether a check (or a whole family) is among those the regulation's row names."""
    return any(
        check == c or check.startswith(c + ".") or c.startswith(check + ".")
        for c in regulation.checks
    )


def _references(rule: dict[str, object]) -> str:
    refs = rule.get("references")
    return " ".join(map(str, refs)).lower() if isinstance(refs, list) else ""


def regulation_view(regulation: Regulation, result: AuditRecord) -> RegulationView:
    """What this audit offers on one regulation: rules, measured families, model-card fields."""
    rules = [
        str(rule.get("id", ""))
        for rule in result.policy.rules
        if any(m in _references(rule) for m in regulation.cited_as)
        or _speaks(regulation, str(rule.get("check", "")))
    ]
    families = [
        c.family
        for c in result.checks
        if c.status == "ok" and (c.tables or c.overall) and _speaks(regulation, c.family)
    ]
    named = sorted({c.split(".")[0] for c in regulation.checks})
    not_run = [f for f in named if f not in families]
    card = result.metadata
    fields = [
        f.replace("_", " ")
        for f in regulation.card_fields
        if card is not None and getattr(card, f) and f not in card.missing
    ]
    parts = []
    if rules:
        parts.append("the policy's rules " + ", ".join(rules))
    elif families:
        parts.append("measurements of " + ", ".join(families) + ", which no rule judges")
    if fields:
        parts.append("the model card's " + ", ".join(fields))
    # "Addressed" only when every kind of check the regulation calls for ran and a rule judged
    # it; a compliance reader must never see more coverage than there was.
    status = NOT_ADDRESSED
    if parts:
        status = ADDRESSED if rules and not not_run else PARTLY
    by = f"Addressed by {' and '.join(parts)}." if parts else "Not addressed by this audit."
    if parts and not_run:
        by += f" Not run in this audit: {', '.join(not_run)} checks."
    return RegulationView(
        name=regulation.name,
        citation=regulation.citation,
        asks=regulation.asks,
        speaks_to=", ".join(regulation.checks),
        addressed=status,
        by=by,
    )


def regulation_views(result: AuditRecord) -> tuple[RegulationView, ...]:
    """Every regulation of the table, in order, with what this audit says about it."""
    return tuple(regulation_view(r, result) for r in REGULATIONS)
