"""``auditor diff``: compare a base audit with a new one and say what changed.

::

    diff = compare_audits(AuditRecord.from_json(base_text), AuditRecord.from_json(new_text))
    print(render_diff_text(diff))
    exit_code = 1 if diff.regressed else 0

This package reads :mod:`auditor.results` only (and raises :mod:`auditor.errors`); it computes
in :mod:`auditor.diff.compare` and formats in :mod:`auditor.diff.render`.
"""

from __future__ import annotations

from auditor.diff.compare import (
    AuditDiff,
    FindingChange,
    GroupChange,
    MetricChange,
    compare_audits,
)
from auditor.diff.render import render_diff_markdown, render_diff_text

__all__ = [
    "AuditDiff",
    "FindingChange",
    "GroupChange",
    "MetricChange",
    "compare_audits",
    "render_diff_markdown",
    "render_diff_text",
]
