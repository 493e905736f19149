"""Write the reports an audit asks for into one directory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from auditor.results import AuditRecord

_FILES = {
    "json": "audit.json",
    "html": "report.html",
    "pdf": "report.pdf",
    "junit": "junit.xml",
    "md": "summary.md",
}
SUPPORTED_FORMATS = tuple(_FILES)
_UNKNOWN = "unknown report format {name!r}; supported formats are {supported}"


def _json(result: AuditRecord) -> bytes:
    return result.to_json().encode("utf-8")


def _html(result: AuditRecord) -> bytes:
    from auditor.report.html import render_html

    return render_html(result).encode("utf-8")


def _pdf(result: AuditRecord) -> bytes:
    from auditor.report.pdf import render_pdf

    return render_pdf(result)


def _junit(result: AuditRecord) -> bytes:
    from auditor.report.junit import render_junit

    return render_junit(result).encode("utf-8")


def _md(result: AuditRecord) -> bytes:
    from auditor.report.markdown import render_markdown

    return render_markdown(result).encode("utf-8")


_RENDERERS: dict[str, Callable[[AuditRecord], bytes]] = {
    "json": _json,
    "html": _html,
    "pdf": _pdf,
    "junit": _junit,
    "md": _md,
}


def write_reports(result: AuditRecord, out_dir: Path, formats: Sequence[str]) -> dict[str, Path]:
    """Render ``result`` in each of ``formats`` and write the files into ``out_dir``.

    Parameters
    ----------
    result : AuditRecord
        The audit to write.
    out_dir : Path
        Directory for the files; created (with its parents) if missing.
    formats : sequence of str
        Any of "json" (``audit.json``), "html" (``report.html``), "pdf" (``report.pdf``),
        "junit" (``junit.xml``), "md" (``summary.md``).

    Returns
    -------
    dict of str to Path
        The path written for each format, in the order asked.

    Raises
    ------
    ValueError
        If a format is not supported; nothing is written then.
    """
    unknown = [name for name in formats if name not in _RENDERERS]
    if unknown:
        supported = ", ".join(SUPPORTED_FORMATS)
        raise ValueError(_UNKNOWN.format(name=unknown[0], supported=supported))
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in dict.fromkeys(formats):  # each format once, in the order given
        path = out_dir / _FILES[name]
        path.write_bytes(_RENDERERS[name](result))
        written[name] = path
    return written
