"""`auditor audit`: the one command a CI gate runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from auditor.cli.common import (
    VERDICT_EXIT,
    exits_cleanly,
    parse_formats,
    parse_references,
    progress_spinner,
    silence_stdout,
)
from auditor.errors import UsageError


@click.command()
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV or Parquet file, or a folder of Parquet files.",
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
@click.option(
    "--train-data",
    type=click.Path(path_type=Path),
    help="The model's training data (CSV/Parquet): shifts, unseen values, membership risk.",
)
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
    "--metadata",
    type=click.Path(path_type=Path),
    help="Model card (YAML): owner, intended use, oversight, limitations.",
)
@click.option(
    "--task",
    type=click.Choice(["classification", "regression"]),
    default="classification",
    show_default=True,
    help="Binary decisions (classification) or predicted numbers (regression).",
)
@click.option(
    "--policy",
    help="Built-in policy name or YAML path [default: 'default'; 'regression' with --task "
    "regression].",
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
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap intervals."
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "memory", "duckdb", "spark"]),
    default="auto",
    show_default=True,
    help="Where rows are aggregated: memory; duckdb (out of core: files larger than memory, "
    "Parquet folders); spark. auto: memory when the file fits easily, else duckdb.",
)
@click.option(
    "--spark-master",
    default=None,
    help="Spark master URL for --engine spark (default local[*]; e.g. yarn, spark://host:7077).",
)
@click.option(
    "--memory-limit",
    default=None,
    help="DuckDB's memory limit for --engine duckdb (default 2GB; it spills to disk beyond).",
)
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print audit.json to stdout.")
@click.pass_context
@exits_cleanly
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
    formats = parse_formats(options["formats"])
    with progress_spinner(enabled=not (options["quiet"] or options["as_json"])) as show:
        result = run_audit(
            options["data"],
            target=options["target"],
            sensitive=list(options["sensitive"]),
            model=options["model"],
            prediction=options["prediction"],
            score=options["score"],
            weight=options["weight"],
            train_data=options["train_data"],
            pos_label=options["pos_label"],
            positive_outcome=options["positive_outcome"],
            reference=parse_references(options["reference"]),
            task=options["task"],
            policy=options["policy"],
            metadata=options["metadata"],
            fail_on=options["fail_on"],
            allow_pickle=options["allow_pickle"],
            missing_as_group=options["missing_as_group"],
            max_groups=options["max_groups"],
            threshold=options["threshold"],
            seed=options["seed"],
            engine=options["engine"],
            spark_master=options["spark_master"],
            memory_limit=options["memory_limit"],
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
        silence_stdout()
    sys.exit(VERDICT_EXIT[result.verdict])
