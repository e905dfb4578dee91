"""Where a KM panel's legend and annotation go: the first corner no curve passes.

The curves, confidence bands and median lines are obstacles (:class:`_Obstacle`);
candidate corners (:data:`_CORNERS`) are tried for the legend with the
annotation under it, and what fits nowhere goes above the panel
(:func:`_place_key`). The free corners depend on the laid-out panel, so
:func:`_settle` places the keys again until the choice holds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..km import KMCurve
from .style import _rc, text_width_pt


@dataclass(frozen=True)
class _Obstacle:
    """Something drawn in the panel, in data units (y in percent).

    A step series (``x`` its jump times, from 0, up to ``x_end``; ``low`` and
    ``high`` its values, equal for a curve, the limits for a band) or, when
    ``x`` is empty, the rectangle ``[x0, x1] x [y0, y1]`` (a median line).
    """

    x: np.ndarray
    low: np.ndarray
    high: np.ndarray
    x_end: float
    essential: bool  # curves always count; bands and median lines first only
    rect: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def crosses(self, x0: float, x1: float, y0: float, y1: float) -> bool:
        """Whether it passes through the box ``[x0, x1] x [y0, y1]``."""
        if self.x.size == 0:
            rx0, rx1, ry0, ry1 = self.rect
            return rx0 <= x1 and rx1 >= x0 and ry0 <= y1 and ry1 >= y0
        if x0 > self.x_end or x1 < 0.0:
            return False
        first = max(int(np.searchsorted(self.x, x0, side="right")) - 1, 0)
        last = max(int(np.searchsorted(self.x, min(x1, self.x_end), side="right")) - 1, 0)
        # a step drawn from its value at x0 through every jump up to x1
        return bool(
            np.nanmin(self.low[first : last + 1]) <= y1
            and np.nanmax(self.high[first : last + 1]) >= y0
        )


def _obstacles(
    curves: Mapping[str, KMCurve], *, ci: bool, medians: Mapping[str, float] | None
) -> list[_Obstacle]:
    found = []
    for curve in curves.values():
        x = np.concatenate([[0.0], curve.time])
        y = np.concatenate([[1.0], curve.surv]) * 100.0
        x_end = float(x[-1])
        found.append(_Obstacle(x, y, y, x_end, essential=True))
        if ci and curve.time.size:
            lower = np.concatenate(
                [[1.0], np.where(np.isnan(curve.lower), curve.surv, curve.lower)]
            )
            upper = np.concatenate(
                [[1.0], np.where(np.isnan(curve.upper), curve.surv, curve.upper)]
            )
            found.append(_Obstacle(x, lower * 100.0, upper * 100.0, x_end, essential=False))
    reached = [float(v) for v in (medians or {}).values() if v is not None and math.isfinite(v)]
    empty = np.empty(0)
    if reached:
        found.append(_Obstacle(empty, empty, empty, 0.0, False, (0.0, max(reached), 50.0, 50.0)))
        for value in reached:
            found.append(_Obstacle(empty, empty, empty, 0.0, False, (value, value, 0.0, 50.0)))
    return found


#: Candidate places of the legend + annotation block, in order of preference.
_CORNERS = (
    ("right", "top"),
    ("left", "bottom"),
    ("right", "bottom"),
    ("center", "top"),
    ("right", "center"),
    ("center", "bottom"),
)
_FRACTION = {"left": 0.0, "center": 0.5, "right": 1.0}
_LOC_WORD = {"top": "upper", "bottom": "lower", "center": "center"}


@dataclass(frozen=True)
class _Spot:
    """Where one box goes: its ``ha``/``va`` side at the axes fraction (x from
    ``ha``, ``y``) shifted by ``dx``, ``dy`` points."""

    ha: str
    va: str
    dx: float
    dy: float
    y: float

    @property
    def anchor(self) -> tuple[float, float]:
        return _FRACTION[self.ha], self.y

    def rect(self, width: float, height: float, axes_w: float, axes_h: float) -> tuple:
        """(x0, x1, y0, y1) in points from the axes' lower left corner."""
        x = _FRACTION[self.ha] * axes_w + self.dx
        y = self.y * axes_h + self.dy
        x0 = {"left": x, "center": x - width / 2.0, "right": x - width}[self.ha]
        y0 = {"bottom": y, "center": y - height / 2.0, "top": y - height}[self.va]
        return x0, x0 + width, y0, y0 + height


def _block_spots(
    corner: tuple[str, str],
    legend_size: tuple[float, float] | None,
    text_size: tuple | None,
    size: float,
) -> tuple[_Spot | None, _Spot | None]:
    """Spots of the legend (above) and the annotation (below it) at ``corner``, in points."""
    ha, va = corner
    pad, inset, gap = size * 0.3, size * 0.4, size * 0.15
    legend_h = legend_size[1] if legend_size else 0.0
    text_h = text_size[1] if text_size else 0.0
    side = {"left": 1.0, "center": 0.0, "right": -1.0}[ha]
    legend_dx, text_dx = side * pad, side * (pad + inset)
    legend_spot = text_spot = None
    if va == "top":
        if legend_size:
            legend_spot = _Spot(ha, "top", legend_dx, -pad, 1.0)
        if text_size:
            top = pad + legend_h + gap if legend_size else pad + inset * 0.5
            text_spot = _Spot(ha, "top", text_dx, -top, 1.0)
    elif va == "bottom":
        if text_size:
            text_spot = _Spot(ha, "bottom", text_dx, pad + inset, 0.0)
        if legend_size:
            lift = pad + (inset + text_h + gap if text_size else 0.0)
            legend_spot = _Spot(ha, "bottom", legend_dx, lift, 0.0)
    else:
        block_h = legend_h + text_h + (gap if legend_size and text_size else 0.0)
        if legend_size:
            legend_spot = _Spot(ha, "top", legend_dx, block_h / 2.0, 0.5)
        if text_size:
            top = block_h / 2.0 - (legend_h + gap if legend_size else 0.0)
            text_spot = _Spot(ha, "top", text_dx, top, 0.5)
    return legend_spot, text_spot


def _place_key(
    ax: Axes, obstacles: Sequence[_Obstacle], text: Any, title: str | None, size: float
) -> tuple:
    """Put the legend and the annotation where no curve passes.

    Each candidate corner (:data:`_CORNERS`) is tried for the legend with the
    annotation under it; the first whose box no curve (nor, in a first pass,
    a confidence band or median line) passes through is taken. When none is
    free the two are placed apart; what fits nowhere goes above the panel
    (the legend left-aligned, the annotation right-aligned, beside it or the
    title when there is room, else above it), the panel title above them.
    ``title`` is the panel's own title (moved up when something goes above).
    Returns the choice made, to tell when a new layout changed it.
    """
    legend = ax.get_legend()
    if legend is None and text is None:
        return ()
    if legend is not None:  # measured as one column, wherever a previous call put it
        legend = _make_legend(ax, size)
    figure = ax.figure
    to_pt = 72.0 / figure.dpi
    box = ax.get_window_extent()
    axes_w, axes_h = box.width * to_pt, box.height * to_pt
    if axes_w <= 0 or axes_h <= 0:
        return ()
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()
    margin = size * 0.5  # points kept clear around the text

    def measured(artist: Any) -> tuple[float, float] | None:
        if artist is None:
            return None
        extent = artist.get_window_extent()
        return extent.width * to_pt, extent.height * to_pt

    legend_size, text_size = measured(legend), measured(text)

    def free(rects: Sequence[tuple], strict: bool) -> bool:
        for x0, x1, y0, y1 in rects:
            data = (
                x_low + (x0 - margin) / axes_w * (x_high - x_low),
                x_low + (x1 + margin) / axes_w * (x_high - x_low),
                y_low + (y0 - margin) / axes_h * (y_high - y_low),
                y_low + (y1 + margin) / axes_h * (y_high - y_low),
            )
            if any(o.crosses(*data) for o in obstacles if strict or o.essential):
                return False
        return True

    def rects(legend_spot: _Spot | None, text_spot: _Spot | None) -> list[tuple]:
        found = []
        if legend_spot is not None and legend_size:
            found.append(legend_spot.rect(*legend_size, axes_w, axes_h))
        if text_spot is not None and text_size:
            found.append(text_spot.rect(*text_size, axes_w, axes_h))
        return found

    def first_free(sizes: tuple, avoid: Sequence[tuple] = ()) -> tuple | None:
        for strict in (True, False):
            for corner in _CORNERS:
                spots = _block_spots(corner, *sizes, size)
                taken = rects(*spots)
                if any(_overlaps(a, b) for a in taken for b in avoid):
                    continue
                if free(taken, strict):
                    return spots
        return None

    spots = first_free((legend_size, text_size))
    if spots is not None:
        legend_spot, text_spot = spots
    else:  # apart, each where it fits; what fits nowhere goes above the panel
        legend_spot = text_spot = None
        if legend_size:
            found = first_free((legend_size, None))
            legend_spot = found[0] if found else None
        if text_size:
            found = first_free((None, text_size), rects(legend_spot, None))
            text_spot = found[1] if found else None

    shift = functools.partial(transforms.ScaledTranslation, scale_trans=figure.dpi_scale_trans)
    pad = size * 0.3
    above = 0.0  # points stacked above the panel (legend row, annotation)
    if legend is not None:
        if legend_spot is not None:
            _make_legend(
                ax,
                size,
                loc=" ".join(dict.fromkeys((_LOC_WORD[legend_spot.va], legend_spot.ha))),
                bbox_to_anchor=legend_spot.anchor,
                bbox_transform=ax.transAxes + shift(legend_spot.dx / 72.0, legend_spot.dy / 72.0),
            )
        else:  # above the panel, left-aligned with it
            _make_legend(
                ax,
                size,
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                bbox_transform=ax.transAxes + shift(0.0, pad / 72.0),
            )
            above = pad + legend_size[1]
    if text is not None:
        if text_spot is not None:
            position = text_spot.anchor
            ha, va, offset = text_spot.ha, text_spot.va, (text_spot.dx, text_spot.dy)
        else:  # above the panel, right-aligned: beside the title if there is room
            title_pt = text_width_pt(title, size + 1, "bold") if title else 0.0
            left_pt = legend_size[0] if above else title_pt
            beside = left_pt + size + text_size[0] <= axes_w
            position, ha, va = (1.0, 1.0), "right", "bottom"
            if beside:  # level with the legend above the panel, or with the title
                offset = (0.0, pad if above else float(_rc("axes.titlepad")))
                above = max(above, pad + text_size[1]) if above else above
            else:
                offset = (0.0, above + pad)
                above += pad + text_size[1]
        text.set_position(position)
        text.set_transform(ax.transAxes + shift(offset[0] / 72.0, offset[1] / 72.0))
        text.set_horizontalalignment(ha)
        text.set_verticalalignment(va)
    if title:  # above whatever went above the panel
        pad_pt = float(_rc("axes.titlepad")) + (above + pad if above else 0.0)
        ax.set_title(title, loc="left", fontsize=size + 1, fontweight="bold", pad=pad_pt)
    return legend_spot, text_spot, round(above, 1)


def _make_legend(ax: Axes, size: float, **placement: Any) -> Any:
    """The panel's legend (one column, in the upper right unless ``placement`` says)."""
    options = {"loc": "upper right", "borderaxespad": 0.3} if not placement else {}
    return ax.legend(
        handlelength=1.6, fontsize=size, **{"borderaxespad": 0.0, **options, **placement}
    )


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _settle(figure: Figure, placers: Sequence[Callable[[], tuple]]) -> None:
    """Lay the figure out and place the keys again until the choice holds (3 rounds)."""
    for _ in range(3):
        figure.draw_without_rendering()
        before = [place() for place in placers]
        figure.draw_without_rendering()
        if [place() for place in placers] == before:
            break
    figure.draw_without_rendering()
