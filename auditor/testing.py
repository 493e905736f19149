"""The pytest plugin: a fairness gate is one test.

Registered through the ``pytest11`` entry point, so installing auditor is enough::

    def test_credit_model_is_fair(auditor_audit, holdout):
        result = auditor_audit(holdout, target="approved", pos_label=1,
                               sensitive=["sex"], model=trained_pipeline)
        result.assert_passes()   # names every failed finding and the HTML report

``auditor_audit`` runs :func:`auditor.audit` and keeps the reports (in the test's ``tmp_path``,
or under ``--auditor-report-dir DIR``). With ``--auditor-report-dir DIR`` every audit made
during the run, through the fixture or not, is saved in ``DIR/<test id>/``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from auditor.observers import AUDIT_OBSERVERS

if TYPE_CHECKING:
    from auditor.audit_result import AuditResult

_PLUGIN_NAME = "auditor-report-saver"
_DIR_FORMATS = ("html", "pdf", "json")
_TMP_FORMATS = ("html", "json")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("auditor", "fairness audits (auditor)")
    group.addoption(
        "--auditor-report-dir",
        metavar="DIR",
        default=None,
        help="save the reports (html, pdf, json) of every audit made during the run in DIR/<test>/",
    )


class _ReportSaver:
    """Saves every audit completed while a test runs into DIR/<test id>/[n]/."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.current = "outside-tests"
        self.seen: Counter[str] = Counter()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.current = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")

    def save(self, result: AuditResult) -> None:
        self.seen[self.current] += 1
        count = self.seen[self.current]
        folder = self.directory / self.current
        result.save(folder if count == 1 else folder / f"audit-{count}", _DIR_FORMATS)


def pytest_configure(config: pytest.Config) -> None:
    directory = config.getoption("auditor_report_dir")
    if directory:
        saver = _ReportSaver(Path(directory).resolve())
        config.pluginmanager.register(saver, _PLUGIN_NAME)
        AUDIT_OBSERVERS.append(saver.save)


def pytest_unconfigure(config: pytest.Config) -> None:
    saver = config.pluginmanager.get_plugin(_PLUGIN_NAME)
    if isinstance(saver, _ReportSaver):
        AUDIT_OBSERVERS.remove(saver.save)
        config.pluginmanager.unregister(saver)


@pytest.fixture
def auditor_audit(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., AuditResult]]:
    """Run ``auditor.audit(...)`` with the same arguments and keep its reports.

    The reports go to ``--auditor-report-dir`` when it is given (saved by the plugin), else to
    the test's ``tmp_path/auditor`` (html and json), so that ``assert_passes()`` can always
    name the HTML report.
    """
    saving_elsewhere = request.config.pluginmanager.get_plugin(_PLUGIN_NAME) is not None
    made = 0

    def run(*args: Any, **kwargs: Any) -> AuditResult:
        from auditor.api import audit

        nonlocal made
        result = audit(*args, **kwargs)
        made += 1
        if not saving_elsewhere:
            folder = tmp_path / "auditor"
            result.save(folder if made == 1 else folder / f"audit-{made}", _TMP_FORMATS)
        return result

    yield run
