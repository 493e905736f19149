"""The HTML report: the view model rendered through autoescaped jinja2 templates.

The page is self-contained (CSS in a ``<style>`` tag, charts as ``data:`` URIs) and carries a
Content-Security-Policy that forbids every fetch except inline styles and ``data:`` images, so
it works offline and a hostile value in the data cannot load anything.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from auditor.report.context import ReportContext, build_context
from auditor.resources import templates_dir
from auditor.results import AuditRecord

TEMPLATE = "report.html.j2"


@lru_cache(maxsize=1)
def word_breaks(text: str) -> Markup:
    """Escape ``text`` and allow line breaks after '.' and '_' in long identifiers."""
    escaped = escape(text)
    return Markup(escaped.replace(".", Markup(".<wbr>")).replace("_", Markup("_<wbr>")))


def environment() -> Environment:
    """Return the jinja2 environment of the report templates (autoescape always on)."""
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        # On for .html.j2 and for anything else too: the report has no template whose output
        # should not be HTML-escaped.
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["wbr"] = word_breaks
    return env


def render_context(context: ReportContext) -> str:
    """Render an already built view model to the HTML document."""
    return environment().get_template(TEMPLATE).render(r=context)


def render_html(result: AuditRecord) -> str:
    """Render the audit result as one self-contained HTML document.

    Parameters
    ----------
    result : AuditRecord
        The audit to show; nothing is computed from raw data.

    Returns
    -------
    str
        The HTML page; the same result always gives the same text.
    """
    return render_context(build_context(result))


NOTEBOOK_TEMPLATE = "notebook.html.j2"
NOTEBOOK_MAX_ROWS = 25


def render_notebook_html(result: AuditRecord) -> str:
    """A compact HTML fragment for notebooks: verdict, summary, failed and undecided findings."""
    context = build_context(result, with_charts=False)
    shown = [f for f in context.findings if f.verdict.css != "pass"][:NOTEBOOK_MAX_ROWS]
    return environment().get_template(NOTEBOOK_TEMPLATE).render(r=context, rows=shown)
