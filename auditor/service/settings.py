"""Every setting of the service, from ``auditor serve`` flags or ``AUDITOR_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class ServiceSettings(BaseSettings):
    """The service's configuration; environment variables are ``AUDITOR_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="AUDITOR_", extra="forbid", frozen=True)

    data_dir: Path = Field(default=Path("auditor-data"), description="Uploads, reports, SQLite")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in the data dir"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=2, ge=0, description="Worker processes (0: API only)")
    # Uploads: each file has its own cap, the whole request one more.
    max_data_bytes: int = 512 * MIB
    max_model_bytes: int = 256 * MIB
    max_metadata_bytes: int = 1 * MIB
    # Decompression bombs: a skops zip or a Parquet file may not unpack to more than this.
    max_unpacked_bytes: int = 4096 * MIB
    max_zip_entries: int = 10_000
    max_zip_ratio: float = 200.0
    max_data_rows: int = Field(default=100_000_000, ge=1, description="Rows of a Parquet upload")
    max_concurrent_uploads: int = Field(
        default=8, ge=1, description="Submits received at once by the API (then 503)"
    )
    min_free_disk_mb: int = Field(
        default=1024, ge=0, description="Free space kept on the data dir's disk (then 507)"
    )
    # Jobs
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 10.0
    poll_seconds: float = 0.5
    max_attempts: int = Field(default=2, ge=1)
    audit_timeout_seconds: float = 1800.0
    audit_memory_mb: int = Field(default=6144, ge=256, description="RLIMIT_AS of each audit")
    cancel_grace_seconds: float = 10.0
    max_active_per_token: int = Field(
        default=5, ge=1, description="Queued or running audits, and uploads in progress"
    )
    # Retention: workers sweep at most every sweep_seconds.
    retention_days: int | None = Field(
        default=None, ge=1, description="Delete finished audits older than this; None: keep"
    )
    sweep_seconds: float = Field(
        default=600.0, gt=0, description="How often a worker removes orphans and old audits"
    )
    # HTTP
    trusted_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost", "[::1]"])
    cors_origins: list[str] = Field(default_factory=list)
    migrate: bool = Field(default=True, description="Run alembic upgrade head at start-up")

    @property
    def url(self) -> str:
        """The database URL, SQLite in the data dir unless one was given."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'auditor.db').resolve()}"

    @property
    def audits_dir(self) -> Path:
        return self.data_dir.resolve() / "audits"
