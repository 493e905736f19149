"""Commands that set a project up: `init` and `policy list|show|validate`."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import exits_cleanly
from auditor.errors import UsageError

STARTER_FILES = {  # file in auditor/starter -> where `auditor init` writes it
    "fairness-policy.yaml": "fairness-policy.yaml",
    "model-card.yaml": "model-card.yaml",
    "auditor.toml": "auditor.toml",
    "github/fairness-audit.yml": ".github/workflows/fairness-audit.yml",
}


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write the files.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@exits_cleanly
def init(directory: Path, force: bool) -> None:
    """Write a starter policy, a model card template, auditor.toml and a CI workflow."""
    starter = Path(__file__).resolve().parent.parent / "starter"
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


@click.group()
def policy() -> None:
    """List, show and validate policies."""


@policy.command("list")
@exits_cleanly
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
@exits_cleanly
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
@exits_cleanly
def policy_validate(path: Path) -> None:
    """Validate a policy file; exit 2 with every problem if it is invalid."""
    from auditor.policy import load_policy

    if not path.is_file():
        raise UsageError(f"policy file '{path}' does not exist.")
    loaded = load_policy(str(path) if "/" in str(path) else f"./{path}")
    click.echo(
        f"{path}: valid policy '{loaded.policy.name}' with {len(loaded.policy.rules)} rules."
    )
