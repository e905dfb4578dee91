"""The numbers-at-risk table under a KM panel.

Counts come from the result's at-risk table (rows matched by arm value) or
are read off each curve's ``n_risk`` (:func:`at_risk_from_curve`), and are
shown as given, centred on the x ticks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import transforms
from matplotlib.axes import Axes

from ..km import KMCurve
from .style import _rc, text_width_pt
from .text import format_count

__all__ = ["at_risk_from_curve"]


def at_risk_from_curve(curve: KMCurve, times: Sequence[float]) -> np.ndarray:
    """Patients at risk at each of ``times``, read off the curve (no estimation).

    The curve's ``n_risk`` at its first time at or after ``t`` (patients with
    follow-up time >= t, as R); 0 after the last time.

    Examples
    --------
    >>> from survtdm1.km import kaplan_meier
    >>> curve = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    >>> at_risk_from_curve(curve, [0, 2, 3.5, 5]).tolist()
    [5, 4, 1, 0]
    """
    times = np.asarray(times, dtype=float)
    if curve.time.size == 0:
        return np.zeros(times.shape, dtype=int)
    index = np.searchsorted(curve.time, times, side="left")
    inside = index < curve.time.size
    counts = np.where(inside, curve.n_risk[np.minimum(index, curve.time.size - 1)], 0.0)
    return counts.astype(int)


def _at_risk_rows(
    curves: Mapping[str, KMCurve],
    labels: Mapping[str, str],
    at_risk: pd.DataFrame | Mapping[str, Sequence[Any]] | None,
    times: Sequence[float],
    arm_values: Mapping[str, Any] | None = None,
) -> dict[str, list[str]]:
    """Numbers at risk per arm key at ``times`` as display text: as given, else off the curves.

    DataFrame rows are matched on ``arm`` by the arm value of each key
    (``arm_values``), else by its display label or the key itself. Counts are
    shown as they are: integers as integers, text (e.g. "<5" from
    :func:`survtdm1.privacy.suppress_small_cells`) unchanged.
    """
    rows: dict[str, list[str]] = {}
    for key, curve in curves.items():
        if isinstance(at_risk, pd.DataFrame):
            arm_column = at_risk["arm"].astype(str)
            if arm_values is not None and key in arm_values:
                name = str(arm_values[key])
                wanted = {name}
            else:
                name = str(labels[key])
                wanted = {name, str(key)}
            part = at_risk[arm_column.isin(wanted)]
            if part.empty:
                raise ValueError(
                    f"at_risk has no rows for arm {name!r}"
                    f" (its arm values: {sorted(set(arm_column))})"
                )
            lookup = dict(zip(part["time"].astype(float), part["n_at_risk"], strict=True))
            missing = [t for t in times if float(t) not in lookup]
            if missing:
                raise ValueError(f"at_risk has no count for arm {name!r} at {missing}")
            rows[key] = [format_count(lookup[float(t)]) for t in times]
        elif at_risk is not None:
            rows[key] = [format_count(v) for v in at_risk[key]]
        else:
            rows[key] = [format_count(v) for v in at_risk_from_curve(curve, times)]
    return rows


def _at_risk_table(
    ax: Axes,
    curves: Mapping[str, KMCurve],
    labels: Mapping[str, str],
    at_risk: pd.DataFrame | Mapping[str, Sequence[Any]] | None,
    ticks: Sequence[float],
    palette: Mapping[str, str],
    xlim: tuple[float, float],
    show_xlabel: bool,
    size: float,
    arm_values: Mapping[str, Any] | None = None,
) -> None:
    """Numbers at risk under the axis, centred on the x ticks (data coordinates)."""
    figure = ax.figure
    counts = _at_risk_rows(curves, labels, at_risk, ticks, arm_values)
    visible = [i for i, t in enumerate(ticks) if xlim[0] - 1e-9 <= t <= xlim[1] + 1e-9]
    top_pt = _rc("xtick.major.size") + _rc("xtick.major.pad") + size * 1.3
    if show_xlabel:
        top_pt += _rc("axes.labelpad") + size * 1.3
    top_pt += size * 0.5
    line_pt = size * 1.45
    x_data_y_axes = transforms.blended_transform_factory(ax.transData, ax.transAxes)

    def shifted(base: transforms.Transform, dx_pt: float, dy_pt: float) -> transforms.Transform:
        return base + transforms.ScaledTranslation(
            dx_pt / 72.0, dy_pt / 72.0, figure.dpi_scale_trans
        )

    first_width = max(
        (text_width_pt(counts[key][visible[0]], size) for key in curves if visible),
        default=0.0,
    )
    label_dx = -(first_width / 2.0 + size * 0.8)
    ax.text(
        0.0,
        0.0,
        "No. at risk",
        transform=shifted(ax.transAxes, label_dx, -top_pt),
        ha="right",
        va="top",
        fontsize=size,
        fontweight="bold",
        clip_on=False,
        gid="km-at-risk-title",
    )
    for row, key in enumerate(curves, start=1):
        dy = -top_pt - row * line_pt
        ax.text(
            0.0,
            0.0,
            labels[key],
            transform=shifted(ax.transAxes, label_dx, dy),
            ha="right",
            va="top",
            fontsize=size,
            color=palette[key],
            clip_on=False,
            gid=f"km-at-risk-label-{key}",
        )
        for index in visible:
            ax.text(
                ticks[index],
                0.0,
                counts[key][index],
                transform=shifted(x_data_y_axes, 0.0, dy),
                ha="center",
                va="top",
                fontsize=size,
                clip_on=False,
                gid=f"km-at-risk-{key}",
            )
