"""Audits after submit: list, read, cancel, delete, and download their artefacts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from auditor.service.api.responses import AUTH, problems
from auditor.service.api.schemas import AuditPage, AuditResource
from auditor.service.artifacts import artifact_response, find_audit
from auditor.service.auth import Admin, Read, Submit
from auditor.service.database import read_transaction, transaction
from auditor.service.db import FINISHED, JOB_STATUSES, VERDICTS, Audit, utcnow
from auditor.service.problems import Problem
from auditor.service.queries import MAX_PAGE, audit_resource, list_audits
from auditor.service.storage import ARTIFACTS, remove_audit_files
from auditor.service.submit import API_PATH
from auditor.service.tokens import TokenInfo

router = APIRouter(tags=["audits"])

# Plain strings, checked by list_audits and artifact_response: an unknown value is a problem
# (400 for a filter, 404 for an artefact), as on the pages; the schema still lists the values.


def _one_of(values: tuple[str, ...] | list[str]) -> Callable[[dict[str, Any]], None]:
    """The parameter's schema: a string from ``values`` (documented; the server checks it)."""

    def rewrite(schema: dict[str, Any]) -> None:
        schema.pop("anyOf", None)
        schema.update(type="string", enum=list(values))

    return rewrite


StatusFilter = Annotated[
    str | None,
    Query(
        description=f"Job status: one of {', '.join(JOB_STATUSES)} (else 400)",
        json_schema_extra=_one_of(JOB_STATUSES),
    ),
]
VerdictFilter = Annotated[
    str | None,
    Query(
        description=f"Verdict of succeeded audits: one of {', '.join(VERDICTS)} (else 400)",
        json_schema_extra=_one_of(VERDICTS),
    ),
]
ArtifactName = Annotated[
    str,
    Path(
        description=f"One of {', '.join(ARTIFACTS)} (another name is 404)",
        json_schema_extra=_one_of(list(ARTIFACTS)),
    ),
]
_ARTIFACT_CONTENT: dict[str, dict[str, str]] = {
    media.split(";")[0]: {} for media in ARTIFACTS.values()
}


def _locked_audit(session: Session, audit_id: str) -> Audit:
    """The audit, its row locked until commit (PostgreSQL), so a worker's claim waits."""
    audit = find_audit(session, audit_id)
    session.execute(select(Audit.id).where(Audit.id == audit.id).with_for_update())
    session.refresh(audit)
    return audit


@router.get(
    "/audits",
    response_model=AuditPage,
    summary="List audits, newest first",
    responses=problems(400, *AUTH, 422),
)
def get_audits(
    request: Request,
    model: Annotated[str | None, Query(max_length=200, description="Model name")] = None,
    status: StatusFilter = None,
    verdict: VerdictFilter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="`next_cursor` of the page before")
    ] = None,
    token: TokenInfo = Read,
) -> dict[str, Any]:
    """Ordered by (created_at DESC, id); `next_cursor` is null on the last page. An unknown
    `status` or `verdict`, or a cursor this server did not hand out, is 400."""
    with read_transaction(request.app.state.sessions) as session:
        audits, next_cursor = list_audits(
            session, model=model, status=status, verdict=verdict, limit=limit, cursor=cursor
        )
        items = [audit_resource(a, API_PATH) for a in audits]
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/audits/{audit_id}",
    response_model=AuditResource,
    summary="Read an audit (poll it after submit)",
    responses=problems(*AUTH, 404, 422),
)
def get_audit(request: Request, audit_id: str, token: TokenInfo = Read) -> dict[str, Any]:
    """The audit's status, verdict, timing, error and links."""
    with read_transaction(request.app.state.sessions) as session:
        return audit_resource(find_audit(session, audit_id), API_PATH)


@router.post(
    "/audits/{audit_id}/cancel",
    response_model=AuditResource,
    summary="Cancel an audit",
    responses={
        202: {"model": AuditResource, "description": "Running: its worker stops it shortly"},
        **problems(*AUTH, 404, 409, 422),
    },
)
def cancel_audit(
    request: Request, response: Response, audit_id: str, token: TokenInfo = Submit
) -> dict[str, Any]:
    """A queued audit is canceled at once (200); a running one is asked to stop (202: its
    worker ends the child process, then marks it canceled); a finished one is 409."""
    with transaction(request.app.state.sessions) as session:
        audit = _locked_audit(session, audit_id)
        if audit.status in FINISHED:
            raise Problem(409, f"The audit has already {_finished_verb(audit.status)}.")
        if audit.status == "queued":
            audit.status = "canceled"
            audit.finished_at = utcnow()
        else:
            audit.cancel_requested = True
            response.status_code = 202
        session.flush()
        return audit_resource(audit, API_PATH)


def _finished_verb(status: str) -> str:
    return {"succeeded": "succeeded", "failed": "failed", "canceled": "been canceled"}[status]


@router.delete(
    "/audits/{audit_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an audit and its files",
    responses={204: {"description": "Deleted"}, **problems(*AUTH, 404, 409, 422)},
)
def delete_audit(request: Request, audit_id: str, token: TokenInfo = Admin) -> Response:
    """Deletes the audit's row, its metrics and artefact records, and its folder.

    A running audit is refused with 409: cancel it first (`POST .../cancel`), then delete it
    once its status is `canceled`. A queued audit is deleted at once.
    """
    settings = request.app.state.settings
    with transaction(request.app.state.sessions) as session:
        audit = _locked_audit(session, audit_id)
        if audit.status == "running":
            raise Problem(
                409,
                "The audit is running; cancel it first (POST "
                f"{API_PATH}/audits/{audit.id}/cancel), then delete it once it is canceled.",
            )
        deleted = audit.id
        session.delete(audit)
    remove_audit_files(settings.audits_dir, deleted)
    return Response(status_code=204)


@router.get(
    "/audits/{audit_id}/artifacts/{name}",
    response_class=Response,
    summary="Download an artefact of a succeeded audit",
    responses={
        200: {"description": "The file, with an ETag", "content": _ARTIFACT_CONTENT},
        304: {"description": "Not modified (If-None-Match)"},
        **problems(*AUTH, 404, 409, 422),
    },
)
def get_artifact(
    request: Request, audit_id: str, name: ArtifactName, token: TokenInfo = Read
) -> Response:
    """`report.html` is served with a sandboxing Content-Security-Policy; 409 while the audit
    is queued or running (`Retry-After`), 304 when `If-None-Match` matches the ETag; an unknown
    name, or one this audit does not have, is 404."""
    settings = request.app.state.settings
    with read_transaction(request.app.state.sessions) as session:
        return artifact_response(request, session, settings.audits_dir, audit_id, name)
