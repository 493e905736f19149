"""The privacy part of the data-governance section: personal data, re-identification risk,
membership inference.

Reads :class:`~auditor.results_governance.Privacy` and returns the display-ready
:class:`~auditor.report.governance_view.PrivacyView`. Of a column holding personal data only
its name, the kind, how it was found, the share of values and the record's masked example are
shown, never anything else. Nothing is measured here.
"""

from __future__ import annotations

from auditor.report.formatting import count, value_cell
from auditor.report.governance_format import (
    TRAIN_DATA,
    Judged,
    Setting,
    listing,
    plural,
    rows_text,
    share,
)
from auditor.report.governance_view import (
    AnonymityView,
    MembershipView,
    PiiRow,
    PrivacyView,
    SizeRow,
)
from auditor.report.view import Fact
from auditor.results_governance import AnonymityResult, MembershipResult, PiiFinding, Privacy

MAX_PII_ROWS = 40
PII_CHECKS = ("pii_share", "pii_feature_used")
KINDS = {
    "email": "e-mail address",
    "phone": "phone number",
    "us_ssn": "US social security number",
    "payment_card": "payment card number",
    "iban": "bank account (IBAN)",
    "ip_address": "IP address",
    "date_of_birth": "date of birth",
    "person_name": "person's name",
    "address": "postal address",
    "postal_code": "postal code",
}


def kind_text(kind: str) -> str:
    return KINDS.get(kind, kind.replace("_", " "))


def _found_by(p: PiiFinding) -> str:
    if not p.by_name:
        return "its values"
    if p.share is None:
        return "its name (its values cannot be checked)"
    if p.matches == 0:
        return "its name only: no value validates"
    return "its name and its values"


def _share(p: PiiFinding) -> str:
    if p.share is None:
        return "not checked"
    return f"{share(p.share)} ({count(p.matches)} of {count(p.checked)})"


def _pii(privacy: Privacy, judged: Judged) -> tuple[list[PiiRow], list[Fact]]:
    notes: dict[str, str] = {}
    rows = []
    for p in privacy.pii[:MAX_PII_ROWS]:
        mark = ""
        if p.note:
            mark = notes.setdefault(p.note, chr(ord("a") + len(notes)) if len(notes) < 26 else "*")
        verdict, _ = judged.verdict(PII_CHECKS, feature=p.column)
        rows.append(
            PiiRow(
                column=p.column,
                kind=kind_text(p.kind),
                found_by=_found_by(p),
                share=_share(p),
                example=p.example or "–",
                feature=p.used_as_feature,
                verdict=verdict,
                mark=mark,
            )
        )
    return rows, [Fact(letter, note) for note, letter in notes.items()]


def _anonymity(a: AnonymityResult) -> AnonymityView:
    k_label = f"{a.k}+"
    sizes = tuple(
        SizeRow(
            size=f"{a.k} or more (k or more)" if size == k_label else size,
            classes=count(n),
            below_k=size != k_label,
        )
        for size, n in a.class_sizes.items()
    )
    facts = (
        Fact("Quasi-identifiers", ", ".join(a.quasi_identifiers)),
        Fact("Rows", count(a.rows)),
        Fact("Equivalence classes", f"{count(a.classes)} distinct combinations of their values"),
        Fact("Smallest class", rows_text(a.smallest_class)),
        Fact("k (policy)", str(a.k)),
        Fact(
            "Rows in classes smaller than k",
            f"{count(a.rows_below_k)} ({share(a.share_below_k)} of the rows)",
        ),
    )
    l_facts: tuple[Fact, ...] = ()
    l_absent = ""
    if a.sensitive is not None and a.l_diversity is not None:
        below = (
            f"{count(a.rows_below_l)} ({share(a.share_below_l)} of the rows)"
            if a.rows_below_l is not None
            else "not measured: the policy sets no l"
        )
        l_facts = (
            Fact("Sensitive column", a.sensitive),
            Fact("l (policy)", str(a.l) if a.l is not None else "not set"),
            Fact(
                "Distinct l",
                f"{a.l_diversity:,}: the least diverse class holds this many distinct values",
            ),
            Fact(
                "Entropy l",
                f"{a.entropy_l:.3f}: the effective number of values in the least diverse class"
                if a.entropy_l is not None
                else "undefined",
            ),
            Fact("Rows in classes with fewer than l distinct values", below),
        )
    else:
        l_absent = (
            "l-diversity: not assessed, because the policy sets no l (privacy: l:). With it, the "
            "audit checks that every class holds at least l distinct values of a sensitive "
            "column, so that knowing someone's class does not reveal their value."
        )
    qis = ", ".join(a.quasi_identifiers)
    intro = (
        f"Rows that share the same values of the quasi-identifiers ({qis}) "
        "form an equivalence class. A person in a class of fewer than k rows can be singled out "
        "by someone who knows these few facts about them, and re-identified."
    )
    return AnonymityView(intro=intro, facts=facts, sizes=sizes, l_facts=l_facts, l_absent=l_absent)


def _membership(m: MembershipResult) -> MembershipView:
    auc = value_cell(m.auc)
    signal = "its loss (how wrong it is)" if m.signal == "loss" else f"its {m.signal}"
    facts = (
        Fact("Attack AUC", f"{auc.text} {auc.interval}".strip()),
        Fact("Membership advantage", f"{m.advantage:.3f} (best threshold; an upper estimate)"),
        Fact("Training rows (members)", count(m.members)),
        Fact("Audited rows (non-members)", count(m.non_members)),
        Fact("Signal", f"the model's {m.signal} on each row"),
    )
    meaning = (
        "An attacker who sees the model's output on a person's row tries to tell whether that "
        f"person was in the training data, from {signal}. An AUC of 0.5 means the model does not "
        "reveal who was in its training data; 1 means it reveals it perfectly. The advantage is "
        "how much better than a coin toss the best such guess is (0: no better)."
    )
    return MembershipView(facts=facts, meaning=meaning, notes=tuple(m.notes))


def _membership_absent(s: Setting) -> str:
    if not s.has_model:
        return (
            "Membership inference: not assessed, because this audit examined recorded "
            "decisions, not a model; the attack reads a model's outputs."
        )
    if s.train_rows is None:
        return (
            "Membership inference: not assessed, because no training data was given. Pass the "
            f"rows the model was trained on ({TRAIN_DATA}) to test whether the model reveals "
            "who was in them."
        )
    return (
        "Membership inference: not assessed: the model gives no probabilities, or the "
        "training data holds no target, so the attack has nothing to read."
    )


def privacy_view(privacy: Privacy, s: Setting) -> PrivacyView:
    """The ``privacy`` family's personal data, anonymity and membership risk, formatted."""
    judged = Judged(s.findings)
    rows, notes = _pii(privacy, judged)
    features = [
        f"{p.column} ({kind_text(p.kind)}; found by {_found_by(p)})"
        for p in privacy.pii
        if p.used_as_feature
    ]
    scanned = rows_text(privacy.rows_scanned)
    if privacy.pii:
        names = list(dict.fromkeys(p.column for p in privacy.pii))
        intro = (
            f"Every column was scanned for personal data by its name and by its values "
            f"({scanned} checked, values validated: e.g. a card number's check digit). "
            f"{plural(len(names), 'column')} flagged: {listing(names)}. Only a masked "
            "example of each is shown, never a value."
        )
    else:
        intro = (
            f"Every column was scanned for personal data by its name and by its values "
            f"({scanned} checked): no column holds personal data the scan recognises (e-mail, "
            "phone, social security, card or bank numbers, IP addresses, dates of birth, names, "
            "addresses)."
        )
    anonymity = privacy.anonymity
    return PrivacyView(
        pii_intro=intro,
        pii=tuple(rows),
        pii_more=(
            f"… and {len(privacy.pii) - MAX_PII_ROWS:,} more (in audit.json)."
            if len(privacy.pii) > MAX_PII_ROWS
            else ""
        ),
        pii_notes=tuple(notes),
        pii_features=(
            f"Columns flagged as personal data are model features: {listing(features)}. The "
            "model's decisions depend on them; data minimisation asks whether each is needed."
            if features
            else ""
        ),
        pii_findings=judged.notes(PII_CHECKS),
        anonymity=_anonymity(anonymity) if anonymity is not None else None,
        anonymity_absent=(
            ""
            if anonymity is not None
            else "k-anonymity: not assessed, because the policy names no quasi-identifiers "
            "(privacy: quasi_identifiers:, e.g. age, postcode and sex). With them, the audit "
            "counts the rows whose combination of values fewer than k rows share: they can be "
            "singled out."
        ),
        anonymity_findings=judged.notes(("share_below_k", "share_below_l")),
        membership=_membership(privacy.membership) if privacy.membership is not None else None,
        membership_absent="" if privacy.membership is not None else _membership_absent(s),
        membership_findings=judged.notes(("membership_auc",)),
        notes=tuple(privacy.notes),
    )
