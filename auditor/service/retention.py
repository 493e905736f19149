"""Housekeeping of the data dir and the database: orphan folders, and retention of old audits.

``sweep`` does both; the workers call it at most every ``sweep_seconds``. It is cheap when there
is nothing to do: one listing of ``audits/``, one indexed query for old finished audits.

- An orphan is a folder under ``audits/`` named by a UUID that has no ``audits`` row, with
  nothing in it changed for ``ORPHAN_AGE`` (a server killed mid-upload leaves one behind).
  A folder of any other name, a symlink or a file is never touched; a folder with a row is
  the row's (``DELETE /api/v1/audits/{id}`` and retention remove both).
- With ``retention_days`` set, audits that finished (succeeded, failed, canceled) more than
  that many days ago are deleted (by ``finished_at``, or ``created_at`` for a row without
  one, so an audit that waited long in the queue keeps its whole retention): their metrics
  and artefact rows, their row, then their folder. Queued and running audits are never
  deleted, however old.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, func, select

from auditor.service import storage
from auditor.service.db import FINISHED, Audit, AuditArtifact, AuditMetric
from auditor.service.settings import ServiceSettings

log = logging.getLogger(__name__)

ORPHAN_AGE = timedelta(hours=1)
BATCH = 500  # ids per query and per deleting transaction


@dataclass(frozen=True)
class SweepReport:
    """What one sweep removed: orphan folders, and audits past retention (rows and folders)."""

    orphans_removed: int = 0
    audits_deleted: int = 0


def sweep(engine: Engine, settings: ServiceSettings, now: datetime | None = None) -> SweepReport:
    """Remove orphan folders, then (with ``retention_days``) finished audits past retention."""
    now = now or datetime.now(UTC)
    orphans = remove_orphans(engine, settings.audits_dir, now)
    deleted = 0
    if settings.retention_days is not None:
        cutoff = now - timedelta(days=settings.retention_days)
        deleted = delete_finished_before(engine, settings.audits_dir, cutoff)
    return SweepReport(orphans_removed=orphans, audits_deleted=deleted)


# -- orphans ------------------------------------------------------------------------------------


def remove_orphans(engine: Engine, audits_dir: Path, now: datetime) -> int:
    """Remove UUID-named folders without a row and unchanged since ``now - ORPHAN_AGE``."""
    before = (now - ORPHAN_AGE).timestamp()
    candidates = [name for name, mtime in _audit_folders(audits_dir) if mtime < before]
    removed = 0
    for chunk in _chunks(candidates):
        with engine.connect() as connection:
            known = set(connection.scalars(select(Audit.id).where(Audit.id.in_(chunk))))
        for name in chunk:
            # An upload in progress keeps writing under inputs/: look at the newest change.
            if name in known or _newest_change(audits_dir / name) >= before:
                continue
            storage.remove_audit_files(audits_dir, name)
            removed += 1
            log.info("removed orphan folder audits/%s (no audit row)", name)
    return removed


def _audit_folders(audits_dir: Path) -> Iterator[tuple[str, float]]:
    """(name, mtime) of each real folder under ``audits_dir`` named by a canonical UUID4."""
    try:
        entries = list(os.scandir(audits_dir))
    except FileNotFoundError:
        return
    for entry in entries:
        try:
            canonical = storage.parse_audit_id(entry.name) == entry.name  # not upper case
            info = entry.stat(follow_symlinks=False)
        except (ValueError, OSError):
            continue
        if canonical and stat.S_ISDIR(info.st_mode):
            yield entry.name, info.st_mtime


def _newest_change(folder: Path) -> float:
    """The latest mtime of ``folder`` and everything under it (symlinks not followed)."""
    newest = 0.0
    for root, dirs, files in os.walk(folder):
        for name in [".", *dirs, *files]:
            try:
                newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
            except OSError:  # removed meanwhile
                continue
    return newest


# -- retention ----------------------------------------------------------------------------------


def delete_finished_before(engine: Engine, audits_dir: Path, cutoff: datetime) -> int:
    """Delete audits finished before ``cutoff``: rows first, then folders.

    ``finished_at`` says when; a finished row without it (none should be) falls back to
    ``created_at``.
    """
    finished_at = func.coalesce(Audit.finished_at, Audit.created_at)
    deleted = 0
    while True:
        with engine.begin() as connection:
            ids = list(
                connection.scalars(
                    select(Audit.id)
                    .where(Audit.status.in_(FINISHED), finished_at < cutoff)
                    .order_by(Audit.created_at)
                    .limit(BATCH)
                )
            )
            if not ids:
                return deleted
            # Children explicitly: no reliance on ON DELETE CASCADE being enforced.
            connection.execute(delete(AuditMetric).where(AuditMetric.audit_id.in_(ids)))
            connection.execute(delete(AuditArtifact).where(AuditArtifact.audit_id.in_(ids)))
            gone = connection.execute(delete(Audit).where(Audit.id.in_(ids))).rowcount
        for audit_id in ids:  # a folder left by a failure here is an orphan for the next sweep
            storage.remove_audit_files(audits_dir, audit_id)
        deleted += gone
        log.info("retention: deleted %d audits finished before %s", gone, cutoff.isoformat())
        if gone < BATCH:
            return deleted


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
