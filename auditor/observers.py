"""Callbacks run with every completed audit (kept light: the pytest plugin imports it early)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.audit_result import AuditResult

AUDIT_OBSERVERS: list[Callable[[AuditResult], None]] = []
