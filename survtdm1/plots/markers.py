"""How one forest-plot row's estimate is drawn.

A square whose area is proportional to the row's events (patients for a
binary endpoint), open when Firth-penalised; a diamond for the
overall row; the CI as a line, with an arrow where it runs off the axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.patches import Polygon

from .rows import ForestRow, _Effect

_MARK = "#1A1A1A"


def _weights(rows: Sequence[ForestRow], spec: _Effect) -> list[float]:
    """Each level row's marker weight: its events (survival) or its patients (binary).

    The square's area is proportional to it, as in the trial papers; a
    count shown as text (a suppressed "<5") gives no weight (smallest square).
    """
    weights = []
    for row in rows:
        if row.kind != "level" or not row.estimable:
            weights.append(math.nan)
            continue
        if spec.count_title == "Events":
            counts = (row.count_treatment, row.count_control)
        else:
            counts = (row.n_treatment, row.n_control)
        total = sum(c if isinstance(c, float | int) else math.nan for c in counts)
        weights.append(float(total) if total > 0 else math.nan)
    return weights


def _marker_side(weight: float, max_weight: float, min_side: float, max_side: float) -> float:
    """Square side in points: area proportional to the weight."""
    if not (math.isfinite(weight) and math.isfinite(max_weight) and max_weight > 0):
        return min_side
    return max(min_side, max_side * math.sqrt(weight / max_weight))


def _draw_estimate(
    ax: Axes,
    row: ForestRow,
    y: float,
    spec: _Effect,
    limits: tuple[float, float],
    side: float,
) -> None:
    scale = spec.display_scale
    low_limit, high_limit = limits
    estimate = row.estimate * scale
    lower = row.lower * scale if math.isfinite(row.lower) else -math.inf
    upper = row.upper * scale if math.isfinite(row.upper) else math.inf
    if spec.log_scale and not row.lower > 0:
        lower = -math.inf
    start, end = max(lower, low_limit), min(upper, high_limit)
    if start < end:
        ax.plot([start, end], [y, y], color=_MARK, linewidth=0.8, zorder=2, gid="forest-ci")
    arrow = {"markersize": 3.2, "color": _MARK, "zorder": 3, "clip_on": False}
    # the arrow's tip sits on the axis edge, its body inside the graph
    inward = {
        sign: ax.transData
        + transforms.ScaledTranslation(sign * 1.6 / 72.0, 0.0, ax.figure.dpi_scale_trans)
        for sign in (1, -1)
    }
    if lower < low_limit and estimate > low_limit:
        ax.plot([low_limit], [y], marker="<", transform=inward[1], gid="forest-clip", **arrow)
    if upper > high_limit and estimate < high_limit:
        ax.plot([high_limit], [y], marker=">", transform=inward[-1], gid="forest-clip", **arrow)
    if not low_limit <= estimate <= high_limit:
        ax.plot(
            [low_limit if estimate < low_limit else high_limit],
            [y],
            marker="<" if estimate < low_limit else ">",
            gid="forest-offscale",
            **{**arrow, "markersize": 5},
        )
        return
    if row.kind == "overall":
        half = 0.32
        left = max(lower, low_limit)
        right = min(upper, high_limit)
        diamond = Polygon(
            [(left, y), (estimate, y - half), (right, y), (estimate, y + half)],
            closed=True,
            facecolor=_MARK,
            edgecolor=_MARK,
            linewidth=0.6,
            zorder=3,
            gid="forest-overall",
        )
        ax.add_patch(diamond)
        return
    ax.plot(
        [estimate],
        [y],
        marker="s",
        markersize=side,
        markerfacecolor="white" if row.firth else _MARK,
        markeredgecolor=_MARK,
        markeredgewidth=0.7,
        linestyle="none",
        zorder=4,
        gid="forest-marker-firth" if row.firth else "forest-marker",
    )
