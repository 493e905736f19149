"""JUnit XML for CI systems: one test case per finding, one test suite per rule.

GitLab, Jenkins and the GitHub test-report actions read JUnit XML and show failed test cases
in the merge request or build page. The mapping of a finding's verdict:

- ``pass`` -> a plain ``<testcase>``;
- ``fail`` at or above ``--fail-on`` -> ``<failure message=... type=<severity>>`` whose message
  gives the value, threshold, n and the group it is compared with, and whose text holds the
  finding's message and the rule's rationale;
- ``fail`` *below* ``--fail-on`` (say a warning when the audit fails on errors) -> a passing
  ``<testcase>`` with a ``<system-out>`` note. CI reporters count every ``<failure>`` as a red
  build, so emitting one would break the build for a finding that, by the audit's own exit
  code (0), does not; the note keeps it visible without contradicting the verdict;
- ``error`` -> ``<error>``: a rule that could not be evaluated always blocks, at any severity,
  as it does in the audit's verdict;
- ``insufficient_data``, ``waived`` and ``not_applicable`` -> ``<skipped message=...>``; a
  waiver names its reason, owner and expiry date.

The document is built with :mod:`xml.etree.ElementTree`, never by concatenating strings, and
characters XML 1.0 forbids (most C0 control characters, lone surrogates) are removed from every
value first. ``auditor/schema/junit.xsd`` describes the output; the tests validate against it.
The same record gives the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from auditor.report.formatting import reason_text
from auditor.results import AuditRecord, Finding

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "junit.xsd"
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_OUTCOMES = {"failures": "failure", "errors": "error", "skipped": "skipped"}


def _clean(text: str) -> str:
    """Remove the characters XML 1.0 cannot represent, even as character references."""
    return _FORBIDDEN.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """Append a child element with cleaned attributes (in the order given) and text."""
    child = ET.SubElement(parent, tag, {key: _clean(value) for key, value in attrs.items()})
    if text:
        child.text = _clean(text)
    return child


def subject(finding: Finding) -> str:
    """What a finding is about: its group, else its attribute, else "all rows"."""
    return finding.group or finding.attribute or "all rows"


def _value(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def failure_message(finding: Finding) -> str:
    """One line: group, measure, value, threshold, n, compared group and severity."""
    parts = [
        f"{subject(finding)}: {finding.check} {finding.measure} = {_value(finding.value)}",
        f"threshold {finding.threshold_text}",
    ]
    if finding.n is not None:
        parts.append(f"n={finding.n}")
    if finding.compared_to:
        parts.append(f"vs {finding.compared_to}")
    return ", ".join(parts) + f" (severity {finding.severity})"


def _details(finding: Finding) -> str:
    return "\n\n".join(part for part in (finding.message, finding.rationale) if part)


def _skip_message(finding: Finding) -> str:
    if finding.verdict == "insufficient_data":
        n = "" if finding.n is None else f", n={finding.n}"
        return f"insufficient data: {reason_text(finding.reason)}{n}"
    if finding.verdict == "waived":
        waiver = finding.waiver
        if waiver is None:
            return "waived: no waiver was recorded"
        expired = ", expired" if waiver.expired else ""
        return f"waived: {waiver.reason} (owner {waiver.owner}, until {waiver.expires}{expired})"
    return f"not applicable: {finding.message}"


def _testcase(
    suite: ET.Element, finding: Finding, name: str, fail_on: str, inconclusive: bool = False
) -> None:
    case = _sub(suite, "testcase", name=name, classname=f"auditor.{finding.rule_id}", time="0")
    verdict = finding.verdict
    if verdict == "insufficient_data" and finding.blocks(fail_on, inconclusive=inconclusive):
        # The policy blocks on insufficient data (exit 4): CI must not show this as green.
        _sub(case, "failure", finding.message, message=_skip_message(finding), type="inconclusive")
    elif verdict == "fail" and finding.blocks(fail_on):
        _sub(
            case,
            "failure",
            _details(finding),
            message=failure_message(finding),
            type=finding.severity,
        )
    elif verdict == "fail":
        note = (
            f"failed at severity {finding.severity} (does not fail the build: "
            f"--fail-on {fail_on})\n{failure_message(finding)}\n\n{_details(finding)}"
        )
        _sub(case, "system-out", note.rstrip())
    elif verdict == "error":
        message = f"{subject(finding)}: {finding.check} {finding.measure} could not be evaluated"
        _sub(case, "error", finding.message, message=message, type="error")
    elif verdict in ("insufficient_data", "waived", "not_applicable"):
        text = failure_message(finding) if verdict == "waived" else None
        _sub(case, "skipped", text, message=_skip_message(finding))


def _properties(suite: ET.Element, result: AuditRecord) -> None:
    model = result.setup.model
    props = {
        "policy": result.policy.name,
        "verdict": result.verdict,
        "fail_on": result.fail_on,
        "data": result.setup.data_path or "(in memory)",
        "model": (model.path or "(in memory)") if model else "(none: decisions audited)",
        "tool_version": result.provenance.tool_version,
    }
    element = _sub(suite, "properties")
    for key, value in props.items():
        _sub(element, "property", name=f"auditor.{key}", value=value)


def _timestamp(created: str) -> str | None:
    """The audit's creation time in UTC without an offset, as Ant's JUnit writes it (Jenkins
    reads ``yyyy-MM-ddTHH:mm:ss``), or None when it cannot be read as a date and time."""
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _count(suite: ET.Element, totals: dict[str, int]) -> None:
    cases = suite.findall("testcase")
    counts = {"tests": len(cases)}
    for key, outcome in _OUTCOMES.items():
        counts[key] = sum(case.find(outcome) is not None for case in cases)
    for key, value in counts.items():
        suite.set(key, str(value))
        totals[key] = totals.get(key, 0) + value


def render_junit(result: AuditRecord) -> str:
    """Render the audit as JUnit XML: a test suite per rule, a test case per finding.

    Parameters
    ----------
    result : AuditRecord
        The audit to render; nothing is recomputed.

    Returns
    -------
    str
        A UTF-8 XML document (with declaration) valid against ``auditor/schema/junit.xsd``.
    """
    name = f"auditor: policy '{result.policy.name}'"
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped", "time"), "0")
    root = _sub(ET.Element("_"), "testsuites", name=name, **counts)
    by_rule: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    stamp = _timestamp(result.provenance.created)
    totals: dict[str, int] = {}
    for rule_id, findings in by_rule.items():
        counts = dict.fromkeys(("tests", "failures", "errors", "skipped", "time"), "0")
        suite = _sub(root, "testsuite", name=rule_id, **counts)
        if stamp is not None:
            suite.set("timestamp", stamp)
        _properties(suite, result)
        seen: dict[str, int] = {}
        for finding in findings:
            name = _clean(subject(finding))
            seen[name] = seen.get(name, 0) + 1
            unique = name if seen[name] == 1 else f"{name} (#{seen[name]})"
            _testcase(suite, finding, unique, result.fail_on, result.verdict == "inconclusive")
        _count(suite, totals)
    for key, total in totals.items():
        root.set(key, str(total))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
