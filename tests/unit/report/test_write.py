"""write_reports: the files asked for, in a created directory; unknown formats refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import auditor.report
import auditor.report.html
import auditor.report.pdf
from auditor.report import write_reports
from auditor.results import AuditRecord


def test_public_api() -> None:
    assert set(auditor.report.__all__) == {
        "SUPPORTED_FORMATS",
        "render_html",
        "render_junit",
        "render_markdown",
        "render_notebook_html",
        "render_pdf",
        "write_reports",
    }


def test_writes_each_format_into_a_new_directory(
    audit_result: AuditRecord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auditor.report.pdf, "render_pdf", lambda result: b"%PDF-stub")
    monkeypatch.setattr(auditor.report.html, "render_html", lambda result: "<!DOCTYPE html>")
    out = tmp_path / "a" / "reports"
    written = write_reports(audit_result, out, ["json", "html", "pdf", "json"])
    assert written == {
        "json": out / "audit.json",
        "html": out / "report.html",
        "pdf": out / "report.pdf",
    }
    assert AuditRecord.from_json((out / "audit.json").read_text()) == audit_result
    assert (out / "report.html").read_text() == "<!DOCTYPE html>"
    assert (out / "report.pdf").read_bytes() == b"%PDF-stub"


def test_unknown_format_is_refused_before_writing(
    audit_result: AuditRecord, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    with pytest.raises(ValueError, match=r"'docx'; supported formats are json, html, pdf"):
        write_reports(audit_result, out, ["json", "docx"])
    assert not out.exists()
