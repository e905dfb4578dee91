"""Spline treatment-effect curve: the treatment HR as a smooth function of a biomarker.

A Cox model with a natural cubic spline of the biomarker and its interaction
with the arm gives HR(biomarker) with pointwise confidence limits and the
likelihood-ratio test of the interaction (as R
``coxph(Surv(time, event) ~ arm * ns(x, df = 3))``). The arithmetic is in
:mod:`survtdm1.splines`; this module checks the options and the biomarker
column and builds the :class:`EffectCurveResult`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _checks
from .biomarker import biomarker_values
from .cohort import Cohort
from .exceptions import InputError, PlanError
from .splines import spline_interaction_fit

__all__ = ["EffectCurveResult", "effect_curve"]

WHERE = "effect_curve"


def _grid_option(grid) -> np.ndarray:
    try:
        values = np.asarray(grid, dtype=float)
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise _checks.fail("grid", grid, "a non-empty list of finite numbers", WHERE)
    return values


def _default_grid(x: np.ndarray) -> np.ndarray:
    """101 values evenly spaced from the 2.5th to the 97.5th percentile of ``x``."""
    low, high = np.quantile(x, [0.025, 0.975])
    return np.linspace(low, high, 101)


def _check_grid_range(grid: np.ndarray, boundary: tuple[float, float], biomarker) -> None:
    outside = grid[(grid < boundary[0]) | (grid > boundary[1])]
    if outside.shape[0]:
        raise PlanError(
            f"effect_curve: grid values must lie within the range of {biomarker!r} "
            f"[{boundary[0]:g}, {boundary[1]:g}]; {outside.shape[0]} do not, e.g. {outside[0]:g}"
        )


@dataclass(frozen=True)
class EffectCurveResult:
    """Result of :func:`effect_curve` (frozen).

    Attributes
    ----------
    table : DataFrame
        One row per grid value: ``biomarker``, ``hr``, ``hr_lower``,
        ``hr_upper`` (treatment vs control HR at that biomarker value, pointwise
        Wald CI), ``log_hr``, ``se_log_hr``.
    coef : DataFrame
        The model's coefficients: ``term``, ``coef``, ``se``.
    p_interaction : float
        Likelihood-ratio test of the arm x spline interaction (df = ``df``),
        as R ``anova(coxph(~ arm + ns(x, df)), coxph(~ arm * ns(x, df)))``.
    chisq_interaction : float
    p_interaction_wald : float
        Wald test of the same terms.
    """

    table: pd.DataFrame
    coef: pd.DataFrame
    p_interaction: float
    chisq_interaction: float
    p_interaction_wald: float
    df: int
    knots: np.ndarray
    boundary_knots: tuple[float, float]
    biomarker: str
    n: int
    n_events: int
    n_missing: int
    conf_level: float
    biomarker_treatment: np.ndarray = field(repr=False)
    biomarker_control: np.ndarray = field(repr=False)
    treatment_label: str
    control_label: str
    loglik: float
    converged: bool

    def summary(self) -> pd.DataFrame:
        """One row: biomarker, patients, spline df and knots, interaction tests."""
        return pd.DataFrame(
            [
                {
                    "biomarker": self.biomarker,
                    "n": self.n,
                    "n_events": self.n_events,
                    "n_missing": self.n_missing,
                    "df": self.df,
                    "knots": ", ".join(f"{k:.4g}" for k in self.knots),
                    "chisq_interaction": self.chisq_interaction,
                    "p_interaction": self.p_interaction,
                    "p_interaction_wald": self.p_interaction_wald,
                    "converged": self.converged,
                }
            ]
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>Treatment-effect curve</b> of {html.escape(str(self.treatment_label))} vs "
            f"{html.escape(str(self.control_label))} "
            f"along <code>{html.escape(str(self.biomarker))}</code></p>"
        )
        return head + self.summary().to_html(index=False, escape=True)

    def plot(self, ax=None, **kwargs):
        """HR(biomarker) plot (see :func:`survtdm1.plots.stepp.effect_curve_plot`)."""
        from .plots.stepp import effect_curve_plot

        return effect_curve_plot(self, ax=ax, **kwargs)


def effect_curve(
    cohort: Cohort,
    biomarker: str,
    *,
    df: int = 3,
    conf_level: float = 0.95,
    grid=None,
    ties: str = "efron",
) -> EffectCurveResult:
    """Treatment hazard ratio as a smooth function of a continuous biomarker.

    Fits the Cox model ``arm + ns(x) + arm:ns(x)`` with a natural cubic spline
    basis of ``df`` columns (:func:`survtdm1.splines.natural_spline_basis`, as R ``ns``);
    HR(x) = exp(b_arm + ns(x) . b_interaction) with a pointwise Wald CI from the
    model's variance. The interaction is tested by the likelihood ratio against
    ``arm + ns(x)`` (df = ``df``). Rows with a missing biomarker are left out
    and counted.

    Parameters
    ----------
    cohort : Cohort
    biomarker : str
    df : int
        Columns of the spline basis (interior knots at the quantiles 1/df, ...).
    conf_level : float
        Between 0 and 1.
    grid : array_like, optional
        Biomarker values for the table; default 101 values evenly spaced from
        the 2.5th to the 97.5th percentile (the curve is poorly determined in
        the extreme tails). Values must lie within the data's range.
    ties : {"efron", "breslow"}

    Returns
    -------
    EffectCurveResult

    Raises
    ------
    InputError
        The cohort has no survival endpoint, no column ``biomarker``, or the
        column holds non-numeric or infinite values (the message names the
        rows), or too few distinct values for ``df``.
    PlanError
        ``df`` not a positive integer, ``conf_level`` outside (0, 1), unknown
        ``ties``, or ``grid`` not finite numbers within the biomarker's range.

    Equivalent R::

        fit <- coxph(Surv(time, event) ~ arm * ns(x, df = 3))
        anova(coxph(Surv(time, event) ~ arm + ns(x, df = 3)), fit)

    Examples
    --------
    >>> import survtdm1 as st
    >>> emilia = st.load_cohort(st.datasets.emilia(), arm="arm", treatment="T-DM1",
    ...                         control="Lapatinib+Capecitabine", time="pfs_months",
    ...                         event="pfs_event")
    >>> curve = effect_curve(emilia, "her2_mrna")
    >>> len(curve.table), list(curve.coef["term"][:2])
    (101, ['arm', 'ns1'])
    """
    from scipy import stats  # imported when used: it costs a second

    df = _checks.integer("df", df, 1, where=WHERE)
    conf_level = _checks.conf_level(conf_level, WHERE)
    ties = _checks.ties(ties, WHERE)
    if grid is not None:
        grid = _grid_option(grid)
    values_all = biomarker_values(cohort, biomarker, WHERE)
    known = ~np.isnan(values_all)
    x = values_all[known]
    time, event, treated = cohort.times[known], cohort.events[known], cohort.treated[known]
    if np.unique(x).shape[0] <= df:
        raise InputError(
            f"{cohort.source}: effect_curve: biomarker column {biomarker!r} has too few "
            f"distinct values for df={df}"
        )
    fit = spline_interaction_fit(time, event, treated, x, df, ties=ties)
    grid = _default_grid(x) if grid is None else grid
    _check_grid_range(grid, fit.boundary_knots, biomarker)
    log_hr, se = fit.log_hr_at(grid)
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    table = pd.DataFrame(
        {
            "biomarker": grid,
            "hr": np.exp(log_hr),
            "hr_lower": np.exp(log_hr - z * se),
            "hr_upper": np.exp(log_hr + z * se),
            "log_hr": log_hr,
            "se_log_hr": se,
        }
    )
    terms = ["arm"] + [f"ns{j + 1}" for j in range(df)] + [f"arm:ns{j + 1}" for j in range(df)]
    coef = pd.DataFrame({"term": terms, "coef": fit.full.coef, "se": fit.full.se})
    return EffectCurveResult(
        table=table,
        coef=coef,
        p_interaction=fit.p_lrt,
        chisq_interaction=fit.chisq,
        p_interaction_wald=fit.p_wald,
        df=df,
        knots=fit.knots,
        boundary_knots=fit.boundary_knots,
        biomarker=biomarker,
        n=int(x.shape[0]),
        n_events=int(event.sum()),
        n_missing=int((~known).sum()),
        conf_level=conf_level,
        biomarker_treatment=x[treated == 1],
        biomarker_control=x[treated == 0],
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        loglik=fit.full.loglik,
        converged=fit.full.converged,
    )
