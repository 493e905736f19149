"""Policies: declarative rules that turn measurements into findings."""

from auditor.policy.evaluate import evaluate_policy
from auditor.policy.load import list_builtin_policies, load_policy
from auditor.policy.schema import Policy, Rule, Settings, Threshold, Waiver

__all__ = [
    "Policy",
    "Rule",
    "Settings",
    "Threshold",
    "Waiver",
    "evaluate_policy",
    "list_builtin_policies",
    "load_policy",
]
