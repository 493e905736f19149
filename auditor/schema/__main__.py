"""``python -m auditor.schema`` regenerates audit.schema.json."""

from auditor.schema import write_schema

print(f"wrote {write_schema()}")
