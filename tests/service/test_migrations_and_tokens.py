"""Migrations, readiness and tokens, on SQLite and PostgreSQL; the service's CLI commands."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, update

from auditor.cli import main
from auditor.service import migrate
from auditor.service.app import create_app
from auditor.service.database import make_engine, session_factory, transaction
from auditor.service.db import ApiToken, utcnow
from auditor.service.serve import is_loopback, prepare_database
from auditor.service.settings import ServiceSettings
from auditor.service.tokens import (
    authenticate,
    create_token,
    digest,
    list_tokens,
    record_use,
    revoke_token,
    use_due,
)
from tests.service.conftest import bearer

TABLES = {"api_tokens", "models", "audits", "audit_metrics", "audit_artifacts"}


def test_upgrade_on_an_empty_database_then_models_and_schema_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    assert not migrate.is_current(engine)
    migrate.upgrade(db_url)
    assert migrate.is_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    command.check(migrate.alembic_config(db_url))  # raises if db.py and the migrations differ
    migrate.upgrade(db_url)  # idempotent
    engine.dispose()


def test_readyz_is_503_while_migrations_are_behind(settings: ServiceSettings) -> None:
    behind = settings.model_copy(update={"migrate": False})
    migrate.upgrade(settings.url)
    command.downgrade(migrate.alembic_config(settings.url), "base")
    refusing = TestClient(create_app(behind), base_url="http://testserver")
    with pytest.raises(RuntimeError, match="schema is behind"), refusing:  # --no-migrate
        pass
    app = create_app(settings)  # migrates at start-up
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get("/readyz").status_code == 200
        command.downgrade(migrate.alembic_config(settings.url), "base")
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert client.get("/healthz").status_code == 200


def test_readyz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    settings = ServiceSettings(
        data_dir=tmp_path / "d",
        database_url="postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1",
        migrate=False,
        trusted_hosts=["testserver"],
    )
    app = create_app(settings)  # no lifespan: the app itself must survive a dead database
    client = TestClient(app, base_url="http://testserver")
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_tokens_are_hashed_scoped_and_revocable(migrated: ServiceSettings) -> None:
    sessions = session_factory(make_engine(migrated.url))
    with transaction(sessions) as session:
        info, secret = create_token(session, "submit", "ci")
    assert info.scopes == {"read", "submit"}
    with transaction(sessions) as session:
        stored = [t for t in list_tokens(session) if t.id == info.id]
        assert stored and stored[0].last_used_at is None
        assert authenticate(session, secret) is not None
        assert authenticate(session, secret + "x") is None
        assert authenticate(session, "") is None
    with transaction(sessions) as session:
        assert revoke_token(session, info.id)
        assert not revoke_token(session, info.id)
    with transaction(sessions) as session:
        assert authenticate(session, secret) is None
    # Only the digest is stored: the secret appears nowhere in the database file.
    if migrated.url.startswith("sqlite"):
        assert secret.encode() not in Path(migrated.url.removeprefix("sqlite:///")).read_bytes()


def test_last_used_at_is_written_at_most_once_a_minute(
    client: TestClient, tokens: dict[str, str]
) -> None:
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    where = ApiToken.token_sha256 == digest(tokens["read"])

    def last_used() -> object:
        with transaction(sessions) as session:
            return session.scalar(select(ApiToken.last_used_at).where(where))

    with transaction(sessions) as session:  # authenticating only reads
        token = authenticate(session, tokens["read"])
    assert token is not None and use_due(token) and last_used() is None
    assert client.get("/api/v1/policies", headers=bearer(tokens["read"])).status_code == 200
    first = last_used()
    assert first is not None
    assert client.get("/api/v1/policies", headers=bearer(tokens["read"])).status_code == 200
    assert last_used() == first  # within the minute: not written again
    with transaction(sessions) as session:
        token = authenticate(session, tokens["read"])
        assert token is not None and not use_due(token)
        assert not record_use(session, token.id)  # the conditional UPDATE matches nothing
        session.execute(
            update(ApiToken).where(where).values(last_used_at=utcnow() - timedelta(minutes=2))
        )
    assert client.get("/api/v1/policies", headers=bearer(tokens["read"])).status_code == 200
    latest = last_used()
    assert latest is not None and latest != first


def test_token_commands_print_the_secret_once_and_list_without_it(tmp_path: Path) -> None:
    runner = CliRunner()
    data_dir = str(tmp_path / "d")
    created = runner.invoke(
        main, ["token", "create", "--scope", "read", "--name", "dash", "--data-dir", data_dir]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("aud_") and len(secret) > 40
    listed = runner.invoke(main, ["token", "list", "--data-dir", data_dir])
    assert listed.exit_code == 0 and "dash" in listed.output and secret not in listed.output
    assert runner.invoke(main, ["token", "revoke", "1", "--data-dir", data_dir]).exit_code == 0
    again = runner.invoke(main, ["token", "revoke", "1", "--data-dir", data_dir])
    assert again.exit_code == 2 and "no active token" in again.output
    bad = runner.invoke(main, ["token", "create", "--scope", "root", "--data-dir", data_dir])
    assert bad.exit_code == 2


def test_a_non_loopback_bind_without_a_token_is_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    data_dir = str(tmp_path / "d")
    refused = runner.invoke(main, ["serve", "--host", "0.0.0.0", "--data-dir", data_dir])
    assert refused.exit_code == 2
    assert "auditor token create" in refused.output
    settings = ServiceSettings(data_dir=tmp_path / "d", host="0.0.0.0")
    runner.invoke(main, ["token", "create", "--scope", "admin", "--data-dir", data_dir])
    prepare_database(settings)  # with a token it may listen


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
