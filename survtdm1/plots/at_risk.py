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
from .layout import thin_risk_times
from .style import _rc, text_width_pt
from .text import _fit, _font, format_count

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


#: The rows a KM risk table can show, with their titles (as survminer's risk tables).
RISK_ROWS = {
    "at_risk": "No. at risk",
    "events": "Cumulative events",
    "censored": "Cumulative censored",
}
#: Arm names wider than this (points) go on their own line above their counts.
LEFT_LABEL_MAX_PT = 60.0


def check_risk_rows(risk_rows: Sequence[str] | str) -> tuple[str, ...]:
    """The risk table's row kinds, checked (a single name is allowed)."""
    kinds = (risk_rows,) if isinstance(risk_rows, str) else tuple(risk_rows)
    unknown = [k for k in kinds if k not in RISK_ROWS]
    if unknown or not kinds:
        raise ValueError(f"risk_rows must name some of {sorted(RISK_ROWS)}, not {risk_rows!r}")
    return kinds


def cumulative_counts(curve: KMCurve, times: Sequence[float], kind: str) -> np.ndarray:
    """Events or censorings up to and including each of ``times``, read off the curve."""
    column = curve.n_event if kind == "events" else curve.n_censor
    totals = np.concatenate([[0.0], np.cumsum(np.asarray(column, dtype=float))])
    index = np.searchsorted(curve.time, np.asarray(times, dtype=float), side="right")
    return totals[index].astype(int)


def _block_counts(
    kind: str,
    curves: Mapping[str, KMCurve],
    labels: Mapping[str, str],
    at_risk: pd.DataFrame | Mapping[str, Sequence[Any]] | None,
    ticks: Sequence[float],
    arm_values: Mapping[str, Any] | None,
) -> dict[str, list[str]]:
    if kind == "at_risk":
        return _at_risk_rows(curves, labels, at_risk, ticks, arm_values)
    return {
        key: [format_count(v) for v in cumulative_counts(curve, ticks, kind)]
        for key, curve in curves.items()
    }


def risk_table_plan(
    curves: Mapping[str, KMCurve],
    labels: Mapping[str, str],
    at_risk: pd.DataFrame | Mapping[str, Sequence[Any]] | None,
    ticks: Sequence[float],
    xlim: tuple[float, float],
    axes_pt: float,
    size: float,
    *,
    arm_values: Mapping[str, Any] | None = None,
    risk_rows: Sequence[str] = ("at_risk",),
    stacked: bool | None = None,
) -> dict[str, Any]:
    """What the risk table shows: its blocks of counts, the times kept, font size, stacking.

    The counts are measured in the font; when neighbours would touch the
    font shrinks (down to 85%), then every k-th time is kept
    (:func:`~survtdm1.plots.layout.thin_risk_times`). The x ticks follow the
    kept times.
    """
    visible = [i for i, t in enumerate(ticks) if xlim[0] - 1e-9 <= t <= xlim[1] + 1e-9]
    times = [float(ticks[i]) for i in visible]
    blocks = {
        kind: {
            key: [row[i] for i in visible]
            for key, row in _block_counts(kind, curves, labels, at_risk, ticks, arm_values).items()
        }
        for kind in risk_rows
    }
    tick_text = [f"{t:g}" for t in times]

    def kept_at(font: float) -> list[int]:
        widths = [
            max(
                [text_width_pt(tick_text[i], size)]
                + [text_width_pt(r[i], font) for b in blocks.values() for r in b.values()]
            )
            for i in range(len(times))
        ]
        return thin_risk_times(times, widths, axes_pt, xlim[1] - xlim[0], font * 0.8)

    for scale in (1.0, 0.92, 0.85):
        font = max(size * scale, 5.0)
        kept = kept_at(font)
        if len(kept) == len(times):
            break
    else:  # thinning is needed anyway: keep the full font
        font = size
        kept = kept_at(font)
    if stacked is None:
        widest = max((text_width_pt(labels[k], font) for k in curves), default=0.0)
        stacked = widest > LEFT_LABEL_MAX_PT
    return {
        "times": [times[i] for i in kept],
        "blocks": {
            kind: {key: [row[i] for i in kept] for key, row in block.items()}
            for kind, block in blocks.items()
        },
        "font": font,
        "stacked": stacked,
        "axes_pt": axes_pt,
    }


def _at_risk_table(
    ax: Axes,
    plan: Mapping[str, Any],
    labels: Mapping[str, str],
    palette: Mapping[str, str],
    show_xlabel: bool,
    size: float,
) -> None:
    """The risk table of :func:`risk_table_plan` under the axis, counts centred on their times.

    Each block has a bold title; arm names sit left of their counts, or (when
    ``stacked``) on their own line above them, left-aligned with the panel,
    so that long names never take width from the panel.
    """
    figure = ax.figure
    font = float(plan["font"])
    top_pt = _rc("xtick.major.size") + _rc("xtick.major.pad") + size * 1.3
    if show_xlabel:
        top_pt += _rc("axes.labelpad") + size * 1.3
    top_pt += size * 0.5
    line_pt = font * 1.45
    x_data_y_axes = transforms.blended_transform_factory(ax.transData, ax.transAxes)

    def shifted(base: transforms.Transform, dx_pt: float, dy_pt: float) -> transforms.Transform:
        return base + transforms.ScaledTranslation(
            dx_pt / 72.0, dy_pt / 72.0, figure.dpi_scale_trans
        )

    times, stacked = plan["times"], plan["stacked"]
    first_width = max(
        (text_width_pt(row[0], font) for b in plan["blocks"].values() for row in b.values() if row),
        default=0.0,
    )
    label_dx = 0.0 if stacked else -(first_width / 2.0 + font * 0.8)
    label_ha = "left" if stacked else "right"
    dy = -top_pt
    for number, (kind, block) in enumerate(plan["blocks"].items()):
        if number:  # below the previous block's last line, with a gap
            dy -= line_pt * 1.4
        ax.text(
            0.0, 0.0, RISK_ROWS[kind], transform=shifted(ax.transAxes, label_dx, dy),
            ha=label_ha, va="top", fontsize=font, fontweight="bold", clip_on=False,
            gid="km-at-risk-title" if kind == "at_risk" else f"km-{kind}-title",
        )  # fmt: skip
        for key, counts in block.items():
            dy -= line_pt
            name = labels[key]
            if stacked:  # never wider than the panel (the legend has the whole name)
                name = _fit(name, float(plan["axes_pt"]), _font(font))
            ax.text(
                0.0, 0.0, name, transform=shifted(ax.transAxes, label_dx, dy),
                ha=label_ha, va="top", fontsize=font, color=palette[key], clip_on=False,
                gid=f"km-at-risk-label-{key}" if kind == "at_risk" else f"km-{kind}-label-{key}",
            )  # fmt: skip
            if stacked:
                dy -= line_pt
            for time, count in zip(times, counts, strict=True):
                ax.text(
                    time, 0.0, count, transform=shifted(x_data_y_axes, 0.0, dy),
                    ha="center", va="top", fontsize=font, clip_on=False,
                    gid=f"km-at-risk-{key}" if kind == "at_risk" else f"km-{kind}-{key}",
                )  # fmt: skip
