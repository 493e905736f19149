"""A non-editable install (the wheel) carries its templates and policies and renders a PDF."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = """
import sys
from pathlib import Path
import auditor
from auditor import audit
from auditor.report import write_reports
from auditor.resources import policies_dir, templates_dir
target = Path(sys.argv[1])
assert Path(auditor.__file__).is_relative_to(target), auditor.__file__
assert templates_dir().is_relative_to(target) and policies_dir().is_relative_to(target)
result = audit(sys.argv[2], target="credit", pos_label=1, sensitive="sex",
               model=sys.argv[3], policy="four-fifths")
written = write_reports(result, Path(sys.argv[4]), ["pdf"])
print(written["pdf"].stat().st_size)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("auditor-*.whl")
    return built


def test_wheel_ships_templates_policies_fonts_and_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "auditor/templates/report.html.j2",
        "auditor/templates/fonts/DejaVuSans.ttf",
        "auditor/policies/default.yaml",
        "auditor/policies/four-fifths.yaml",
        "auditor/schema/audit.schema.json",
    ):
        assert expected in names


def test_installed_wheel_renders_a_pdf(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=600,
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(target),
            str(ROOT / "sample_models/data/german_credit_audit.csv"),
            str(ROOT / "sample_models/german_credit_model.skops"),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) > 10_000
    assert (tmp_path / "out" / "report.pdf").read_bytes().startswith(b"%PDF-")
