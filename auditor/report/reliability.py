"""The reliability (calibration) chart of a score by group, drawn from GroupTable.calibration.

Each group's line joins, bin by bin, the mean score (x) and the share of actual positives (y);
a calibrated score lies on the diagonal. Only the largest groups are drawn, so the lines stay
readable; every group's bins are in audit.json and its ECE is in the table above the chart.
"""

from __future__ import annotations

import io

from auditor.report.charts import Chart, chart_style, plain_label, svg_uri
from auditor.results import GroupTable

MAX_LINES = 6
_MARKERS = ("o", "s", "^", "D", "v", "P")


def reliability_chart(table: GroupTable) -> Chart | None:
    """Reliability diagram of the largest groups, or None when the table has no calibration."""
    sizes = {row.group: row.n for row in table.rows}
    groups = sorted(table.calibration, key=lambda g: -sizes.get(g, 0))[:MAX_LINES]
    if not groups:
        return None
    from matplotlib.figure import Figure

    alt = [f"Reliability diagram of the score by group for {table.attribute}."]
    with chart_style():
        fig = Figure(figsize=(4.6, 3.6), layout="constrained")
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1, label="calibrated")
        for marker, group in zip(_MARKERS, groups, strict=False):
            points = [
                (b.mean_score, b.fraction_positive)
                for b in table.calibration[group]
                if b.mean_score is not None and b.fraction_positive is not None
            ]
            xs = [x for x, _ in points]
            ys = [y for _, y in points]
            ax.plot(xs, ys, marker=marker, markersize=3.5, linewidth=1, label=plain_label(group))
            pairs = ", ".join(f"{x:.2f}→{y:.2f}" for x, y in points)
            alt.append(f"{group}: mean score → share positive per bin: {pairs}.")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("Mean score in the bin")
        ax.set_ylabel("Share of actual positives")
        ax.legend(loc="upper left", frameon=False, fontsize=7)
        ax.grid(color="#eeeeee", linewidth=0.6)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    hidden = len(table.calibration) - len(groups)
    caption = (
        f"Reliability of the score by group for {table.attribute}: points on the dotted "
        "diagonal are calibrated; above it the score understates the share of positives."
    )
    if hidden > 0:
        caption += f" The {len(groups)} largest of {len(table.calibration)} groups are drawn."
    return Chart(uri=svg_uri(buffer.getvalue()), alt=" ".join(alt), caption=caption, compact=True)
