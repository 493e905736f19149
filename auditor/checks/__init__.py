"""Checks: measurements only, never verdicts. Importing this package registers them all."""

from auditor.checks import (
    accountability,
    data_quality,
    explain,
    fairness,
    performance,
    privacy,
    proxies,
    representation,
)
from auditor.checks.registry import CHECKS, FAMILIES, CheckSpec, run_families

__all__ = [
    "CHECKS",
    "FAMILIES",
    "CheckSpec",
    "accountability",
    "data_quality",
    "explain",
    "fairness",
    "performance",
    "privacy",
    "proxies",
    "representation",
    "run_families",
]
