"""The job state machine on a real database of each dialect: claim, lease, requeue, finish,
release."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import OperationalError

from auditor.service import jobs
from auditor.service.database import POSTGRES_CONNECT_ARGS, make_engine
from auditor.service.db import Audit, utcnow
from auditor.service.jobs import (
    WORKER_LOST,
    ArtifactRow,
    Lease,
    MetricRow,
    Outcome,
    claim,
    finish,
    release,
    renew,
    requeue_expired,
)
from auditor.service.settings import ServiceSettings
from tests.service.factories import add_audit, artifacts_of, get_audit, metrics_of

EXPIRED = -1.0  # a lease that is over as soon as it is taken: no sleeping in these tests


@pytest.fixture
def engine(migrated: ServiceSettings) -> Iterator[Engine]:
    engine = make_engine(migrated.url)
    yield engine
    engine.dispose()


def as_naive(value: datetime | None) -> datetime:
    # SQLite hands back naive UTC datetimes, PostgreSQL aware ones: compare them alike.
    assert value is not None
    return value.replace(tzinfo=None)


def test_claim_takes_the_oldest_queued_audit_and_takes_its_lease(engine: Engine) -> None:
    t0 = utcnow()
    middle = add_audit(engine, created_at=t0 + timedelta(seconds=1))
    newest = add_audit(engine, created_at=t0 + timedelta(seconds=2))
    oldest = add_audit(engine, created_at=t0)

    assert claim(engine, "w1", 60) == oldest
    assert claim(engine, "w2", 60) == middle
    assert claim(engine, "w1", 60) == newest
    assert claim(engine, "w1", 60) is None

    audit = get_audit(engine, oldest)
    assert (audit.status, audit.lease_owner, audit.attempts) == ("running", "w1", 1)
    assert audit.started_at is not None and audit.heartbeat_at is not None
    assert audit.lease_expires_at is not None
    lease = as_naive(audit.lease_expires_at) - as_naive(audit.started_at)
    assert lease == timedelta(seconds=60)
    assert get_audit(engine, middle).lease_owner == "w2"


def test_concurrent_claims_take_each_audit_exactly_once(engine: Engine) -> None:
    ids = {add_audit(engine) for _ in range(30)}
    start = threading.Barrier(8)
    claimed: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        mine = claimed.setdefault(worker, [])
        try:
            start.wait()
            while (audit_id := claim(engine, worker, 60)) is not None:
                mine.append(audit_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    everything = [audit_id for taken in claimed.values() for audit_id in taken]
    assert Counter(everything) == Counter(ids)  # each one once, none lost
    for worker, taken in claimed.items():
        for audit_id in taken:
            audit = get_audit(engine, audit_id)
            assert (audit.status, audit.lease_owner, audit.attempts) == ("running", worker, 1)


def test_expired_lease_is_requeued_then_fails_as_worker_lost(engine: Engine) -> None:
    audit_id = add_audit(engine, max_attempts=2)
    healthy = add_audit(engine, created_at=utcnow() + timedelta(seconds=1))
    assert claim(engine, "dead", EXPIRED) == audit_id
    assert claim(engine, "alive", 60) == healthy

    assert requeue_expired(engine) == (1, 0)
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.lease_owner, audit.attempts) == ("queued", None, 1)
    assert audit.lease_expires_at is None
    assert get_audit(engine, healthy).status == "running"  # its lease is still good

    assert claim(engine, "dead-too", EXPIRED) == audit_id
    assert requeue_expired(engine) == (0, 1)
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.error_type, audit.attempts) == ("failed", WORKER_LOST, 2)
    assert audit.finished_at is not None and audit.error_detail
    assert requeue_expired(engine) == (0, 0)
    assert get_audit(engine, healthy).status == "running"


def test_expired_lease_with_a_pending_cancel_is_canceled_not_rerun(engine: Engine) -> None:
    audit_id = add_audit(engine)
    claim(engine, "dead", EXPIRED)
    with engine.begin() as connection:
        connection.execute(update(Audit).values(cancel_requested=True))
    assert requeue_expired(engine) == (0, 1)
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.finished_at is not None) == ("canceled", True)


def test_renew_extends_the_lease_and_reports_cancel_and_loss(engine: Engine) -> None:
    audit_id = add_audit(engine)
    claim(engine, "w1", EXPIRED)
    assert renew(engine, audit_id, "w1", 60) == Lease(owned=True, cancel_requested=False)
    assert requeue_expired(engine) == (0, 0)  # renewed: no longer expired

    with engine.begin() as connection:
        connection.execute(update(Audit).values(cancel_requested=True))
    assert renew(engine, audit_id, "w1", 60) == Lease(owned=True, cancel_requested=True)
    assert renew(engine, audit_id, "w2", 60).owned is False


def test_finish_is_refused_to_a_worker_that_lost_its_lease(engine: Engine) -> None:
    audit_id = add_audit(engine)
    claim(engine, "stale", EXPIRED)
    requeue_expired(engine)
    assert claim(engine, "fresh", 60) == audit_id
    outcome = Outcome(status="succeeded", verdict="pass", exit_code=0, checks=1, failed=0)
    metrics = [MetricRow(metric="fairness.selection_rate", group_key="sex=f", value=0.5)]
    artifact = ArtifactRow(
        name="audit.json", media_type="application/json", size=2, sha256="a" * 64, relpath="x"
    )

    assert finish(engine, audit_id, "stale", outcome, metrics, [artifact]) is False
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.verdict, audit.lease_owner) == ("running", None, "fresh")
    assert metrics_of(engine, audit_id) == [] and artifacts_of(engine, audit_id) == []
    assert renew(engine, audit_id, "stale", 60).owned is False

    assert finish(engine, audit_id, "fresh", outcome, metrics, [artifact]) is True
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.verdict, audit.exit_code, audit.checks) == (
        "succeeded",
        "pass",
        0,
        1,
    )
    assert audit.finished_at is not None and audit.lease_expires_at is None
    [row] = metrics_of(engine, audit_id)
    assert (row.metric, row.group_key, row.value, row.model_id) == (
        "fairness.selection_rate",
        "sex=f",
        0.5,
        audit.model_id,
    )
    assert as_naive(row.created_at) == as_naive(audit.created_at)  # the trend's time axis
    assert [a.name for a in artifacts_of(engine, audit_id)] == ["audit.json"]
    assert finish(engine, audit_id, "fresh", outcome) is False  # finished once only


def test_release_puts_the_job_back_without_counting_the_attempt(engine: Engine) -> None:
    audit_id = add_audit(engine)
    claim(engine, "w1", 60)
    assert release(engine, audit_id, "w2") is False  # not w2's to give back
    assert release(engine, audit_id, "w1") is True
    audit = get_audit(engine, audit_id)
    assert (audit.status, audit.attempts, audit.lease_owner, audit.started_at) == (
        "queued",
        0,
        None,
        None,
    )
    assert claim(engine, "w2", 60) == audit_id
    assert get_audit(engine, audit_id).attempts == 1


def test_release_with_a_pending_cancel_cancels(engine: Engine) -> None:
    audit_id = add_audit(engine)
    claim(engine, "w1", 60)
    with engine.begin() as connection:
        connection.execute(update(Audit).values(cancel_requested=True))
    assert release(engine, audit_id, "w1") is True
    assert get_audit(engine, audit_id).status == "canceled"
    assert claim(engine, "w1", 60) is None


def test_leases_follow_the_database_clock_on_postgresql(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite is on one host by nature: it keeps the worker's clock")
    # A worker whose clock is two hours ahead must neither take a longer lease nor find a
    # healthy worker's lease expired.
    monkeypatch.setattr(jobs, "utcnow", lambda: datetime.now(UTC) + timedelta(hours=2))
    audit_id = add_audit(engine)
    assert claim(engine, "w1", 60) == audit_id
    with engine.connect() as connection:
        db_now = connection.scalar(select(text("now()")))
    audit = get_audit(engine, audit_id)
    assert audit.lease_expires_at is not None and audit.started_at is not None
    assert audit.lease_expires_at.tzinfo is not None  # timestamptz: an instant, in UTC
    assert abs(audit.lease_expires_at - (db_now + timedelta(seconds=60))) < timedelta(seconds=5)
    assert requeue_expired(engine) == (0, 0)
    assert renew(engine, audit_id, "w1", 60).owned
    renewed = get_audit(engine, audit_id).lease_expires_at
    assert renewed is not None and renewed - db_now < timedelta(seconds=65)
    assert finish(engine, audit_id, "w1", Outcome(status="canceled"))
    finished_at = get_audit(engine, audit_id).finished_at
    assert finished_at is not None and finished_at - db_now < timedelta(minutes=1)


def test_renew_gives_up_on_a_locked_row_within_its_timeout(engine: Engine) -> None:
    # A heartbeat must not wait on the database longer than a beat (here: a lock).
    audit_id = add_audit(engine)
    claim(engine, "w1", 60)
    with engine.connect() as holder:
        if engine.dialect.name == "sqlite":
            holder.exec_driver_sql("SELECT 1")  # the BEGIN IMMEDIATE takes the write lock
        else:
            holder.execute(select(Audit.id).where(Audit.id == audit_id).with_for_update())
        started = time.monotonic()
        with pytest.raises(OperationalError):
            renew(engine, audit_id, "w1", 60, timeout_ms=200)
        assert time.monotonic() - started < 5
        holder.rollback()
    assert renew(engine, audit_id, "w1", 60, timeout_ms=200).owned


def test_postgresql_connections_time_out_and_keep_alive(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with engine.connect() as connection:
        parameters = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
    for name, value in POSTGRES_CONNECT_ARGS.items():
        assert parameters.get(name) == str(value), name
    # A value in the URL wins.
    own = make_engine(f"{engine.url.render_as_string(hide_password=False)}?connect_timeout=3")
    try:
        with own.connect() as connection:
            info = connection.connection.dbapi_connection.info  # type: ignore[union-attr]
            assert info.get_parameters()["connect_timeout"] == "3"
    finally:
        own.dispose()
