"""Bearer tokens: made with ``secrets``, stored as SHA-256 only, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from auditor.service.db import SCOPES, ApiToken, as_utc, utcnow

# A scope grants the scopes below it: admin can submit and read, submit can read.
IMPLIED = {"read": {"read"}, "submit": {"read", "submit"}, "admin": {"read", "submit", "admin"}}
PREFIX = "aud_"  # lets secret scanners and people recognise a leaked token
USE_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    scopes: frozenset[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, scope: str, name: str) -> tuple[TokenInfo, str]:
    """A new token of ``scope``; returns its record and the secret (shown once, never stored)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; choose from {', '.join(SCOPES)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_sha256=digest(secret), scopes=" ".join(sorted(IMPLIED[scope])))
    session.add(row)
    session.flush()
    return _info(row), secret


def list_tokens(session: Session) -> list[TokenInfo]:
    return [_info(t) for t in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(session: Session, token_id: int) -> bool:
    """Revoke a token by id; False when there is no such token (or it was already revoked)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def has_active_tokens(session: Session) -> bool:
    return (
        session.scalar(select(ApiToken.id).where(ApiToken.revoked_at.is_(None)).limit(1))
        is not None
    )


def authenticate(session: Session, secret: str) -> TokenInfo | None:
    """The live token whose secret this is, or None. Only reads: see ``record_use``.

    The lookup is by the SHA-256 of the presented secret (an index probe that reveals nothing
    about stored secrets), then the digests are compared with ``hmac.compare_digest``.
    """
    presented = digest(secret)
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == presented))
    if row is None or not hmac.compare_digest(row.token_sha256, presented):
        return None
    if row.revoked_at is not None:
        return None
    return _info(row)


def use_due(token: TokenInfo, now: datetime | None = None) -> bool:
    """True when the token's ``last_used_at`` is older than ``USE_RESOLUTION`` (or unset)."""
    if token.last_used_at is None:
        return True
    return (now or utcnow()) - as_utc(token.last_used_at) >= USE_RESOLUTION


def record_use(session: Session, token_id: int, now: datetime | None = None) -> bool:
    """Set the token's ``last_used_at`` to now unless another request did within the minute.

    One conditional UPDATE, so concurrent requests of one token write it once. True if written.
    """
    moment = now or utcnow()
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= moment - USE_RESOLUTION,
            ),
        )
        .values(last_used_at=moment)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        scopes=frozenset(row.scopes.split()),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
