"""The worker process: claim an audit, run ``auditor audit`` in a child process, keep the result.

``python -m auditor.service.worker`` reads its settings from ``AUDITOR_*`` variables (``auditor
serve`` starts its workers so). Each audit runs in its own child (``child_process``: the
audit's folder as working directory, a scrubbed environment, limits, and death with the worker),
so a SIGKILLed worker leaves nothing running while its lease expires and another worker requeues
the audit. A heartbeat thread renews the lease, stops the child when the lease is lost (another
worker owns the audit now: nothing is written) and cancels it on request (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from types import FrameType

from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from auditor.service import child_process, ingest, retention, storage
from auditor.service.database import make_engine
from auditor.service.db import Audit
from auditor.service.jobs import Outcome, claim, finish, release, renew, requeue_expired
from auditor.service.requests import AuditParams, audit_command
from auditor.service.settings import ServiceSettings

log = logging.getLogger(__name__)

VERDICT_EXITS = (0, 1, 4)  # passed, failed, inconclusive: the audit ran to its verdict
EXIT_ERRORS = {2: "usage", 3: "input_rejected"}


def run_worker(settings: ServiceSettings, worker_id: str, stop: threading.Event) -> None:
    """Claim and run audits until ``stop`` is set; idle polls sleep ``poll_seconds``.

    Every poll first requeues the audits of workers that stopped renewing their lease. A job
    running when ``stop`` is set is killed and released (queued again, the attempt not
    counted). On start and then at most every ``sweep_seconds``, the worker removes orphan
    folders and the audits past ``retention_days`` (``retention.sweep``).
    """
    engine = make_engine(settings.url)
    log.info("worker %s polling %s", worker_id, settings.audits_dir)
    next_sweep = time.monotonic()  # the first poll sweeps, then every sweep_seconds
    try:
        while not stop.is_set():
            if time.monotonic() >= next_sweep:
                _sweep(engine, settings)
                next_sweep = time.monotonic() + settings.sweep_seconds
            if not _poll_once(engine, settings, worker_id, stop):
                stop.wait(settings.poll_seconds)
    finally:
        engine.dispose()


def _sweep(engine: Engine, settings: ServiceSettings) -> None:
    """Orphan folders and audits past retention (``retention.sweep``); failures only logged."""
    try:
        report = retention.sweep(engine, settings)
    except (SQLAlchemyError, OSError) as exc:  # the next sweep tries again
        log.warning("sweep failed: %s", exc)
        return
    if report.orphans_removed or report.audits_deleted:
        log.info(
            "sweep: %d orphan folders removed, %d audits past retention deleted",
            report.orphans_removed,
            report.audits_deleted,
        )


def _poll_once(
    engine: Engine, settings: ServiceSettings, worker_id: str, stop: threading.Event
) -> bool:
    """Sweep expired leases, claim one audit and run it; False when there was nothing to do."""
    try:
        swept = requeue_expired(engine)
        if swept.requeued or swept.ended:
            log.warning("expired leases: %d requeued, %d given up", *swept)
        audit_id = claim(engine, worker_id, settings.lease_seconds)
    except SQLAlchemyError as exc:  # the database is down or locked: try again on the next poll
        log.warning("cannot reach the database: %s", exc)
        return False
    if audit_id is None:
        return False
    run_job(engine, settings, worker_id, audit_id, stop)
    return True


def run_job(
    engine: Engine,
    settings: ServiceSettings,
    worker_id: str,
    audit_id: str,
    stop: threading.Event,
) -> None:
    """Run one claimed audit to its final state (or give it back if ``stop`` is set)."""
    log.info("audit %s: started", audit_id)
    try:
        _run(engine, settings, worker_id, audit_id, stop)
    except Exception:  # a bug of ours must fail the job, not kill the worker
        log.exception("audit %s: the worker failed", audit_id)
        detail = child_process.trim(traceback.format_exc())
        outcome = Outcome(status="failed", error_type="internal", error_detail=detail)
        try:
            finish(engine, audit_id, worker_id, outcome)
        except SQLAlchemyError:  # its lease expires, and another worker runs it again
            log.exception("audit %s: cannot record the failure", audit_id)


def _run(
    engine: Engine,
    settings: ServiceSettings,
    worker_id: str,
    audit_id: str,
    stop: threading.Event,
) -> None:
    folder, out, logs = _prepare(settings.audits_dir, audit_id)
    with engine.connect() as connection:
        stored = connection.execute(select(Audit.params).where(Audit.id == audit_id)).scalar_one()
    try:
        params = AuditParams.model_validate(stored)
    except ValidationError as exc:
        detail = child_process.trim(f"the stored parameters of this audit are invalid: {exc}")
        outcome = Outcome(status="failed", error_type="internal", error_detail=detail)
        finish(engine, audit_id, worker_id, outcome)
        return
    argv = audit_command(params, storage.inputs_dir(settings.audits_dir, audit_id), out)
    font_cache = settings.data_dir.resolve() / "font-cache"
    child = child_process.spawn(argv, folder, logs, settings.audit_memory_mb, font_cache)
    code, ended = _supervise(engine, settings, audit_id, worker_id, child, stop)
    if ended == "stopped":
        released = release(engine, audit_id, worker_id)
        log.info("audit %s: worker stopping, job released (%s)", audit_id, released)
        return
    if ended == "lost":
        log.warning("audit %s: lease lost; another worker owns it, nothing written", audit_id)
        return
    result: ingest.Ingested | None = None
    if ended == "canceled":
        outcome = Outcome(status="canceled", exit_code=code)
    elif ended == "timeout":
        limit = f"the audit ran longer than {settings.audit_timeout_seconds:g} s and was stopped"
        detail = child_process.detail(logs, limit)
        outcome = Outcome(
            status="failed", exit_code=code, error_type="timeout", error_detail=detail
        )
    else:
        outcome, result = _outcome(code, out, logs, settings.audit_memory_mb)
    metrics = result.metrics if result is not None else []
    artifacts = ingest.artifact_rows(out) if result is not None else []
    written = finish(engine, audit_id, worker_id, outcome, metrics, artifacts)
    log.info("audit %s: %s %s (written: %s)", audit_id, outcome.status, outcome.verdict, written)


def _prepare(audits_dir: Path, audit_id: str) -> tuple[Path, Path, Path]:
    """The audit's folder, out/ (emptied) and logs/, with the child's home and temp folders."""
    folder = storage.audit_dir(audits_dir, audit_id)
    out, logs = storage.out_dir(audits_dir, audit_id), storage.logs_dir(audits_dir, audit_id)
    shutil.rmtree(out, ignore_errors=True)  # an earlier attempt's files must not be taken as ours
    for path in (out, logs, folder / "home", folder / "tmp"):
        path.mkdir(parents=True, exist_ok=True)
    return folder, out, logs


def _supervise(
    engine: Engine,
    settings: ServiceSettings,
    audit_id: str,
    worker_id: str,
    child: subprocess.Popen[bytes],
    stop: threading.Event,
) -> tuple[int, str]:
    """Wait for the child under its heartbeat: its exit code, and how it ended: 'exited',
    'timeout', 'stopped' (the worker is stopping), 'lost' (the lease) or 'canceled'."""
    heartbeat = Heartbeat(engine, settings, audit_id, worker_id, child)
    heartbeat.start()
    try:
        code, timed_out, stopped = child_process.wait(child, settings.audit_timeout_seconds, stop)
    finally:
        heartbeat.done.set()
        heartbeat.join()
    if stopped:
        return code, "stopped"
    if heartbeat.lost.is_set():
        return code, "lost"
    if heartbeat.canceled.is_set():
        return code, "canceled"
    return code, "timeout" if timed_out else "exited"


def _outcome(
    code: int, out: Path, logs: Path, memory_mb: int
) -> tuple[Outcome, ingest.Ingested | None]:
    """The job's outcome from the child's exit code, and its audit.json when it ran through."""
    if code in VERDICT_EXITS:
        try:
            result = ingest.ingest(ingest.load(out / "audit.json"))
        except (OSError, ValueError) as exc:  # a crash before the CLI's handler (e.g. import)
            detail = child_process.detail(
                logs, f"exit code {code} but no readable audit.json: {exc}"
            )
            failed = Outcome(
                status="failed", exit_code=code, error_type="internal", error_detail=detail
            )
            return failed, None
        succeeded = Outcome(
            status="succeeded",
            verdict=result.verdict,  # audit.json's word, whatever the exit code said
            exit_code=code,
            checks=result.checks,
            failed=result.failed,
            inconclusive=result.inconclusive,
        )
        return succeeded, result
    if code < 0:
        what = f"the audit process was killed by {child_process.signal_name(-code)}"
    elif "MemoryError" in child_process.tail(logs / "stderr.txt"):
        what = f"the audit ran out of memory (its limit is {memory_mb} MiB)"
    else:
        what = f"the audit process exited with code {code}"
    error_type = EXIT_ERRORS.get(code, "internal")
    failed = Outcome(
        status="failed",
        exit_code=code,
        error_type=error_type,
        error_detail=child_process.detail(logs, what),
    )
    return failed, None


class Heartbeat(threading.Thread):
    """Renews the lease every ``heartbeat_seconds`` while the child runs.

    Sets ``lost`` (and kills the child) when the audit is no longer this worker's, or when
    the database could not be reached for longer than the lease lasts; sets
    ``canceled`` when a cancel was requested, sends SIGTERM and, ``cancel_grace_seconds``
    later, SIGKILL. ``done`` ends it.
    """

    def __init__(
        self,
        engine: Engine,
        settings: ServiceSettings,
        audit_id: str,
        worker_id: str,
        child: subprocess.Popen[bytes],
    ) -> None:
        super().__init__(name=f"heartbeat-{audit_id[:8]}", daemon=True)
        self.engine, self.settings, self.child = engine, settings, child
        self.audit_id, self.worker_id = audit_id, worker_id
        self.done, self.lost, self.canceled = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )

    def run(self) -> None:
        beat = self.settings.heartbeat_seconds
        renewed = time.monotonic()  # the claim took the lease just before the child started
        next_beat = renewed + beat
        kill_at: float | None = None
        while True:
            wake = next_beat if kill_at is None else min(next_beat, kill_at)
            if self.done.wait(max(0.0, wake - time.monotonic())):
                return
            now = time.monotonic()
            if kill_at is not None and now >= kill_at:
                self._signal(signal.SIGKILL)
                kill_at = None
            if now < next_beat:
                continue
            next_beat = now + beat
            try:
                lease = renew(
                    self.engine, self.audit_id, self.worker_id, self.settings.lease_seconds
                )
            except SQLAlchemyError as exc:  # the lease outlives a few missed beats
                log.warning("audit %s: heartbeat failed: %s", self.audit_id, exc)
                if now - renewed > self.settings.lease_seconds:
                    # Our lease is over: another worker may be running the audit in the same
                    # folder by now. Stop ours rather than write over its files.
                    self.lost.set()
                    self._signal(signal.SIGKILL)
                    return
                continue
            renewed = now
            if not lease.owned:
                self.lost.set()
                self._signal(signal.SIGKILL)
                return
            if lease.cancel_requested and not self.canceled.is_set():
                log.info("audit %s: cancel requested", self.audit_id)
                self.canceled.set()
                self._signal(signal.SIGTERM)
                kill_at = now + self.settings.cancel_grace_seconds

    def _signal(self, sig: int) -> None:
        if self.child.returncode is None:  # once reaped, its pid may belong to another process
            child_process.kill_group(self.child, sig)


def new_worker_id() -> str:
    """``host:pid:random``: unique among workers, and says where to look for one."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def main() -> None:
    """``python -m auditor.service.worker``: run until SIGTERM or SIGINT, then exit 0."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s worker %(process)d %(levelname)s %(message)s"
    )
    settings = ServiceSettings()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    run_worker(settings, new_worker_id(), stop)  # main thread: see child_process._child_setup
    sys.exit(0)


if __name__ == "__main__":
    main()
