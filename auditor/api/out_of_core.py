"""Audits an engine aggregates: cells for fairness, a sample drawn in the engine for the
families that read rows, exact counts for k-anonymity; the rest said to be not measured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from auditor.api.result import Measured
from auditor.context import CheckSettings
from auditor.inputs.model_files import LoadedModel
from auditor.prepare import AuditRequest
from auditor.prepare_cells import (
    ROW_FAMILIES,
    SAMPLE_FAMILIES,
    open_engine,
    prepare_out_of_core,
    prepare_samples,
)
from auditor.results import EngineInfo, ModelCard


def measure_out_of_core(
    engine_name: str,
    data: object,
    request: AuditRequest,
    *,
    checks: CheckSettings,
    model: LoadedModel | None,
    model_card: ModelCard | None,
    families: list[str],
    spark_master: str | None,
    memory_limit: str | None,
    step: Callable[[str], None],
) -> Measured:
    """Aggregate with DuckDB or Spark, draw the sample, and say where each family runs."""
    engine = open_engine(engine_name, data, spark_master=spark_master, memory_limit=memory_limit)
    step(f"Aggregating the data into cells ({engine_name})")
    prepared, cells = prepare_out_of_core(
        engine, request, settings=checks, model_card=model_card, model=model
    )
    on_sample = [f for f in families if f in SAMPLE_FAMILIES]
    runs = [(prepared.context, [f for f in families if f not in (*ROW_FAMILIES, *on_sample)])]
    notes = [_not_measured_note(engine_name)]
    if isinstance(data, str) and not Path(data).exists():
        notes.append(
            f"Spark read the data from {data}, which auditor cannot reach to hash: record its "
            "version (a snapshot id, or a dated path) beside this report."
        )
    sample_rows = uniform_rows = None
    if on_sample:
        step(f"Drawing a stratified sample ({engine_name})")
        samples = prepare_samples(
            engine,
            cells,
            request,
            settings=checks,
            cells_labels=prepared.context.labels,
            model=model,
        )
        contexts = {"stratified": samples.stratified, "uniform": samples.uniform}
        runs += [(contexts[SAMPLE_FAMILIES[f]], [f]) for f in on_sample]
        notes.append(samples.note(engine_name, cells.rows))
        uniform_rows = samples.uniform.n_rows
        if samples.stratified.model is not None:  # explanations read the stratified sample
            sample_rows = samples.stratified.n_rows
    return Measured(
        prepared=prepared,
        runs=runs,
        rows=cells.rows,
        engine=EngineInfo(
            name=engine_name,  # type: ignore[arg-type]
            detail=engine.describe(),
            cells=cells.n_cells,
            sample_rows=sample_rows,
            uniform_sample_rows=uniform_rows,
            not_measured=[f for f in ROW_FAMILIES if f in families],
        ),
        loaded_model=model,
        notes=notes,
    )


def _not_measured_note(engine_name: str) -> str:
    return (
        f"The {engine_name} engine aggregated the rows into cells of the finest groups: group "
        "fairness, overall performance and representation are exact on every row; data "
        "quality needs every row's values and was not measured (audit in memory, "
        "--engine memory, for it)."
    )
