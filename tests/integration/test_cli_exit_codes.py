"""Exit codes through the real `auditor` command, one test per path of the contract."""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.inputs.model_files import load_model_file
from tests.conftest import SAMPLE_DATA, SAMPLE_MODEL, audit_args, run_cli


def decisions_args(csv: Path, *sensitive: str) -> list[str]:
    return audit_args(*sensitive, data=csv, prediction="decision")[1:]


def test_exit_0_when_the_policy_passes(decisions_csv: Path, tmp_path: Path) -> None:
    done = run_cli(
        "audit",
        *decisions_args(decisions_csv, "sex"),
        "--policy",
        "four-fifths",
        "--out",
        tmp_path,
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    assert "Audit PASSED" in done.stdout


def test_exit_1_when_a_finding_at_error_severity_fails(tmp_path: Path) -> None:
    done = run_cli(*audit_args("sex", "age_group"), "--out", tmp_path, "--format", "json")
    assert done.returncode == 1, done.stderr
    assert "Audit FAILED" in done.stdout and "disparate-impact" in done.stdout


def test_fail_on_warning_turns_warnings_into_a_failure(decisions_csv: Path, tmp_path: Path) -> None:
    base = ["audit", *decisions_args(decisions_csv, "sex"), "--out", tmp_path, "--format", "json"]
    assert run_cli(*base).returncode == 0
    assert run_cli(*base, "--fail-on", "warning").returncode == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--policy", "no-such-policy"], "no built-in policy named 'no-such-policy'"),
        (["--format", "html,docx"], "unknown format(s) ['docx']"),
        (["--model", SAMPLE_MODEL], "either --model or --prediction, not both"),
        (["--reference", "sex"], "write it as COLUMN=VALUE"),
        (["--quiet", "--json"], "cannot be used together"),
        (["--colour", "red"], "No such option '--colour'"),
    ],
)
def test_exit_2_for_usage_errors(
    decisions_csv: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    done = run_cli("audit", *decisions_args(decisions_csv, "sex"), "--out", tmp_path, *extra)
    assert done.returncode == 2
    assert message in done.stderr


def test_exit_2_for_an_invalid_policy_file(decisions_csv: Path, tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("apiVersion: auditor/v1\nname: bad\nrules: []\nsetings: {}\n")
    done = run_cli("audit", *decisions_args(decisions_csv, "sex"), "--policy", policy)
    assert done.returncode == 2
    assert "PolicyError" in done.stderr and "line 4, setings: Extra inputs" in done.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--data": "missing.csv"}, "data file 'missing.csv' does not exist"),
        ({"--target": "credit_risk"}, "--target 'credit_risk' is not a column of the data"),
        ({"--prediction": "score"}, "look like scores or probabilities"),
        ({"--sensitive": "credit_amount"}, "looks like an identifier"),
        ({"--pos-label": "good"}, "--pos-label 'good' is not a value of target 'credit'"),
    ],
)
def test_exit_3_for_rejected_input(
    decisions_csv: Path, tmp_path: Path, change: dict[str, str], message: str
) -> None:
    args = [str(a) for a in decisions_args(decisions_csv, "sex")]
    for flag, value in change.items():
        args[args.index(flag) + 1] = value
    done = run_cli("audit", *args, "--out", tmp_path, "--format", "json", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "InputError" in done.stderr and message in done.stderr


def test_exit_3_for_a_reference_group_the_data_lacks(decisions_csv: Path, tmp_path: Path) -> None:
    done = run_cli("audit", *decisions_args(decisions_csv, "sex"), "--reference", "sex=robot")
    assert done.returncode == 3
    assert "'robot' is not a value of 'sex'. Values: ['female', 'male']" in done.stderr


def test_exit_3_for_a_pickle_and_success_with_allow_pickle(tmp_path: Path) -> None:
    pickled = tmp_path / "model.skops"  # a misleading name: only the bytes count
    joblib.dump(load_model_file(SAMPLE_MODEL).estimator, pickled)
    args = [
        "--data",
        SAMPLE_DATA,
        "--model",
        pickled,
        "--target",
        "credit",
        "--pos-label",
        "1",
        "--sensitive",
        "sex",
        "--out",
        tmp_path,
        "--format",
        "json,html",
    ]
    refused = run_cli("audit", *args)
    assert refused.returncode == 3
    assert "PickleRefusedError" in refused.stderr and "--allow-pickle" in refused.stderr
    allowed = run_cli("audit", *args, "--allow-pickle")
    assert allowed.returncode in (0, 1), allowed.stderr
    audit = pd.read_json(tmp_path / "audit.json", typ="series")
    assert audit["setup"]["model"]["pickle_loaded"] is True
    assert "loaded from a pickle file" in (tmp_path / "report.html").read_text()


def test_exit_3_for_missing_sensitive_values_unless_kept_as_a_group(
    decisions_csv: Path, tmp_path: Path
) -> None:
    frame = pd.read_csv(decisions_csv)
    frame.loc[[3, 7], "sex"] = None
    holed = tmp_path / "holed.csv"
    frame.to_csv(holed, index=False)
    base = ["audit", *decisions_args(holed, "sex"), "--out", tmp_path, "--format", "json"]
    refused = run_cli(*base)
    assert refused.returncode == 3 and "--missing-as-group" in refused.stderr
    kept = run_cli(*base, "--missing-as-group", "--json")
    assert kept.returncode in (0, 1), kept.stderr
    assert '"group": "sex=(missing)"' in kept.stdout


def test_exit_4_only_where_the_policy_says_inconclusive_blocks(
    decisions_csv: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "strict.yaml"
    policy.write_text(
        "apiVersion: auditor/v1\nname: strict\n"
        "settings: {min_group_size: 30, inconclusive_blocks: true}\n"
        "rules:\n  - {id: di, check: fairness.favorable_rate, measure: ratio_to_highest, "
        "threshold: {min: 0.5}}\n"
    )
    args = [
        "audit",
        *decisions_args(decisions_csv, "sex", "age_group"),
        "--out",
        tmp_path,
        "--format",
        "json",
    ]
    assert run_cli(*args, "--policy", policy).returncode == 4  # male & under 25: n = 20
    policy.write_text(
        policy.read_text().replace("inconclusive_blocks: true", "inconclusive_blocks: false")
    )
    assert run_cli(*args, "--policy", policy).returncode == 0


def test_exit_70_for_an_unexpected_exception(
    monkeypatch: pytest.MonkeyPatch, decisions_csv: Path
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("auditor.api.audit", broken)
    result = CliRunner().invoke(main, ["audit", *map(str, decisions_args(decisions_csv, "sex"))])
    assert result.exit_code == 70
    assert "InternalError" in result.output


def test_policy_commands(tmp_path: Path) -> None:
    listed = run_cli("policy", "list")
    assert listed.returncode == 0 and "four-fifths" in listed.stdout
    shown = run_cli("policy", "show", "four-fifths")
    assert (
        shown.returncode == 0
        and "Share of the group that receives the favourable outcome" in shown.stdout
    )
    good = tmp_path / "ok.yaml"
    good.write_text("apiVersion: auditor/v1\nname: ok\nextends: default\n")
    assert run_cli("policy", "validate", good).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: auditor/v1\nname: ok\nrules:\n  - {id: x, check: nope, threshold: {min: 1}}\n"
    )
    invalid = run_cli("policy", "validate", bad)
    assert invalid.returncode == 2 and "unknown check 'nope'" in invalid.stderr
