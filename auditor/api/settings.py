"""The policy's settings as the checks read them, and the families every audit runs."""

from __future__ import annotations

import hashlib
from typing import Literal

import pandas as pd

from auditor.checks.registry import CHECKS
from auditor.context import CheckSettings
from auditor.policy.load import LoadedPolicy

Outcome = Literal["favorable", "adverse"]


def check_settings(loaded_policy: LoadedPolicy, outcome: Outcome, seed: int) -> CheckSettings:
    """The policy's settings as the checks read them."""
    settings = loaded_policy.policy.settings
    policy_population = loaded_policy.policy.population
    privacy = loaded_policy.policy.privacy
    return CheckSettings(
        min_group_size=settings.min_group_size,
        confidence=settings.confidence,
        positive_outcome=outcome,
        min_positives=settings.min_positives,
        min_negatives=settings.min_negatives,
        bootstrap_resamples=settings.bootstrap_resamples,
        seed=seed,
        multiple_comparisons=settings.multiple_comparisons,
        score_threshold=settings.score_threshold,
        top_k=settings.top_k,
        explanation_rows=settings.explanation_rows,
        explanation_seconds=settings.explanation_seconds,
        background_rows=settings.background_rows,
        adverse_cases=settings.adverse_cases,
        proxy_rows=settings.proxy_rows,
        population={p.attribute: dict(p.shares) for p in policy_population},
        population_sources={p.attribute: p.source for p in policy_population},
        quasi_identifiers=tuple(privacy.quasi_identifiers),
        k_anonymity=privacy.k,
        l_diversity=privacy.l,
        l_column=privacy.sensitive_column,
        qi_bins=dict(privacy.bins),
    )


def audit_families(loaded_policy: LoadedPolicy) -> list[str]:
    """Every family the audit runs: the standard ones and any a policy rule names."""
    named = {CHECKS[rule.check].family for rule in loaded_policy.policy.rules}
    standard = {
        "fairness",
        "performance",
        "accountability",
        "explain",
        "proxies",
        "representation",
        "data_quality",
        "privacy",
    }
    return sorted(standard | named)


def frame_digest(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    return hashlib.sha256(hashed.tobytes() + "|".join(frame.columns).encode()).hexdigest()
