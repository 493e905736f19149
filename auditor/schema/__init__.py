"""The JSON Schema of audit.json, generated from auditor.results and committed here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("audit.schema.json")


def generate_schema() -> dict[str, Any]:
    """The schema as the result classes define it now (``make schema`` writes it)."""
    from auditor.results import SCHEMA_VERSION, AuditRecord

    schema = AuditRecord.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://auditor.dev/schema/audit-{SCHEMA_VERSION}.json"
    return schema


def load_schema() -> dict[str, Any]:
    """The committed schema file."""
    result: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return result


def write_schema() -> Path:
    """Write the generated schema over the committed file."""
    SCHEMA_PATH.write_text(json.dumps(generate_schema(), indent=2, sort_keys=True) + "\n")
    return SCHEMA_PATH
