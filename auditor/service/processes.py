"""Child processes that cannot outlive their parent (Linux ``PR_SET_PDEATHSIG``)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def _find_prctl() -> Callable[..., int] | None:
    # Resolved at import, in the parent: loading a library between fork and exec in a process
    # with threads can deadlock on a lock another thread held at the fork.
    if not sys.platform.startswith("linux"):
        return None
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


_PRCTL = _find_prctl()


def die_with(parent: int) -> None:
    """In a child (from ``preexec_fn``): be sent SIGKILL when the parent dies, however it dies.

    The signal is sent when the *thread* that started the child ends, so start children from
    a thread that lives as long as the parent (its main thread). A worker SIGKILLed mid-audit
    must not leave its audit running, writing files for a job another worker will run again.
    Elsewhere than Linux this does nothing.
    """
    if _PRCTL is None:
        return
    _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl: nobody else will kill us
        os._exit(70)


def die_with_parent_hook() -> Callable[[], None]:
    """A ``preexec_fn`` that makes the child die with this process (see :func:`die_with`)."""
    parent = os.getpid()
    return lambda: die_with(parent)
