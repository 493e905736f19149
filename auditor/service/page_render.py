"""Rendering the pages: one autoescaped jinja2 environment, a strict CSP, HTML error pages.

Templates live in ``templates/service/`` of the project's templates directory (shipped in the
wheel as ``auditor/templates/service``). Pages carry no script at all: the Content-Security-Policy
allows inline styles, images from this origin or ``data:``, and frames from this origin (the
sandboxed report) and nothing else.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from auditor.provenance import tool_version
from auditor.resources import templates_dir
from auditor.service.problems import Problem

PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The pages' jinja2 environment: autoescape on for every template, undefined is an error."""
    return Environment(
        loader=FileSystemLoader(templates_dir() / "service"),
        autoescape=select_autoescape(default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with ``context`` (plus the current path) as a page with the CSP."""
    html = (
        environment()
        .get_template(template)
        .render(path=request.url.path, version=tool_version(), **context)
    )
    return HTMLResponse(html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})


def error_page(request: Request, problem: Problem) -> HTMLResponse:
    """A problem as a small HTML page; a 401 keeps its Basic challenge so the browser asks."""
    return render(
        request,
        "error.html.j2",
        status_code=problem.status,
        headers=problem.headers,
        title=problem.title,
        status=problem.status,
        detail=problem.detail,
        needs_login=problem.status == 401,
        token_name=None,
    )
