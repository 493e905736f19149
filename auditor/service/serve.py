"""``auditor serve``: the API, the pages and N worker processes, started and stopped together.

The API runs in this process on uvicorn; each worker is a ``python -m auditor.service.worker``
child that reads the same settings from ``AUDITOR_*`` variables. A worker that dies (killed,
out of memory) is started again; its job is not lost, since its lease expires and another
worker requeues it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from auditor.errors import UsageError
from auditor.service import migrate
from auditor.service.database import make_engine, session_factory, transaction
from auditor.service.processes import die_with_parent_hook
from auditor.service.settings import ServiceSettings
from auditor.service.tokens import has_active_tokens

RESTART_PAUSE_SECONDS = 2.0


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'; a name we cannot resolve here is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def prepare_database(settings: ServiceSettings) -> None:
    """Migrate (or check the schema with --no-migrate) and refuse an open non-loopback bind."""
    settings.audits_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.url)
    try:
        if settings.migrate:
            migrate.upgrade(settings.url)
        if not settings.migrate and not migrate.is_current(engine):
            raise UsageError(
                "the database schema is behind this auditor; run `auditor serve` without "
                "--no-migrate once to upgrade it."
            )
        with transaction(session_factory(engine)) as session:
            tokens = has_active_tokens(session)
    except OperationalError as exc:
        shown = make_url(settings.url).render_as_string(hide_password=True)
        raise UsageError(
            f"cannot use the database {shown}: {exc.orig}. Check --database-url (or --data-dir)."
        ) from exc
    finally:
        engine.dispose()
    if not is_loopback(settings.host) and not tokens:
        raise UsageError(
            f"refusing to listen on {settings.host}, which other machines can reach, while the "
            "database has no token: create one first with "
            "`auditor token create --scope admin` (same --data-dir/--database-url)."
        )


def worker_environment(settings: ServiceSettings) -> dict[str, str]:
    """This process's environment plus every setting as an AUDITOR_* variable."""
    env = dict(os.environ)
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        env[f"AUDITOR_{name.upper()}"] = (
            json.dumps(value) if isinstance(value, list | dict) else str(value)
        )
    env["AUDITOR_DATABASE_URL"] = settings.url
    env["AUDITOR_DATA_DIR"] = str(settings.data_dir.resolve())
    return env


class WorkerPool:
    """N worker processes, restarted when one dies, stopped with SIGTERM then SIGKILL.

    Each worker dies with the *thread* that started it (``PR_SET_PDEATHSIG``): the first ones
    with the caller's, the replacements with the ``worker-pool`` monitor thread's. So that
    thread lives until every worker has exited: ending it first would SIGKILL a replacement
    in the middle of its clean stop, and its job would not be given back.
    """

    def __init__(self, settings: ServiceSettings, *, stderr: IO[bytes] | None = None) -> None:
        self.settings = settings
        self.env = worker_environment(settings)
        self.stderr = stderr  # the workers' log (None: this process's stderr)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.stopping = threading.Event()
        self.all_exited = threading.Event()  # set by stop(): the monitor thread may end
        # Held to start a worker and to begin stopping: no replacement starts once stopping.
        self.lock = threading.Lock()
        self.monitor = threading.Thread(target=self._watch, name="worker-pool", daemon=True)
        self.die_with_us = die_with_parent_hook()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "auditor.service.worker"],
            env=self.env,
            stderr=self.stderr,
            preexec_fn=self.die_with_us,  # a SIGKILLed `auditor serve` leaves no worker behind
        )

    def start(self) -> None:
        with self.lock:
            self.processes = [self._spawn() for _ in range(self.settings.workers)]
        self.monitor.start()

    def _watch(self) -> None:
        try:
            while not self.stopping.wait(RESTART_PAUSE_SECONDS):
                self._replace_dead()
        finally:
            # The replacements started here die when this thread ends: wait for stop() to
            # have seen every worker exit.
            self.all_exited.wait()

    def _replace_dead(self) -> None:
        with self.lock:
            if self.stopping.is_set():  # stop() began (under this lock): start nothing more
                return
            for i, process in enumerate(self.processes):
                if process.poll() is None:
                    continue
                print(
                    f"auditor serve: worker {process.pid} exited ({process.returncode}); "
                    "starting another",
                    file=sys.stderr,
                )
                try:
                    self.processes[i] = self._spawn()
                except OSError as exc:  # out of processes or memory: try again next round
                    print(f"auditor serve: cannot start a worker: {exc}", file=sys.stderr)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every worker (each kills its audit and puts the job back), then SIGKILL.

        Returns once every worker has exited and the monitor thread has ended.
        """
        try:
            with self.lock:  # after this no worker starts, and the list no longer changes
                self.stopping.set()
                processes = list(self.processes)
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            for process in processes:
                try:
                    process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            self.all_exited.set()
            if self.monitor.is_alive():
                self.monitor.join()


@contextmanager
def running_workers(settings: ServiceSettings) -> Iterator[WorkerPool]:
    """The workers of ``settings``, running for the ``with`` block, then stopped."""
    pool = WorkerPool(settings)
    pool.start()
    try:
        yield pool
    finally:
        pool.stop()


def serve(settings: ServiceSettings, *, fd: int | None = None) -> None:
    """Run until SIGINT/SIGTERM: migrations, the workers, then uvicorn in this process.

    ``fd``: listen on this already bound socket instead of host:port (a supervisor's, or a
    test's: no race for a free port).
    """
    import uvicorn

    from auditor.service.app import create_app

    prepare_database(settings)
    app = create_app(settings.model_copy(update={"migrate": False}))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )
    with running_workers(settings):
        server = uvicorn.Server(config)
        if fd is None:
            server.run()
        else:
            # uvicorn's own --fd takes the socket for AF_UNIX; asyncio then leaves Nagle on
            # and every response waits ~40 ms for a delayed ACK. Ours keeps its real family.
            server.run(sockets=[socket.socket(fileno=fd)])
