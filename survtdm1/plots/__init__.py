"""Publication figures: forest plot, Kaplan-Meier curves, response rates.

Every function takes results (or their pieces), computes no statistic,
builds a :class:`matplotlib.figure.Figure` without pyplot (a
:class:`~survtdm1.plots.style.DisplayFigure`, which Jupyter shows as an
image) inside the house style (:func:`~survtdm1.plots.style.house_style`),
never calls ``plt.show()`` and returns the figure. Save with :func:`save_figure`.

This is the only place survtdm1 imports matplotlib.
"""

from __future__ import annotations

from .forest import forest_from_result, forest_plot, forest_rows
from .km import (
    at_risk_from_curve,
    format_annotation,
    km_from_result,
    km_grid,
    km_grid_from_result,
    km_plot,
)
from .response import response_from_result, response_plot, response_rates
from .save import save_figure
from .style import ARM_COLORS, OKABE_ITO, DisplayFigure, house_style, new_figure, width_inches

__all__ = [
    "ARM_COLORS",
    "OKABE_ITO",
    "DisplayFigure",
    "at_risk_from_curve",
    "forest_from_result",
    "forest_plot",
    "forest_rows",
    "format_annotation",
    "house_style",
    "km_from_result",
    "km_grid",
    "km_grid_from_result",
    "km_plot",
    "new_figure",
    "response_from_result",
    "response_plot",
    "response_rates",
    "save_figure",
    "width_inches",
]
