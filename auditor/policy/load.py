"""Load policies: safe YAML (no aliases, no duplicate keys, size cap), strict validation,
``extends:`` inheritance and built-in policies by name. YAML is read here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from auditor.errors import PolicyError
from auditor.policy.schema import Policy, Settings
from auditor.resources import policies_dir

MAX_POLICY_BYTES = 256 * 1024
_MAX_EXTENDS_DEPTH = 10


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that also refuses aliases (billion-laughs) and duplicate keys, and leaves
    dates as text so that the schema validates them (with the field and line in the error)."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class-level table, replaced
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise PolicyError(
                f"line {event.start_mark.line + 1}: YAML aliases (*name) are not allowed in "
                "policy files; write the values out."
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise PolicyError(
                    f"line {key_node.start_mark.line + 1}: key '{key}' appears twice "
                    f"(first on line {seen[key]})."
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


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
        raise PolicyError(_describe(exc, root, path)) from exc
    if policy.extends is None:
        _check_waivers(policy, path)
        return policy, (*chain, resolved)
    parent_path = resolve_policy_path(policy.extends, relative_to=path.parent)
    parent, files = _load_chain(parent_path, (*chain, resolved))
    merged = _merge(parent, policy)
    _check_waivers(merged, path)
    return merged, files


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node]:
    size = path.stat().st_size
    if size > MAX_POLICY_BYTES:
        raise PolicyError(f"policy file '{path}' is {size:,} bytes; the limit is 256 KiB.")
    text = path.read_text(encoding="utf-8")
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except PolicyError as exc:
        raise PolicyError(f"policy '{path}', {exc}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy '{path}' is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict) or root is None:
        raise PolicyError(f"policy '{path}' must be a mapping with apiVersion, name and rules.")
    return data, root


def _line_of(root: yaml.Node, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location, as deep as it goes."""
    node = root
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == part]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _describe(exc: ValidationError, root: yaml.Node, path: Path) -> str:
    lines = []
    for error in exc.errors()[:10]:
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        line = _line_of(root, loc)
        where = f"line {line}, " if line else ""
        lines.append(f"  {where}{field or '(top level)'}: {error['msg']}")
    return f"policy '{path}' is invalid:\n" + "\n".join(lines)


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
    )
