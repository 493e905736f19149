"""The pytest plugin, run by pytest's own pytester: a fairness gate is one test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DATA

GATE = f"""
import numpy as np
import pandas as pd

DATA = pd.read_csv({str(SAMPLE_DATA)!r})


def test_fair_decisions_pass(auditor_audit):
    fair = DATA.assign(decision=DATA["credit"])  # the truth itself
    result = auditor_audit(fair, target="credit", pos_label=1, sensitive="sex",
                           prediction="decision", policy="four-fifths",
                           positive_outcome="favorable")
    result.assert_passes()


def test_biased_decisions_fail(auditor_audit):
    biased = DATA.assign(decision=np.where(DATA["sex"] == "male", 1, 2))
    result = auditor_audit(biased, target="credit", pos_label=1, sensitive="sex",
                           prediction="decision", policy="four-fifths",
                           positive_outcome="favorable")
    result.assert_passes()
"""


def test_plugin_fails_a_biased_model_with_a_useful_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_gate=GATE)
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=1, failed=1)
    outcome.stdout.fnmatch_lines(
        [
            "*AssertionError: audit failed against policy 'four-fifths'*",
            "*adverse-impact ?error? sex=female: fairness.favorable_rate ratio_to_highest = 0.000,"
            " threshold ≥ 0.8, n=124, vs sex=male*",
            "*report: *test_biased_decisions_fail*/auditor/report.html*",
        ]
    )


def test_report_dir_option_keeps_every_audit(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_gate=GATE)
    reports = tmp_path / "fairness-reports"
    outcome = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--auditor-report-dir={reports}"
    )
    outcome.assert_outcomes(passed=1, failed=1)
    saved = sorted(p.relative_to(reports).as_posix() for p in reports.rglob("report.*"))
    assert saved == [
        "test_gate.py_test_biased_decisions_fail/report.html",
        "test_gate.py_test_biased_decisions_fail/report.pdf",
        "test_gate.py_test_fair_decisions_pass/report.html",
        "test_gate.py_test_fair_decisions_pass/report.pdf",
    ]
    outcome.stdout.fnmatch_lines(
        [f"*report: {reports}/test_gate.py_test_biased_decisions_fail/report.html*"]
    )


def test_plugin_option_is_listed_in_help(pytester: pytest.Pytester) -> None:
    outcome = pytester.runpytest_subprocess("--help")
    outcome.stdout.fnmatch_lines(["*--auditor-report-dir=DIR*"])
