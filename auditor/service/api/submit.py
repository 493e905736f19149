"""``POST /api/v1/audits``: submit an audit (multipart), answered 202 with the queued audit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from auditor.service.api.responses import AUTH, ProblemDetail, problems
from auditor.service.api.schemas import AuditResource
from auditor.service.auth import Submit
from auditor.service.database import transaction
from auditor.service.db import new_id
from auditor.service.problems import MEDIA_TYPE, Problem
from auditor.service.settings import ServiceSettings
from auditor.service.storage import inputs_dir, remove_audit_files
from auditor.service.submit import accept, builtin_policies, check_capacity, find_idempotent
from auditor.service.tokens import TokenInfo
from auditor.service.upload_limits import UploadSlots, check_disk, declared_length
from auditor.service.uploads import body_cap, receive_form

router = APIRouter(tags=["audits"])

_TEXT = {"type": "string"}
_FILE = {"type": "string", "format": "binary"}
SUBMIT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["data", "target", "sensitive"],
                "properties": {
                    "data": {**_FILE, "description": "CSV (UTF-8, header line) or Parquet"},
                    "model": {**_FILE, "description": "skops, LightGBM text or XGBoost JSON/UBJ"},
                    "prediction": {**_TEXT, "description": "Decision column (instead of a model)"},
                    "target": {**_TEXT, "description": "Column with the actual outcome"},
                    "sensitive": {
                        "type": "array",
                        "items": _TEXT,
                        "description": "Sensitive column; repeat the field for several",
                    },
                    "score": {**_TEXT, "description": "Column of scores for the positive class"},
                    "pos_label": {**_TEXT, "description": "The positive class, e.g. 1 or 'good'"},
                    "reference": {
                        "type": "array",
                        "items": _TEXT,
                        "description": "Reference group COLUMN=VALUE of a sensitive column",
                    },
                    "policy": {
                        **_TEXT,
                        "enum": list(builtin_policies()),
                        "default": "default",
                        "description": "A built-in policy (GET /api/v1/policies)",
                    },
                    "task": {
                        **_TEXT,
                        "enum": ["classification", "regression"],
                        "default": "classification",
                        "description": "Binary decisions, or predicted numbers (regression)",
                    },
                    "metadata": {**_FILE, "description": "Model card (YAML)"},
                    "model_name": {
                        **_TEXT,
                        "default": "default",
                        "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
                        "description": "The key of the model's history and trends",
                    },
                    "model_version": {**_TEXT, "maxLength": 200},
                    "label": {**_TEXT, "maxLength": 200, "description": "Free text shown in lists"},
                },
            }
        }
    },
}
DESCRIPTION = """Upload the data (and a model, or name the column of recorded decisions) and queue
an audit. Answered `202 Accepted` with the audit, `Location: /api/v1/audits/{id}` and
`Retry-After`: poll the audit until its `status` is `succeeded`, `failed` or `canceled`.

Checked at once, before anything is queued: each file's size (413), the model's format from its
bytes (pickle and joblib are refused, 415 `model-format-refused`), decompression bombs (skops
zips, Parquet footers), and that every named column is in the data's header (422). Unknown
fields, an unknown policy, or both or neither of `model` and `prediction` are 422.

`Idempotency-Key`: the same key with the same fields and files returns the original audit
(`200`, header `Idempotent-Replayed: true`); with another payload 422 `idempotency-key-reused`;
while the first request with that key is still being received 409 `idempotency-in-progress`.
At most `max_active_per_token` audits of one token may be queued, running or being uploaded
(429). The server receives at most `max_concurrent_uploads` uploads at once (503 with
`Retry-After`), and refuses one that would leave less than `min_free_disk_mb` free on its disk
(507 `insufficient-storage`)."""


def _accepting(app: FastAPI) -> set[tuple[int, str]]:
    """Keys of submits being received in this process (the event loop is their only user).

    ``auditor serve`` runs one API process; across several, a second request with a key in
    flight elsewhere is not 409 but, once the first is stored, a replay (or 422 if it differs).
    """
    keys: set[tuple[int, str]] | None = getattr(app.state, "accepting_keys", None)
    if keys is None:
        keys = set()
        app.state.accepting_keys = keys
    return keys


def _slots(app: FastAPI) -> UploadSlots:
    """The uploads this process is receiving (per token and in all)."""
    slots: UploadSlots | None = getattr(app.state, "upload_slots", None)
    if slots is None:
        slots = UploadSlots()
        app.state.upload_slots = slots
    return slots


def _precheck(
    sessions: sessionmaker[Session],
    settings: ServiceSettings,
    token_id: int,
    key: str | None,
    uploading: int,
) -> None:
    """Refuse a full token before reading its body (a replay of a known key is never refused).

    ``uploading``: the token's other uploads in progress, counted with its active audits.
    """
    with transaction(sessions) as session:
        if key is not None and find_idempotent(session, token_id, key) is not None:
            return
        check_capacity(session, token_id, settings.max_active_per_token, uploading)


def _problem_doc(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """OpenAPI documentation of one more problem answer (beside ``responses.problems``)."""
    entry: dict[str, Any] = {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": ProblemDetail.model_json_schema()}},
    }
    if headers:
        entry["headers"] = headers
    return entry


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}
MORE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    503: _problem_doc(
        "The server is receiving `max_concurrent_uploads` uploads already (`Retry-After`)",
        _RETRY_AFTER,
    ),
    507: _problem_doc(
        "Insufficient storage: the data dir's disk would keep less than `min_free_disk_mb` "
        "free after this upload (`insufficient-storage`)"
    ),
}


@router.post(
    "/audits",
    status_code=202,
    response_model=AuditResource,
    summary="Submit an audit",
    description=DESCRIPTION,
    responses={
        200: {"model": AuditResource, "description": "An idempotent replay: the original audit"},
        202: {"description": "Queued; poll the `Location`"},
        **problems(400, *AUTH, 409, 413, 415, 422, 429),
        **MORE_PROBLEMS,
    },
    openapi_extra={"requestBody": SUBMIT_BODY},
)
async def submit_audit(
    request: Request,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
    token: TokenInfo = Submit,
) -> dict[str, Any]:
    """Stream the upload into a new audit's folder, check it, queue the audit."""
    settings: ServiceSettings = request.app.state.settings
    accepting = _accepting(request.app)
    claim = (token.id, idempotency_key) if idempotency_key is not None else None
    if claim is not None and claim in accepting:
        raise Problem(
            409,
            "A submit with this Idempotency-Key is still being received; retry when it is done.",
            slug="idempotency-in-progress",
            headers={"Retry-After": "2"},
        )
    with _slots(request.app).hold(token.id, settings.max_concurrent_uploads) as uploading:
        if claim is not None:
            accepting.add(claim)
        try:
            resource, created = await _receive(request, token.id, idempotency_key, uploading)
        finally:
            if claim is not None:
                accepting.discard(claim)
    response.headers["Location"] = resource["links"]["self"]
    if created:
        response.headers["Retry-After"] = "2"
    else:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return resource


async def _receive(
    request: Request, token_id: int, idempotency_key: str | None, uploading: int
) -> tuple[dict[str, Any], bool]:
    """Check the token's capacity and the disk, receive the body, accept it: (resource,
    created). The new audit's folder is removed on any error, and after a replay."""
    settings: ServiceSettings = request.app.state.settings
    sessions: sessionmaker[Session] = request.app.state.sessions
    await run_in_threadpool(_precheck, sessions, settings, token_id, idempotency_key, uploading)
    incoming = declared_length(request.headers.get("content-length"), body_cap(settings))
    await run_in_threadpool(check_disk, settings, incoming)
    audit_id = new_id()
    folder = inputs_dir(settings.audits_dir, audit_id)
    try:
        await run_in_threadpool(folder.mkdir, parents=True)
        form = await receive_form(request, settings, folder)
        resource, created = await run_in_threadpool(
            lambda: accept(
                sessions,
                settings,
                token_id=token_id,
                audit_id=audit_id,
                form=form,
                idempotency_key=idempotency_key,
            )
        )
    except BaseException:
        await run_in_threadpool(remove_audit_files, settings.audits_dir, audit_id)
        raise
    if not created:
        await run_in_threadpool(remove_audit_files, settings.audits_dir, audit_id)
    return resource, created
