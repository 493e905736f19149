"""View models of the pages: database rows turned into the strings and links templates show.

Templates only format what these dataclasses hold; nothing is computed in a template. A job's
status (queued, running, succeeded, failed, canceled) and an audit's verdict (pass, fail,
inconclusive) are shown apart, each with a word and a symbol: a failed job is not a failed audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from auditor.service.db import JOB_STATUSES, VERDICTS, Audit
from auditor.service.queries import ModelSummary, as_utc
from auditor.service.storage import ARTIFACTS


@dataclass(frozen=True)
class Badge:
    """A status or verdict as symbol + word; ``css`` picks its colour, ``title`` explains it."""

    symbol: str
    word: str
    css: str
    title: str


VERDICT_BADGES = {
    "pass": Badge("✔", "pass", "pass", "The audit passed its policy."),
    "fail": Badge("✘", "fail", "fail", "The audit ran and the policy failed."),
    "inconclusive": Badge(
        "?", "inconclusive", "inconclusive", "The audit ran but could not decide (too few rows)."
    ),
}
STATUS_BADGES = {
    "queued": Badge("◷", "queued", "queued", "Waiting for a worker."),
    "running": Badge("▶", "running", "running", "A worker is running the audit."),
    "succeeded": Badge("■", "succeeded", "succeeded", "The job finished; see the verdict."),
    "failed": Badge(
        "⚠", "job failed", "job-failed", "The job could not run the audit: no verdict."
    ),
    "canceled": Badge("⊘", "canceled", "canceled", "The job was canceled: no verdict."),
}
NO_VERDICT = Badge("–", "no verdict", "none", "Only a succeeded job has a verdict.")


def verdict_badge(verdict: str | None) -> Badge:
    return VERDICT_BADGES.get(verdict or "", NO_VERDICT)


def status_badge(status: str) -> Badge:
    return STATUS_BADGES.get(status, Badge("?", status, "none", "Unknown status."))


def format_time(moment: datetime | None) -> str:
    """'2025-01-03 14:05 UTC', or '–'."""
    return "–" if moment is None else as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def format_duration(started: datetime | None, finished: datetime | None) -> str:
    """How long a job ran: '42 s', '3 min 04 s', '1 h 02 min'; '–' when it has not run."""
    if started is None or finished is None:
        return "–"
    seconds = max(0, round((as_utc(finished) - as_utc(started)).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_size(size: int) -> str:
    """'812 bytes', '14.2 KiB', '3.1 MiB'."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KiB"
    return f"{size / (1024 * 1024):,.1f} MiB"


def audit_href(audit_id: str) -> str:
    return f"/ui/audits/{audit_id}"


def model_href(name: str) -> str:
    return f"/ui/models/{quote(name, safe='')}"


def artifact_href(audit_id: str, name: str) -> str:
    return f"/ui/audits/{audit_id}/artifacts/{name}"


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit list."""

    href: str
    short_id: str
    model: str
    model_href: str
    version: str
    label: str
    created: str
    duration: str
    status: Badge
    verdict: Badge
    error_type: str


def audit_row(audit: Audit) -> AuditRow:
    return AuditRow(
        href=audit_href(audit.id),
        short_id=audit.id[:8],
        model=audit.model.name,
        model_href=model_href(audit.model.name),
        version=audit.model_version or "–",
        label=audit.label or "",
        created=format_time(audit.created_at),
        duration=format_duration(audit.started_at, audit.finished_at),
        status=status_badge(audit.status),
        verdict=verdict_badge(audit.verdict if audit.status == "succeeded" else None),
        error_type=audit.error_type or "" if audit.status == "failed" else "",
    )


@dataclass(frozen=True)
class Choice:
    value: str
    text: str
    selected: bool


@dataclass(frozen=True)
class AuditListPage:
    """The audit list: rows, the filter form's choices, paging links, the empty state."""

    rows: tuple[AuditRow, ...]
    models: tuple[Choice, ...]
    statuses: tuple[Choice, ...]
    verdicts: tuple[Choice, ...]
    filtered: bool
    next_href: str | None
    first_href: str | None
    submit_example: str


def _choices(values: list[str] | tuple[str, ...], chosen: str | None) -> tuple[Choice, ...]:
    return (Choice("", "any", chosen is None), *(Choice(v, v, v == chosen) for v in values))


def list_href(**params: str | None) -> str:
    """/ui/audits with the given non-empty query parameters."""
    query = urlencode({k: v for k, v in params.items() if v})
    return "/ui/audits" + (f"?{query}" if query else "")


def audit_list_page(
    audits: list[Audit],
    next_cursor: str | None,
    *,
    models: list[str],
    model: str | None,
    status: str | None,
    verdict: str | None,
    limit: int | None,
    cursor: str | None,
    base_url: str,
) -> AuditListPage:
    size = str(limit) if limit else None
    names = list(models)
    if model is not None and model not in names:
        names.append(model)
    return AuditListPage(
        rows=tuple(audit_row(a) for a in audits),
        models=_choices(names, model),
        statuses=_choices(JOB_STATUSES, status),
        verdicts=_choices(VERDICTS, verdict),
        filtered=any((model, status, verdict)),
        next_href=None
        if next_cursor is None
        else list_href(model=model, status=status, verdict=verdict, limit=size, cursor=next_cursor),
        first_href=None
        if not cursor
        else list_href(model=model, status=status, verdict=verdict, limit=size),
        submit_example=submit_example(base_url),
    )


def submit_example(base_url: str) -> str:
    """The curl command a newcomer can copy to submit a first audit."""
    root = base_url.rstrip("/")
    return (
        "auditor token create --scope submit   # prints a token once\n"
        "export AUDITOR_TOKEN=aud_...\n"
        f'curl -H "Authorization: Bearer $AUDITOR_TOKEN" \\\n'
        "  -F data=@decisions.csv -F prediction=decision -F target=credit \\\n"
        "  -F pos_label=1 -F sensitive=sex -F sensitive=age_group \\\n"
        "  -F model_name=credit-scoring -F model_version=1.0 \\\n"
        f"  {root}/api/v1/audits"
    )


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    mono: bool = False


@dataclass(frozen=True)
class ArtifactLink:
    name: str
    href: str
    media_type: str
    size: str
    sha256: str


@dataclass(frozen=True)
class AuditPage:
    """One audit: outcome, facts, inputs, summary, error, artefacts and the embedded report."""

    id: str
    model: str
    model_href: str
    version: str
    label: str
    status: Badge
    verdict: Badge
    succeeded: bool
    active: bool
    facts: tuple[Fact, ...]
    inputs: tuple[Fact, ...]
    summary: tuple[Fact, ...]
    error_type: str | None
    error_detail: str | None
    artifacts: tuple[ArtifactLink, ...]
    report_href: str | None
    api_href: str


def audit_page(audit: Audit) -> AuditPage:
    """The view of one audit (reads its model and artefacts: call inside the session)."""
    artifacts = sorted(audit.artifacts, key=lambda a: list(ARTIFACTS).index(a.name))
    links = tuple(
        ArtifactLink(
            name=a.name,
            href=artifact_href(audit.id, a.name),
            media_type=a.media_type,
            size=format_size(a.size),
            sha256=a.sha256,
        )
        for a in artifacts
    )
    failed = audit.status == "failed" or audit.error_type is not None
    summary: tuple[Fact, ...] = ()
    if audit.checks is not None:
        summary = (
            Fact("Findings judged", f"{audit.checks:,}"),
            Fact("Failed", f"{audit.failed or 0:,}"),
            Fact("Inconclusive", f"{audit.inconclusive or 0:,}"),
        )
    return AuditPage(
        id=audit.id,
        model=audit.model.name,
        model_href=model_href(audit.model.name),
        version=audit.model_version or "",
        label=audit.label or "",
        status=status_badge(audit.status),
        verdict=verdict_badge(audit.verdict if audit.status == "succeeded" else None),
        succeeded=audit.status == "succeeded",
        active=audit.status in ("queued", "running"),
        facts=(
            Fact("Audit id", audit.id, mono=True),
            Fact("Policy", audit.policy_name),
            Fact("Created", format_time(audit.created_at)),
            Fact("Started", format_time(audit.started_at)),
            Fact("Finished", format_time(audit.finished_at)),
            Fact("Duration", format_duration(audit.started_at, audit.finished_at)),
            Fact("Attempts", f"{audit.attempts} of at most {audit.max_attempts}"),
            Fact("auditor version", audit.engine_version),
        ),
        inputs=(
            Fact("Data SHA-256", audit.data_sha256, mono=True),
            Fact("Model SHA-256", audit.model_sha256 or "– (a decision log: no model)", True),
            Fact("Policy SHA-256", audit.policy_sha256 or "–", mono=True),
        ),
        summary=summary,
        error_type=(audit.error_type or "unknown") if failed else None,
        error_detail=(audit.error_detail or "") if failed else None,
        artifacts=links,
        report_href=next((a.href for a in links if a.name == "report.html"), None),
        api_href=f"/api/v1/audits/{audit.id}",
    )


@dataclass(frozen=True)
class ModelRow:
    """A model: its newest audit (and that job's status) and its newest verdict.

    The verdict is the newest *succeeded* audit's, which is an older audit while a new one is
    queued or running (or when the newest job failed): ``verdict_is_older`` says so.
    """

    name: str
    href: str
    audits: int
    last_status: Badge | None
    last_audit_at: str
    last_audit_href: str | None
    last_verdict: Badge
    last_verdict_at: str
    last_verdict_href: str | None
    verdict_is_older: bool
    audits_href: str


def model_rows(models: list[ModelSummary]) -> tuple[ModelRow, ...]:
    """The models page: each model with its audit count, newest audit and newest verdict."""
    return tuple(
        ModelRow(
            name=m.name,
            href=model_href(m.name),
            audits=m.audits,
            last_status=None if m.last_status is None else status_badge(m.last_status),
            last_audit_at=format_time(m.last_audit_at),
            last_audit_href=None if m.last_audit_id is None else audit_href(m.last_audit_id),
            last_verdict=verdict_badge(m.last_verdict),
            last_verdict_at=format_time(m.last_verdict_at),
            last_verdict_href=None
            if m.last_verdict_audit_id is None
            else audit_href(m.last_verdict_audit_id),
            verdict_is_older=m.last_verdict_audit_id is not None
            and m.last_verdict_audit_id != m.last_audit_id,
            audits_href=list_href(model=m.name),
        )
        for m in models
    )
