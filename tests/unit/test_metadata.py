"""The model card: strict, safe loading; missing required fields become a finding."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auditor import audit
from auditor.errors import InputError
from auditor.inputs.metadata import REQUIRED_FIELDS, load_model_card
from tests.conftest import ROOT

SAMPLE_CARD = ROOT / "sample_models" / "german_credit_model_card.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "card.yaml"
    path.write_text(text)
    return path


def test_the_sample_model_card_is_complete() -> None:
    card = load_model_card(SAMPLE_CARD)
    assert card.missing == [] and card.review_date == "2027-06-30"
    assert card.version == "1.0" and card.source == str(SAMPLE_CARD)


def test_missing_and_empty_fields_are_listed_in_order(tmp_path: Path) -> None:
    card = load_model_card(write(tmp_path, "owner: risk team\ncontact: ''\nintended_users: []\n"))
    assert card.missing == [f for f in REQUIRED_FIELDS if f != "owner"]


def test_unknown_keys_and_bad_dates_name_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "owner: a\nownr: b\nreview_date: 2027-02-30\n")
    with pytest.raises(InputError) as caught:
        load_model_card(path)
    message = str(caught.value)
    assert "line 2, ownr: Extra inputs are not permitted" in message
    assert "line 3, review_date:" in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("owner: &a x\ncontact: *a\n", "aliases"),
        ("owner: a\nowner: b\n", "key 'owner' appears twice"),
        ("- a list\n", "must be a mapping"),
        ("owner: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)
def test_unsafe_or_malformed_yaml_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        load_model_card(write(tmp_path, text))


def test_a_missing_file_says_which_flag(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Check the --metadata path"):
        load_model_card(tmp_path / "absent.yaml")


def test_gaps_in_the_card_are_a_finding_not_an_error(tmp_path: Path, german: pd.DataFrame) -> None:
    frame = german.assign(decision=german["credit"])
    path = write(tmp_path, "owner: risk team\nintended_use: scoring\n")
    result = audit(
        frame,
        target="credit",
        pos_label=1,
        sensitive="sex",
        prediction="decision",
        metadata=path,
        positive_outcome="favorable",
    )
    (finding,) = result.findings.by_rule("model-card-complete")
    assert finding.verdict == "fail" and finding.severity == "warning"
    assert finding.value == pytest.approx(2 / len(REQUIRED_FIELDS))
    assert "missing: contact, intended_users, out_of_scope_uses" in finding.message
    assert result.metadata is not None and result.metadata.owner == "risk team"
    assert "metadata" in result.provenance.sha256


def test_no_model_card_counts_as_empty(german: pd.DataFrame) -> None:
    frame = german.assign(decision=german["credit"])
    result = audit(
        frame,
        target="credit",
        pos_label=1,
        sensitive="sex",
        prediction="decision",
        positive_outcome="favorable",
    )
    (finding,) = result.findings.by_rule("model-card-complete")
    assert finding.value == 0.0 and "no model card was supplied" in finding.message
    assert result.metadata is None
