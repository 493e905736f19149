"""The one audit entry point: the CLI, notebooks and the service all call ``audit()``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from auditor.api.out_of_core import measure_out_of_core
from auditor.api.result import Inputs, Measured, Outcome, build_result
from auditor.api.settings import audit_families, check_settings, frame_digest
from auditor.audit_result import AuditResult
from auditor.context import CheckSettings
from auditor.engines import choose_engine
from auditor.errors import UsageError
from auditor.inputs.data import read_table
from auditor.inputs.in_memory import SensitiveInput, as_frame, attach_sensitive, in_memory_model
from auditor.inputs.labels import label_text
from auditor.inputs.metadata import load_model_card
from auditor.inputs.model_files import LoadedModel, load_model_file
from auditor.policy import load_policy
from auditor.prepare import AuditRequest, PredictionInput, prepare
from auditor.results import SEVERITY_RANK, EngineInfo

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
    checks = check_settings(loaded_policy, outcome, seed)
    model_path = Path(model) if isinstance(model, str | Path) else None

    def request_for(sensitive_columns: list[str]) -> AuditRequest:
        return AuditRequest(
            target=target,
            sensitive=sensitive_columns,
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
    if engine_name == "memory":
        step("Reading the data")
        frame = read_table(data_path) if data_path is not None else as_frame(data)
        frame, sensitive_list = attach_sensitive(frame, sensitive, sensitive_features)
        request = request_for(sensitive_list)
        measured = _measure_in_memory(
            frame,
            request,
            checks=checks,
            model=_load_model(model, model_path, allow_pickle, step),
            model_card=model_card,
            train_data=train_data,
            families=audit_families(loaded_policy),
            hash_frame=data_path is None,
            step=step,
        )
    else:
        if train_data is not None:
            raise UsageError(
                f"--engine {engine_name} audits the data on its own; a comparison with "
                "--train-data runs in memory (--engine memory)."
            )
        if not isinstance(sensitive, str | list | tuple) or sensitive_features is not None:
            raise UsageError(f"--engine {engine_name} takes sensitive column names.")
        names = [sensitive] if isinstance(sensitive, str) else [str(c) for c in sensitive]
        request = request_for(names)
        measured = measure_out_of_core(
            engine_name,
            data,
            request,
            checks=checks,
            model=_load_model(model, model_path, allow_pickle, step),
            model_card=model_card,
            families=audit_families(loaded_policy),
            spark_master=spark_master,
            memory_limit=memory_limit,
            step=step,
        )
    return build_result(
        measured,
        loaded_policy=loaded_policy,
        request=request,
        notes=notes,
        inputs=Inputs(
            data_path=data_path,
            model_path=model_path,
            metadata=metadata,
            train_data=train_data,
            config_file=config_file,
            command=command,
            seed=seed,
        ),
        outcome=outcome,
        fail_on=fail_on,
        step=step,
    )


def _load_model(
    model: object, path: Path | None, allow_pickle: bool, step: Callable[[str], None]
) -> LoadedModel | None:
    """A model file (pickle only when allowed) or a model object in memory, or none."""
    if path is not None:
        step("Loading the model")
        return load_model_file(path, allow_pickle=allow_pickle)
    return None if model is None else in_memory_model(model)


def _measure_in_memory(
    frame: pd.DataFrame,
    request: AuditRequest,
    *,
    checks: CheckSettings,
    model: LoadedModel | None,
    model_card: Any,
    train_data: object,
    families: list[str],
    hash_frame: bool,
    step: Callable[[str], None],
) -> Measured:
    """The in-memory engine: every family on the loaded rows."""
    train_frame = None
    if train_data is not None:
        step("Reading the training data")
        train_path = Path(train_data) if isinstance(train_data, str | Path) else None
        train_frame = read_table(train_path) if train_path is not None else as_frame(train_data)
    step("Checking the inputs" + (" and predicting" if model is not None else ""))
    prepared = prepare(
        frame,
        request,
        model=model,
        settings=checks,
        model_card=model_card,
        train_frame=train_frame,
    )
    return Measured(
        prepared=prepared,
        runs=[(prepared.context, families)],
        rows=len(frame),
        engine=EngineInfo(name="memory", detail=f"memory (pandas, {len(frame):,} rows)"),
        loaded_model=model,
        extra_hashes={"data": frame_digest(frame)} if hash_frame else {},
    )
