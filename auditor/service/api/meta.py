"""What a submit may name: the built-in policies."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter

from auditor.policy import load_policy
from auditor.service.api.responses import AUTH, problems
from auditor.service.api.schemas import PolicyList
from auditor.service.auth import Read
from auditor.service.submit import builtin_policies, policy_sha256
from auditor.service.tokens import TokenInfo

router = APIRouter(tags=["policies"])


@lru_cache(maxsize=1)
def _policies() -> tuple[dict[str, Any], ...]:
    """Name, description, rule count and file digest of each built-in policy (read once)."""
    items = []
    for name in builtin_policies():
        loaded = load_policy(name)
        items.append(
            {
                "name": name,
                "description": loaded.policy.description,
                "rules": len(loaded.policy.rules),
                "sha256": policy_sha256(name),
            }
        )
    return tuple(items)


@router.get(
    "/policies",
    response_model=PolicyList,
    summary="The built-in policies a submit can name",
    responses=problems(*AUTH),
)
def get_policies(token: TokenInfo = Read) -> dict[str, Any]:
    """Custom policy files are not accepted over HTTP: only these names."""
    return {"items": list(_policies()), "default": "default"}
