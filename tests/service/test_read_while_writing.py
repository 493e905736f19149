"""Reads never queue behind a writer: GETs, pages, the token check and /readyz while another
connection holds the write lock (SQLite: ``BEGIN IMMEDIATE`` on a raw sqlite3 connection;
PostgreSQL: the tables locked against writes). Write transactions still take the lock up front.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from auditor.service.database import read_transaction, transaction
from auditor.service.db import ApiToken, Audit
from auditor.service.settings import ServiceSettings
from auditor.service.tokens import digest
from tests.service.api_helpers import add_audit
from tests.service.conftest import bearer

QUICK_S = 1.0


@contextmanager
def write_lock(url: str) -> Iterator[None]:
    """Another connection holds the database's write lock until the block ends."""
    if url.startswith("sqlite"):
        raw = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
        try:
            raw.execute("BEGIN IMMEDIATE")
            yield
            raw.execute("ROLLBACK")
        finally:
            raw.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as other:
            other.execute(text("LOCK TABLE api_tokens, audits, models IN EXCLUSIVE MODE"))
            yield
            other.rollback()
    finally:
        engine.dispose()


def timed_get(client: TestClient, url: str, headers: dict[str, str]) -> httpx.Response:
    started = time.monotonic()
    response = client.get(url, headers=headers)
    elapsed = time.monotonic() - started
    assert elapsed < QUICK_S, f"{url} took {elapsed:.2f} s behind a writer"
    return response


def last_used(client: TestClient, secret: str) -> object:
    with read_transaction(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        return session.scalar(
            select(ApiToken.last_used_at).where(ApiToken.token_sha256 == digest(secret))
        )


def test_reads_answer_while_a_writer_holds_the_lock(
    client: TestClient, tokens: dict[str, str], migrated: ServiceSettings
) -> None:
    audit_id = add_audit(client, status="succeeded", verdict="pass")
    read = bearer(tokens["read"])
    assert last_used(client, tokens["read"]) is None  # fresh: its first use is due to be recorded
    with write_lock(migrated.url):
        for url in ("/api/v1/audits", f"/api/v1/audits/{audit_id}", "/api/v1/models"):
            response = timed_get(client, url, read)
            assert response.status_code == 200, response.text
        page = timed_get(client, "/ui/audits", read)
        assert page.status_code == 200 and audit_id[:8] in page.text
        assert last_used(client, tokens["read"]) is None  # skipped while locked, not waited for
    assert client.get("/api/v1/audits", headers=read).status_code == 200
    assert last_used(client, tokens["read"]) is not None  # recorded by the next request


def test_readyz_answers_while_a_writer_holds_the_lock(
    client: TestClient, migrated: ServiceSettings
) -> None:
    with write_lock(migrated.url):
        response = timed_get(client, "/readyz", {})
    assert response.status_code == 200, response.text


def test_write_transactions_still_take_the_lock_at_their_start(
    client: TestClient, migrated: ServiceSettings
) -> None:
    if not migrated.url.startswith("sqlite"):
        pytest.skip("PostgreSQL locks rows, not the database, at a transaction's start")
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    with write_lock(migrated.url):
        with read_transaction(sessions) as session:
            assert session.scalar(select(Audit.id).limit(1)) is None
        started = time.monotonic()
        with (
            pytest.raises(OperationalError, match="locked"),
            transaction(sessions, lock_wait_ms=200) as session,
        ):
            session.scalar(select(Audit.id).limit(1))  # a read, but under BEGIN IMMEDIATE
        assert 0.15 < time.monotonic() - started < QUICK_S
    with transaction(sessions) as session:  # the busy timeout is back to normal afterwards
        assert session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
