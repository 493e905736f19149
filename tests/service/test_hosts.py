"""The Host check (DNS rebinding): a foreign Host is a problem+json 400, loopback names work.

No database is needed (``/healthz``), so these run once, not per dialect.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from auditor.service.app import create_app
from auditor.service.hosts import host_name
from auditor.service.settings import ServiceSettings
from tests.service.api_helpers import problem


def _client(tmp_path: Path, hosts: list[str] | None = None) -> TestClient:
    settings = ServiceSettings(data_dir=tmp_path, migrate=False)
    if hosts is not None:
        settings = settings.model_copy(update={"trusted_hosts": hosts})
    return TestClient(create_app(settings), base_url="http://127.0.0.1")  # no lifespan


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8000", "localhost", "LocalHost:80", "[::1]", "[::1]:8000"]
)
def test_loopback_names_are_answered(tmp_path: Path, host: str) -> None:
    response = _client(tmp_path).get("/healthz", headers={"Host": host})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.", "[::2]"]
)
def test_a_foreign_host_is_a_problem_400(tmp_path: Path, host: str) -> None:
    response = _client(tmp_path).get("/api/v1/audits", headers={"Host": host})
    body = problem(response, 400, "invalid-request")
    assert "--trusted-host" in body["detail"] and body["instance"] == "/api/v1/audits"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_wildcards_only_when_configured(tmp_path: Path) -> None:
    sub = _client(tmp_path, ["127.0.0.1", "*.example.org"])
    assert sub.get("/healthz", headers={"Host": "api.example.org:443"}).status_code == 200
    for host in ("example.org", "example.org.evil", "evilexample.org"):
        problem(sub.get("/healthz", headers={"Host": host}), 400)
    anything = _client(tmp_path, ["*"])
    assert anything.get("/healthz", headers={"Host": "whatever.test"}).status_code == 200


def test_host_name_drops_the_port_and_keeps_ipv6_brackets() -> None:
    assert host_name("Example.ORG:8080") == "example.org"
    assert host_name("[::1]:8000") == "[::1]"
    assert host_name("[::1]") == "[::1]"
    assert host_name("") == ""
