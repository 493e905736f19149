"""How many uploads this process receives at once, and whether the disk can take one more.

The per-token cap (``max_active_per_token``) counts queued and running audits in the
database, which an upload only joins once it is accepted: without more, one token could
stream any number of bodies to disk side by side. So the API process keeps, in memory, the
uploads it is receiving (per token and in all), and a submit is refused before its body is
read when

- its token's queued and running audits plus its uploads in progress reach the cap (429,
  ``submit.check_capacity``),
- ``max_concurrent_uploads`` uploads are already being received (503 with ``Retry-After``),
- the data dir's disk would keep less than ``min_free_disk_mb`` free after the body (507).

``auditor serve`` runs one API process, so in-process counts are the whole truth; the event
loop is their only user (no lock).
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from auditor.service.problems import Problem
from auditor.service.settings import MIB, ServiceSettings

RETRY_AFTER_BUSY = "5"
INSUFFICIENT_STORAGE = 507


class UploadSlots:
    """The uploads being received in this process, per token and in all."""

    def __init__(self) -> None:
        self.by_token: Counter[int] = Counter()

    @property
    def total(self) -> int:
        return sum(self.by_token.values())

    @contextmanager
    def hold(self, token_id: int, limit: int) -> Iterator[int]:
        """Take a slot for one upload of ``token_id`` until the block ends.

        Yields how many other uploads of the same token are in progress. Problem 503 when
        ``limit`` uploads are already being received (nothing is taken then).
        """
        if self.total >= limit:
            raise Problem(
                503,
                f"The server is receiving {limit} uploads already (AUDITOR_MAX_CONCURRENT_"
                f"UPLOADS); retry in {RETRY_AFTER_BUSY} seconds.",
                headers={"Retry-After": RETRY_AFTER_BUSY},
            )
        others = self.by_token[token_id]
        self.by_token[token_id] += 1
        try:
            yield others
        finally:
            self.by_token[token_id] -= 1
            if self.by_token[token_id] <= 0:
                del self.by_token[token_id]


def declared_length(content_length: str | None, cap: int) -> int:
    """The bytes a body may bring: its ``Content-Length`` (at most ``cap``), else ``cap``."""
    if content_length is not None and content_length.isdigit():
        return min(int(content_length), cap)
    return cap


def check_disk(settings: ServiceSettings, incoming: int) -> None:
    """Problem 507 unless the data dir keeps ``min_free_disk_mb`` free after ``incoming`` bytes."""
    free = shutil.disk_usage(settings.audits_dir).free
    reserve = settings.min_free_disk_mb * MIB
    if free - incoming < reserve:
        raise Problem(
            INSUFFICIENT_STORAGE,
            f"The server's disk is nearly full ({free / MIB:,.0f} MiB free; this upload needs "
            f"up to {incoming / MIB:,.1f} MiB and {settings.min_free_disk_mb:,} MiB are kept "
            "free: AUDITOR_MIN_FREE_DISK_MB). Retry later; the operator can free space (e.g. "
            "delete old audits, or set AUDITOR_RETENTION_DAYS).",
            slug="insufficient-storage",
            title="Insufficient storage",
        )
