"""Model files: the format told from the file's bytes, and a safe loader for each format.

Pickle and joblib files can run arbitrary code when loaded, so they are refused unless the
caller passes ``allow_pickle=True`` (``--allow-pickle``). skops files load only the types
skops trusts by default plus the explicit allow-list below.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.errors import InputError, PickleRefusedError

# Types trusted in skops files beyond skops's own defaults (which cover scikit-learn and
# numpy). Explicit names only: a prefix would trust whatever a package adds later.
SKOPS_EXTRA_TRUSTED = frozenset(
    {
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.basic.Booster",
        "xgboost.sklearn.XGBClassifier",
        "xgboost.core.Booster",
        "collections.OrderedDict",
        "collections.defaultdict",
    }
)

_PICKLE_REFUSED = (
    "'{path}' is a {kind}. Loading it can run arbitrary code. Re-save the model with skops "
    "(skops.io.dump) or as a native LightGBM/XGBoost model file, or pass --allow-pickle if "
    "you trust where this file came from."
)
# Containers joblib compresses pickles with: gzip, bz2, xz, lzma, lz4, zlib (4 levels).
_COMPRESSED_MAGICS = (
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x5d\x00\x00",
    b"\x04\x22\x4d\x18",
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
)


@dataclass(frozen=True)
class LoadedModel:
    """A model object and what is known about where it came from."""

    estimator: Any
    format: str
    path: str | None
    pickle_loaded: bool = False


def detect_format(path: Path) -> str:
    """Name the model format from the first bytes of the file.

    Returns one of 'skops', 'lightgbm', 'xgboost-json', 'xgboost-ubj', 'pickle',
    'joblib-compressed'; raises InputError for anything else.
    """
    with path.open("rb") as handle:
        head = handle.read(512)
    if not head:
        raise InputError(f"model file '{path}' is empty.")
    if head.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(path) as archive:
            if "schema.json" in archive.namelist():
                return "skops"
        raise InputError(f"model file '{path}' is a zip archive but not a skops file.")
    if head[:1] == b"\x80" and 2 <= head[1] <= 5:
        return "pickle"
    if head.startswith(b"tree\n") or head.startswith(b"tree\r\n"):
        return "lightgbm"
    if head.lstrip()[:1] == b"{" and b"learner" in head:
        return "xgboost-json" if head.lstrip()[1:2] in (b'"', b"\n", b" ", b"\r") else "xgboost-ubj"
    if any(head.startswith(magic) for magic in _COMPRESSED_MAGICS):
        return "joblib-compressed"
    if head[:1] in (b"(", b"c", b"]", b"}") and _ends_with_pickle_stop(path):
        return "pickle"
    raise InputError(
        f"model file '{path}' is not a format auditor reads (looked at its first bytes, not its "
        "name). Supported: skops (.skops), LightGBM text model (Booster.save_model), XGBoost "
        "JSON/UBJSON (Booster.save_model); pickle/joblib only with --allow-pickle."
    )


def _ends_with_pickle_stop(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"."


def load_model_file(path: str | Path, *, allow_pickle: bool = False) -> LoadedModel:
    """Load a model file safely; pickle and joblib only when ``allow_pickle`` is set."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"model file '{path}' does not exist. Check the --model path.")
    if path.is_dir():
        raise InputError(f"model path '{path}' is a directory; pass the model file itself.")
    kind = detect_format(path)
    if kind in ("pickle", "joblib-compressed"):
        if not allow_pickle:
            label = "pickle file" if kind == "pickle" else "compressed (joblib) pickle file"
            raise PickleRefusedError(_PICKLE_REFUSED.format(path=path, kind=label))
        return LoadedModel(_load_pickle(path), kind, str(path), pickle_loaded=True)
    loader = {"skops": _load_skops, "lightgbm": _load_lightgbm}.get(kind, _load_xgboost)
    try:
        return LoadedModel(loader(path), kind, str(path))
    except InputError:
        raise
    except Exception as exc:  # a corrupt file: say which and why, exit 3
        raise InputError(f"could not load '{path}' as a {kind} model: {exc}") from exc


def _load_pickle(path: Path) -> Any:
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:
        raise InputError(f"could not load pickle file '{path}': {exc}") from exc


def _load_skops(path: Path) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(t for t in untrusted if t not in SKOPS_EXTRA_TRUSTED)
    if refused:
        raise InputError(
            f"skops file '{path}' contains types auditor does not trust: {refused[:5]}"
            f"{' ...' if len(refused) > 5 else ''}. Only scikit-learn, numpy and the types in "
            "auditor.inputs.model_files.SKOPS_EXTRA_TRUSTED are loaded."
        )
    return sio.load(path, trusted=list(untrusted))


def _load_lightgbm(path: Path) -> Any:
    import lightgbm

    return lightgbm.Booster(model_file=str(path))


def _load_xgboost(path: Path) -> Any:
    import xgboost

    booster = xgboost.Booster()
    # From the bytes, not the path: XGBoost would pick the parser from the file's extension.
    booster.load_model(bytearray(path.read_bytes()))
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    if objective not in ("binary:logistic", "reg:logistic"):
        raise InputError(
            f"XGBoost model '{path}' has objective '{objective}'; auditor reads binary "
            "classifiers with objective 'binary:logistic'."
        )
    return booster
