"""Helpers of the API tests: a small data set, a submit call, rows written straight to tables."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient

from auditor.service.app import create_app
from auditor.service.database import transaction
from auditor.service.db import Audit, AuditMetric, Model
from auditor.service.settings import ServiceSettings
from tests.service.conftest import bearer

CSV = b"y,sex,age,pred,score\n" + b"".join(
    f"{i % 2},{'female' if i % 3 else 'male'},{20 + i},{(i // 2) % 2},0.{i % 10}\n".encode()
    for i in range(40)
)
DECISIONS = {"target": "y", "sensitive": ["sex"], "prediction": "pred"}


def submit(
    client: httpx.Client,
    secret: str,
    *,
    data: bytes | None = CSV,
    data_name: str = "data.csv",
    fields: dict[str, Any] | None = None,
    files: dict[str, tuple[str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /api/v1/audits: by default a decision log (prediction column), as multipart."""
    parts: dict[str, tuple[str, bytes]] = {}
    if data is not None:
        parts["data"] = (data_name, data)
    parts.update(files or {})
    form = DECISIONS if fields is None else fields
    return client.post(
        "/api/v1/audits",
        data=form,
        files=parts,
        headers={**bearer(secret), **(headers or {})},
    )


def problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    """The problem+json body of ``response``, checked to have ``status`` (and type ``slug``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body


@contextmanager
def client_with(settings: ServiceSettings, **changes: Any) -> Iterator[TestClient]:
    """A client on an app whose settings differ from the fixture's by ``changes``."""
    app = create_app(settings.model_copy(update=changes))
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def skops_zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip that detect_format calls skops (it has schema.json), with these entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr("schema.json", b'{"__class__": "LogisticRegression"}')
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def add_audit(
    client: TestClient,
    *,
    model: str = "credit",
    status: str = "queued",
    verdict: str | None = None,
    created_at: datetime | None = None,
    model_version: str | None = None,
    **columns: Any,
) -> str:
    """Write an audits row (and its model) directly; returns its id."""
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        found = session.query(Model).filter_by(name=model).one_or_none()
        if found is None:
            found = Model(name=model)
            session.add(found)
            session.flush()
        audit = Audit(
            model_id=found.id,
            status=status,
            verdict=verdict,
            policy_name="default",
            data_sha256="0" * 64,
            params={},
            engine_version="test",
            model_version=model_version,
            created_at=created_at or datetime.now(UTC),
            **columns,
        )
        session.add(audit)
        session.flush()
        return audit.id


def add_metric(client: TestClient, audit_id: str, metric: str, **columns: Any) -> None:
    """Write one audit_metrics row of an audit (as the ingest would)."""
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        audit = session.get(Audit, audit_id)
        assert audit is not None
        session.add(
            AuditMetric(
                audit_id=audit_id,
                model_id=audit.model_id,
                created_at=audit.created_at,
                metric=metric,
                **columns,
            )
        )
