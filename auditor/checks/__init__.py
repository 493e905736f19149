"""Checks: measurements only, never verdicts. Importing this package registers them all."""

from auditor.checks import accountability, explain, fairness, performance, proxies
from auditor.checks.registry import CHECKS, FAMILIES, CheckSpec, run_families

__all__ = [
    "CHECKS",
    "FAMILIES",
    "CheckSpec",
    "accountability",
    "explain",
    "fairness",
    "performance",
    "proxies",
    "run_families",
]
