"""Server-rendered pages under /ui: the audit list, one audit, the models and their trends.

GET only, no JavaScript, autoescaped templates and a strict CSP (see ``page_render``). The
pages take the API's tokens as a Bearer header or as the password of HTTP Basic, so a browser's
own login prompt works. Errors are small HTML pages; a 401 carries ``WWW-Authenticate: Basic``.
The reads are ``queries``' (shared with the API); the view models are ``page_views``,
``page_regressions`` and ``trend_chart``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from auditor.service.artifacts import artifact_response, find_audit
from auditor.service.auth import require_page
from auditor.service.database import read_transaction
from auditor.service.page_regressions import regressions
from auditor.service.page_render import error_page, render
from auditor.service.page_views import audit_list_page, audit_page, model_rows
from auditor.service.problems import Problem
from auditor.service.queries import (
    TrendPoint,
    find_model,
    key_metrics,
    list_audits,
    list_models,
    model_metric_keys,
    model_names,
    trend_points,
)
from auditor.service.tokens import TokenInfo
from auditor.service.trend_chart import build_trend_chart

PAGE_SIZE = 25


class PageRoute(APIRoute):
    """A route whose problems (401 included, raised by the auth dependency) are HTML pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as problem:
                return error_page(request, problem)

        return route


router = APIRouter(prefix="/ui", include_in_schema=False, route_class=PageRoute)
Reader = Annotated[TokenInfo, Depends(require_page("read"))]


def _blank(value: str | None) -> str | None:
    """A form's empty field means 'no filter'."""
    return value.strip() or None if value is not None else None


def _limit(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 200:
        raise Problem(400, "limit must be a whole number from 1 to 200.")
    return int(value)


@router.get("/", response_class=HTMLResponse)
@router.get("/audits", response_class=HTMLResponse)
def audits_page(
    request: Request,
    token: Reader,
    model: str | None = None,
    status: str | None = None,
    verdict: str | None = None,
    cursor: str | None = None,
    limit: str | None = None,
) -> HTMLResponse:
    """Audits, newest first, filtered by model, job status and verdict; paged by cursor."""
    model, status, verdict, cursor = map(_blank, (model, status, verdict, cursor))
    size = _limit(limit)
    with read_transaction(request.app.state.sessions) as session:
        audits, next_cursor = list_audits(
            session,
            model=model,
            status=status,
            verdict=verdict,
            limit=size or PAGE_SIZE,
            cursor=cursor,
        )
        page = audit_list_page(
            audits,
            next_cursor,
            models=model_names(session),
            model=model,
            status=status,
            verdict=verdict,
            limit=size,
            cursor=cursor,
            base_url=str(request.base_url),
        )
    return render(request, "audits.html.j2", page=page, token_name=token.name)


@router.get("/audits/{audit_id}", response_class=HTMLResponse)
def audit_detail_page(request: Request, token: Reader, audit_id: str) -> HTMLResponse:
    """One audit: outcome, inputs, summary, error, downloads and the sandboxed HTML report."""
    with read_transaction(request.app.state.sessions) as session:
        page = audit_page(find_audit(session, audit_id))
    return render(request, "audit.html.j2", page=page, token_name=token.name)


@router.get("/audits/{audit_id}/artifacts/{name}")
def audit_artifact(request: Request, token: Reader, audit_id: str, name: str) -> Response:
    """An artefact for the browser (Basic credentials work); report.html may be framed here."""
    settings = request.app.state.settings
    with read_transaction(request.app.state.sessions) as session:
        response = artifact_response(request, session, settings.audits_dir, audit_id, name)
    if name == "report.html":
        # Only our own pages may frame the report; it stays sandboxed by its CSP.
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        if "content-security-policy" in response.headers:
            csp = response.headers["content-security-policy"]
            response.headers["Content-Security-Policy"] = f"{csp}; frame-ancestors 'self'"
    return response


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, token: Reader) -> HTMLResponse:
    """Every model with its number of audits and its newest audit's outcome."""
    with read_transaction(request.app.state.sessions) as session:
        rows = model_rows(list_models(session))
    return render(request, "models.html.j2", rows=rows, token_name=token.name)


def chart_rank(metric: str, points: list[TrendPoint]) -> tuple[int, int, str]:
    """Charts a reviewer should see first: failing in the newest audit, then fairness."""
    newest = max((p.created_at for p in points), default=None)
    failing = any(p.created_at == newest and p.verdict in ("fail", "error") for p in points)
    return (0 if failing else 1, 0 if metric.startswith("fairness.") else 1, metric)


@router.get("/models/{name:path}", response_class=HTMLResponse)
def model_page(request: Request, token: Reader, name: str) -> HTMLResponse:
    """One model: the newest audit against the one before, and each key metric's trend."""
    settings = request.app.state.settings
    with read_transaction(request.app.state.sessions) as session:
        model = find_model(session, name)
        summary = next(m for m in list_models(session) if m.name == model.name)
        keys = key_metrics(session, model.name)
        series = {metric: trend_points(session, model.name, metric) for metric in keys}
        charts = [
            build_trend_chart(metric, f"chart-{i}", series[metric])
            for i, metric in enumerate(sorted(keys, key=lambda m: chart_rank(m, series[m])), 1)
        ]
        others = sorted(
            {metric for metric, _ in model_metric_keys(session, model.name)} - set(keys)
        )
        latest, _ = list_audits(session, model=model.name, status="succeeded", limit=2)
        comparison = regressions(settings.audits_dir, latest)
    return render(
        request,
        "model.html.j2",
        model=model_rows([summary])[0],
        charts=charts,
        other_metrics=others,
        regressions=comparison,
        token_name=token.name,
    )
