"""Response bodies of the JSON API (pydantic models: the schemas of ``/openapi.json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
Verdict = Literal["pass", "fail", "inconclusive"]


class AuditError(BaseModel):
    """Why a job failed: ``type`` is usage, input_rejected, internal, timeout, worker_lost..."""

    type: str
    detail: str


class AuditInputs(BaseModel):
    """SHA-256 of the uploaded data and model files (None: no model, a decision log)."""

    data_sha256: str
    model_sha256: str | None


class AuditSummary(BaseModel):
    """Findings judged by the policy, and how many failed or were inconclusive (when done)."""

    checks: int | None
    failed: int | None
    inconclusive: int | None


class AuditLinks(BaseModel):
    """Where to poll, cancel, download and view the audit."""

    self: str
    ui: str = Field(description="The audit's page")
    cancel: str | None = Field(default=None, description="While queued or running")
    artifacts: dict[str, str] | None = Field(
        default=None, description="Artefact name -> URL, once succeeded"
    )


class AuditResource(BaseModel):
    """An audit: the job (``status``) and, once it has succeeded, its outcome (``verdict``)."""

    id: str = Field(description="UUID4")
    model_name: str
    model_version: str | None
    label: str | None
    policy: str
    status: JobStatus
    verdict: Verdict | None
    cancel_requested: bool = Field(description="A cancel was asked while it ran")
    attempts: int
    error: AuditError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    inputs: AuditInputs
    summary: AuditSummary
    links: AuditLinks


class AuditPage(BaseModel):
    """One page of audits, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[AuditResource]
    next_cursor: str | None


class ModelItem(BaseModel):
    """A model name (the key of its history) with its number of audits, its newest audit, and
    the verdict of its newest succeeded audit (which may be an older one)."""

    name: str
    audits: int
    last_status: JobStatus | None = Field(description="The job status of the newest audit")
    last_audit_at: datetime | None = Field(description="When the newest audit was submitted")
    last_audit_id: str | None = Field(description="The newest audit, whatever its status")
    last_verdict: Verdict | None = Field(
        description="The verdict of the newest succeeded audit; null if none has succeeded"
    )
    last_verdict_at: datetime | None = Field(
        description="When the newest succeeded audit was submitted"
    )
    last_verdict_audit_id: str | None = Field(description="The newest succeeded audit")


class ModelList(BaseModel):
    items: list[ModelItem]


class MetricKeys(BaseModel):
    """A metric measured for a model, and the group keys it has ('' is over all rows)."""

    metric: str
    groups: list[str]


class ModelMetrics(BaseModel):
    """What can be charted: every measured metric, and those a policy rule judged."""

    model: str
    metrics: list[MetricKeys]
    key_metrics: list[str]


class TrendPointOut(BaseModel):
    """One value of the metric in one succeeded audit, for one group."""

    audit_id: str
    created_at: datetime
    model_version: str | None
    group: str = Field(description="Group key, e.g. 'sex=female'; '' is over all rows")
    value: float | None = Field(description="None: undefined or too few rows")
    ci_low: float | None
    ci_high: float | None
    verdict: str | None = Field(
        description="The rule's verdict on this value (pass, fail, insufficient_data...)"
    )
    audit_verdict: Verdict | None
    threshold_min: float | None
    threshold_max: float | None
    reference_group: str | None = Field(
        description="The group a ratio or difference was measured against (null: none). It can "
        "change between audits (by default the largest group): values measured against "
        "different references do not compare"
    )


class TrendSeries(BaseModel):
    """The values of one metric over a model's succeeded audits, oldest first."""

    model: str
    metric: str
    group: str | None
    points: list[TrendPointOut]


class PolicyItem(BaseModel):
    """A built-in policy, usable as the ``policy`` field of a submit."""

    name: str
    description: str
    rules: int
    sha256: str


class PolicyList(BaseModel):
    items: list[PolicyItem]
    default: str
