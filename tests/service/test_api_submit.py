"""POST /api/v1/audits: good submits queue one row and server-named files; bad ones leave nothing.

Every test runs on SQLite and PostgreSQL (the ``client`` fixture).
"""

from __future__ import annotations

import gzip
import io
import pickle
import shutil
import struct
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import joblib
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from auditor.service import upload_checks, upload_limits, zip_checks
from auditor.service.app import create_app
from auditor.service.database import transaction
from auditor.service.db import Audit, Model
from auditor.service.problems import Problem
from auditor.service.requests import AuditParams, audit_command
from auditor.service.settings import MIB, ServiceSettings
from auditor.service.storage import DATA_NAMES, METADATA_NAME, MODEL_NAMES
from auditor.service.tokens import digest
from auditor.service.upload_checks import check_model
from auditor.service.uploads import StagedFile
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


# -- zip central directory: the end record's numbers are the uploader's, never trusted -------


def _patch_end_count(archive: bytes, count: int) -> bytes:
    """``archive`` with its end-of-central-directory entry counts set to ``count``."""
    at = archive.rfind(b"PK\x05\x06")
    return archive[: at + 8] + struct.pack("<HH", count, count) + archive[at + 12 :]


def _zip64(archive: bytes, count: int | None = None) -> bytes:
    """``archive`` rewritten with zip64 end records (declaring ``count`` entries if given)."""
    at = archive.rfind(b"PK\x05\x06")
    entries, size, offset = struct.unpack("<HII", archive[at + 10 : at + 20])
    declared = entries if count is None else count
    record = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared, size, offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return archive[:at] + record + locator + end


def _empty_entries(count: int) -> dict[str, bytes]:
    return {f"{i}.npy": b"" for i in range(count)}


def _staged(tmp_path: Path, content: bytes) -> StagedFile:
    path = tmp_path / "model.upload"
    path.write_bytes(content)
    return StagedFile("model", path, len(content), "0" * 64, None)


def test_zip_with_more_entries_than_its_end_record_declares_is_refused(
    migrated: ServiceSettings, tokens: dict[str, str]
) -> None:
    hidden = _patch_end_count(skops_zip(_empty_entries(300)), 1)
    many = skops_zip(_empty_entries(60))
    long_names = skops_zip({"a" * 2000: b"", "b" * 2000: b""})  # 3 entries, a 4 kB directory
    with client_with(migrated, max_zip_entries=50) as client:
        secret = tokens["submit"]
        cases = [
            (hidden, "has more than 50 entries; at most 50 are accepted (AUDITOR_MAX_ZIP_"),
            (_patch_end_count(hidden, 301), "has 301 entries; at most 50"),
            (many, "has 61 entries; at most 50"),
            (
                _patch_end_count(skops_zip(_empty_entries(30)), 1),
                "an entry count of 1 but its central directory holds 31 entries",
            ),
        ]
        for archive, said in cases:
            files = {"model": ("m.skops", archive)}
            body = problem(submit(client, secret, fields=MODEL_FIELDS, files=files), 422)
            assert said in body["detail"], body
            assert body["errors"][0]["loc"] == ["body", "model"]
            assert_nothing_left(client, migrated)
    with client_with(migrated, max_zip_entries=3) as client:
        files = {"model": ("m.skops", long_names)}
        body = problem(submit(client, tokens["submit"], fields=MODEL_FIELDS, files=files), 422)
        assert "central directory is" in body["detail"], body
        assert_nothing_left(client, migrated)
        fine = {"model": ("m.skops", skops_zip({"w.npy": b"1", "v.npy": b"2"}))}
        assert submit(client, tokens["submit"], fields=MODEL_FIELDS, files=fine).status_code == 202


def test_an_oversized_zip_directory_never_reaches_zipfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ServiceSettings(data_dir=tmp_path)  # the default cap: 10,000 entries
    hidden = _staged(tmp_path, _patch_end_count(skops_zip(_empty_entries(10_050)), 1))

    def no_zipfile(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("zipfile parsed an archive the walk should have refused")

    monkeypatch.setattr(zip_checks.zipfile, "ZipFile", no_zipfile)
    with pytest.raises(Problem) as refused:
        check_model(hidden, settings)
    assert refused.value.status == 422
    assert "more than 10,000 entries" in refused.value.detail


def test_zip64_end_records_are_read_like_zipfile_reads_them(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path, max_zip_entries=50)
    archive = skops_zip(_empty_entries(10))
    good = _zip64(archive)
    with zipfile.ZipFile(io.BytesIO(good)) as opened:  # what the loader will see
        assert len(opened.infolist()) == 11
    assert check_model(_staged(tmp_path, good), settings) == "model.skops"
    for lie in (1, 51):
        with pytest.raises(Problem) as refused:
            check_model(_staged(tmp_path, _zip64(archive, lie)), settings)
        assert refused.value.status == 422, lie


def test_a_skops_zip_is_parsed_once_and_named_without_detect_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ServiceSettings(data_dir=tmp_path)
    opened: list[object] = []
    real = zipfile.ZipFile

    def counting(*args: Any, **kwargs: Any) -> zipfile.ZipFile:
        opened.append(args[0])
        return real(*args, **kwargs)

    def no_detect(_path: Path) -> str:
        raise AssertionError("detect_format opened the zip a second time")

    skops, plain = skops_zip({"w.npy": b"1"}), _plain_zip()
    monkeypatch.setattr(zip_checks.zipfile, "ZipFile", counting)
    monkeypatch.setattr(upload_checks, "detect_format", no_detect)
    assert check_model(_staged(tmp_path, skops), settings) == "model.skops"
    assert len(opened) == 1
    with pytest.raises(Problem) as refused:
        check_model(_staged(tmp_path, plain), settings)
    assert refused.value.status == 415 and "schema.json" in refused.value.detail


# -- Parquet: the column chunks' sizes count too -------------------------------------------


def _zigzag_varint(value: int, width: int | None = None) -> bytes:
    """Thrift compact i64: zigzag, then a varint (padded to ``width`` bytes if given)."""
    number = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number or (width is not None and len(out) + 1 < width):
            out.append(byte | 0x80)
        else:
            out.append(byte)
            break
    return bytes(out)


def _understated_parquet(rows: int) -> tuple[bytes, int]:
    """Parquet whose row group claims 1 byte unpacked (its column chunks say the truth), and
    the column chunks' sum."""
    raw = parquet(rows)
    meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    group = meta.row_group(0)
    chunks = sum(group.column(j).total_uncompressed_size for j in range(group.num_columns))
    true = _zigzag_varint(group.total_byte_size)
    field = b"\x16" + true  # RowGroup field 2 (total_byte_size), type i64
    length = struct.unpack("<I", raw[-8:-4])[0]
    footer_at = len(raw) - 8 - length
    footer = raw[footer_at:-8]
    assert footer.count(field) == 1
    patched = footer.replace(field, b"\x16" + _zigzag_varint(1, width=len(true)))
    out = raw[:footer_at] + patched + raw[-8:]
    check = pq.ParquetFile(io.BytesIO(out)).metadata.row_group(0)
    assert check.total_byte_size == 1 and check.num_rows == rows
    return out, chunks


def test_parquet_row_groups_understating_their_size_are_judged_by_column_chunks(
    migrated: ServiceSettings, tokens: dict[str, str]
) -> None:
    data, chunks = _understated_parquet(2000)
    fields = {**DECISIONS, "prediction": "y"}
    with client_with(migrated, max_unpacked_bytes=chunks - 1) as client:
        body = problem(submit(client, tokens["submit"], data=data, fields=fields), 413)
        assert "Parquet data unpacked" in body["detail"]
        assert_nothing_left(client, migrated)
    with client_with(migrated, max_unpacked_bytes=chunks) as client:
        assert submit(client, tokens["submit"], data=data, fields=fields).status_code == 202


# -- uploads in progress: per token, in all, and the disk ------------------------------------


def _multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    """A submit's multipart body and its Content-Type."""
    request = httpx.Request(
        "POST", "http://testserver/api/v1/audits", data=fields, files={"data": ("d.csv", CSV)}
    )
    return request.read(), request.headers["content-type"]


async def _held(body: bytes, release: anyio.Event) -> AsyncIterator[bytes]:
    """The first half of ``body``, then (once ``release`` is set) the rest."""
    half = len(body) // 2
    yield body[:half]
    await release.wait()
    yield body[half:]


async def _until(condition: Callable[[], bool], what: str) -> None:
    with anyio.fail_after(10):
        while not condition():
            await anyio.sleep(0.01)


def test_uploads_in_progress_count_toward_the_token_cap_and_a_global_limit(
    migrated: ServiceSettings, tokens: dict[str, str]
) -> None:
    app = create_app(
        migrated.model_copy(update={"max_active_per_token": 2, "max_concurrent_uploads": 3})
    )
    body, content_type = _multipart(DECISIONS)

    def headers(scope: str) -> dict[str, str]:
        return {**bearer(tokens[scope]), "Content-Type": content_type}

    async def scenario() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        done: dict[str, httpx.Response] = {}
        release = anyio.Event()
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:

            async def slow(name: str, scope: str) -> None:
                done[name] = await http.post(
                    "/api/v1/audits", content=_held(body, release), headers=headers(scope)
                )

            def uploading() -> int:
                slots = getattr(app.state, "upload_slots", None)  # made by the first submit
                return 0 if slots is None else int(slots.total)

            async with anyio.create_task_group() as group:
                group.start_soon(slow, "first", "submit")
                group.start_soon(slow, "second", "submit")
                await _until(lambda: uploading() == 2, "two uploads in progress")
                done["over cap"] = await http.post(
                    "/api/v1/audits", content=body, headers=headers("submit")
                )
                group.start_soon(slow, "other token", "admin")
                await _until(lambda: uploading() == 3, "three uploads in progress")
                done["busy"] = await http.post(
                    "/api/v1/audits", content=body, headers=headers("admin")
                )
                release.set()
            assert uploading() == 0
            done["after"] = await http.post(
                "/api/v1/audits", content=body, headers=headers("submit")
            )
        return done

    try:
        done = anyio.run(scenario)
    finally:
        app.state.engine.dispose()
    over = problem(done["over cap"], 429, "too-many-requests")
    assert "2 being uploaded" in over["detail"], over
    busy = problem(done["busy"], 503)
    assert done["busy"].headers["retry-after"].isdigit()
    assert "AUDITOR_MAX_CONCURRENT_UPLOADS" in busy["detail"]
    for name in ("first", "second", "other token"):
        assert done[name].status_code == 202, (name, done[name].text)
    after = problem(done["after"], 429)  # now the two queued audits fill the token's cap
    assert "2 audits queued or running" in after["detail"]


def test_a_nearly_full_disk_refuses_the_upload_before_reading_it(
    migrated: ServiceSettings, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    free = {"bytes": 1 * MIB + 100}

    def disk_usage(_path: object) -> shutil._ntuple_diskusage:
        return shutil._ntuple_diskusage(100 * MIB, 100 * MIB - free["bytes"], free["bytes"])

    monkeypatch.setattr(upload_limits.shutil, "disk_usage", disk_usage)
    with client_with(migrated, min_free_disk_mb=1) as client:
        refused = submit(client, tokens["submit"])
        body = problem(refused, 507, "insufficient-storage")
        assert "AUDITOR_MIN_FREE_DISK_MB" in body["detail"]
        assert_nothing_left(client, migrated)
        assert client.app.state.upload_slots.total == 0  # type: ignore[attr-defined]
        free["bytes"] = 2 * MIB
        assert submit(client, tokens["submit"]).status_code == 202


def test_submit_documents_its_busy_and_disk_problems(migrated: ServiceSettings) -> None:
    spec = create_app(migrated).openapi()
    responses = spec["paths"]["/api/v1/audits"]["post"]["responses"]
    assert "Retry-After" in responses["503"]["headers"]
    for status in ("503", "507"):
        assert list(responses[status]["content"]) == ["application/problem+json"]
