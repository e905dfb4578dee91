"""Kaplan-Meier figures: curves by arm with an at-risk table, and grids of them.

The plots draw :class:`survtdm1.km.KMCurve` objects as they are: step
curves with censoring ticks and optional confidence bands, y as percent
event-free, an at-risk table under the axis whose numbers sit at the x ticks.
At-risk numbers come from the result (``SubgroupResult.at_risk``) or are read
off the curve's ``n_risk`` column (:func:`at_risk_from_curve`); nothing is
estimated here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..km import KMCurve
from .at_risk import (
    LEFT_LABEL_MAX_PT,
    _at_risk_table,
    at_risk_from_curve,
    check_risk_rows,
    risk_table_plan,
)
from .layout import km_figure_size, risk_table_lines
from .placement import _make_legend, _obstacles, _place_key, _settle
from .style import (
    GREY,
    OKABE_ITO,
    DisplayFigure,
    _rc,
    arm_colors,
    fix_tick_style,
    house_style,
    text_width_pt,
    width_inches,
)
from .text import (
    NOT_ESTIMABLE,
    _font,
    _wrap,
    format_conf_level,
    format_effect,
    format_p,
    safe_text,
)

__all__ = [
    "at_risk_from_curve",
    "format_annotation",
    "km_from_result",
    "km_grid",
    "km_grid_from_result",
    "km_plot",
]

_TIME_UNITS = {"days": "Days", "weeks": "Weeks", "months": "Months", "years": "Years"}


def format_annotation(
    hr: float,
    hr_lower: float,
    hr_upper: float,
    p_logrank: float | None = None,
    *,
    conf_level: float = 0.95,
    effect_name: str = "HR",
) -> str:
    """The usual KM annotation, e.g. "HR 0.50 (95% CI 0.39–0.64)\\nLog-rank P < 0.001".

    The p-value reads "P < 0.001" or "P = 0.003" (spaced, as running text;
    the forest plot's p columns keep the compact "<0.001").

    Examples
    --------
    >>> print(format_annotation(0.5, 0.39, 0.64, 2e-8))
    HR 0.50 (95% CI 0.39–0.64)
    Log-rank P < 0.001
    >>> print(format_annotation(0.5, 0.39, 0.64, 0.0031))
    HR 0.50 (95% CI 0.39–0.64)
    Log-rank P = 0.003
    """
    percent = format_conf_level(conf_level)
    text = format_effect(hr, hr_lower, hr_upper)
    if text != NOT_ESTIMABLE:
        estimate, interval = text.split(" ", 1)
        text = f"{effect_name} {estimate} ({percent} CI {interval[1:-1]})"
    else:
        text = f"{effect_name} not estimable"
    p_text = format_p(p_logrank, label="Log-rank P")
    return f"{text}\n{p_text}" if p_text else text


def _time_label(time_unit: str) -> str:
    return f"{_TIME_UNITS.get(time_unit, str(time_unit).capitalize())} since randomisation"


def _nice_ticks(t_max: float) -> list[float]:
    """Evenly spaced times from 0 up to the first at or after ``t_max`` (the axis end)."""
    locator = ticker.MaxNLocator(nbins=6, steps=[1, 2, 3, 5, 6, 10], integer=True)
    values = [float(t) for t in locator.tick_values(0.0, t_max) if t >= 0.0]
    ticks = [t for t in values if t < t_max * 0.9999]
    ticks += [t for t in values if t >= t_max * 0.9999][:1]
    return ticks or [0.0]


def km_plot(
    curves: Mapping[str, KMCurve],
    *,
    labels: Mapping[str, str] | None = None,
    at_risk: pd.DataFrame | Mapping[str, Sequence[Any]] | None = None,
    arm_values: Mapping[str, Any] | None = None,
    risk_times: Sequence[float] | None = None,
    time_unit: str = "months",
    time_label: str | None = None,
    endpoint_name: str | None = None,
    annotation: str | None = None,
    ci: bool = False,
    show_median: bool = False,
    medians: Mapping[str, float] | None = None,
    show_at_risk: bool = True,
    risk_rows: Sequence[str] | str = ("at_risk",),
    legend: bool = True,
    colors: Mapping[str, str] | None = None,
    xlim: tuple[float, float] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    width: str | float = "single",
    style: Mapping[str, Any] | None = None,
) -> Figure:
    """Kaplan-Meier curves by arm with censoring ticks and an at-risk table.

    Parameters
    ----------
    curves : mapping of str to KMCurve
        One curve per arm, e.g. ``{"treatment": ..., "control": ...}``; drawn
        in this order.
    labels : mapping of str to str, optional
        Display name per key (default: the key).
    at_risk : DataFrame or mapping, optional
        Numbers at risk: a DataFrame with columns ``arm, time, n_at_risk``
        (as ``SubgroupResult.at_risk``; ``arm`` holds the arm values of
        ``arm_values``, else a label or key), or a mapping key -> counts at
        ``risk_times``. Default: read off each curve's ``n_risk``
        (:func:`at_risk_from_curve`). Counts given as text (e.g. "<5" from
        :func:`survtdm1.privacy.suppress_small_cells`) are shown as they are.
    arm_values : mapping of str to str, optional
        The arm value (as in ``at_risk["arm"]``) of each key, e.g.
        ``{"treatment": result.treatment_label, ...}``; the at-risk rows are
        matched on it, so ``labels`` only changes what is displayed.
    risk_times : sequence of float, optional
        Times of the at-risk table, which are also the x ticks. Default: the
        DataFrame's times, else evenly spaced ticks over the follow-up.
    time_unit : str
        Names the x axis ("Months since randomisation").
    time_label : str, optional
        Overrides the x-axis label.
    endpoint_name : str, optional
        The y label becomes "<endpoint_name> (%)", e.g. "IDFS (%)"; default
        "Event-free (%)".
    annotation : str, optional
        Text shown in the panel, e.g. from :func:`format_annotation`.
    ci : bool
        Shade the pointwise confidence bands.
    show_median : bool
        Dashed lines at 50% to each arm's median, the medians written in the
        legend; needs ``medians``.
    medians : mapping of str to float, optional
        Median per key (NaN when not reached), e.g. from the result.
    show_at_risk, legend : bool
    risk_rows : sequence of {"at_risk", "events", "censored"}
        The blocks of the table under the axis, as survminer's risk tables:
        numbers at risk, cumulative events and cumulative censored at each
        risk time (the latter two read off the curves). Counts never
        collide: the font shrinks a little, then every k-th time is shown.
    colors : mapping of str to str, optional
        Colour per key (default: treatment blue, control vermillion).
    xlim : (float, float), optional
    title : str, optional
    ax : Axes, optional
        Draw into this Axes; the at-risk table is drawn below it, so leave
        room. By default a new figure is made.
    width : str or float
        Figure width when ``ax`` is not given ("single", "one-and-half",
        "full" or millimetres).
    style : mapping, optional
        rcParams overriding the house style.

    Returns
    -------
    Figure

    Examples
    --------
    >>> from survtdm1.km import kaplan_meier
    >>> curves = {"treatment": kaplan_meier([5, 8, 12, 20], [1, 0, 1, 0]),
    ...           "control": kaplan_meier([3, 6, 9, 15], [1, 1, 0, 1])}
    >>> fig = km_plot(curves, labels={"treatment": "T-DM1", "control": "Trastuzumab"},
    ...               risk_times=[0, 6, 12, 18])
    >>> len(fig.axes)
    1
    """
    labels = {key: safe_text((labels or {}).get(key, key)) for key in curves}
    kinds = check_risk_rows(risk_rows)
    if show_median and medians is None:
        raise ValueError("show_median=True needs medians= (e.g. from the result's overall)")
    with house_style(style):
        own = ax is None
        if own:
            ax = _new_panel(width, labels, show_at_risk, len(kinds))
        place_key = _draw_km(
            ax, curves, labels=labels, at_risk=at_risk, arm_values=arm_values,
            risk_times=risk_times, time_label=safe_text(time_label or _time_label(time_unit), 120),
            endpoint_name=safe_text(endpoint_name) if endpoint_name else None,
            annotation=annotation, ci=ci, medians=medians if show_median else None,
            show_at_risk=show_at_risk, risk_rows=kinds, legend=legend, colors=colors, xlim=xlim,
            title=safe_text(title, 200) if title else None, show_xlabel=True,
        )  # fmt: skip
        if own:  # the free corners depend on the laid-out panel
            _settle(ax.figure, [place_key])
    return ax.figure


def _new_panel(
    width: str | float, labels: Mapping[str, str], show_at_risk: bool, blocks: int
) -> Axes:
    """The Axes of a new one-panel KM figure, sized by :func:`km_figure_size`.

    The risk table has ``blocks`` blocks; arm names wider than
    :data:`LEFT_LABEL_MAX_PT` go on their own lines.
    """
    font = float(_rc("font.size"))
    stacked = max(text_width_pt(v, font) for v in labels.values()) > LEFT_LABEL_MAX_PT
    lines = risk_table_lines(len(labels), blocks, stacked=stacked) + 1.0
    size = km_figure_size(
        width_inches(width), len(labels), font, at_risk=show_at_risk, table_lines=lines
    )
    figure = DisplayFigure(figsize=size, layout="constrained")
    figure.get_layout_engine().set(w_pad=5 / 72.0, h_pad=5 / 72.0)
    return figure.add_subplot()


def _colors_for(keys: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    merged = arm_colors(colors)
    spare = [
        OKABE_ITO[name]
        for name in ("bluish_green", "reddish_purple", "orange", "sky_blue", "black")
    ]
    out = {}
    for key in keys:
        out[key] = merged.get(key) or spare[len(out) % len(spare)]
    return out


def _draw_km(
    ax: Axes,
    curves: Mapping[str, KMCurve],
    *,
    labels: Mapping[str, str],
    at_risk: pd.DataFrame | Mapping[str, Sequence[Any]] | None,
    risk_times: Sequence[float] | None,
    time_label: str,
    arm_values: Mapping[str, Any] | None = None,
    endpoint_name: str | None,
    annotation: str | None,
    ci: bool,
    medians: Mapping[str, float] | None,
    show_at_risk: bool,
    legend: bool,
    colors: Mapping[str, str] | None,
    xlim: tuple[float, float] | None,
    title: str | None,
    show_xlabel: bool,
    show_ylabel: bool = True,
    risk_rows: Sequence[str] = ("at_risk",),
    stacked: bool | None = None,
) -> Callable[[], tuple]:
    """Draw one KM panel; returns the function that places its legend and annotation.

    Call it again once the figure is laid out: the free corners depend on
    the panel's size.
    """
    size = float(_rc("font.size"))
    palette = _colors_for(list(curves), colors)
    ticks, xlim = _ticks_and_limits(curves, at_risk, risk_times, xlim)
    table = None
    axes_pt = ax.get_position().width * ax.figure.get_figwidth() * 72.0
    if show_at_risk and ticks:
        table = risk_table_plan(
            curves, labels, at_risk, ticks, xlim, axes_pt, size,
            arm_values=arm_values, risk_rows=risk_rows, stacked=stacked,
        )  # fmt: skip
        ticks = table["times"]
    legend_labels = dict(labels)
    if medians is not None:
        legend_labels = {key: _with_median(labels[key], medians.get(key)) for key in labels}
    legend_labels = {  # wrapped to the panel's width (less the line sample)
        key: _wrap(text, max(axes_pt - size * 4.0, size * 8.0), _font(size))
        for key, text in legend_labels.items()
    }
    _draw_curves(ax, curves, legend_labels, palette, ci=ci)
    if medians is not None:
        _draw_medians(ax, medians)
    _style_panel(ax, ticks, xlim)
    if show_xlabel:
        ax.set_xlabel(time_label)
    if show_ylabel:
        ax.set_ylabel(f"{endpoint_name} (%)" if endpoint_name else "Event-free (%)")
    if title:
        title = _wrap(title, axes_pt, _font(size + 1, "bold"))
        ax.set_title(title, loc="left", fontsize=size + 1, fontweight="bold")
    fix_tick_style(ax)

    # legend and annotation where the curves are not (placed again once laid out)
    if legend:
        _make_legend(ax, size)
    text = None
    if annotation:
        text = ax.text(
            1.0,
            1.0,
            annotation,
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=size,
            linespacing=1.3,
            gid="km-annotation",
        )
    place_key = functools.partial(
        _place_key, ax, _obstacles(curves, ci=ci, medians=medians), text, title, size
    )
    place_key()

    if table is not None:
        _at_risk_table(ax, table, labels, palette, show_xlabel, size)
    return place_key


def _with_median(label: str, median: float | None) -> str:
    """The legend entry with the arm's median, e.g. "T-DM1 (median 25.3)"."""
    if median is None or not math.isfinite(float(median)):
        return f"{label} (median not reached)"
    value = float(median)
    return f"{label} (median {value:.1f})" if value < 100 else f"{label} (median {value:.0f})"


def _ticks_and_limits(
    curves: Mapping[str, KMCurve],
    at_risk: pd.DataFrame | Mapping[str, Sequence[Any]] | None,
    risk_times: Sequence[float] | None,
    xlim: tuple[float, float] | None,
) -> tuple[list[float], tuple[float, float]]:
    """The x ticks (the at-risk times: given, the table's, or evenly spaced) and x limits."""
    t_max = max((float(c.time[-1]) for c in curves.values() if c.time.size), default=1.0)
    if risk_times is None and isinstance(at_risk, pd.DataFrame) and not at_risk.empty:
        risk_times = sorted(set(at_risk["time"].astype(float)))
    ticks = [float(t) for t in risk_times] if risk_times is not None else _nice_ticks(t_max)
    if xlim is None:  # the axis ends at the last risk time (the table's horizon)
        xlim = (0.0, ticks[-1] if ticks and ticks[-1] > 0 else t_max)
    return ticks, xlim


def _draw_curves(
    ax: Axes,
    curves: Mapping[str, KMCurve],
    labels: Mapping[str, str],
    palette: Mapping[str, str],
    *,
    ci: bool,
) -> None:
    """Each curve as a step line in percent with its censoring ticks and CI band."""
    for key, curve in curves.items():
        color = palette[key]
        x = np.concatenate([[0.0], curve.time])
        y = np.concatenate([[1.0], curve.surv]) * 100.0
        if ci and curve.time.size:
            lower = np.concatenate(
                [[1.0], np.where(np.isnan(curve.lower), curve.surv, curve.lower)]
            )
            upper = np.concatenate(
                [[1.0], np.where(np.isnan(curve.upper), curve.surv, curve.upper)]
            )
            ax.fill_between(
                x,
                lower * 100.0,
                upper * 100.0,
                step="post",
                color=color,
                alpha=0.15,
                linewidth=0,
                gid=f"km-ci-{key}",
            )
        ax.step(
            x,
            y,
            where="post",
            color=color,
            linewidth=1.1,
            label=labels[key],
            gid=f"km-curve-{key}",
        )[0].set_clip_path(_panel_clip(ax))
        censored = curve.n_censor > 0
        if censored.any():
            ax.plot(
                curve.time[censored],
                curve.surv[censored] * 100.0,
                linestyle="none",
                marker="|",
                markersize=3.5,
                markeredgewidth=0.7,
                color=color,
                gid=f"km-censor-{key}",
            )[0].set_clip_path(_panel_clip(ax))


def _panel_clip(ax: Axes) -> Any:
    """The panel's width and a little above and below: curves stop at the axis end."""
    from matplotlib.patches import Rectangle

    return Rectangle((0.0, -0.03), 1.0, 1.06, transform=ax.transAxes, visible=False)


def _draw_medians(ax: Axes, medians: Mapping[str, float]) -> None:
    """Dashed lines at 50% to each reached median and down from it."""
    reached = {k: float(v) for k, v in medians.items() if v is not None and math.isfinite(v)}
    if reached:
        style = {"color": GREY, "linewidth": 0.6, "linestyle": (0, (3, 2)), "zorder": 0.8}
        ax.plot([0.0, max(reached.values())], [50.0, 50.0], gid="km-median", **style)
        for key, value in reached.items():
            ax.plot([value, value], [0.0, 50.0], gid=f"km-median-{key}", **style)


def _style_panel(ax: Axes, ticks: Sequence[float], xlim: tuple[float, float]) -> None:
    """Limits and ticks: x at the at-risk times, y 0-100% in steps of 20."""
    ax.set_xlim(*xlim)
    ax.set_ylim(0.0, 100.0)
    ax.xaxis.set_major_locator(ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.yaxis.set_major_locator(ticker.FixedLocator([0, 20, 40, 60, 80, 100]))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: f"{v:g}"))


def km_grid(
    level_curves: Mapping[tuple[str, str], Mapping[str, KMCurve]],
    subgroup: str,
    *,
    levels: Sequence[str] | None = None,
    level_labels: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    risk_times: Sequence[float] | None = None,
    time_unit: str = "months",
    time_label: str | None = None,
    endpoint_name: str | None = None,
    annotations: Mapping[str, str] | None = None,
    ci: bool = False,
    ncols: int | None = None,
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
    width: str | float = "full",
    style: Mapping[str, Any] | None = None,
) -> Figure:
    """A grid of KM panels, one per level of ``subgroup``, with shared axes.

    Parameters
    ----------
    level_curves : mapping
        ``{(subgroup, level): {"treatment": KMCurve, "control": KMCurve}}``
        (as ``SubgroupResult.level_curves``).
    subgroup : str
        The subgroup whose levels are drawn.
    levels : sequence of str, optional
        Levels in panel order (default: as they appear in ``level_curves``).
    level_labels : mapping of str to str, optional
        Panel titles per level (default: the level).
    labels : mapping of str to str, optional
        Arm display names per key.
    risk_times : sequence of float, optional
        At-risk times and x ticks, the same in every panel (default: evenly
        spaced over the longest follow-up); numbers are read off each level's
        curves.
    time_unit, time_label, endpoint_name, ci, colors, style
        As in :func:`km_plot`.
    annotations : mapping of str to str, optional
        Text per level (e.g. its HR).
    ncols : int, optional
        Panels per row (default: as many as 3 panels, 2 for 4, 3 up to 12, else 4).
    title : str, optional
        Figure title (default: the subgroup).
    width : str or float

    Returns
    -------
    Figure
    """
    if levels is None:
        levels = [level for (group, level) in level_curves if group == subgroup]
    if not levels:
        raise ValueError(f"no KM curves for subgroup {subgroup!r}")
    missing = [level for level in levels if (subgroup, level) not in level_curves]
    if missing:
        raise ValueError(f"no KM curves for {subgroup!r} level(s) {missing}")
    ncols = ncols or _grid_columns(len(levels))
    nrows = math.ceil(len(levels) / ncols)
    first = level_curves[(subgroup, levels[0])]
    t_max = max(
        (
            float(c.time[-1])
            for level in levels
            for c in level_curves[(subgroup, level)].values()
            if c.time.size
        ),
        default=1.0,
    )
    ticks = [float(t) for t in risk_times] if risk_times is not None else _nice_ticks(t_max)
    xlim = (0.0, ticks[-1] if ticks[-1] > 0 else t_max)
    arm_labels = {key: safe_text((labels or {}).get(key, key)) for key in first}
    x_label = safe_text(time_label or _time_label(time_unit), 120)
    y_name = safe_text(endpoint_name) if endpoint_name else None
    with house_style(style):
        size = float(_rc("font.size"))
        fig_width = width_inches(width)
        panel_width = fig_width / ncols
        risk_in = (risk_table_lines(len(first), 1, stacked=True) + 2.6) * size * 1.45 / 72.0
        figure = DisplayFigure(
            figsize=(fig_width, nrows * (panel_width * 0.62 + risk_in + 0.35) + 0.3),
            layout="constrained",
        )
        axes = figure.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        axes_pt = axes[0][0].get_position().width * fig_width * 72.0
        panels = [level_curves[(subgroup, level)] for level in levels]
        ticks = _shared_ticks(panels, arm_labels, ticks, xlim, axes_pt, size)
        placers = []
        for index, level in enumerate(levels):
            ax = axes[index // ncols][index % ncols]
            ax.tick_params(labelbottom=True, labelleft=True)
            placers.append(
                _draw_km(
                    ax, level_curves[(subgroup, level)], labels=arm_labels, at_risk=None,
                    risk_times=ticks, time_label=x_label, endpoint_name=y_name,
                    annotation=(annotations or {}).get(level), ci=ci, medians=None,
                    show_at_risk=True, legend=False, colors=colors, xlim=xlim,
                    title=safe_text((level_labels or {}).get(level, level)),
                    show_xlabel=True, show_ylabel=index % ncols == 0, stacked=True,
                )
            )  # fmt: skip
        for index in range(len(levels), nrows * ncols):
            figure.delaxes(axes[index // ncols][index % ncols])
        figure.get_layout_engine().set(h_pad=6 / 72.0, hspace=0.08, w_pad=6 / 72.0, wspace=0.06)
        heading = _wrap(safe_text(title or subgroup, 200), fig_width * 72.0, _font(size + 1))
        _grid_legend(figure, axes[0][0], heading, fig_width * 72.0, size)
        _settle(figure, placers)  # the free corners depend on the laid-out panels
    return figure


def _grid_legend(figure: Figure, ax: Axes, heading: str, page_pt: float, size: float) -> None:
    """The grid's heading and one legend for all panels above them (names wrapped)."""
    handles, names = ax.get_legend_handles_labels()
    names = [_wrap(name.replace("\n", " "), page_pt * 0.42, _font(size)) for name in names]
    figure.legend(
        handles, names, loc="outside upper left", ncols=len(names), handlelength=1.6,
        fontsize=size, frameon=False, title=heading, alignment="left",
        title_fontproperties={"size": size + 1, "weight": "bold"},
    )  # fmt: skip


def _shared_ticks(panels, labels, ticks, xlim, axes_pt: float, size: float) -> list[float]:
    """The risk times every panel of a grid can show: the fewest any panel leaves room for."""
    return min(
        (
            risk_table_plan(curves, labels, None, ticks, xlim, axes_pt, size, stacked=True)["times"]
            for curves in panels
        ),
        key=len,
    )


def _grid_columns(n_panels: int) -> int:
    """Panels per row: no empty cell up to four panels, then three or four a row."""
    if n_panels <= 3:
        return n_panels
    if n_panels == 4:
        return 2
    return 3 if n_panels <= 12 else 4


def _endpoint_name(result: Any) -> str | None:
    """``result.endpoint_name`` (e.g. "IDFS") when the result has one, else None."""
    name = getattr(result, "endpoint_name", None)
    return str(name) if name is not None and str(name) else None


def km_from_result(result: Any, **kwargs: Any) -> Figure:
    """KM plot of the overall cohort of a :class:`~survtdm1.subgroups.SubgroupResult`.

    Uses ``overall_curves``, the at-risk table ``at_risk`` (numbers as
    computed, rows matched by arm value), ``risk_times``, the arm labels, the
    time unit, ``endpoint_name`` when the result has one (y label "IDFS (%)")
    and an annotation with the overall HR (95% CI) and log-rank p. Medians
    come from ``overall["treatment"]["median"]`` (and control) when
    ``show_median``.

    Parameters
    ----------
    result : SubgroupResult
    **kwargs
        Passed to :func:`km_plot` (they override the values taken from the
        result). ``labels`` only renames the arms on display, e.g.
        ``labels={"control": "Lapatinib + capecitabine"}``; arms it leaves out
        keep their arm value.

    Returns
    -------
    Figure
    """
    overall = result.overall or {}
    conf_level = getattr(result, "conf_level", 0.95)
    annotation = format_annotation(
        float(overall.get("hr", math.nan)),
        float(overall.get("hr_lower", math.nan)),
        float(overall.get("hr_upper", math.nan)),
        overall.get("p_logrank"),
        conf_level=conf_level,
    )
    medians = {
        key: float((overall.get(key) or {}).get("median", math.nan))
        for key in ("treatment", "control")
    }
    arms = {"treatment": result.treatment_label, "control": result.control_label}
    options: dict[str, Any] = {
        "labels": dict(arms),
        "at_risk": getattr(result, "at_risk", None),
        "arm_values": arms,
        "risk_times": list(getattr(result, "risk_times", ()) or ()) or None,
        "time_unit": getattr(result, "time_unit", "months"),
        "annotation": annotation,
        "medians": medians,
        "endpoint_name": _endpoint_name(result),
    }
    labels = kwargs.pop("labels", None)
    options.update(kwargs)
    options["labels"] = {**arms, **(labels or {})}
    return km_plot(result.overall_curves, **options)


def km_grid_from_result(result: Any, subgroup: str, **kwargs: Any) -> Figure:
    """KM grid of one subgroup's levels from a :class:`~survtdm1.subgroups.SubgroupResult`.

    Panels follow the table's level order, titled by ``level_label``, each
    annotated with its HR (95% CI) from the table.

    Parameters
    ----------
    result : SubgroupResult
    subgroup : str
        A value of the table's ``subgroup`` column.
    **kwargs
        Passed to :func:`km_grid`.

    Returns
    -------
    Figure
    """
    table = result.table
    rows = table[table["subgroup"].astype(str) == str(subgroup)]
    if rows.empty:
        raise ValueError(f"subgroup {subgroup!r} is not in the result's table")
    levels = rows["level"].astype(str).tolist()
    level_labels = {}
    annotations = {}
    conf_level = getattr(result, "conf_level", 0.95)
    for _, row in rows.iterrows():
        label = row.get("level_label")
        level = str(row["level"])
        level_labels[level] = str(label) if isinstance(label, str) and label else level
        annotations[level] = format_annotation(
            float(row.get("hr", math.nan)),
            float(row.get("hr_lower", math.nan)),
            float(row.get("hr_upper", math.nan)),
            conf_level=conf_level,
        )
    heading = rows.iloc[0].get("subgroup_label")
    options: dict[str, Any] = {
        "levels": levels,
        "level_labels": level_labels,
        "risk_times": list(getattr(result, "risk_times", ()) or ()) or None,
        "time_unit": getattr(result, "time_unit", "months"),
        "annotations": annotations,
        "title": str(heading) if isinstance(heading, str) and heading else str(subgroup),
        "endpoint_name": _endpoint_name(result),
    }
    labels = kwargs.pop("labels", None)
    options.update(kwargs)
    arms = {"treatment": result.treatment_label, "control": result.control_label}
    options["labels"] = {**arms, **(labels or {})}
    return km_grid(result.level_curves, subgroup, **options)
