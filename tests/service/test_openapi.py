"""The API against its own /openapi.json: schemathesis generates requests for every operation.

In process (ASGI), with an admin token, on SQLite and PostgreSQL. Checked: no 5xx, and every
answer's status code, content type, headers and body are the ones the schema documents. A few
examples per operation keep it to seconds.
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from auditor.service.app import create_app
from auditor.service.settings import ServiceSettings
from tests.service.api_helpers import add_audit, add_metric, submit
from tests.service.conftest import bearer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


MAX_EXAMPLES = 10  # per operation and generation mode


def test_every_operation_answers_as_documented(
    migrated: ServiceSettings, tokens: dict[str, str]
) -> None:
    app = create_app(migrated)
    with TestClient(app, base_url="http://testserver") as client:  # rows for the lists to show
        assert submit(client, tokens["submit"]).status_code == 202
        done = add_audit(client, model="credit", status="succeeded", verdict="fail")
        add_metric(client, done, "fairness.selection_rate", group_key="sex=f", value=0.4)
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = bearer(tokens["admin"])
    operations = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= 10
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:  # nothing to negate: an operation without inputs
                assert mode is GenerationMode.NEGATIVE, operation.label


def test_every_api_operation_documents_its_problems() -> None:
    spec = create_app(ServiceSettings(migrate=False)).openapi()
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert operation.get("summary"), (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    content = response["content"]
                    assert list(content) == ["application/problem+json"], (method, path, status)
            assert "401" in responses and "403" in responses, (method, path)
            (requirement,) = operation["security"]  # the token and the scope it needs
            assert list(requirement) == ["bearer"] and len(requirement["bearer"]) == 1
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    listing = spec["paths"]["/api/v1/audits"]["get"]
    assert listing["security"] == [{"bearer": ["read"]}]
    assert spec["paths"]["/api/v1/audits/{audit_id}"]["delete"]["security"] == [
        {"bearer": ["admin"]}
    ]
    filters = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert filters["status"]["enum"] == ["queued", "running", "succeeded", "failed", "canceled"]
    assert filters["verdict"]["enum"] == ["pass", "fail", "inconclusive"]
