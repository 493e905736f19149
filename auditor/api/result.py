"""From measurements to the AuditResult: judge them, record provenance, name the setup."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from auditor.audit_result import AuditResult
from auditor.checks import run_families
from auditor.checks.registry import CHECKS
from auditor.context import AuditContext
from auditor.inputs.in_memory import model_params
from auditor.inputs.model_files import LoadedModel
from auditor.observers import AUDIT_OBSERVERS
from auditor.policy import evaluate_policy
from auditor.policy.load import LoadedPolicy
from auditor.prepare import AuditRequest, Prepared
from auditor.provenance import audit_time, build_provenance
from auditor.results import (
    AuditSetup,
    CheckResult,
    Definition,
    EngineInfo,
    Finding,
    ModelInfo,
    PolicySummary,
)

Outcome = Literal["favorable", "adverse"]


@dataclass(frozen=True)
class Measured:
    """What an engine prepared: the contexts each family runs on, and what to say of it."""

    prepared: Prepared  # the main context (rows in memory, or an engine's cells)
    runs: list[tuple[AuditContext, list[str]]]  # families, each on its context
    rows: int
    engine: EngineInfo
    loaded_model: LoadedModel | None
    notes: list[str] = field(default_factory=list)
    extra_hashes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inputs:
    """Where the audit's inputs came from, for provenance."""

    data_path: Path | None
    model_path: Path | None
    metadata: str | Path | None
    train_data: object
    config_file: str | Path | None
    command: Sequence[str]
    seed: int


def build_result(
    measured: Measured,
    *,
    loaded_policy: LoadedPolicy,
    request: AuditRequest,
    notes: list[str],
    inputs: Inputs,
    outcome: Outcome,
    fail_on: Literal["error", "warning"],
    step: Callable[[str], None],
) -> AuditResult:
    """Run every family on its context, judge the results, and build the AuditResult."""
    step("Measuring every group")
    results = sorted(
        (r for ctx, families in measured.runs for r in run_families(ctx, families)),
        key=lambda r: r.family,
    )
    created = audit_time()
    engine = measured.engine
    findings = evaluate_policy(
        loaded_policy.policy,
        results,
        today=date.fromisoformat(created[:10]),
        not_measured={
            family: f"the {engine.name} engine aggregates rows into cells; this family "
            "needs row-level data (audit with --engine memory)"
            for family in engine.not_measured
        },
    )
    prepared = measured.prepared
    notes = [*notes, *measured.notes, *prepared.notes]
    if inputs.config_file is not None:
        notes.append(
            f"Options were read from {inputs.config_file}; command-line flags override them."
        )
    model = measured.loaded_model
    if model is not None and model.pickle_loaded:
        notes.insert(0, "The model was loaded from a pickle file because --allow-pickle was given.")
    provenance = build_provenance(
        {
            # A path only Spark reaches (s3a://, a table) cannot be hashed here.
            "data": inputs.data_path
            if inputs.data_path is not None and inputs.data_path.exists()
            else None,
            "model": inputs.model_path,
            **_policy_files(loaded_policy),
            "config": inputs.config_file,
            "metadata": Path(inputs.metadata) if inputs.metadata is not None else None,
            "train_data": Path(inputs.train_data)
            if isinstance(inputs.train_data, str | Path)
            else None,
        },
        extra_hashes=measured.extra_hashes,
        command=inputs.command,
        seed=inputs.seed,
        created=created,
    )
    setup = _setup(request, prepared, measured.rows, inputs.data_path, model, outcome)
    result = AuditResult(
        verdict=overall_verdict(
            findings, fail_on, loaded_policy.policy.settings.inconclusive_blocks
        ),
        fail_on=fail_on,
        setup=setup.model_copy(update={"engine": engine}),
        policy=_policy_summary(loaded_policy),
        checks=results,
        findings=findings,
        notes=notes,
        metadata=prepared.context.model_card,
        definitions=_definitions(results),
        provenance=provenance,
    )
    for observer in AUDIT_OBSERVERS:
        observer(result)
    return result


def _definitions(results: list[CheckResult]) -> list[Definition]:
    """The definitions of the fairness measures this audit measured (in registry order)."""
    measured: set[str] = set()
    for result in results:
        for table in result.tables:
            measured.update(table.summaries, table.criteria)
    return [
        Definition(
            check=spec.name,
            label=spec.label,
            definition=spec.definition,
            undefined_when=spec.undefined_when,
        )
        for spec in CHECKS.values()
        if spec.family == "fairness" and spec.metric in measured
    ]


def overall_verdict(
    findings: list[Finding], fail_on: str, inconclusive_blocks: bool
) -> Literal["passed", "failed", "inconclusive"]:
    """Failed if a finding at or above ``fail_on`` fails (or a check errored); inconclusive
    only when the policy says insufficient data blocks; passed otherwise."""
    if any(f.blocks(fail_on) for f in findings):
        return "failed"
    if inconclusive_blocks and any(f.blocks(fail_on, inconclusive=True) for f in findings):
        return "inconclusive"
    return "passed"


def _policy_files(loaded: LoadedPolicy) -> dict[str, Path]:
    return {
        ("policy" if i == 0 else f"policy (extended {i})"): path
        for i, path in enumerate(loaded.files)
    }


def _setup(
    request: AuditRequest,
    prepared: Prepared,
    rows: int,
    data_path: Path | None,
    loaded_model: LoadedModel | None,
    outcome: Outcome,
) -> AuditSetup:
    output = prepared.model_output
    model_info = None
    if loaded_model is not None and output is not None:
        params, params_sha256 = model_params(loaded_model.estimator)
        model_info = ModelInfo(
            path=loaded_model.path,
            format=loaded_model.format,
            class_name=output.class_name,
            pickle_loaded=loaded_model.pickle_loaded,
            threshold=output.threshold,
            features=output.features,
            params=params,
            params_sha256=params_sha256,
        )
    labels = prepared.context.labels
    return AuditSetup(
        mode="model" if loaded_model is not None else "decisions",
        data_path=None if data_path is None else str(data_path),
        rows=rows,
        target=request.target,
        prediction=prepared.prediction_name,
        score=request.score,
        weight=request.weight,
        sensitive=request.sensitive,
        task=request.task,
        pos_label=None if labels is None else labels.positive,
        other_label=None if labels is None else labels.other,
        positive_outcome=outcome,
        missing_as_group=request.missing_as_group,
        model=model_info,
        ignored_columns=output.ignored_columns if output is not None else [],
    )


def _policy_summary(loaded: LoadedPolicy) -> PolicySummary:
    policy = loaded.policy
    return PolicySummary(
        name=policy.name,
        description=policy.description,
        source=loaded.source,
        settings={k: v for k, v in policy.settings.model_dump().items() if v is not None},
        rules=[rule.model_dump(exclude_none=True) for rule in policy.rules],
        waivers=[waiver.model_dump(mode="json") for waiver in policy.waivers],
    )
