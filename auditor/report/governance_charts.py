"""The chart of the data-governance section: observed against expected shares by group.

Drawn like :mod:`auditor.report.explain_charts` (a bare matplotlib Figure, SVG with a fixed
hash salt and no date, text as paths, so the same record gives the same bytes) from what
:class:`~auditor.results_governance.Representation` holds; nothing new is computed. Colours
are from the Okabe–Ito palette with a hatch as a second cue, and the alt text states every
value drawn.
"""

from __future__ import annotations

from auditor.report.charts import Chart, chart_style, plain_label
from auditor.report.explain_charts import (
    BLUE,
    ORANGE,
    figure,
    interval_text,
    num,
    svg_data,
    whisker_bounds,
)
from auditor.results_governance import Representation

MAX_CHART_GROUPS = 20


def share_chart(rep: Representation) -> Chart | None:
    """Grouped horizontal bars per group: the observed share (with its interval as whiskers)
    and the population's expected share; groups in the record's order, at most
    :data:`MAX_CHART_GROUPS`."""
    drawn = [g for g in rep.groups if g.expected is not None][:MAX_CHART_GROUPS]
    if not drawn:
        return None
    alt = [
        f"Grouped bar chart of each group's observed share of the rows against its expected "
        f"share in the population for {rep.attribute}."
    ]
    bar = 0.36
    with chart_style():
        fig = figure(len(drawn), 0.42)
        ax = fig.add_subplot()
        for y, g in enumerate(drawn):
            observed = g.observed.value
            expected = g.expected or 0.0
            label = "observed share" if y == 0 else None
            if observed is not None:
                ax.barh(y - bar / 2, observed, height=bar * 0.95, color=BLUE, label=label)
                whiskers = whisker_bounds(g.observed)
                if whiskers is not None:
                    ax.errorbar(
                        observed,
                        y - bar / 2,
                        xerr=[[whiskers[0]], [whiskers[1]]],
                        fmt="none",
                        ecolor="#111111",
                        elinewidth=0.9,
                        capsize=2.5,
                    )
            ax.barh(
                y + bar / 2,
                expected,
                height=bar * 0.95,
                color=ORANGE,
                hatch="////",
                edgecolor="white",
                linewidth=0.3,
                label="expected share (population)" if y == 0 else None,
            )
            shown = "undefined" if observed is None else num(observed)
            for offset, text in (
                (-bar / 2, f"observed {shown}"),
                (bar / 2, f"expected {num(expected)}"),
            ):
                ax.text(
                    1.01,
                    y + offset,
                    text,
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    fontsize=7,
                )
            ratio = g.ratio.value if g.ratio is not None else None
            ratio_text = f", ratio {num(ratio)}" if ratio is not None else ""
            alt.append(
                f"{g.group}: observed {shown}{interval_text(g.observed)}, expected "
                f"{num(expected)}{ratio_text}."
            )
        ax.set_yticks(range(len(drawn)), labels=[plain_label(g.group) for g in drawn])
        ax.set_ylim(len(drawn) - 0.5, -0.5)
        ax.set_xlim(left=0.0)
        ax.set_xlabel("Share of the rows")
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        fig.legend(loc="outside upper center", frameon=False, fontsize=7.5, ncols=2)
        uri = svg_data(fig)
    caption = (
        f"Representation of {rep.attribute}: each group's share of the audited rows (blue, "
        "whiskers: its interval) against its share of the population (orange, hatched). A blue "
        "bar well short of the orange one is an under-represented group."
    )
    with_reference = [g for g in rep.groups if g.expected is not None]
    if len(with_reference) > len(drawn):
        caption += f" The first {len(drawn)} of {len(with_reference):,} groups are drawn."
    alt_text = " ".join(alt)
    if len(with_reference) > len(drawn):
        alt_text += f" {len(with_reference) - len(drawn):,} more groups are not drawn."
    return Chart(uri=uri, alt=alt_text, caption=caption)
