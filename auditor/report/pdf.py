"""The PDF report: the HTML report laid out by WeasyPrint, with a locked-down URL fetcher.

WeasyPrint would otherwise fetch any ``http:``, ``https:``, ``ftp:`` or ``file:`` URL a
document names. :func:`fetch_resource` serves only ``data:`` URIs and files inside
:func:`~auditor.resources.templates_dir` (the bundled fonts); everything else raises
:class:`ValueError`, which WeasyPrint reports as a warning and skips, having fetched nothing.
Fonts are bundled (DejaVu Sans) so the text renders the same on a machine without any system
font, and the PDF's dates come from the audit's provenance, so the same result gives the same
bytes.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from auditor.report.context import build_context
from auditor.report.html import render_context
from auditor.resources import templates_dir
from auditor.results import AuditRecord

PDF_STYLESHEET = "report-pdf.css"
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_REFUSED = "auditor's PDF renderer loads only data: URIs and its own template files; refused {url}"

Fetch = Callable[[str], Any]
_SFNT_VERSIONS = (b"\x00\x01\x00\x00", b"OTTO", b"true")


def _short(url: str) -> str:
    return repr(url if len(url) <= 80 else url[:77] + "...")


def _data_uri(url: str) -> tuple[bytes, str]:
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise ValueError(f"malformed data: URI {_short(url)}")
    if header.endswith(";base64"):
        body = base64.b64decode(payload, validate=False)
        header = header[: -len(";base64")]
    else:
        body = unquote_to_bytes(payload)
    return body, header.split(";")[0] or "text/plain"


def _package_file(url: str) -> tuple[bytes, str]:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(_REFUSED.format(url=_short(url)))
    root = templates_dir().resolve()
    path = Path(url2pathname(parts.path)).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise ValueError(_REFUSED.format(url=_short(url)))
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".ttf":
        kind = "font/ttf"
    return path.read_bytes(), kind


def fetch_resource(url: str) -> Any:
    """Serve ``url`` to WeasyPrint if it is a ``data:`` URI or a file of the templates dir.

    Returns
    -------
    weasyprint.urls.URLFetcherResponse
        The body and its content type.

    Raises
    ------
    ValueError
        For every other URL: ``http:``, ``https:``, ``ftp:``, a ``file:`` outside the
        templates directory (after resolving ``..`` and symlinks), or no scheme at all.
    """
    from weasyprint.urls import URLFetcherResponse

    match = _SCHEME.match(url)
    scheme = match.group(1).lower() if match else ""
    if scheme == "data":
        body, kind = _data_uri(url)
    elif scheme == "file":
        body, kind = _package_file(url)
    else:
        raise ValueError(_REFUSED.format(url=_short(url)))
    return URLFetcherResponse(url, body, headers={"Content-Type": kind})


def _fetcher(fetch: Fetch) -> Any:
    """A WeasyPrint URLFetcher whose only way to load anything is ``fetch``."""
    from weasyprint.urls import URLFetcher

    class _LockedFetcher(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> Any:
            return fetch(url)

    return _LockedFetcher(allowed_protocols=("data", "file"))


def _checksum(block: bytes | bytearray) -> int:
    padded = bytes(block) + b"\0" * (-len(block) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def stable_font(font: bytes) -> bytes:
    """Give a subset font a fixed ``head.modified`` (its ``head.created``) and fix checksums.

    WeasyPrint subsets fonts with fontTools when HarfBuzz-Subset is missing, and fontTools
    stamps the current time into the subset's ``head`` table, which would make every PDF
    different. Anything that is not an sfnt font is returned unchanged.
    """
    if font[:4] not in _SFNT_VERSIONS or len(font) < 12:
        return font
    data = bytearray(font)
    (tables,) = struct.unpack_from(">H", data, 4)
    for record in range(12, 12 + 16 * tables, 16):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, record)
        if tag == b"head" and length >= 36 and offset + length <= len(data):
            data[offset + 28 : offset + 36] = data[offset + 20 : offset + 28]
            struct.pack_into(">I", data, offset + 8, 0)  # checkSumAdjustment
            struct.pack_into(">I", data, record + 4, _checksum(data[offset : offset + length]))
            struct.pack_into(">I", data, offset + 8, (0xB1B0AFBA - _checksum(data)) & 0xFFFFFFFF)
            return bytes(data)
    return font


def _stabilise_fonts(document: Any, pdf: Any) -> None:
    """WeasyPrint finisher: make every embedded font file independent of the clock."""
    for obj in pdf.objects:
        extra = getattr(obj, "extra", None) or {}
        is_font = "Length1" in extra or extra.get("Subtype") == "/OpenType"
        body = getattr(obj, "stream", None)
        if is_font and isinstance(body, list) and len(body) == 1 and isinstance(body[0], bytes):
            body[0] = stable_font(body[0])


def html_to_pdf(html: str, *, created: str = "", fetch: Fetch = fetch_resource) -> bytes:
    """Lay out an HTML report as PDF bytes with the bundled fonts and the locked fetcher.

    ``created`` (a W3C timestamp such as ``2026-01-31T12:00:00Z``) becomes the PDF's creation
    and modification date; no random file identifier is written.
    """
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    root = templates_dir()
    base_url = root.resolve().as_uri() + "/"
    fetcher = _fetcher(fetch)
    fonts = FontConfiguration()
    stylesheet = CSS(
        string=(root / PDF_STYLESHEET).read_text(encoding="utf-8"),
        base_url=base_url,
        url_fetcher=fetcher,
        font_config=fonts,
    )
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=[stylesheet], font_config=fonts
    )
    document.metadata.created = created or None
    document.metadata.modified = created or None
    pdf: bytes = document.write_pdf(
        # Tagged PDF/UA-1: headings, tables with header links and alt text reach screen readers.
        pdf_variant="pdf/ua-1",
        pdf_identifier=False,
        finisher=_stabilise_fonts,
    )
    return pdf


def render_pdf(result: AuditRecord) -> bytes:
    """Render the audit result as a PDF document (A4, page numbers, bundled fonts).

    The same result gives byte-identical PDF bytes: dates come from
    ``result.provenance.created`` and the file carries no random identifier.
    """
    context = build_context(result)
    return html_to_pdf(render_context(context), created=context.created_w3c)
