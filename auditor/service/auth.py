"""Who is calling: a bearer token of the right scope on every endpoint but the health checks.

The API takes ``Authorization: Bearer <token>``. The pages, which a browser opens without
JavaScript, also take HTTP Basic with the token as the password (any user name), so the
browser's own login prompt works; both are the same token, checked the same way.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from fastapi import Request, Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from auditor.service.database import read_transaction, transaction
from auditor.service.problems import Problem
from auditor.service.tokens import TokenInfo, authenticate, record_use, use_due

USE_LOCK_WAIT_MS = 100
BEARER_DESCRIPTION = (
    "A token made by `auditor token create --scope read|submit|admin`, sent as "
    "`Authorization: Bearer <token>`. An operation's scope list names the scope it needs; "
    "admin includes submit, and submit includes read."
)
_log = logging.getLogger(__name__)


def _presented_secret(request: Request, *, allow_basic: bool) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if allow_basic and scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _challenge(allow_basic: bool) -> dict[str, str]:
    if allow_basic:
        return {"WWW-Authenticate": 'Basic realm="auditor", charset="UTF-8"'}
    return {"WWW-Authenticate": 'Bearer realm="auditor"'}


def check_token(request: Request, scope: str, *, allow_basic: bool = False) -> TokenInfo:
    """The caller's token if it is live and grants ``scope``; else Problem 401 or 403."""
    secret = _presented_secret(request, allow_basic=allow_basic)
    if secret is None:
        raise Problem(
            401,
            "This endpoint needs a token: send 'Authorization: Bearer <token>' "
            "(create one with `auditor token create --scope read`).",
            headers=_challenge(allow_basic),
        )
    sessions: sessionmaker[Session] = request.app.state.sessions
    with read_transaction(sessions) as session:
        token = authenticate(session, secret)
    if token is None:
        raise Problem(401, "The token is unknown or revoked.", headers=_challenge(allow_basic))
    _note_use(sessions, token)
    if scope not in token.scopes:
        raise Problem(
            403,
            f"The token '{token.name}' has scopes {sorted(token.scopes)}; this needs '{scope}'.",
        )
    return token


def _note_use(sessions: sessionmaker[Session], token: TokenInfo) -> None:
    """Record the token's use when it is due; skipped (not an error) if the database is busy."""
    if not use_due(token):
        return
    try:
        with transaction(sessions, lock_wait_ms=USE_LOCK_WAIT_MS) as session:
            record_use(session, token.id)
    except OperationalError as error:  # locked: a later request records the use
        _log.debug("last_used_at of token %s not recorded: %s", token.id, error)


class ScopeDependency(SecurityBase):
    """A FastAPI dependency: the caller's token, which must grant ``scope``.

    It is also a security scheme, so ``/openapi.json`` documents each operation's token as
    ``security: [{"bearer": ["<scope>"]}]`` (OpenAPI 3.1 lets a non-OAuth scheme list the roles
    it needs), which the documentation page shows.
    """

    def __init__(self, scope: str, *, allow_basic: bool) -> None:
        self.scope = scope
        self.allow_basic = allow_basic
        self.model = HTTPBearerModel(description=BEARER_DESCRIPTION)
        self.scheme_name = "bearer"

    def __call__(self, request: Request) -> TokenInfo:
        return check_token(request, self.scope, allow_basic=self.allow_basic)


def require(scope: str) -> ScopeDependency:
    """The dependency of the API: a Bearer token that grants ``scope``."""
    return ScopeDependency(scope, allow_basic=False)


def require_page(scope: str = "read") -> ScopeDependency:
    """The same for the pages: Bearer or HTTP Basic with the token as password."""
    return ScopeDependency(scope, allow_basic=True)


def _scoped(scope: str) -> Any:
    """``token: TokenInfo = Read`` in an endpoint: the dependency, documented with its scope."""
    return Security(require(scope), scopes=[scope])


Read = _scoped("read")
Submit = _scoped("submit")
Admin = _scoped("admin")
