"""Accepting a submitted audit: the form's fields checked, the files checked, one row queued.

The HTTP side (``api/submit.py``) streams the body into the audit's inputs folder
(``uploads``); this module turns what arrived into an ``AuditParams`` and an ``audits`` row,
or a Problem. Idempotency: a request carries a digest of its fields and file contents
(``request_sha256``); the same ``Idempotency-Key`` with the same digest returns the original
audit, with another digest 422 ``idempotency-key-reused``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from auditor.policy import list_builtin_policies
from auditor.policy.load import resolve_policy_path
from auditor.provenance import tool_version
from auditor.service.database import transaction
from auditor.service.db import ApiToken, Audit, Model
from auditor.service.problems import Problem
from auditor.service.queries import audit_resource
from auditor.service.requests import AuditParams
from auditor.service.settings import ServiceSettings
from auditor.service.upload_checks import check_columns, check_data, check_metadata, check_model
from auditor.service.uploads import ReceivedForm

API_PATH = "/api/v1"
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SINGLE: tuple[str, ...] = ("target", "prediction", "score", "pos_label", "policy", "task")
SINGLE += ("model_name", "model_version", "label")
REPEATED = ("sensitive", "reference")
MAX_COLUMN = 500
MAX_TEXT = 200
MAX_SENSITIVE = 20
RETRY_AFTER_FULL = "10"
Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")


@dataclass(frozen=True)
class SubmitForm:
    """The submit's text fields, checked (file fields are in ``ReceivedForm.files``)."""

    target: str
    sensitive: list[str]
    prediction: str | None
    score: str | None
    pos_label: str | None
    reference: list[str]
    policy: str
    model_name: str
    model_version: str | None
    label: str | None
    task: Task = "classification"


@dataclass
class _Errors:
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, msg: str) -> None:
        self.items.append({"loc": ["body", name], "msg": msg})


@lru_cache(maxsize=1)
def builtin_policies() -> tuple[str, ...]:
    return tuple(list_builtin_policies())


def policy_sha256(name: str) -> str:
    """SHA-256 of a built-in policy's file (its ``extends:`` parents are built-in too)."""
    return hashlib.sha256(resolve_policy_path(name).read_bytes()).hexdigest()


def _text(value: str | None, name: str, limit: int, errors: _Errors) -> str | None:
    """An optional text field: '' is absent; too long or with control characters is an error."""
    if value is None or value == "":
        return None
    if len(value) > limit:
        errors.add(name, f"at most {limit} characters")
    elif any(ord(c) < 32 or ord(c) == 127 for c in value):
        errors.add(name, "control characters are not allowed")
    return value


def parse_fields(form: ReceivedForm) -> SubmitForm:
    """The checked fields of a submit; Problem 422 listing every problem at once."""
    errors = _Errors()
    raw = form.fields
    for name in raw:
        if name not in SINGLE + REPEATED:
            errors.add(name[:40], "unknown field; see POST /api/v1/audits in /docs")
    for name in SINGLE:
        if len(raw.get(name, [])) > 1:
            errors.add(name, "give it once")
    one: dict[str, str | None] = {name: next(iter(raw.get(name, [])), None) for name in SINGLE}
    target = _text(one["target"], "target", MAX_COLUMN, errors)
    if target is None:
        errors.add("target", "required: the column with the actual outcome")
    sensitive = [s for s in raw.get("sensitive", []) if s != ""]
    if not sensitive:
        errors.add("sensitive", "required: at least one sensitive column (repeat the field)")
    if len(sensitive) > MAX_SENSITIVE or len(set(sensitive)) != len(sensitive):
        errors.add("sensitive", f"at most {MAX_SENSITIVE} distinct columns")
    for column in sensitive:
        _text(column, "sensitive", MAX_COLUMN, errors)
    prediction = _text(one["prediction"], "prediction", MAX_COLUMN, errors)
    if (prediction is None) == ("model" not in form.files):
        errors.add("model", "send exactly one of a 'model' file or a 'prediction' column")
    references = [r for r in raw.get("reference", []) if r != ""]
    _check_references(references, sensitive, errors)
    task = one["task"] or "classification"
    if task not in TASKS:
        errors.add("task", f"one of {', '.join(TASKS)}")
    policy = one["policy"] or ("regression" if task == "regression" else "default")
    if policy not in builtin_policies():
        errors.add(
            "policy",
            f"unknown policy (policy files are not taken over HTTP); built-in: "
            f"{', '.join(builtin_policies())}",
        )
    model_name = one["model_name"] or "default"
    if not MODEL_NAME.fullmatch(model_name):
        errors.add("model_name", "1-100 of A-Z a-z 0-9 . _ - (starting with a letter or digit)")
    if "data" not in form.files:
        errors.add("data", "required: the data file (CSV or Parquet)")
    parsed = SubmitForm(
        target=target or "",
        sensitive=sensitive,
        prediction=prediction,
        score=_text(one["score"], "score", MAX_COLUMN, errors),
        pos_label=_text(one["pos_label"], "pos_label", MAX_TEXT, errors),
        reference=references,
        policy=policy,
        model_name=model_name,
        model_version=_text(one["model_version"], "model_version", MAX_TEXT, errors),
        label=_text(one["label"], "label", MAX_TEXT, errors),
        task="regression" if task == "regression" else "classification",
    )
    if errors.items:
        detail = "; ".join(f"{e['loc'][1]}: {e['msg']}" for e in errors.items[:5])
        raise Problem(422, f"The submit is invalid: {detail}.", errors=errors.items)
    return parsed


def _check_references(references: list[str], sensitive: list[str], errors: _Errors) -> None:
    seen: set[str] = set()
    for item in references:
        column, sep, _ = item.partition("=")
        if not sep or not column:
            errors.add("reference", f"'{item[:60]}': write it as COLUMN=VALUE, e.g. sex=male")
        elif column not in sensitive:
            errors.add("reference", f"'{column[:60]}' is not one of the sensitive columns")
        elif column in seen:
            errors.add("reference", f"'{column[:60]}' has two reference groups")
        seen.add(column)


def request_digest(form: ReceivedForm) -> str:
    """SHA-256 over the fields and the files' digests: what makes two submits 'the same'."""
    payload = {
        "fields": {name: form.fields[name] for name in sorted(form.fields)},
        "files": {name: form.files[name].sha256 for name in sorted(form.files)},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def find_idempotent(session: Session, token_id: int, key: str) -> Audit | None:
    return session.scalar(
        select(Audit).where(Audit.submitted_by == token_id, Audit.idempotency_key == key)
    )


def check_capacity(session: Session, token_id: int, cap: int, uploading: int = 0) -> None:
    """Problem 429 when the token's queued or running audits, plus ``uploading`` (its other
    uploads in progress), already reach ``cap``."""
    active = session.scalar(
        select(func.count())
        .select_from(Audit)
        .where(Audit.submitted_by == token_id, Audit.status.in_(("queued", "running")))
    )
    active = active or 0
    if active + uploading >= cap:
        busy = f" and {uploading} being uploaded" if uploading else ""
        raise Problem(
            429,
            f"This token has {active} audits queued or running{busy} (at most {cap} "
            "together); wait for one to finish, or cancel one "
            "(POST /api/v1/audits/{id}/cancel).",
            headers={"Retry-After": RETRY_AFTER_FULL},
        )


def replay(audit: Audit, digest: str) -> dict[str, Any]:
    """The original audit's resource for a repeated key; Problem 422 if the payload differs."""
    if audit.request_sha256 != digest:
        raise Problem(
            422,
            "This Idempotency-Key was used for a different submit (other fields or files); "
            "use a new key for a new audit.",
            slug="idempotency-key-reused",
        )
    return audit_resource(audit, API_PATH)


def store_files(form: ReceivedForm, parsed: SubmitForm, settings: ServiceSettings) -> AuditParams:
    """Check each file, move it to its server-chosen name, and build the job's parameters."""
    data = form.files["data"]
    data_file, columns = check_data(data, settings)
    wanted = {"target": [parsed.target], "sensitive": parsed.sensitive}
    for name in ("prediction", "score"):
        value = getattr(parsed, name)
        if value is not None:
            wanted[name] = [value]
    check_columns(columns, wanted)
    model = form.files.get("model")
    model_file = check_model(model, settings) if model is not None else None
    metadata = form.files.get("metadata")
    metadata_file = check_metadata(metadata) if metadata is not None else None
    folder = data.path.parent
    moves = ((data, data_file), (model, model_file), (metadata, metadata_file))
    for staged, stored in moves:
        if staged is not None and stored is not None:
            os.replace(staged.path, folder / stored)
    return AuditParams(
        data_file=data_file,
        model_file=model_file,
        metadata_file=metadata_file,
        target=parsed.target,
        sensitive=parsed.sensitive,
        prediction=parsed.prediction,
        score=parsed.score,
        pos_label=parsed.pos_label,
        reference=parsed.reference,
        policy=parsed.policy,
        task=parsed.task,
        data_name=data.client_name,
        model_name_uploaded=model.client_name if model is not None else None,
    )


def _model_id(session: Session, name: str) -> int:
    """The id of the model called ``name``, created if new (safe against a concurrent create)."""
    found = session.scalar(select(Model.id).where(Model.name == name))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            model = Model(name=name)
            session.add(model)
        return model.id
    except IntegrityError:
        return session.scalars(select(Model.id).where(Model.name == name)).one()


def accept(
    sessions: sessionmaker[Session],
    settings: ServiceSettings,
    *,
    token_id: int,
    audit_id: str,
    form: ReceivedForm,
    idempotency_key: str | None,
) -> tuple[dict[str, Any], bool]:
    """Queue the audit whose files are in its inputs folder: (its resource, created?).

    created is False for an idempotent replay (the caller then removes the new folder).
    """
    digest = request_digest(form)
    if idempotency_key is not None:
        with transaction(sessions) as session:
            existing = find_idempotent(session, token_id, idempotency_key)
            if existing is not None:
                return replay(existing, digest), False
    parsed = parse_fields(form)
    params = store_files(form, parsed, settings)
    with transaction(sessions) as session:
        # One submit per token at a time from here (PostgreSQL; SQLite's BEGIN IMMEDIATE
        # already serialises writers): the cap and the key are checked and taken together.
        session.execute(select(ApiToken.id).where(ApiToken.id == token_id).with_for_update())
        if idempotency_key is not None:
            existing = find_idempotent(session, token_id, idempotency_key)
            if existing is not None:
                return replay(existing, digest), False
        check_capacity(session, token_id, settings.max_active_per_token)
        audit = Audit(
            id=audit_id,
            model_id=_model_id(session, parsed.model_name),
            model_version=parsed.model_version,
            label=parsed.label,
            status="queued",
            policy_name=parsed.policy,
            policy_sha256=policy_sha256(parsed.policy),
            data_sha256=form.files["data"].sha256,
            model_sha256=form.files["model"].sha256 if "model" in form.files else None,
            params=params.model_dump(mode="json"),
            engine_version=tool_version(),
            submitted_by=token_id,
            idempotency_key=idempotency_key,
            request_sha256=digest,
            max_attempts=settings.max_attempts,
        )
        session.add(audit)
        session.flush()
        session.refresh(audit)
        return audit_resource(audit, API_PATH), True
