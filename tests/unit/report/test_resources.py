"""Bundled resources: found in the package first, then in a source checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor import resources


def test_templates_dir_holds_the_report_templates_and_fonts() -> None:
    root = resources.templates_dir()
    for name in ("report.html.j2", "report.css", "report-pdf.css"):
        assert (root / name).is_file()
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE_DEJAVU"):
        assert (root / "fonts" / name).is_file()


def test_package_copy_wins_over_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package, checkout = tmp_path / "checkout" / "auditor", tmp_path / "checkout"
    (package / "templates").mkdir(parents=True)
    (checkout / "templates").mkdir()
    (checkout / "policies").mkdir()
    (checkout / "pyproject.toml").write_text("")
    monkeypatch.setattr(resources, "_PACKAGE_DIR", package)
    monkeypatch.setattr(resources, "_CHECKOUT_ROOT", checkout)
    assert resources.templates_dir() == package / "templates"
    assert resources.policies_dir() == checkout / "policies"


def test_a_stray_directory_outside_a_checkout_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "templates").mkdir()  # e.g. another distribution's templates/ in site-packages
    monkeypatch.setattr(resources, "_PACKAGE_DIR", tmp_path / "auditor")
    monkeypatch.setattr(resources, "_CHECKOUT_ROOT", tmp_path)
    with pytest.raises(RuntimeError, match="templates/ directory was not found"):
        resources.templates_dir()
