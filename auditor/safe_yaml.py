"""Safe YAML for the files users hand in (policies, model cards): one loader, used everywhere.

SafeLoader (no Python objects), plus: no aliases (no billion-laughs), no duplicate keys, a
size cap, dates left as text for the schema to check, and pydantic errors turned into
"file, line, field: problem" sentences.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


class YamlProblem(ValueError):
    """A YAML file that cannot be read as a mapping; the message says where and why."""


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
            raise YamlProblem(
                f"line {event.start_mark.line + 1}: YAML aliases (*name) are not allowed in "
                "these files; write the values out."
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise YamlProblem(
                    f"line {key_node.start_mark.line + 1}: key '{key}' appears twice "
                    f"(first on line {seen[key]})."
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(path: Path, *, kind: str, max_bytes: int) -> tuple[dict[str, Any], yaml.Node]:
    """Parse ``path`` as one YAML mapping; ``kind`` ('policy', 'model card') names it in errors."""
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlProblem(
            f"{kind} file '{path}' is {size:,} bytes; the limit is {max_bytes // 1024} KiB."
        )
    text = path.read_text(encoding="utf-8")
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except YamlProblem as exc:
        raise YamlProblem(f"{kind} '{path}', {exc}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"{kind} '{path}' is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict) or root is None:
        raise YamlProblem(f"{kind} '{path}' must be a mapping of keys to values.")
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


def describe_validation_error(
    exc: ValidationError, root: yaml.Node, path: Path, *, kind: str
) -> str:
    """Every problem pydantic found, each with its line in the file and its field."""
    lines = []
    for error in exc.errors()[:10]:
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        line = _line_of(root, loc)
        where = f"line {line}, " if line else ""
        lines.append(f"  {where}{field or '(top level)'}: {error['msg']}")
    return f"{kind} '{path}' is invalid:\n" + "\n".join(lines)
