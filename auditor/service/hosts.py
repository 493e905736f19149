"""The Host header check against DNS rebinding, answered as problem+json.

Starlette's ``TrustedHostMiddleware`` answers ``400 text/plain``; this one has its rules
(without the www redirect) and answers like every other error of the API: the port is
ignored (``[::1]:8000`` is ``[::1]``), names compare case-insensitively, ``*.example.org``
matches any subdomain of example.org, and ``*`` (anything) only when it is configured
explicitly (``auditor serve --trusted-host '*'``).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from auditor.service.problems import Problem


def host_name(header: str) -> str:
    """The host of a Host header, lower-cased, without its port (``[::1]`` keeps brackets)."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[: end + 1] if end > 0 else header
    return header.split(":", 1)[0]


class TrustedHosts:
    """Pure ASGI middleware: HTTP and WebSocket requests need a Host from ``allowed``."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = [name.strip().lower() for name in allowed if name.strip()]
        self.any = "*" in self.allowed

    def is_allowed(self, host: str) -> bool:
        if self.any:
            return True
        if not host:
            return False
        for pattern in self.allowed:
            if host == pattern:
                return True
            if pattern.startswith("*.") and host.endswith(pattern[1:]):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = host_name(Headers(scope=scope).get("host", ""))
        if self.is_allowed(host):
            await self.app(scope, receive, send)
            return
        shown = repr(host[:100]) if host else "(none)"
        problem = Problem(
            400,
            f"The Host header {shown} is not a name this server answers to (a guard against "
            "DNS rebinding). Use the address the server was started with; the operator can "
            "allow another name with `auditor serve --trusted-host NAME`.",
        )
        await problem.response(scope.get("path"))(scope, receive, send)
