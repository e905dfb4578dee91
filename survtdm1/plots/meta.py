"""The interaction meta-analysis figure: per-trial subgroup effects beside the ratios.

Left panel: each trial's treatment effect (HR or OR, 95% CI) in the two levels
of the subgroup. Right panel: each trial's within-trial interaction ratio
(square sized by its random-effects weight) and the pooled fixed- and
random-effects ratios (diamonds), with the ratio and CI written beside each
row and the heterogeneity statistics underneath. Takes an
:class:`~survtdm1.meta.InteractionMetaResult`, computes nothing, returns the
Figure, never calls ``plt.show()``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from .style import GREY, OKABE_ITO, house_style, width_inches

__all__ = ["interaction_meta_plot"]

LEVEL_COLORS = (OKABE_ITO["vermillion"], OKABE_ITO["blue"])
POOLED_COLOR = OKABE_ITO["black"]
_LADDER = (0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0)
_ROW_MM = 6.0
_DASH = "\u2013"


def _log_axis(ax, values) -> None:
    finite = [v for v in values if np.isfinite(v) and v > 0]
    low, high = min([*finite, 0.9]) / 1.15, max([*finite, 1.1]) * 1.15
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ticks = [t for t in _LADDER if low <= t <= high]
    if len(ticks) > 7:
        ticks = [t for t in ticks if t in (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    ax.axvline(1.0, color=GREY, linewidth=0.6, linestyle=(0, (3, 2)), zorder=0)


def _p_text(p: float) -> str:
    if not np.isfinite(p):
        return "p = NA"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _ci_text(ratio: float, lower: float, upper: float) -> str:
    return f"{ratio:.2f} ({lower:.2f}{_DASH}{upper:.2f})"


def _levels_panel(ax, result, rows: np.ndarray) -> None:
    table = result.table
    offsets = (-0.16, 0.16)
    values = []
    for i, (offset, color) in enumerate(zip(offsets, LEVEL_COLORS, strict=True), start=1):
        hr, lower, upper = (table[f"hr_{i}{s}"].to_numpy() for s in ("", "_lower", "_upper"))
        ax.hlines(rows + offset, lower, upper, color=color, linewidth=1.0)
        ax.plot(hr, rows + offset, "o", color=color, markersize=3.5, label=result.levels[i - 1])
        values.extend([*lower, *upper])
    _log_axis(ax, values)
    effect = "HR" if result.effect == "hr" else "OR"
    ax.set_xlabel(f"{effect} (treatment vs control), 95% CI")
    ax.set_title(f"{effect} by level of {result.subgroup}", loc="left")
    ax.legend(loc="lower left", frameon=False, handletextpad=0.2, title="Level",
              alignment="left")  # fmt: skip


def _diamond(ax, y: float, lower: float, ratio: float, upper: float, filled: bool) -> None:
    half = 0.28
    corners = [(lower, y), (ratio, y - half), (upper, y), (ratio, y + half)]
    ax.add_patch(
        Polygon(
            corners,
            closed=True,
            facecolor=POOLED_COLOR if filled else "white",
            edgecolor=POOLED_COLOR,
            linewidth=0.9,
        )
    )


def _ratio_panel(ax, result, rows: np.ndarray, pooled_rows: np.ndarray) -> None:
    table, pooled = result.table, result.pooled
    weights = table["weight_random"].to_numpy()
    ax.hlines(rows, table["ratio_lower"], table["ratio_upper"], color="black", linewidth=1.0)
    sizes = 3.0 + 6.0 * np.sqrt(weights / max(weights.max(), 1e-12))
    for y, ratio, size in zip(rows, table["ratio"], sizes, strict=True):
        ax.plot(ratio, y, "s", color="black", markersize=size, markeredgewidth=0)
    values = [*table["ratio_lower"], *table["ratio_upper"]]
    for y, key in zip(pooled_rows, ("fixed", "random"), strict=True):
        p = pooled[key]
        _diamond(ax, y, p["ratio_lower"], p["ratio"], p["ratio_upper"], filled=key == "random")
        values += [p["ratio_lower"], p["ratio_upper"]]
    _log_axis(ax, values)
    effect = "HR" if result.effect == "hr" else "OR"
    ax.set_xlabel(f"{effect} {result.levels[1]} / {effect} {result.levels[0]}, 95% CI")
    ax.set_title("Within-trial interaction", loc="left")
    text = blended_transform_factory(ax.transAxes, ax.transData)
    ax.text(1.03, -0.9, "Ratio (95% CI)      Weight, random", transform=text, fontweight="bold",
            va="center")  # fmt: skip
    for y, row in zip(rows, table.itertuples(), strict=True):
        label = (
            f"{_ci_text(row.ratio, row.ratio_lower, row.ratio_upper)}   {row.weight_random:.0f}%"
        )
        ax.text(1.03, y, label, transform=text, va="center")
    for y, key in zip(pooled_rows, ("fixed", "random"), strict=True):
        p = pooled[key]
        label = (
            f"{_ci_text(p['ratio'], p['ratio_lower'], p['ratio_upper'])}   {_p_text(p['p_value'])}"
        )
        ax.text(1.03, y, label, transform=text, va="center", fontweight="bold")
    tau2 = pooled["tau2"]
    ax.text(
        1.03,
        pooled_rows[-1] + 0.7,
        f"Heterogeneity: Q = {pooled['q']:.2f} (df {pooled['df']}), "
        f"{_p_text(pooled['p_heterogeneity'])}\nI\u00b2 = {pooled['i2']:.0f}%, "
        f"\u03c4\u00b2 = {tau2:.3g} ({result.method})",
        transform=text,
        va="top",
        color=GREY,
    )


def interaction_meta_plot(result, *, width: str | float = "full", title: str | None = None):
    """Two panels: per-trial effects by level, and the interaction ratios with the pooled ones.

    Parameters
    ----------
    result : InteractionMetaResult
    width : str or float
        Journal width name ("single", "one-and-half", "full") or millimetres.
    title : str, optional
        Figure title (default: none).

    Returns
    -------
    matplotlib.figure.Figure
    """
    k = len(result.table)
    rows = np.arange(k, dtype=float)
    pooled_rows = np.array([k + 0.6, k + 1.6])
    labels = [*result.table["trial"], "Fixed effect", result.random_label]
    height_mm = 30.0 + _ROW_MM * (k + 3.5)
    with house_style():
        figure = Figure(figsize=(width_inches(width), height_mm / 25.4), layout="constrained")
        left, right = figure.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 1]})
        _levels_panel(left, result, rows)
        _ratio_panel(right, result, rows, pooled_rows)
        left.set_yticks([*rows, *pooled_rows], labels)
        left.set_ylim(pooled_rows[-1] + 1.6, -1.4)
        left.axhline(k - 0.3 + 0.25, color=GREY, linewidth=0.4)
        right.axhline(k - 0.3 + 0.25, color=GREY, linewidth=0.4)
        for ax in (left, right):
            ax.tick_params(axis="y", length=0)
            ax.spines["left"].set_visible(False)
        right.tick_params(axis="y", labelleft=False)
        if title:
            figure.suptitle(title, x=0.01, ha="left", fontweight="bold")
        return figure
