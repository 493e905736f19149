"""Renderers: pure functions of an :class:`~auditor.results.AuditRecord`.

``render_html`` and ``render_pdf`` give the documents for reviewers, ``render_junit`` and
``render_markdown`` the JUnit XML and Markdown summary for CI; ``write_reports`` writes
``audit.json``, ``report.html``, ``report.pdf``, ``junit.xml`` and ``summary.md`` into a
directory. Nothing here computes a measurement or a verdict: every number shown is read from
the result.
"""

from __future__ import annotations

from auditor.report.html import render_html, render_notebook_html
from auditor.report.junit import render_junit
from auditor.report.markdown import render_markdown
from auditor.report.pdf import render_pdf
from auditor.report.write import SUPPORTED_FORMATS, write_reports

__all__ = [
    "SUPPORTED_FORMATS",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_notebook_html",
    "render_pdf",
    "write_reports",
]
