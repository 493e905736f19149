"""Models and their trends: each model's metrics from audit to audit, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from auditor.service.api.responses import AUTH, problems
from auditor.service.api.schemas import ModelList, ModelMetrics, TrendSeries
from auditor.service.auth import Read
from auditor.service.database import read_transaction
from auditor.service.problems import Problem
from auditor.service.queries import (
    TrendPoint,
    find_model,
    key_metrics,
    list_models,
    model_metric_keys,
    trend_points,
)
from auditor.service.tokens import TokenInfo

router = APIRouter(tags=["models"])

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "audit_id",
    "created_at",
    "model_version",
    "group",
    "value",
    "ci_low",
    "ci_high",
    "verdict",
    "audit_verdict",
    "threshold_min",
    "threshold_max",
    "reference_group",
)
MetricQuery = Annotated[
    str, Query(min_length=1, max_length=200, description="e.g. fairness.selection_rate")
]
GroupQuery = Annotated[
    str | None,
    Query(max_length=500, description="One group key, e.g. sex=female ('' = all rows)"),
]
SinceQuery = Annotated[datetime | None, Query(description="Audits created at or after")]


def spreadsheet_safe(cell: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, defused with a leading quote.

    Numbers are written as numbers: they come from the server, never from a request.
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _series(
    session: Session, name: str, metric: str, group: str | None, since: datetime | None
) -> list[TrendPoint]:
    """The points of a metric; Problem 404 for an unknown model or a metric it never had."""
    find_model(session, name)
    metrics = sorted({m for m, _ in model_metric_keys(session, name)})
    if metric not in metrics:
        shown = ", ".join(metrics[:10]) + (" ..." if len(metrics) > 10 else "")
        raise Problem(
            404,
            f"Model '{name}' has no metric '{metric[:100]}'. Measured: {shown or 'none yet'} "
            f"(GET /api/v1/models/{name}/metrics).",
        )
    return trend_points(session, name, metric, group=group, since=since)


@router.get(
    "/models",
    response_model=ModelList,
    summary="List models with their audit counts and last verdicts",
    responses=problems(*AUTH),
)
def get_models(request: Request, token: TokenInfo = Read) -> dict[str, Any]:
    """Every model name that audits were submitted under, by name. `last_status` is the job
    status of its newest audit; `last_verdict` the verdict of its newest *succeeded* audit (an
    earlier one while a new audit is queued or running, or after a failed job)."""
    with read_transaction(request.app.state.sessions) as session:
        return {"items": [asdict(m) for m in list_models(session)]}


@router.get(
    "/models/{name}/metrics",
    response_model=ModelMetrics,
    summary="The metrics and groups a model's trends can show",
    responses=problems(*AUTH, 404, 422),
)
def get_model_metrics(request: Request, name: str, token: TokenInfo = Read) -> dict[str, Any]:
    """Each measured metric with its group keys; `key_metrics` are those a rule judged."""
    with read_transaction(request.app.state.sessions) as session:
        find_model(session, name)
        groups: dict[str, list[str]] = {}
        for metric, group in model_metric_keys(session, name):
            groups.setdefault(metric, []).append(group)
        return {
            "model": name,
            "metrics": [{"metric": m, "groups": g} for m, g in groups.items()],
            "key_metrics": key_metrics(session, name),
        }


@router.get(
    "/models/{name}/trends",
    response_model=TrendSeries,
    summary="A metric over a model's succeeded audits",
    responses=problems(*AUTH, 404, 422),
)
def get_trends(
    request: Request,
    name: str,
    metric: MetricQuery,
    group: GroupQuery = None,
    since: SinceQuery = None,
    token: TokenInfo = Read,
) -> dict[str, Any]:
    """Oldest first; one point per audit and group (all groups unless `group` is given).

    Ratios and differences are measured against each point's `reference_group`, which can
    change between audits: values measured against different references do not compare."""
    with read_transaction(request.app.state.sessions) as session:
        points = _series(session, name, metric, group, since)
    return {
        "model": name,
        "metric": metric,
        "group": group,
        "points": [{**asdict(p), "group": p.group_key} for p in points],
    }


@router.get(
    "/models/{name}/trends.csv",
    response_class=Response,
    summary="The same series as CSV",
    responses={
        200: {"description": "CSV, one row per point", "content": {"text/csv": {}}},
        **problems(*AUTH, 404, 422),
    },
)
def get_trends_csv(
    request: Request,
    name: str,
    metric: MetricQuery,
    group: GroupQuery = None,
    since: SinceQuery = None,
    token: TokenInfo = Read,
) -> Response:
    """Text cells that start with = + - @, a tab or a carriage return get a leading `'`."""
    with read_transaction(request.app.state.sessions) as session:
        points = _series(session, name, metric, group, since)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in points:
        row = (
            p.audit_id,
            p.created_at.isoformat(),
            p.model_version,
            p.group_key,
            p.value,
            p.ci_low,
            p.ci_high,
            p.verdict,
            p.audit_verdict,
            p.threshold_min,
            p.threshold_max,
            p.reference_group,
        )
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    filename = f"{name}-{metric}-trend.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
