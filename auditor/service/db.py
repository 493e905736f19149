"""The service's tables (SQLAlchemy 2); alembic's migrations create them, never ``create_all``.

Times are timezone-aware UTC. Ids of audits are UUID4 strings (36 characters) so that SQLite
and PostgreSQL store and compare them alike.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "canceled")
FINISHED = ("succeeded", "failed", "canceled")
VERDICTS = ("pass", "fail", "inconclusive")
SCOPES = ("read", "submit", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class ApiToken(Base):
    """A bearer token: only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100), doc="space-separated, e.g. 'read submit'")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Model(Base):
    """A model's name: the key of its audit history and trends."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Audit(Base):
    """One submitted audit: the job (status, lease) and its outcome (verdict), kept apart."""

    __tablename__ = "audits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    model_version: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    verdict: Mapped[str | None] = mapped_column(String(16))
    policy_name: Mapped[str] = mapped_column(String(200))
    policy_sha256: Mapped[str | None] = mapped_column(String(64))
    data_sha256: Mapped[str] = mapped_column(String(64))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    engine_version: Mapped[str] = mapped_column(String(50))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=2)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    error_type: Mapped[str | None] = mapped_column(String(50))
    error_detail: Mapped[str | None] = mapped_column(Text)
    checks: Mapped[int | None] = mapped_column(Integer, doc="findings judged")
    failed: Mapped[int | None] = mapped_column(Integer, doc="findings that failed")
    inconclusive: Mapped[int | None] = mapped_column(Integer, doc="findings inconclusive")

    model: Mapped[Model] = relationship(lazy="joined")
    metrics: Mapped[list[AuditMetric]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    artifacts: Mapped[list[AuditArtifact]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_audits_status_created", "status", "created_at"),
        Index("ix_audits_model_created", "model_id", "created_at"),
        Index("ix_audits_created_id", "created_at", "id"),
        UniqueConstraint("submitted_by", "idempotency_key", name="uq_audits_idempotency"),
    )


class AuditMetric(Base):
    """One measured value of one audit, for one group (empty key: over all rows)."""

    __tablename__ = "audit_metrics"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    audit_id: Mapped[str] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    created_at: Mapped[datetime]
    metric: Mapped[str] = mapped_column(String(200))
    group_key: Mapped[str] = mapped_column(String(500), default="")
    reference_group: Mapped[str | None] = mapped_column(String(500))
    value: Mapped[float | None] = mapped_column(Float, doc="None: undefined or insufficient")
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str | None] = mapped_column(
        String(32), doc="a finding's verdict, e.g. insufficient_data"
    )
    threshold_min: Mapped[float | None] = mapped_column(Float)
    threshold_max: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_metrics_trend", "model_id", "metric", "group_key", "created_at"),
        Index("ix_metrics_audit", "audit_id"),
    )


class AuditArtifact(Base):
    """A result file of an audit; ``relpath`` is chosen by the server, never by a request."""

    __tablename__ = "audit_artifacts"

    audit_id: Mapped[str] = mapped_column(
        ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    relpath: Mapped[str] = mapped_column(String(200))
