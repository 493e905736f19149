"""The metric reference (docs/metrics.md), written from the check registry itself.

``python -m auditor.checks.reference`` (``make docs``) rewrites the file; a test fails when
the committed file and the registry disagree, so the documentation cannot drift from the
definitions the reports print.
"""

from __future__ import annotations

import sys
from pathlib import Path

from auditor.checks.criteria import CRITERIA
from auditor.checks.metric_catalog import GROUP_METRICS
from auditor.checks.registry import CHECKS, GROUP_MEASURES

DOC_PATH = Path(__file__).parents[2] / "docs" / "metrics.md"
_SOURCES = {
    "confusion": "Classification, from the confusion counts",
    "score": "Classification, from a score (when one is given)",
    "regression": "Regression (--task regression)",
}
_INTRO = """\
# Metric reference

Generated from the check registry by `make docs`; do not edit by hand. Every name below can be
used as `check:` in a policy rule. The same definitions are printed in every report.

## Measures of a group metric

A group metric has a value for every group of every sensitive attribute (and their
intersection), and these measures:

| Measure | Meaning | Convention |
|---|---|---|
| `value` | the group's own value | |
| `difference_to_reference` | group − reference group | negative: the group's value is lower |
| `ratio_to_reference` | group ÷ reference group | below 1: lower |
| `ratio_to_highest` | group ÷ the highest judged group | the impact ratio (EEOC, NYC LL144) |
| `min_max_ratio` | lowest ÷ highest over the judged groups | one per attribute; 1 is parity |
| `max_abs_difference` | highest − lowest over the judged groups | one per attribute; 0 is parity |

Judged groups have at least `min_group_size` rows and, for metrics among actual positives or
negatives, at least `min_positives` / `min_negatives` of them; the others get the verdict
*insufficient data* with their n, never pass or fail. Proportions have Wilson intervals,
Newcombe intervals for differences, Katz log intervals for ratios and a two-sided test against
the reference group (p-values adjusted for the number of groups, Holm by default); every other
value has a stratified percentile-bootstrap interval (`bootstrap_resamples`, seeded by `--seed`).
"""


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    lines = ["| Check | Meaning | Undefined when |", "|---|---|---|"]
    lines += [f"| `{name}` | {meaning} | {undefined} |" for name, meaning, undefined in rows]
    return lines


def metrics_reference() -> str:
    """The whole docs/metrics.md text."""
    assert GROUP_MEASURES[0] == "value"
    lines = [_INTRO]
    for source, title in _SOURCES.items():
        lines += [f"## {title}", ""]
        rows = []
        for metric in GROUP_METRICS.values():
            if metric.source == source:
                spec = CHECKS[f"fairness.{metric.name}"]
                kind = "proportion" if metric.proportion else "bootstrap interval"
                rows.append(
                    (
                        spec.name,
                        f"**{spec.label}** ({kind}). {spec.definition}",
                        spec.undefined_when,
                    )
                )
        lines += [*_table(rows), ""]
    lines += [
        "## Named fairness criteria",
        "",
        "One figure per attribute (`measure: value`); the criteria marked *by group* also have "
        "one figure per non-reference group (`measure: by_group`). The convention (fairlearn's "
        "or AIF360's) is part of each definition.",
        "",
    ]
    rows = []
    for criterion in CRITERIA:
        spec = CHECKS[f"fairness.{criterion.name}"]
        by_group = " *By group.*" if "by_group" in spec.measures else ""
        rows.append(
            (spec.name, f"**{spec.label}**.{by_group} {spec.definition}", spec.undefined_when)
        )
    lines += [*_table(rows), ""]
    lines += ["## Overall and other checks", ""]
    rows = [
        (spec.name, f"**{spec.label}**. {spec.definition}", spec.undefined_when)
        for spec in CHECKS.values()
        if spec.family != "fairness"
    ]
    lines += [*_table(rows), ""]
    return "\n".join(lines)


def write_reference(path: Path = DOC_PATH) -> Path:
    """Write the reference over ``path``."""
    path.write_text(metrics_reference(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_reference(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC_PATH)}")
