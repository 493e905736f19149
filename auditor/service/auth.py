"""Who is calling: a bearer token of the right scope on every endpoint but the health checks.

The API takes ``Authorization: Bearer <token>``. The pages, which a browser opens without
JavaScript, also take HTTP Basic with the token as the password (any user name), so the
browser's own login prompt works; both are the same token, checked the same way.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from fastapi import Depends, Request

from auditor.service.database import transaction
from auditor.service.problems import Problem
from auditor.service.tokens import TokenInfo, authenticate


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
    with transaction(request.app.state.sessions) as session:
        token = authenticate(session, secret)
    if token is None:
        raise Problem(401, "The token is unknown or revoked.", headers=_challenge(allow_basic))
    if scope not in token.scopes:
        raise Problem(
            403,
            f"The token '{token.name}' has scopes {sorted(token.scopes)}; this needs '{scope}'.",
        )
    return token


def require(scope: str) -> Callable[[Request], TokenInfo]:
    """A FastAPI dependency: the caller's token, which must grant ``scope`` (API, Bearer)."""

    def dependency(request: Request) -> TokenInfo:
        return check_token(request, scope)

    return dependency


def require_page(scope: str = "read") -> Callable[[Request], TokenInfo]:
    """The same for the pages: Bearer or HTTP Basic with the token as password."""

    def dependency(request: Request) -> TokenInfo:
        return check_token(request, scope, allow_basic=True)

    return dependency


Read = Depends(require("read"))
Submit = Depends(require("submit"))
Admin = Depends(require("admin"))
