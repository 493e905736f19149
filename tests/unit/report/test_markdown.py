"""render_markdown: verdict on the first line, one sentence of counts, the findings that matter
in order (blocking first), capped at 30 rows, user strings neutralised, the same text each time."""

from __future__ import annotations

import re

import pytest

from auditor.report import render_markdown
from auditor.report.markdown import MAX_ROWS, code, escape
from auditor.results import AuditRecord, Finding, WaiverInfo

WAIVER = WaiverInfo(reason="Pilot region", owner="risk-team", expires="2027-03-01", expired=False)
ROW = re.compile(r"^\| .* \|$")


def extended(result: AuditRecord, *extra: Finding, **update: object) -> AuditRecord:
    """The fixture audit with more findings and other top-level fields."""
    return result.model_copy(update={"findings": [*result.findings, *extra], **update})


def rows(markdown: str) -> list[list[str]]:
    """Table rows (header and separator excluded) split on unescaped pipes."""
    lines = [line for line in markdown.splitlines() if ROW.match(line)][1:]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]


@pytest.fixture(scope="module")
def pr_result(audit_result: AuditRecord) -> AuditRecord:
    """The fixture plus a waived failure and an error, listed last so ordering is tested."""
    fail = audit_result.findings[0]
    return extended(
        audit_result,
        fail.model_copy(update={"group": "sex=diverse", "verdict": "waived", "waiver": WAIVER}),
        fail.model_copy(
            update={"rule_id": "calibration", "verdict": "error", "value": None, "n": None}
        ),
        fail.model_copy(update={"compared_to": "sex=male", "group": "sex=x", "value": 0.7274}),
    )


def test_verdict_is_the_first_line(audit_result: AuditRecord) -> None:
    first = render_markdown(audit_result).splitlines()[0]
    assert first == "## ✘ Fairness audit FAILED — policy `four-fifths`"
    for verdict, heading in (("passed", "✔ Fairness audit PASSED"),
                             ("inconclusive", "? Fairness audit INCONCLUSIVE")):  # fmt: skip
        text = render_markdown(audit_result.model_copy(update={"verdict": verdict}))
        assert text.splitlines()[0] == f"## {heading} — policy `four-fifths`"


def test_counts_sentence(pr_result: AuditRecord) -> None:
    assert render_markdown(pr_result).splitlines()[2] == (
        "10 findings: 4 blocking, 1 could not be evaluated, 1 failed below --fail-on error, "
        "1 waived, 2 with insufficient data, 2 passed."
    )


def test_table_order_blocking_first_then_failures_waived_insufficient(
    pr_result: AuditRecord,
) -> None:
    table = rows(render_markdown(pr_result))
    assert [(r[0], r[1], r[2]) for r in table] == [
        ("**! error · blocking** (error)", "calibration", "sex=female"),
        ("**✘ fail · blocking** (error)", "adverse-impact", "sex=female"),
        ("**✘ fail · blocking** (error)", "adverse-impact", "age\\_group=&lt;25"),
        ("**✘ fail · blocking** (error)", "adverse-impact", "sex=x"),
        ("✘ fail (warning)", "equal-opportunity", "sex=female"),
        ("⚑ waived (error) until 2027-03-01, owner risk-team: Pilot region", "adverse-impact",
         "sex=diverse"),
        ("? insufficient data (error)", "adverse-impact",
         "age\\_group=&lt;img src=file:///etc/passwd&gt;"),
        ("? insufficient data (warning)", "equal-opportunity",
         "sex=female &amp; age\\_group=&gt;45"),
    ]  # fmt: skip
    assert all(len(r) == 7 for r in table)
    assert table[3][3:] == ["0.727", "≥ 0.8", "388", "sex=male"]
    assert table[0][3:] == ["undefined", "≥ 0.8", "–", "–"]
    assert table[4][4] == "\\|x\\| ≤ 0.1"


def test_inconclusive_insufficient_data_is_blocking(audit_result: AuditRecord) -> None:
    passing = [f for f in audit_result.findings if f.verdict != "fail"]
    record = audit_result.model_copy(update={"verdict": "inconclusive", "findings": passing})
    table = rows(render_markdown(record))
    assert [r[0] for r in table] == [
        "**? insufficient data · blocking** (error)",
        "? insufficient data (warning)",
    ]


def test_passed_without_anything_to_show(audit_result: AuditRecord) -> None:
    passing = [f for f in audit_result.findings if f.verdict == "pass"]
    text = render_markdown(
        audit_result.model_copy(update={"verdict": "passed", "findings": passing})
    )
    assert text.splitlines()[2] == "2 findings: 2 passed."
    assert "| verdict |" not in text
    assert "No finding failed, errored, was waived or lacked data." in text
    assert "`report.html` / `report.pdf`" in text


def test_hostile_values_are_neutralised(audit_result: AuditRecord) -> None:
    nasty = "<script>alert(1)</script> | `x` *b* [l](http://e) <img src=x onerror=alert(1)>\nrow"
    fail = audit_result.findings[0]
    policy = audit_result.policy.model_copy(update={"name": "a`b``c\n<i>"})
    record = extended(
        audit_result,
        fail.model_copy(update={"group": nasty, "rule_id": nasty, "compared_to": nasty,
                                "threshold_text": nasty}),
        policy=policy,
    )  # fmt: skip
    text = render_markdown(record)
    assert text.splitlines()[0] == "## ✘ Fairness audit FAILED — policy ```a`b``c <i>```"
    body = "\n".join(text.splitlines()[1:])
    assert "<script" not in body and "<img" not in body and "<i>" not in body
    hostile = [r for r in rows(text) if r[1].startswith("&lt;script")]
    assert len(hostile) == 1 and len(hostile[0]) == 7  # the pipe and newline stayed in the cell
    assert hostile[0][2] == hostile[0][1] == hostile[0][4] == hostile[0][6]
    assert hostile[0][2] == (
        "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\`x\\` \\*b\\* \\[l\\](http://e) "
        "&lt;img src=x onerror=alert(1)&gt; row"
    )


def test_escape_and_code_helpers() -> None:
    assert escape("a&b<c>|\\\x00\r\nd") == "a&amp;b&lt;c&gt;\\|\\\\ d"
    assert code("plain") == "`plain`"
    assert code("`edge`") == "`` `edge` ``"


def test_row_cap(audit_result: AuditRecord) -> None:
    fail = audit_result.findings[0]
    many = [fail.model_copy(update={"group": f"postcode={i:05d}"}) for i in range(40)]
    text = render_markdown(extended(audit_result, *many))
    table = rows(text)
    assert len(table) == MAX_ROWS == 30
    assert all(r[0].startswith("**✘ fail · blocking**") for r in table)
    shown = 2 + 40 + 1 + 2  # blocking fails, the 40 more, the warning, insufficient data
    assert f"… and {shown - MAX_ROWS} more." in text
    assert text.rstrip().endswith("next to this summary.")
    assert len(text.splitlines()) < MAX_ROWS + 15  # a comment, not the report


def test_same_record_same_text(pr_result: AuditRecord) -> None:
    again = AuditRecord.from_json(pr_result.to_json())
    assert render_markdown(pr_result) == render_markdown(pr_result) == render_markdown(again)
