"""audit.json is the boundary: schema-valid, enough to rebuild every report, reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from auditor import audit
from auditor.errors import InputError
from auditor.report import render_html
from auditor.results import AuditRecord
from auditor.schema import generate_schema, load_schema
from tests.conftest import audit_args, run_cli

HOSTILE_COLUMN = "<script>alert(1)</script>"
HOSTILE_VALUE = "<img src=file:///etc/passwd>"


def test_committed_schema_matches_the_result_classes() -> None:
    assert load_schema() == generate_schema(), "run `make schema` and commit the result"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    done = run_cli(*audit_args("sex", "age_group"), "--out", out)
    assert done.returncode == 1, done.stderr
    return out


def test_audit_json_validates_against_the_schema(demo: Path) -> None:
    document = json.loads((demo / "audit.json").read_text())
    jsonschema.validate(document, load_schema())
    assert document["schema_version"] == "1.0"
    (fairness,) = [c for c in document["checks"] if c["family"] == "fairness"]
    assert {t["attribute"] for t in fairness["tables"]} == {
        "sex",
        "age_group",
        "sex & age_group",
    }


def test_render_rebuilds_the_same_reports_from_audit_json_alone(demo: Path, tmp_path: Path) -> None:
    done = run_cli("render", demo / "audit.json", "--format", "html,pdf", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").read_bytes() == (demo / "report.html").read_bytes()
    assert (tmp_path / "report.pdf").read_bytes() == (demo / "report.pdf").read_bytes()


def test_pdf_page_one_carries_the_verdict(demo: Path) -> None:
    first_page = PdfReader(demo / "report.pdf").pages[0].extract_text()
    assert "FAILED" in first_page.upper()


def test_render_rejects_a_file_that_is_not_an_audit(tmp_path: Path) -> None:
    bogus = tmp_path / "audit.json"
    bogus.write_text('{"schema_version": "1.0"}')
    done = run_cli("render", bogus)
    assert done.returncode == 3 and "is not an audit.json" in done.stderr


def test_same_inputs_and_source_date_epoch_give_identical_files(
    monkeypatch: pytest.MonkeyPatch, german: pd.DataFrame
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    frame = german.assign(decision=np.where(german["age"] > 30, 1, 2))
    first = audit(frame, target="credit", pos_label=1, sensitive="sex", prediction="decision")
    second = audit(frame, target="credit", pos_label=1, sensitive="sex", prediction="decision")
    assert first.provenance.created == "2026-01-01T00:00:00Z"
    assert first.to_json() == second.to_json()
    assert render_html(first) == render_html(second)


def test_hostile_names_and_values_are_escaped_in_html_and_inert_in_pdf(
    tmp_path: Path, german: pd.DataFrame
) -> None:
    frame = german.rename(columns={"sex": HOSTILE_COLUMN})
    frame[HOSTILE_COLUMN] = frame[HOSTILE_COLUMN].replace("female", HOSTILE_VALUE)
    frame["decision"] = frame["credit"]
    data = tmp_path / "hostile.csv"
    frame.to_csv(data, index=False)
    done = run_cli(
        "audit",
        "--data",
        data,
        "--prediction",
        "decision",
        "--target",
        "credit",
        "--pos-label",
        "1",
        "--sensitive",
        HOSTILE_COLUMN,
        "--out",
        tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr
    html = (tmp_path / "report.html").read_text()
    assert "<script>alert(1)" not in html and "<img src=file:///etc/passwd>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    pages = PdfReader(tmp_path / "report.pdf").pages
    text = "".join(page.extract_text() for page in pages).replace("\n", "")
    assert HOSTILE_VALUE in text  # shown as text (wrapped in table cells), never fetched


def test_a_group_without_positives_is_undefined_and_excluded_from_the_verdict(
    german: pd.DataFrame,
) -> None:
    frame = german.copy()
    frame.loc[frame["age_group"] == "under 25", "credit"] = 2  # nobody young is a good risk
    result = audit(
        frame,
        target="credit",
        pos_label=1,
        sensitive="age_group",
        prediction=np.where(frame["age"] % 2 == 0, 1, 2),
    )
    young = next(
        row for row in result.check("fairness").tables[0].rows if row.group == "age_group=under 25"
    )
    tpr = young.metrics["true_positive_rate"].value
    assert tpr.value is None and tpr.reason == "no_positives"
    finding = next(
        f
        for f in result.findings
        if f.rule_id == "equal-opportunity" and f.group == "age_group=under 25"
    )
    assert (finding.verdict, finding.reason, finding.value) == (
        "insufficient_data",
        "no_positives",
        None,
    )
    assert "undefined" in render_html(result)


def test_predictions_must_line_up_with_the_data(german: pd.DataFrame) -> None:
    shuffled = pd.Series(german["credit"].to_numpy(), index=german.index[::-1])
    with pytest.raises(InputError, match="index does not match the data's index"):
        audit(german, target="credit", pos_label=1, sensitive="sex", prediction=shuffled)
    with pytest.raises(InputError, match=r"shape \(399,\) but the data has 400 rows"):
        audit(
            german,
            target="credit",
            pos_label=1,
            sensitive="sex",
            prediction=german["credit"].to_numpy()[:-1],
        )


def test_round_trip_through_json_is_lossless(demo: Path) -> None:
    text = (demo / "audit.json").read_text()
    assert AuditRecord.from_json(text).to_json() == text
