"""The command line: parse options, call the library, map errors to exit codes. Nothing else."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.errors import (
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INTERNAL,
    EXIT_PASSED,
    AuditorError,
    UsageError,
)

F = TypeVar("F", bound=Callable[..., Any])
# The same names as auditor.report.SUPPORTED_FORMATS (a test keeps them equal); written here so
# that `auditor --help` does not import the renderers.
REPORT_FORMATS = ("html", "pdf", "json", "junit", "md")
_VERDICT_EXIT = {"passed": EXIT_PASSED, "failed": EXIT_FAILED, "inconclusive": EXIT_INCONCLUSIVE}


def _exits_cleanly(command: F) -> F:
    """Turn AuditorError into its exit code and any other exception into exit 70."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuditorError as exc:
            click.echo(f"{type(exc).__name__}: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:  # `auditor policy list | head`: the reader left, not a bug
            _silence_stdout()
            sys.exit(EXIT_PASSED)
        except Exception:
            traceback.print_exc()
            click.echo(
                "InternalError: auditor failed unexpectedly (a bug; please report it).", err=True
            )
            sys.exit(EXIT_INTERNAL)

    return run  # type: ignore[return-value]


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the current step, only when a person is watching."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda _: None
        return
    with console.status("Starting") as status:
        yield lambda text: status.update(f"{text}…")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit does not fail flushing a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _parse_formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise UsageError(
            f"--format {text!r}: unknown format(s) {unknown}; "
            f"choose from {', '.join(REPORT_FORMATS)}."
        )
    return formats


def _parse_references(values: tuple[str, ...]) -> dict[str, str]:
    references = {}
    for item in values:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise UsageError(f"--reference {item!r}: write it as COLUMN=VALUE, e.g. sex=male.")
        references[column] = value
    return references


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="auditor")
@click.pass_context
@_exits_cleanly
def main(ctx: click.Context) -> None:
    """Audit models and decision logs for fairness, against a policy, with reports.

    Options of `auditor audit` may live in auditor.toml or in [tool.auditor] of pyproject.toml
    in the current directory; flags on the command line override them.
    """
    if ctx.invoked_subcommand != "audit":
        return
    from auditor.config import find_config, load_audit_config

    path = find_config(Path.cwd())
    if path is not None:
        known = {p.name for p in audit.params if p.name}
        config = load_audit_config(path, known)
        ctx.default_map = {"audit": config.options}
        ctx.meta["auditor.config"] = config.path


@main.command()
@click.option(
    "--data", "data", required=True, type=click.Path(path_type=Path), help="CSV or Parquet file."
)
@click.option("--target", required=True, help="Column with the actual outcome.")
@click.option(
    "--sensitive", multiple=True, required=True, help="Sensitive column (repeat for several)."
)
@click.option(
    "--model", type=click.Path(path_type=Path), help="Model file: skops, LightGBM or XGBoost."
)
@click.option(
    "--allow-pickle", is_flag=True, help="Allow loading pickle/joblib model files (runs code!)."
)
@click.option("--prediction", help="Column of recorded decisions (audit without a model).")
@click.option("--score", help="Column of scores for the positive class.")
@click.option("--weight", help="Column of sample weights.")
@click.option("--pos-label", help="The positive class the rates count (e.g. 1, 'good').")
@click.option(
    "--positive-outcome",
    type=click.Choice(["favorable", "adverse"]),
    help="Is the positive label good for the person (favorable) or bad (adverse)?",
)
@click.option(
    "--reference", multiple=True, help="Reference group, COLUMN=VALUE (default: largest)."
)
@click.option("--missing-as-group", is_flag=True, help="Audit missing sensitive values as a group.")
@click.option(
    "--max-groups", type=click.IntRange(min=2), help="Most distinct values per attribute."
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Score at or above which a booster's row is predicted positive.",
)
@click.option(
    "--policy", default="default", show_default=True, help="Built-in policy name or YAML path."
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option(
    "--format",
    "formats",
    default="html,pdf,json",
    show_default=True,
    help="Comma-separated: html, pdf, json, junit (junit.xml), md (summary.md).",
)
@click.option(
    "--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--engine", type=click.Choice(["auto", "memory"]), default="auto", show_default=True)
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print audit.json to stdout.")
@click.pass_context
@_exits_cleanly
def audit(ctx: click.Context, **options: Any) -> None:
    """Audit a model (--model) or recorded decisions (--prediction) against a policy.

    Exit codes: 0 passed, 1 failed, 2 usage or policy error, 3 input rejected,
    4 inconclusive (only where the policy says so), 70 internal error.
    """
    from auditor.api import audit as run_audit
    from auditor.report import write_reports
    from auditor.report.terminal import print_summary

    if options["quiet"] and options["as_json"]:
        raise UsageError("--quiet and --json cannot be used together.")
    if options["model"] is not None and options["prediction"] is not None:
        raise UsageError("pass either --model or --prediction, not both.")
    if options["model"] is None and options["prediction"] is None:
        raise UsageError("pass --model PATH (audit a model) or --prediction COL (audit decisions).")
    formats = _parse_formats(options["formats"])
    with _progress(enabled=not (options["quiet"] or options["as_json"])) as show:
        result = run_audit(
            options["data"],
            target=options["target"],
            sensitive=list(options["sensitive"]),
            model=options["model"],
            prediction=options["prediction"],
            score=options["score"],
            weight=options["weight"],
            pos_label=options["pos_label"],
            positive_outcome=options["positive_outcome"],
            reference=_parse_references(options["reference"]),
            policy=options["policy"],
            fail_on=options["fail_on"],
            allow_pickle=options["allow_pickle"],
            missing_as_group=options["missing_as_group"],
            max_groups=options["max_groups"],
            threshold=options["threshold"],
            seed=options["seed"],
            command=["auditor", *sys.argv[1:]],
            config_file=ctx.meta.get("auditor.config"),
            progress=show,
        )
        show("Writing " + ", ".join(formats))
        written = write_reports(result, options["out"], formats)
    try:
        if options["as_json"]:
            click.echo(result.to_json(), nl=False)
        elif not options["quiet"]:
            print_summary(result, written)
    except BrokenPipeError:  # the verdict's exit code still stands
        _silence_stdout()
    sys.exit(_VERDICT_EXIT[result.verdict])


@main.command()
@click.argument("audit_json", type=click.Path(path_type=Path))
@click.option("--format", "formats", default="html,pdf", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Default: the JSON file's folder.")
@_exits_cleanly
def render(audit_json: Path, formats: str, out: Path | None) -> None:
    """Rebuild reports from an audit.json alone."""
    from auditor.report import write_reports

    result = _read_audit(audit_json)
    written = write_reports(result, out or audit_json.parent, _parse_formats(formats))
    for kind, path in written.items():
        click.echo(f"wrote {kind}: {path}")


STARTER_FILES = {  # file in auditor/starter -> where `auditor init` writes it
    "fairness-policy.yaml": "fairness-policy.yaml",
    "model-card.yaml": "model-card.yaml",
    "auditor.toml": "auditor.toml",
    "github/fairness-audit.yml": ".github/workflows/fairness-audit.yml",
}


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write the files.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@_exits_cleanly
def init(directory: Path, force: bool) -> None:
    """Write a starter policy, a model card template, auditor.toml and a CI workflow."""
    starter = Path(__file__).with_name("starter")
    for source, target in STARTER_FILES.items():
        destination = directory / target
        if destination.exists() and not force:
            click.echo(f"kept   {destination} (exists; --force overwrites it)")
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text((starter / source).read_text(encoding="utf-8"), encoding="utf-8")
        click.echo(f"wrote  {destination}")
    click.echo(
        "Next: edit auditor.toml (data, model, target, sensitive columns) and "
        "fairness-policy.yaml, then run `auditor audit`."
    )


@main.command()
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
@_exits_cleanly
def diff(base_json: Path, new_json: Path, tolerance: float, fmt: str, out: Path | None) -> None:
    """What changed between two audits; exit 1 on a regression, 0 otherwise."""
    from auditor.diff import compare_audits, render_diff_markdown, render_diff_text

    base, new = _read_audit(base_json), _read_audit(new_json)
    changes = compare_audits(base, new, tolerance=tolerance)
    markdown = render_diff_markdown(changes)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(markdown, encoding="utf-8")
    click.echo(f"base: {base_json}\nnew:  {new_json}\n")
    click.echo(markdown if fmt == "md" else render_diff_text(changes))
    sys.exit(EXIT_FAILED if changes.regressed else EXIT_PASSED)


def _read_audit(path: Path) -> Any:
    """An audit.json as an AuditResult; anything else is an InputError (exit 3)."""
    from pydantic import ValidationError

    from auditor.audit_result import AuditResult
    from auditor.errors import InputError
    from auditor.results import SCHEMA_VERSION

    if not path.is_file():
        raise InputError(f"'{path}' does not exist.")
    try:
        return AuditResult.from_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise InputError(
            f"'{path}' is not an audit.json of schema {SCHEMA_VERSION}: "
            f"{exc.error_count()} problem(s), first: {first['msg']} at {where}."
        ) from exc


@main.group()
def policy() -> None:
    """List, show and validate policies."""


@policy.command("list")
@_exits_cleanly
def policy_list() -> None:
    """List the built-in policies."""
    from auditor.policy import list_builtin_policies, load_policy

    for name in list_builtin_policies():
        loaded = load_policy(name).policy
        count = len(loaded.rules)
        click.echo(f"{name} ({count} rule{'s' if count != 1 else ''})")
        click.echo(f"    {' '.join(loaded.description.split())}")


@policy.command("show")
@click.argument("name")
@_exits_cleanly
def policy_show(name: str) -> None:
    """Show a policy (built-in name or path) with every rule and its check's definition."""
    from auditor.checks import CHECKS
    from auditor.policy import load_policy

    loaded = load_policy(name)
    pol = loaded.policy
    click.echo(f"{pol.name}: {pol.description.strip()}")
    click.echo(f"files: {', '.join(str(p) for p in loaded.files)}")
    settings = pol.settings.model_dump(exclude_none=True)
    click.echo("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    for rule in pol.rules:
        spec = CHECKS[rule.check]
        judged = f"{rule.check} {rule.measure} {rule.threshold.as_text()}"
        click.echo(f"\n- {rule.id} [{rule.severity}] {judged}")
        click.echo(f"  {spec.label}: {spec.definition}")
        if rule.rationale:
            click.echo(f"  why: {rule.rationale.strip()}")
        if rule.references:
            click.echo(f"  references: {'; '.join(rule.references)}")


@policy.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@_exits_cleanly
def policy_validate(path: Path) -> None:
    """Validate a policy file; exit 2 with every problem if it is invalid."""
    from auditor.policy import load_policy

    if not path.is_file():
        raise UsageError(f"policy file '{path}' does not exist.")
    loaded = load_policy(str(path) if "/" in str(path) else f"./{path}")
    click.echo(
        f"{path}: valid policy '{loaded.policy.name}' with {len(loaded.policy.rules)} rules."
    )


if __name__ == "__main__":
    main()
