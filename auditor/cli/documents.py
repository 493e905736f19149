"""Commands on audit.json files: `render` rebuilds the reports, `diff` compares two audits."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.cli.common import exits_cleanly, parse_formats, read_audit
from auditor.errors import EXIT_FAILED, EXIT_PASSED


@click.command()
@click.argument("audit_json", type=click.Path(path_type=Path))
@click.option("--format", "formats", default="html,pdf", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Default: the JSON file's folder.")
@exits_cleanly
def render(audit_json: Path, formats: str, out: Path | None) -> None:
    """Rebuild reports from an audit.json alone."""
    from auditor.report import write_reports

    result = read_audit(audit_json)
    written = write_reports(result, out or audit_json.parent, parse_formats(formats))
    for kind, path in written.items():
        click.echo(f"wrote {kind}: {path}")


@click.command()
@click.argument("base_json", type=click.Path(path_type=Path))
@click.argument("new_json", type=click.Path(path_type=Path))
@click.option(
    "--tolerance",
    type=float,
    default=0.01,
    show_default=True,
    help="Smallest change of a metric that is reported as a move.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "md"]),
    default="text",
    show_default=True,
    help="md: Markdown for a pull-request comment.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Also write the Markdown here.")
@exits_cleanly
def diff(base_json: Path, new_json: Path, tolerance: float, fmt: str, out: Path | None) -> None:
    """What changed between two audits; exit 1 on a regression, 0 otherwise."""
    from auditor.diff import compare_audits, render_diff_markdown, render_diff_text

    base, new = read_audit(base_json), read_audit(new_json)
    changes = compare_audits(base, new, tolerance=tolerance)
    markdown = render_diff_markdown(changes)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(markdown, encoding="utf-8")
    click.echo(f"base: {base_json}\nnew:  {new_json}\n")
    click.echo(markdown if fmt == "md" else render_diff_text(changes))
    sys.exit(EXIT_FAILED if changes.regressed else EXIT_PASSED)
