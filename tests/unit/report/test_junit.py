"""render_junit: JUnit XML valid against auditor/schema/junit.xsd, counts that add up, one
outcome per finding verdict, failures below --fail-on that do not break the build, hostile
strings that stay valid XML, and the same bytes every time."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from auditor.report import render_junit, write_reports
from auditor.report.junit import SCHEMA_PATH
from auditor.results import AuditRecord, Finding, WaiverInfo

WAIVER = WaiverInfo(
    reason="Pilot region, reviewed by legal", owner="risk-team", expires="2027-03-01", expired=False
)


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def extended(result: AuditRecord, *extra: Finding, fail_on: str = "error") -> AuditRecord:
    """The fixture audit with more findings (and possibly another --fail-on)."""
    return result.model_copy(update={"findings": [*result.findings, *extra], "fail_on": fail_on})


def variant(base: Finding, **update: object) -> Finding:
    return base.model_copy(update=update)


@pytest.fixture(scope="module")
def ci_result(audit_result: AuditRecord) -> AuditRecord:
    """The fixture plus a waived failure, an error, a not-applicable finding, and a failure
    with a compared group and a rationale."""
    fail = audit_result.findings[0]
    return extended(
        audit_result,
        variant(fail, group="sex=diverse", value=0.61, n=41, verdict="waived", waiver=WAIVER),
        variant(
            fail,
            rule_id="favorable-ratio",
            check="fairness.favorable_rate",
            measure="ratio_to_highest",
            value=0.7274,
            n=34,
            compared_to="sex=male",
            message="sex=female: favorable_rate ratio_to_highest = 0.727, ≥ 0.8",
            rationale="Favourable outcomes within 80% of the best-treated group.",
        ),
        variant(
            fail,
            rule_id="calibration",
            verdict="error",
            value=None,
            n=None,
            message="check performance failed: the model has no predict_proba",
        ),
        variant(
            fail,
            rule_id="calibration",
            group=None,
            attribute=None,
            verdict="not_applicable",
            message="no scores were given",
        ),
    )


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))


def case(root: ET.Element, suite: str, name: str) -> ET.Element:
    """The test case ``name`` of suite ``suite`` (no XPath: names may hold any character)."""
    found = [
        c
        for s in root.iterfind("testsuite")
        if s.get("name") == suite
        for c in s.iterfind("testcase")
        if c.get("name") == name
    ]
    assert len(found) == 1, f"no single test case {name!r} in suite {suite!r}"
    return found[0]


def test_fixture_is_valid_against_the_schema(
    audit_result: AuditRecord, ci_result: AuditRecord, schema: xmlschema.XMLSchema
) -> None:
    for result in (audit_result, ci_result):
        xml = render_junit(result)
        assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
        schema.validate(xml)
        assert parse(xml).tag == "testsuites"


def test_one_suite_per_rule_and_counts_add_up(ci_result: AuditRecord) -> None:
    root = parse(render_junit(ci_result))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "adverse-impact", "equal-opportunity", "min-accuracy", "favorable-ratio", "calibration"
    ]  # fmt: skip
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in suites:
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": len(suite.findall("testcase/failure")),
            "errors": len(suite.findall("testcase/error")),
            "skipped": len(suite.findall("testcase/skipped")),
        }
        assert {key: int(suite.get(key, "-1")) for key in counted} == counted
        assert suite.get("time") == "0"
        assert all(c.get("classname") == f"auditor.{suite.get('name')}" for c in cases)
        for key, value in counted.items():
            totals[key] += value
    assert {key: int(root.get(key, "-1")) for key in totals} == totals
    assert totals == {"tests": 11, "failures": 3, "errors": 1, "skipped": 4}
    assert root.get("name") == "auditor: policy 'four-fifths'"
    assert len(ci_result.findings) == totals["tests"]


def test_failure_names_value_threshold_n_and_compared_group(ci_result: AuditRecord) -> None:
    failure = case(parse(render_junit(ci_result)), "favorable-ratio", "sex=female").find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert failure.get("message") == (
        "sex=female: fairness.favorable_rate ratio_to_highest = 0.727, threshold ≥ 0.8, n=34, "
        "vs sex=male (severity error)"
    )
    assert failure.text == (
        "sex=female: favorable_rate ratio_to_highest = 0.727, ≥ 0.8\n\n"
        "Favourable outcomes within 80% of the best-treated group."
    )


def test_failure_below_fail_on_does_not_break_the_build(audit_result: AuditRecord) -> None:
    tpr = case(parse(render_junit(audit_result)), "equal-opportunity", "sex=female")
    assert tpr.find("failure") is None and tpr.find("error") is None
    out = tpr.findtext("system-out") or ""
    assert out.startswith("failed at severity warning (does not fail the build: --fail-on error)")
    assert "difference_to_reference = -0.149, threshold |x| ≤ 0.1, n=388" in out


def test_failure_at_fail_on_warning_is_a_failure(audit_result: AuditRecord) -> None:
    strict = audit_result.model_copy(update={"fail_on": "warning"})
    root = parse(render_junit(strict))
    failure = case(root, "equal-opportunity", "sex=female").find("failure")
    assert failure is not None and failure.get("type") == "warning"
    assert root.get("failures") == "3"
    assert root.find(".//property[@name='auditor.fail_on']").get("value") == "warning"  # type: ignore[union-attr]


def test_skipped_error_and_waived_outcomes(ci_result: AuditRecord) -> None:
    root = parse(render_junit(ci_result))
    small = case(root, "adverse-impact", "age_group=<img src=file:///etc/passwd>").find("skipped")
    assert small is not None
    assert small.get("message") == (
        "insufficient data: the group is smaller than the policy's min_group_size, n=5"
    )
    waived = case(root, "adverse-impact", "sex=diverse").find("skipped")
    assert waived is not None
    assert waived.get("message") == (
        "waived: Pilot region, reviewed by legal (owner risk-team, until 2027-03-01)"
    )
    assert "= 0.610, threshold ≥ 0.8, n=41" in (waived.text or "")
    error = case(root, "calibration", "sex=female").find("error")
    assert error is not None
    assert error.get("message") == (
        "sex=female: fairness.selection_rate ratio_to_reference could not be evaluated"
    )
    assert error.text == "check performance failed: the model has no predict_proba"
    na = case(root, "calibration", "all rows").find("skipped")
    assert na is not None and na.get("message") == "not applicable: no scores were given"
    assert case(root, "min-accuracy", "all rows").find("*") is None  # a pass: no outcome


def test_properties_describe_the_audit(audit_result: AuditRecord) -> None:
    suite = parse(render_junit(audit_result)).find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.iterfind("properties/property")}
    assert props == {
        "auditor.policy": "four-fifths",
        "auditor.verdict": "failed",
        "auditor.fail_on": "error",
        "auditor.data": "data/<script>alert(1)</script>/credit.csv",
        "auditor.model": "sample_models/german_credit_model.skops",
        "auditor.tool_version": "0.1.0",
    }
    assert suite.get("timestamp") == "2026-03-01T09:30:00"


def test_hostile_strings_stay_valid_xml(
    audit_result: AuditRecord, schema: xmlschema.XMLSchema
) -> None:
    nasty = "a<b>&\"c'\x00\x01\x0b\x1b\ud800\ufffe]]>\r\nend"
    fail = audit_result.findings[0]
    record = extended(
        audit_result.model_copy(
            update={"policy": audit_result.policy.model_copy(update={"name": nasty})}
        ),
        variant(fail, rule_id=nasty, group=nasty, message=nasty, rationale=nasty,
                compared_to=nasty, threshold_text=nasty),
        variant(fail, group=nasty, verdict="waived",
                waiver=WAIVER.model_copy(update={"reason": nasty, "owner": nasty})),
    )  # fmt: skip
    xml = render_junit(record)
    schema.validate(xml)
    root = parse(xml)
    clean = "a<b>&\"c']]>\r\nend"
    assert root.get("name") == f"auditor: policy '{clean}'"
    hostile = case(root, clean, clean)
    failure = hostile.find("failure")
    assert failure is not None and clean in (failure.get("message") or "")
    assert hostile.get("classname") == f"auditor.{clean}"
    assert "<script>" not in xml and "<img" not in xml and "<b>" not in xml
    waived = case(root, "adverse-impact", clean).find("skipped")
    assert waived is not None
    assert waived.get("message") == f"waived: {clean} (owner {clean}, until 2027-03-01)"


def test_duplicate_names_in_a_suite_stay_distinct(audit_result: AuditRecord) -> None:
    first = audit_result.findings[0]
    root = parse(render_junit(extended(audit_result, variant(first, measure="difference"))))
    names = [c.get("name") for c in root.iterfind("testsuite[@name='adverse-impact']/testcase")]
    assert names.count("sex=female") == 1 and "sex=female (#2)" in names


def test_same_record_same_bytes(ci_result: AuditRecord) -> None:
    again = AuditRecord.from_json(ci_result.to_json())  # as `auditor render audit.json` would
    assert render_junit(ci_result) == render_junit(ci_result) == render_junit(again)


def test_write_reports_writes_junit_and_markdown(audit_result: AuditRecord, tmp_path: Path) -> None:
    written = write_reports(audit_result, tmp_path, ["junit", "md"])
    assert written == {"junit": tmp_path / "junit.xml", "md": tmp_path / "summary.md"}
    assert written["junit"].read_text(encoding="utf-8") == render_junit(audit_result)
    assert written["md"].read_bytes().startswith("## ✘ Fairness audit FAILED".encode())
