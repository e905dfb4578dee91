"""Where a KM panel's legend and annotation go: the first corner no curve passes.

The curves, confidence bands and median lines are obstacles (:class:`_Obstacle`);
candidate corners (:data:`_CORNERS`) are tried for the legend with the
annotation under it, and what fits nowhere goes above the panel
(:func:`_place_key`). The free corners depend on the laid-out panel, so
:func:`_settle` places the keys again until the choice holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..km import KMCurve
from .layout import key_above_panel
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


def choose_spots(
    legend_size: tuple[float, float] | None,
    text_size: tuple[float, float] | None,
    axes_size: tuple[float, float],
    size: float,
    free: Callable[[Sequence[tuple], bool], bool],
) -> tuple[_Spot | None, _Spot | None]:
    """Spots of the legend and the annotation: the first candidate corner that is free.

    Pure arithmetic in points: sizes are (width, height), ``axes_size`` the
    panel's; ``free(rects, strict)`` says whether boxes (x0, x1, y0, y1)
    cross nothing drawn (``strict``: neither bands nor median lines). Each
    corner of :data:`_CORNERS` is tried for the two together (strictly, then
    not); when none is free each is placed apart, the annotation not on the
    legend; None for a box that fits nowhere (it goes above the panel).

    Examples
    --------
    >>> legend, text = choose_spots((40.0, 20.0), (60.0, 10.0), (200.0, 120.0), 7.0,
    ...                             lambda rects, strict: True)
    >>> (legend.ha, legend.va, legend.dy), (text.ha, text.va, round(text.dy, 2))
    (('right', 'top', -2.1), ('right', 'top', -23.15))
    >>> choose_spots((40.0, 20.0), None, (200.0, 120.0), 7.0, lambda rects, strict: False)
    (None, None)
    """

    def rects(legend_spot: _Spot | None, text_spot: _Spot | None) -> list[tuple]:
        found = []
        if legend_spot is not None and legend_size:
            found.append(legend_spot.rect(*legend_size, *axes_size))
        if text_spot is not None and text_size:
            found.append(text_spot.rect(*text_size, *axes_size))
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
        return spots
    legend_spot = text_spot = None
    if legend_size:
        found = first_free((legend_size, None))
        legend_spot = found[0] if found else None
    if text_size:
        found = first_free((None, text_size), rects(legend_spot, None))
        text_spot = found[1] if found else None
    return legend_spot, text_spot


def _free_test(
    ax: Axes, obstacles: Sequence[_Obstacle], axes_size: tuple[float, float], margin: float
) -> Callable[[Sequence[tuple], bool], bool]:
    """Whether boxes in points (from the axes' lower left) keep ``margin`` clear of the curves."""
    axes_w, axes_h = axes_size
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()

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

    return free


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
    to_pt = 72.0 / ax.figure.dpi
    box = ax.get_window_extent()
    axes_size = (box.width * to_pt, box.height * to_pt)
    if axes_size[0] <= 0 or axes_size[1] <= 0:
        return ()

    def measured(artist: Any) -> tuple[float, float] | None:
        if artist is None:
            return None
        extent = artist.get_window_extent()
        return extent.width * to_pt, extent.height * to_pt

    legend_size, text_size = measured(legend), measured(text)
    free = _free_test(ax, obstacles, axes_size, margin=size * 0.5)
    legend_spot, text_spot = choose_spots(legend_size, text_size, axes_size, size, free)
    above = key_above_panel(
        legend_size if legend is not None and legend_spot is None else None,
        text_size if text is not None and text_spot is None else None,
        text_width_pt(title, size + 1, "bold") if title else 0.0,
        axes_size[0],
        size,
        float(_rc("axes.titlepad")),
    )
    if legend is not None:
        _put_legend(ax, size, legend_spot)
    if text is not None:
        _put_text(ax, text, text_spot, above.text_offset)
    if title:  # above whatever went above the panel
        ax.set_title(title, loc="left", fontsize=size + 1, fontweight="bold", pad=above.title_pad)
    return legend_spot, text_spot, round(above.height, 1)


def _shift(ax: Axes, dx_pt: float, dy_pt: float) -> transforms.Transform:
    return transforms.ScaledTranslation(dx_pt / 72.0, dy_pt / 72.0, ax.figure.dpi_scale_trans)


def _put_legend(ax: Axes, size: float, spot: _Spot | None) -> None:
    """The legend at its spot, or above the panel, left-aligned with it."""
    if spot is not None:
        _make_legend(
            ax,
            size,
            loc=" ".join(dict.fromkeys((_LOC_WORD[spot.va], spot.ha))),
            bbox_to_anchor=spot.anchor,
            bbox_transform=ax.transAxes + _shift(ax, spot.dx, spot.dy),
        )
    else:
        _make_legend(
            ax,
            size,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            bbox_transform=ax.transAxes + _shift(ax, 0.0, size * 0.3),
        )


def _put_text(ax: Axes, text: Any, spot: _Spot | None, above_offset: tuple | None) -> None:
    """The annotation at its spot, or above the panel, right-aligned, at ``above_offset``."""
    if spot is not None:
        position, ha, va, offset = spot.anchor, spot.ha, spot.va, (spot.dx, spot.dy)
    else:
        position, ha, va, offset = (1.0, 1.0), "right", "bottom", above_offset
    text.set_position(position)
    text.set_transform(ax.transAxes + _shift(ax, *offset))
    text.set_horizontalalignment(ha)
    text.set_verticalalignment(va)


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
            return  # laid out with this choice already
    figure.draw_without_rendering()
