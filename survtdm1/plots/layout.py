"""Where things go in the figures, as arithmetic in points (no matplotlib, no renderer).

The forest plot's text columns, rows and the blocks above and below its
graph, and the size of a KM figure, computed from widths, line counts and
font sizes. The drawing code measures the text, calls these, and draws at
the positions they return; tests check the arithmetic directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "FOREST_MARGIN_PT",
    "FOREST_MIN_GRAPH_PT",
    "ForestFrame",
    "KeyAbove",
    "column_offsets",
    "forest_frame",
    "graph_width",
    "key_above_panel",
    "km_figure_size",
    "label_room",
    "risk_table_lines",
    "row_positions",
    "thin_risk_times",
    "widen_pairs",
]

#: Space around a forest plot's table, in points.
FOREST_MARGIN_PT = 6.0
#: The narrowest the forest plot's graph gets (35 mm), in points.
FOREST_MIN_GRAPH_PT = 35.0 / 25.4 * 72.0
#: Height of each further line of a wrapped forest label, in rows.
WRAPPED_LINE = 0.66
#: Spacing after each count column, right to left, in column gaps.
_COUNT_SPACING = (0.6, 1.2, 0.6, 1.5)


def widen_pairs(
    widths: Sequence[float], group_widths: Sequence[float], gap_pt: float
) -> list[float]:
    """Column widths with each pair (0-1, 2-3, ...) widened to fit its group title.

    A pair narrower than its title (e.g. "Patients" over two arm columns)
    gets half the shortfall added to each column.

    Examples
    --------
    >>> widen_pairs([10.0, 10.0, 30.0, 30.0], [40.0, 20.0], gap_pt=10.0)
    [17.0, 17.0, 30.0, 30.0]
    """
    out = list(widths)
    for pair, group_width in enumerate(group_widths):
        left, right = 2 * pair, 2 * pair + 1
        span = out[left] + out[right] + gap_pt * 0.6
        if group_width > span:
            extra = (group_width - span) / 2.0
            out[left] += extra
            out[right] += extra
    return out


def column_offsets(
    count_widths: Sequence[float], right_widths: Sequence[float], gap_pt: float
) -> tuple[list[float], list[float], float, float]:
    """Left edges of the forest plot's text columns, in points.

    Parameters
    ----------
    count_widths : four floats
        Patients (treatment, control) and events (treatment, control), left
        of the graph, in this order.
    right_widths : floats
        The columns right of the graph (effect, p-values), in order.
    gap_pt : float
        The gap between columns.

    Returns
    -------
    count_offsets : list of float
        Each count column's left edge from the graph's left edge (negative).
    right_offsets : list of float
        Each right column's left edge from the graph's right edge.
    counts_pt, right_pt : float
        How far the count columns reach left of the graph (with the gap
        before the labels) and the right columns right of it.

    Examples
    --------
    >>> column_offsets([10.0, 10.0, 10.0, 10.0], [30.0, 20.0], gap_pt=10.0)
    ([-74.0, -58.0, -36.0, -20.0], [10.0, 50.0], 89.0, 70.0)
    """
    count_offsets = [0.0] * len(count_widths)
    position = -gap_pt
    for index, spacing in zip(reversed(range(len(count_widths))), _COUNT_SPACING, strict=True):
        count_offsets[index] = position - count_widths[index]
        position = count_offsets[index] - gap_pt * spacing
    counts_pt = -position
    right_offsets = []
    position = gap_pt
    for width in right_widths:
        right_offsets.append(position)
        position += width + gap_pt
    return count_offsets, right_offsets, counts_pt, position - gap_pt


def label_room(
    label_width_mm: float, page_pt: float | None, counts_pt: float, right_pt: float
) -> float:
    """Width the subgroup labels wrap to, in points.

    At most ``label_width_mm``; on a page of ``page_pt`` (None when drawing
    into a given Axes) no more than leaves the graph its minimum width, and
    never under 30 mm.

    Examples
    --------
    >>> round(label_room(55.0, None, 100.0, 80.0), 1)
    155.9
    >>> round(label_room(55.0, 7.2 * 72.0, 200.0, 150.0), 1)
    85.0
    """
    room_pt = label_width_mm / 25.4 * 72.0
    if page_pt is None:
        return room_pt
    free = page_pt - 2 * FOREST_MARGIN_PT - counts_pt - right_pt - FOREST_MIN_GRAPH_PT
    return max(min(room_pt, free), 30.0 / 25.4 * 72.0)


def row_positions(
    kinds: Sequence[str], lines: Sequence[int]
) -> tuple[list[float], list[float], float]:
    """Vertical place of each forest row, in rows from the top rule.

    A row takes one line plus :data:`WRAPPED_LINE` per further wrapped
    line; a heading after the first row gets 0.35 rows of space above it;
    a quarter row pads the top and the bottom.

    Returns
    -------
    tops : list of float
        Top of each row.
    centres : list of float
        Where each row's text and marker are centred.
    body_lines : float
        Height of the body (between the rules).

    Examples
    --------
    >>> row_positions(["overall", "heading", "level"], [1, 1, 2])
    ([0.25, 1.6, 2.6], [0.75, 2.1, 3.43], 4.51)
    """
    tops: list[float] = []
    centres: list[float] = []
    cursor = 0.25
    for index, (kind, count) in enumerate(zip(kinds, lines, strict=True)):
        if index and kind == "heading":
            cursor += 0.35
        tops.append(cursor)
        height = 1.0 + (count - 1) * WRAPPED_LINE
        centres.append(cursor + height / 2.0)
        cursor += height
    return tops, centres, cursor + 0.25


def graph_width(page_pt: float, left_pt: float, right_pt: float) -> tuple[float, float]:
    """The forest graph's width and the figure's, in points, on a page ``page_pt`` wide.

    The graph takes what the text columns leave, at least
    :data:`FOREST_MIN_GRAPH_PT`; the figure widens when it must.

    Examples
    --------
    >>> graph_width(500.0, 200.0, 100.0)
    (188.0, 500.0)
    >>> [round(v, 1) for v in graph_width(300.0, 200.0, 100.0)]
    [99.2, 411.2]
    """
    graph_pt = page_pt - 2 * FOREST_MARGIN_PT - left_pt - right_pt
    if graph_pt < FOREST_MIN_GRAPH_PT:
        graph_pt = FOREST_MIN_GRAPH_PT
        page_pt = graph_pt + 2 * FOREST_MARGIN_PT + left_pt + right_pt
    return graph_pt, page_pt


@dataclass(frozen=True)
class ForestFrame:
    """Heights in a forest figure, in points.

    ``favours_top`` and ``footnote_top`` are measured down from the graph's
    bottom edge; ``bottom`` is everything under the graph (ticks, favours
    labels, footnotes, margin); ``header`` the column titles above it.
    """

    favours_top: float
    footnote_top: float
    bottom: float
    header: float
    title: float
    body: float
    line: float

    @property
    def height(self) -> float:
        """The whole figure, margins included."""
        return FOREST_MARGIN_PT + self.title + self.header + self.body + self.bottom


def forest_frame(
    size: float,
    *,
    tick_block_pt: float,
    header_lines: int,
    body_lines: float,
    favours_lines: int,
    footnote_lines: int,
    title: bool,
) -> ForestFrame:
    """The heights of a forest figure from its line counts and font size (points).

    Parameters
    ----------
    size : float
        Font size; footnotes are one point smaller (at least 5).
    tick_block_pt : float
        Tick length, pad and tick labels under the graph.
    header_lines : int
        Lines of the tallest column title, plus one for the group titles.
    body_lines : float
        Rows of the body, from :func:`row_positions`.
    favours_lines, footnote_lines : int
    title : bool
        Whether the figure has a title.

    Examples
    --------
    >>> frame = forest_frame(7.0, tick_block_pt=15.0, header_lines=3, body_lines=4.0,
    ...                      favours_lines=1, footnote_lines=2, title=False)
    >>> frame.favours_top, frame.footnote_top, frame.bottom, frame.body
    (17.8, 30.75, 52.35, 50.4)
    """
    small = max(size - 1.0, 5.0)
    line_pt = size * 1.8
    favours_top = tick_block_pt + size * 0.4
    footnote_top = favours_top + favours_lines * size * 1.25 + size * 0.6
    return ForestFrame(
        favours_top=favours_top,
        footnote_top=footnote_top,
        bottom=footnote_top + footnote_lines * small * 1.3 + FOREST_MARGIN_PT,
        header=(header_lines + 0.3) * line_pt * 0.62 + size * 0.5,
        title=size * 2.2 if title else 0.0,
        body=body_lines * line_pt,
        line=line_pt,
    )


def thin_risk_times(
    times: Sequence[float],
    widths: Sequence[float],
    axes_pt: float,
    span: float,
    gap_pt: float,
) -> list[int]:
    """Indices of the risk times whose counts can stand side by side without touching.

    Counts are centred on their times; two neighbours need
    ``(w_left + w_right) / 2 + gap_pt`` points between their centres. Every
    ``k``-th time is kept (from the first, and the last, where the axis
    ends), ``k`` the smallest that leaves every pair apart, so the kept times
    stay evenly spaced.

    Parameters
    ----------
    times : floats
        The risk times (data units, increasing).
    widths : floats
        The widest count (or tick label) at each time, in points.
    axes_pt : float
        The panel's width in points.
    span : float
        The x range of the panel in data units.
    gap_pt : float

    Examples
    --------
    >>> thin_risk_times([0, 1, 2, 3, 4], [30, 30, 30, 30, 30], 100.0, 4.0, 4.0)
    [0, 2, 4]
    >>> thin_risk_times([0, 1, 2, 3, 4, 5], [20] * 6, 100.0, 5.0, 4.0)
    [0, 2, 5]
    >>> thin_risk_times([0, 1, 2], [5, 5, 5], 100.0, 2.0, 4.0)
    [0, 1, 2]
    """
    count = len(times)
    if count == 0:
        return []
    scale = axes_pt / span if span > 0 else 0.0

    def apart(kept: list[int]) -> bool:
        return all(
            (times[b] - times[a]) * scale >= (widths[a] + widths[b]) / 2.0 + gap_pt
            for a, b in zip(kept, kept[1:], strict=False)
        )

    for step in range(1, count + 1):
        kept = list(range(0, count, step))
        if kept[-1] != count - 1:  # the axis ends at the last time: keep it
            kept = kept + [count - 1] if apart([kept[-1], count - 1]) else kept[:-1] + [count - 1]
        if apart(kept):
            return kept
    return [0]


def risk_table_lines(n_curves: int, blocks: int, *, stacked: bool) -> float:
    """Lines of text under a KM panel's x label: per block a title and a line per arm.

    Stacked tables put each arm's name on its own line above its counts;
    blocks are 0.4 lines apart.

    Examples
    --------
    >>> risk_table_lines(2, 1, stacked=False), risk_table_lines(2, 3, stacked=True)
    (3.0, 15.8)
    """
    per_arm = 2 if stacked else 1
    return float(blocks * (1 + n_curves * per_arm)) + 0.4 * (blocks - 1)


def km_figure_size(
    width_in: float,
    n_curves: int,
    size: float,
    *,
    at_risk: bool,
    table_lines: float | None = None,
) -> tuple[float, float]:
    """Width and height in inches of a one-panel KM figure.

    The panel is 0.62 times as high as the figure is wide; the at-risk
    table takes ``table_lines`` (default: a row per curve and its title, see
    :func:`risk_table_lines`) plus 0.6 rows, 1.45 font sizes each; 0.4 in
    for the margins.

    Examples
    --------
    >>> [round(v, 3) for v in km_figure_size(3.5, 2, 7.0, at_risk=True)]
    [3.5, 3.077]
    >>> km_figure_size(3.5, 2, 7.0, at_risk=False)
    (3.5, 2.57)
    """
    lines = n_curves + 1.0 if table_lines is None else table_lines
    rows_in = (lines + 0.6) * size * 1.45 / 72.0
    return width_in, width_in * 0.62 + (rows_in if at_risk else 0.0) + 0.4


@dataclass(frozen=True)
class KeyAbove:
    """What goes above a KM panel, in points.

    ``text_offset`` is the annotation's (dx, dy) from the panel's top right
    corner (None when it stays inside), ``height`` what is stacked above the
    panel, ``title_pad`` the panel title's pad that clears it.
    """

    text_offset: tuple[float, float] | None
    height: float
    title_pad: float


def key_above_panel(
    legend_size: tuple[float, float] | None,
    text_size: tuple[float, float] | None,
    title_pt: float,
    axes_w: float,
    size: float,
    title_pad: float,
) -> KeyAbove:
    """Stack a KM panel's legend and annotation above it when they fit nowhere inside.

    Parameters
    ----------
    legend_size, text_size : (width, height) or None
        The legend and the annotation that go above the panel (None: it
        stays inside, or there is none).
    title_pt : float
        Width of the panel's title (0 without one).
    axes_w : float
        The panel's width.
    size : float
        Font size.
    title_pad : float
        ``axes.titlepad``.

    Notes
    -----
    The legend goes left-aligned a pad above the panel. The annotation goes
    right-aligned level with it (or with the title when the legend stays
    inside) if both fit side by side with a font size between them, else
    above it. The title goes above everything.

    Examples
    --------
    >>> key_above_panel((40.0, 20.0), (60.0, 10.0), 0.0, 200.0, 10.0, 6.0)
    KeyAbove(text_offset=(0.0, 3.0), height=23.0, title_pad=32.0)
    >>> key_above_panel(None, (60.0, 10.0), 150.0, 200.0, 10.0, 6.0)
    KeyAbove(text_offset=(0.0, 3.0), height=13.0, title_pad=22.0)
    >>> key_above_panel(None, None, 150.0, 200.0, 10.0, 6.0)
    KeyAbove(text_offset=None, height=0.0, title_pad=6.0)
    """
    pad = size * 0.3
    above = pad + legend_size[1] if legend_size else 0.0
    offset = None
    if text_size:
        left_pt = legend_size[0] if above else title_pt
        if left_pt + size + text_size[0] <= axes_w:  # beside the legend or the title
            offset = (0.0, pad if above else title_pad)
            above = max(above, pad + text_size[1]) if above else above
        else:
            offset = (0.0, above + pad)
            above += pad + text_size[1]
    return KeyAbove(offset, above, title_pad + (above + pad if above else 0.0))
