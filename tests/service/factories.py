"""Audits made directly in the database (and their input files), for the worker-side tests."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from auditor.service import storage
from auditor.service.database import session_factory, transaction
from auditor.service.db import Audit, AuditArtifact, AuditMetric, Model

DECISIONS_PARAMS: dict[str, Any] = {
    "data_file": "data.csv",
    "target": "credit",
    "sensitive": ["sex", "age_group"],
    "prediction": "decision",
    "pos_label": "1",
}


def decisions_csv(path: Path, rows: int = 300, seed: int = 0) -> Path:
    """A decision log: credit (1 good, 0 bad), sex, age_group, decision.

    Everyone under 25 has good credit: rates among actual negatives (false positive rate,
    true negative rate) are undefined for that group, which the ingest tests need.
    """
    rng = random.Random(seed)
    lines = ["credit,sex,age_group,amount,decision"]
    for _ in range(rows):
        sex = rng.choice(["female", "male", "male"])
        young = rng.random() < 0.2
        credit = 1 if young else int(rng.random() < 0.7)
        decision = credit if rng.random() < 0.75 else 1 - credit
        age = "under 25" if young else "25 and over"
        lines.append(f"{credit},{sex},{age},{rng.randint(250, 9000)},{decision}")
    path.write_text("\n".join(lines) + "\n")
    return path


def add_audit(
    engine: Engine,
    audits_dir: Path | None = None,
    *,
    data: Path | None = None,
    params: dict[str, Any] | None = None,
    created_at: datetime | None = None,
    max_attempts: int = 2,
    model_name: str = "credit-model",
) -> str:
    """A queued audit; with ``audits_dir``, ``data`` is copied to its inputs/ as the data file."""
    params = {**DECISIONS_PARAMS, **(params or {})}
    with transaction(session_factory(engine)) as session:
        model = session.scalar(select(Model).where(Model.name == model_name))
        if model is None:
            model = Model(name=model_name)
            session.add(model)
            session.flush()
        audit = Audit(
            model_id=model.id,
            policy_name="default",
            data_sha256="0" * 64,
            params=params,
            engine_version="test",
            max_attempts=max_attempts,
        )
        if created_at is not None:
            audit.created_at = created_at
        session.add(audit)
        session.flush()
        audit_id = audit.id
    if audits_dir is not None and data is not None:
        inputs = storage.inputs_dir(audits_dir, audit_id)
        inputs.mkdir(parents=True)
        raw = data.read_bytes()
        (inputs / params["data_file"]).write_bytes(raw)
        with transaction(session_factory(engine)) as session:
            session.get_one(Audit, audit_id).data_sha256 = hashlib.sha256(raw).hexdigest()
    return audit_id


def get_audit(engine: Engine, audit_id: str) -> Audit:
    with transaction(session_factory(engine)) as session:
        return session.get_one(Audit, audit_id)


def metrics_of(engine: Engine, audit_id: str) -> list[AuditMetric]:
    with transaction(session_factory(engine)) as session:
        query = select(AuditMetric).where(AuditMetric.audit_id == audit_id)
        return list(session.scalars(query))


def artifacts_of(engine: Engine, audit_id: str) -> list[AuditArtifact]:
    with transaction(session_factory(engine)) as session:
        query = select(AuditArtifact).where(AuditArtifact.audit_id == audit_id)
        return list(session.scalars(query))


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll ``condition`` until it holds; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def wait_for_status(
    engine: Engine, audit_id: str, statuses: tuple[str, ...], timeout: float
) -> Audit:
    """The audit once its status is one of ``statuses`` (AssertionError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while (audit := get_audit(engine, audit_id)).status not in statuses:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"audit still {audit.status} after {timeout:g} s, not {'/'.join(statuses)}: "
                f"{audit.error_type} {audit.error_detail}"
            )
        time.sleep(0.05)
    return audit
