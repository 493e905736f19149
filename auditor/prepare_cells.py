"""An engine's cell table -> AuditContext: the same validation as rows, on the cells.

Labels, predictions and groups are checked by the functions that check rows (every
distinct value appears in some cell, so what is wrong in the data is wrong in the cells);
the context then carries each cell's row count, weight sum and squared-weight sum.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from auditor.context import AuditContext, CheckSettings, ClassCounts
from auditor.engines import Engine, is_spark_frame
from auditor.engines.cells import (
    MAX_LABEL_VALUES,
    PREDICTION,
    ROWS,
    SCORE,
    TARGET,
    WEIGHT,
    WEIGHT_SQ,
    CellTable,
    ColumnRoles,
)
from auditor.engines.sample import DESIGN_WEIGHT, GROUP_FLOOR, UNIFORM, SamplePlan
from auditor.engines.scoring import Scorer
from auditor.errors import InputError, UsageError
from auditor.groups import encode_groups
from auditor.inputs.labels import BinaryLabels, positive_mask, resolve_labels
from auditor.inputs.model_files import LoadedModel
from auditor.prepare import AuditRequest, Prepared, prepare
from auditor.results import ModelCard


def cell_roles(request: AuditRequest) -> ColumnRoles:
    """The columns an engine aggregates for this request (decisions mode only)."""
    if request.task != "classification":
        raise UsageError(
            "out-of-core engines audit classification decisions; audit a regression in memory "
            "(--engine memory)."
        )
    if request.prediction is not None and not isinstance(request.prediction, str):
        raise UsageError(
            "out-of-core engines read the prediction from a column of the data: pass "
            "--prediction COL (an array of predictions is audited in memory)."
        )
    if not request.sensitive:
        raise UsageError("pass at least one --sensitive column.")
    if request.target in request.sensitive or request.target == request.prediction:
        raise UsageError("--target must be a different column from --prediction and --sensitive.")
    return ColumnRoles(
        target=request.target,
        sensitive=tuple(request.sensitive),
        prediction=request.prediction if isinstance(request.prediction, str) else None,
        score=request.score,
        weight=request.weight,
    )


def prepare_cells(
    cells: CellTable,
    request: AuditRequest,
    *,
    settings: CheckSettings,
    model_card: ModelCard | None = None,
    scorer: Scorer | None = None,
) -> Prepared:
    """Build the AuditContext of an engine's cells; every problem is an InputError.

    ``scorer``: the model that predicted the cells' rows (model mode), else the prediction
    is a column of the data.
    """
    roles = cells.roles
    frame = cells.frame
    counts = frame[ROWS].to_numpy(dtype=np.int64)
    for column, name, option in (
        (TARGET, roles.target, "target"),
        (PREDICTION, roles.prediction or "model prediction", "prediction"),
    ):
        missing = frame[column].isna().to_numpy()
        if missing.any():  # counted in rows: cell positions mean nothing to the user
            raise InputError(
                f"{option} '{name}' has {int(counts[missing].sum()):,} missing value(s). Drop "
                "or fill those rows first: a missing label cannot be counted as either class."
            )
    labels = resolve_labels(frame[TARGET].rename(roles.target), request.pos_label)
    y_true = positive_mask(frame[TARGET].rename(roles.target), labels, "target")
    predicted = frame[PREDICTION].rename(roles.prediction or "model prediction")
    y_pred = positive_mask(predicted, labels, "prediction")
    weighted = roles.weight is not None
    groupings = encode_groups(
        frame,
        list(roles.sensitive),
        references=dict(request.references),
        missing_as_group=request.missing_as_group,
        max_groups=request.max_groups,
        counts=counts,
    )
    context = AuditContext(
        frame=frame[list(roles.sensitive)],
        labels=labels,
        y_true=y_true,
        y_pred=y_pred,
        scores=frame[SCORE].to_numpy(dtype=np.float64) if SCORE in frame else None,
        weights=frame[WEIGHT].to_numpy(dtype=np.float64) if weighted else None,
        groupings=groupings,
        settings=settings,
        model_card=model_card,
        target_column=roles.target,
        counts=counts,
        weights_sq=frame[WEIGHT_SQ].to_numpy(dtype=np.float64) if weighted else None,
        engine=cells.engine,
    )
    if scorer is None:
        return Prepared(context, None, roles.prediction, [])
    output = scorer.first_output
    notes = [scorer.note(), *(output.notes if output is not None else [])]
    return Prepared(context, output, None, notes)


# Families that need every row's values and have no exact aggregate here yet: they do not
# run on an engine's cells, and the report lists them as not measured.
ROW_FAMILIES = ("data_quality",)
# Families that run on the engine's sample: explanations on the stratified one (every group,
# weighted back), proxies and the PII scan on its uniform part; k-anonymity counts all rows.
SAMPLE_FAMILIES = {"explain": "stratified", "proxies": "uniform", "privacy": "uniform"}


@dataclass(frozen=True)
class Samples:
    """The contexts of an engine's sample: stratified (design-weighted) and uniform."""

    stratified: AuditContext
    uniform: AuditContext

    def note(self, engine: str, rows: int) -> str:
        """What ran on which sample, for the report."""
        uniform = f"{self.uniform.n_rows:,}"
        if self.stratified.model is not None:
            text = (
                f"Explanations ran on a stratified sample of {self.stratified.n_rows:,} of "
                f"{rows:,} rows drawn by the {engine} engine (every finest group kept, at "
                f"least {GROUP_FLOOR:,} rows or all of a smaller group, weighted back to the "
                f"data); proxies and the personal-data scan on its uniform part ({uniform} rows)"
            )
        else:
            text = (
                f"The personal-data scan ran on a uniform sample of {uniform} of {rows:,} rows "
                f"drawn by the {engine} engine"
            )
        if self.uniform.class_counts is not None:
            text += "; k-anonymity counted every row"
        return text + "."


def prepare_samples(
    engine: Engine,
    cells: CellTable,
    request: AuditRequest,
    *,
    settings: CheckSettings,
    cells_labels: BinaryLabels | None,
    model: LoadedModel | None = None,
) -> Samples:
    """Draw the sample in the engine and prepare its two contexts like any data (with the
    labels found in the cells)."""
    plan = SamplePlan.from_cells(cells, settings.seed)
    drawn = engine.sample(plan)
    design = drawn.pop(DESIGN_WEIGHT).to_numpy(dtype=np.float64)
    uniform = drawn.pop(UNIFORM).to_numpy(dtype=bool)
    # The whole data's labels: a rare label may be absent from the sample.
    labels = cells_labels
    stratified = prepare(drawn, request, model=model, settings=settings, labels=labels).context
    weights = design if stratified.weights is None else design * stratified.weights
    stratified = replace(stratified, weights=weights, sample_of=cells.rows)
    part = drawn.loc[uniform].reset_index(drop=True)
    # Proxies and the PII scan compare no group to a reference, which a rare group's
    # absence from the uniform part must not turn into an error.
    anyone = replace(request, references={})
    uniform_ctx = prepare(part, anyone, model=model, settings=settings, labels=labels).context
    classes = None
    if settings.quasi_identifiers:
        columns = list(settings.quasi_identifiers)
        if settings.l_diversity is not None:
            columns.append(settings.l_column or request.target)
        counted = engine.class_counts(list(dict.fromkeys(columns)))
        classes = ClassCounts(counted.drop(columns=[ROWS]), counted[ROWS].to_numpy(np.int64))
    uniform_ctx = replace(uniform_ctx, sample_of=cells.rows, class_counts=classes)
    return Samples(stratified, uniform_ctx)


def open_engine(
    name: str,
    data: object,
    *,
    spark_master: str | None = None,
    memory_limit: str | None = None,
) -> Engine:
    """The engine ``name`` on ``data`` (a path, or a pyspark DataFrame for Spark)."""
    from auditor.engines.duckdb_engine import DuckDBEngine
    from auditor.engines.source import DataSource
    from auditor.engines.spark_engine import SparkEngine

    if is_spark_frame(data):
        return SparkEngine(data, "a Spark DataFrame of the caller's session")
    if name == "spark" and not Path(str(data)).exists():
        text = str(data)
        if "://" not in text and ("/" in text or text.lower().endswith((".parquet", ".csv"))):
            raise InputError(f"data file '{text}' does not exist. Check the --data path.")
        return SparkEngine.read_uri(text, spark_master)  # s3a://, hdfs://, a table
    source = DataSource.open(Path(str(data)))
    if name == "spark":
        return SparkEngine.read(source, spark_master)
    return DuckDBEngine(source, memory_limit=memory_limit)


def prepare_out_of_core(
    engine: Engine,
    request: AuditRequest,
    *,
    settings: CheckSettings,
    model_card: ModelCard | None = None,
    model: LoadedModel | None = None,
) -> tuple[Prepared, CellTable]:
    """Aggregate the data into cells with ``engine`` (predicting with ``model``, batch by
    batch, when there is one) and build the context from them."""
    roles = cell_roles(request)
    if model is None:
        cells = engine.cells(roles, request.max_groups)
        prepared = prepare_cells(cells, request, settings=settings, model_card=model_card)
        return prepared, cells
    if request.score is not None:
        raise UsageError("--score is for recorded decisions; a model's scores are its own.")
    target = engine.distinct_values(roles.target, MAX_LABEL_VALUES + 1)
    labels = resolve_labels(target, request.pos_label)
    scorer = Scorer(model.estimator, labels, roles, request.threshold)
    cells = engine.model_cells(scorer, request.max_groups)
    prepared = prepare_cells(
        cells, request, settings=settings, model_card=model_card, scorer=scorer
    )
    return prepared, cells
