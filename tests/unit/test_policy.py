"""Policies: safe strict loading with errors that name file, line and field; evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import PolicyError
from auditor.policy import evaluate_policy, list_builtin_policies, load_policy
from auditor.policy.schema import Policy
from auditor.results import (
    CheckResult,
    GroupRow,
    GroupTable,
    MetricCell,
    Reason,
    Summary,
    Value,
)

GOOD = """\
apiVersion: auditor/v1
name: custom
rules:
  - id: di
    check: fairness.favorable_rate
    measure: ratio_to_highest
    threshold: {min: 0.8}
"""


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", list_builtin_policies())
def test_every_builtin_policy_validates(name: str) -> None:
    assert load_policy(name).policy.rules


def test_builtins_include_default_and_four_fifths() -> None:
    assert {"default", "four-fifths"} <= set(list_builtin_policies())


def test_misspelled_key_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path, GOOD.replace("    threshold:", "    treshold: {min: 0.8}\n    threshold:")
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert str(path) in message
    assert "line 7, rules[0].treshold: Extra inputs are not permitted" in message


def test_nan_threshold_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("{min: 0.8}", "{min: .nan}"))
    with pytest.raises(PolicyError, match=r"line 7, rules\[0\]\.threshold\.min: .*finite"):
        load_policy(path)


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "name: other\n")
    with pytest.raises(PolicyError, match="line 8: key 'name' appears twice .first on line 2."):
        load_policy(path)


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("threshold: {min: 0.8}", "threshold: &t {min: 0.8}") + (
        "  - id: second\n    check: fairness.selection_rate\n    threshold: *t\n"
    )
    with pytest.raises(PolicyError, match="aliases"):
        load_policy(write(tmp_path, text))


def test_python_tags_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("name: custom", "name: !!python/object/apply:os.system ['true']")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(write(tmp_path, text))


def test_unknown_check_suggests_the_right_name(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("fairness.favorable_rate", "fairness.selection_rat"))
    with pytest.raises(PolicyError, match="unknown check 'fairness.selection_rat'.*selection_rate"):
        load_policy(path)


def test_measure_must_belong_to_the_check(tmp_path: Path) -> None:
    text = GOOD.replace("fairness.favorable_rate", "performance.accuracy")
    with pytest.raises(PolicyError, match="has no measure 'ratio_to_highest'"):
        load_policy(write(tmp_path, text))


def test_oversized_policy_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "#" * 300_000 + "\n")
    with pytest.raises(PolicyError, match="limit is 256 KiB"):
        load_policy(path)


def test_extends_merges_settings_and_replaces_rules_by_id(tmp_path: Path) -> None:
    write(
        tmp_path,
        GOOD.replace("rules:", "settings: {min_group_size: 50, confidence: 0.9}\nrules:"),
        "base.yaml",
    )
    child = write(
        tmp_path,
        "apiVersion: auditor/v1\nname: child\nextends: base.yaml\n"
        "settings: {min_group_size: 10}\nrules:\n"
        "  - {id: di, check: fairness.favorable_rate, measure: ratio_to_highest, "
        "threshold: {min: 0.9}}\n"
        "  - {id: acc, check: performance.accuracy, threshold: {min: 0.6}}\n",
        "child.yaml",
    )
    loaded = load_policy(child)
    assert loaded.policy.settings.min_group_size == 10
    assert loaded.policy.settings.confidence == 0.9
    assert [(r.id, r.threshold.min) for r in loaded.policy.rules] == [("di", 0.9), ("acc", 0.6)]
    assert [p.name for p in loaded.files] == ["child.yaml", "base.yaml"]


def test_extends_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("name: custom", "name: a\nextends: b.yaml"), "a.yaml")
    write(tmp_path, GOOD.replace("name: custom", "name: b\nextends: a.yaml"), "b.yaml")
    with pytest.raises(PolicyError, match="extends itself"):
        load_policy(tmp_path / "a.yaml")


def test_extends_a_builtin_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("name: custom", "name: mine\nextends: four-fifths"))
    ids = [r.id for r in load_policy(path).policy.rules]
    assert ids == ["adverse-impact", "di"]


def test_unknown_builtin_lists_the_builtins() -> None:
    with pytest.raises(PolicyError, match="no built-in policy named 'defualt'. Built-in: default"):
        load_policy("defualt")


# --- evaluation -----------------------------------------------------------------------------


def cell(
    value: float | None, reason: Reason | None = None, ratio: float | None = None
) -> MetricCell:
    v = Value(value=value, reason=reason if value is None else None)
    r = Value(value=ratio, reason=reason if ratio is None else None)
    return MetricCell(value=v, difference_to_reference=v, ratio_to_reference=r, ratio_to_highest=r)


def table() -> GroupTable:
    def row(group: str, n: int, c: MetricCell) -> GroupRow:
        return GroupRow(
            group=group, labels={"g": group}, n=n, counts={}, metrics={"favorable_rate": c}
        )

    summary = Summary(
        min_max_ratio=Value(value=0.5),
        max_abs_difference=Value(value=0.3),
        groups_compared=["g=a", "g=b"],
        groups_excluded={"g=c": Reason.BELOW_MIN_GROUP_SIZE},
        n_compared=180,  # rows of g=a (100) and g=b (80)
    )
    return GroupTable(
        attribute="g",
        columns=["g"],
        reference="g=a",
        reference_rule="largest_group",
        rows=[
            row("g=a", 100, cell(0.6, ratio=1.0)),
            row("g=b", 80, cell(0.3, ratio=0.5)),
            row("g=c", 5, cell(0.9, ratio=1.5)),
            row("g=d", 40, cell(None, Reason.EMPTY_GROUP)),
        ],
        summaries={"favorable_rate": summary},
    )


def policy(measure: str, threshold: dict[str, float]) -> Policy:
    return Policy.model_validate(
        {
            "name": "t",
            "settings": {"min_group_size": 30},
            "rules": [
                {
                    "id": "r",
                    "check": "fairness.favorable_rate",
                    "measure": measure,
                    "threshold": threshold,
                }
            ],
        }
    )


def test_ratio_rule_skips_the_reference_and_never_judges_small_or_undefined_groups() -> None:
    results = [CheckResult(family="fairness", status="ok", tables=[table()])]
    findings = evaluate_policy(policy("ratio_to_reference", {"min": 0.8}), results)
    verdicts = {f.group: (f.verdict, f.reason) for f in findings}
    assert verdicts == {
        "g=b": ("fail", None),
        "g=c": ("insufficient_data", Reason.BELOW_MIN_GROUP_SIZE),
        "g=d": ("insufficient_data", Reason.EMPTY_GROUP),
    }
    failed = next(f for f in findings if f.group == "g=b")
    assert (failed.value, failed.n, failed.threshold_text) == (0.5, 80, "≥ 0.8")


def test_summary_rule_gives_one_finding_per_attribute() -> None:
    results = [CheckResult(family="fairness", status="ok", tables=[table()])]
    findings = evaluate_policy(policy("max_abs_difference", {"max": 0.3}), results)
    assert [(f.attribute, f.group, f.verdict, f.n) for f in findings] == [("g", None, "pass", 180)]


def test_errored_check_becomes_an_error_finding() -> None:
    results = [CheckResult(family="fairness", status="error", error="ValueError: boom")]
    findings = evaluate_policy(policy("value", {"max_abs": 0.1}), results)
    assert [(f.verdict, f.message) for f in findings] == [("error", "ValueError: boom")]


def test_a_rule_for_attributes_not_audited_says_so_instead_of_vanishing() -> None:
    rule_policy = Policy.model_validate(
        {
            "name": "t",
            "rules": [
                {
                    "id": "r",
                    "check": "fairness.selection_rate",
                    "attributes": ["race"],
                    "threshold": {"max_abs": 0.1},
                }
            ],
        }
    )
    results = [CheckResult(family="fairness", status="ok", tables=[table()])]
    (finding,) = evaluate_policy(rule_policy, results)
    assert finding.verdict == "not_applicable"
    assert "['race'], none of them audited" in finding.message
