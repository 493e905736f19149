"""The proxies part of the transparency section: associations, near copies, predictability.

Reads :class:`~auditor.results_transparency.Proxies` and returns the display-ready
:class:`~auditor.report.transparency_view.ProxiesView`: the strongest associations (the record
ranks them), every near copy named, and how well the features together predict each
attribute, with the model that predicted it as a footnote. Nothing is measured here.
"""

from __future__ import annotations

from auditor.report.formatting import count, number, value_cell
from auditor.report.transparency_view import AssociationRow, PredictabilityRow, ProxiesView
from auditor.report.view import Fact
from auditor.results_transparency import Proxies

MAX_ASSOCIATIONS = 15
MAX_NEAR_COPIES = 15
MAX_CLASSES = 6
MEASURES = {
    "cramers_v": "Cramér's V",
    "binned_cramers_v": "Cramér's V of quantile bins",
    "correlation_ratio": "correlation ratio (η)",
}


def _classes(classes: list[str]) -> str:
    shown = ", ".join(classes[:MAX_CLASSES])
    more = len(classes) - MAX_CLASSES
    return f"{shown} and {more:,} more" if more > 0 else shown


def proxies_view(p: Proxies) -> ProxiesView:
    """The ``proxies`` family's associations and predictability, formatted for the report."""
    copies = [a for a in p.associations if a.near_copy]
    near = [
        f"{a.feature} is a near copy of {a.attribute} (strength {number(a.strength).text})"
        for a in copies[:MAX_NEAR_COPIES]
    ]
    if len(copies) > MAX_NEAR_COPIES:
        near.append(f"and {len(copies) - MAX_NEAR_COPIES:,} more near copies in audit.json")
    models = list(dict.fromkeys(m.model for m in p.predictability))
    letters = {m: chr(ord("a") + i) if i < 26 else str(i) for i, m in enumerate(models)}
    shown = p.associations[:MAX_ASSOCIATIONS]
    more = len(p.associations) - len(shown)
    return ProxiesView(
        intro=(
            f"Each of the {len(p.features):,} model features was compared with each sensitive "
            f"attribute on {count(p.rows_used)} rows. Strength runs from 0 (unrelated) to 1 (the "
            "feature gives the attribute away); a near copy reveals the attribute almost "
            "entirely, so leaving the attribute out of the model protects no one."
        ),
        near_copies=tuple(near),
        associations=tuple(
            AssociationRow(
                a.feature,
                a.attribute,
                number(a.strength).text,
                MEASURES.get(a.measure, a.measure),
                a.near_copy,
            )
            for a in shown
        ),
        associations_more=f"{more:,} more associations in audit.json." if more > 0 else "",
        predictability=tuple(
            PredictabilityRow(
                x.attribute, value_cell(x.auc), count(x.n), _classes(x.classes), letters[x.model]
            )
            for x in p.predictability
        ),
        models=tuple(Fact(letters[m], m) for m in models),
        notes=(
            *p.notes,
            *(f"{x.attribute}: {note}" for x in p.predictability for note in x.notes),
        ),
    )
