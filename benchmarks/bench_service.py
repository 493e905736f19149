"""The service's latencies, through a real `auditor serve` on 127.0.0.1.

Usage: ``python -m benchmarks.bench_service [--audits 10000] [--runs 5] [--database-url URL]``
(``make bench``; SQLite in a temporary data dir unless a URL is given).

1. Submit-to-verdict: a small decisions-mode audit (German credit's 400 rows, two sensitive
   columns, every report format) submitted over HTTP and polled every 50 ms until its verdict;
   the time split into the wait in the queue and the run of ``auditor audit`` itself.
2. The history list: ``--audits`` audits stored (inserted directly, over 20 models, every
   status), then ``GET /api/v1/audits`` pages of 50 with and without filters, following the
   cursor: p50 / p95 / max latency per request, and the same for the ``/ui/audits`` page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import insert

from auditor.provenance import tool_version
from auditor.service import migrate
from auditor.service.database import make_engine, session_factory, transaction
from auditor.service.db import Audit, Model
from auditor.service.live_server import LiveServer
from auditor.service.tokens import create_token

SAMPLE = Path(__file__).resolve().parents[1] / "sample_models" / "data" / "german_credit_audit.csv"


def decisions_csv() -> bytes:
    frame = pd.read_csv(SAMPLE)[["credit", "sex", "age_group"]]
    frame["decision"] = np.where(np.random.default_rng(0).random(len(frame)) < 0.7, 1, 2)
    return frame.to_csv(index=False).encode()


def seed_history(url: str, count: int) -> None:
    """``count`` finished or queued audits over 20 models, inserted in bulk."""
    engine = make_engine(url)
    rng = random.Random(0)
    start = datetime.now(UTC) - timedelta(days=365)
    with transaction(session_factory(engine)) as session:
        models = [Model(name=f"model-{i:02d}") for i in range(20)]
        session.add_all(models)
        session.flush()
        rows = []
        for i in range(count):
            status = rng.choice(["succeeded"] * 8 + ["failed", "canceled"])
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "model_id": rng.choice(models).id,
                    "model_version": f"v{i % 50}",
                    "status": status,
                    "verdict": rng.choice(["pass", "fail", "inconclusive"])
                    if status == "succeeded"
                    else None,
                    "policy_name": "default",
                    "data_sha256": "0" * 64,
                    "params": {"data_file": "data.csv", "target": "y", "sensitive": ["s"]},
                    "engine_version": tool_version(),
                    "created_at": start + timedelta(minutes=i),
                    "attempts": 1,
                    "max_attempts": 2,
                    "cancel_requested": False,
                }
            )
        session.execute(insert(Audit), rows)
    engine.dispose()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def submit_to_verdict(server: LiveServer, token: str, runs: int) -> None:
    data = decisions_csv()
    headers = {"Authorization": f"Bearer {token}"}
    totals, queued, ran = [], [], []
    for i in range(runs):
        began = time.perf_counter()
        response = httpx.post(
            server.base_url + "/api/v1/audits",
            files={"data": ("decisions.csv", data, "text/csv")},
            data={
                "target": "credit",
                "pos_label": "1",
                "prediction": "decision",
                "sensitive": ["sex", "age_group"],
                "model_name": "bench",
                "label": f"run-{i}",
            },
            headers=headers,
            timeout=60,
        )
        response.raise_for_status()
        url = server.base_url + response.headers["Location"]
        while True:
            resource = httpx.get(url, headers=headers).json()
            if resource["status"] in ("succeeded", "failed", "canceled"):
                break
            time.sleep(0.05)
        totals.append(time.perf_counter() - began)
        created = datetime.fromisoformat(resource["created_at"])
        started = datetime.fromisoformat(resource["started_at"])
        finished = datetime.fromisoformat(resource["finished_at"])
        queued.append((started - created).total_seconds())
        ran.append((finished - started).total_seconds())
        assert resource["status"] == "succeeded", resource
    print("1. Submit-to-verdict, small decisions-mode audit (400 rows, 5 report formats)")
    print(
        f"   {runs} runs: median {statistics.median(totals):.2f} s "
        f"(min {min(totals):.2f}, max {max(totals):.2f}); of which in the queue "
        f"{statistics.median(queued):.2f} s, running `auditor audit` {statistics.median(ran):.2f} s"
    )


def history_latency(server: LiveServer, token: str, count: int, requests: int = 200) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        for path, label in (("/api/v1/audits", "API"), ("/ui/audits", "page")):
            times: list[float] = []
            cursor = None
            for _ in range(requests):
                params: dict[str, str] = {"limit": "50"}
                roll = rng.random()
                if roll < 0.3:
                    params["model"] = f"model-{rng.randrange(20):02d}"
                elif roll < 0.5:
                    params["verdict"] = rng.choice(["pass", "fail"])
                elif roll < 0.6:
                    params["status"] = "failed"
                elif cursor:
                    params["cursor"] = cursor
                began = time.perf_counter()
                response = client.get(path, params=params)
                times.append(time.perf_counter() - began)
                response.raise_for_status()
                if label == "API":
                    cursor = response.json().get("next_cursor")
            p50, p95 = percentile(times, 50) * 1000, percentile(times, 95) * 1000
            print(
                f"   {label:4} {path:16} {requests} requests: p50 {p50:.1f} ms, "
                f"p95 {p95:.1f} ms, max {max(times) * 1000:.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audits", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        url = args.database_url or f"sqlite:///{data_dir / 'auditor.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with transaction(session_factory(engine)) as session:
            token = create_token(session, "admin", "bench")[1]
        engine.dispose()
        dialect = url.split(":", 1)[0]
        server = LiveServer(data_dir, url, workers=1).start()
        try:
            print(f"auditor serve on {dialect}, 1 worker, this machine")
            submit_to_verdict(server, token, args.runs)
            seed_history(url, args.audits)
            print(f"2. History list with {args.audits:,} more audits stored (pages of 50)")
            history_latency(server, token, args.audits)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
