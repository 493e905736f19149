"""auditor.audit from Python: in-memory models, aliases, tidy results, the same path as the CLI."""

from __future__ import annotations

import json
import os
import pickle
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import joblib
import lightgbm
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import auditor
from auditor import AuditResult, audit
from auditor.errors import InputError, UsageError
from tests.conftest import ROOT, SAMPLE_DATA, audit_args, run_cli


def audit_credit(data: object, **options: object) -> AuditResult:
    """The German credit audit these tests share: sex and age group, good credit favourable."""
    settings: dict[str, object] = {
        "target": "credit",
        "pos_label": 1,
        "sensitive": ["sex", "age_group"],
        "positive_outcome": "favorable",
    }
    return audit(data, **{**settings, **options})


NUMERIC = ["month", "credit_amount", "age", "investment_as_income_percentage"]
CATEGORICAL = ["status", "credit_history", "savings", "purpose"]
SNAPSHOT = ROOT / "tests" / "snapshots" / "repr_html_german.html"


@pytest.fixture(scope="module")
def pipeline(german: pd.DataFrame) -> Pipeline:
    """A preprocessing + model Pipeline fitted in memory, never saved."""
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("num", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=500))])
    return model.fit(german[CATEGORICAL + NUMERIC], german["credit"])


@pytest.fixture()
def no_pickling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything pickles or dumps a model while it runs."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was pickled or written to disk")

    for target, name in (
        (pickle, "dump"),
        (pickle, "dumps"),
        (joblib, "dump"),
        (sio, "dump"),
        (sio, "dumps"),
    ):
        monkeypatch.setattr(target, name, refuse)


def test_in_memory_pipeline_is_audited_without_any_file(
    german: pd.DataFrame, pipeline: Pipeline, no_pickling: None
) -> None:
    result = audit_credit(german, model=pipeline)
    assert isinstance(result, AuditResult)
    model = result.setup.model
    assert model is not None and model.path is None and model.format == "in-memory"
    assert model.class_name == "sklearn.pipeline.Pipeline"
    assert model.params["classify__max_iter"] == "500"
    assert model.params_sha256 is not None and len(model.params_sha256) == 64
    expected = (pipeline.predict(german[CATEGORICAL + NUMERIC]) == 1).mean()
    assert result.check("performance").overall["selection_rate"].value == pytest.approx(
        expected, abs=1e-15
    )


def test_in_memory_lightgbm_classifier(german: pd.DataFrame, no_pickling: None) -> None:
    clf = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=4, verbose=-1, random_state=0)
    clf.fit(german[NUMERIC], german["credit"])
    result = audit(
        german,
        target="credit",
        pos_label=1,
        sensitive="sex",
        model=clf,
        positive_outcome="favorable",
    )
    assert result.setup.model is not None
    assert result.setup.model.class_name == "lightgbm.sklearn.LGBMClassifier"
    female = next(r for r in result.check("fairness").tables[0].rows if r.group == "sex=female")
    mask = (german["sex"] == "female").to_numpy()
    predicted = clf.predict(german[NUMERIC])[mask] == 1
    assert female.metrics["selection_rate"].value.value == pytest.approx(
        predicted.mean(), abs=1e-15
    )


def test_cli_with_the_saved_model_gives_the_same_numbers(
    german: pd.DataFrame, pipeline: Pipeline, tmp_path: Path
) -> None:
    in_memory = audit_credit(german, model=pipeline)
    sio.dump(pipeline, tmp_path / "model.skops")
    args = audit_args("sex", "age_group", model=tmp_path / "model.skops")
    done = run_cli(*args, "--out", tmp_path, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    from_cli = AuditResult.from_json((tmp_path / "audit.json").read_text())
    assert from_cli.checks == in_memory.checks
    assert from_cli.findings == in_memory.findings


def test_cli_and_python_write_the_same_audit_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    done = run_cli(*audit_args("sex", "age_group"), "--out", tmp_path, "--format", "json")
    assert done.returncode == 1, done.stderr
    through_cli = json.loads((tmp_path / "audit.json").read_text())
    result = audit(
        SAMPLE_DATA,
        target="credit",
        pos_label=1,
        sensitive=["sex", "age_group"],
        model=ROOT / "sample_models" / "german_credit_model.skops",
        positive_outcome="favorable",
        command=through_cli["provenance"]["command"],
    )
    assert json.loads(result.to_json()) == through_cli


def test_sensitive_features_alias_series_and_frame(german: pd.DataFrame) -> None:
    decisions = german.assign(decision=np.where(german["age"] > 30, 1, 2))
    by_name = audit(
        decisions, target="credit", pos_label=1, sensitive=["sex"], prediction="decision"
    )
    features = decisions.pop("sex")
    by_series = audit(
        decisions, target="credit", pos_label=1, sensitive_features=features, prediction="decision"
    )
    by_frame = audit(
        decisions,
        target="credit",
        pos_label=1,
        sensitive_features=features.to_frame(),
        prediction="decision",
    )
    assert by_series.checks == by_name.checks == by_frame.checks
    with pytest.raises(InputError, match="index does not match"):
        audit(
            decisions,
            target="credit",
            pos_label=1,
            prediction="decision",
            sensitive_features=features.set_axis(features.index[::-1]),
        )
    with pytest.raises(UsageError, match="not both"):
        audit(
            decisions,
            target="credit",
            pos_label=1,
            prediction="decision",
            sensitive="age_group",
            sensitive_features=features,
        )


def test_arrow_table_and_prediction_array(german: pd.DataFrame) -> None:
    decisions = np.where(german["age"] > 30, 1, 2)
    from_pandas = audit(german, target="credit", pos_label=1, sensitive="sex", prediction=decisions)
    from_arrow = audit(
        pa.Table.from_pandas(german),
        target="credit",
        pos_label=1,
        sensitive="sex",
        prediction=decisions,
    )
    assert from_arrow.checks == from_pandas.checks


@pytest.fixture(scope="module")
def sample_result() -> AuditResult:
    return audit_credit(SAMPLE_DATA, model=ROOT / "sample_models" / "german_credit_model.skops")


def test_findings_filter_and_verdict(sample_result: AuditResult) -> None:
    assert not sample_result.passed and sample_result.verdict == "failed"
    failed_di = sample_result.findings.failed().by_rule("disparate-impact")
    assert [(f.group, f.severity) for f in failed_di] == [
        ("sex=female & age_group=under 25", "error")
    ]
    assert all(f.verdict == "insufficient_data" for f in sample_result.findings.insufficient())
    assert list(sample_result.blocking_findings) == list(failed_di)


def test_to_frame_is_tidy_and_matches_the_tables(sample_result: AuditResult) -> None:
    frame = sample_result.to_frame()
    assert list(frame.columns) == list(auditor.audit_result.FRAME_COLUMNS)
    values = frame[(frame.measure == "value") & (frame.check == "fairness")]
    pivot = values.pivot_table(index=["attribute", "group"], columns="metric", values="value")
    for table in sample_result.check("fairness").tables:
        for row in table.rows:
            for metric, cell in row.metrics.items():
                expected = cell.value.value
                got = pivot.loc[(table.attribute, row.group), metric]
                assert (np.isnan(got) and expected is None) or got == expected
    ratios = frame[(frame.measure == "ratio_to_reference") & (frame.attribute == "sex")]
    assert set(ratios.reference) == {"sex=male"}
    overall = frame[frame.check == "performance"]
    assert set(overall.group) == {"all rows"}


def test_save_writes_the_cli_files_and_assert_passes_names_them(
    sample_result: AuditResult, tmp_path: Path
) -> None:
    written = sample_result.save(tmp_path, formats=("html", "json"))
    assert set(written) == {"html", "json"}
    reread = AuditResult.from_json((tmp_path / "audit.json").read_text())
    assert reread.model_dump() == sample_result.model_dump()
    with pytest.raises(AssertionError) as caught:
        sample_result.assert_passes()
    message = str(caught.value)
    assert "audit failed against policy 'default'" in message
    assert (
        "disparate-impact [error] sex=female & age_group=under 25: fairness.favorable_rate "
        "ratio_to_highest = 0.727, threshold ≥ 0.8, n=34, vs sex=male & age_group=25 and over"
    ) in message
    assert f"report: {tmp_path / 'report.html'}" in message


class _TagBalance(HTMLParser):
    VOID: ClassVar[set[str]] = {"br", "img", "meta", "link", "hr", "input", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag != "script", "a notebook view must not run code"
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()


def test_repr_html_matches_its_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    result = audit_credit(SAMPLE_DATA, model=ROOT / "sample_models" / "german_credit_model.skops")
    html = result._repr_html_()
    parser = _TagBalance()
    parser.feed(html)
    assert parser.stack == []
    assert "✘</span> failed" in html and "disparate-impact" in html
    if os.environ.get("AUDITOR_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(html)
    assert html == SNAPSHOT.read_text(), "run with AUDITOR_UPDATE_SNAPSHOTS=1 and review the diff"


def test_repr_html_escapes_hostile_values(german: pd.DataFrame) -> None:
    frame = german.assign(sex=german["sex"].replace("female", "<script>alert(1)</script>"))
    html = audit(
        frame,
        target="credit",
        pos_label=1,
        sensitive="sex",
        prediction=np.where(frame["age"] > 40, 1, 2),
    )._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_public_api_is_pinned() -> None:
    assert set(auditor.__all__) == {"AuditResult", "audit", "load_policy"}
    assert (ROOT / "auditor" / "py.typed").exists()


def test_in_memory_xgboost_classifier(german: pd.DataFrame, no_pickling: None) -> None:
    import xgboost

    frame = german.assign(good=(german["credit"] == 1).astype(int))
    clf = xgboost.XGBClassifier(n_estimators=10, max_depth=2, random_state=0)
    clf.fit(frame[NUMERIC], frame["good"])
    result = audit(frame, target="good", sensitive="sex", model=clf, positive_outcome="favorable")
    assert result.setup.model is not None
    assert result.setup.model.class_name == "xgboost.sklearn.XGBClassifier"
    assert result.setup.model.features == NUMERIC
    expected = clf.predict(frame[NUMERIC]).mean()
    assert result.check("performance").overall["selection_rate"].value == pytest.approx(
        expected, abs=1e-15
    )
