"""Binary endpoint figure: response rates per arm with CIs, overall and per level.

:func:`response_rates` reshapes the rates of a binary subgroup table (computed
with their exact Clopper-Pearson intervals in :mod:`survtdm1.binary`) into one
row per arm and display line; :func:`response_plot` draws that table. Neither
computes a statistic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .rows import forest_rows
from .style import LIGHT_GREY, DisplayFigure, arm_colors, fix_tick_style, house_style, width_inches
from .text import _font, _number, _width_pt, _wrap, format_conf_level, safe_text

__all__ = ["RATE_COLUMNS", "response_from_result", "response_plot", "response_rates"]

#: Columns of :func:`response_rates`.
RATE_COLUMNS = [
    "row",
    "kind",
    "subgroup",
    "level",
    "label",
    "arm",
    "n",
    "responders",
    "rate",
    "rate_lower",
    "rate_upper",
]


def response_rates(
    table: pd.DataFrame,
    overall: Mapping[str, Any] | None = None,
    *,
    overall_label: str = "All patients",
) -> pd.DataFrame:
    """Response rate per arm and row, with exact confidence limits, read from the table.

    Parameters
    ----------
    table : DataFrame
        A binary subgroup table: counts ``n_*``, ``responders_*`` and rates
        ``rate_treatment``, ``rate_treatment_lower``, ``rate_treatment_upper``
        (and the same for control) per level.
    overall : mapping, optional
        The overall values (same keys); gives the "All patients" rows.
    overall_label : str

    Returns
    -------
    DataFrame
        One row per (display row, arm) with columns ``row`` (display order),
        ``kind`` ("overall", "heading" or "level"), ``subgroup``, ``level``,
        ``label``, ``arm`` ("treatment"/"control"), ``n``, ``responders``,
        ``rate`` (proportion), ``rate_lower``, ``rate_upper`` (Clopper-Pearson,
        as R ``binom.test(responders, n)$conf.int``). Headings carry NaN counts.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"subgroup": ["hr"], "level": ["positive"],
    ...     "n_treatment": [50], "n_control": [50],
    ...     "responders_treatment": [20], "responders_control": [10],
    ...     "rate_treatment": [0.4], "rate_treatment_lower": [0.26],
    ...     "rate_treatment_upper": [0.55], "rate_control": [0.2],
    ...     "rate_control_lower": [0.1], "rate_control_upper": [0.34]})
    >>> response_rates(table)["rate"].dropna().tolist()
    [0.4, 0.2]
    """
    records = []
    rows = forest_rows(table, overall, effect="or", overall_label=overall_label)
    by_level = table.set_index(["subgroup", "level"]) if len(table) else None
    for index, row in enumerate(rows):
        if row.kind == "overall":
            source = overall
        elif row.kind == "level":
            source = by_level.loc[(row.subgroup, row.level)]
        else:
            source = None
        for arm, n, responders in (
            ("treatment", row.n_treatment, row.count_treatment),
            ("control", row.n_control, row.count_control),
        ):
            rate, lower, upper = (
                (math.nan,) * 3
                if source is None
                else tuple(
                    _number(source.get(f"rate_{arm}{suffix}", math.nan))
                    for suffix in ("", "_lower", "_upper")
                )
            )
            records.append(
                (
                    index,
                    row.kind,
                    row.subgroup,
                    row.level,
                    row.label,
                    arm,
                    n,
                    responders,
                    rate,
                    lower,
                    upper,
                )
            )
    return pd.DataFrame.from_records(records, columns=RATE_COLUMNS)


def response_plot(
    rates: pd.DataFrame,
    *,
    treatment_label: str,
    control_label: str,
    endpoint_name: str | None = None,
    conf_level: float = 0.95,
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    width: str | float = "one-and-half",
    style: Mapping[str, Any] | None = None,
) -> Figure:
    """Dot plot of response rates (%) per arm with CIs, overall and per level.

    Parameters
    ----------
    rates : DataFrame
        From :func:`response_rates` (columns :data:`RATE_COLUMNS`).
    treatment_label, control_label : str
        Arm names for the legend.
    endpoint_name : str, optional
        x label "<endpoint_name> (%)", e.g. "pCR rate (%)"; default "Response rate (%)".
    conf_level : float
        Names the interval in the legend note.
    colors : mapping, optional
        Colours keyed "treatment"/"control".
    title : str, optional
    ax : Axes, optional
        Draw into this Axes (row labels are its y tick labels).
    width : str or float
        Figure width when ``ax`` is not given.
    style : mapping, optional
        rcParams overriding the house style.

    Returns
    -------
    Figure
    """
    palette = arm_colors(colors)
    order = rates.drop_duplicates("row").sort_values("row")
    with house_style(style):
        import matplotlib as mpl

        size = float(mpl.rcParams["font.size"])
        page_pt = (width_inches(width) if ax is None else ax.figure.get_figwidth()) * 72.0
        labels, names, side_by_side, legend_lines = _measured_text(
            order["label"], treatment_label, control_label, page_pt, size
        )
        own = ax is None
        if own:
            lines = max((label.count("\n") + 1 for label in labels), default=1)
            row_pt = max(2.0, lines * 1.25 + 0.6) * size
            height = (len(order) * row_pt + size * (7.5 + 1.4 * legend_lines)) / 72.0
            figure = DisplayFigure(figsize=(width_inches(width), height), layout="constrained")
            figure.get_layout_engine().set(w_pad=5 / 72.0, h_pad=5 / 72.0)
            ax = figure.add_subplot()
        positions = {row: i for i, row in enumerate(order["row"])}
        offsets = {"treatment": -0.17, "control": 0.17}
        for arm in ("treatment", "control"):
            part = rates[(rates["arm"] == arm) & rates["rate"].notna()]
            y = np.array([positions[r] for r in part["row"]], dtype=float) + offsets[arm]
            rate = part["rate"].to_numpy(dtype=float) * 100
            lower = part["rate_lower"].to_numpy(dtype=float) * 100
            upper = part["rate_upper"].to_numpy(dtype=float) * 100
            ax.errorbar(
                rate,
                y,
                xerr=np.vstack([rate - lower, upper - rate]),
                fmt="o",
                markersize=3.5,
                color=palette[arm],
                elinewidth=0.9,
                capsize=0,
                label=names[arm],
                gid=f"response-{arm}",
            )
        for i, kind in enumerate(order["kind"]):
            if kind == "heading":
                ax.axhspan(i - 0.5, i + 0.5, color=LIGHT_GREY, alpha=0.35, linewidth=0, zorder=0)
        ax.set_yticks(range(len(order)), labels)
        for tick_label, kind in zip(ax.get_yticklabels(), order["kind"], strict=True):
            if kind != "level":
                tick_label.set_fontweight("bold")
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_xlim(-2, 102)
        ax.xaxis.set_major_locator(ticker.FixedLocator([0, 20, 40, 60, 80, 100]))
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(f"{endpoint_name} (%)" if endpoint_name else "Response rate (%)")
        ax.grid(axis="x", color=LIGHT_GREY, linewidth=0.5)
        ax.set_axisbelow(True)
        legend_options = {
            "ncols": 2 if side_by_side else 1,
            "title": f"Rate with {format_conf_level(conf_level)} CI (Clopper-Pearson)",
            "title_fontsize": size,
        }
        if own:  # above the whole figure, centred on the page (never narrowing the panel)
            handles, names_shown = ax.get_legend_handles_labels()
            ax.figure.legend(handles, names_shown, loc="outside upper center", **legend_options)
        else:
            ax.legend(
                loc="lower center", bbox_to_anchor=(0.5, 1.0), borderaxespad=0.2, **legend_options
            )
        if title:
            ax.figure.suptitle(
                safe_text(title, 200), x=0.02, ha="left", fontsize=size + 1, fontweight="bold"
            )
        fix_tick_style(ax)
        ax.tick_params(axis="y", length=0)
        ax.figure.draw_without_rendering()
    return ax.figure


def _measured_text(row_labels, treatment_label, control_label, page_pt: float, size: float):
    """Row labels wrapped to 40% of the page, arm names to 42%; whether the two legend
    entries fit side by side, and the legend's lines."""
    regular = _font(size)
    labels = [_wrap(str(label), page_pt * 0.4, regular) for label in row_labels]
    names = {
        "treatment": _wrap(safe_text(treatment_label), page_pt * 0.42, regular),
        "control": _wrap(safe_text(control_label), page_pt * 0.42, regular),
    }
    side_by_side = sum(_width_pt(n, regular) + size * 5 for n in names.values()) < page_pt
    counts = [n.count("\n") + 1 for n in names.values()]
    return labels, names, side_by_side, max(counts) if side_by_side else sum(counts)


def response_from_result(result: Any, **kwargs: Any) -> Figure:
    """Response-rate plot of a binary :class:`~survtdm1.subgroups.SubgroupResult`.

    Parameters
    ----------
    result : SubgroupResult
        A binary-endpoint result (``table`` with responders per arm).
    **kwargs
        Passed to :func:`response_plot`.

    Returns
    -------
    Figure
    """
    conf_level = getattr(result, "conf_level", 0.95)
    rates = response_rates(result.table, result.overall)
    options: dict[str, Any] = {
        "treatment_label": str(result.treatment_label),
        "control_label": str(result.control_label),
        "conf_level": conf_level,
    }
    options.update(kwargs)
    return response_plot(rates, **options)
