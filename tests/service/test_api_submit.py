"""POST /api/v1/audits: good submits queue one row and server-named files; bad ones leave nothing.

Every test runs on SQLite and PostgreSQL (the ``client`` fixture).
"""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path
from typing import Any

import httpx
import joblib
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from auditor.service.database import transaction
from auditor.service.db import Audit, Model
from auditor.service.requests import AuditParams, audit_command
from auditor.service.settings import ServiceSettings
from auditor.service.storage import DATA_NAMES, METADATA_NAME, MODEL_NAMES
from auditor.service.tokens import digest
from tests.service.api_helpers import CSV, DECISIONS, client_with, problem, skops_zip, submit
from tests.service.conftest import bearer

MODEL_FIELDS = {"target": "y", "sensitive": ["sex"]}


def parquet(rows: int) -> bytes:
    table = pa.table(
        {"y": [i % 2 for i in range(rows)], "sex": ["f", "m"] * (rows // 2) + ["f"] * (rows % 2)}
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def joblib_compressed() -> bytes:
    buffer = io.BytesIO()
    joblib.dump({"weights": [1.0, 2.0]}, buffer, compress=3)
    return buffer.getvalue()


def audit_count(client: TestClient) -> int:
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(Audit)) or 0)


def stored_files(settings: ServiceSettings) -> list[Path]:
    return sorted(p for p in settings.audits_dir.rglob("*") if p.is_file())


def assert_nothing_left(client: TestClient, settings: ServiceSettings) -> None:
    assert audit_count(client) == 0
    assert list(settings.audits_dir.iterdir()) == []


def test_good_submit_queues_one_row_and_stores_server_named_files(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    fields = {**DECISIONS, "model_name": "credit-scorer", "model_version": "1.2", "label": "Q3"}
    fields |= {"score": "score", "pos_label": "1", "reference": ["sex=male"]}
    metadata = ("card.yaml", b"owner: risk team\n")
    response = submit(client, tokens["submit"], fields=fields, files={"metadata": metadata})
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/audits/{body['id']}"
    assert response.headers["retry-after"] == "2"
    assert body["status"] == "queued" and body["verdict"] is None
    assert body["model_name"] == "credit-scorer" and body["model_version"] == "1.2"
    assert body["links"]["self"] == response.headers["location"]
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        audit = session.get(Audit, body["id"])
        assert audit is not None
        params = AuditParams.model_validate(audit.params)
        assert audit.status == "queued" and audit.max_attempts == migrated.max_attempts
        assert audit.submitted_by is not None and audit.engine_version
        assert audit.policy_name == "default" and audit.policy_sha256
        assert audit.model.name == "credit-scorer"
    assert params.data_file == "data.csv" and params.metadata_file == METADATA_NAME
    assert params.prediction == "pred" and params.score == "score"
    assert params.reference == ["sex=male"] and params.data_name == "data.csv"
    inputs = migrated.audits_dir / body["id"] / "inputs"
    assert sorted(p.name for p in inputs.iterdir()) == ["data.csv", METADATA_NAME]
    assert (inputs / "data.csv").read_bytes() == CSV
    # The same model name again: one models row.
    assert submit(client, tokens["submit"], fields=fields).status_code == 202
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(Model)) == 1


def test_task_picks_the_policy_and_reaches_the_command(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    regression = {**DECISIONS, "task": "regression", "model_name": "prices"}
    response = submit(client, tokens["submit"], fields=regression)
    assert response.status_code == 202, response.text
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        audit = session.get(Audit, response.json()["id"])
        assert audit is not None
        params = AuditParams.model_validate(audit.params)
        assert audit.policy_name == "regression"  # the task's own default policy
    argv = audit_command(params, Path("in"), Path("out"))
    assert argv[argv.index("--task") + 1] == "regression"
    assert argv[argv.index("--policy") + 1] == "regression"
    bad = submit(client, tokens["submit"], fields={**DECISIONS, "task": "ranking"})
    assert problem(bad, 422)["errors"][0]["loc"] == ["body", "task"]


@pytest.mark.parametrize(
    ("content", "stored"),
    [
        (skops_zip({"model.npy": b"\x93NUMPY" + bytes(100)}), "model.skops"),
        (b"tree\nversion=v4\nnum_class=1\n", "model.lgb.txt"),
        (b'{"learner": {"attributes": {}}, "version": [2, 1, 0]}', "model.xgb.json"),
        (b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner{}", "model.xgb.ubj"),
    ],
)
def test_model_formats_accepted_by_their_bytes(
    client: TestClient,
    tokens: dict[str, str],
    migrated: ServiceSettings,
    content: bytes,
    stored: str,
) -> None:
    response = submit(
        client, tokens["submit"], fields=MODEL_FIELDS, files={"model": ("model.pkl", content)}
    )
    assert response.status_code == 202, response.text
    assert response.json()["inputs"]["model_sha256"]
    inputs = migrated.audits_dir / response.json()["id"] / "inputs"
    assert sorted(p.name for p in inputs.iterdir()) == sorted(["data.csv", stored])
    assert stored in MODEL_NAMES


def test_parquet_data_is_accepted_by_its_footer(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    fields = {"target": "y", "sensitive": ["sex"], "prediction": "y"}
    response = submit(client, tokens["submit"], data=parquet(20), data_name="d.csv", fields=fields)
    assert response.status_code == 202, response.text
    inputs = migrated.audits_dir / response.json()["id"] / "inputs"
    assert [p.name for p in inputs.iterdir()] == [DATA_NAMES[1]]


def _bad_submits() -> list[tuple[str, dict[str, Any], int, str]]:
    """(case, submit() arguments, status, problem slug)."""
    pickled = pickle.dumps({"weights": [1.0, 2.0]})
    bomb = skops_zip({"weights.npy": bytes(20 * 1024 * 1024)})
    return [
        ("empty data", {"data": b""}, 422, "validation-error"),
        ("header only", {"data": b"y,sex,pred\n"}, 422, "validation-error"),
        ("gzip as data", {"data": gzip.compress(CSV)}, 422, "validation-error"),
        (
            "latin-1 data",
            {"data": "y,sexé,pred\n1,a,1\n".encode("latin-1")},
            422,
            "validation-error",
        ),
        ("duplicate columns", {"data": b"y,y,sex,pred\n1,1,a,1\n"}, 422, "validation-error"),
        (
            "no data",
            {"data": None, "files": {"metadata": ("card.yaml", b"a: 1\n")}},
            422,
            "validation-error",
        ),
        ("urlencoded", {"data": None}, 415, "unsupported-media-type"),
        ("missing column", {"fields": {**DECISIONS, "target": "outcome"}}, 422, "validation-error"),
        ("unknown policy", {"fields": {**DECISIONS, "policy": "lenient"}}, 422, "validation-error"),
        (
            "policy path",
            {"fields": {**DECISIONS, "policy": "/etc/p.yaml"}},
            422,
            "validation-error",
        ),
        (
            "no sensitive",
            {"fields": {"target": "y", "prediction": "pred"}},
            422,
            "validation-error",
        ),
        ("unknown field", {"fields": {**DECISIONS, "senstive": "sex"}}, 422, "validation-error"),
        ("bad reference", {"fields": {**DECISIONS, "reference": "sex"}}, 422, "validation-error"),
        (
            "reference not sensitive",
            {"fields": {**DECISIONS, "reference": "age=20"}},
            422,
            "validation-error",
        ),
        (
            "bad model name",
            {"fields": {**DECISIONS, "model_name": "../x"}},
            422,
            "validation-error",
        ),
        ("neither model nor prediction", {"fields": MODEL_FIELDS}, 422, "validation-error"),
        (
            "both model and prediction",
            {"files": {"model": ("m.lgb", b"tree\nversion=v4\n")}},
            422,
            "validation-error",
        ),
        (
            "pickle model",
            {"fields": MODEL_FIELDS, "files": {"model": ("m.skops", pickled)}},
            415,
            "model-format-refused",
        ),
        (
            "joblib-compressed model",
            {"fields": MODEL_FIELDS, "files": {"model": ("m.joblib", joblib_compressed())}},
            415,
            "model-format-refused",
        ),
        (
            "unknown model format",
            {"fields": MODEL_FIELDS, "files": {"model": ("m.onnx", b"\x08\x07garbage")}},
            415,
            "model-format-refused",
        ),
        (
            "zip that is not skops",
            {"fields": MODEL_FIELDS, "files": {"model": ("m.zip", _plain_zip())}},
            415,
            "model-format-refused",
        ),
        (
            "skops zip bomb",
            {"fields": MODEL_FIELDS, "files": {"model": ("m.skops", bomb)}},
            422,
            "validation-error",
        ),
        (
            "binary metadata",
            {"files": {"metadata": ("card.yaml", b"\x00\x01\x02")}},
            422,
            "validation-error",
        ),
    ]


def _plain_zip() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def test_bad_uploads_are_problems_and_leave_nothing_behind(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    for case, arguments, status, slug in _bad_submits():
        response = submit(client, tokens["submit"], **arguments)
        assert response.status_code == status, f"{case}: {response.text}"
        problem(response, status, slug)
        assert_nothing_left(client, migrated)
    missing = submit(client, tokens["submit"], fields={**DECISIONS, "target": "outcome"}).json()
    assert missing["errors"] == [
        {"loc": ["body", "target"], "msg": "'outcome' is not a column of the data"}
    ]
    assert "'y', 'sex', 'age', 'pred', 'score'" in missing["detail"]
    not_multipart = client.post("/api/v1/audits", json=DECISIONS, headers=bearer(tokens["submit"]))
    problem(not_multipart, 415)
    truncated = client.post(
        "/api/v1/audits",
        content=b'--XyZ\r\nContent-Disposition: form-data; name="target"\r\n\r\ny',
        headers={**bearer(tokens["submit"]), "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    problem(truncated, 400)
    assert_nothing_left(client, migrated)
    # Later requests still work.
    assert submit(client, tokens["submit"]).status_code == 202


def test_size_caps_refuse_oversize_files_and_bodies(
    migrated: ServiceSettings, tokens: dict[str, str]
) -> None:
    caps = {"max_data_bytes": 2000, "max_model_bytes": 500, "max_metadata_bytes": 100}
    with client_with(migrated, **caps, max_data_rows=30, max_unpacked_bytes=10_000) as client:
        secret = tokens["submit"]
        cases: list[tuple[str, dict[str, Any]]] = [
            ("data", {"data": CSV + CSV * 10}),
            ("model", {"fields": MODEL_FIELDS, "files": {"model": ("m", b"tree\n" + bytes(600))}}),
            ("metadata", {"files": {"metadata": ("card.yaml", b"a: b\n" * 30)}}),
            ("parquet rows", {"data": parquet(31), "fields": {**DECISIONS, "prediction": "y"}}),
            (
                "skops unpacked",
                {
                    "fields": MODEL_FIELDS,
                    "files": {"model": ("m", skops_zip({"w": bytes(20_000)}))},
                },
            ),
        ]
        for case, arguments in cases:
            body = problem(submit(client, secret, **arguments), 413, "content-too-large")
            assert "AUDITOR_" in body["detail"], case
            assert_nothing_left(client, migrated)
        # A body declared larger than every cap together is refused before it is read.
        declared = client.post(
            "/api/v1/audits",
            content=b"x" * 10,
            headers={
                **bearer(secret),
                "Content-Type": "multipart/form-data; boundary=b",
                "Content-Length": str(10 * 1024 * 1024),
            },
        )
        problem(declared, 413)
        # Just under the row cap is fine.
        ok = submit(client, secret, data=parquet(30), fields={**DECISIONS, "prediction": "y"})
        assert ok.status_code == 202, ok.text


def test_parquet_declaring_a_huge_unpacked_size_is_refused(
    migrated: ServiceSettings, tokens: dict[str, str]
) -> None:
    with client_with(migrated, max_unpacked_bytes=100) as client:
        fields = {**DECISIONS, "prediction": "y"}
        problem(submit(client, tokens["submit"], data=parquet(20), fields=fields), 413)
        assert_nothing_left(client, migrated)


@pytest.mark.parametrize("name", ["../../etc/passwd", "a\r\nb.csv", "..\\..\\win.ini", "/abs"])
def test_hostile_file_names_never_reach_a_path(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings, name: str
) -> None:
    response = submit(client, tokens["submit"], data_name=name)
    assert response.status_code == 202, response.text
    for path in stored_files(migrated):
        relative = str(path.relative_to(migrated.data_dir))
        assert path.name in DATA_NAMES, relative
        assert "passwd" not in relative and "win.ini" not in relative
        assert "\r" not in relative and "\n" not in relative and ".." not in relative
    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        audit = session.get(Audit, response.json()["id"])
        assert audit is not None
        shown = audit.params["data_name"]
    assert shown is None or ("/" not in shown and "\\" not in shown and "\r" not in shown)


def test_raw_crlf_in_a_part_header_is_refused(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    body = (
        b"--B\r\n"
        b'Content-Disposition: form-data; name="data"; filename="a\r\nb.csv"\r\n\r\n'
        + CSV
        + b"\r\n--B--\r\n"
    )
    response = client.post(
        "/api/v1/audits",
        content=body,
        headers={**bearer(tokens["submit"]), "Content-Type": "multipart/form-data; boundary=B"},
    )
    problem(response, 400)
    assert_nothing_left(client, migrated)


def _token_id(client: TestClient, secret: str) -> int:
    from auditor.service.db import ApiToken

    with transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        return int(
            session.scalars(select(ApiToken.id).filter_by(token_sha256=digest(secret))).one()
        )


def test_idempotency_key_replays_refuses_reuse_and_reports_in_progress(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    key = {"Idempotency-Key": "nightly-2024-05-01"}
    first = submit(client, tokens["submit"], headers=key)
    assert first.status_code == 202
    again = submit(client, tokens["submit"], headers=key)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert audit_count(client) == 1
    assert len(list(migrated.audits_dir.iterdir())) == 1  # the replay's upload is removed
    other = submit(client, tokens["submit"], headers=key, fields={**DECISIONS, "label": "x"})
    problem(other, 422, "idempotency-key-reused")
    other_file = submit(client, tokens["submit"], headers=key, data=CSV + b"1,male,1,1,0.5\n")
    problem(other_file, 422, "idempotency-key-reused")
    # Another token's key space is its own.
    assert submit(client, tokens["admin"], headers=key).status_code == 202
    # While a first request with a key is still being received, a second one is 409.
    accepting = client.app.state.accepting_keys  # type: ignore[attr-defined]
    accepting.add((_token_id(client, tokens["submit"]), "in-flight"))
    busy = submit(client, tokens["submit"], headers={"Idempotency-Key": "in-flight"})
    problem(busy, 409, "idempotency-in-progress")
    assert audit_count(client) == 2
    bad_key = submit(client, tokens["submit"], headers={"Idempotency-Key": "a b"})
    problem(bad_key, 422)


def test_active_audits_per_token_are_capped(
    migrated: ServiceSettings, tokens: dict[str, str]
) -> None:
    with client_with(migrated, max_active_per_token=2) as client:
        secret = tokens["submit"]
        first = submit(client, secret, headers={"Idempotency-Key": "one"})
        assert first.status_code == 202
        assert submit(client, secret).status_code == 202
        full = submit(client, secret)
        body = problem(full, 429, "too-many-requests")
        assert full.headers["retry-after"].isdigit() and "cancel" in body["detail"]
        # A replay is still answered, and another token is not affected.
        assert submit(client, secret, headers={"Idempotency-Key": "one"}).status_code == 200
        assert submit(client, tokens["admin"]).status_code == 202
        cancel = client.post(f"/api/v1/audits/{first.json()['id']}/cancel", headers=bearer(secret))
        assert cancel.status_code == 200
        assert submit(client, secret).status_code == 202
        assert audit_count(client) == 4
        assert len(list(migrated.audits_dir.iterdir())) == 4


def test_submit_needs_the_submit_scope_and_reads_nothing_before(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    problem(submit(client, tokens["read"]), 403, "forbidden")
    anonymous = client.post("/api/v1/audits", files={"data": ("d.csv", CSV)}, data=DECISIONS)
    problem(anonymous, 401)
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert_nothing_left(client, migrated)


def test_response_conforms_to_the_schema(client: TestClient, tokens: dict[str, str]) -> None:
    from auditor.service.api.schemas import AuditResource

    response = submit(client, tokens["admin"])
    AuditResource.model_validate(response.json())
    assert isinstance(client, httpx.Client)
