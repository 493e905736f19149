"""Shared fixtures: the sample German credit data and model, and a real CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_models" / "data" / "german_credit_audit.csv"
SAMPLE_MODEL = ROOT / "sample_models" / "german_credit_model.skops"
AUDITOR = Path(sys.executable).with_name("auditor")
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def german() -> pd.DataFrame:
    """The 400 hold-out rows of German credit with the derived sex and age_group columns."""
    return pd.read_csv(SAMPLE_DATA)


@pytest.fixture(scope="session")
def decisions_csv(tmp_path_factory: pytest.TempPathFactory, german: pd.DataFrame) -> Path:
    """German credit hold-out with the sample model's decisions in a 'decision' column."""
    from auditor.inputs.model_files import load_model_file

    model = load_model_file(SAMPLE_MODEL).estimator
    features = list(model.feature_names_in_)
    frame = german.assign(decision=model.predict(german[features]))
    frame = frame.assign(score=model.predict_proba(german[features])[:, 0])
    path = tmp_path_factory.mktemp("decisions") / "decisions.csv"
    frame.to_csv(path, index=False)
    return path


def audit_args(
    *sensitive: str,
    data: Path = SAMPLE_DATA,
    model: Path | None = SAMPLE_MODEL,
    prediction: str | None = None,
) -> list[str]:
    """`auditor audit` options for the German credit data: the model, or a decisions column."""
    source = ["--prediction", prediction] if prediction else ["--model", str(model)]
    args = ["audit", "--data", str(data), *source, "--target", "credit", "--pos-label", "1"]
    args += ["--positive-outcome", "favorable"]
    for column in sensitive:
        args += ["--sensitive", column]
    return args


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `auditor` command in a real process and capture its output."""
    return subprocess.run(
        [str(AUDITOR), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
