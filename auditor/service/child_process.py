"""The audit's child process: start ``auditor audit``, wait for it, stop it, read its stderr.

Each audit runs in its own child: the audit's folder as working directory, a scrubbed
environment (no ``AUDITOR_*``, no database URL), an address-space limit, a wall-clock limit, its
own process group, and death with the worker (``PR_SET_PDEATHSIG``); what it wrote to stderr
becomes the job's ``error_detail`` when it fails. The worker (``worker``) decides what the
child's end means for the job.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from auditor.service.processes import die_with
from auditor.service.settings import MIB

WAIT_TICK = 0.1  # how often the worker looks at its child, the stop event and the clock
DETAIL_CHARS = 2000  # error_detail: the end of stderr, where the CLI says what went wrong


def signal_name(number: int) -> str:
    """The name of signal ``number`` (``SIGKILL``), or ``signal N`` when it has none."""
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal has no name
        return f"signal {number}"


def child_environment(folder: Path, font_cache: Path | None = None) -> dict[str, str]:
    """The child's whole environment: no secret, no setting of ours, a home in its folder.

    ``font_cache``: a folder shared by every audit for matplotlib's and fontconfig's font
    caches, which cost each audit about a second to build anew (they hold only the system's
    font list, nothing of any audit); None keeps them in the audit's folder too.
    One thread per numeric library: the workers already run audits side by side, and under
    RLIMIT_AS every thread's stack and malloc arena counts against the audit's memory.
    """
    home = folder / "home"
    caches = font_cache or home
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(home),
        "MPLCONFIGDIR": str(caches / "matplotlib"),
        "XDG_CACHE_HOME": str(caches / "cache"),
        "TMPDIR": str(folder / "tmp"),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def spawn(
    argv: list[str], folder: Path, logs: Path, memory_mb: int, font_cache: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in ``folder`` as the audit's child, its output in ``logs``' text files."""
    with (logs / "stdout.txt").open("wb") as stdout, (logs / "stderr.txt").open("wb") as stderr:
        return subprocess.Popen(
            argv,
            cwd=folder,
            env=child_environment(folder, font_cache),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            close_fds=True,
            start_new_session=True,  # its own process group: a kill reaches whatever it starts
            preexec_fn=_child_setup(memory_mb),
        )


def _child_setup(memory_mb: int) -> Callable[[], None]:
    """What the child does between fork and exec: limit its memory, die with the worker."""
    parent = os.getpid()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_mb * MIB
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)

    def setup() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        die_with(parent)  # the worker's loop runs in its main thread, which lives as long

    return setup


class Waited(NamedTuple):
    """How a child ended: its exit code, and what (if anything) made the worker kill it."""

    code: int
    timed_out: bool = False  # over its wall-clock limit
    stopped: bool = False  # the worker is shutting down
    lease_over: bool = False  # the worker no longer owns the job


def wait(
    child: subprocess.Popen[bytes],
    timeout: float,
    stop: threading.Event,
    lease_over: Callable[[], bool] | None = None,
) -> Waited:
    """Wait for the child, killing it on timeout, on ``stop`` or once ``lease_over()``.

    ``lease_over`` is asked every tick and must not touch the database: this loop is what
    stops the child in time when the database hangs (another worker may rerun the job in the
    same folder as soon as the lease has expired).
    """
    deadline = time.monotonic() + timeout
    timed_out = stopped = lost = False
    while True:
        try:
            code = child.wait(WAIT_TICK)
            break
        except subprocess.TimeoutExpired:
            pass
        if timed_out or stopped or lost:  # killed already: wait for it to go
            continue
        if stop.is_set():
            stopped = True
        elif lease_over is not None and lease_over():
            lost = True
        elif time.monotonic() >= deadline:
            timed_out = True
        if timed_out or stopped or lost:
            kill_group(child, signal.SIGKILL)
    kill_group(child, signal.SIGKILL)  # anything the audit started and left behind
    return Waited(code, timed_out=timed_out, stopped=stopped, lease_over=lost)


def kill_group(child: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the child's process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(child.pid, sig)


def detail(logs: Path, what: str) -> str:
    """``what`` happened, then the end of the child's stderr (what a user needs to fix input)."""
    tail_text = tail(logs / "stderr.txt")
    return trim(f"{what}\n{tail_text}" if tail_text else what)


def tail(path: Path, limit: int = 16 * 1024) -> str:
    """The last ``limit`` bytes of ``path`` as text, stripped; '' when it cannot be read."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - limit))
            return handle.read().decode("utf-8", errors="replace").strip()
    except OSError:
        return ""


def trim(text: str) -> str:
    """At most DETAIL_CHARS: the first line (what happened) and the last lines that fit."""
    if len(text) <= DETAIL_CHARS:
        return text
    first, _, rest = text.partition("\n")
    first = first[: DETAIL_CHARS // 4]
    room = DETAIL_CHARS - len(first) - 5
    kept = rest[-room:]
    kept = kept.partition("\n")[2] or kept  # whole lines only
    return f"{first}\n…\n{kept}"
