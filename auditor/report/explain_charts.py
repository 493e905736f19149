"""Charts of an explanation: global importance, importance by group, and a gap's attribution.

Drawn like :mod:`auditor.report.charts` (a bare matplotlib Figure, SVG with a fixed hash salt
and no date, text as paths, so the same record gives the same bytes) from what
:class:`~auditor.results_transparency.Explanation` holds; nothing new is computed. Colours are
from the Okabe–Ito palette, safe for colour-blind readers, and every chart's alt text states
the values it draws.
"""

from __future__ import annotations

import io
from typing import Any

from auditor.report.charts import Chart, chart_style, plain_label, svg_uri
from auditor.results_transparency import AttributeExplanation, GapAttribution
from auditor.results_values import Value

WIDTH_IN = 6.3  # the A4 text width, as the other charts
MAX_HEIGHT_IN = 8.0
BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILION = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
)
GROUP_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILION)
GROUP_HATCHES = ("", "////", "", "\\\\\\\\", "", "||||")  # a second cue beside the colour


def num(x: float) -> str:
    """3 decimals, as every number of the report, and never "-0.000"."""
    text = f"{x:.3f}"
    return "0.000" if text == "-0.000" else text


def whisker_bounds(value: Value) -> tuple[float, float] | None:
    if value.value is None or value.ci_low is None or value.ci_high is None:
        return None
    return max(0.0, value.value - value.ci_low), max(0.0, value.ci_high - value.value)


def interval_text(value: Value) -> str:
    if value.ci_low is None or value.ci_high is None:
        return ""
    return f" (interval {num(value.ci_low)} to {num(value.ci_high)})"


def _axis_label(text: str) -> str:
    return text.replace("$", r"\$")  # like plain_label, but never shortened


def svg_data(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return svg_uri(buffer.getvalue())


def figure(rows: float, per_row: float) -> Any:
    from matplotlib.figure import Figure

    height = min(MAX_HEIGHT_IN, 1.1 + per_row * rows)
    return Figure(figsize=(WIDTH_IN, height), layout="constrained")


def importance_chart(features: list[tuple[str, Value]], scale: str, total: int) -> Chart | None:
    """Horizontal bars of mean |SHAP| per feature (largest first) with interval whiskers."""
    drawn = [(name, v) for name, v in features if v.value is not None]
    if not drawn:
        return None
    alt = [f"Bar chart of the mean absolute SHAP value ({scale}) of the top features."]
    with chart_style():
        fig = figure(len(drawn), 0.24)
        ax = fig.add_subplot()
        for y, (name, value) in enumerate(drawn):
            size = value.value or 0.0
            ax.barh(y, size, height=0.62, color=BLUE)
            whiskers = whisker_bounds(value)
            if whiskers is not None:
                ax.errorbar(
                    size,
                    y,
                    xerr=[[whiskers[0]], [whiskers[1]]],
                    fmt="none",
                    ecolor="#111111",
                    elinewidth=0.9,
                    capsize=2.5,
                )
            ax.text(1.01, y, num(size), transform=ax.get_yaxis_transform(), va="center")
            alt.append(f"{name}: {num(size)}{interval_text(value)}.")
        ax.set_yticks(range(len(drawn)), labels=[plain_label(n) for n, _ in drawn])
        ax.set_ylim(len(drawn) - 0.5, -0.5)
        ax.set_xlim(left=0.0)
        ax.set_xlabel(_axis_label(f"Mean |SHAP| ({scale})"))
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        uri = svg_data(fig)
    caption = (
        "Global importance: the mean absolute SHAP value of each feature over the explained "
        "rows, largest first; whiskers show its interval."
    )
    if total > len(drawn):
        caption += f" The top {len(drawn)} of {total:,} features are drawn."
    return Chart(uri=uri, alt=" ".join(alt), caption=caption)


def group_chart(
    attribute: AttributeExplanation, groups: list[str], features: list[str], scale: str
) -> Chart | None:
    """Grouped horizontal bars: mean |SHAP| of each feature in each of the given groups."""
    by_group = {g.group: g for g in attribute.groups}
    shown = [g for g in groups if g in by_group]
    if not shown or not features:
        return None
    alt = [f"Grouped bar chart of mean absolute SHAP by group for {attribute.attribute}."]
    bar = min(0.8 / len(shown), 0.3)
    with chart_style():
        fig = figure(len(features), 0.16 + 0.085 * len(shown))
        ax = fig.add_subplot()
        for k, group in enumerate(shown):
            values = [by_group[group].mean_abs.get(f, Value(value=None)) for f in features]
            offset = (k - (len(shown) - 1) / 2) * bar
            ys = [y + offset for y in range(len(features))]
            sizes = [v.value or 0.0 for v in values]
            ax.barh(
                ys,
                sizes,
                height=bar * 0.92,
                color=GROUP_COLOURS[k],
                edgecolor="white",
                hatch=GROUP_HATCHES[k],
                linewidth=0.3,
                label=plain_label(group),
            )
            parts = ", ".join(
                f"{f} {num(v.value)}" if v.value is not None else f"{f} undefined"
                for f, v in zip(features, values, strict=True)
            )
            alt.append(f"{group}: {parts}.")
        ax.set_yticks(range(len(features)), labels=[plain_label(f) for f in features])
        ax.set_ylim(len(features) - 0.5, -0.5)
        ax.set_xlim(left=0.0)
        ax.set_xlabel(_axis_label(f"Mean |SHAP| in the group ({scale})"))
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        fig.legend(
            loc="outside upper center",
            frameon=False,
            fontsize=7.5,
            ncols=min(len(shown), 2 if len(shown) == 4 else 3),
        )
        uri = svg_data(fig)
    caption = (
        f"Importance by group for {attribute.attribute}: the mean absolute SHAP value of the "
        f"{len(features)} most important features among each group's explained rows."
    )
    return Chart(uri=uri, alt=" ".join(alt), caption=caption)


def gap_chart(gap: GapAttribution, terms: int, scale: str) -> Chart | None:
    """Diverging bars: how much each feature adds to (right) or takes from (left) the gap."""
    drawn = [t for t in gap.terms[:terms] if t.difference.value is not None]
    if not drawn:
        return None
    group = plain_label(gap.group)
    alt = [
        f"Diverging bar chart of each feature's part of the gap in mean output between "
        f"{gap.group} and {gap.reference}; right raises {gap.group}'s output, left lowers it."
    ]
    with chart_style():
        fig = figure(len(drawn), 0.24)
        ax = fig.add_subplot()
        for y, term in enumerate(drawn):
            size = term.difference.value or 0.0
            colour, hatch = (BLUE, "") if size >= 0 else (VERMILION, "////")
            ax.barh(
                y, size, height=0.62, color=colour, hatch=hatch, edgecolor="white", linewidth=0.3
            )
            whiskers = whisker_bounds(term.difference)
            if whiskers is not None:
                ax.errorbar(
                    size,
                    y,
                    xerr=[[whiskers[0]], [whiskers[1]]],
                    fmt="none",
                    ecolor="#111111",
                    elinewidth=0.9,
                    capsize=2.5,
                )
            ax.text(1.01, y, num(size), transform=ax.get_yaxis_transform(), va="center")
            alt.append(f"{term.feature}: {num(size)}{interval_text(term.difference)}.")
        ax.axvline(0.0, color="#333333", linewidth=0.9)
        ax.set_yticks(range(len(drawn)), labels=[plain_label(t.feature) for t in drawn])
        ax.set_ylim(len(drawn) - 0.5, -0.5)
        low, high = ax.get_xlim()
        edge = max(abs(low), abs(high))
        ax.set_xlim(-edge, edge)
        ax.set_xlabel(_axis_label(f"Part of the gap in mean output ({scale})"))
        ax.text(
            0.0,
            1.01,
            f"← lowers {group}'s output",
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=7.5,
            color=VERMILION,
        )
        ax.text(
            1.0,
            1.01,
            "raises it →",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7.5,
            color=BLUE,
        )
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        uri = svg_data(fig)
    caption = (
        f"Gap attribution for {gap.group} against the reference group {gap.reference}: bars "
        "to the right raise the group's mean output relative to the reference, bars to the "
        "left lower it; whiskers show each part's interval."
    )
    if len(gap.terms) > len(drawn):
        caption += f" The {len(drawn)} largest of {len(gap.terms):,} parts are drawn."
    return Chart(uri=uri, alt=" ".join(alt), caption=caption)
