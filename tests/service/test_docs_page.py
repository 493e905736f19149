"""/docs: our own server-rendered page made from /openapi.json, no script, no token needed."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from auditor.service.app import create_app
from auditor.service.docs_page import SPECIAL_PROBLEMS, api_doc, paragraphs, type_text
from auditor.service.settings import ServiceSettings


@pytest.fixture(scope="module")
def app_and_page() -> tuple[dict[str, Any], str, dict[str, str]]:
    """The OpenAPI document, the /docs page and its headers (no database is needed)."""
    app = create_app(ServiceSettings(migrate=False, trusted_hosts=["testserver"]))
    client = TestClient(app, base_url="http://testserver")
    response = client.get("/docs")  # no token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return app.openapi(), response.text, dict(response.headers)


def section_of(page: str, method: str, path: str) -> str:
    """The <article> of one operation."""
    pattern = (
        rf'<article class="operation"[^>]*>\s*<h3[^>]*><span[^>]*>{method}</span> '
        rf'<code class="path">{re.escape(html.escape(path))}</code>.*?</article>'
    )
    found = re.search(pattern, page, flags=re.S)
    assert found is not None, (method, path)
    return found.group(0)


def test_the_page_lists_every_operation_of_the_schema(
    app_and_page: tuple[dict[str, Any], str, dict[str, str]],
) -> None:
    spec, page, _ = app_and_page
    assert len(spec["paths"]) >= 10
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            article = section_of(page, method.upper(), path)
            assert operation["summary"] in html.unescape(article)
            for status in operation["responses"]:
                assert f'<th scope="row">{status}</th>' in article, (method, path, status)
            for parameter in operation.get("parameters", []):
                assert f">{parameter['name']}</th>" in article, (method, path, parameter)
    assert 'href="/openapi.json"' in page


def test_each_operation_says_its_scope_fields_and_problem_types(
    app_and_page: tuple[dict[str, Any], str, dict[str, str]],
) -> None:
    _, page, _ = app_and_page
    delete = section_of(page, "DELETE", "/api/v1/audits/{audit_id}")
    assert "<dd><code>admin</code> (" in delete
    assert "<dd>none: no token needed</dd>" in section_of(page, "GET", "/healthz")
    submit = section_of(page, "POST", "/api/v1/audits")
    assert "<code>submit</code>" in submit and "Request body: multipart/form-data" in submit
    for field in ("data", "model", "prediction", "target", "sensitive", "policy", "model_name"):
        assert f">{field}</th>" in submit
    assert "/problems/model-format-refused" in submit
    assert "/problems/idempotency-key-reused" in submit
    artifact = section_of(page, "GET", "/api/v1/audits/{audit_id}/artifacts/{name}")
    assert "/problems/artifact-not-ready" in artifact and "/problems/not-found" in artifact
    assert "report.pdf, report.html, audit.json, junit.xml, summary.md" in artifact
    listing = section_of(page, "GET", "/api/v1/audits")
    assert "/problems/invalid-request" in listing and "<code>read</code>" in listing
    assert 'id="problem-types"' in page


def test_the_page_runs_nothing_and_loads_nothing_from_elsewhere(
    app_and_page: tuple[dict[str, Any], str, dict[str, str]],
) -> None:
    _, page, headers = app_and_page
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]+\son\w+=", page)  # no event handler attribute
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from another origin
    assert "swagger" not in page.lower() and "cdn." not in page
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_the_special_problem_types_name_real_operations() -> None:
    spec = create_app(ServiceSettings(migrate=False)).openapi()
    for (method, path), statuses in SPECIAL_PROBLEMS.items():
        responses = spec["paths"][path][method.lower()]["responses"]
        assert set(statuses) <= set(responses), (method, path)


def test_descriptions_and_types_read_well() -> None:
    assert paragraphs("One `code`\nline.\n\nTwo.") == (
        (("One ", False), ("code", True), (" line.", False)),
        (("Two.", False),),
    )
    assert type_text({}, {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}) == (
        "integer, 1 to 200, default 50"
    )
    assert type_text({}, {"anyOf": [{"type": "string"}, {"type": "null"}]}) == "string"
    assert type_text({}, {"type": "array", "items": {"type": "string", "format": "binary"}}) == (
        "list of file (repeat the field)"
    )
    doc = api_doc({"info": {"title": "t"}, "paths": {"/x": {"get": {"summary": "s"}}}})
    assert doc.sections[0].tag == "other" and doc.sections[0].operations[0].scopes == ()
