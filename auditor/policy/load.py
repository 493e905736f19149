"""Load policies: safe YAML (auditor.safe_yaml), strict validation, ``extends:`` inheritance
and built-in policies by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from auditor.errors import PolicyError
from auditor.policy.schema import Policy, PrivacySettings, Settings
from auditor.resources import policies_dir
from auditor.safe_yaml import YamlProblem, describe_validation_error, read_yaml_mapping

MAX_POLICY_BYTES = 256 * 1024
_MAX_EXTENDS_DEPTH = 10


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy and the files it was read from (child first)."""

    policy: Policy
    source: str
    files: tuple[Path, ...]


def list_builtin_policies() -> list[str]:
    """Names of the policies shipped with auditor."""
    return sorted(p.stem for p in policies_dir().glob("*.yaml"))


def resolve_policy_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A built-in policy name ('default') or a path to a YAML file."""
    text = str(name_or_path)
    builtin = policies_dir() / f"{text}.yaml"
    looks_like_path = "/" in text or text.endswith((".yaml", ".yml")) or "\\" in text
    if not looks_like_path:
        if builtin.is_file():
            return builtin
        raise PolicyError(
            f"no built-in policy named '{text}'. Built-in: {', '.join(list_builtin_policies())}; "
            "or pass a path to a YAML file."
        )
    path = Path(text)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if not path.is_file():
        raise PolicyError(f"policy file '{path}' does not exist.")
    return path


def load_policy(name_or_path: str | Path) -> LoadedPolicy:
    """Load, validate and resolve ``extends:`` of a built-in policy name or a policy file."""
    path = resolve_policy_path(name_or_path)
    policy, files = _load_chain(path, ())
    return LoadedPolicy(policy=policy, source=str(name_or_path), files=files)


def _load_chain(path: Path, chain: tuple[Path, ...]) -> tuple[Policy, tuple[Path, ...]]:
    resolved = path.resolve()
    if resolved in chain:
        raise PolicyError(f"policy '{path}' extends itself through {[str(p) for p in chain]}.")
    if len(chain) >= _MAX_EXTENDS_DEPTH:
        raise PolicyError(f"policy '{path}': `extends:` is nested more than 10 deep.")
    data, root = _read_yaml(path)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(describe_validation_error(exc, root, path, kind="policy")) from exc
    extra: tuple[Path, ...] = ()
    if policy.population_file is not None:
        policy, population_path = _with_population_file(policy, path)
        extra = (population_path,)
    if policy.extends is None:
        _check_waivers(policy, path)
        return policy, (*chain, resolved, *extra)
    parent_path = resolve_policy_path(policy.extends, relative_to=path.parent)
    parent, files = _load_chain(parent_path, (*chain, resolved))
    merged = _merge(parent, policy)
    _check_waivers(merged, path)
    return merged, (*files, *extra)


def _with_population_file(policy: Policy, path: Path) -> tuple[Policy, Path]:
    """The policy with the shares of its ``population_file`` (a YAML file beside it)."""
    assert policy.population_file is not None
    target = (path.parent / policy.population_file).resolve()
    if not target.is_file():
        raise PolicyError(
            f"policy '{path}': population_file '{policy.population_file}' does not exist "
            f"(looked for {target})."
        )
    data, root = _read_yaml(target)
    if set(data) != {"population"}:
        raise PolicyError(
            f"population file '{target}' must hold exactly one key, `population:`, a list of "
            "{attribute, shares, source}."
        )
    try:
        merged = Policy.model_validate(
            {**policy.model_dump(exclude_unset=True), "population": data["population"]}
        )
    except ValidationError as exc:
        raise PolicyError(describe_validation_error(exc, root, target, kind="policy")) from exc
    return merged, target


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node]:
    try:
        return read_yaml_mapping(path, kind="policy", max_bytes=MAX_POLICY_BYTES)
    except YamlProblem as exc:
        raise PolicyError(str(exc)) from None


def _check_waivers(policy: Policy, path: Path) -> None:
    ids = {rule.id for rule in policy.rules}
    unknown = [w.rule for w in policy.waivers if w.rule not in ids]
    if unknown:
        raise PolicyError(
            f"policy '{path}': waivers name rules that the policy does not have: {unknown}. "
            f"Rules: {sorted(ids)}."
        )


def _merge(parent: Policy, child: Policy) -> Policy:
    """Child settings override the parent's key by key; child rules replace same-id rules."""
    settings = parent.settings.model_dump()
    settings.update(child.settings.model_dump(include=child.settings.model_fields_set))
    rules = {rule.id: rule for rule in parent.rules}
    rules.update({rule.id: rule for rule in child.rules})
    return Policy(
        apiVersion=child.apiVersion,
        name=child.name,
        description=child.description or parent.description,
        extends=child.extends,
        settings=Settings.model_validate(settings),
        rules=list(rules.values()),
        waivers=[*parent.waivers, *child.waivers],
        # Population shares by attribute, privacy settings key by key: a child that sets
        # privacy.l keeps its parent's quasi-identifiers.
        population=list({p.attribute: p for p in (*parent.population, *child.population)}.values()),
        privacy=PrivacySettings.model_validate(
            {
                **parent.privacy.model_dump(),
                **child.privacy.model_dump(include=child.privacy.model_fields_set),
            }
        ),
    )
