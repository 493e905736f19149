"""The README's Python example runs as written (from the repository root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    example = next(b for b in blocks if "auditor.audit(" in b)
    monkeypatch.chdir(tmp_path)
    os.symlink(ROOT / "sample_models", tmp_path / "sample_models")
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    result = namespace["result"]
    assert result.verdict in ("passed", "failed")  # type: ignore[attr-defined]
    assert (tmp_path / "reports" / "python" / "report.html").exists()
    assert not namespace["rates"].empty  # type: ignore[attr-defined]
