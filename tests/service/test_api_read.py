"""The read side of the API: auth, lists and paging, cancel, delete, artefacts, models, trends.

Rows are written straight to the tables (as a worker and the ingest would); every test runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from auditor.service.database import transaction
from auditor.service.db import ApiToken, Audit, AuditArtifact, AuditMetric
from auditor.service.settings import ServiceSettings
from auditor.service.storage import inputs_dir, out_dir
from auditor.service.tokens import digest, revoke_token
from tests.service.api_helpers import add_audit, add_metric, problem, submit
from tests.service.conftest import bearer

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_auth_no_token_wrong_scope_revoked(client: TestClient, tokens: dict[str, str]) -> None:
    anonymous = client.get("/api/v1/audits")
    problem(anonymous, 401, "unauthenticated")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    problem(client.get("/api/v1/audits", headers=bearer("aud_not-a-token")), 401)
    audit_id = add_audit(client)
    problem(client.post(f"/api/v1/audits/{audit_id}/cancel", headers=bearer(tokens["read"])), 403)
    problem(client.delete(f"/api/v1/audits/{audit_id}", headers=bearer(tokens["submit"])), 403)
    assert client.get("/api/v1/audits", headers=bearer(tokens["read"])).status_code == 200
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        token_id = session.scalars(
            select(ApiToken.id).filter_by(token_sha256=digest(tokens["read"]))
        ).one()
        assert revoke_token(session, token_id)
    revoked = client.get("/api/v1/audits", headers=bearer(tokens["read"]))
    problem(revoked, 401)
    assert revoked.headers["www-authenticate"].startswith("Bearer")


def test_list_pages_through_every_audit_once_newest_first(
    client: TestClient, tokens: dict[str, str]
) -> None:
    made = []
    for i in range(120):  # three audits per second: ties are broken by id
        created = T0 + timedelta(seconds=i // 3)
        made.append((created, add_audit(client, created_at=created)))
    expected = [a for _, a in sorted(made, key=lambda item: (-item[0].timestamp(), item[1]))]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/audits", params=params, headers=bearer(tokens["read"]))
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 18  # 17 full pages of 7 and one of 1
    bad = client.get("/api/v1/audits?cursor=not-a-cursor", headers=bearer(tokens["read"]))
    problem(bad, 400, "invalid-request")
    problem(client.get("/api/v1/audits?limit=0", headers=bearer(tokens["read"])), 422)


def test_list_filters_by_model_status_and_verdict(
    client: TestClient, tokens: dict[str, str]
) -> None:
    passed = add_audit(client, model="a", status="succeeded", verdict="pass")
    failed = add_audit(client, model="a", status="succeeded", verdict="fail")
    queued = add_audit(client, model="b")

    def ids(query: str) -> set[str]:
        response = client.get(f"/api/v1/audits?{query}", headers=bearer(tokens["read"]))
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert ids("model=a") == {passed, failed}
    assert ids("model=b&status=queued") == {queued}
    assert ids("status=succeeded&verdict=fail") == {failed}
    assert ids("model=nobody") == set()
    for bad in ("status=done", "verdict=maybe", "status=succeeded&verdict=passed"):
        body = problem(
            client.get(f"/api/v1/audits?{bad}", headers=bearer(tokens["read"])),
            400,
            "invalid-request",
        )
        assert body["errors"][0]["loc"][0] == "query" and "one of" in body["detail"]


def test_get_audit_and_unknown_ids(client: TestClient, tokens: dict[str, str]) -> None:
    audit_id = add_audit(
        client, status="failed", error_type="input_rejected", error_detail="no column"
    )
    body = client.get(f"/api/v1/audits/{audit_id}", headers=bearer(tokens["read"])).json()
    assert body["error"] == {"type": "input_rejected", "detail": "no column"}
    assert "cancel" not in body["links"] or body["links"]["cancel"] is None
    for unknown in ("00000000-0000-4000-8000-000000000000", "../../etc", "x" * 300):
        problem(client.get(f"/api/v1/audits/{unknown}", headers=bearer(tokens["read"])), 404)


def test_cancel_queued_running_and_finished(client: TestClient, tokens: dict[str, str]) -> None:
    queued = add_audit(client)
    running = add_audit(client, status="running", started_at=T0)
    done = add_audit(client, status="succeeded", verdict="pass")
    headers = bearer(tokens["submit"])
    now = client.post(f"/api/v1/audits/{queued}/cancel", headers=headers)
    assert now.status_code == 200, now.text
    assert now.json()["status"] == "canceled" and now.json()["finished_at"]
    later = client.post(f"/api/v1/audits/{running}/cancel", headers=headers)
    assert later.status_code == 202, later.text
    assert later.json()["status"] == "running" and later.json()["cancel_requested"] is True
    problem(client.post(f"/api/v1/audits/{done}/cancel", headers=headers), 409, "conflict")
    problem(client.post(f"/api/v1/audits/{queued}/cancel", headers=headers), 409)


def test_delete_removes_rows_metrics_and_folder(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    submitted = submit(client, tokens["submit"]).json()["id"]
    assert inputs_dir(migrated.audits_dir, submitted).is_dir()
    done = add_audit(client, status="succeeded", verdict="pass")
    add_metric(client, done, "fairness.selection_rate", group_key="sex=female", value=0.5)
    running = add_audit(client, status="running")
    admin = bearer(tokens["admin"])
    for audit_id in (submitted, done):
        response = client.delete(f"/api/v1/audits/{audit_id}", headers=admin)
        assert response.status_code == 204, response.text
        problem(client.get(f"/api/v1/audits/{audit_id}", headers=admin), 404)
    assert not (migrated.audits_dir / submitted).exists()
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(AuditMetric)) == 0
    body = problem(client.delete(f"/api/v1/audits/{running}", headers=admin), 409)
    assert "cancel it first" in body["detail"]
    problem(client.delete(f"/api/v1/audits/{done}", headers=admin), 404)


def _add_artifact(
    client: TestClient, settings: ServiceSettings, audit_id: str, name: str, content: bytes
) -> None:
    folder = out_dir(settings.audits_dir, audit_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        session.add(
            AuditArtifact(
                audit_id=audit_id,
                name=name,
                media_type="text/html",
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                relpath=f"out/{name}",
            )
        )


def test_artifacts_not_ready_then_served_with_etag_and_csp(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    read = bearer(tokens["read"])
    queued = add_audit(client)
    waiting = client.get(f"/api/v1/audits/{queued}/artifacts/report.html", headers=read)
    problem(waiting, 409, "artifact-not-ready")
    assert waiting.headers["retry-after"]
    done = add_audit(client, status="succeeded", verdict="pass", model_version="2.0")
    _add_artifact(client, migrated, done, "report.html", b"<html>report</html>")
    url = f"/api/v1/audits/{done}/artifacts/report.html"
    served = client.get(url, headers=read)
    assert served.status_code == 200 and served.content == b"<html>report</html>"
    assert served.headers["content-security-policy"].startswith("sandbox")
    assert served.headers["x-content-type-options"] == "nosniff"
    etag = served.headers["etag"]
    cached = client.get(url, headers={**read, "If-None-Match": etag})
    assert cached.status_code == 304
    resource = client.get(f"/api/v1/audits/{done}", headers=read).json()
    assert resource["links"]["artifacts"] == {"report.html": url}
    problem(client.get(f"/api/v1/audits/{done}/artifacts/report.pdf", headers=read), 404)
    problem(client.get(f"/api/v1/audits/{done}/artifacts/..%2Fx", headers=read), 404)
    for unknown in ("params.json", "report.exe", "x" * 300):  # as on the pages: 404, not 422
        url = f"/api/v1/audits/{done}/artifacts/{unknown}"
        assert "there are report.pdf" in problem(client.get(url, headers=read), 404)["detail"]


def test_models_list_counts_and_last_verdict(client: TestClient, tokens: dict[str, str]) -> None:
    add_audit(client, model="credit", status="succeeded", verdict="pass", created_at=T0)
    judged = add_audit(
        client, model="credit", status="succeeded", verdict="fail", created_at=T0 + timedelta(1)
    )
    add_audit(client, model="credit", status="failed", created_at=T0 + timedelta(2))
    newest = add_audit(client, model="credit", status="running", created_at=T0 + timedelta(3))
    add_audit(client, model="hiring", created_at=T0)
    body = client.get("/api/v1/models", headers=bearer(tokens["read"])).json()
    by_name = {item["name"]: item for item in body["items"]}
    credit = by_name["credit"]
    assert credit["audits"] == 4
    # The newest audit runs (its job status), but the model's last verdict is still the
    # newest succeeded audit's: fail, not "no verdict" while it runs (nor after a failed job).
    assert credit["last_status"] == "running" and credit["last_audit_id"] == newest
    assert credit["last_audit_at"].startswith("2024-05-04")
    assert credit["last_verdict"] == "fail" and credit["last_verdict_audit_id"] == judged
    assert credit["last_verdict_at"].startswith("2024-05-02")
    hiring = by_name["hiring"]
    assert hiring["last_status"] == "queued" and hiring["audits"] == 1
    assert hiring["last_verdict"] is None and hiring["last_verdict_audit_id"] is None
    assert hiring["last_verdict_at"] is None


@pytest.fixture
def trend(client: TestClient) -> list[str]:
    """Three audits of 'credit' with selection rates; one failed job whose rows never show."""
    ids = []
    for i, (version, value) in enumerate([("=cmd|'/c calc'!A1", 0.5), ("+1", 0.6), ("2", 0.7)]):
        audit_id = add_audit(
            client,
            model="credit",
            status="succeeded",
            verdict="pass" if i < 2 else "fail",
            created_at=T0 + timedelta(days=i),
            model_version=version,
        )
        ids.append(audit_id)
        add_metric(client, audit_id, "fairness.selection_rate", group_key="", value=value)
        add_metric(
            client,
            audit_id,
            "fairness.selection_rate",
            group_key="@sex=female",
            value=value - 0.1,
            ci_low=value - 0.2,
            ci_high=value,
            verdict="pass",
        )
        add_metric(
            client,
            audit_id,
            "fairness.selection_rate:ratio_to_reference",
            group_key="sex=female",
            value=0.9,
            threshold_min=0.8,
            verdict="pass",
            reference_group="sex=male" if i < 2 else "-sex=other",  # the largest group changed
        )
    failed = add_audit(client, model="credit", status="failed", created_at=T0 + timedelta(days=9))
    add_metric(client, failed, "fairness.selection_rate", group_key="", value=0.0)
    return ids


def test_trends_json_metrics_and_filters(
    client: TestClient, tokens: dict[str, str], trend: list[str]
) -> None:
    read = bearer(tokens["read"])
    url = "/api/v1/models/credit/trends"
    series = client.get(
        url, params={"metric": "fairness.selection_rate", "group": ""}, headers=read
    )
    assert series.status_code == 200, series.text
    points = series.json()["points"]
    assert [p["audit_id"] for p in points] == trend
    assert [p["value"] for p in points] == [0.5, 0.6, 0.7]
    assert points[2]["audit_verdict"] == "fail" and points[0]["group"] == ""
    every_group = client.get(url, params={"metric": "fairness.selection_rate"}, headers=read)
    assert len(every_group.json()["points"]) == 6
    since = (T0 + timedelta(days=1)).isoformat()
    recent = client.get(
        url, params={"metric": "fairness.selection_rate", "group": "", "since": since}, headers=read
    )
    assert [p["audit_id"] for p in recent.json()["points"]] == trend[1:]
    metrics = client.get("/api/v1/models/credit/metrics", headers=read).json()
    assert metrics["key_metrics"] == ["fairness.selection_rate:ratio_to_reference"]
    assert {m["metric"]: m["groups"] for m in metrics["metrics"]} == {
        "fairness.selection_rate": ["", "@sex=female"],
        "fairness.selection_rate:ratio_to_reference": ["sex=female"],
    }
    ratio = client.get(
        url, params={"metric": "fairness.selection_rate:ratio_to_reference"}, headers=read
    ).json()["points"]
    assert [p["reference_group"] for p in ratio] == ["sex=male", "sex=male", "-sex=other"]
    assert all(p["reference_group"] is None for p in points)
    problem(client.get(url, params={"metric": "nope"}, headers=read), 404)
    problem(client.get("/api/v1/models/nobody/trends?metric=x", headers=read), 404)
    problem(client.get(url, headers=read), 422)


def test_trends_csv_escapes_formula_cells(
    client: TestClient, tokens: dict[str, str], trend: list[str]
) -> None:
    response = client.get(
        "/api/v1/models/credit/trends.csv",
        params={"metric": "fairness.selection_rate"},
        headers=bearer(tokens["read"]),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 6
    versions = {row["model_version"] for row in rows}
    assert versions == {"'=cmd|'/c calc'!A1", "'+1", "2"}
    assert {row["group"] for row in rows} == {"", "'@sex=female"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert rows[0]["value"] == "0.5" and rows[0]["reference_group"] == ""
    ratio = client.get(
        "/api/v1/models/credit/trends.csv",
        params={"metric": "fairness.selection_rate:ratio_to_reference"},
        headers=bearer(tokens["read"]),
    )
    references = [row["reference_group"] for row in csv.DictReader(io.StringIO(ratio.text))]
    assert references == ["sex=male", "sex=male", "'-sex=other"]  # a formula start is defused


def test_policies_lists_the_built_in_names(client: TestClient, tokens: dict[str, str]) -> None:
    body = client.get("/api/v1/policies", headers=bearer(tokens["read"])).json()
    names = [item["name"] for item in body["items"]]
    assert "default" in names and body["default"] == "default"
    assert all(len(item["sha256"]) == 64 for item in body["items"])


def test_a_submitted_audit_reads_back_the_same(client: TestClient, tokens: dict[str, str]) -> None:
    created = submit(client, tokens["submit"]).json()
    read = client.get(created["links"]["self"], headers=bearer(tokens["read"]))
    assert read.json() == created
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        assert session.get(Audit, created["id"]) is not None
