"""The maxstat figure: the standardised log-rank statistic against the candidate cut.

Takes a :class:`~survtdm1.cutpoint.CutpointResult`, computes nothing, returns
the matplotlib Figure (drawn on ``ax`` when given), built inside
:func:`house_style` and never calling ``plt.show()``.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._text import format_p
from .style import GREY, LIGHT_GREY, arm_colors, fix_tick_style, house_style, width_inches

__all__ = ["cutpoint_plot"]


def cutpoint_plot(
    result: Any,
    *,
    ax: Axes | None = None,
    color: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Standardised log-rank statistic of every candidate cut, the chosen cut marked.

    As R ``plot(maxstat.test(...))``: one point per candidate cut (a value of
    the biomarker), joined as a step line; a dashed vertical line and a filled
    point at the chosen cut; the cut, the statistic and the Lau92 p-value
    above the panel.

    Parameters
    ----------
    result : CutpointResult
    ax : Axes, optional
        Draw on this axes; by default a new one-and-a-half-column Figure.
    color : str, optional
        Colour of the curve (default: the treatment arm's colour).
    xlabel : str, optional
        Default: the biomarker's name.

    Returns
    -------
    Figure
    """
    table = result.table
    with house_style():
        if ax is None:
            figure = Figure(
                figsize=(width_inches("one-and-half"), 65.0 / 25.4), layout="constrained"
            )
            ax = figure.add_subplot()
        else:
            figure = ax.figure
        color = color or arm_colors()["treatment"]
        cuts = table["cutpoint"].to_numpy(dtype=float)
        stats = table["statistic"].to_numpy(dtype=float)
        ax.plot(cuts, stats, color=color, linewidth=1.0, drawstyle="steps-post")
        if cuts.size <= 60:
            ax.plot(cuts, stats, linestyle="none", marker="o", markersize=2.5, color=color)
        ax.axvline(result.cutpoint, color="black", linewidth=0.8, linestyle="--")
        ax.plot([result.cutpoint], [result.statistic], marker="o", markersize=5.0,
                color="black", linestyle="none", zorder=3)  # fmt: skip
        ax.set_ylim(0.0, max(1.0, float(stats[stats == stats].max())) * 1.1)
        ax.set_xlabel(xlabel or str(result.biomarker))
        ax.set_ylabel("Standardised log-rank statistic")
        p_text = format_p(result.p_value, label="p (Lausen-Schumacher 1992)", decimals=3)
        ax.set_title(
            f"Cut {result.cutpoint:g}: <= {result.cutpoint:g} vs > {result.cutpoint:g}; "
            f"maximum statistic {result.statistic:.2f}, {p_text}\n"
            f"{len(table)} candidate cuts, each with {100 * result.minprop:g}% to "
            f"{100 * result.maxprop:g}% of the {result.n:,} patients at or below it",
            loc="left",
            fontsize="small",
            fontweight="normal",
            linespacing=1.3,
        )
        ax.grid(axis="y", color=LIGHT_GREY, linewidth=0.4)
        ax.axhline(0.0, color=GREY, linewidth=0.6, zorder=0)
        fix_tick_style(ax)
    return figure
