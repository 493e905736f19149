"""The one audit entry point: the CLI, notebooks and the service all call ``audit()``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from auditor.audit_result import AuditResult
from auditor.checks import run_families
from auditor.checks.registry import CHECKS
from auditor.context import CheckSettings
from auditor.engines import choose_engine
from auditor.errors import UsageError
from auditor.inputs.data import read_table
from auditor.inputs.in_memory import (
    SensitiveInput,
    as_frame,
    attach_sensitive,
    in_memory_model,
    model_params,
)
from auditor.inputs.labels import label_text
from auditor.inputs.metadata import load_model_card
from auditor.inputs.model_files import LoadedModel, load_model_file
from auditor.observers import AUDIT_OBSERVERS
from auditor.policy import evaluate_policy, load_policy
from auditor.policy.load import LoadedPolicy
from auditor.prepare import AuditRequest, PredictionInput, Prepared, prepare
from auditor.prepare_cells import ROW_FAMILIES, open_engine, prepare_out_of_core
from auditor.provenance import audit_time, build_provenance
from auditor.results import (
    SEVERITY_RANK,
    AuditSetup,
    CheckResult,
    Definition,
    EngineInfo,
    Finding,
    ModelInfo,
    PolicySummary,
)

Outcome = Literal["favorable", "adverse"]
DEFAULT_POLICY = {"classification": "default", "regression": "regression"}


def audit(
    data: str | Path | pd.DataFrame | Any,
    *,
    target: str,
    sensitive: SensitiveInput | None = None,
    sensitive_features: SensitiveInput | None = None,
    model: str | Path | Any | None = None,
    prediction: PredictionInput | None = None,
    score: str | None = None,
    weight: str | None = None,
    train_data: str | Path | pd.DataFrame | Any | None = None,
    pos_label: object | None = None,
    positive_outcome: Outcome | None = None,
    reference: Mapping[str, str] | None = None,
    task: Literal["classification", "regression"] = "classification",
    policy: str | Path | None = None,
    metadata: str | Path | None = None,
    fail_on: Literal["error", "warning"] = "error",
    allow_pickle: bool = False,
    missing_as_group: bool = False,
    max_groups: int | None = None,
    threshold: float = 0.5,
    seed: int = 0,
    command: Sequence[str] = (),
    config_file: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    engine: str = "auto",
    spark_master: str | None = None,
    memory_limit: str | None = None,
) -> AuditResult:
    """Audit a model (``model=``) or recorded decisions (``prediction=``) against a policy.

    Parameters
    ----------
    data : path, DataFrame, pyarrow Table or pyspark DataFrame
        CSV or Parquet file (or a folder of Parquet files), or a table in memory, holding the
        target, the sensitive columns and (decisions mode) the prediction column or (model
        mode) the model's features. A pyspark DataFrame is audited on its own session.
    sensitive, sensitive_features : column name(s), Series or DataFrame
        The attributes to compare groups of (``sensitive_features`` is fairlearn's name for
        the same thing). A Series or DataFrame must share the data's index.
    model : path or fitted model, optional
        A model file (skops, LightGBM, XGBoost; pickle only with ``allow_pickle``) or a model
        object in memory: a scikit-learn estimator or Pipeline, a LightGBM/XGBoost classifier
        or booster. It is used where it is, never pickled or written to disk.
    prediction : column name, array or Series, optional
        Recorded decisions instead of a model. An array must follow the data's row order; a
        Series must share the data's index.
    pos_label : optional
        The positive class that the rates count. Required unless the target is {0, 1},
        {-1, 1} or {False, True}.
    train_data : path, DataFrame or pyarrow Table, optional
        The model's training data, with the same target and sensitive columns: the audit then
        compares group shares and base rates between the two, looks for values the model
        never saw, and (with a model) measures membership-inference risk.
    metadata : path, optional
        A model card (YAML): owner, intended use, oversight, limitations... Missing fields
        are measured by the accountability check and judged by the policy.
    task : 'classification' or 'regression'
        Classification (default): binary target and predictions. Regression: numeric target
        and predictions, compared by group (mean prediction, errors, R²).
    policy : built-in name or path, optional
        Default: 'default' for classification, 'regression' for regression.
    positive_outcome : 'favorable' or 'adverse', optional
        Whether the positive label is good for the person (credit granted) or bad (flagged).
        Overrides the policy's setting; when neither states it, 'favorable' is assumed and
        the report says so.
    engine : 'auto', 'memory', 'duckdb' or 'spark'
        Where the rows are aggregated. 'auto': in memory when the file is small against the
        free memory, else DuckDB (out of core, exact). DuckDB and Spark audit recorded
        decisions from the cells of the finest groups and say which families need rows.
    spark_master, memory_limit : str, optional
        The Spark master URL (default ``local[*]``); DuckDB's memory limit (default 2GB).

    Returns
    -------
    AuditRecord
        Measurements, findings and provenance; ``verdict`` is 'passed', 'failed' or
        'inconclusive'.
    """
    if fail_on not in SEVERITY_RANK:
        raise UsageError(f"fail_on must be 'error' or 'warning', got {fail_on!r}.")
    if task not in ("classification", "regression"):
        raise UsageError(f"task must be 'classification' or 'regression', got {task!r}.")
    loaded_policy = load_policy(policy or DEFAULT_POLICY[task])
    settings = loaded_policy.policy.settings
    notes: list[str] = []
    outcome: Outcome = positive_outcome or settings.positive_outcome or "favorable"
    if positive_outcome is None and settings.positive_outcome is None:
        notes.append(
            "Neither the user nor the policy said whether the positive label is favourable or "
            "adverse to the person; favourable was assumed (pass --positive-outcome adverse if "
            "the positive label is a harm, such as being flagged as high risk)."
        )
    data_path = Path(data) if isinstance(data, str | Path) else None
    step = progress or (lambda _: None)
    engine_name = choose_engine(engine, data)
    check_settings = _check_settings(loaded_policy, outcome, seed)
    if engine_name != "memory":
        if train_data is not None:
            raise UsageError(
                f"--engine {engine_name} audits the data on its own; a comparison with "
                "--train-data runs in memory (--engine memory)."
            )
        if not isinstance(sensitive, str | list | tuple) or sensitive_features is not None:
            raise UsageError(f"--engine {engine_name} takes sensitive column names.")
        step(f"Aggregating the data into cells ({engine_name})")
        request = AuditRequest(
            target=target,
            sensitive=[sensitive] if isinstance(sensitive, str) else [str(c) for c in sensitive],
            prediction=prediction,
            score=score,
            weight=weight,
            pos_label=None if pos_label is None else label_text(pos_label),
            references=dict(reference or {}),
            missing_as_group=missing_as_group,
            max_groups=max_groups or settings.max_groups,
            threshold=threshold,
            task=task,
        )
        cell_engine = open_engine(
            engine_name, data, spark_master=spark_master, memory_limit=memory_limit
        )
        model_card = load_model_card(metadata) if metadata is not None else None
        model_path = Path(model) if isinstance(model, str | Path) else None
        loaded_model = None
        if model_path is not None:
            loaded_model = load_model_file(model_path, allow_pickle=allow_pickle)
        elif model is not None:
            loaded_model = in_memory_model(model)
        prepared, cells = prepare_out_of_core(
            cell_engine,
            request,
            settings=check_settings,
            model_card=model_card,
            model=loaded_model,
        )
        engine_info = EngineInfo(
            name=engine_name,  # type: ignore[arg-type]
            detail=cell_engine.describe(),
            cells=cells.n_cells,
            not_measured=list(ROW_FAMILIES),
        )
        return _finish(
            loaded_policy=loaded_policy,
            prepared=prepared,
            request=request,
            families=[f for f in _families(loaded_policy) if f not in ROW_FAMILIES],
            notes=[*notes, _not_measured_note(engine_name)],
            data_path=data_path,
            extra_hashes={},
            rows=cells.rows,
            loaded_model=loaded_model,
            outcome=outcome,
            engine_info=engine_info,
            fail_on=fail_on,
            settings_inconclusive=settings.inconclusive_blocks,
            command=command,
            seed=seed,
            config_file=config_file,
            metadata=metadata,
            train_data=None,
            model_path=model_path,
            step=step,
        )
    step("Reading the data")
    frame = read_table(data_path) if data_path is not None else as_frame(data)
    frame, sensitive_list = attach_sensitive(frame, sensitive, sensitive_features)
    model_path = Path(model) if isinstance(model, str | Path) else None
    loaded_model = None
    if model_path is not None:
        step("Loading the model")
        loaded_model = load_model_file(model_path, allow_pickle=allow_pickle)
    elif model is not None:
        loaded_model = in_memory_model(model)
    request = AuditRequest(
        target=target,
        sensitive=sensitive_list,
        prediction=prediction,
        score=score,
        weight=weight,
        pos_label=None if pos_label is None else label_text(pos_label),
        references=dict(reference or {}),
        missing_as_group=missing_as_group,
        max_groups=max_groups or settings.max_groups,
        threshold=threshold,
        task=task,
    )
    model_card = load_model_card(metadata) if metadata is not None else None
    train_frame = None
    if train_data is not None:
        step("Reading the training data")
        train_path = Path(train_data) if isinstance(train_data, str | Path) else None
        train_frame = read_table(train_path) if train_path is not None else as_frame(train_data)
    step("Checking the inputs" + (" and predicting" if loaded_model is not None else ""))
    prepared = prepare(
        frame,
        request,
        model=loaded_model,
        settings=check_settings,
        model_card=model_card,
        train_frame=train_frame,
    )
    return _finish(
        loaded_policy=loaded_policy,
        prepared=prepared,
        request=request,
        families=_families(loaded_policy),
        notes=notes,
        data_path=data_path,
        extra_hashes={"data": _frame_digest(frame)} if data_path is None else {},
        rows=len(frame),
        loaded_model=loaded_model,
        outcome=outcome,
        engine_info=EngineInfo(name="memory", detail=f"memory (pandas, {len(frame):,} rows)"),
        fail_on=fail_on,
        settings_inconclusive=settings.inconclusive_blocks,
        command=command,
        seed=seed,
        config_file=config_file,
        metadata=metadata,
        train_data=train_data,
        model_path=model_path,
        step=step,
    )


def _families(loaded_policy: LoadedPolicy) -> list[str]:
    """Every family the audit runs: the standard ones and any a policy rule names."""
    named = {CHECKS[rule.check].family for rule in loaded_policy.policy.rules}
    standard = {
        "fairness",
        "performance",
        "accountability",
        "explain",
        "proxies",
        "representation",
        "data_quality",
        "privacy",
    }
    return sorted(standard | named)


def _not_measured_note(engine_name: str) -> str:
    return (
        f"The {engine_name} engine aggregated the rows into cells of the finest groups: group "
        "fairness and overall performance are exact on every row; representation, data "
        "quality and privacy need row-level data and were not measured (audit in memory, "
        "--engine memory, for them)."
    )


def _finish(
    *,
    loaded_policy: LoadedPolicy,
    prepared: Prepared,
    request: AuditRequest,
    families: list[str],
    notes: list[str],
    data_path: Path | None,
    extra_hashes: dict[str, str],
    rows: int,
    loaded_model: LoadedModel | None,
    outcome: Outcome,
    engine_info: EngineInfo,
    fail_on: Literal["error", "warning"],
    settings_inconclusive: bool,
    command: Sequence[str],
    seed: int,
    config_file: str | Path | None,
    metadata: str | Path | None,
    train_data: object,
    model_path: Path | None,
    step: Callable[[str], None],
) -> AuditResult:
    """Run the families on the prepared context, judge them, and build the result."""
    step("Measuring every group")
    results = run_families(prepared.context, families)
    created = audit_time()
    findings = evaluate_policy(
        loaded_policy.policy,
        results,
        today=date.fromisoformat(created[:10]),
        not_measured={
            family: f"the {engine_info.name} engine aggregates rows into cells; this family "
            "needs row-level data (audit with --engine memory)"
            for family in engine_info.not_measured
        },
    )
    notes = [*notes, *prepared.notes]
    if config_file is not None:
        notes.append(f"Options were read from {config_file}; command-line flags override them.")
    if loaded_model is not None and loaded_model.pickle_loaded:
        notes.insert(0, "The model was loaded from a pickle file because --allow-pickle was given.")
    provenance = build_provenance(
        {
            "data": data_path,
            "model": model_path,
            **_policy_files(loaded_policy),
            "config": config_file,
            "metadata": Path(metadata) if metadata is not None else None,
            "train_data": Path(train_data) if isinstance(train_data, str | Path) else None,
        },
        extra_hashes=extra_hashes,
        command=command,
        seed=seed,
        created=created,
    )
    setup = _setup(request, prepared, rows, data_path, loaded_model, outcome)
    result = AuditResult(
        verdict=overall_verdict(findings, fail_on, settings_inconclusive),
        fail_on=fail_on,
        setup=setup.model_copy(update={"engine": engine_info}),
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


def _check_settings(loaded_policy: LoadedPolicy, outcome: Outcome, seed: int) -> CheckSettings:
    """The policy's settings as the checks read them."""
    settings = loaded_policy.policy.settings
    policy_population = loaded_policy.policy.population
    privacy = loaded_policy.policy.privacy
    return CheckSettings(
        min_group_size=settings.min_group_size,
        confidence=settings.confidence,
        positive_outcome=outcome,
        min_positives=settings.min_positives,
        min_negatives=settings.min_negatives,
        bootstrap_resamples=settings.bootstrap_resamples,
        seed=seed,
        multiple_comparisons=settings.multiple_comparisons,
        score_threshold=settings.score_threshold,
        top_k=settings.top_k,
        explanation_rows=settings.explanation_rows,
        explanation_seconds=settings.explanation_seconds,
        background_rows=settings.background_rows,
        adverse_cases=settings.adverse_cases,
        proxy_rows=settings.proxy_rows,
        population={p.attribute: dict(p.shares) for p in policy_population},
        population_sources={p.attribute: p.source for p in policy_population},
        quasi_identifiers=tuple(privacy.quasi_identifiers),
        k_anonymity=privacy.k,
        l_diversity=privacy.l,
        l_column=privacy.sensitive_column,
        qi_bins=dict(privacy.bins),
    )


def _frame_digest(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    return hashlib.sha256(hashed.tobytes() + "|".join(frame.columns).encode()).hexdigest()


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
