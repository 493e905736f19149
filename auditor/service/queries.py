"""The read side of the service: audit history, models, trend series, the audit resource.

Shared by the JSON API and the pages, so both show the same rows in the same order. Every
function takes a session and reads; none writes. Times come back timezone-aware (UTC), also on
SQLite, which stores them without an offset.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from auditor.service.db import FINISHED, JOB_STATUSES, VERDICTS, Audit, AuditMetric, Model, as_utc
from auditor.service.problems import Problem

MAX_PAGE = 200  # the most audits one page lists

_BAD_CURSOR = (
    "The cursor is not one this server handed out (or the list changed shape); "
    "drop the cursor parameter to start from the newest audit."
)


@dataclass(frozen=True)
class ModelSummary:
    """A model name with its number of audits, its newest audit and its newest verdict.

    ``last_status`` (and ``last_audit_*``) are the newest audit's, whatever its status;
    ``last_verdict`` (and ``last_verdict_*``) the newest *succeeded* audit's: a model whose
    last finished audit failed still shows ``fail`` while a new audit is queued or running.
    """

    name: str
    audits: int
    last_status: str | None
    last_audit_at: datetime | None
    last_audit_id: str | None
    last_verdict: str | None
    last_verdict_at: datetime | None
    last_verdict_audit_id: str | None


@dataclass(frozen=True)
class TrendPoint:
    """One value of one metric for one group in one succeeded audit.

    ``reference_group`` is what a ratio or difference was measured against (None when the
    metric has no reference); it can change between audits (by default the largest group).
    """

    audit_id: str
    created_at: datetime
    model_version: str | None
    group_key: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str | None
    audit_verdict: str | None
    threshold_min: float | None
    threshold_max: float | None
    reference_group: str | None = None


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def encode_cursor(created_at: datetime, audit_id: str) -> str:
    """An opaque cursor: the position after the audit (created_at, id)."""
    raw = f"{as_utc(created_at).isoformat()}|{audit_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) of a cursor; Problem 400 for anything this server did not make."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        stamp, sep, audit_id = text.partition("|")
        if not sep or not audit_id or len(audit_id) > 36:
            raise ValueError(text)
        return as_utc(datetime.fromisoformat(stamp)), audit_id
    except (ValueError, UnicodeError, binascii.Error):
        problem = Problem(400, _BAD_CURSOR, errors=[{"loc": ["query", "cursor"], "msg": "invalid"}])
        raise problem from None


def _check_choice(name: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise Problem(
            400,
            f"Unknown {name} '{value[:40]}'; choose one of {', '.join(choices)}.",
            errors=[{"loc": ["query", name], "msg": f"one of {', '.join(choices)}"}],
        )


def list_audits(
    session: Session,
    *,
    model: str | None = None,
    status: str | None = None,
    verdict: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Audit], str | None]:
    """One page of audits, newest first (created_at DESC, then id), and the next page's cursor.

    ``model`` is a model name; ``status`` a job status; ``verdict`` pass, fail or inconclusive.
    The cursor is None on the last page. A malformed cursor or filter is Problem 400.
    """
    _check_choice("status", status, JOB_STATUSES)
    _check_choice("verdict", verdict, VERDICTS)
    limit = max(1, min(limit, MAX_PAGE))
    query = select(Audit).options(selectinload(Audit.artifacts))
    if model is not None:
        query = query.join(Model, Audit.model_id == Model.id).where(Model.name == model)
    if status is not None:
        query = query.where(Audit.status == status)
    if verdict is not None:
        query = query.where(Audit.verdict == verdict)
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        query = query.where(
            or_(
                Audit.created_at < after_time,
                and_(Audit.created_at == after_time, Audit.id > after_id),
            )
        )
    query = query.order_by(Audit.created_at.desc(), Audit.id).limit(limit + 1)
    rows = list(session.scalars(query).unique())
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(page[-1].created_at, page[-1].id)


def find_model(session: Session, name: str) -> Model:
    """The model called ``name``; Problem 404 when there is none."""
    model = session.scalar(select(Model).where(Model.name == name))
    if model is None:
        raise Problem(
            404, f"No model '{name[:100]}'; GET /api/v1/models lists the models with audits."
        )
    return model


def _newest_per_model(*, succeeded_only: bool) -> Subquery:
    """A subquery of each model's audits ranked newest first (rank 1: the newest)."""
    query = select(
        Audit.model_id,
        Audit.id,
        Audit.status,
        Audit.verdict,
        Audit.created_at,
        func.row_number()
        .over(partition_by=Audit.model_id, order_by=(Audit.created_at.desc(), Audit.id))
        .label("rank"),
        func.count().over(partition_by=Audit.model_id).label("total"),
    )
    if succeeded_only:
        query = query.where(Audit.status == "succeeded")
    return query.subquery()


def model_names(session: Session) -> list[str]:
    """Every model's name, sorted (the list page's filter: no per-model aggregates)."""
    return list(session.scalars(select(Model.name).order_by(Model.name)))


def list_models(session: Session) -> list[ModelSummary]:
    """Every model, by name, with its audit count, its newest audit's status and the verdict
    of its newest succeeded audit."""
    newest = _newest_per_model(succeeded_only=False)
    judged = _newest_per_model(succeeded_only=True)
    query = (
        select(
            Model.name,
            newest.c.total,
            newest.c.status,
            newest.c.created_at,
            newest.c.id,
            judged.c.verdict,
            judged.c.created_at,
            judged.c.id,
        )
        .outerjoin(newest, and_(newest.c.model_id == Model.id, newest.c.rank == 1))
        .outerjoin(judged, and_(judged.c.model_id == Model.id, judged.c.rank == 1))
        .order_by(Model.name)
    )
    return [
        ModelSummary(
            name=name,
            audits=total or 0,
            last_status=status,
            last_audit_at=_maybe_utc(created_at),
            last_audit_id=audit_id,
            last_verdict=verdict,
            last_verdict_at=_maybe_utc(judged_at),
            last_verdict_audit_id=judged_id,
        )
        for (
            name,
            total,
            status,
            created_at,
            audit_id,
            verdict,
            judged_at,
            judged_id,
        ) in session.execute(query)
    ]


def model_metric_keys(session: Session, model_name: str) -> list[tuple[str, str]]:
    """The (metric, group_key) pairs measured for this model, sorted; [] for an unknown model."""
    query = (
        select(AuditMetric.metric, AuditMetric.group_key)
        .join(Model, AuditMetric.model_id == Model.id)
        .where(Model.name == model_name)
        .distinct()
        .order_by(AuditMetric.metric, AuditMetric.group_key)
    )
    return [(metric, group) for metric, group in session.execute(query)]


def key_metrics(session: Session, model_name: str) -> list[str]:
    """The metrics a policy rule judged for this model (rows with a threshold), by name."""
    query = (
        select(AuditMetric.metric)
        .join(Model, AuditMetric.model_id == Model.id)
        .where(
            Model.name == model_name,
            or_(AuditMetric.threshold_min.is_not(None), AuditMetric.threshold_max.is_not(None)),
        )
        .distinct()
        .order_by(AuditMetric.metric)
    )
    return list(session.scalars(query))


def trend_points(
    session: Session,
    model_name: str,
    metric: str,
    group: str | None = None,
    since: datetime | None = None,
) -> list[TrendPoint]:
    """The values of ``metric`` over this model's succeeded audits, oldest first.

    ``group`` keeps one group key ('' is the value over all rows); None keeps every group.
    ``since`` keeps audits created at or after that moment.
    """
    query = (
        select(AuditMetric, Audit.model_version, Audit.verdict)
        .join(Audit, AuditMetric.audit_id == Audit.id)
        .join(Model, AuditMetric.model_id == Model.id)
        .where(Model.name == model_name, AuditMetric.metric == metric)
        .where(Audit.status == "succeeded")
    )
    if group is not None:
        query = query.where(AuditMetric.group_key == group)
    if since is not None:
        query = query.where(AuditMetric.created_at >= as_utc(since))
    query = query.order_by(AuditMetric.created_at, AuditMetric.audit_id, AuditMetric.group_key)
    return [
        TrendPoint(
            audit_id=row.audit_id,
            created_at=as_utc(row.created_at),
            model_version=model_version,
            group_key=row.group_key,
            value=row.value,
            ci_low=row.ci_low,
            ci_high=row.ci_high,
            verdict=row.verdict,
            audit_verdict=audit_verdict,
            threshold_min=row.threshold_min,
            threshold_max=row.threshold_max,
            reference_group=row.reference_group,
        )
        for row, model_version, audit_verdict in session.execute(query)
    ]


def audit_resource(audit: Audit, base_url_path: str) -> dict[str, Any]:
    """The audit resource of the API (a JSON-ready dict); ``base_url_path`` is e.g. '/api/v1'.

    Reads ``audit.model`` and ``audit.artifacts``: call it while the audit's session is open
    (or with both loaded, as ``list_audits`` does).
    """
    base = base_url_path.rstrip("/")
    own = f"{base}/audits/{audit.id}"
    links: dict[str, Any] = {"self": own, "ui": f"/ui/audits/{audit.id}"}
    if audit.status not in FINISHED:
        links["cancel"] = f"{own}/cancel"
    if audit.status == "succeeded":
        names = sorted(a.name for a in audit.artifacts)
        links["artifacts"] = {name: f"{own}/artifacts/{name}" for name in names}
    error = None
    if audit.error_type is not None or audit.error_detail is not None:
        error = {"type": audit.error_type or "unknown", "detail": audit.error_detail or ""}
    return {
        "id": audit.id,
        "model_name": audit.model.name,
        "model_version": audit.model_version,
        "label": audit.label,
        "policy": audit.policy_name,
        "status": audit.status,
        "verdict": audit.verdict,
        "cancel_requested": bool(audit.cancel_requested),
        "attempts": audit.attempts,
        "error": error,
        "created_at": as_utc(audit.created_at),
        "started_at": _maybe_utc(audit.started_at),
        "finished_at": _maybe_utc(audit.finished_at),
        "inputs": {"data_sha256": audit.data_sha256, "model_sha256": audit.model_sha256},
        "summary": {
            "checks": audit.checks,
            "failed": audit.failed,
            "inconclusive": audit.inconclusive,
        },
        "links": links,
    }
