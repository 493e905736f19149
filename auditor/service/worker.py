"""The worker process: claim an audit, run ``auditor audit`` in a child process, keep the result.

``python -m auditor.service.worker`` reads its settings from ``AUDITOR_*`` variables (``auditor
serve`` starts its workers so). Each audit runs in its own child (``child_process``: the
audit's folder as working directory, a scrubbed environment, limits, and death with the worker),
so a SIGKILLed worker leaves nothing running while its lease expires and another worker requeues
the audit. A heartbeat thread renews the lease from the claim until the result is saved, stops
the child when the lease is lost (another worker owns the audit now: nothing is written) and
cancels it on request (SIGTERM, then SIGKILL). The worker itself kills the child when the lease
was not renewed in time (the database hangs), and retries its own reads and writes of the job
after a database error; a database that stays down never fails a job, its lease expires.
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
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TypeVar

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
T = TypeVar("T")

VERDICT_EXITS = (0, 1, 4)  # passed, failed, inconclusive: the audit ran to its verdict
EXIT_ERRORS = {2: "usage", 3: "input_rejected"}
# Pauses between the tries of a database read or write of a job (see ``_retrying``).
DB_RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)


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
        claimed_at = time.monotonic()  # the lease runs from no earlier than this
        audit_id = claim(engine, worker_id, settings.lease_seconds)
    except SQLAlchemyError as exc:  # the database is down or locked: try again on the next poll
        log.warning("cannot reach the database: %s", exc)
        return False
    if audit_id is None:
        return False
    run_job(engine, settings, worker_id, audit_id, stop, claimed_at)
    return True


def run_job(
    engine: Engine,
    settings: ServiceSettings,
    worker_id: str,
    audit_id: str,
    stop: threading.Event,
    claimed_at: float | None = None,
) -> None:
    """Run one claimed audit to its final state (or give it back if ``stop`` is set).

    ``claimed_at``: ``time.monotonic()`` when the claim began (default: now), from which the
    lease is counted. The heartbeat renews the lease from then until the result is saved.
    A database that keeps failing never decides the job's outcome: the worker writes nothing
    and the lease expires, so another worker runs the audit again (audits are seeded, a rerun
    gives the same result). Only a bug of ours fails the job (failed/internal).
    """
    log.info("audit %s: started", audit_id)
    heartbeat = Heartbeat(
        engine,
        settings,
        audit_id,
        worker_id,
        time.monotonic() if claimed_at is None else claimed_at,
    )
    heartbeat.start()
    try:
        _run(engine, settings, heartbeat, stop)
    except SQLAlchemyError as exc:
        log.error("audit %s: the database failed; left to its lease to expire: %s", audit_id, exc)
    except Exception:  # a bug of ours must fail the job, not kill the worker
        log.exception("audit %s: the worker failed", audit_id)
        detail = child_process.trim(traceback.format_exc())
        outcome = Outcome(status="failed", error_type="internal", error_detail=detail)
        try:
            _retrying(
                heartbeat,
                "recording the failure",
                lambda: finish(engine, audit_id, worker_id, outcome),
            )
        except SQLAlchemyError:  # its lease expires, and another worker runs it again
            log.exception("audit %s: cannot record the failure", audit_id)
    finally:
        heartbeat.end()


def _retrying(heartbeat: Heartbeat, what: str, call: Callable[[], T]) -> T:
    """``call()``, a database read or write of the job, retried after a database error.

    A locked SQLite or a dropped PostgreSQL connection is usually over in a moment; the
    retries stop when the lease is (or is about to be) over, or lost, and the last error is
    raised: the job is then left to its lease.
    """
    for pause in DB_RETRY_PAUSES:
        try:
            return call()
        except SQLAlchemyError as exc:
            if heartbeat.lost.is_set() or time.monotonic() + pause >= heartbeat.valid_until():
                raise
            log.warning(
                "audit %s: %s failed, again in %g s: %s", heartbeat.audit_id, what, pause, exc
            )
            time.sleep(pause)
    return call()


def _read_params(engine: Engine, audit_id: str) -> dict[str, object]:
    with engine.connect() as connection:
        stored = connection.execute(select(Audit.params).where(Audit.id == audit_id))
        params: dict[str, object] = stored.scalar_one()
    return params


def _run(
    engine: Engine, settings: ServiceSettings, heartbeat: Heartbeat, stop: threading.Event
) -> None:
    audit_id, worker_id = heartbeat.audit_id, heartbeat.worker_id

    def save(
        outcome: Outcome, result: ingest.Ingested | None = None, out: Path | None = None
    ) -> None:
        metrics = result.metrics if result is not None else []
        artifacts = ingest.artifact_rows(out) if result is not None and out is not None else []
        written = _retrying(
            heartbeat,
            "saving its result",
            lambda: finish(engine, audit_id, worker_id, outcome, metrics, artifacts),
        )
        log.info(
            "audit %s: %s %s (written: %s)", audit_id, outcome.status, outcome.verdict, written
        )

    stored = _retrying(heartbeat, "reading its parameters", lambda: _read_params(engine, audit_id))
    try:
        params = AuditParams.model_validate(stored)
    except ValidationError as exc:
        detail = child_process.trim(f"the stored parameters of this audit are invalid: {exc}")
        save(Outcome(status="failed", error_type="internal", error_detail=detail))
        return
    if heartbeat.expired():  # the reads took the lease: another worker may have the folder
        log.warning("audit %s: lease over before the start; nothing written", audit_id)
        return
    if heartbeat.canceled.is_set():
        save(Outcome(status="canceled"))
        return
    folder, out, logs = _prepare(settings.audits_dir, audit_id)
    argv = audit_command(params, storage.inputs_dir(settings.audits_dir, audit_id), out)
    font_cache = settings.data_dir.resolve() / "font-cache"
    child = child_process.spawn(argv, folder, logs, settings.audit_memory_mb, font_cache)
    heartbeat.attach(child)
    waited = child_process.wait(child, settings.audit_timeout_seconds, stop, heartbeat.expired)
    code = waited.code
    if waited.stopped:
        released = _retrying(
            heartbeat, "giving it back", lambda: release(engine, audit_id, worker_id)
        )
        log.info("audit %s: worker stopping, job released (%s)", audit_id, released)
        return
    if waited.lease_over or heartbeat.lost.is_set():
        # Lost, or not renewed in time (the database hangs): another worker may be running
        # the audit by now, in the same folder. Its result is the one to keep.
        log.warning("audit %s: lease lost or over; nothing written", audit_id)
        return
    if heartbeat.canceled.is_set():
        save(Outcome(status="canceled", exit_code=code))
    elif waited.timed_out:
        limit = f"the audit ran longer than {settings.audit_timeout_seconds:g} s and was stopped"
        detail = child_process.detail(logs, limit)
        save(Outcome(status="failed", exit_code=code, error_type="timeout", error_detail=detail))
    else:
        outcome, result = _outcome(code, out, logs, settings.audit_memory_mb)
        save(outcome, result, out)


def _prepare(audits_dir: Path, audit_id: str) -> tuple[Path, Path, Path]:
    """The audit's folder, out/ (emptied) and logs/, with the child's home and temp folders."""
    folder = storage.audit_dir(audits_dir, audit_id)
    out, logs = storage.out_dir(audits_dir, audit_id), storage.logs_dir(audits_dir, audit_id)
    shutil.rmtree(out, ignore_errors=True)  # an earlier attempt's files must not be taken as ours
    for path in (out, logs, folder / "home", folder / "tmp"):
        path.mkdir(parents=True, exist_ok=True)
    return folder, out, logs


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
    """Renews the lease every ``heartbeat_seconds`` from the claim until the result is saved.

    ``valid_until()`` is when this worker must consider its lease over: the start of the
    claim or of the last successful renew, plus the lease, less a margin. The worker's wait
    loop checks it without the database (a renew may hang on it) and kills the child past it.
    Sets ``lost`` (and kills the child) when the audit is no longer this worker's; sets
    ``canceled`` when a cancel was requested, sends the child SIGTERM and,
    ``cancel_grace_seconds`` later, SIGKILL. ``end()`` stops it.
    """

    def __init__(
        self,
        engine: Engine,
        settings: ServiceSettings,
        audit_id: str,
        worker_id: str,
        claimed_at: float,
    ) -> None:
        super().__init__(name=f"heartbeat-{audit_id[:8]}", daemon=True)
        self.engine, self.settings = engine, settings
        self.audit_id, self.worker_id = audit_id, worker_id
        # time.monotonic() when the last successful claim or renew began: the database's
        # lease runs from no earlier than that.
        self.renewed_at = claimed_at
        # A renew is due every heartbeat: give up one beat before the database would.
        self.margin = min(settings.heartbeat_seconds, settings.lease_seconds / 2)
        # Below the heartbeat interval: a blocked renew must not delay the next one long.
        self.renew_timeout_ms = max(100, int(settings.heartbeat_seconds * 500))
        self.done, self.lost, self.canceled = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )
        self._child: subprocess.Popen[bytes] | None = None
        self._child_lock = threading.Lock()

    def valid_until(self) -> float:
        """The ``time.monotonic()`` past which this worker must not act as the audit's owner."""
        return self.renewed_at + self.settings.lease_seconds - self.margin

    def expired(self) -> bool:
        """True once the lease is lost or over (see ``valid_until``); no database access."""
        return self.lost.is_set() or time.monotonic() >= self.valid_until()

    def attach(self, child: subprocess.Popen[bytes]) -> None:
        """The audit's child, which a lost lease or a cancel stops from now on."""
        with self._child_lock:
            self._child = child
        if self.lost.is_set():
            self._signal(signal.SIGKILL)

    def end(self) -> None:
        """Stop renewing. A renew stuck on the database is not waited for beyond a moment:
        the thread is a daemon, and a late renew of a lease no longer ours changes nothing."""
        self.done.set()
        self.join(timeout=self.renew_timeout_ms / 1000 + 1.0)

    def run(self) -> None:
        beat = self.settings.heartbeat_seconds
        next_beat = self.renewed_at + beat
        kill_at: float | None = None
        terminated = False
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
                    self.engine,
                    self.audit_id,
                    self.worker_id,
                    self.settings.lease_seconds,
                    timeout_ms=self.renew_timeout_ms,
                )
            except SQLAlchemyError as exc:  # the lease outlives a few missed beats
                log.warning("audit %s: heartbeat failed: %s", self.audit_id, exc)
                continue
            if not lease.owned:
                self.lost.set()
                self._signal(signal.SIGKILL)
                return
            self.renewed_at = now
            if lease.cancel_requested and not self.canceled.is_set():
                log.info("audit %s: cancel requested", self.audit_id)
                self.canceled.set()
            if self.canceled.is_set() and not terminated and self._child is not None:
                terminated = True
                self._signal(signal.SIGTERM)
                kill_at = now + self.settings.cancel_grace_seconds

    def _signal(self, sig: int) -> None:
        with self._child_lock:
            child = self._child
        if child is not None and child.returncode is None:  # once reaped, its pid is not ours
            child_process.kill_group(child, sig)


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
