"""A real `auditor serve` on 127.0.0.1: for end-to-end tests, benchmarks and `make serve`.

The socket is bound here (port 0) and handed to the server with ``--fd``, so there is no race
for a free port; start-up polls /healthz to a deadline while checking that the process lives.
The server runs in its own session, so a test can SIGKILL it with every worker and audit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READY_SECONDS = 60.0


@dataclass
class LiveServer:
    data_dir: Path
    database_url: str
    workers: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    log_to_file: bool = True
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    log: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        sock.set_inheritable(True)
        self.port = sock.getsockname()[1]
        argv = [sys.executable, "-m", "auditor.cli", "serve", "--fd", str(sock.fileno())]
        argv += ["--workers", str(self.workers), "--data-dir", str(self.data_dir)]
        argv += ["--database-url", self.database_url]
        env = {**os.environ, "AUDITOR_POLL_SECONDS": "0.2", **self.extra_env}
        self.log = self.data_dir.parent / f"serve-{self.port}.log" if self.log_to_file else None
        with open(self.log or os.devnull, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                pass_fds=[sock.fileno()],
                env=env,
                stdout=log if self.log_to_file else None,
                stderr=subprocess.STDOUT if self.log_to_file else None,
                start_new_session=True,
            )
        sock.close()  # the server holds its own copy
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"auditor serve exited {self.process.returncode}: {self.logs()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"auditor serve not ready in {READY_SECONDS} s: {self.logs()}")

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log else ""

    def kill(self) -> None:
        """SIGKILL the server, its workers and their audits (the whole session)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        """SIGTERM, as a person's Ctrl-C or a service manager would; SIGKILL after 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):  # nothing of the session may linger
            os.killpg(self.process.pid, signal.SIGKILL)
