"""Options of ``auditor audit`` read from ``auditor.toml`` or ``[tool.auditor]`` in pyproject.toml.

So that the CI line can be just ``auditor audit``. Flags on the command line override the file.
Keys are the long option names (``pos-label`` or ``pos_label``); options that repeat take lists;
relative paths are read relative to the file that names them.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.errors import UsageError

CONFIG_FILES = ("auditor.toml", "pyproject.toml")
_PATH_KEYS = ("data", "model", "out", "metadata")
_LIST_KEYS = ("sensitive", "reference")
_ALIASES = {"format": "formats", "json": "as_json"}


@dataclass(frozen=True)
class AuditConfig:
    """The options found, keyed as click names them (``pos_label``), and where they came from."""

    path: Path
    options: dict[str, Any]


def _section(path: Path) -> dict[str, Any] | None:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"could not read '{path}' as TOML: {exc}") from exc
    if path.name == "pyproject.toml":
        section = document.get("tool", {}).get("auditor")
    else:
        section = document.get("audit", document)
    if section is not None and not isinstance(section, dict):
        raise UsageError(f"'{path}': the auditor options must be a table of key = value.")
    return section


def find_config(directory: Path) -> Path | None:
    """The first of auditor.toml, pyproject.toml (with [tool.auditor]) in ``directory``."""
    for name in CONFIG_FILES:
        candidate = directory / name
        if candidate.is_file() and _section(candidate) is not None:
            return candidate
    return None


def load_audit_config(path: Path, known: set[str]) -> AuditConfig:
    """Read and check the options; ``known`` are the audit command's option names."""
    section = _section(path) or {}
    options: dict[str, Any] = {}
    for key, value in section.items():
        name = key.replace("-", "_")
        name = _ALIASES.get(name, name)
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" Did you mean '{close[0].replace('_', '-')}'?" if close else ""
            raise UsageError(f"'{path}': unknown option '{key}'.{hint}")
        if name in _LIST_KEYS and isinstance(value, str | dict):
            value = [value]
        if name == "reference":
            value = [item for v in value for item in _reference_items(v)]
        elif name in _LIST_KEYS:
            value = [str(v) for v in value]
        if name == "formats" and isinstance(value, list):
            value = ",".join(value)
        if name in _PATH_KEYS and isinstance(value, str):
            value = str((path.parent / value).resolve()) if not Path(value).is_absolute() else value
        if name == "policy" and isinstance(value, str) and value.endswith((".yaml", ".yml")):
            value = str((path.parent / value).resolve())
        options[name] = value
    return AuditConfig(path=path, options=options)


def _reference_items(value: Any) -> list[str]:
    """'sex=male' as it is; a table {sex = "male", race = "White"} as one item per column."""
    if isinstance(value, dict):
        return [f"{k}={v}" for k, v in value.items()]
    return [str(value)]
