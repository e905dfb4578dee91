"""The effect axis of the forest plot: limits, ticks and styling.

Log axes step along 1-2-5 per decade and always show the reference (1);
linear axes (risk difference) pad the estimates and CIs by 5%.
:func:`_points_from` places the text columns in points from the axis edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib import ticker, transforms
from matplotlib.axes import Axes

from .rows import ForestRow, _Effect

_LADDER = (1.0, 2.0, 5.0)


def _ladder_values(low: float, high: float) -> list[float]:
    values = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 2):
        for step in _LADDER:
            values.append(round(step * 10.0**exponent, 12))
    return values


def _auto_log_limits(rows: Sequence[ForestRow]) -> tuple[float, float]:
    """Limits covering every estimate and 1, and the CIs up to 4-fold beyond them."""
    estimates = [r.estimate for r in rows if r.estimable and r.estimate > 0]
    core = [*estimates, 1.0]
    lowers = [r.lower for r in rows if r.estimable and r.lower > 0 and math.isfinite(r.lower)]
    uppers = [r.upper for r in rows if r.estimable and math.isfinite(r.upper)]
    low = max(min([*lowers, *core]), min(core) / 4.0)
    high = min(max([*uppers, *core]), max(core) * 4.0)
    low, high = min(low, 0.5), max(high, 2.0)
    ladder = _ladder_values(low, high)
    low = max(v for v in ladder if v <= low * (1 + 1e-9))
    high = min(v for v in ladder if v >= high * (1 - 1e-9))
    return low, high


def _log_ticks(low: float, high: float) -> list[float]:
    ticks = [v for v in _ladder_values(low, high) if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)]
    if len(ticks) > 7:
        decades = [v for v in ticks if math.isclose(math.log10(v), round(math.log10(v)))]
        ticks = sorted(set(decades) | {low, high, 1.0})
    return ticks


def _auto_linear_limits(rows: Sequence[ForestRow], reference: float) -> tuple[float, float]:
    values = [reference]
    for row in rows:
        if row.estimable:
            values += [v for v in (row.estimate, row.lower, row.upper) if math.isfinite(v)]
    low, high = min(values), max(values)
    pad = 0.05 * (high - low or 1.0)
    return low - pad, high + pad


def _tick_label(value: float, _position: float | None = None) -> str:
    return f"{value:.3g}"


def _fraction(value: float, limits: tuple[float, float], log_scale: bool) -> float:
    low, high = limits
    if log_scale:
        value, low, high = math.log(value), math.log(low), math.log(high)
    return min(max((value - low) / (high - low), 0.0), 1.0)


def _limits(
    rows: Sequence[ForestRow], spec: _Effect, xlim: tuple[float, float] | None
) -> tuple[float, float]:
    if xlim is not None:
        low, high = float(xlim[0]), float(xlim[1])
        if not low < high or (spec.log_scale and low <= 0):
            raise ValueError(f"xlim must be increasing (and positive on a log axis), not {xlim}")
        return low, high
    if spec.log_scale:
        return _auto_log_limits(rows)
    low, high = _auto_linear_limits(rows, spec.reference)
    return low * spec.display_scale, high * spec.display_scale


def _style_axes(ax: Axes, spec: _Effect, limits: tuple[float, float], body_lines: float) -> None:
    from .style import fix_tick_style

    if spec.log_scale:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.FixedLocator(_log_ticks(*limits)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_tick_label))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
    else:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=6))
    ax.set_xlim(*limits)
    ax.set_ylim(body_lines, 0.0)
    ax.yaxis.set_visible(False)
    for name in ("left", "right", "top"):
        ax.spines[name].set_visible(False)
    ax.axvline(
        spec.reference,
        color="black",
        linewidth=0.6,
        zorder=0.6,
        gid="forest-reference",
    )
    ax.patch.set_alpha(0.0)
    fix_tick_style(ax)


def _points_from(ax: Axes, anchor: float) -> transforms.Transform:
    """Transform of x in points from the Axes' left (anchor 0) or right (anchor 1) edge.

    Only its x part is used (blended with a y transform); it follows the Axes
    when the figure is resized or the Axes moved.
    """
    figure = ax.figure
    return (
        transforms.Affine2D().scale(1.0 / 72.0)
        + figure.dpi_scale_trans
        + transforms.ScaledTranslation(anchor, 0.0, ax.transAxes)
    )
