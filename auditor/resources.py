"""Where auditor's bundled data lives: report templates and built-in policies.

In an installed wheel both directories are shipped inside the package (``auditor/templates``,
``auditor/policies``; see the ``force-include`` table in ``pyproject.toml``). In a source
checkout they are the top-level ``templates/`` and ``policies/`` directories next to the
``auditor/`` package. The package copy wins when both exist.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_ROOT = _PACKAGE_DIR.parent

_NOT_FOUND = (
    "auditor's {name}/ directory was not found; looked in {candidates}. "
    "Reinstall auditor (the wheel ships it as auditor/{name}), or run from a source "
    "checkout that has {name}/ next to the auditor/ package."
)


def _locate(name: str) -> Path:
    """Return the first existing ``name`` directory: in the package, then in the checkout."""
    in_package = _PACKAGE_DIR / name
    in_checkout = _CHECKOUT_ROOT / name
    if in_package.is_dir():
        return in_package
    # Only trust a sibling directory when it really is our source checkout, not some other
    # distribution's top-level ``templates/`` in site-packages.
    if in_checkout.is_dir() and (_CHECKOUT_ROOT / "pyproject.toml").is_file():
        return in_checkout
    candidates = ", ".join(str(path) for path in (in_package, in_checkout))
    raise RuntimeError(_NOT_FOUND.format(name=name, candidates=candidates))


def templates_dir() -> Path:
    """Return the directory holding the report templates, CSS and bundled fonts.

    Raises
    ------
    RuntimeError
        If neither ``auditor/templates`` nor a checkout's ``templates/`` exists.
    """
    return _locate("templates")


def policies_dir() -> Path:
    """Return the directory holding the built-in policy files (YAML).

    Raises
    ------
    RuntimeError
        If neither ``auditor/policies`` nor a checkout's ``policies/`` exists.
    """
    return _locate("policies")
