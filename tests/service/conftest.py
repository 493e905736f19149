"""Fixtures of the service tests: every database test runs on SQLite and on PostgreSQL.

- ``db_url``: a fresh, empty database (a file for SQLite, a new database on a PostgreSQL
  server that the tests start themselves from Debian's packages).
- ``settings``: ServiceSettings on that database and a temporary data dir.
- ``migrated``: the same settings after ``alembic upgrade head``.
- ``tokens``: one secret per scope (read, submit, admin) created in that database.
- ``client``: an httpx client on the ASGI app (fast tests, no server process).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from auditor.service import migrate
from auditor.service.database import make_engine, session_factory, transaction
from auditor.service.settings import ServiceSettings
from auditor.service.tokens import create_token
from tests.service.postgres import PostgresServer, postgres_bin, start_postgres

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing in CI: scripts/ensure-system-deps.sh installs it")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each dialect."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'auditor.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        workers=0,
        poll_seconds=0.1,
        trusted_hosts=["127.0.0.1", "localhost", "testserver"],
    )


@pytest.fixture
def migrated(settings: ServiceSettings) -> ServiceSettings:
    migrate.upgrade(settings.url)
    return settings


@pytest.fixture
def tokens(migrated: ServiceSettings) -> dict[str, str]:
    """A secret per scope: {'read': ..., 'submit': ..., 'admin': ...}."""
    engine = make_engine(migrated.url)
    out = {}
    with transaction(session_factory(engine)) as session:
        for scope in ("read", "submit", "admin"):
            out[scope] = create_token(session, scope, f"test-{scope}")[1]
    engine.dispose()
    return out


@pytest.fixture
def client(migrated: ServiceSettings) -> Iterator[httpx.Client]:
    """A synchronous httpx client on the app, through the ASGI transport (no sockets)."""
    from fastapi.testclient import TestClient

    from auditor.service.app import create_app

    with TestClient(create_app(migrated), base_url="http://testserver") as test_client:
        yield test_client


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
