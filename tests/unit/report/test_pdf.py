"""The PDF report: verdict on page 1, reproducible bytes, and a fetcher that loads nothing else."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from auditor.report import render_pdf
from auditor.report.html import render_html
from auditor.report.pdf import fetch_resource, html_to_pdf
from auditor.resources import templates_dir
from auditor.results import AuditRecord

Spy = tuple[Callable[[str], Any], list[tuple[str, str]]]


def _spy() -> Spy:
    """A fetch function that records every URL WeasyPrint asks for and what happened."""
    calls: list[tuple[str, str]] = []

    def fetch(url: str) -> Any:
        try:
            response = fetch_resource(url)
        except ValueError:
            calls.append((url, "refused"))
            raise
        calls.append((url, "served"))
        return response

    return fetch, calls


@pytest.fixture(scope="module")
def pdf(audit_result: AuditRecord) -> bytes:
    return render_pdf(audit_result)


@pytest.fixture(scope="module")
def spied(audit_result: AuditRecord) -> tuple[bytes, list[tuple[str, str]]]:
    """The same report rendered a second time, with every fetch recorded."""
    fetch, calls = _spy()
    body = html_to_pdf(render_html(audit_result), created="2026-03-01T09:30:00Z", fetch=fetch)
    return body, calls


def test_verdict_subject_and_date_are_on_page_one(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    first = reader.pages[0].extract_text()
    assert "FAILED" in first
    assert "german_credit_model.skops" in first
    assert "four-fifths" in first
    assert "2026-03-01" in first
    assert f"Page 1 of {len(reader.pages)}" in first


def test_pdf_metadata_comes_from_the_result(pdf: bytes) -> None:
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None
    assert meta.title == "Fairness audit of german_credit_model.skops – failed"
    assert meta.creation_date == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert meta.modification_date == meta.creation_date


def test_same_result_gives_byte_identical_pdf(
    pdf: bytes, spied: tuple[bytes, list[tuple[str, str]]]
) -> None:
    assert pdf.startswith(b"%PDF-")
    assert spied[0] == pdf
    assert b"/ID" not in pdf


def test_rendering_fetches_only_bundled_fonts_and_data_uris(
    spied: tuple[bytes, list[tuple[str, str]]],
) -> None:
    _, calls = spied
    assert not any("passwd" in url for url, _ in calls)
    root = templates_dir().resolve().as_uri()
    assert all(url.startswith(("data:", root)) for url, _ in calls)
    assert {outcome for _, outcome in calls} == {"served"}
    assert any(url.endswith("fonts/DejaVuSans.ttf") for url, _ in calls)


def test_a_hostile_document_gets_nothing_fetched() -> None:
    fetch, calls = _spy()
    html = (
        "<html><head><link rel=stylesheet href='http://example.com/a.css'></head><body>"
        "<img src='file:///etc/passwd'><img src='http://example.com/x.png'>"
        "<p style=\"background: url('ftp://example.com/y.png')\">hello</p></body></html>"
    )
    body = html_to_pdf(html, fetch=fetch)
    assert body.startswith(b"%PDF-")
    refused = {url for url, outcome in calls if outcome == "refused"}
    assert {"file:///etc/passwd", "http://example.com/x.png"} <= refused
    assert not [url for url, outcome in calls if outcome == "served" and "example" in url]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "fonts/DejaVuSans.ttf",
        "file://evil.example.com/share/fonts/DejaVuSans.ttf",
    ],
)
def test_fetcher_refuses_everything_but_data_and_package_files(url: str) -> None:
    with pytest.raises(ValueError, match="loads only data: URIs"):
        fetch_resource(url)


def test_fetcher_refuses_paths_that_climb_out_of_the_templates_dir() -> None:
    escape = templates_dir().resolve().as_uri() + "/../pyproject.toml"
    with pytest.raises(ValueError):
        fetch_resource(escape)
    with pytest.raises(ValueError):
        fetch_resource(templates_dir().resolve().as_uri() + "/fonts/missing.ttf")


def test_fetcher_serves_data_uris_and_bundled_fonts() -> None:
    response = fetch_resource("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello" and response.content_type == "text/plain"
    font = Path(templates_dir(), "fonts", "DejaVuSans.ttf").resolve()
    response = fetch_resource(font.as_uri())
    assert response.read() == font.read_bytes() and response.content_type == "font/ttf"


def test_pdf_is_tagged_pdf_ua(audit_result) -> None:  # type: ignore[no-untyped-def]
    """Headings, tables and alt text reach assistive technology: a tagged PDF/UA-1 file."""
    import io

    from pypdf import PdfReader

    from auditor.report.pdf import render_pdf

    reader = PdfReader(io.BytesIO(render_pdf(audit_result)))
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert catalog["/MarkInfo"]["/Marked"]
    assert catalog["/Lang"] == "en"
    metadata = catalog["/Metadata"].get_object().get_data()
    assert b"pdfuaid:part" in metadata
