"""Serving an audit's result files: fixed names, ETags, and a sandbox for the HTML report.

Shared by the API (``/api/v1/audits/{id}/artifacts/{name}``) and the pages (``/ui/...``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from auditor.service.db import Audit, AuditArtifact
from auditor.service.problems import Problem
from auditor.service.storage import ARTIFACTS, artifact_path, parse_audit_id

# The report is our own HTML, but it shows user data: no script, no network, no same origin.
REPORT_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def find_audit(session: Session, audit_id: str) -> Audit:
    """The audit with this id; Problem 404 for a malformed or unknown id."""
    try:
        canonical = parse_audit_id(audit_id)
    except ValueError:
        raise Problem(404, f"No audit '{audit_id[:60]}'.") from None
    audit = session.get(Audit, canonical)
    if audit is None:
        raise Problem(404, f"No audit '{canonical}'.")
    return audit


def artifact_response(
    request: Request, session: Session, audits_root: Path, audit_id: str, name: str
) -> Response:
    """The artefact ``name`` of an audit: 404 unknown, 409 not ready, 304 when the ETag matches."""
    if name not in ARTIFACTS:
        raise Problem(404, f"No artefact '{name[:60]}'; there are {', '.join(ARTIFACTS)}.")
    audit = find_audit(session, audit_id)
    row = session.get(AuditArtifact, (audit.id, name))
    if row is None:
        if audit.status in ("queued", "running"):
            raise Problem(
                409,
                f"The audit is {audit.status}; its artefacts are ready when it has succeeded.",
                slug="artifact-not-ready",
                headers={"Retry-After": "2"},
            )
        raise Problem(404, f"The audit ({audit.status}) has no '{name}'.")
    etag = f'"{row.sha256}"'
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    path = artifact_path(audits_root, audit.id, name)
    if not path.is_file():
        raise Problem(404, f"The file of '{name}' is gone (deleted or lost).")
    headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate"}
    download = _download_name(audit, name)
    disposition = "inline" if name in ("report.html", "report.pdf") else "attachment"
    headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(download)}"
    if name == "report.html":
        headers["Content-Security-Policy"] = REPORT_CSP
    return FileResponse(path, media_type=ARTIFACTS[name], headers=headers)


def _download_name(audit: Audit, name: str) -> str:
    """'<model>-<version>-<name>': readable, from stored values, quoted in the header."""
    parts = [audit.model.name, audit.model_version or audit.id[:8], name]
    return "-".join(p for p in parts if p)
