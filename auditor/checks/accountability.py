"""Accountability: is there a model card, and does it answer what a reviewer must know?"""

from __future__ import annotations

from auditor.checks.registry import OVERALL_MEASURES, CheckSpec, register_check, register_family
from auditor.context import AuditContext
from auditor.inputs.metadata import REQUIRED_FIELDS
from auditor.results import CheckResult, Value

COMPLETENESS = "model_card_completeness"


@register_family("accountability")
def model_card_completeness(ctx: AuditContext) -> CheckResult:
    """Share of the required model-card fields that are filled in, naming the missing ones."""
    card = ctx.model_card
    missing = list(REQUIRED_FIELDS) if card is None else card.missing
    if card is None:
        note = "no model card was supplied (--metadata)"
    elif missing:
        note = "missing: " + ", ".join(missing)
    else:
        note = "every required field is filled in"
    share = (len(REQUIRED_FIELDS) - len(missing)) / len(REQUIRED_FIELDS)
    return CheckResult(
        family="accountability",
        status="ok",
        overall={COMPLETENESS: Value(value=share, note=note)},
    )


register_check(
    CheckSpec(
        name=f"accountability.{COMPLETENESS}",
        family="accountability",
        metric=COMPLETENESS,
        label="Model card completeness",
        definition=(
            "Share of the required model-card fields that are filled in: "
            + ", ".join(REQUIRED_FIELDS)
            + ". 0 when no model card is supplied."
        ),
        undefined_when="never (no model card counts as 0)",
        measures=OVERALL_MEASURES,
    )
)
