"""The terminal summary: the verdict first, then what failed, then where the reports are."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from auditor.report.findings import sorted_findings
from auditor.results import AuditRecord, Finding

_SYMBOL = {
    "pass": "✔ pass",
    "fail": "✘ fail",
    "insufficient_data": "? too few",
    "error": "! error",
    "waived": "⚑ waived",
}
_VERDICT_STYLE = {"passed": "bold green", "failed": "bold red", "inconclusive": "bold yellow"}
MAX_ROWS = 15


def _interesting(findings: list[Finding]) -> list[Finding]:
    """The report's order (failures first), without the passes."""
    shown = ("error", "fail", "waived", "insufficient_data")
    return [f for f in sorted_findings(findings) if f.verdict in shown]


def print_summary(result: AuditRecord, written: Mapping[str, Path]) -> None:
    """Print the verdict, a table of the failed and undecided findings, and the files written."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not console.is_terminal:  # piped or in CI: rich would wrap at 80 columns
        console = Console(highlight=False, width=160)
    counts = {v: sum(f.verdict == v for f in result.findings) for v in _SYMBOL}
    style = _VERDICT_STYLE[result.verdict]
    console.print(
        f"[{style}]Audit {result.verdict.upper()}[/] against policy '{result.policy.name}' "
        f"(fails on severity ≥ {result.fail_on}): {counts['fail']} failed, {counts['pass']} "
        f"passed, {counts['waived']} waived, {counts['insufficient_data']} insufficient data, "
        f"{counts['error']} errors."
    )
    shown = _interesting(result.findings)
    if shown:
        table = Table(show_lines=False, header_style="bold")
        for column in ("verdict", "rule", "group", "value", "limit", "n"):
            table.add_column(column, overflow="fold", no_wrap=column in ("verdict", "value"))
        for f in shown[:MAX_ROWS]:
            table.add_row(
                f"{_SYMBOL[f.verdict]} ({f.severity})",
                f.rule_id,
                f.group or f.attribute or "all rows",
                "–" if f.value is None else f"{f.value:.3f}",
                f.threshold_text,
                "–" if f.n is None else f"{f.n:,}",
                style="red" if f.verdict in ("fail", "error") and f.severity == "error" else None,
            )
        console.print(table, markup=False)
        if len(shown) > MAX_ROWS:
            console.print(f"... and {len(shown) - MAX_ROWS} more; see the report.")
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
    for kind, path in written.items():
        console.print(f"wrote {kind}: {path}", markup=False)
