"""STEPP and treatment-effect-curve figures.

Both take a result object, compute nothing, and return the matplotlib Figure
(drawn on ``ax`` when given). They are built inside :func:`house_style`, so the
caller's rcParams are never changed, and they never call ``plt.show()``.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import ScaledTranslation

from .style import (
    GREY,
    LIGHT_GREY,
    DisplayFigure,
    arm_colors,
    fix_tick_style,
    house_style,
    text_width_pt,
    width_inches,
)
from .text import _font, _wrap, format_p, safe_text

__all__ = ["effect_curve_plot", "stepp_plot"]

_LADDER = (0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0)
_SPARSE_LADDER = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)


def _new_axes(ax: Axes | None, height_mm: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    figure = DisplayFigure(
        figsize=(width_inches("one-and-half"), height_mm / 25.4), layout="constrained"
    )
    return figure, figure.add_subplot()


def _arms(result: Any, word: str) -> str:
    """ "T-DM1 vs Trastuzumab" from the result's arm names, made safe to display."""
    return f"{safe_text(result.treatment_label)} {word} {safe_text(result.control_label)}"


def _set_ylabel(ax: Axes, label: str) -> None:
    """The y label wrapped to the panel's height (long arm names never leave the figure)."""
    height_pt = ax.figure.get_figheight() * 72.0 * 0.62
    ax.set_ylabel(_wrap(label, height_pt, _font(ax.yaxis.label.get_fontsize())))


def _log_hr_axis(ax: Axes, low: float, high: float, bottom_margin: float = 0.0) -> None:
    """Log-scaled HR axis with plain-number ticks that include 1.

    ``bottom_margin``: share of the axis height kept free below the data (for a rug).
    """
    low, high = min(low, 0.9) / 1.08, max(high, 1.1) * 1.08
    span = np.log(high) - np.log(low)
    bottom = float(np.exp(np.log(low) - bottom_margin / (1.0 - bottom_margin) * span))
    ax.set_yscale("log")
    ax.set_ylim(bottom, high)
    ladder = _LADDER if high / low <= 6.0 else _SPARSE_LADDER
    ticks = [t for t in ladder if low <= t <= high]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))


def _finite_range(*columns: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([np.asarray(c, dtype=float) for c in columns])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return 0.5, 2.0
    return float(values.min()), float(values.max())


def _format_p(p: float) -> str:
    """'p = 0.012', 'p < 0.001' or 'p not computed'."""
    return format_p(p, label="p", decimals=3, missing="p not computed")


def _text_and_legend_outside(ax: Axes, text: str) -> None:
    """The test's text above the panel (left, as a subtitle) and the legend below its x label.

    Neither can then cover the curve, its band, the rug or each other.
    """
    rc = mpl.rcParams
    small = FontProperties(size="small").get_size_in_points()
    ax.set_title(text, loc="left", fontsize=small, fontweight="normal", linespacing=1.3)
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    figure = ax.figure
    axes_pt = ax.get_position().width * figure.get_size_inches()[0] * 72.0
    entry_pt = [text_width_pt(label, small) + small * 3.6 for label in labels]
    ncols = len(handles) if sum(entry_pt) <= axes_pt else 2
    tick_label_pt = FontProperties(size=rc["xtick.labelsize"]).get_size_in_points()
    below_pt = (  # ticks, tick labels and the x label, as matplotlib lays them out
        rc["xtick.major.size"]
        + rc["xtick.major.pad"]
        + tick_label_pt * 1.3
        + rc["axes.labelpad"]
        + ax.xaxis.label.get_fontsize() * 1.3
        + small * 0.3
    )
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes
        + ScaledTranslation(0.0, -below_pt / 72.0, figure.dpi_scale_trans),
        borderaxespad=0.0,
        ncols=ncols,
        fontsize=small,
        handlelength=1.6,
        columnspacing=1.5,
    )


def stepp_plot(
    result: Any,
    *,
    ax: Axes | None = None,
    effect: str = "hr",
    color: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """STEPP plot: the treatment effect of each window against its median biomarker.

    Parameters
    ----------
    result : SteppResult
    ax : Axes, optional
        Draw on this axes; by default a new one-and-a-half-column Figure.
    effect : {"hr", "landmark_difference"}
        Hazard ratio (log axis, line at 1) or the landmark survival difference
        (needs ``landmark``; line at 0).
    color : str, optional
        Colour of the curve and band (default: the treatment arm's colour).
    xlabel : str, optional
        Default: "<biomarker> (median of window)".

    Returns
    -------
    Figure
    """
    table = result.table
    if effect not in ("hr", "landmark_difference"):
        raise ValueError("effect must be 'hr' or 'landmark_difference'")
    if effect == "landmark_difference" and "landmark_difference" not in table.columns:
        raise ValueError("this STEPP result has no landmark: run stepp(..., landmark=t)")
    with house_style():
        figure, ax = _new_axes(ax, 75.0)
        color = color or arm_colors()["treatment"]
        x = table["biomarker_median"].to_numpy(dtype=float)
        estimate = table[effect].to_numpy(dtype=float)
        lower = table[f"{effect}_lower"].to_numpy(dtype=float)
        upper = table[f"{effect}_upper"].to_numpy(dtype=float)
        ci = int(round(100 * result.conf_level))
        ax.fill_between(x, lower, upper, color=color, alpha=0.18, linewidth=0,
                        label=f"{ci}% CI")  # fmt: skip
        ax.plot(x, estimate, color=color, marker="o", markersize=3.0, label="Window estimate")
        overall = result.overall[effect]
        reference = 1.0 if effect == "hr" else 0.0
        ax.axhline(reference, color=GREY, linewidth=0.6, zorder=0)
        if overall is not None and np.isfinite(overall):
            ax.axhline(overall, color="black", linewidth=0.8, linestyle="--",
                       label=f"All patients ({overall:.2f})")  # fmt: skip
        if effect == "hr":
            _log_hr_axis(ax, *_finite_range(lower, upper, estimate, [overall]))
            _set_ylabel(ax, f"Hazard ratio, {_arms(result, 'vs')}")
        else:
            _set_ylabel(
                ax,
                f"Difference in survival at {result.landmark:g} {result.time_unit} "
                f"({_arms(result, 'minus')})",
            )
        ax.set_xlabel(safe_text(xlabel or f"{result.biomarker} (median of window)", 120))
        text = (
            f"Permutation {_format_p(result.p_value)}"
            f" ({result.n_permutations:,} permutations)\n"
            f"{len(table)} windows of ~{result.window_size} patients,"
            f" overlap {result.overlap}"
        )
        _text_and_legend_outside(ax, text)
        ax.grid(axis="y", color=LIGHT_GREY, linewidth=0.4)
        fix_tick_style(ax)
    return figure


def effect_curve_plot(
    result: Any,
    *,
    ax: Axes | None = None,
    color: str | None = None,
    xlabel: str | None = None,
    rug: bool = True,
) -> Figure:
    """HR(biomarker) from a spline interaction model, with CI band and a rug per arm.

    Parameters
    ----------
    result : EffectCurveResult
    ax : Axes, optional
    color : str, optional
        Colour of the curve (default black).
    xlabel : str, optional
    rug : bool
        Biomarker values of each arm as ticks at the bottom (treatment above
        control), in the arms' colours.

    Returns
    -------
    Figure
    """
    table = result.table
    with house_style():
        figure, ax = _new_axes(ax, 75.0)
        color = color or "black"
        x = table["biomarker"].to_numpy(dtype=float)
        ci = int(round(100 * result.conf_level))
        ax.fill_between(x, table["hr_lower"], table["hr_upper"], color=GREY, alpha=0.22,
                        linewidth=0, label=f"{ci}% pointwise CI")  # fmt: skip
        ax.plot(x, table["hr"], color=color, linewidth=1.2, label="Hazard ratio")
        ax.axhline(1.0, color=GREY, linewidth=0.6, zorder=0)
        low, high = _finite_range(table["hr_lower"], table["hr_upper"])
        _log_hr_axis(ax, low, high, bottom_margin=0.14 if rug else 0.0)
        ax.set_xlim(x.min(), x.max())
        if rug:
            colors = arm_colors()
            transform = ax.get_xaxis_transform()
            for offset, values, name, label in (
                (0.045, result.biomarker_treatment, "treatment", result.treatment_label),
                (0.0, result.biomarker_control, "control", result.control_label),
            ):
                shown = values[(values >= x.min()) & (values <= x.max())]
                ax.vlines(shown, offset, offset + 0.035, transform=transform,
                          color=colors[name], linewidth=0.4, alpha=0.6)  # fmt: skip
                ax.plot([], [], color=colors[name], linewidth=2.0,
                        label=f"{safe_text(label)} (rug)")  # fmt: skip
        _set_ylabel(ax, f"Hazard ratio, {_arms(result, 'vs')}")
        ax.set_xlabel(safe_text(xlabel or result.biomarker, 120))
        p = result.p_interaction
        _text_and_legend_outside(
            ax,
            f"Interaction (LRT, {result.df} df): {_format_p(p)}\n"
            f"Natural spline, knots at {', '.join(f'{k:.3g}' for k in result.knots)}",
        )
        fix_tick_style(ax)
    return figure
