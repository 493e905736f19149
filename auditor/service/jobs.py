"""The job state machine on the ``audits`` table: claim, lease, requeue, finish, release.

``queued -> running -> succeeded | failed | canceled``. A worker owns a running audit while
``lease_owner`` names it; it renews the lease while the audit runs, and every write after the
claim requires that it still owns it, so a worker that lost its lease (it stalled, another
worker requeued the job) can never overwrite the work of the next one. Expired leases are
swept by every worker on every poll: back to the queue while attempts remain, else
``failed/worker_lost``.

Lease times come from one clock, whatever the workers' clocks say: on PostgreSQL the
database's (``now()``, ``now() + interval``), so that a worker whose clock runs ahead can never
requeue the job of a healthy one; on SQLite (one host by nature, and no time zone type) Python's
UTC clock, passed as parameters. Either way the stored values are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    Float,
    Interval,
    String,
    bindparam,
    delete,
    func,
    insert,
    literal,
    text,
    update,
)
from sqlalchemy.engine import Connection

from auditor.service.database import LOCK_WAIT_MS
from auditor.service.db import Audit, AuditArtifact, AuditMetric, utcnow

WORKER_LOST = "worker_lost"

# One statement per dialect (SERVICE.md): the claim must take a queued row no other worker
# takes. PostgreSQL skips rows another claim has locked; SQLite has one writer at a time (every
# transaction starts with BEGIN IMMEDIATE, see database.py), and SQLAlchemy would silently drop
# skip_locked there, so the two are written out rather than generated.
_CLAIM_SQL = {
    "postgresql": """
        UPDATE audits SET status = 'running', lease_owner = :worker,
            lease_expires_at = now() + make_interval(secs => :ttl),
            started_at = now(), heartbeat_at = now(), attempts = attempts + 1
        WHERE id = (
            SELECT id FROM audits WHERE status = 'queued' ORDER BY created_at, id LIMIT 1
            FOR UPDATE SKIP LOCKED
        ) AND status = 'queued'
        RETURNING id
    """,
    "sqlite": """
        UPDATE audits SET status = 'running', lease_owner = :worker, lease_expires_at = :expires,
            started_at = :now, heartbeat_at = :now, attempts = attempts + 1
        WHERE id = (
            SELECT id FROM audits WHERE status = 'queued' ORDER BY created_at, id LIMIT 1
        ) AND status = 'queued'
        RETURNING id
    """,
}


class Lease(NamedTuple):
    """The answer to a heartbeat: does this worker still own the audit, should it stop it."""

    owned: bool
    cancel_requested: bool


class Swept(NamedTuple):
    """What :func:`requeue_expired` did with the running audits whose lease had expired."""

    requeued: int
    ended: int  # failed/worker_lost (attempts used up) or canceled (a cancel was pending)


@dataclass(frozen=True)
class Outcome:
    """The final state of an audit, as the worker decided it from its child process."""

    status: str  # succeeded | failed | canceled
    verdict: str | None = None
    exit_code: int | None = None
    error_type: str | None = None
    error_detail: str | None = None
    checks: int | None = None
    failed: int | None = None
    inconclusive: int | None = None


@dataclass(frozen=True)
class MetricRow:
    """One row of ``audit_metrics`` before it knows its audit (see ``ingest``)."""

    metric: str
    group_key: str
    reference_group: str | None = None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    verdict: str | None = None
    threshold_min: float | None = None
    threshold_max: float | None = None


@dataclass(frozen=True)
class ArtifactRow:
    """One row of ``audit_artifacts`` before it knows its audit."""

    name: str
    media_type: str
    size: int
    sha256: str
    relpath: str


def claim(engine: Engine, worker_id: str, lease_seconds: float) -> str | None:
    """Make the oldest queued audit running under ``worker_id``; its id, or None if none."""
    params: dict[str, Any] = {"worker": worker_id}
    if engine.dialect.name == "postgresql":  # the database's clock (see the module docstring)
        statement = text(_CLAIM_SQL["postgresql"]).bindparams(
            bindparam("worker", type_=String), bindparam("ttl", type_=Float)
        )
        params["ttl"] = float(lease_seconds)
    else:
        statement = text(_CLAIM_SQL[engine.dialect.name]).bindparams(
            bindparam("worker", type_=String),
            bindparam("now", type_=DateTime(timezone=True)),
            bindparam("expires", type_=DateTime(timezone=True)),
        )
        now = utcnow()
        params |= {"now": now, "expires": now + timedelta(seconds=lease_seconds)}
    with engine.begin() as connection:
        row = connection.execute(statement, params).first()
    return None if row is None else str(row[0])


def _now(engine: Engine, plus_seconds: float = 0.0) -> ColumnElement[datetime]:
    """Now (plus ``plus_seconds``): the database's ``now()`` on PostgreSQL, else Python's UTC
    clock (SQLite has no date arithmetic on our stored values)."""
    delta = timedelta(seconds=plus_seconds)
    if engine.dialect.name == "postgresql":
        return func.now() + literal(delta, Interval()) if delta else func.now()
    return literal(utcnow() + delta, DateTime(timezone=True))


def _bounded(connection: Connection, timeout_ms: int | None) -> None:
    """On PostgreSQL, end this transaction's statements and lock waits after ``timeout_ms``
    (SQLite's equivalent, the busy timeout, is an execution option: see ``database``)."""
    if timeout_ms is not None and connection.dialect.name == "postgresql":
        wait = f"{timeout_ms}ms"
        connection.execute(
            text(
                "SELECT set_config('statement_timeout', :wait, true),"
                " set_config('lock_timeout', :wait, true)"
            ),
            {"wait": wait},
        )


def _owned(audit_id: str, worker_id: str) -> tuple[ColumnElement[bool], ...]:
    """The condition of every write after the claim: the audit is running under this worker."""
    return (Audit.id == audit_id, Audit.lease_owner == worker_id, Audit.status == "running")


def renew(
    engine: Engine,
    audit_id: str,
    worker_id: str,
    lease_seconds: float,
    *,
    timeout_ms: int | None = None,
) -> Lease:
    """Extend the lease (a heartbeat); says whether it is still ours and whether to cancel.

    ``timeout_ms`` bounds the wait for locks and the statement (``OperationalError`` past
    it): a heartbeat that hangs on the database would outlive the lease it renews.
    """
    statement = (
        update(Audit)
        .where(*_owned(audit_id, worker_id))
        .values(lease_expires_at=_now(engine, lease_seconds), heartbeat_at=_now(engine))
        .returning(Audit.cancel_requested)
    )
    options = {} if timeout_ms is None else {LOCK_WAIT_MS: timeout_ms}
    with engine.execution_options(**options).begin() as connection:
        _bounded(connection, timeout_ms)
        row = connection.execute(statement).first()
    if row is None:
        return Lease(owned=False, cancel_requested=False)
    return Lease(owned=True, cancel_requested=bool(row[0]))


def requeue_expired(engine: Engine) -> Swept:
    """Running audits whose lease expired: queued again while attempts remain, else failed.

    A worker that died (SIGKILL, out of memory, lost machine) stops renewing; this brings its
    audit back, so no audit stays running forever. One whose cancel was pending is canceled
    rather than run again.
    """
    now = _now(engine)
    expired = [Audit.status == "running", Audit.lease_expires_at < now]
    done = {"lease_expires_at": None, "finished_at": now}
    with engine.begin() as connection:
        canceled = connection.execute(
            update(Audit)
            .where(*expired, Audit.cancel_requested.is_(True))
            .values(status="canceled", **done)
        ).rowcount
        requeued = connection.execute(
            update(Audit)
            .where(*expired, Audit.attempts < Audit.max_attempts)
            .values(status="queued", lease_owner=None, lease_expires_at=None, heartbeat_at=None)
        ).rowcount
        lost = connection.execute(
            update(Audit)
            .where(*expired)
            .values(
                status="failed",
                error_type=WORKER_LOST,
                error_detail="the worker running this audit stopped answering "
                "(it was killed or lost its database) and no attempts are left",
                **done,
            )
        ).rowcount
    return Swept(requeued=requeued, ended=canceled + lost)


def finish(
    engine: Engine,
    audit_id: str,
    worker_id: str,
    outcome: Outcome,
    metrics: Sequence[MetricRow] = (),
    artifacts: Sequence[ArtifactRow] = (),
) -> bool:
    """Write the final state, its metrics and artefacts in one transaction, if still ours.

    Returns False, writing nothing, when the lease was lost: another worker may be running
    the audit again, and its result is the one to keep.
    """
    now = _now(engine)
    with engine.begin() as connection:
        row = connection.execute(
            update(Audit)
            .where(*_owned(audit_id, worker_id))
            .values(**asdict(outcome), finished_at=now, lease_expires_at=None)
            .returning(Audit.model_id, Audit.created_at)
        ).first()
        if row is None:
            return False
        model_id, created_at = row
        # Nothing of an earlier attempt can be here (only a final write adds rows), but a
        # rerun after a restored backup must not duplicate rows.
        connection.execute(delete(AuditMetric).where(AuditMetric.audit_id == audit_id))
        connection.execute(delete(AuditArtifact).where(AuditArtifact.audit_id == audit_id))
        if metrics:
            keys = {"audit_id": audit_id, "model_id": model_id, "created_at": created_at}
            connection.execute(insert(AuditMetric), [{**keys, **asdict(m)} for m in metrics])
        if artifacts:
            rows = [{"audit_id": audit_id, **asdict(a)} for a in artifacts]
            connection.execute(insert(AuditArtifact), rows)
    return True


def release(engine: Engine, audit_id: str, worker_id: str) -> bool:
    """Give a running audit back (the worker is shutting down): queued again, the attempt
    not counted; canceled instead if a cancel was pending. False if it was not ours."""
    now = _now(engine)
    with engine.begin() as connection:
        canceled = connection.execute(
            update(Audit)
            .where(*_owned(audit_id, worker_id), Audit.cancel_requested.is_(True))
            .values(status="canceled", finished_at=now, lease_expires_at=None)
        ).rowcount
        requeued = connection.execute(
            update(Audit)
            .where(*_owned(audit_id, worker_id))
            .values(
                status="queued",
                attempts=Audit.attempts - 1,
                lease_owner=None,
                lease_expires_at=None,
                heartbeat_at=None,
                started_at=None,
            )
        ).rowcount
    return bool(canceled or requeued)
