"""Housekeeping: orphan folders (no row, untouched for an hour) and retention of finished audits.

Every database test runs on SQLite and PostgreSQL (the ``migrated`` fixture).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, update

from auditor.service import retention, storage
from auditor.service.database import make_engine, session_factory, transaction
from auditor.service.db import Audit, AuditArtifact, AuditMetric
from auditor.service.retention import SweepReport, sweep
from auditor.service.settings import ServiceSettings
from auditor.service.worker import run_worker
from tests.service.factories import add_audit, wait_until

NOW = datetime.now(UTC)
HOUR = 3600.0


@pytest.fixture
def engine(migrated: ServiceSettings) -> Iterator[Engine]:
    engine = make_engine(migrated.url)
    yield engine
    engine.dispose()


def _folder(settings: ServiceSettings, name: str, *, age_hours: float) -> Path:
    """A folder under audits/ like an interrupted upload leaves, every mtime that old."""
    folder = settings.audits_dir / name
    (folder / "inputs").mkdir(parents=True, exist_ok=True)
    (folder / "inputs" / ".upload-data").write_bytes(b"y,sex\n1,f\n")
    _age(folder, age_hours)
    return folder


def _age(path: Path, hours: float) -> None:
    """Set the mtime of ``path`` and everything under it to ``hours`` before NOW."""
    stamp = NOW.timestamp() - hours * HOUR
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.utime(os.path.join(root, name), (stamp, stamp))
    os.utime(path, (stamp, stamp))


def _finished(
    engine: Engine,
    settings: ServiceSettings,
    status: str,
    *,
    days_old: float,
    finished_days_ago: float | None = None,
) -> str:
    """An audit in ``status``, ``days_old`` days old, with a metric, an artefact and files;
    finished ``finished_days_ago`` days ago (None: no ``finished_at``)."""
    audit_id = add_audit(engine, created_at=NOW - timedelta(days=days_old))
    finished_at = None if finished_days_ago is None else NOW - timedelta(days=finished_days_ago)
    with transaction(session_factory(engine)) as session:
        session.execute(
            update(Audit).where(Audit.id == audit_id).values(status=status, finished_at=finished_at)
        )
        audit = session.get_one(Audit, audit_id)
        session.add(
            AuditMetric(
                audit_id=audit_id,
                model_id=audit.model_id,
                created_at=audit.created_at,
                metric="fairness.selection_rate",
                group_key="sex=f",
                value=0.5,
            )
        )
        session.add(
            AuditArtifact(
                audit_id=audit_id,
                name="audit.json",
                media_type="application/json",
                size=2,
                sha256="0" * 64,
                relpath="out/audit.json",
            )
        )
    out = storage.out_dir(settings.audits_dir, audit_id)
    out.mkdir(parents=True)
    (out / "audit.json").write_text("{}")
    _age(storage.audit_dir(settings.audits_dir, audit_id), days_old * 24)
    return audit_id


def _count(engine: Engine, table: type, audit_ids: list[str]) -> int:
    column = table.audit_id if table is not Audit else Audit.id  # type: ignore[attr-defined]
    with engine.connect() as connection:
        query = select(func.count()).select_from(table).where(column.in_(audit_ids))
        return int(connection.scalar(query) or 0)


def test_orphan_folders_go_only_when_old_and_without_a_row(
    engine: Engine, migrated: ServiceSettings, tmp_path: Path
) -> None:
    audits = migrated.audits_dir
    audits.mkdir(parents=True, exist_ok=True)
    orphan = _folder(migrated, str(uuid.uuid4()), age_hours=2)
    recent = _folder(migrated, str(uuid.uuid4()), age_hours=0.5)
    uploading = _folder(migrated, str(uuid.uuid4()), age_hours=2)
    os.utime(uploading / "inputs" / ".upload-data")  # still being written: changed just now
    queued = add_audit(engine)
    owned = _folder(migrated, queued, age_hours=48)
    other = _folder(migrated, "notes", age_hours=48)  # not a UUID: never ours to remove
    upper = _folder(migrated, str(uuid.uuid4()).upper(), age_hours=48)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    link = audits / str(uuid.uuid4())
    link.symlink_to(outside)
    stray = audits / str(uuid.uuid4())
    stray.write_text("a file, not a folder")
    _age(stray, 48)

    assert sweep(engine, migrated, now=NOW) == SweepReport(orphans_removed=1, audits_deleted=0)
    assert not orphan.exists()
    for kept in (recent, uploading, owned, other, upper, link, stray):
        assert kept.exists() or kept.is_symlink(), kept
    assert (outside / "keep.txt").read_text() == "keep"
    # Once nothing in it changes for an hour, the interrupted upload goes too.
    later = NOW + timedelta(hours=2)
    assert sweep(engine, migrated, now=later).orphans_removed == 2  # recent and uploading
    assert owned.exists() and other.exists() and link.is_symlink()


def test_retention_deletes_old_finished_audits_with_their_rows_and_files(
    engine: Engine, migrated: ServiceSettings
) -> None:
    old = [_finished(engine, migrated, s, days_old=40) for s in ("succeeded", "failed", "canceled")]
    kept = [
        _finished(engine, migrated, "succeeded", days_old=10),
        _finished(engine, migrated, "queued", days_old=40),
        _finished(engine, migrated, "running", days_old=40),
    ]
    # Without retention_days nothing but orphans is ever removed.
    assert sweep(engine, migrated, now=NOW) == SweepReport()
    assert _count(engine, Audit, old + kept) == 6

    keeping = migrated.model_copy(update={"retention_days": 30})
    assert sweep(engine, keeping, now=NOW) == SweepReport(orphans_removed=0, audits_deleted=3)
    for table in (Audit, AuditMetric, AuditArtifact):
        assert _count(engine, table, old) == 0, table
        assert _count(engine, table, kept) == 3, table
    for audit_id in old:
        assert not (migrated.audits_dir / audit_id).exists()
    for audit_id in kept:
        assert (storage.out_dir(migrated.audits_dir, audit_id) / "audit.json").is_file()
    assert sweep(engine, keeping, now=NOW) == SweepReport()  # nothing left to do


def test_retention_counts_from_when_an_audit_finished(
    engine: Engine, migrated: ServiceSettings
) -> None:
    # Created 40 days ago but finished yesterday (a long queue, a slow audit): kept.
    waited = _finished(engine, migrated, "succeeded", days_old=40, finished_days_ago=1)
    done = _finished(engine, migrated, "failed", days_old=40, finished_days_ago=35)
    keeping = migrated.model_copy(update={"retention_days": 30})
    assert sweep(engine, keeping, now=NOW).audits_deleted == 1
    assert _count(engine, Audit, [waited]) == 1 and _count(engine, Audit, [done]) == 0
    assert (storage.out_dir(migrated.audits_dir, waited) / "audit.json").is_file()


def test_retention_deletes_in_batches(
    engine: Engine, migrated: ServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    old = [_finished(engine, migrated, "succeeded", days_old=5) for _ in range(5)]
    keeping = migrated.model_copy(update={"retention_days": 1})
    assert sweep(engine, keeping, now=NOW).audits_deleted == 5
    assert _count(engine, Audit, old) == 0


def test_a_worker_sweeps_when_it_starts(engine: Engine, migrated: ServiceSettings) -> None:
    orphan = _folder(migrated, str(uuid.uuid4()), age_hours=2)
    old = _finished(engine, migrated, "failed", days_old=3)
    settings = migrated.model_copy(update={"retention_days": 2, "sweep_seconds": 3600})
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(settings, "sweeper", stop), daemon=True)
    worker.start()
    try:
        wait_until(lambda: not orphan.exists(), 10, "the orphan folder to be removed")
        wait_until(lambda: _count(engine, Audit, [old]) == 0, 10, "the old audit to go")
        # sweep_seconds later, not before: a new orphan stays while the worker polls.
        again = _folder(migrated, str(uuid.uuid4()), age_hours=2)
        time.sleep(3 * settings.poll_seconds)
        assert again.exists()
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()


def test_serve_passes_retention_days_to_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from auditor.cli import main as cli
    from auditor.service import serve as serve_module

    seen: list[ServiceSettings] = []
    monkeypatch.setattr(serve_module, "serve", lambda settings, fd=None: seen.append(settings))
    runner = CliRunner()
    args = ["serve", "--data-dir", str(tmp_path), "--workers", "0"]
    assert runner.invoke(cli, [*args, "--retention-days", "30"]).exit_code == 0
    assert runner.invoke(cli, args, env={"AUDITOR_RETENTION_DAYS": "7"}).exit_code == 0
    assert runner.invoke(cli, args).exit_code == 0
    assert [s.retention_days for s in seen] == [30, 7, None]
    refused = runner.invoke(cli, [*args, "--retention-days", "0"])
    assert refused.exit_code == 2 and "--retention-days" in refused.output
