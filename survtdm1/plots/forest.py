"""Subgroup forest plot, as in the T-DM1 trial papers (EMILIA, KATHERINE).

One row per subgroup level, grouped under its subgroup heading, with an "All
patients" row on top; text columns for patients and events per arm, the
effect with its confidence interval and the interaction p-value; a log-scaled
effect axis with a line at 1 and "Favours ..." labels taken from the arm names.

The plot reads a table with the columns of ``subgroups.csv`` and computes no
statistic: marker areas are proportional to each row's events (patients for a
binary endpoint); a dashed line marks the overall estimate beside the solid
line at no effect.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib import transforms
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .axes import _fraction, _limits, _points_from, _style_axes
from .layout import (
    FOREST_MARGIN_PT,
    ForestFrame,
    column_offsets,
    forest_frame,
    graph_width,
    label_room,
    row_positions,
    widen_pairs,
)
from .markers import _draw_estimate, _marker_side, _weights
from .rows import EFFECTS, ForestRow, _Effect, _effect_for, forest_rows
from .style import GREY, DisplayFigure, house_style, width_inches
from .text import (
    NOT_ESTIMABLE,
    _font,
    _width_pt,
    _wrap,
    format_conf_level,
    format_count,
    format_effect,
    format_p,
    safe_text,
)

__all__ = ["EFFECTS", "ForestRow", "forest_from_result", "forest_plot", "forest_rows"]

_SUPERSCRIPTS = "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"


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
    higher_is_better: bool | None = None,
    medians: bool = False,
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
        Dashed vertical line at the overall estimate (beside the solid line
        at no effect).
    label_width_mm : float
        Subgroup labels longer than this wrap onto further lines.
    higher_is_better : bool, optional
        Binary endpoints (OR, rate difference): whether a higher rate is
        better (default, e.g. response), which puts "Favours <treatment>"
        right of the reference line; False (e.g. an adverse event rate) puts
        it left. Survival effects ignore it (a lower hazard is better).
    medians : bool
        A column "Median T / C" with each row's median per arm (survival
        tables with ``median_treatment``/``median_control``; NR when not
        reached), left of the effect.
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
    Firth-penalised). Rows whose ``note_kind`` is "firth" are drawn as open
    squares for HRs and ORs, never for a risk difference (not penalised); a
    table without ``note_kind`` gets no open squares (notes are not parsed).
    Marker areas are proportional to the row's events (survival) or
    patients (binary endpoints).

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
    if effect in ("or", "rd") and higher_is_better is False:
        spec = dataclasses.replace(spec, treatment_side="left")
    rows = forest_rows(table, overall, effect=effect, overall_label=overall_label)
    with house_style(style):
        figure = _draw(
            rows,
            spec,
            treatment_label=safe_text(treatment_label),
            control_label=safe_text(control_label),
            conf_level=conf_level,
            ax=ax,
            width=width,
            xlim=xlim,
            title=safe_text(title, 200) if title else None,
            overall_line=overall_line,
            label_width_mm=label_width_mm,
            medians=medians,
        )
    return figure


@dataclass
class _Layout:
    """Everything the drawing steps need: texts and positions in points and rows."""

    size: float
    small: float
    columns: list[_Column]  # the four count columns, left of the graph
    right_columns: list[_Column]
    labels: list[str]  # wrapped
    centres: list[float]  # rows
    body_lines: float
    label_offset: float  # points from the graph's left edge
    indent_pt: float
    left_pt: float
    right_pt: float
    graph_pt: float
    fig_width_pt: float  # 0 when drawing into a given Axes
    graph_header: str
    favours: tuple[str, str]
    footnote_text: str
    limits: tuple[float, float]
    reference_fraction: float
    frame: ForestFrame


def _columns(
    rows: Sequence[ForestRow],
    spec: _Effect,
    marks: Mapping[str, str],
    labels: tuple[str, str],
    percent: str,
    arm_header: Any,
    medians: bool = False,
) -> tuple[list[_Column], list[_Column]]:
    """The text columns with their cells: counts left of the graph, effect and p right."""
    effect_cells = []
    for row in rows:
        text = ""
        if row.kind != "heading":
            text = format_effect(row.estimate, row.lower, row.upper, scale=spec.display_scale)
            text += marks[row.note] if row.note else ""
        effect_cells.append(text)
    columns = [
        _Column(
            key,
            arm_header(label),
            [format_count(getattr(r, key)) for r in rows],
            "right",
            group=group,
        )
        for key, label, group in (
            ("n_treatment", labels[0], "Patients"),
            ("n_control", labels[1], "Patients"),
            ("count_treatment", labels[0], spec.count_title),
            ("count_control", labels[1], spec.count_title),
        )
    ]
    right = []
    if medians:
        right.append(
            _Column(
                "medians",
                "Median\n" + " / ".join(_short(label) for label in labels),
                [_median_pair(r) for r in rows],
                "right",
                side="right",
            )
        )
    right += [
        _Column("effect", f"{spec.short_name}\n({percent} CI)", effect_cells, "left", side="right"),
        _Column(
            "p_interaction",
            "P for\ninteraction",
            [format_p(r.p_interaction) for r in rows],
            "right",
            side="right",
        ),
    ]
    if any(math.isfinite(r.p_interaction_adj) for r in rows):
        right.append(
            _Column(
                "p_interaction_adj",
                "Adjusted\nP",
                [format_p(r.p_interaction_adj) for r in rows],
                "right",
                side="right",
            )
        )
    return columns, right


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _median_pair(row: ForestRow) -> str:
    """ "25.3 / 18.1" (NR when not reached); empty on headings."""
    if row.kind == "heading":
        return ""
    values = (row.median_treatment, row.median_control)
    return " / ".join(f"{v:.1f}" if math.isfinite(v) else "NR" for v in values)


def _place_columns(
    columns: list[_Column], right: list[_Column], fonts: tuple, gap_pt: float
) -> tuple[float, float]:
    """Measure the columns, set their widths and offsets; returns (counts_pt, right_pt)."""
    regular, bold = fonts
    for column in [*columns, *right]:
        column.width = max(
            [_width_pt(column.header, bold)] + [_width_pt(c, regular) for c in column.cells]
        )
    groups = [_width_pt(columns[0].group, bold), _width_pt(columns[2].group, bold)]
    widths = widen_pairs([c.width for c in columns], groups, gap_pt)
    count_offsets, right_offsets, counts_pt, right_pt = column_offsets(
        widths, [c.width for c in right], gap_pt
    )
    for column, width, offset in zip(columns, widths, count_offsets, strict=True):
        column.width, column.offset = width, offset
    for column, offset in zip(right, right_offsets, strict=True):
        column.offset = offset
    return counts_pt, right_pt


def _wrap_labels(
    rows: Sequence[ForestRow], label_max: float, fonts: tuple, indent_pt: float
) -> tuple[list[str], list[int], float]:
    """Row labels wrapped to ``label_max``, their line counts and the label column's width."""
    regular, bold = fonts
    labels, lines, widths = [], [], [_width_pt("Subgroup", bold)]
    for row in rows:
        prop = regular if row.kind == "level" else bold
        indent = indent_pt if row.kind == "level" else 0.0
        wrapped = _wrap(row.label, label_max - indent, prop)
        labels.append(wrapped)
        lines.append(wrapped.count("\n") + 1)
        widths.append(_width_pt(wrapped, prop) + indent)
    return labels, lines, max(widths)


def _footnotes(rows: Sequence[ForestRow], marks: Mapping[str, str]) -> list[str]:
    footnotes = [f"{mark} {note}" for note, mark in marks.items()]
    if any(r.firth for r in rows):
        footnotes.append("Open squares: Firth-penalised estimates.")
    if any(r.kind != "heading" and not r.estimable for r in rows):
        footnotes.append(f"{NOT_ESTIMABLE}, not estimable.")
    return footnotes


def _layout(
    rows: list[ForestRow],
    spec: _Effect,
    *,
    labels: tuple[str, str],
    conf_level: float,
    page_pt: float | None,
    axes_graph_pt: float,
    xlim: tuple[float, float] | None,
    title: str | None,
    label_width_mm: float,
    medians: bool = False,
) -> _Layout:
    """Texts, widths and positions of a forest plot (``page_pt`` None: into a given Axes)."""
    import matplotlib as mpl

    size = float(mpl.rcParams["font.size"])
    small = max(size - 1.0, 5.0)
    regular, bold = _font(size), _font(size, "bold")
    gap_pt, indent_pt = size * 1.1, size * 1.0
    marks = _footnote_marks(rows)
    arm_max = max(size * 7.5, _width_pt("0000", regular))
    columns, right = _columns(
        rows,
        spec,
        marks,
        labels,
        format_conf_level(conf_level),
        lambda n: _wrap(n, arm_max, regular),
        medians,
    )
    counts_pt, right_pt = _place_columns(columns, right, (regular, bold), gap_pt)
    label_max = label_room(label_width_mm, page_pt, counts_pt, right_pt)
    wrapped, row_lines, label_width = _wrap_labels(rows, label_max, (regular, bold), indent_pt)
    label_offset = -counts_pt - label_width
    left_pt = -label_offset
    _, centres, body_lines = row_positions([r.kind for r in rows], row_lines)
    if page_pt is not None:
        graph_pt, fig_width_pt = graph_width(page_pt, left_pt, right_pt)
    else:
        graph_pt, fig_width_pt = axes_graph_pt, 0.0

    limits = _limits(rows, spec, xlim)
    fraction = _fraction(spec.reference, limits, spec.log_scale)
    sides = labels if spec.treatment_side == "left" else labels[::-1]
    favours = (
        _wrap(f"\u2190 Favours {sides[0]}", left_pt + graph_pt * fraction - size * 0.5, regular),
        _wrap(
            f"Favours {sides[1]} \u2192", right_pt + graph_pt * (1 - fraction) - size * 0.5, regular
        ),
    )
    table_width_pt = left_pt + graph_pt + right_pt
    footnote_text = "\n".join(
        _wrap(note, table_width_pt, _font(small)) for note in _footnotes(rows, marks)
    )
    graph_header = _wrap(spec.axis_label, graph_pt, bold)
    header_lines = 1 + max(c.header.count("\n") + 1 for c in [*columns, *right])
    rc = mpl.rcParams
    frame = forest_frame(
        size,
        tick_block_pt=rc["xtick.major.size"] + rc["xtick.major.pad"] + size * 1.3,
        header_lines=max(header_lines, graph_header.count("\n") + 1),
        body_lines=body_lines,
        favours_lines=max(text.count("\n") for text in favours) + 1,
        footnote_lines=footnote_text.count("\n") + 1 if footnote_text else 0,
        title=bool(title),
    )
    return _Layout(
        size, small, columns, right, wrapped, centres, body_lines, label_offset, indent_pt,
        left_pt, right_pt, graph_pt, fig_width_pt, graph_header, favours, footnote_text,
        limits, fraction, frame,
    )  # fmt: skip


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
    medians: bool = False,
) -> Figure:
    axes_graph_pt = 0.0
    if ax is not None:
        axes_graph_pt = ax.get_position().width * ax.figure.get_size_inches()[0] * 72.0
    layout = _layout(
        rows,
        spec,
        labels=(treatment_label, control_label),
        conf_level=conf_level,
        page_pt=width_inches(width) * 72.0 if ax is None else None,
        axes_graph_pt=axes_graph_pt,
        xlim=xlim,
        title=title,
        label_width_mm=label_width_mm,
        medians=medians,
    )
    ax = _graph_axes(layout, ax, title)
    _style_axes(ax, spec, layout.limits, layout.body_lines)
    _draw_header(ax, layout)
    _hrule(ax, 0.0, layout.left_pt, layout.right_pt, linewidth=0.6)
    _hrule(ax, layout.body_lines, layout.left_pt, layout.right_pt, linewidth=0.6)
    _draw_rows(ax, rows, spec, layout)
    overall_row = next((r for r in rows if r.kind == "overall" and r.estimable), None)
    if overall_line and overall_row is not None:
        estimate = overall_row.estimate * spec.display_scale
        if layout.limits[0] < estimate < layout.limits[1]:
            ax.axvline(
                estimate,
                color=GREY,
                linewidth=0.6,
                linestyle=(0, (4.0, 2.5)),
                zorder=0.5,
                gid="forest-overall-line",
            )
    _draw_below(ax, layout)
    return ax.figure


def _graph_axes(layout: _Layout, ax: Axes | None, title: str | None) -> Axes:
    """The graph's Axes: a new figure sized to the layout, or the given Axes."""
    frame, size = layout.frame, layout.size
    if ax is not None:
        if title:
            ax.set_title(title, loc="left", pad=frame.header)
        return ax
    width_pt, height_pt = layout.fig_width_pt, frame.height
    figure = DisplayFigure(figsize=(width_pt / 72.0, height_pt / 72.0))
    ax = figure.add_axes(
        (
            (FOREST_MARGIN_PT + layout.left_pt) / width_pt,
            frame.bottom / height_pt,
            layout.graph_pt / width_pt,
            frame.body / height_pt,
        )
    )
    if title:
        figure.text(
            FOREST_MARGIN_PT / width_pt,
            1.0 - FOREST_MARGIN_PT / height_pt,
            title,
            ha="left",
            va="top",
            fontsize=size + 1,
            fontweight="bold",
        )
    return ax


def _at(ax: Axes, anchor: float) -> transforms.Transform:
    """x: points from the graph's left (anchor 0) or right (anchor 1) edge; y: rows."""
    return transforms.blended_transform_factory(_points_from(ax, anchor), ax.transData)


def _column_x(column: _Column) -> float:
    return column.offset + (column.width if column.align == "right" else 0.0)


def _draw_header(ax: Axes, layout: _Layout) -> None:
    """Column titles aligned on their last line, group titles over the arm names."""
    size, columns = layout.size, layout.columns
    header_bottom, header_step = -0.35, 0.62
    bold = {"fontsize": size, "fontweight": "bold", "clip_on": False}
    for column in [*columns, *layout.right_columns]:
        ax.text(
            _column_x(column),
            header_bottom,
            column.header,
            transform=_at(ax, 0.0 if column.side == "left" else 1.0),
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
        end = right.offset + right.width
        ax.text(
            (left.offset + end) / 2.0,
            group_y,
            left.group,
            transform=_at(ax, 0.0),
            ha="center",
            va="bottom",
            gid=f"forest-header-{left.group.lower()}",
            **bold,
        )
        rule_y = [group_y + 0.08, group_y + 0.08]
        ax.add_line(
            Line2D([left.offset, end], rule_y, transform=_at(ax, 0.0), color="black",
                   linewidth=0.5, clip_on=False)
        )  # fmt: skip
    ax.text(
        layout.label_offset,
        header_bottom,
        "Subgroup",
        transform=_at(ax, 0.0),
        ha="left",
        va="bottom",
        gid="forest-header-label",
        **bold,
    )
    ax.text(
        0.5,
        header_bottom,
        layout.graph_header,
        transform=transforms.blended_transform_factory(ax.transAxes, ax.transData),
        ha="center",
        va="bottom",
        gid="forest-header-graph",
        **bold,
    )


def _draw_rows(ax: Axes, rows: Sequence[ForestRow], spec: _Effect, layout: _Layout) -> None:
    """Each row's label, cells and estimate."""
    size = layout.size
    text_kw: dict[str, Any] = {"fontsize": size, "clip_on": False, "va": "center_baseline"}
    weights = _weights(rows, spec)
    max_weight = max([w for w in weights if math.isfinite(w)], default=math.nan)
    max_side, min_side = layout.frame.line * 0.55, size * 0.45
    cells = [*layout.columns, *layout.right_columns]
    for index, (row, label, y) in enumerate(zip(rows, layout.labels, layout.centres, strict=True)):
        is_level = row.kind == "level"
        ax.text(
            layout.label_offset + (layout.indent_pt if is_level else 0.0),
            y,
            label,
            transform=_at(ax, 0.0),
            ha="left",
            fontweight="normal" if is_level else "bold",
            linespacing=1.0,
            gid=f"forest-label-{row.kind}",
            **text_kw,
        )
        for column in cells:
            if column.cells[index]:
                ax.text(
                    _column_x(column),
                    y,
                    column.cells[index],
                    transform=_at(ax, 0.0 if column.side == "left" else 1.0),
                    ha=column.align,
                    gid=f"forest-cell-{column.key}",
                    **text_kw,
                )
        if row.kind != "heading" and row.estimable:
            side = _marker_side(weights[index], max_weight, min_side, max_side)
            _draw_estimate(ax, row, y, spec, layout.limits, side)


def _draw_below(ax: Axes, layout: _Layout) -> None:
    """The "Favours" labels either side of the reference line, and the footnotes."""
    size, frame = layout.size, layout.frame
    dpi_scale = ax.figure.dpi_scale_trans
    for text, ha, shift in zip(
        layout.favours, ("right", "left"), (-size * 0.4, size * 0.4), strict=True
    ):
        ax.text(
            layout.reference_fraction,
            0.0,
            text,
            transform=ax.transAxes
            + transforms.ScaledTranslation(shift / 72.0, -frame.favours_top / 72.0, dpi_scale),
            ha=ha,
            va="top",
            fontsize=size,
            linespacing=1.15,
            clip_on=False,
            gid="forest-favours",
        )
    if layout.footnote_text:
        ax.text(
            0.0,
            0.0,
            layout.footnote_text,
            transform=ax.transAxes
            + transforms.ScaledTranslation(
                layout.label_offset / 72.0, -frame.footnote_top / 72.0, dpi_scale
            ),
            ha="left",
            va="top",
            fontsize=layout.small,
            color="#333333",
            linespacing=1.3,
            clip_on=False,
            gid="forest-footnotes",
        )


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
