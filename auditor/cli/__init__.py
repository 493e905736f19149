"""The command line: parse options, call the library, map errors to exit codes. Nothing else.

Each command lives in its own module; this one makes the `auditor` group and reads the
options of `auditor audit` from auditor.toml or pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.audit_command import audit
from auditor.cli.common import REPORT_FORMATS, exits_cleanly
from auditor.cli.documents import diff, render
from auditor.cli.project import init, policy
from auditor.cli.service_commands import serve, token

__all__ = ["REPORT_FORMATS", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="auditor")
@click.pass_context
@exits_cleanly
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


for _command in (audit, render, diff, init, policy, serve, token):
    main.add_command(_command)
