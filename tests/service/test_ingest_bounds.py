"""Thresholds as ``audit_metrics`` bounds: only finite numbers are stored."""

from __future__ import annotations

import math

import pytest

from auditor.service.ingest import _bounds

INF, NAN = math.inf, math.nan


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        ({"min": 0.8}, (0.8, None)),
        ({"max": 0.1}, (None, 0.1)),
        ({"max_abs": 0.1}, (-0.1, 0.1)),
        ({"min": -0.05, "max_abs": 0.1}, (-0.05, 0.1)),
        ({"min": -INF, "max": INF}, (None, None)),
        ({"min": NAN, "max": 0.2}, (None, 0.2)),
        ({"max_abs": INF}, (None, None)),
        ({"max_abs": NAN, "min": 0.5}, (0.5, None)),
        ({"min": 0.1, "max_abs": -INF}, (0.1, None)),
    ],
)
def test_bounds_are_finite_or_none(
    threshold: dict[str, float], expected: tuple[float | None, float | None]
) -> None:
    assert _bounds(threshold) == expected
