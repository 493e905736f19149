"""Provenance: hashes of the inputs, library versions, seed and time (SOURCE_DATE_EPOCH aware)."""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from auditor.results import Provenance

LIBRARIES = (
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "skops",
    "lightgbm",
    "xgboost-cpu",
    "xgboost",
    "pydantic",
    "jinja2",
    "weasyprint",
    "matplotlib",
    "pyarrow",
)


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks; of a folder (a Parquet dataset), the SHA-256
    of its files' relative paths and SHA-256s, in sorted order."""
    if Path(path).is_dir():
        root = Path(path)
        listing = "".join(
            f"{p.relative_to(root).as_posix()}\0{sha256_file(p)}\n"
            for p in sorted(root.rglob("*"))
            if p.is_file()
        )
        return hashlib.sha256(listing.encode()).hexdigest()
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def audit_time() -> str:
    """Now in UTC (ISO 8601), or SOURCE_DATE_EPOCH when set, for reproducible reports."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def tool_version() -> str:
    try:
        return metadata.version("auditor")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def build_provenance(
    files: Mapping[str, str | Path | None],
    *,
    extra_hashes: Mapping[str, str] | None = None,
    command: Sequence[str],
    seed: int,
    created: str | None = None,
) -> Provenance:
    """Hash every input file given (``{'data': path, 'model': path, 'policy': path, ...}``)."""
    hashes = {role: sha256_file(path) for role, path in files.items() if path is not None}
    hashes.update(extra_hashes or {})
    return Provenance(
        created=created or audit_time(),
        tool_version=tool_version(),
        python=platform.python_version(),
        libraries=library_versions(),
        sha256=hashes,
        command=list(command),
        seed=seed,
    )
