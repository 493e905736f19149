"""The model card (``--metadata``): a YAML file read safely and validated strictly.

Unknown keys and wrong types are errors (exit 3, with file, line and field). Required fields
that are absent or empty are not errors: they are listed in ``ModelCard.missing``, measured by
the accountability check and judged by the policy, so a gap shows up as a finding.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import ConfigDict, ValidationError

from auditor.errors import InputError
from auditor.results import ModelCard, ModelCardFields
from auditor.safe_yaml import YamlProblem, describe_validation_error, read_yaml_mapping

MAX_MODEL_CARD_BYTES = 256 * 1024
REQUIRED_FIELDS = (
    "owner",
    "contact",
    "intended_use",
    "intended_users",
    "out_of_scope_uses",
    "human_oversight",
    "known_limitations",
    "affected_groups",
    "societal_impact",
    "review_date",
)


class ModelCardFile(ModelCardFields):
    """The keys a model card file may have (all optional here; completeness is a check)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    review_date: date | None = None  # type: ignore[assignment]  # a real date in the file


def load_model_card(path: str | Path) -> ModelCard:
    """Read, validate and summarise a model card file; the result lists missing fields."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model card '{path}' does not exist. Check the --metadata path.")
    try:
        data, root = read_yaml_mapping(path, kind="model card", max_bytes=MAX_MODEL_CARD_BYTES)
    except YamlProblem as exc:
        raise InputError(str(exc)) from None
    # Versions and names are often written as numbers (1.0); they are labels, so keep them text.
    for key in ("name", "version"):
        if isinstance(data.get(key), int | float):
            data[key] = str(data[key])
    try:
        card = ModelCardFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc, root, path, kind="model card")) from exc
    values = card.model_dump()
    missing = [name for name in REQUIRED_FIELDS if values[name] in (None, "", [])]
    review = card.review_date.isoformat() if card.review_date else None
    return ModelCard.model_validate(
        {**values, "review_date": review, "source": str(path), "missing": missing}
    )
