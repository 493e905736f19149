"""The data dir: every path is built from a UUID and fixed names, never from request data.

``<data_dir>/audits/<uuid>/inputs/`` holds the uploads under server-chosen names,
``out/`` the artefacts ``auditor audit`` writes, ``logs/`` the child's stdout and stderr.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

# The only files ever served, with their media types.
ARTIFACTS: dict[str, str] = {
    "report.pdf": "application/pdf",
    "report.html": "text/html; charset=utf-8",
    "audit.json": "application/json",
    "junit.xml": "application/xml",
    "summary.md": "text/markdown; charset=utf-8",
}
FORMATS = "html,pdf,json,junit,md"  # what the worker asks `auditor audit` to write
# Uploaded files are stored under these names only (the model's suffix names its format).
DATA_NAMES = ("data.csv", "data.parquet")
MODEL_NAMES = ("model.skops", "model.lgb.txt", "model.xgb.json", "model.xgb.ubj")
METADATA_NAME = "metadata.yaml"


class UnsafePath(ValueError):
    """A path that would leave the data dir (a bug, or an attack on one)."""


def parse_audit_id(text: str) -> str:
    """``text`` as a canonical UUID4 string; ValueError for anything else."""
    value = uuid.UUID(text)
    if value.version != 4 or str(value) != text.lower():
        raise ValueError(f"not a UUID4: {text!r}")
    return str(value)


def audit_dir(audits_root: Path, audit_id: str) -> Path:
    """The folder of one audit, checked to lie under ``audits_root``."""
    path = (audits_root / parse_audit_id(audit_id)).resolve()
    if not path.is_relative_to(audits_root.resolve()):
        raise UnsafePath(str(path))
    return path


def inputs_dir(audits_root: Path, audit_id: str) -> Path:
    return audit_dir(audits_root, audit_id) / "inputs"


def out_dir(audits_root: Path, audit_id: str) -> Path:
    return audit_dir(audits_root, audit_id) / "out"


def logs_dir(audits_root: Path, audit_id: str) -> Path:
    return audit_dir(audits_root, audit_id) / "logs"


def artifact_path(audits_root: Path, audit_id: str, name: str) -> Path:
    """The file of artefact ``name`` (one of ARTIFACTS), checked to lie in the audit's out/."""
    if name not in ARTIFACTS:
        raise UnsafePath(name)
    folder = out_dir(audits_root, audit_id)
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise UnsafePath(str(path))
    return path


def remove_audit_files(audits_root: Path, audit_id: str) -> None:
    shutil.rmtree(audit_dir(audits_root, audit_id), ignore_errors=True)
