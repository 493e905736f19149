"""A submitted audit's parameters, and the ``auditor audit`` command a worker runs for them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.service.storage import FORMATS


class AuditParams(BaseModel):
    """What the submit form said, with the server-chosen names of the stored uploads.

    Stored as ``audits.params`` (JSON); the worker builds the command line from it alone.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_file: str = Field(description="Stored name under inputs/, e.g. 'data.csv'")
    model_file: str | None = Field(default=None, description="Stored name, e.g. 'model.skops'")
    metadata_file: str | None = None
    target: str
    sensitive: list[str]
    prediction: str | None = None
    score: str | None = None
    pos_label: str | None = None
    reference: list[str] = Field(default_factory=list, description="COL=VALUE items")
    policy: str = "default"
    task: Literal["classification", "regression"] = "classification"
    seed: int = 0
    data_name: str | None = Field(default=None, description="The client's file name, shown only")
    model_name_uploaded: str | None = None


def audit_command(params: AuditParams, inputs: Path, out: Path) -> list[str]:
    """The argv of the child process: this Python, ``-m auditor.cli audit``, every option explicit.

    No ``--allow-pickle``, ever: pickle uploads are refused at submit and the loader refuses
    them again here.
    """
    argv = [sys.executable, "-m", "auditor.cli", "audit", "--data", str(inputs / params.data_file)]
    argv += ["--target", params.target]
    for column in params.sensitive:
        argv += ["--sensitive", column]
    if params.model_file is not None:
        argv += ["--model", str(inputs / params.model_file)]
    if params.prediction is not None:
        argv += ["--prediction", params.prediction]
    if params.score is not None:
        argv += ["--score", params.score]
    if params.pos_label is not None:
        argv += ["--pos-label", params.pos_label]
    for item in params.reference:
        argv += ["--reference", item]
    if params.metadata_file is not None:
        argv += ["--metadata", str(inputs / params.metadata_file)]
    argv += ["--policy", params.policy, "--task", params.task, "--seed", str(params.seed)]
    argv += ["--out", str(out), "--format", FORMATS, "--quiet"]
    return argv
