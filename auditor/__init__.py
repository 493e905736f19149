"""auditor: fairness audits of models and decision logs, judged against policies.

Public API::

    from auditor import audit, load_policy, AuditResult
    result = audit("holdout.csv", target="approved", sensitive=["sex"], model="model.skops")

Heavy modules (pandas, scikit-learn) are imported on first use, so ``auditor --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["AuditResult", "audit", "load_policy"]

if TYPE_CHECKING:
    from auditor.api import audit
    from auditor.audit_result import AuditResult
    from auditor.policy import load_policy


def __getattr__(name: str) -> Any:
    if name == "audit":
        from auditor.api import audit

        return audit
    if name == "load_policy":
        from auditor.policy import load_policy

        return load_policy
    if name == "AuditResult":
        from auditor.audit_result import AuditResult

        return AuditResult
    raise AttributeError(f"module 'auditor' has no attribute {name!r}")
