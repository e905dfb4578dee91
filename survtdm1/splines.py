"""Natural cubic splines and the Cox model of a treatment effect along them (floor 2).

Arrays in, frozen results out: :func:`natural_spline_basis` is R
``splines::ns``; :func:`spline_interaction_fit` fits the Cox models
``arm + ns(x)`` and ``arm * ns(x)`` and tests the interaction, and
:meth:`SplineInteractionFit.log_hr_at` gives the treatment log hazard ratio
and its standard error at given biomarker values. The analysis on a
:class:`~survtdm1.cohort.Cohort` (option checks, missing values, the result
table) is :func:`survtdm1.effect_curve.effect_curve`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cox import CoxFit, cox_fit, lr_test, wald_test

__all__ = ["SplineInteractionFit", "natural_spline_basis", "spline_interaction_fit"]


def natural_spline_basis(
    x, df: int = 3, *, knots=None, boundary_knots=None
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Natural cubic spline basis, as R ``splines::ns(x, df)`` (no intercept).

    Interior knots at the quantiles ``1/df, ..., (df-1)/df`` of ``x`` (R's
    default quantile type 7), boundary knots at its range; the B-spline basis
    is projected onto the natural splines (zero second derivative at the
    boundary knots) exactly as ``ns`` does, through the QR decomposition of
    the boundary constraints. Values outside the boundary knots are not
    supported (``ns`` extrapolates linearly).

    Returns
    -------
    basis : ndarray, shape (n, df)
    knots : ndarray
    boundary_knots : (float, float)

    Raises
    ------
    ValueError
        A value of ``x`` lies outside ``boundary_knots``.

    Equivalent R::

        splines::ns(x, df = 3)

    Examples
    --------
    >>> basis, knots, boundary = natural_spline_basis([1.0, 2.0, 3.0, 4.0, 5.0], 3)
    >>> basis.shape, boundary
    ((5, 3), (1.0, 5.0))
    """
    from scipy import linalg
    from scipy.interpolate import BSpline  # imported when used

    x = np.asarray(x, dtype=float)
    if boundary_knots is None:
        boundary_knots = (float(x.min()), float(x.max()))
    low, high = boundary_knots
    if knots is None:
        probs = np.linspace(0.0, 1.0, df + 1)[1:-1]
        inside = x[(x >= low) & (x <= high)]
        knots = np.quantile(inside, probs)
    knots = np.asarray(knots, dtype=float)
    if np.any(x < low) or np.any(x > high):
        raise ValueError("natural_spline_basis: values outside the boundary knots")
    augmented = np.concatenate([[low] * 4, knots, [high] * 4])
    n_basis = augmented.shape[0] - 4
    spline = BSpline(augmented, np.eye(n_basis), 3, extrapolate=True)
    basis = spline(x)
    # at the right boundary the half-open last interval gives zeros: use the limit
    at_high = x == high
    if at_high.any():
        basis[at_high] = 0.0
        basis[at_high, -1] = 1.0
    const = spline.derivative(2)(np.array([low, high]))
    basis, const = basis[:, 1:], const[:, 1:]
    q, _ = linalg.qr(const.T, mode="full")
    return basis @ q[:, 2:], knots, (float(low), float(high))


@dataclass(frozen=True)
class SplineInteractionFit:
    """The Cox models ``arm + ns(x, df)`` (reduced) and ``arm * ns(x, df)`` (full).

    The full model's columns are ``arm``, ``ns1..ns{df}``,
    ``arm:ns1..arm:ns{df}``. ``chisq``/``p_lrt``: likelihood-ratio test of the
    ``df`` interaction terms; ``p_wald``: their Wald test.
    """

    full: CoxFit
    reduced: CoxFit
    df: int
    knots: np.ndarray
    boundary_knots: tuple[float, float]
    chisq: float
    p_lrt: float
    p_wald: float

    @property
    def interaction(self) -> np.ndarray:
        """Column indices of the interaction terms in the full model."""
        return np.arange(1 + self.df, 1 + 2 * self.df)

    def log_hr_at(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Treatment log HR at each ``grid`` value and its SE (Wald, from the full model).

        ``grid`` must lie within ``boundary_knots`` (ValueError otherwise).
        """
        grid = np.asarray(grid, dtype=float)
        grid_basis, _, _ = natural_spline_basis(
            grid, self.df, knots=self.knots, boundary_knots=self.boundary_knots
        )
        contrast = np.zeros((grid.shape[0], self.full.coef.shape[0]))
        contrast[:, 0] = 1.0
        contrast[:, self.interaction] = grid_basis
        log_hr = contrast @ self.full.coef
        se = np.sqrt(np.einsum("gi,ij,gj->g", contrast, self.full.var, contrast))
        return log_hr, se


def spline_interaction_fit(
    time, event, treated, x, df: int = 3, *, ties: str = "efron"
) -> SplineInteractionFit:
    """Fit ``arm + ns(x, df)`` and ``arm * ns(x, df)`` and test the interaction.

    ``treated`` is 0/1; ``x`` has no missing values and more than ``df``
    distinct values.

    Equivalent R::

        fit <- coxph(Surv(time, event) ~ arm * ns(x, df = 3))
        anova(coxph(Surv(time, event) ~ arm + ns(x, df = 3)), fit)

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=200)
    >>> treated = np.arange(200) % 2
    >>> time = rng.exponential(1.0 / np.exp(-0.5 * treated * x))
    >>> fit = spline_interaction_fit(time, np.ones(200), treated, x, 3)
    >>> fit.full.coef.shape, bool(0.0 <= fit.p_lrt <= 1.0)
    ((7,), True)
    """
    treated = np.asarray(treated)
    basis, knots, boundary = natural_spline_basis(x, df)
    design_full = np.column_stack([treated, basis, treated[:, None] * basis])
    design_reduced = np.column_stack([treated, basis])
    full = cox_fit(time, event, design_full, ties=ties)
    reduced = cox_fit(time, event, design_reduced, ties=ties)
    chisq, p_lrt = lr_test(reduced, full, df)
    _, p_wald = wald_test(full, np.arange(1 + df, 1 + 2 * df))
    return SplineInteractionFit(
        full=full,
        reduced=reduced,
        df=df,
        knots=knots,
        boundary_knots=boundary,
        chisq=chisq,
        p_lrt=p_lrt,
        p_wald=p_wald,
    )
