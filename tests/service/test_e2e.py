"""End to end through a real `auditor serve` (uvicorn + worker processes) on 127.0.0.1.

Each test runs on SQLite and on PostgreSQL: submit -> poll -> artefacts; 20 concurrent
submissions, each run exactly once; the whole server SIGKILLed with audits queued and
running, then restarted: every audit finishes, none is left running.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from auditor.results import AuditRecord
from auditor.service.live_server import LiveServer
from auditor.service.settings import ServiceSettings
from tests.service.conftest import bearer

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "data" / "german_credit_audit.csv"
FINISHED = {"succeeded", "failed", "canceled"}


def decisions_csv(seed: int = 0, approve: float = 0.7) -> bytes:
    """German credit's outcome and groups, with a random decision log (1 = approve)."""
    frame = pd.read_csv(SAMPLE)[["credit", "sex", "age_group", "credit_amount", "month"]]
    rng = np.random.default_rng(seed)
    frame["decision"] = np.where(rng.random(len(frame)) < approve, 1, 2)
    return frame.to_csv(index=False).encode()


def submit(
    server: LiveServer, token: str, data: bytes, key: str | None = None, **fields: str
) -> httpx.Response:
    form = {
        "target": "credit",
        "pos_label": "1",
        "prediction": "decision",
        "sensitive": ["sex", "age_group"],
        "model_name": "credit-scorer",
        **fields,
    }
    return httpx.post(
        server.base_url + "/api/v1/audits",
        files={"data": ("decisions.csv", data, "text/csv")},
        data=form,
        headers={**bearer(token), **({"Idempotency-Key": key} if key else {})},
        timeout=60,
    )


def submit_as_a_client_would(
    server: LiveServer, token: str, data: bytes, key: str, **fields: str
) -> httpx.Response:
    """Submit, and on 429/503 wait as Retry-After says and send the same request again
    (same Idempotency-Key: a retry can never make a second audit)."""
    for _ in range(60):
        response = submit(server, token, data, key, **fields)
        if response.status_code not in (429, 503):
            return response
        time.sleep(min(float(response.headers.get("Retry-After", "1")), 2.0))
    return response


def wait_finished(server: LiveServer, token: str, ids: list[str], seconds: float) -> dict:
    """Poll every audit until all are finished; returns {id: resource}."""
    deadline = time.monotonic() + seconds
    done: dict[str, dict] = {}
    while time.monotonic() < deadline and len(done) < len(ids):
        for audit_id in ids:
            if audit_id in done:
                continue
            got = httpx.get(f"{server.base_url}/api/v1/audits/{audit_id}", headers=bearer(token))
            assert got.status_code == 200, got.text
            if got.json()["status"] in FINISHED:
                done[audit_id] = got.json()
        time.sleep(0.5)
    missing = [i for i in ids if i not in done]
    assert not missing, f"{len(missing)} audits not finished in {seconds} s: {server.logs()}"
    return done


@pytest.fixture
def server(migrated: ServiceSettings, tokens: dict[str, str]) -> Iterator[LiveServer]:
    assert migrated.database_url is not None
    live = LiveServer(migrated.data_dir, migrated.database_url, workers=2).start()
    try:
        yield live
    finally:
        live.stop()


def test_submit_poll_and_download_every_artefact(
    server: LiveServer, tokens: dict[str, str]
) -> None:
    response = submit(server, tokens["submit"], decisions_csv(), model_version="v1")
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/api/v1/audits/{response.json()['id']}"
    audit_id = response.json()["id"]
    resource = wait_finished(server, tokens["read"], [audit_id], 120)[audit_id]
    assert resource["status"] == "succeeded", resource
    assert resource["attempts"] == 1

    def artefact(name: str) -> httpx.Response:
        url = f"{server.base_url}/api/v1/audits/{audit_id}/artifacts/{name}"
        got = httpx.get(url, headers=bearer(tokens["read"]), timeout=30)
        assert got.status_code == 200, (name, got.text)
        return got

    record = AuditRecord.from_json(artefact("audit.json").text)
    # The job's verdict word is the audit's own verdict, mapped.
    mapping = {"passed": "pass", "failed": "fail", "inconclusive": "inconclusive"}
    assert resource["verdict"] == mapping[record.verdict]
    assert artefact("report.pdf").content.startswith(b"%PDF-")
    html = artefact("report.html")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert "<testsuite" in artefact("junit.xml").text
    assert artefact("summary.md").text.strip()
    failed = sum(1 for f in record.findings if f.verdict == "fail")
    assert resource["summary"]["failed"] == failed


def test_twenty_concurrent_submissions_each_run_exactly_once(
    server: LiveServer, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    # The per-token cap (5 active) would refuse most of 20 at once: one token per 5 audits.
    from auditor.service.database import make_engine, session_factory, transaction
    from auditor.service.tokens import create_token

    engine = make_engine(migrated.url)
    with transaction(session_factory(engine)) as session:
        secrets = [create_token(session, "submit", f"ci-{i}")[1] for i in range(4)]
    engine.dispose()
    data = decisions_csv(seed=1)
    # More at once than the server takes uploads (8): the busy ones are told to retry (503).
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(
                lambda i: submit_as_a_client_would(
                    server, secrets[i % 4], data, f"run-{i}", label=f"run-{i}"
                ),
                range(20),
            )
        )
    assert [r.status_code for r in responses] == [202] * 20, [r.text for r in responses]
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 20
    done = wait_finished(server, tokens["read"], ids, 400)
    assert {r["status"] for r in done.values()} == {"succeeded"}
    assert {r["attempts"] for r in done.values()} == {1}  # claimed once each
    listed = httpx.get(
        server.base_url + "/api/v1/audits?limit=100", headers=bearer(tokens["read"])
    ).json()
    assert sorted(a["id"] for a in listed["items"]) == sorted(ids)
    # Identical inputs give identical verdicts (audits are seeded).
    assert len({r["verdict"] for r in done.values()}) == 1


def test_server_killed_and_restarted_finishes_every_audit(
    migrated: ServiceSettings, tokens: dict[str, str]
) -> None:
    assert migrated.database_url is not None
    env = {"AUDITOR_LEASE_SECONDS": "3", "AUDITOR_HEARTBEAT_SECONDS": "0.5"}
    first = LiveServer(migrated.data_dir, migrated.database_url, workers=1, extra_env=env)
    first.start()
    try:
        ids = [
            submit(first, tokens["admin"], decisions_csv(seed=i), label=f"k{i}").json()["id"]
            for i in range(4)
        ]
        # Wait until one audit is running, then kill everything at once.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [
                httpx.get(
                    f"{first.base_url}/api/v1/audits/{i}", headers=bearer(tokens["read"])
                ).json()["status"]
                for i in ids
            ]
            if "running" in states:
                break
            time.sleep(0.1)
        assert "running" in states, states
    finally:
        first.kill()
    second = LiveServer(migrated.data_dir, migrated.database_url, workers=2, extra_env=env)
    second.start()
    try:
        done = wait_finished(second, tokens["read"], ids, 300)
    finally:
        second.stop()
    assert {r["status"] for r in done.values()} == {"succeeded"}, json.dumps(done, indent=1)
    assert max(r["attempts"] for r in done.values()) == 2  # the killed one ran again


def test_bad_uploads_over_a_real_socket_leave_the_server_serving(
    server: LiveServer, tokens: dict[str, str]
) -> None:
    import pickle

    model = pickle.dumps({"not": "a model"})
    refused = httpx.post(
        server.base_url + "/api/v1/audits",
        files={
            "data": ("d.csv", decisions_csv(), "text/csv"),
            "model": ("m.pkl", model, "application/octet-stream"),
        },
        data={"target": "credit", "sensitive": "sex", "model_name": "m"},
        headers=bearer(tokens["submit"]),
    )
    assert refused.status_code == 415
    assert refused.headers["content-type"].startswith("application/problem+json")
    empty = submit(server, tokens["submit"], b"")
    assert empty.status_code in (400, 422)
    assert empty.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(server.base_url + "/readyz").status_code == 200
    ok = submit(server, tokens["submit"], decisions_csv())
    assert ok.status_code == 202
