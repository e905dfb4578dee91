"""Subgroup forest plot, as in the T-DM1 trial papers (EMILIA, KATHERINE).

One row per subgroup level, grouped under its subgroup heading, with an "All
patients" row on top; text columns for patients and events per arm, the
effect with its confidence interval and the interaction p-value; a log-scaled
effect axis with a line at 1 and "Favours ..." labels taken from the arm names.

The plot reads a table with the columns of ``subgroups.csv`` and computes no
statistic: marker areas are proportional to the information (inverse variance)
read off each row's confidence interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from .axes import _fraction, _limits, _points_from, _style_axes
from .markers import _draw_estimate, _marker_side, _weights
from .rows import EFFECTS, ForestRow, _Effect, _effect_for, forest_rows
from .style import GREY, house_style, width_inches
from .text import (
    NOT_ESTIMABLE,
    _font,
    _width_pt,
    _wrap,
    format_count,
    format_effect,
    format_p,
)

__all__ = ["EFFECTS", "ForestRow", "forest_from_result", "forest_plot", "forest_rows"]

_SUPERSCRIPTS = "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"
_WRAPPED_LINE = 0.66  # height of each further line of a wrapped label, in rows


# ---------------------------------------------------------------------------
# layout


@dataclass
class _Column:
    key: str
    header: str
    cells: list[str]
    align: str  # "left" or "right"
    width: float = 0.0  # points
    offset: float = 0.0  # points from the graph's left (left side) or right (right side) edge
    side: str = "left"
    group: str = ""


def _footnote_marks(rows: Sequence[ForestRow]) -> dict[str, str]:
    marks: dict[str, str] = {}
    for row in rows:
        if row.note and row.note not in marks and row.kind != "heading":
            marks[row.note] = _SUPERSCRIPTS[len(marks) % len(_SUPERSCRIPTS)]
    return marks


def _arm_header(name: str, prop: FontProperties, max_pt: float) -> str:
    return _wrap(name, max_pt, prop)


def forest_plot(
    table: pd.DataFrame,
    overall: Mapping[str, Any] | None = None,
    *,
    treatment_label: str,
    control_label: str,
    effect: str | None = None,
    conf_level: float = 0.95,
    ax: Axes | None = None,
    width: str | float = "full",
    xlim: tuple[float, float] | None = None,
    title: str | None = None,
    overall_label: str = "All patients",
    overall_line: bool = True,
    label_width_mm: float = 55.0,
    style: Mapping[str, Any] | None = None,
) -> Figure:
    """Subgroup forest plot with text columns, as in the trial papers.

    Parameters
    ----------
    table : DataFrame
        Columns of ``subgroups.csv`` (survival) or of its binary form; see
        :func:`forest_rows`.
    overall : mapping, optional
        ``summary.json``'s "overall": the "All patients" row (a diamond).
    treatment_label, control_label : str
        Arm names for the column headers and the "Favours ..." labels.
    effect : {"hr", "or", "rd"}, optional
        Hazard ratio (default for survival tables), odds ratio (default for
        binary tables) or difference in response rates (linear axis).
    conf_level : float
        Only names the interval in the header ("95% CI").
    ax : Axes, optional
        Draw the graph in this Axes; the text columns, header, "Favours"
        labels and footnotes are drawn outside it at fixed offsets, so leave
        room around it. By default a new figure is sized to fit everything.
    width : str or float
        Figure width ("single", "one-and-half", "full" or millimetres) when
        ``ax`` is not given; widened if the columns need more room.
    xlim : (float, float), optional
        Axis limits; by default every estimate and 1 are shown and a CI is
        drawn up to four-fold beyond the outermost estimate, an arrow marking
        a CI that runs off the axis.
    title : str, optional
    overall_label : str
    overall_line : bool
        Dotted vertical line at the overall estimate.
    label_width_mm : float
        Subgroup labels longer than this wrap onto further lines.
    style : mapping, optional
        rcParams overriding the house style (e.g. ``{"font.size": 8}``).

    Returns
    -------
    Figure
        The figure holding the plot (``ax.figure`` when ``ax`` is given).

    Notes
    -----
    Rows whose estimate is missing say "NE" with a footnote mark; the
    footnotes give each row's ``note`` (why it is not estimable, or that it is
    Firth-penalised; Firth HRs and ORs are drawn as open squares, a risk
    difference never, as it is not penalised). Marker areas
    are proportional to ``1 / SE^2`` with SE read from the CI width on the log
    scale.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"subgroup": ["age", "age"], "level": ["<50", ">=50"],
    ...     "n_treatment": [100, 120], "n_control": [98, 125],
    ...     "events_treatment": [20, 25], "events_control": [30, 40],
    ...     "hr": [0.6, 0.65], "hr_lower": [0.35, 0.4], "hr_upper": [1.05, 1.06],
    ...     "p_interaction": [0.8, 0.8]})
    >>> fig = forest_plot(table, treatment_label="T-DM1", control_label="Trastuzumab")
    >>> bool(fig.get_size_inches()[0] >= 7.2)
    True
    """
    effect = _effect_for(table, effect)
    spec = EFFECTS[effect]
    rows = forest_rows(table, overall, effect=effect, overall_label=overall_label)
    with house_style(style):
        figure = _draw(
            rows,
            spec,
            treatment_label=str(treatment_label),
            control_label=str(control_label),
            conf_level=conf_level,
            ax=ax,
            width=width,
            xlim=xlim,
            title=title,
            overall_line=overall_line,
            label_width_mm=label_width_mm,
        )
    return figure


def _draw(
    rows: list[ForestRow],
    spec: _Effect,
    *,
    treatment_label: str,
    control_label: str,
    conf_level: float,
    ax: Axes | None,
    width: str | float,
    xlim: tuple[float, float] | None,
    title: str | None,
    overall_line: bool,
    label_width_mm: float,
) -> Figure:
    import matplotlib as mpl

    size = float(mpl.rcParams["font.size"])
    small = max(size - 1.0, 5.0)
    regular, bold = _font(size), _font(size, "bold")
    footnote_font = _font(small)
    line_pt = size * 1.8
    gap_pt = size * 1.1  # between columns
    indent_pt = size * 1.0
    marks = _footnote_marks(rows)
    percent = f"{conf_level * 100:g}%"

    min_graph_pt = 35.0 / 25.4 * 72.0
    margin_pt = 6.0

    # ---- cells
    effect_cells = []
    for row in rows:
        if row.kind == "heading":
            effect_cells.append("")
            continue
        text = format_effect(row.estimate, row.lower, row.upper, scale=spec.display_scale)
        if row.note:
            text += marks[row.note]
        effect_cells.append(text)
    arm_max = max(size * 7.5, _width_pt("0000", regular))
    columns = [
        _Column(
            "n_treatment",
            _arm_header(treatment_label, regular, arm_max),
            [format_count(r.n_treatment) for r in rows],
            "right",
            group="Patients",
        ),
        _Column(
            "n_control",
            _arm_header(control_label, regular, arm_max),
            [format_count(r.n_control) for r in rows],
            "right",
            group="Patients",
        ),
        _Column(
            "count_treatment",
            _arm_header(treatment_label, regular, arm_max),
            [format_count(r.count_treatment) for r in rows],
            "right",
            group=spec.count_title,
        ),
        _Column(
            "count_control",
            _arm_header(control_label, regular, arm_max),
            [format_count(r.count_control) for r in rows],
            "right",
            group=spec.count_title,
        ),
    ]
    right_columns = [
        _Column(
            "effect",
            f"{spec.short_name}\n({percent} CI)",
            effect_cells,
            "left",
            side="right",
        ),
        _Column(
            "p_interaction",
            "P for\ninteraction",
            [format_p(r.p_interaction) for r in rows],
            "right",
            side="right",
        ),
    ]
    if any(math.isfinite(r.p_interaction_adj) for r in rows):
        right_columns.append(
            _Column(
                "p_interaction_adj",
                "Adjusted\nP",
                [format_p(r.p_interaction_adj) for r in rows],
                "right",
                side="right",
            )
        )

    # ---- widths (points) and offsets
    for column in [*columns, *right_columns]:
        column.width = max(
            [_width_pt(column.header, bold)] + [_width_pt(c, regular) for c in column.cells]
        )
    for left, right in ((columns[0], columns[1]), (columns[2], columns[3])):
        group_width = _width_pt(left.group, bold)
        pair = left.width + right.width + gap_pt * 0.6
        if group_width > pair:
            extra = (group_width - pair) / 2.0
            left.width += extra
            right.width += extra
    # left side: label | n T | n C | events T | events C | graph
    position = -gap_pt
    for column, spacing in zip(
        reversed(columns), (gap_pt * 0.6, gap_pt * 1.2, gap_pt * 0.6, gap_pt * 1.5), strict=True
    ):
        column.offset = position - column.width  # left edge, relative to graph's left edge
        position = column.offset - spacing
    counts_pt = -position
    position = gap_pt
    for column in right_columns:
        column.offset = position
        position += column.width + gap_pt
    right_pt = position - gap_pt

    # labels wrap to what the page leaves them (at most label_width_mm)
    label_max = label_width_mm / 25.4 * 72.0
    if ax is None:
        room = width_inches(width) * 72.0 - 2 * margin_pt - counts_pt - right_pt - min_graph_pt
        label_max = max(min(label_max, room), 30.0 / 25.4 * 72.0)
    labels: list[str] = []
    row_lines: list[int] = []
    for row in rows:
        prop = regular if row.kind == "level" else bold
        indent = indent_pt if row.kind == "level" else 0.0
        wrapped = _wrap(row.label, label_max - indent, prop)
        labels.append(wrapped)
        row_lines.append(wrapped.count("\n") + 1)
    label_width = max(
        _width_pt(text, regular if row.kind == "level" else bold)
        + (indent_pt if row.kind == "level" else 0.0)
        for text, row in zip(labels, rows, strict=True)
    )
    label_width = max(label_width, _width_pt("Subgroup", bold))
    label_offset = -counts_pt - label_width
    left_pt = -label_offset

    header_lines = 1 + max(c.header.count("\n") + 1 for c in [*columns, *right_columns])
    row_top: list[float] = []
    cursor = 0.25
    previous = None
    for row, lines in zip(rows, row_lines, strict=True):
        if previous is not None and row.kind == "heading":
            cursor += 0.35
        row_top.append(cursor)
        cursor += 1.0 + (lines - 1) * _WRAPPED_LINE
        previous = row
    body_lines = cursor + 0.25

    # ---- favours labels and footnotes
    if spec.treatment_side == "left":
        favours_left, favours_right = treatment_label, control_label
    else:
        favours_left, favours_right = control_label, treatment_label
    footnotes = [f"{mark} {note}" for note, mark in marks.items()]
    if any(r.firth for r in rows):
        footnotes.append("Open squares: Firth-penalised estimates.")
    if any(r.kind != "heading" and not r.estimable for r in rows):
        footnotes.append(f"{NOT_ESTIMABLE}, not estimable.")

    # ---- figure
    tick_block_pt = mpl.rcParams["xtick.major.size"] + mpl.rcParams["xtick.major.pad"] + size * 1.3
    if ax is None:
        fig_width_pt = width_inches(width) * 72.0
        graph_pt = fig_width_pt - 2 * margin_pt - left_pt - right_pt
        if graph_pt < min_graph_pt:
            graph_pt = min_graph_pt
            fig_width_pt = graph_pt + 2 * margin_pt + left_pt + right_pt
    else:
        fig_width_pt = 0.0
        bbox = ax.get_position()
        graph_pt = bbox.width * ax.figure.get_size_inches()[0] * 72.0

    limits = _limits(rows, spec, xlim)
    reference_fraction = _fraction(spec.reference, limits, spec.log_scale)
    favours_left_text = _wrap(
        f"\u2190 Favours {favours_left}",
        left_pt + graph_pt * reference_fraction - size * 0.5,
        regular,
    )
    favours_right_text = _wrap(
        f"Favours {favours_right} \u2192",
        right_pt + graph_pt * (1 - reference_fraction) - size * 0.5,
        regular,
    )
    favours_lines = max(favours_left_text.count("\n"), favours_right_text.count("\n")) + 1
    table_width_pt = left_pt + graph_pt + right_pt
    footnote_text = "\n".join(_wrap(note, table_width_pt, footnote_font) for note in footnotes)
    footnote_lines = footnote_text.count("\n") + 1 if footnote_text else 0

    favours_top_pt = tick_block_pt + size * 0.4
    footnote_top_pt = favours_top_pt + favours_lines * size * 1.25 + size * 0.6
    bottom_pt = footnote_top_pt + footnote_lines * small * 1.3 + margin_pt
    graph_header = _wrap(spec.axis_label, graph_pt, bold)
    header_lines = max(header_lines, graph_header.count("\n") + 1)
    header_pt = (header_lines + 0.3) * line_pt * 0.62 + size * 0.5
    title_pt = size * 2.2 if title else 0.0
    body_pt = body_lines * line_pt

    if ax is None:
        fig_height_pt = margin_pt + title_pt + header_pt + body_pt + bottom_pt
        figure = Figure(figsize=(fig_width_pt / 72.0, fig_height_pt / 72.0))
        ax = figure.add_axes(
            (
                (margin_pt + left_pt) / fig_width_pt,
                bottom_pt / fig_height_pt,
                graph_pt / fig_width_pt,
                body_pt / fig_height_pt,
            )
        )
        if title:
            figure.text(
                margin_pt / fig_width_pt,
                1.0 - margin_pt / fig_height_pt,
                title,
                ha="left",
                va="top",
                fontsize=size + 1,
                fontweight="bold",
            )
    figure = ax.figure
    if title and not fig_width_pt:
        ax.set_title(title, loc="left", pad=header_pt)

    _style_axes(ax, spec, limits, body_lines)

    def at(anchor: float) -> transforms.Transform:
        """x: points from the graph's left (anchor 0) or right (anchor 1) edge; y: rows."""
        return transforms.blended_transform_factory(_points_from(ax, anchor), ax.transData)

    text_kw: dict[str, Any] = {"fontsize": size, "clip_on": False, "va": "center_baseline"}

    # header: group titles over arm names, column titles aligned on the last line
    header_bottom = -0.35
    header_step = 0.62
    for column in [*columns, *right_columns]:
        anchor = 0.0 if column.side == "left" else 1.0
        x = column.offset + (column.width if column.align == "right" else 0.0)
        ax.text(
            x,
            header_bottom,
            column.header,
            transform=at(anchor),
            ha=column.align,
            va="bottom",
            fontsize=size,
            fontweight="bold" if column.side == "right" else "normal",
            clip_on=False,
            linespacing=1.1,
            gid=f"forest-header-{column.key}",
        )
    arm_lines = max(c.header.count("\n") + 1 for c in columns)
    group_y = header_bottom - arm_lines * header_step * 1.05
    for left, right in ((columns[0], columns[1]), (columns[2], columns[3])):
        centre = (left.offset + right.offset + right.width) / 2.0
        ax.text(
            centre,
            group_y,
            left.group,
            transform=at(0.0),
            ha="center",
            va="bottom",
            fontsize=size,
            fontweight="bold",
            clip_on=False,
            gid=f"forest-header-{left.group.lower()}",
        )
        ax.add_line(
            Line2D(
                [left.offset, right.offset + right.width],
                [group_y + 0.08, group_y + 0.08],
                transform=at(0.0),
                color="black",
                linewidth=0.5,
                clip_on=False,
            )
        )
    ax.text(
        label_offset,
        header_bottom,
        "Subgroup",
        transform=at(0.0),
        ha="left",
        va="bottom",
        fontsize=size,
        fontweight="bold",
        clip_on=False,
        gid="forest-header-label",
    )
    ax.text(
        0.5,
        header_bottom,
        graph_header,
        transform=transforms.blended_transform_factory(ax.transAxes, ax.transData),
        ha="center",
        va="bottom",
        fontsize=size,
        fontweight="bold",
        clip_on=False,
        gid="forest-header-graph",
    )
    _hrule(ax, 0.0, left_pt, right_pt, linewidth=0.6)
    _hrule(ax, body_lines, left_pt, right_pt, linewidth=0.6)

    # rows
    weights = _weights(rows, spec)
    max_weight = max([w for w in weights if math.isfinite(w)], default=math.nan)
    max_side = line_pt * 0.55
    min_side = size * 0.45
    for index, (row, label, lines) in enumerate(zip(rows, labels, row_lines, strict=True)):
        y = row_top[index] + (1.0 + (lines - 1) * _WRAPPED_LINE) / 2.0
        is_level = row.kind == "level"
        ax.text(
            label_offset + (indent_pt if is_level else 0.0),
            y,
            label,
            transform=at(0.0),
            ha="left",
            fontweight="normal" if is_level else "bold",
            linespacing=1.0,
            gid=f"forest-label-{row.kind}",
            **text_kw,
        )
        for column in [*columns, *right_columns]:
            cell = column.cells[index]
            if not cell:
                continue
            anchor = 0.0 if column.side == "left" else 1.0
            x = column.offset + (column.width if column.align == "right" else 0.0)
            ax.text(
                x,
                y,
                cell,
                transform=at(anchor),
                ha=column.align,
                gid=f"forest-cell-{column.key}",
                **text_kw,
            )
        if row.kind == "heading" or not row.estimable:
            continue
        side = _marker_side(weights[index], max_weight, min_side, max_side)
        _draw_estimate(ax, row, y, spec, limits, side)

    overall_row = next((r for r in rows if r.kind == "overall" and r.estimable), None)
    if overall_line and overall_row is not None:
        estimate = overall_row.estimate * spec.display_scale
        if limits[0] < estimate < limits[1]:
            ax.axvline(
                estimate,
                color=GREY,
                linewidth=0.6,
                linestyle=(0, (1.5, 1.5)),
                zorder=0.5,
                gid="forest-overall-line",
            )

    # favours labels, axis label and footnotes below the graph
    for text, ha, shift in (
        (favours_left_text, "right", -size * 0.4),
        (favours_right_text, "left", size * 0.4),
    ):
        ax.text(
            reference_fraction,
            0.0,
            text,
            transform=ax.transAxes
            + transforms.ScaledTranslation(
                shift / 72.0, -favours_top_pt / 72.0, figure.dpi_scale_trans
            ),
            ha=ha,
            va="top",
            fontsize=size,
            linespacing=1.15,
            clip_on=False,
            gid="forest-favours",
        )
    if footnote_text:
        ax.text(
            0.0,
            0.0,
            footnote_text,
            transform=ax.transAxes
            + transforms.ScaledTranslation(
                label_offset / 72.0, -footnote_top_pt / 72.0, figure.dpi_scale_trans
            ),
            ha="left",
            va="top",
            fontsize=small,
            color="#333333",
            linespacing=1.3,
            clip_on=False,
            gid="forest-footnotes",
        )
    return figure


def _hrule(ax: Axes, y: float, left_pt: float, right_pt: float, linewidth: float) -> None:
    """A horizontal rule across the whole table (columns and graph) at row ``y``."""
    pieces = (
        ([-left_pt, 0.0], _points_from(ax, 0.0)),
        ([0.0, 1.0], ax.transAxes),
        ([0.0, right_pt], _points_from(ax, 1.0)),
    )
    for xs, x_transform in pieces:
        ax.add_line(
            Line2D(
                xs,
                [y, y],
                transform=transforms.blended_transform_factory(x_transform, ax.transData),
                color="black",
                linewidth=linewidth,
                clip_on=False,
                gid="forest-rule",
            )
        )


def forest_from_result(result: Any, **kwargs: Any) -> Figure:
    """Forest plot of a :class:`~survtdm1.subgroups.SubgroupResult`.

    Parameters
    ----------
    result : SubgroupResult
        Supplies ``table``, ``overall``, ``treatment_label``,
        ``control_label``, ``endpoint`` and ``conf_level``.
    **kwargs
        Passed to :func:`forest_plot` (they override the result's values).

    Returns
    -------
    Figure
    """
    options: dict[str, Any] = {
        "treatment_label": str(result.treatment_label),
        "control_label": str(result.control_label),
        "effect": "or" if getattr(result, "endpoint", "survival") == "binary" else "hr",
        "conf_level": getattr(result, "conf_level", 0.95),
    }
    options.update(kwargs)
    return forest_plot(result.table, result.overall, **options)
