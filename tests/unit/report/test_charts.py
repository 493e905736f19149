"""Charts: reproducible SVG data URIs with alt text that states the values."""

from __future__ import annotations

import base64

from auditor.report.charts import rate_chart
from auditor.results import AuditRecord, GroupTable

from .conftest import make_table, many_groups_table


def _svg(uri: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    return base64.b64decode(uri[len(prefix) :]).decode("utf-8")


def _table(audit_result: AuditRecord, attribute: str) -> GroupTable:
    return next(t for t in audit_result.checks[0].tables if t.attribute == attribute)


def test_chart_is_a_reproducible_svg(audit_result: AuditRecord) -> None:
    table = _table(audit_result, "sex")
    first = rate_chart(table, label="Selection rate", max_groups=50)
    second = rate_chart(table, label="Selection rate", max_groups=50)
    assert first is not None and second is not None
    assert first == second
    svg = _svg(first.uri)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<dc:date>" not in svg


def test_alt_text_states_values_and_reference(audit_result: AuditRecord) -> None:
    chart = rate_chart(_table(audit_result, "sex"), label="Selection rate", max_groups=50)
    assert chart is not None
    assert "Reference group sex=male: 0.425." in chart.alt
    assert "sex=female: 0.327, interval 0.283 to 0.376." in chart.alt


def test_hostile_labels_stay_inert_in_the_svg(audit_result: AuditRecord) -> None:
    chart = rate_chart(_table(audit_result, "age_group"), label="Selection rate", max_groups=50)
    assert chart is not None
    assert "<script" not in _svg(chart.uri).lower()
    assert "<img src" not in _svg(chart.uri)


def test_undefined_values_are_labelled_not_drawn_as_zero() -> None:
    table = make_table("x", {"x=a": (5, 5, 5, 40), "x=$b$": (0, 0, 0, 0)}, "x=a")
    chart = rate_chart(table, label="Selection rate", max_groups=50)
    assert chart is not None
    assert "x=$b$: undefined (the group has no rows)." in chart.alt


def test_long_tables_draw_at_most_max_groups() -> None:
    chart = rate_chart(many_groups_table(60), label="Selection rate", max_groups=50)
    assert chart is not None
    assert "postcode=00049" in chart.alt and "postcode=00050" not in chart.alt
    assert "10 more groups are not drawn." in chart.alt
    assert "The first 50 of 60 groups are drawn." in chart.caption


def test_no_chart_without_the_metric(audit_result: AuditRecord) -> None:
    assert rate_chart(_table(audit_result, "sex"), metric="auc", label="AUC", max_groups=5) is None
