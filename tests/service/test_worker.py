"""Real workers running real audits in child processes, on both databases.

Worker threads (``run_worker`` with a stop event) for the normal paths; worker *processes*
(``python -m auditor.service.worker``) for what only a process can show: SIGKILL (its audit
dies with it and another worker reruns the job) and SIGTERM (a clean stop that gives the job
back).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError

from auditor.service import child_process, ingest, jobs, migrate, storage, worker
from auditor.service.child_process import child_environment
from auditor.service.database import make_engine
from auditor.service.db import FINISHED, Audit
from auditor.service.serve import WorkerPool
from auditor.service.settings import ServiceSettings
from auditor.service.worker import run_job, run_worker
from tests.service.factories import (
    add_audit,
    artifacts_of,
    decisions_csv,
    get_audit,
    metrics_of,
    wait_for_status,
    wait_until,
)

AUDIT_SECONDS = 120  # a whole audit (PDF included) takes ~5 s; a loaded machine is slower
EXIT_OF = {"pass": 0, "fail": 1, "inconclusive": 4}


@pytest.fixture
def fast(migrated: ServiceSettings) -> ServiceSettings:
    """Settings for workers under test: quick polls, heartbeats and leases."""
    return migrated.model_copy(
        update={
            "lease_seconds": 5.0,
            "heartbeat_seconds": 0.3,
            "poll_seconds": 0.1,
            "cancel_grace_seconds": 2.0,
            # Room for a whole audit (~2 GiB of address space, mostly the PDF renderer) but
            # not for the Parquet bomb below.
            "audit_memory_mb": 3072,
        }
    )


@pytest.fixture
def engine(migrated: ServiceSettings) -> Iterator[Engine]:
    engine = make_engine(migrated.url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return decisions_csv(tmp_path_factory.mktemp("data") / "decisions.csv")


@pytest.fixture(scope="module")
def parquet_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 million rows in a few MB: ~2 GB as Arrow columns, twice that once in pandas."""
    path = tmp_path_factory.mktemp("bomb") / "data.parquet"
    n = 4_000_000
    ones = np.ones(n, dtype=np.int64)
    chunk = pa.table({"credit": ones, "sex": np.arange(n, dtype=np.int64) % 2, "decision": ones})
    with pq.ParquetWriter(path, chunk.schema, compression="zstd") as writer:
        for _ in range(20):
            writer.write_table(chunk, row_group_size=n)
    return path


@contextmanager
def worker_thread(settings: ServiceSettings, worker_id: str = "thread-1") -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(settings, worker_id, stop), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "the worker did not stop"


def start_worker_process(settings: ServiceSettings, log: Path) -> subprocess.Popen[bytes]:
    """``python -m auditor.service.worker`` configured by AUDITOR_* variables only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_")}
    env |= {
        "AUDITOR_DATA_DIR": str(settings.data_dir),
        "AUDITOR_DATABASE_URL": settings.url,
        "AUDITOR_LEASE_SECONDS": "2",
        "AUDITOR_HEARTBEAT_SECONDS": "0.5",
        "AUDITOR_POLL_SECONDS": "0.1",
        "AUDITOR_AUDIT_MEMORY_MB": "3072",
    }
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "auditor.service.worker"],
            env=env,
            cwd=log.parent,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def audit_processes(audit_id: str) -> list[int]:
    """Live processes running this audit (its id is in their command line; zombies have none)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if b"auditor.cli" in argv and audit_id.encode() in argv:
            pids.append(int(entry.name))
    return pids


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")  # killed; its new parent has not reaped it yet


def test_a_worker_runs_an_audit_end_to_end(
    fast: ServiceSettings, engine: Engine, data: Path
) -> None:
    audit_id = add_audit(engine, fast.audits_dir, data=data)
    with worker_thread(fast):
        audit = wait_for_status(engine, audit_id, FINISHED, AUDIT_SECONDS)

    assert audit.status == "succeeded", audit.error_detail
    out = storage.out_dir(fast.audits_dir, audit_id)
    expected = ingest.ingest(ingest.load(out / "audit.json"))
    assert audit.verdict == expected.verdict
    assert audit.exit_code == EXIT_OF[expected.verdict]
    assert (audit.checks, audit.failed, audit.inconclusive) == (
        expected.checks,
        expected.failed,
        expected.inconclusive,
    )
    assert (audit.attempts, audit.lease_expires_at, audit.error_type) == (1, None, None)
    assert audit.started_at is not None and audit.finished_at is not None
    assert len(metrics_of(engine, audit_id)) == len(expected.metrics)

    artifacts = {a.name: a for a in artifacts_of(engine, audit_id)}
    assert set(artifacts) == set(storage.ARTIFACTS)
    for name, artifact in artifacts.items():
        raw = storage.artifact_path(fast.audits_dir, audit_id, name).read_bytes()
        assert (artifact.size, artifact.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
        assert (artifact.relpath, artifact.media_type) == (f"out/{name}", storage.ARTIFACTS[name])
    assert storage.logs_dir(fast.audits_dir, audit_id).joinpath("stderr.txt").is_file()
    assert audit_processes(audit_id) == []


def test_bad_input_fails_with_the_message_of_the_cli(
    fast: ServiceSettings, engine: Engine, data: Path
) -> None:
    audit_id = add_audit(engine, fast.audits_dir, data=data, params={"target": "no_such_column"})
    with worker_thread(fast):
        audit = wait_for_status(engine, audit_id, FINISHED, AUDIT_SECONDS)
    assert (audit.status, audit.error_type, audit.exit_code) == ("failed", "input_rejected", 3)
    assert audit.error_detail is not None
    assert "InputError: --target 'no_such_column' is not a column" in audit.error_detail
    assert audit.verdict is None and metrics_of(engine, audit_id) == []


def test_an_audit_over_its_time_limit_fails_as_timeout(
    fast: ServiceSettings, engine: Engine, data: Path
) -> None:
    audit_id = add_audit(engine, fast.audits_dir, data=data)
    with worker_thread(fast.model_copy(update={"audit_timeout_seconds": 0.5})):
        audit = wait_for_status(engine, audit_id, FINISHED, AUDIT_SECONDS)
    assert (audit.status, audit.error_type) == ("failed", "timeout")
    assert audit.error_detail is not None and "longer than 0.5 s" in audit.error_detail
    assert audit_processes(audit_id) == []


def test_an_audit_over_its_memory_limit_fails_and_the_worker_goes_on(
    fast: ServiceSettings, engine: Engine, data: Path, parquet_bomb: Path
) -> None:
    bomb = add_audit(
        engine,
        fast.audits_dir,
        data=parquet_bomb,
        params={"data_file": "data.parquet", "sensitive": ["sex"]},
    )
    normal = add_audit(engine, fast.audits_dir, data=data)
    with worker_thread(fast):
        failed = wait_for_status(engine, bomb, FINISHED, AUDIT_SECONDS)
        after = wait_for_status(engine, normal, FINISHED, AUDIT_SECONDS)
    assert (failed.status, failed.error_type, failed.exit_code) == ("failed", "internal", 70)
    assert failed.error_detail is not None
    assert failed.error_detail.startswith("the audit ran out of memory (its limit is 3072 MiB)")
    assert "MemoryError" in failed.error_detail
    assert after.status == "succeeded", after.error_detail


def test_cancel_of_a_running_audit_stops_its_child(
    fast: ServiceSettings, engine: Engine, data: Path
) -> None:
    audit_id = add_audit(engine, fast.audits_dir, data=data)
    with worker_thread(fast):
        wait_until(lambda: bool(audit_processes(audit_id)), AUDIT_SECONDS, "the audit to start")
        [child] = audit_processes(audit_id)
        with engine.begin() as connection:
            connection.execute(update(Audit).values(cancel_requested=True))
        audit = wait_for_status(engine, audit_id, FINISHED, 30)
    assert audit.status == "canceled"
    assert audit.finished_at is not None and audit.verdict is None
    assert gone(child)


def test_a_killed_worker_takes_its_audit_along_and_another_reruns_it(
    fast: ServiceSettings, engine: Engine, data: Path, tmp_path: Path
) -> None:
    audit_id = add_audit(engine, fast.audits_dir, data=data)
    worker = start_worker_process(fast, tmp_path / "worker.log")
    try:
        wait_until(lambda: bool(audit_processes(audit_id)), AUDIT_SECONDS, "the audit to start")
        [child] = audit_processes(audit_id)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        wait_until(lambda: gone(child), 10, f"the audit process {child} to die with its worker")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert get_audit(engine, audit_id).status == "running"  # until its lease expires

    with worker_thread(fast, "thread-2"):
        audit = wait_for_status(engine, audit_id, FINISHED, AUDIT_SECONDS)
    assert (audit.status, audit.attempts, audit.lease_owner) == ("succeeded", 2, "thread-2")
    assert audit_processes(audit_id) == []


def test_sigterm_stops_a_worker_cleanly_and_gives_its_audit_back(
    fast: ServiceSettings, engine: Engine, data: Path, tmp_path: Path
) -> None:
    audit_id = add_audit(engine, fast.audits_dir, data=data)
    log = tmp_path / "worker.log"
    worker = start_worker_process(fast, log)
    try:
        wait_until(lambda: bool(audit_processes(audit_id)), AUDIT_SECONDS, "the audit to start")
        [child] = audit_processes(audit_id)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert gone(child)
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.attempts, audit.lease_owner) == ("queued", 0, None)


def test_the_child_environment_holds_no_setting_or_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AUDITOR_DATABASE_URL", "postgresql://user:secret@db/auditor")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    env = child_environment(tmp_path)
    assert not [k for k in env if k.startswith("AUDITOR_") or "SECRET" in k]
    assert "secret" not in "".join(env.values())
    for name in ("HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME", "TMPDIR"):
        assert Path(env[name]).is_relative_to(tmp_path)
    shared = child_environment(tmp_path / "audit", tmp_path / "fonts")
    assert Path(shared["MPLCONFIGDIR"]).is_relative_to(tmp_path / "fonts")
    assert Path(shared["HOME"]).is_relative_to(tmp_path / "audit")


# -- robustness: the pool's replacements, database errors, leases -------------------------------


@pytest.fixture(scope="module")
def audit_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The audit.json of one real audit (JSON only: fast), for children that only copy it."""
    folder = tmp_path_factory.mktemp("audit-json")
    data = decisions_csv(folder / "decisions.csv")
    out = folder / "out"
    argv = [sys.executable, "-m", "auditor.cli", "audit", "--data", str(data)]
    argv += ["--target", "credit", "--pos-label", "1", "--prediction", "decision"]
    argv += ["--sensitive", "sex", "--out", str(out), "--format", "json", "--quiet"]
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode in EXIT_OF.values(), done.stderr
    return out / "audit.json"


def fake_child(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Audits run ``python -c script`` instead; ``OUT`` in the script is the audit's out/."""
    real_spawn = child_process.spawn

    def spawn(argv: list[str], *args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        out = argv[argv.index("--out") + 1]
        code = f"OUT = {out!r}\n{script}"
        return real_spawn([sys.executable, "-c", code], *args, **kwargs)

    monkeypatch.setattr(child_process, "spawn", spawn)


def copies(audit_json: Path, exit_code: int) -> str:
    """A child script that writes ``audit_json`` as its result and exits ``exit_code``."""
    return f"import shutil, sys\nshutil.copy({str(audit_json)!r}, OUT)\nsys.exit({exit_code})"


def test_a_replacement_worker_stops_cleanly_with_the_pool(tmp_path: Path) -> None:
    # Replacements are started by the pool's monitor thread, and die with the thread that
    # started them (PR_SET_PDEATHSIG): it must outlive them, or they are SIGKILLed mid-stop.
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'auditor.db'}",
        workers=1,
        poll_seconds=0.2,
    )
    settings.audits_dir.mkdir(parents=True)
    migrate.upgrade(settings.url)
    log = tmp_path / "workers.log"
    with log.open("wb") as stderr:
        pool = WorkerPool(settings, stderr=stderr)
        pool.start()
        try:
            first = pool.processes[0]
            wait_until(lambda: b"polling" in log.read_bytes(), 60, "the first worker")
            first.send_signal(signal.SIGKILL)
            wait_until(lambda: log.read_bytes().count(b"polling") == 2, 60, "a replacement worker")
            replacement = pool.processes[0]
            assert replacement is not first and replacement.poll() is None
        finally:
            pool.stop()
    assert replacement.returncode == 0, log.read_text()
    assert log.read_text().count("SIGTERM: stopping") == 1
    assert not pool.monitor.is_alive()


def test_a_database_error_while_saving_the_result_is_retried(
    fast: ServiceSettings,
    engine: Engine,
    audit_json: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = ingest.ingest(ingest.load(audit_json))
    fake_child(monkeypatch, copies(audit_json, EXIT_OF[expected.verdict]))
    calls: list[str] = []

    def flaky_finish(*args: Any, **kwargs: Any) -> bool:
        calls.append(args[3].status)
        if len(calls) == 1:  # a locked SQLite, a PostgreSQL connection dropped mid-commit
            raise OperationalError("UPDATE audits", {}, Exception("database is locked"))
        return jobs.finish(*args, **kwargs)

    monkeypatch.setattr(worker, "finish", flaky_finish)
    audit_id = add_audit(engine, fast.audits_dir)
    assert jobs.claim(engine, "w1", fast.lease_seconds) == audit_id
    run_job(engine, fast, "w1", audit_id, threading.Event())

    assert calls == ["succeeded", "succeeded"]
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.verdict, audit.error_type) == ("succeeded", expected.verdict, None)
    assert len(metrics_of(engine, audit_id)) == len(expected.metrics)


def test_a_database_that_stays_down_leaves_the_job_to_its_lease(
    fast: ServiceSettings,
    engine: Engine,
    audit_json: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_child(monkeypatch, copies(audit_json, 1))
    monkeypatch.setattr(worker, "DB_RETRY_PAUSES", (0.05, 0.05), raising=False)

    def down(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError("UPDATE audits", {}, Exception("server closed the connection"))

    monkeypatch.setattr(worker, "finish", down)
    audit_id = add_audit(engine, fast.audits_dir)
    jobs.claim(engine, "w1", fast.lease_seconds)
    run_job(engine, fast, "w1", audit_id, threading.Event())

    # Not failed/internal: still running under w1 until its lease expires, then rerun.
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.lease_owner, audit.error_type) == ("running", "w1", None)


def test_a_heartbeat_stuck_on_the_database_stops_the_child_before_the_lease_ends(
    fast: ServiceSettings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A renew that hangs (no answer from PostgreSQL) must not let the child outlive the
    # lease: another worker may requeue the audit and empty out/ while it writes there.
    fake_child(monkeypatch, "import time\ntime.sleep(10)")
    unblock = threading.Event()

    def hanging_renew(*args: Any, **kwargs: Any) -> jobs.Lease:
        unblock.wait(60)
        raise OperationalError("UPDATE audits", {}, Exception("connection timed out"))

    monkeypatch.setattr(worker, "renew", hanging_renew)
    settings = fast.model_copy(update={"lease_seconds": 2.0, "heartbeat_seconds": 0.3})
    audit_id = add_audit(engine, settings.audits_dir)
    claimed_at = time.monotonic()
    jobs.claim(engine, "w1", settings.lease_seconds)
    try:
        run_job(engine, settings, "w1", audit_id, threading.Event())
        elapsed = time.monotonic() - claimed_at
    finally:
        unblock.set()
    assert elapsed < settings.lease_seconds + 1.0  # killed (after 1.7 s), not run to its end
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.lease_owner, audit.finished_at) == ("running", "w1", None)


def test_the_lease_is_renewed_until_the_result_is_saved(
    fast: ServiceSettings,
    engine: Engine,
    audit_json: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Hashing a large report can outlast the lease: a sweep meanwhile must see it renewed.
    fake_child(monkeypatch, copies(audit_json, 1))
    settings = fast.model_copy(update={"lease_seconds": 1.0, "heartbeat_seconds": 0.2})
    real_artifact_rows = ingest.artifact_rows
    swept: list[jobs.Swept] = []

    def slow_artifact_rows(out: Path) -> list[jobs.ArtifactRow]:
        time.sleep(2 * settings.lease_seconds)
        swept.append(jobs.requeue_expired(engine))
        return real_artifact_rows(out)

    monkeypatch.setattr(ingest, "artifact_rows", slow_artifact_rows)
    audit_id = add_audit(engine, settings.audits_dir)
    jobs.claim(engine, "w1", settings.lease_seconds)
    run_job(engine, settings, "w1", audit_id, threading.Event())

    assert swept == [(0, 0)]
    assert get_audit(engine, audit_id).status == "succeeded"
