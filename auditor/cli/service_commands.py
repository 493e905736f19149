"""`auditor serve` and `auditor token create|list|revoke`: the service's two commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from auditor.cli.common import exits_cleanly

DEFAULT_DATA_DIR = Path("auditor-data")


def _storage_options(command: Any) -> Any:
    """--data-dir and --database-url, shared by serve and token (the same defaults)."""
    command = click.option(
        "--database-url",
        envvar="AUDITOR_DATABASE_URL",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db [default: SQLite in the "
        "data dir].",
    )(command)
    return click.option(
        "--data-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_DATA_DIR,
        envvar="AUDITOR_DATA_DIR",
        show_default=True,
        help="Uploads, reports and the SQLite database.",
    )(command)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@_storage_options
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Worker processes running audits (0: the API only).",
)
@click.option(
    "--trusted-host",
    "trusted_hosts",
    multiple=True,
    help="Host header to accept (repeat); loopback names and --host are always accepted.",
)
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    envvar="AUDITOR_RETENTION_DAYS",
    help="Delete finished audits (rows and files) created more than N days ago [default: "
    "keep every audit].",
)
@click.option("--no-migrate", is_flag=True, help="Refuse to start if the schema is behind.")
@click.option("--fd", type=int, hidden=True, help="Listen on this inherited socket (tests).")
@exits_cleanly
def serve(
    host: str,
    port: int,
    data_dir: Path,
    database_url: str | None,
    workers: int,
    trusted_hosts: tuple[str, ...],
    retention_days: int | None,
    no_migrate: bool,
    fd: int | None,
) -> None:
    """Start the auditing service: the API (/api/v1), pages (/ui) and the workers.

    Every endpoint but /healthz and /readyz needs a token: `auditor token create --scope
    submit` (same --data-dir / --database-url). Listening on anything but loopback is refused
    while no token exists.
    """
    from auditor.service.serve import serve as run
    from auditor.service.settings import ServiceSettings

    hosts = ["127.0.0.1", "localhost", "[::1]", host, *trusted_hosts]
    settings = ServiceSettings(
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        workers=workers,
        trusted_hosts=list(dict.fromkeys(hosts)),
        retention_days=retention_days,
        migrate=not no_migrate,
    )
    click.echo(
        f"auditor serve: http://{host}:{port}/ui  (API /api/v1, docs /docs; data in "
        f"{data_dir.resolve()}; {workers} worker(s))",
        err=True,
    )
    run(settings, fd=fd)


@click.group()
def token() -> None:
    """Create, list and revoke the service's API tokens."""


def _sessions(data_dir: Path, database_url: str | None) -> Any:
    from auditor.service import migrate
    from auditor.service.database import make_engine, session_factory
    from auditor.service.settings import ServiceSettings

    settings = ServiceSettings(data_dir=data_dir, database_url=database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.url)
    return session_factory(make_engine(settings.url))


@token.command("create")
@click.option(
    "--scope",
    type=click.Choice(["read", "submit", "admin"]),
    required=True,
    help="read: history and reports; submit: also submit and cancel; admin: also delete.",
)
@click.option("--name", default="token", show_default=True, help="Who or what uses it.")
@_storage_options
@exits_cleanly
def token_create(scope: str, name: str, data_dir: Path, database_url: str | None) -> None:
    """Print a new token once (only its SHA-256 is stored: keep it now)."""
    from auditor.service.database import transaction
    from auditor.service.tokens import create_token

    with transaction(_sessions(data_dir, database_url)) as session:
        info, secret = create_token(session, scope, name)
    click.echo(f"created token {info.id} '{name}' with scopes {sorted(info.scopes)}", err=True)
    click.echo(secret)


@token.command("list")
@_storage_options
@exits_cleanly
def token_list(data_dir: Path, database_url: str | None) -> None:
    """List tokens (never their secrets)."""
    from auditor.service.database import transaction
    from auditor.service.tokens import list_tokens

    with transaction(_sessions(data_dir, database_url)) as session:
        tokens = list_tokens(session)
    if not tokens:
        click.echo("no tokens; create one with `auditor token create --scope read`")
        return
    click.echo(f"{'id':>4}  {'name':20}  {'scopes':20}  {'created':20}  {'last used':20}  state")
    for t in tokens:
        state = "revoked" if t.revoked_at else "active"
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never"
        click.echo(
            f"{t.id:>4}  {t.name[:20]:20}  {' '.join(sorted(t.scopes)):20}  "
            f"{t.created_at.strftime('%Y-%m-%d %H:%M'):20}  {used:20}  {state}"
        )


@token.command("revoke")
@click.argument("token_id", type=int)
@_storage_options
@exits_cleanly
def token_revoke(token_id: int, data_dir: Path, database_url: str | None) -> None:
    """Revoke the token with this id (see `auditor token list`)."""
    from auditor.errors import UsageError
    from auditor.service.database import transaction
    from auditor.service.tokens import revoke_token

    with transaction(_sessions(data_dir, database_url)) as session:
        done = revoke_token(session, token_id)
    if not done:
        raise UsageError(f"no active token with id {token_id} (see `auditor token list`).")
    click.echo(f"revoked token {token_id}")
