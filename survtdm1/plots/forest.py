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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib import ticker, transforms
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.textpath import text_to_path

from .style import GREY, house_style, width_inches

__all__ = ["EFFECTS", "ForestRow", "forest_from_result", "forest_plot", "forest_rows"]

NOT_ESTIMABLE = "NE"
_SUPERSCRIPTS = "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"
_MARK = "#1A1A1A"
_WRAPPED_LINE = 0.66  # height of each further line of a wrapped label, in rows


@dataclass(frozen=True)
class _Effect:
    """How one effect measure is read from the table and drawn."""

    columns: tuple[str, str, str]
    short_name: str
    axis_label: str
    count_columns: tuple[str, str]
    count_title: str
    log_scale: bool
    reference: float
    treatment_side: str  # where the treatment is favoured: "left" or "right"
    display_scale: float = 1.0
    # a Firth note is about the HR or OR model; other effects (the risk
    # difference, a Wald estimate) are not penalised and keep no such note
    firth_applies: bool = True


#: The effect measures a forest plot can show.
EFFECTS: dict[str, _Effect] = {
    "hr": _Effect(
        ("hr", "hr_lower", "hr_upper"),
        "HR",
        "Hazard ratio",
        ("events_treatment", "events_control"),
        "Events",
        True,
        1.0,
        "left",
    ),
    "or": _Effect(
        ("or", "or_lower", "or_upper"),
        "OR",
        "Odds ratio",
        ("responders_treatment", "responders_control"),
        "Responders",
        True,
        1.0,
        "right",
    ),
    "rd": _Effect(
        ("rd", "rd_lower", "rd_upper"),
        "Difference",
        "Difference in response rate (% points)",
        ("responders_treatment", "responders_control"),
        "Responders",
        False,
        0.0,
        "right",
        100.0,
        firth_applies=False,
    ),
}


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot, as read from the table.

    Attributes
    ----------
    kind : {"overall", "heading", "level"}
    label : str
        Display text of the row (heading: the subgroup's display name).
    subgroup, level : str
        Keys as in the table ("" where not applicable).
    n_treatment, n_control, count_treatment, count_control : float or str
        Patients and events (or responders) per arm; NaN on headings; text
        as given when the table holds text (e.g. "<5" from
        :func:`survtdm1.privacy.suppress_small_cells`), shown unchanged.
    estimate, lower, upper : float
        Effect and confidence limits on the table's scale; NaN when not estimable.
    note : str
        Why the estimate is missing or penalised ("" when nothing to say). A
        note about a Firth-penalised fit is kept only for the effects it
        concerns (HR, OR), not for the risk difference.
    p_interaction, p_interaction_adj : float
        On headings only.
    """

    kind: str
    label: str
    subgroup: str = ""
    level: str = ""
    n_treatment: float | str = math.nan
    n_control: float | str = math.nan
    count_treatment: float | str = math.nan
    count_control: float | str = math.nan
    estimate: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    note: str = ""
    p_interaction: float = math.nan
    p_interaction_adj: float = math.nan

    @property
    def estimable(self) -> bool:
        return self.kind != "heading" and math.isfinite(self.estimate)

    @property
    def firth(self) -> bool:
        return _is_firth_note(self.note)


def _is_firth_note(note: str) -> bool:
    return note.strip().lower().startswith("firth")


def _note_for(spec: _Effect, note: Any) -> str:
    """The row's note as it applies to the plotted effect."""
    text = _text(note)
    if _is_firth_note(text) and not spec.firth_applies:
        return ""
    return text


def _text(value: Any) -> str:
    """A display string; empty for None and NaN."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _effect_for(table: pd.DataFrame, effect: str | None) -> str:
    if effect is None:
        return "hr" if "hr" in table.columns or "or" not in table.columns else "or"
    if effect not in EFFECTS:
        raise ValueError(f"effect must be one of {', '.join(EFFECTS)}, not {effect!r}")
    return effect


def forest_rows(
    table: pd.DataFrame,
    overall: Mapping[str, Any] | None = None,
    *,
    effect: str | None = None,
    overall_label: str = "All patients",
) -> list[ForestRow]:
    """The rows of a forest plot, in display order (reads the table, no estimation).

    Parameters
    ----------
    table : DataFrame
        Columns of ``subgroups.csv``; ``subgroup_label``/``level_label`` are
        used for display when present and non-empty.
    overall : mapping, optional
        The keys of ``summary.json``'s "overall"; gives the top row.
    effect : {"hr", "or", "rd"}, optional
        Default: "hr" when the table has an ``hr`` column, else "or".
    overall_label : str

    Returns
    -------
    list of ForestRow
        The overall row, then per subgroup (in order of first appearance) a
        heading followed by its levels in table order.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"subgroup": ["age", "age"], "level": ["<50", ">=50"],
    ...                       "hr": [0.5, 0.7], "hr_lower": [0.3, 0.5], "hr_upper": [0.9, 1.0]})
    >>> [row.label for row in forest_rows(table)]
    ['age', '<50', '>=50']
    """
    effect = _effect_for(table, effect)
    spec = EFFECTS[effect]
    rows: list[ForestRow] = []
    if overall is not None:
        est, lower, upper = (_number(overall.get(key)) for key in spec.columns)
        rows.append(
            ForestRow(
                "overall",
                overall_label,
                n_treatment=_count(overall.get("n_treatment")),
                n_control=_count(overall.get("n_control")),
                count_treatment=_count(overall.get(spec.count_columns[0])),
                count_control=_count(overall.get(spec.count_columns[1])),
                estimate=est,
                lower=lower,
                upper=upper,
                note=_note_for(spec, overall.get("note")),
            )
        )
    if table is None or len(table) == 0:
        return rows

    def column(name: str) -> pd.Series:
        if name in table.columns:
            return table[name]
        return pd.Series([math.nan] * len(table), index=table.index)

    keys = table["subgroup"].map(_text)
    for subgroup in pd.unique(keys):
        part = table[keys == subgroup]
        first = part.iloc[0]
        heading = _text(first.get("subgroup_label")) or subgroup
        p_values = column("p_interaction")[part.index].map(_number)
        p_adjusted = column("p_interaction_adj")[part.index].map(_number)
        rows.append(
            ForestRow(
                "heading",
                heading,
                subgroup=subgroup,
                p_interaction=_first_finite(p_values),
                p_interaction_adj=_first_finite(p_adjusted),
            )
        )
        for index, record in part.iterrows():
            level = _text(record.get("level"))
            est, lower, upper = (_number(column(name)[index]) for name in spec.columns)
            rows.append(
                ForestRow(
                    "level",
                    _text(record.get("level_label")) or level,
                    subgroup=subgroup,
                    level=level,
                    n_treatment=_count(column("n_treatment")[index]),
                    n_control=_count(column("n_control")[index]),
                    count_treatment=_count(column(spec.count_columns[0])[index]),
                    count_control=_count(column(spec.count_columns[1])[index]),
                    estimate=est,
                    lower=lower,
                    upper=upper,
                    note=_note_for(spec, record.get("note")),
                )
            )
    return rows


def _first_finite(values: pd.Series) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return finite[0] if finite else math.nan


# ---------------------------------------------------------------------------
# text formatting and measuring


def format_count(value: Any) -> str:
    """A count as an integer string; text (e.g. a suppressed "<5") as it is; empty when missing.

    Examples
    --------
    >>> [format_count(v) for v in (12, 12.0, "<5", float("nan"), None)]
    ['12', '12', '<5', '', '']
    """
    if isinstance(value, str):
        return value
    number = _number(value)
    return f"{number:.0f}" if math.isfinite(number) else ""


def _count(value: Any) -> float | str:
    """A count cell: its number, or its text when it is not a number (e.g. "<5")."""
    number = _number(value)
    if math.isnan(number) and isinstance(value, str) and value.strip():
        return value.strip()
    return number


def format_p(value: float) -> str:
    """A p-value for display: "<0.001", three decimals below 0.1, else two."""
    if not math.isfinite(value):
        return ""
    if value < 0.001:
        return "<0.001"
    if value < 0.1:
        return f"{value:.3f}"
    return f"{value:.2f}"


def format_effect(estimate: float, lower: float, upper: float, *, scale: float = 1.0) -> str:
    """An estimate with its CI, e.g. "0.52 (0.38–0.71)"; "NE" when not estimable.

    Examples
    --------
    >>> format_effect(0.5234, 0.381, 0.7102)
    '0.52 (0.38–0.71)'
    >>> format_effect(float("nan"), float("nan"), float("nan"))
    'NE'
    """
    if not math.isfinite(estimate):
        return NOT_ESTIMABLE

    def one(value: float) -> str:
        if not math.isfinite(value):
            return NOT_ESTIMABLE
        value *= scale
        digits = 1 if scale != 1.0 else 2
        return f"{value:.{digits}f}"

    separator = " to " if scale != 1.0 else "–"
    return f"{one(estimate)} ({one(lower)}{separator}{one(upper)})"


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(size=size, weight=weight)


def _width_pt(text: str, prop: FontProperties) -> float:
    """Rendered width of a (possibly multi-line) text in points."""
    widths = [
        text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0] if line else 0.0
        for line in text.split("\n")
    ]
    return max(widths, default=0.0)


def _wrap(text: str, max_pt: float, prop: FontProperties) -> str:
    """Break ``text`` at spaces and after hyphens or slashes to fit ``max_pt``.

    A single word wider than ``max_pt`` stays whole (its column widens) unless
    it is wider than twice ``max_pt``, when it is cut.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        tokens = [
            piece
            for word in re.findall(r"\S+\s*|\s+", paragraph)
            for piece in re.split(r"(?<=\w{3}[-/])", word)
            if piece
        ]
        current = ""
        for token in tokens:
            candidate = current + token
            if not current or _width_pt(candidate.rstrip(), prop) <= max_pt:
                current = candidate
            else:
                lines.append(current.rstrip())
                current = token.lstrip()
            while _width_pt(current.rstrip(), prop) > 2 * max_pt and len(current) > 1:
                cut = len(current) - 1
                while cut > 1 and _width_pt(current[:cut], prop) > max_pt:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current.rstrip())
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# axis limits and ticks

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


def _weights(rows: Sequence[ForestRow], spec: _Effect) -> list[float]:
    """Inverse variance read from each row's CI width (z cancels in relative sizes)."""
    weights = []
    for row in rows:
        if row.kind != "level" or not row.estimable:
            weights.append(math.nan)
            continue
        if spec.log_scale:
            if not (row.lower > 0 and math.isfinite(row.upper) and row.upper > row.lower):
                weights.append(math.nan)
                continue
            span = math.log(row.upper) - math.log(row.lower)
        else:
            if not (math.isfinite(row.lower) and math.isfinite(row.upper)):
                weights.append(math.nan)
                continue
            span = row.upper - row.lower
        weights.append(1.0 / span**2 if span > 0 else math.nan)
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
