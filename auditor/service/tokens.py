"""Bearer tokens: made with ``secrets``, stored as SHA-256 only, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.service.db import SCOPES, ApiToken, utcnow

# A scope grants the scopes below it: admin can submit and read, submit can read.
IMPLIED = {"read": {"read"}, "submit": {"read", "submit"}, "admin": {"read", "submit", "admin"}}
PREFIX = "aud_"  # lets secret scanners and people recognise a leaked token


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
    """The live token whose secret this is, or None; marks it used.

    The lookup is by the SHA-256 of the presented secret (an index probe that reveals nothing
    about stored secrets), then the digests are compared with ``hmac.compare_digest``.
    """
    presented = digest(secret)
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == presented))
    if row is None or not hmac.compare_digest(row.token_sha256, presented):
        return None
    if row.revoked_at is not None:
        return None
    row.last_used_at = utcnow()
    return _info(row)


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        scopes=frozenset(row.scopes.split()),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
