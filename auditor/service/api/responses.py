"""OpenAPI documentation of the API's error answers (RFC 9457 ``application/problem+json``).

``problems(401, 403, 404)`` gives the ``responses=`` entry of a path operation, so that
``/openapi.json`` documents every problem an endpoint answers with, under its own media type.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from auditor.service.problems import MEDIA_TYPE


class ProblemDetail(BaseModel):
    """An error: ``type`` is ``/problems/<slug>``; ``errors`` lists fields for validation."""

    type: str = Field(examples=["/problems/validation-error"])
    title: str
    status: int
    detail: str = Field(description="What went wrong and what to do about it")
    instance: str | None = Field(default=None, description="The request's path")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="One item per invalid field: {loc, msg}"
    )


DESCRIPTIONS = {
    400: "Invalid request (a malformed cursor, filter or multipart body)",
    401: "No token, or an unknown or revoked one (`WWW-Authenticate: Bearer`)",
    403: "The token lacks the scope this endpoint needs",
    404: "No such audit, model or artefact",
    409: "Conflict: the audit's state does not allow this (see `type`)",
    413: "Content too large: a file, the request, or what a file unpacks to",
    415: "Unsupported media type: not multipart, or a refused model format",
    422: "Validation error: a field, a missing column, an unknown policy, a reused key",
    429: "Too many queued or running audits for this token (`Retry-After`)",
}
_SCHEMA = ProblemDetail.model_json_schema()
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}},
}
AUTH = (401, 403)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` documentation of these problem statuses."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "description": DESCRIPTIONS[status],
            "content": {MEDIA_TYPE: {"schema": _SCHEMA}},
        }
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        out[status] = entry
    return out
