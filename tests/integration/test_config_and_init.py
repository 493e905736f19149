"""`auditor init` and options from auditor.toml / pyproject.toml: the CI line is `auditor audit`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DATA, SAMPLE_MODEL, run_cli

CONFIG = f"""
data = "data.csv"
model = "{SAMPLE_MODEL}"
target = "credit"
pos-label = "1"
positive-outcome = "favorable"
sensitive = ["sex", "age_group"]
format = ["json"]
out = "reports"
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    shutil.copy(SAMPLE_DATA, tmp_path / "data.csv")
    return tmp_path


def test_auditor_toml_makes_the_ci_line_just_auditor_audit(project: Path) -> None:
    (project / "auditor.toml").write_text(CONFIG)
    done = run_cli("audit", "--quiet", cwd=project)
    assert done.returncode == 1, done.stderr
    audit = json.loads((project / "reports" / "audit.json").read_text())
    assert audit["setup"]["sensitive"] == ["sex", "age_group"]
    assert audit["provenance"]["sha256"]["config"]
    assert any("auditor.toml" in note for note in audit["notes"])


def test_flags_override_the_file(project: Path) -> None:
    (project / "auditor.toml").write_text(CONFIG)
    done = run_cli("audit", "--quiet", "--sensitive", "sex", "--policy", "four-fifths", cwd=project)
    assert done.returncode == 0, done.stderr
    audit = json.loads((project / "reports" / "audit.json").read_text())
    assert audit["setup"]["sensitive"] == ["sex"] and audit["policy"]["name"] == "four-fifths"


def test_pyproject_tool_section_is_read(project: Path) -> None:
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.auditor]\n" + CONFIG)
    done = run_cli("audit", "--quiet", cwd=project)
    assert done.returncode == 1, done.stderr


def test_a_misspelt_option_in_the_file_is_a_usage_error(project: Path) -> None:
    (project / "auditor.toml").write_text(CONFIG + 'senstive = ["sex"]\n')
    done = run_cli("audit", cwd=project)
    assert done.returncode == 2
    assert "unknown option 'senstive'. Did you mean 'sensitive'?" in done.stderr


def test_other_commands_ignore_a_broken_config(project: Path) -> None:
    (project / "auditor.toml").write_text("this is = = not toml")
    assert run_cli("policy", "list", cwd=project).returncode == 0
    done = run_cli("audit", cwd=project)
    assert done.returncode == 2 and "could not read" in done.stderr


def test_init_writes_a_valid_starter_kit_and_keeps_existing_files(tmp_path: Path) -> None:
    done = run_cli("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in (
        "fairness-policy.yaml",
        "model-card.yaml",
        "auditor.toml",
        ".github/workflows/fairness-audit.yml",
    ):
        assert (tmp_path / name).is_file(), name
    assert run_cli("policy", "validate", "fairness-policy.yaml", cwd=tmp_path).returncode == 0
    workflow = (tmp_path / ".github/workflows/fairness-audit.yml").read_text()
    assert "auditor audit" in workflow and "GITHUB_STEP_SUMMARY" in workflow
    assert "upload-artifact" in workflow
    (tmp_path / "model-card.yaml").write_text("mine")
    again = run_cli("init", cwd=tmp_path)
    assert "kept   model-card.yaml" in again.stdout
    assert (tmp_path / "model-card.yaml").read_text() == "mine"
