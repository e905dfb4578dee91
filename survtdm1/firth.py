"""Firth-penalised Cox and logistic regression for sparse subgroups.

When an arm of a subgroup level has no events (or, for a binary endpoint, no
or only responders) the ordinary likelihood is monotone: the maximum lies at
infinity and the Wald interval is useless. Firth's penalty, half the log
determinant of the information matrix (Jeffreys' prior), keeps the estimate
finite (Heinze & Schemper 2001, Biometrics 57:114-119; Heinze & Schemper 2002,
Statistics in Medicine 21:2409-2419).

Both models maximise the penalised log-likelihood

    l*(b) = l(b) + 0.5 log|I(b)|

by Newton-Raphson with step halving on l*, using the modified score
``U*_j(b) = U_j(b) + 0.5 tr(I(b)^-1 dI(b)/db_j)`` and ``I(b)`` as the
approximate negative Hessian (as ``coxphf`` and ``logistf`` do). Inference is
likelihood based, as in those packages:

- profile penalised-likelihood confidence limits: the values ``v`` of
  coefficient ``j`` where ``2 (l*(b_hat) - max_{b: b_j = v} l*(b))`` equals the
  chi-squared(1) quantile, found by bracketing and root finding (the profile
  is re-maximised over the other coefficients at every trial ``v``);
- the penalised likelihood-ratio test of ``b_j = 0``: the same statistic at
  ``v = 0``, referred to chi-squared(1).

Equivalent R:

    coxphf::coxphf(Surv(time, event) ~ x, data, pl = TRUE)     # firth_cox
    logistf::logistf(y ~ x, data, pl = TRUE)                   # firth_logistic

The Cox model uses Breslow's handling of tied event times (as ``coxphf`` and
SAS ``PHREG ... / FIRTH``); its log partial likelihood, score and
information come from :class:`survtdm1.cox.CoxProblem`, the engine behind
every other Cox fit; only the third moments the penalty's derivative needs
are summed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _special as special
from . import newton
from .cox import CoxProblem, SortedSurvival

_MAX_STEP = 5.0  # cap on a Newton step per coefficient (coxphf's maxstep, in spirit)
_BRACKET_LIMIT = 60.0  # farthest a profile limit is searched from the estimate (log scale)

# (penalised log-likelihood, modified score, information) at a coefficient vector
Quantities = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class FirthFit:
    """A Firth-penalised fit with likelihood-based inference (frozen).

    Attributes
    ----------
    coef : ndarray
        Penalised estimates (log hazard ratios; for the logistic model the
        intercept first, then the columns of ``X``: log odds ratios).
    se : ndarray
        The Wald standard errors ``coxphf`` and ``logistf`` print (not used
        for the limits below): ``sqrt(diag(I(coef)^-1))`` for Cox; for the
        logistic model ``I`` is logistf's information of the augmented data,
        ``X' diag((1 + h) p (1 - p)) X``.
    lower, upper : ndarray
        Profile penalised-likelihood confidence limits of ``coef`` (log
        scale); ``-inf``/``inf`` when the profile does not fall to the
        critical value within 60 units of the estimate, NaN when a limit could
        not be computed.
    chisq, p_value : ndarray
        Penalised likelihood-ratio test of each coefficient = 0:
        ``2 (l*(coef) - max l* with that coefficient fixed at 0)``, chi-squared
        with 1 df (as ``coxphf``'s and ``logistf``'s ``prob``).
    loglik : float
        Penalised log-likelihood ``l*`` at ``coef``.
    loglik_null : float
        Penalised log-likelihood with every coefficient 0 (for the logistic
        model: every coefficient but the intercept 0, intercept re-fitted).
    n, n_events : int
        Rows and events (responders for the logistic model).
    iterations : int
    converged : bool
        False when Newton-Raphson did not settle or the information matrix is
        singular (then every number is NaN).
    conf_level : float
    """

    coef: np.ndarray
    se: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    chisq: np.ndarray
    p_value: np.ndarray
    loglik: float
    loglik_null: float
    n: int
    n_events: int
    iterations: int
    converged: bool
    conf_level: float

    def ratio(self, index: int = 0) -> tuple[float, float, float]:
        """``exp`` of coefficient ``index`` and of its profile limits.

        The hazard ratio for :func:`firth_cox`, the odds ratio for
        :func:`firth_logistic` (whose treatment term is ``index=1``, after the
        intercept).
        """
        return (
            float(np.exp(self.coef[index])),
            float(np.exp(self.lower[index])),
            float(np.exp(self.upper[index])),
        )


# ---------------------------------------------------------------------------
# the models: penalised log-likelihood, modified score and information


def _cox_quantities(data: SortedSurvival, X: np.ndarray) -> Quantities:
    """Penalised quantities of the Cox partial likelihood, Breslow ties.

    ``l``, ``U`` and ``I`` come from :class:`survtdm1.cox.CoxProblem`.
    ``dI/db_c`` is the sum over events of the third central moment of the
    covariates in the risk set, weighted by ``exp(x b)``:
    ``K3[a, b, c] = M3[abc] - M2[ab] m[c] - M2[ac] m[b] - M2[bc] m[a]
    + 2 m[a] m[b] m[c]`` with ``M2, M3`` the weighted raw moments and ``m``
    the weighted mean.
    """
    problem = CoxProblem(data, X, "breslow")
    risk_set_sums = _breslow_risk_set_sums(data)
    Xc = X - X.mean(axis=0)  # moments do not depend on the centre; centring keeps them exact
    p = Xc.shape[1]
    powers = np.concatenate(
        [
            np.ones((Xc.shape[0], 1)),
            Xc,
            (Xc[:, :, None] * Xc[:, None, :]).reshape(-1, p * p),
            (Xc[:, :, None, None] * Xc[:, None, :, None] * Xc[:, None, None, :]).reshape(
                -1, p * p * p
            ),
        ],
        axis=1,
    )

    def quantities(beta: np.ndarray):
        loglik, score, info = problem.evaluate(beta)
        penalty, info_inv = _logdet_and_inverse(info)
        if info_inv is None:
            return -math.inf, np.full(p, np.nan), info
        eta = Xc @ beta
        sums = risk_set_sums(np.exp(eta - eta.max())[:, None] * powers)
        sums = sums[:, 1:] / sums[:, :1]
        m1 = sums[:, :p]
        m2 = sums[:, p : p + p * p].reshape(-1, p, p)
        m3 = sums[:, p + p * p :].reshape(-1, p, p, p)
        k3 = (
            m3
            - np.einsum("eab,ec->eabc", m2, m1)
            - np.einsum("eac,eb->eabc", m2, m1)
            - np.einsum("ebc,ea->eabc", m2, m1)
            + 2.0 * np.einsum("ea,eb,ec->eabc", m1, m1, m1)
        ).sum(axis=0)
        modified = score + 0.5 * np.einsum("ab,bac->c", info_inv, k3)
        return loglik + 0.5 * penalty, modified, info

    return quantities


def _breslow_risk_set_sums(data: SortedSurvival) -> Callable[[np.ndarray], np.ndarray]:
    """A function summing per-row values over each event's risk set.

    The risk set of an event is every row of its stratum whose time is at
    least the event's time (Breslow: tied events share one risk set). Only the
    sorted ``time``, ``event`` and ``stratum`` of ``data`` are used.
    """
    time, stratum = data.time, data.stratum
    n = time.shape[0]
    new_block = np.ones(n, dtype=bool)
    new_block[1:] = (time[1:] != time[:-1]) | (stratum[1:] != stratum[:-1])
    block_first = np.maximum.accumulate(np.where(new_block, np.arange(n), 0))
    start = block_first[np.flatnonzero(data.event)]
    new_stratum = np.ones(n, dtype=bool)
    new_stratum[1:] = stratum[1:] != stratum[:-1]
    bounds = np.append(np.flatnonzero(new_stratum), n)

    def sums(values: np.ndarray) -> np.ndarray:
        tail = np.empty_like(values)
        for first, stop in zip(bounds[:-1], bounds[1:], strict=True):
            tail[first:stop] = np.cumsum(values[first:stop][::-1], axis=0)[::-1]
        return tail[start]

    return sums


def _logistic_quantities(y: np.ndarray, X: np.ndarray) -> Quantities:
    """Penalised quantities of the logistic likelihood (X holds the intercept).

    ``U* = X'(y - p + h (0.5 - p))`` with ``h`` the diagonal of the weighted hat
    matrix; the matrix returned is ``X' diag((1 + h) p (1 - p)) X``, the
    information of logistf's augmented data.
    """
    p = X.shape[1]

    def quantities(beta: np.ndarray):
        eta = X @ beta
        prob = special.expit(eta)
        weight = prob * (1.0 - prob)
        info = (X * weight[:, None]).T @ X
        penalty, info_inv = _logdet_and_inverse(info)
        if info_inv is None:
            return -math.inf, np.full(p, np.nan), info
        # log p = -log(1 + exp(-eta)), log(1 - p) = -log(1 + exp(eta)), stably
        loglik = float(-(y * np.logaddexp(0.0, -eta) + (1 - y) * np.logaddexp(0.0, eta)).sum())
        hat = np.einsum("ij,jk,ik->i", X, info_inv, X) * weight
        modified = X.T @ (y - prob + hat * (0.5 - prob))
        # logistf's information of the augmented data (weights 1 + h): its Newton
        # matrix and the source of its standard errors
        augmented = (X * (weight * (1.0 + hat))[:, None]).T @ X
        return loglik + 0.5 * penalty, modified, augmented

    return quantities


def _logdet_and_inverse(info: np.ndarray):
    if not np.all(np.isfinite(info)):
        return -math.inf, None
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0 or not np.isfinite(logdet) or np.linalg.cond(info) > 1e14:
        return -math.inf, None
    return float(logdet), np.linalg.inv(info)


# ---------------------------------------------------------------------------
# the engine: Newton on l*, profiles, limits and tests


@dataclass(frozen=True)
class _Maximum:
    beta: np.ndarray
    loglik: float
    info: np.ndarray
    iterations: int
    converged: bool


def _maximise(quantities: Quantities, beta0: np.ndarray, free: np.ndarray) -> _Maximum:
    """Maximise l* over the coordinates ``free`` (bool mask), the others fixed.

    Newton steps ``I_ff^-1 U*_f``, each capped at ``_MAX_STEP`` per
    coefficient and halved until l* does not decrease.
    """
    beta = beta0.astype(float).copy()
    loglik, score, info = quantities(beta)
    if not np.isfinite(loglik):
        return _Maximum(beta, loglik, info, 0, False)
    if not free.any():
        return _Maximum(beta, loglik, info, 0, True)
    for iteration in range(1, newton.MAX_ITER_PENALISED + 1):
        sub_info = info[np.ix_(free, free)]
        try:
            step = np.linalg.solve(sub_info, score[free])
        except np.linalg.LinAlgError:
            return _Maximum(beta, loglik, info, iteration, False)
        if not np.all(np.isfinite(step)):
            return _Maximum(beta, loglik, info, iteration, False)
        largest = np.max(np.abs(step))
        if largest < newton.STEP_TOL and np.max(np.abs(score[free])) < newton.SCORE_TOL:
            return _Maximum(beta, loglik, info, iteration, True)
        if largest > _MAX_STEP:
            step *= _MAX_STEP / largest
        full_step = np.zeros_like(beta)
        full_step[free] = step
        moved = newton.halve(
            quantities,
            beta,
            full_step,
            loglik,
            accept=lambda values, ll=loglik, u=score[free]: _ascends(
                ll, u, values[0], values[1][free]
            ),
        )
        if not moved.accepted:
            # no ascent along the Newton direction: at the maximum to machine precision
            converged = largest < 1e-6 and np.max(np.abs(score[free])) < 1e-5
            return _Maximum(beta, loglik, info, iteration, converged)
        beta, (loglik, score, info) = moved.beta, moved.values
    return _Maximum(beta, loglik, info, newton.MAX_ITER_PENALISED, False)


def _ascends(loglik, score, new_loglik, new_score) -> bool:
    """Accept a step that raises l*, or, where l* is flat to rounding, shrinks U*."""
    if not np.isfinite(new_loglik):
        return False
    if new_loglik > loglik + 1e-13 * max(1.0, abs(loglik)):
        return True
    flat = new_loglik >= loglik - 1e-13 * max(1.0, abs(loglik))
    return bool(flat and np.max(np.abs(new_score)) < np.max(np.abs(score)))


class _Profile:
    """max l* with coefficient ``index`` fixed at a value; warm-started."""

    def __init__(self, quantities: Quantities, fit: _Maximum, index: int):
        self.quantities = quantities
        self.index = index
        self.free = np.ones(fit.beta.shape[0], dtype=bool)
        self.free[index] = False
        self.start = fit.beta.copy()

    def __call__(self, value: float) -> float:
        beta = self.start.copy()
        beta[self.index] = value
        result = _maximise(self.quantities, beta, self.free)
        if not result.converged:
            return math.nan
        self.start = result.beta
        return result.loglik


def _profile_limit(profile: _Profile, estimate: float, target: float, direction: int, se: float):
    """The value on one side of ``estimate`` where the profile equals ``target``."""
    from scipy import optimize  # imported when used

    def gap(value: float) -> float:
        return profile(value) - target

    step = min(max(se if np.isfinite(se) else 1.0, 0.1), 5.0)
    inner, outer = estimate, estimate + direction * step
    while True:
        value = gap(outer)
        if math.isnan(value):
            return math.nan
        if value < 0:
            break
        if abs(outer - estimate) > _BRACKET_LIMIT:
            return direction * math.inf
        inner, step = outer, step * 2.0
        outer = estimate + direction * step
    profile.start[profile.index] = inner
    low, high = sorted((inner, outer))
    try:
        return float(optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-12, maxiter=200))
    except (ValueError, RuntimeError):
        return math.nan


def _penalised_fit(
    quantities: Quantities,
    p: int,
    *,
    conf_level: float,
    n: int,
    n_events: int,
    null_free: np.ndarray,
) -> FirthFit:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must lie between 0 and 1, not {conf_level!r}")
    nan = np.full(p, np.nan)
    fit = _maximise(quantities, np.zeros(p), np.ones(p, dtype=bool))
    failed = FirthFit(
        *(nan,) * 6, math.nan, math.nan, n, n_events, fit.iterations, False, conf_level
    )
    if not fit.converged:
        return failed
    _, info_inv = _logdet_and_inverse(fit.info)
    if info_inv is None:
        return failed
    se = np.sqrt(np.diag(info_inv))
    null = _maximise(quantities, np.zeros(p), null_free)
    critical = float(special.chdtri(1, 1.0 - conf_level))
    target = fit.loglik - critical / 2.0
    lower, upper, chisq = nan.copy(), nan.copy(), nan.copy()
    for j in range(p):
        profile = _Profile(quantities, fit, j)
        at_zero = profile(0.0)
        chisq[j] = max(2.0 * (fit.loglik - at_zero), 0.0) if np.isfinite(at_zero) else np.nan
        profile = _Profile(quantities, fit, j)
        lower[j] = _profile_limit(profile, fit.beta[j], target, -1, se[j])
        profile = _Profile(quantities, fit, j)
        upper[j] = _profile_limit(profile, fit.beta[j], target, +1, se[j])
    return FirthFit(
        coef=fit.beta,
        se=se,
        lower=lower,
        upper=upper,
        chisq=chisq,
        p_value=special.chdtrc(1, chisq),
        loglik=fit.loglik,
        loglik_null=null.loglik if null.converged else math.nan,
        n=n,
        n_events=n_events,
        iterations=fit.iterations,
        converged=True,
        conf_level=conf_level,
    )


# ---------------------------------------------------------------------------
# public functions


def firth_cox(data: SortedSurvival, X_sorted, *, conf_level: float = 0.95) -> FirthFit:
    """Firth-penalised Cox regression (Breslow ties) with profile-likelihood inference.

    Parameters
    ----------
    data : SortedSurvival
        Rows sorted by (stratum, time); strata, if any, get separate risk sets.
    X_sorted : array_like, shape (n,) or (n, p)
        Covariates in the sorted order of ``data`` (e.g. the 0/1 treatment
        indicator of a subgroup level).
    conf_level : float
        Level of the profile penalised-likelihood limits.

    Returns
    -------
    FirthFit
        ``coef`` are log hazard ratios; ``ratio(j)`` gives the HR and its
        limits; ``p_value`` is the penalised likelihood-ratio test. A data set
        without events, or whose covariates are constant, gives a fit with
        ``converged=False`` and NaN everywhere.

    Equivalent R: ``coxphf::coxphf(Surv(time, event) ~ X, pl = TRUE)``; SAS
    ``proc phreg; model time*event(0) = X / firth risklimits=pl ties=breslow``.

    Examples
    --------
    Heinze & Schemper (2001), section 2: two patients, the treated one fails
    first; the Firth estimate is ``exp(b) = 3``.

    >>> data = SortedSurvival.from_arrays([1.0, 2.0], [1, 0])
    >>> fit = firth_cox(data, data.sort_rows([1.0, 0.0]))
    >>> round(fit.ratio(0)[0], 6)
    3.0
    """
    X = np.asarray(X_sorted, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] != data.time.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows, the data {data.time.shape[0]}")
    p = X.shape[1]
    n_events = int(data.event.sum())
    quantities = (
        _cox_quantities(data, X) if n_events else (lambda b: (-math.inf, np.full(p, np.nan), None))
    )
    return _penalised_fit(
        quantities,
        p,
        conf_level=conf_level,
        n=int(data.time.shape[0]),
        n_events=n_events,
        null_free=np.zeros(p, dtype=bool),
    )


def firth_logistic(y, X, conf_level: float = 0.95) -> FirthFit:
    """Firth-penalised logistic regression with profile-likelihood inference.

    Parameters
    ----------
    y : array_like of 0/1, shape (n,)
    X : array_like, shape (n,) or (n, p)
        Covariates without the intercept (added as the first coefficient).
    conf_level : float

    Returns
    -------
    FirthFit
        ``coef[0]`` is the intercept, ``coef[1:]`` the log odds ratios of the
        columns of ``X``; ``ratio(1)`` gives the first column's odds ratio with
        its profile penalised-likelihood limits; ``p_value`` is the penalised
        likelihood-ratio test. ``loglik_null`` is the intercept-only penalised
        fit.

    Equivalent R: ``logistf::logistf(y ~ X, pl = TRUE)`` (its ``coefficients``,
    ``ci.lower``, ``ci.upper`` and ``prob``).

    Examples
    --------
    No responder among 10 controls, 4 of 10 treated respond:

    >>> fit = firth_logistic([0] * 10 + [1] * 4 + [0] * 6, [0] * 10 + [1] * 10)
    >>> round(fit.ratio(1)[0], 3), bool(fit.ratio(1)[1] > 1)
    (14.538, True)
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows, y {y.shape[0]}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must be coded 0/1")
    design = np.column_stack([np.ones(y.shape[0]), X])
    p = design.shape[1]
    null_free = np.zeros(p, dtype=bool)
    null_free[0] = True
    return _penalised_fit(
        _logistic_quantities(y, design),
        p,
        conf_level=conf_level,
        n=int(y.shape[0]),
        n_events=int(y.sum()),
        null_free=null_free,
    )
