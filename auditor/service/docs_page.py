"""``GET /docs``: the API's documentation as one server-rendered page, made from ``/openapi.json``.

No JavaScript and nothing from another origin (FastAPI's Swagger UI loads its script from a CDN):
the page has the other pages' layout and Content-Security-Policy. Like ``/openapi.json`` it needs
no token. For each operation it shows the method and path, summary, description, the scope its
token needs (the operation's ``security`` requirement), the parameters and multipart fields, and
each response with its status code, media types, headers and problem types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from auditor.service.api.responses import DESCRIPTIONS
from auditor.service.page_render import render
from auditor.service.problems import MEDIA_TYPE, SLUGS, TITLES

router = APIRouter(include_in_schema=False)

# Problem types an operation answers beyond the default one of each status (problems.SLUGS).
SPECIAL_PROBLEMS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("POST", "/api/v1/audits"): {
        "409": ("idempotency-in-progress",),
        "415": ("unsupported-media-type", "model-format-refused"),
        "422": ("validation-error", "idempotency-key-reused"),
        "507": ("insufficient-storage",),
    },
    ("GET", "/api/v1/audits/{audit_id}/artifacts/{name}"): {"409": ("artifact-not-ready",)},
}
SPECIAL_MEANINGS = {
    "idempotency-in-progress": (409, "A submit with this Idempotency-Key is still being received"),
    "artifact-not-ready": (409, "The audit is queued or running: retry after Retry-After"),
    "model-format-refused": (415, "The model file is pickle, joblib or another refused format"),
    "idempotency-key-reused": (422, "The Idempotency-Key was used with another payload"),
    "insufficient-storage": (507, "The server's disk would be too full after this upload"),
}
METHODS = ("get", "post", "put", "patch", "delete")

Segment = tuple[str, bool]  # (text, is code)
Paragraph = tuple[Segment, ...]


@dataclass(frozen=True)
class FieldDoc:
    """A parameter or multipart field: where it goes, its type, whether it is required."""

    name: str
    where: str
    type: str
    required: bool
    description: Paragraph
    choices: str


@dataclass(frozen=True)
class ResponseDoc:
    status: str
    description: Paragraph
    media_types: tuple[str, ...]
    problem_types: tuple[str, ...]
    headers: tuple[str, ...]


@dataclass(frozen=True)
class OperationDoc:
    """One endpoint: method + path, what it does, what it needs and what it answers."""

    method: str
    path: str
    anchor: str
    summary: str
    description: tuple[Paragraph, ...]
    scopes: tuple[str, ...]
    parameters: tuple[FieldDoc, ...]
    body_media: str | None
    body_fields: tuple[FieldDoc, ...]
    responses: tuple[ResponseDoc, ...]


@dataclass(frozen=True)
class SectionDoc:
    tag: str
    operations: tuple[OperationDoc, ...]


@dataclass(frozen=True)
class ProblemTypeDoc:
    status: int
    type: str
    meaning: Paragraph


@dataclass(frozen=True)
class ApiDoc:
    """The page: the API's title, version and description, its sections and problem types."""

    title: str
    version: str
    description: tuple[Paragraph, ...]
    sections: tuple[SectionDoc, ...]
    problem_types: tuple[ProblemTypeDoc, ...]


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    """The documentation of every operation in ``/openapi.json``; no token needed."""
    app: FastAPI = request.app
    doc = api_doc(app.openapi())
    return render(request, "docs.html.j2", doc=doc, token_name=None)


def api_doc(spec: dict[str, Any]) -> ApiDoc:
    """The view of an OpenAPI document: operations grouped by tag, in the schema's order."""
    sections: dict[str, list[OperationDoc]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            sections.setdefault(tag, []).append(_operation(spec, method, path, operation))
    info = spec.get("info", {})
    return ApiDoc(
        title=str(info.get("title", "API")),
        version=str(info.get("version", "")),
        description=paragraphs(info.get("description", "")),
        sections=tuple(SectionDoc(tag, tuple(ops)) for tag, ops in sections.items()),
        problem_types=_problem_types(),
    )


def required_scopes(operation: dict[str, Any]) -> tuple[str, ...]:
    """The token scopes an operation's ``security`` requirements name (none: no token)."""
    return tuple(
        scope
        for requirement in operation.get("security", [])
        for scopes in requirement.values()
        for scope in scopes
    )


def _operation(
    spec: dict[str, Any], method: str, path: str, operation: dict[str, Any]
) -> OperationDoc:
    special = SPECIAL_PROBLEMS.get((method.upper(), path), {})
    body = operation.get("requestBody", {}).get("content", {})
    body_media = next(iter(body), None)
    body_schema = _resolve(spec, body[body_media].get("schema", {})) if body_media else {}
    required = set(body_schema.get("required", []))
    body_fields = tuple(
        _field(spec, name, body_media or "body", name in required, schema)
        for name, schema in body_schema.get("properties", {}).items()
    )
    return OperationDoc(
        method=method.upper(),
        path=path,
        anchor=re.sub(r"[^a-z0-9]+", "-", f"{method}-{path}".lower()).strip("-"),
        summary=str(operation.get("summary", "")),
        description=paragraphs(operation.get("description", "")),
        scopes=required_scopes(operation),
        parameters=tuple(
            _field(spec, p["name"], p["in"], bool(p.get("required")), p.get("schema", {}), p)
            for p in operation.get("parameters", [])
        ),
        body_media=body_media,
        body_fields=body_fields,
        responses=tuple(
            _response(status, response, special.get(status))
            for status, response in sorted(operation.get("responses", {}).items())
        ),
    )


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A ``$ref`` to ``#/components/...`` replaced by the schema it names."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = spec
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, dict) else {}
    return target if isinstance(target, dict) else {}


def _field(
    spec: dict[str, Any],
    name: str,
    where: str,
    required: bool,
    schema: dict[str, Any],
    parameter: dict[str, Any] | None = None,
) -> FieldDoc:
    schema = _resolve(spec, schema)
    description = (parameter or {}).get("description") or schema.get("description", "")
    choices = schema.get("enum") or schema.get("items", {}).get("enum") or ()
    return FieldDoc(
        name=name,
        where="multipart field" if where == "multipart/form-data" else where,
        type=type_text(spec, schema),
        required=required,
        description=paragraphs(description)[0] if description else (),
        choices=", ".join(str(c) for c in choices),
    )


def type_text(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """A schema in a few words: 'string', 'file', 'integer, 1 to 200, default 50'..."""
    schema = _resolve(spec, schema)
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        kinds = [type_text(spec, v) for v in variants if v.get("type") != "null"]
        text = " or ".join(kinds) or "null"
    elif schema.get("type") == "array":
        text = f"list of {type_text(spec, schema.get('items', {}))} (repeat the field)"
    elif schema.get("format") == "binary":
        text = "file"
    else:
        text = str(schema.get("type", "any"))
        if schema.get("format"):
            text += f" ({schema['format']})"
    limits = []
    if "minimum" in schema and "maximum" in schema:
        limits.append(f"{schema['minimum']} to {schema['maximum']}")
    if "maxLength" in schema:
        limits.append(f"at most {schema['maxLength']} characters")
    if "pattern" in schema:
        limits.append(f"matching {schema['pattern']}")
    if "default" in schema and schema["default"] is not None:
        limits.append(f"default {schema['default']}")
    return ", ".join([text, *limits])


def _response(
    status: str, response: dict[str, Any], special: tuple[str, ...] | None
) -> ResponseDoc:
    media = tuple(response.get("content", {}))
    problem_types: tuple[str, ...] = ()
    if MEDIA_TYPE in media and status.isdigit():
        slugs = special or (SLUGS.get(int(status), "error"),)
        problem_types = tuple(f"/problems/{slug}" for slug in slugs)
    return ResponseDoc(
        status=status,
        description=paragraphs(response.get("description", ""))[0]
        if response.get("description")
        else (),
        media_types=media,
        problem_types=problem_types,
        headers=tuple(response.get("headers", {})),
    )


def _problem_types() -> tuple[ProblemTypeDoc, ...]:
    """Every problem type the API answers with: the default of each status and the special ones."""
    common = [
        ProblemTypeDoc(
            status, f"/problems/{slug}", paragraphs(DESCRIPTIONS.get(status, TITLES[status]))[0]
        )
        for status, slug in SLUGS.items()
    ]
    special = [
        ProblemTypeDoc(status, f"/problems/{slug}", paragraphs(meaning)[0])
        for slug, (status, meaning) in SPECIAL_MEANINGS.items()
    ]
    return tuple(sorted([*common, *special], key=lambda p: (p.status, p.type)))


def paragraphs(text: str) -> tuple[Paragraph, ...]:
    """Markdown-ish text as paragraphs (split at blank lines) of plain and `code` segments."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        joined = " ".join(line.strip() for line in block.splitlines())
        if not joined:
            continue
        pieces = joined.split("`")
        out.append(tuple((piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece))
    return tuple(out)
