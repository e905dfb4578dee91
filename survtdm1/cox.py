"""Cox proportional-hazards fits: Efron and Breslow ties, strata, tests.

This is the estimation engine behind every hazard ratio survtdm1 reports. It
is written for the models a subgroup battery fits again and again (treatment
plus a few covariates), so it needs no general optimiser: rows are sorted by
(stratum, time) once, risk-set sums come from reverse cumulative sums, tied
event times are handled per event (Efron's correction is a per-event fraction
of the tied group's sum), and Newton-Raphson runs on arrays.

A :class:`SortedSurvival` holds the sorted rows; a subgroup or a STEPP window
is a boolean mask over those rows, so the sort is reused across fits.

The numbers match R survival 3.x:

    coxph(Surv(time, status) ~ x + strata(s), ties = "efron")   # cox_fit
    cox.zph(fit, transform = "km")                              # cox_zph
    anova(fit0, fit1)                                           # lr_test
    residuals(fit, "score"), coxph(..., cluster = id)$var       # score_residuals,
                                                                #   robust_variance
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import _special as special
from . import cox_cells, newton
from ._checks import TIES
from .cox_cells import (
    CellProblem,
    CellTable,
    CompiledProblem,
    TimeBlocks,
    cell_table,
)
from .km import KMCurve, kaplan_meier


@dataclass(frozen=True)
class SortedSurvival:
    """Survival data sorted by stratum, then time (ascending).

    Attributes
    ----------
    time, event, stratum : ndarray
        Sorted copies; ``stratum`` holds integer codes (all 0 when unstratified).
    order : ndarray
        ``order[k]`` is the original row of sorted row ``k``.
    """

    time: np.ndarray
    event: np.ndarray
    stratum: np.ndarray
    order: np.ndarray

    @classmethod
    def from_arrays(cls, time, event, strata=None) -> SortedSurvival:
        """Sort once; ``strata`` is any array of stratum labels or None."""
        time = np.asarray(time, dtype=float)
        event = np.asarray(event).astype(bool)
        if strata is None:
            stratum = np.zeros(time.shape[0], dtype=np.int64)
        else:
            _, stratum = np.unique(np.asarray(strata), return_inverse=True)
            stratum = stratum.astype(np.int64)
        if strata is None:
            # the default (unstable) sort: tied times are pooled by every fit, so the
            # order within a tie does not matter, and it is several times faster
            order = np.argsort(time)
        else:
            order = np.lexsort((time, stratum))
        return cls(time[order], event[order], stratum[order], order)

    @cached_property
    def risk_sets(self) -> _RiskSets:
        """Blocks of tied times and tied event groups; computed once per row set."""
        return _RiskSets.build(self.time, self.event, self.stratum)

    def sort_rows(self, values) -> np.ndarray:
        """Put per-row values (original order) into the sorted order."""
        return np.asarray(values)[self.order]

    def subset(self, mask: np.ndarray) -> SortedSurvival:
        """Rows where ``mask`` (in sorted order) is true; still sorted."""
        return SortedSurvival(
            self.time[mask], self.event[mask], self.stratum[mask], self.order[mask]
        )


@dataclass(frozen=True)
class CoxFit:
    """A fitted Cox model (frozen).

    Attributes
    ----------
    coef : ndarray
        Log hazard ratios, one per covariate column.
    var : ndarray
        Inverse observed information at ``coef`` (model-based variance).
    loglik : float
        Log partial likelihood at ``coef``.
    loglik_null : float
        Log partial likelihood at ``coef = 0``.
    n, n_events : int
    iterations : int
    converged : bool
        False when Newton-Raphson did not settle or a coefficient diverged
        (monotone likelihood: |coef| > 10 or a singular information matrix).
    """

    coef: np.ndarray
    var: np.ndarray
    loglik: float
    loglik_null: float
    n: int
    n_events: int
    iterations: int
    converged: bool

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(self.var.diagonal())

    def wald_p(self) -> np.ndarray:
        """Two-sided Wald p-values, as ``summary(coxph)``."""
        # special.ndtr(-z) is what stats.norm.sf(z) computes, without its overhead
        return 2.0 * special.ndtr(-np.abs(self.coef / self.se))

    def hazard_ratio(self, index: int = 0, conf_level: float = 0.95) -> tuple[float, float, float]:
        """HR with its Wald CI for one coefficient."""
        z = special.ndtri(0.5 + conf_level / 2.0)  # = stats.norm.ppf
        coef, se = self.coef[index], self.se[index]
        return float(np.exp(coef)), float(np.exp(coef - z * se)), float(np.exp(coef + z * se))


@dataclass(frozen=True)
class _RiskSets:
    """Risk sets and tied event groups of sorted rows (built once per row set).

    A *block* is a run of rows sharing stratum and time; the risk set of an
    event in block ``b`` is every row from ``b``'s first row to the end of its
    stratum. A *group* is the events of one block (a tied group for Efron).

    Attributes
    ----------
    block_first : ndarray
        First sorted row of each block.
    strata_blocks : tuple of (int, int)
        First block and one past the last block of each stratum.
    events : ndarray
        Sorted row of each event.
    group_block, group_first : ndarray
        Per tied group: its block, and the position of its first event in ``events``.
    event_group : ndarray
        Per event: its group.
    efron_frac : ndarray
        Per event: ``l / d`` for the ``l``-th of ``d`` tied events (Efron's share
        of the tied group's risk that is removed from the event's risk set).
    """

    block_first: np.ndarray
    strata_blocks: tuple[tuple[int, int], ...]
    events: np.ndarray
    group_block: np.ndarray
    group_first: np.ndarray
    event_group: np.ndarray
    efron_frac: np.ndarray

    @classmethod
    def build(cls, time: np.ndarray, event: np.ndarray, stratum: np.ndarray) -> _RiskSets:
        n = time.shape[0]
        new_block = np.ones(n, dtype=bool)
        new_block[1:] = (time[1:] != time[:-1]) | (stratum[1:] != stratum[:-1])
        block_first = np.flatnonzero(new_block)
        block_id = np.cumsum(new_block) - 1
        block_stratum = stratum[block_first]
        stratum_first = np.flatnonzero(np.diff(block_stratum, prepend=-1) != 0)
        stops = np.append(stratum_first[1:], block_first.shape[0])
        events = np.flatnonzero(event)
        event_block = block_id[events]
        new_group = np.ones(events.shape[0], dtype=bool)
        new_group[1:] = event_block[1:] != event_block[:-1]
        group_first = np.flatnonzero(new_group)
        event_group = np.cumsum(new_group) - 1
        size = np.diff(np.append(group_first, events.shape[0]))
        rank = np.arange(events.shape[0]) - group_first[event_group]
        return cls(
            block_first=block_first,
            strata_blocks=tuple(zip(stratum_first.tolist(), stops.tolist(), strict=True)),
            events=events,
            group_block=event_block[group_first],
            group_first=group_first,
            event_group=event_group,
            efron_frac=rank / size[event_group],
        )

    def tail_sums(self, block_sums: np.ndarray) -> np.ndarray:
        """Sum over each block's risk set (blocks at or after it, same stratum)."""
        if len(self.strata_blocks) == 1:
            return np.cumsum(block_sums[::-1], axis=0)[::-1]
        out = np.empty_like(block_sums)
        for first, stop in self.strata_blocks:
            out[first:stop] = np.cumsum(block_sums[first:stop][::-1], axis=0)[::-1]
        return out


class CoxProblem:
    """Log partial likelihood, score and information for one data set.

    Per evaluation the work on the rows is one pass: risk weights times the
    precomputed columns ``Z = [1, x, x x']``, summed per block of tied times,
    then a cumulative sum over the blocks gives every risk set's sums ``T``.
    The events of a tied group share ``T`` and their own sum ``F`` and differ
    only in Efron's fraction ``f``, so the event terms reduce to a few sums of
    ``1 / den`` and ``f / den`` per group (no per-event p x p arrays).
    """

    def __init__(self, data: SortedSurvival, X: np.ndarray, ties: str):
        if ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}, not {ties!r}")
        self.sets = sets = data.risk_sets
        self.X = X - X.mean(axis=0) if X.shape[0] else X
        self.p = p = X.shape[1]
        self.frac = sets.efron_frac if ties == "efron" else np.zeros(sets.events.shape[0])
        products = (self.X[:, :, None] * self.X[:, None, :]).reshape(-1, p * p)
        self.Z = np.concatenate([np.ones((X.shape[0], 1)), self.X, products], axis=1)
        self.Z_events = self.Z[sets.events]
        self.x_events = self.X[sets.events]

    @property
    def n_events(self) -> int:
        return self.sets.events.shape[0]

    def _risk_sums(self, beta: np.ndarray, columns: int | None = None):
        """``eta``, the shift, and per tied group ``T`` and ``F`` (times ``exp(-shift)``)."""
        sets = self.sets
        eta = self.X @ beta
        shift = float(eta.max())
        risk = np.exp(eta - shift)
        Z, Z_events = self.Z[:, :columns], self.Z_events[:, :columns]
        at_risk = sets.tail_sums(_segment_sums(risk[:, None] * Z, sets.block_first))
        tied = _segment_sums(risk[sets.events, None] * Z_events, sets.group_first)
        return eta, shift, at_risk[sets.group_block], tied

    def _loglik(self, eta, shift, T, F):
        """Log-likelihood and the per-event denominators ``T0 - f F0``."""
        group = self.sets.event_group
        den = T[group, 0] - self.frac * F[group, 0]
        if not np.all(den > 0):
            # risk weights underflowed (a diverging fit): not a valid point, so that
            # step halving backs off instead of taking -log(0) = +inf as a gain
            return -np.inf, den
        loglik = eta[self.sets.events].sum() - np.log(den).sum() - shift * self.n_events
        return float(loglik), den

    def loglik(self, beta: np.ndarray) -> float:
        """Log partial likelihood only."""
        if self.n_events == 0:
            return 0.0
        return self._loglik(*self._risk_sums(beta, columns=1))[0]

    def group_moments(self, beta: np.ndarray):
        """Log-likelihood and, per tied group, the sums over its events of the
        risk-set mean of x (``G x p``) and of the risk-set covariance of x
        (``G x p*p``), for Efron's (or Breslow's) risk sets.
        """
        p, first, frac = self.p, self.sets.group_first, self.frac
        eta, shift, T, F = self._risk_sums(beta)
        loglik, den = self._loglik(eta, shift, T, F)
        inv = 1.0 / den
        f_inv = frac * inv
        weights = np.column_stack([inv, f_inv, inv * inv, f_inv * inv, f_inv * f_inv])
        a, b, c, e, h = _segment_sums(weights, first).T[:, :, None]
        T1, F1, T2, F2 = T[:, 1 : 1 + p], F[:, 1 : 1 + p], T[:, 1 + p :], F[:, 1 + p :]
        mean_sum = a * T1 - b * F1
        # sum over the group's events of (T1 - f F1)(T1 - f F1)' / den^2
        outer_sum = _outer(T1, c * T1 - e * F1) + _outer(F1, h * F1 - e * T1)
        return loglik, mean_sum, a * T2 - b * F2 - outer_sum

    def evaluate(self, beta: np.ndarray):
        """Log-likelihood, score and information at ``beta``."""
        p = self.p
        if self.n_events == 0:
            return 0.0, np.zeros(p), np.zeros((p, p))
        # a diverging fit (monotone likelihood) can underflow exp(eta): the
        # non-finite values are handled by the callers, so numpy need not warn
        with np.errstate(all="ignore"):
            loglik, mean_sum, cov_sum = self.group_moments(beta)
            score = self.x_events.sum(axis=0) - mean_sum.sum(axis=0)
            return loglik, score, cov_sum.sum(axis=0).reshape(p, p)


def _segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of consecutive row segments beginning at ``starts`` (rows when all are 1 long)."""
    if starts.shape[0] == values.shape[0]:  # no ties: nothing to sum
        return values
    return np.add.reduceat(values, starts, axis=0)


def _outer(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise outer products, flattened: ``(G, p) x (G, p) -> (G, p*p)``."""
    return (u[:, :, None] * v[:, None, :]).reshape(u.shape[0], -1)


def cox_fit_sorted(
    data: SortedSurvival, X: np.ndarray, *, ties: str = "efron", init=None
) -> CoxFit:
    """Fit a Cox model on already sorted rows; ``X`` is in sorted order.

    Newton-Raphson with step halving from ``init`` (zeros), as R ``coxph``.
    Once a Newton step is below 1e-9 the iteration has converged
    quadratically: the step is taken without another evaluation (the
    coefficients are then exact to about the step squared, the variance to
    about the step; the log-likelihood is corrected to second order), so R
    and survtdm1 agree to well under 1e-6.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    problem = CoxProblem(data, X, ties)
    return newton_fit(problem, init, n=int(data.time.shape[0]), n_events=problem.n_events)


def newton_fit(problem, init=None, *, n: int, n_events: int, loglik_null=None) -> CoxFit:
    """The Newton-Raphson loop of :func:`cox_fit_sorted` on any problem.

    ``problem`` has ``p``, ``evaluate(beta) -> (loglik, score, info)`` and
    ``loglik(beta)``: a :class:`CoxProblem` on rows, or one on counts by cell
    (:mod:`survtdm1.cox_cells`), which then gives the same fit. ``loglik_null``
    may be given when known (the log-likelihood at zero does not depend on the
    design, only on the rows): it is then not evaluated again.
    """
    zero = np.zeros(problem.p)
    beta = zero if init is None else np.asarray(init, dtype=float).copy()
    loglik, score, info = problem.evaluate(beta)
    if loglik_null is None:  # known when another design was fitted to the same rows
        loglik_null = loglik if init is None else problem.loglik(zero)
    converged = False
    iterations = 0
    while iterations < newton.MAX_ITER:
        step = newton.newton_step(info, score)
        if not np.all(np.isfinite(step)):
            break
        iterations += 1
        if np.max(np.abs(step), initial=0.0) < newton.STEP_TOL:
            beta = beta + step
            loglik += 0.5 * float(score @ step)
            converged = True
            break
        moved = newton.halve(problem.evaluate, beta, step, loglik)
        if not moved.accepted:
            break  # no better point along the step (a diverging fit): stop where we are
        new_loglik = moved.values[0]
        change = abs(new_loglik - loglik)
        beta, (loglik, score, info) = moved.beta, moved.values
        if moved.halvings and change < newton.SETTLE_TOL * max(1.0, abs(loglik)):
            converged = True
            break
    var = newton.invert(info)
    return CoxFit(
        coef=beta,
        var=var,
        loglik=loglik,
        loglik_null=loglik_null,
        n=n,
        n_events=int(n_events),
        iterations=iterations,
        converged=converged and not newton.diverged(beta, var),
    )


def fit_cells(
    table: CellTable, design, *, ties: str = "efron", init=None, loglik_null=None
) -> CoxFit:
    """Fit ``log h = log h0 + design[cell] @ beta`` to the rows counted in ``table``.

    The same Newton-Raphson (:func:`survtdm1.cox.newton_fit`) and so the
    same :class:`~survtdm1.cox.CoxFit` as :func:`survtdm1.cox.cox_fit_sorted`
    on the rows with ``X = design[cell]``.

    Examples
    --------
    >>> import numpy as np
    >>> time = np.array([1.0, 2, 3, 4, 5, 6])
    >>> event = np.array([1, 1, 0, 1, 1, 0])
    >>> arm = np.array([0, 1, 0, 1, 0, 1])
    >>> from survtdm1.cox_cells import TimeBlocks, cell_table
    >>> table = cell_table(TimeBlocks.from_sorted(time), event, arm, 2)
    >>> round(float(fit_cells(table, [[0.0], [1.0]]).coef[0]), 4)
    -0.2739
    """
    if cox_cells.KERNEL is not None:
        fit = _fit_compiled(table, design, ties, init, loglik_null)
        if fit is not None:
            return fit
    problem = CellProblem(table, np.asarray(design, dtype=float), ties)
    return newton_fit(
        problem, init, n=problem.n, n_events=problem.n_events, loglik_null=loglik_null
    )


def _fit_compiled(table: CellTable, design, ties: str, init, loglik_null) -> CoxFit | None:
    """:func:`fit_cells` by the compiled kernel: :func:`newton_fit`'s loop and rules in C.
    None where it does not apply: no events, or a step that met an exactly singular
    information matrix (:func:`newton_fit` then takes least squares)."""
    problem = CompiledProblem(table, design, ties)
    if problem.n_events == 0:
        return None
    beta = np.zeros(problem.p) if init is None else np.array(init, dtype=float)
    iterations, converged, loglik, start, var = problem.newton(beta, newton.RULES)
    if iterations < 0:
        return None
    if loglik_null is None:  # known when another design was fitted to the same rows
        loglik_null = start if init is None else problem.loglik(np.zeros(problem.p))
    return CoxFit(
        coef=beta,
        var=var,
        loglik=loglik,
        loglik_null=loglik_null,
        n=problem.n,
        n_events=problem.n_events,
        iterations=iterations,
        converged=converged,  # and not diverged: the kernel tells
    )


ARM_DESIGN = np.array([[0.0], [1.0]])  # the arm's cells (control, treatment)


def fit_arm_cells(tables: list[CellTable], *, ties: str = "efron") -> list[CoxFit]:
    """:func:`fit_cells` with the design ``[[0], [1]]`` (the arm) on each of many tables."""
    return [fit_cells(table, ARM_DESIGN, ties=ties) for table in tables]


def fit_arm_levels(table: CellTable, levels: list[int], *, ties: str = "efron") -> list[CoxFit]:
    """:func:`fit_arm_cells` of the cells ``2k`` (control) and ``2k + 1`` (treated) of
    ``table``, for each level ``k`` of ``levels`` (each with events).

    The compiled kernel fits them all in one call; a level it leaves (a singular
    step, or tied groups large enough for Efron's series) is fitted alone.
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, not {ties!r}")
    if cox_cells.KERNEL is None or not levels:
        return fit_arm_cells([table.select([2 * k, 2 * k + 1]) for k in levels], ties=ties)
    at_risk, events = table.at_risk(), table.events
    m = len(levels)
    coef, var, loglik, start = (np.empty(m) for _ in range(4))
    iterations, converged = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    cox_cells.KERNEL.fit_arms(
        np.ascontiguousarray(at_risk, dtype=np.int64),
        np.ascontiguousarray(events, dtype=np.int64),
        events.shape[0],
        events.shape[1] // 2,
        np.asarray(levels, dtype=np.int64),
        ties == "efron",
        cox_cells.SERIES_MIN_TIES,
        coef,
        var,
        loglik,
        start,
        iterations,
        converged,
        *newton.RULES,
    )
    first, died = table.totals
    fits = []
    for i, k in enumerate(levels):
        if iterations[i] < 0:
            fits.append(fit_cells(table.select([2 * k, 2 * k + 1]), ARM_DESIGN, ties=ties))
            continue
        beta, variance = coef[i : i + 1], var[i : i + 1].reshape(1, 1)
        fits.append(
            CoxFit(
                coef=beta,
                var=variance,
                loglik=float(loglik[i]),
                loglik_null=float(start[i]),
                n=int(first[2 * k] + first[2 * k + 1]),
                n_events=int(died[2 * k] + died[2 * k + 1]),
                iterations=int(iterations[i]),
                converged=bool(converged[i]),  # and not diverged: the kernel tells
            )
        )
    return fits


def _binary_fit(time, event, x: np.ndarray, ties: str) -> CoxFit | None:
    """:func:`cox_fit` of one 0/1 covariate from counts by arm and distinct time.

    With many ties, no sort of the rows: the distinct times are found by
    hashing (their ranks give each row's block); with few ties (judged on a
    sample) or few rows, the rows are sorted. The fit then costs a few
    operations per distinct time. None when a time is not finite (the row
    path then fits, and reports it).
    """
    time = np.asarray(time, dtype=float)
    n = time.shape[0]
    if n == 0 or not np.all(np.isfinite(time)):
        return None
    sample = time[:: max(1, n // 4096)]
    few_ties = n >= 50_000 and np.unique(sample).shape[0] > sample.shape[0] // 2
    if n < 50_000 or few_ties:  # sort the rows (what np.unique does, with less around it)
        order = np.argsort(time)
        ordered = time[order]
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        block = np.empty(n, dtype=np.int64)
        block[order] = np.cumsum(new) - 1
        distinct = ordered[new]
    else:  # hash, then sort only the distinct times
        import pandas as pd

        block, distinct = pd.factorize(time)
        order = np.argsort(distinct)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        block, distinct = rank[block], distinct[order]
    event = np.asarray(event).astype(bool)
    table = cell_table(TimeBlocks(distinct, block), event, x.astype(np.int64), 2)
    return fit_cells(table, np.array([[0.0], [1.0]]), ties=ties)


def cox_fit(time, event, X, *, strata=None, ties: str = "efron") -> CoxFit:
    """Fit a Cox proportional-hazards model.

    Parameters
    ----------
    time, event : array_like
        Follow-up time and event indicator (1 = event, 0 = censored).
    X : array_like, shape (n,) or (n, p)
        Covariates (e.g. a 0/1 treatment indicator).
    strata : array_like, optional
        Stratum labels: a separate baseline hazard per stratum.
    ties : {"efron", "breslow"}

    Returns
    -------
    CoxFit

    Equivalent R: ``coxph(Surv(time, event) ~ X + strata(strata), ties = ties)``.

    Examples
    --------
    >>> fit = cox_fit([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 0], [0, 1, 0, 1, 0, 1])
    >>> round(float(fit.coef[0]), 4)
    -0.2739
    """
    X = np.asarray(X, dtype=float)
    column = X if X.ndim == 1 else X[:, 0] if X.ndim == 2 and X.shape[1] == 1 else None
    if strata is None and column is not None and np.all((column == 0.0) | (column == 1.0)):
        if ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}, not {ties!r}")
        fit = _binary_fit(time, event, column, ties)
        if fit is not None:
            return fit
    data = SortedSurvival.from_arrays(time, event, strata)
    return cox_fit_sorted(data, data.sort_rows(X), ties=ties)


def lr_test(reduced: CoxFit, full: CoxFit, df: int) -> tuple[float, float]:
    """Likelihood-ratio test between nested fits, as R ``anova(reduced, full)``."""
    chisq = max(2.0 * (full.loglik - reduced.loglik), 0.0)
    return chisq, float(special.chdtrc(df, chisq))  # = stats.chi2.sf


def wald_test(fit: CoxFit, index) -> tuple[float, float]:
    """Joint Wald test that the coefficients at ``index`` are zero."""
    index = np.atleast_1d(index)
    if index.size == 1:  # one coefficient: coef (coef / var), as the solve below gives it
        coef, var = float(fit.coef[index[0]]), float(fit.var[index[0], index[0]])
        if var == 0.0:  # singular, as numpy's solve finds it
            return float("nan"), float("nan")
        chisq = coef * (coef / var)
        return chisq, float(special.chdtrc(1, chisq))
    coef = fit.coef[index]
    var = fit.var[np.ix_(index, index)]
    try:
        chisq = float(coef @ np.linalg.solve(var, coef))
    except np.linalg.LinAlgError:
        return float("nan"), float("nan")
    return chisq, float(special.chdtrc(index.size, chisq))


def score_residuals(
    data: SortedSurvival, X: np.ndarray, beta: np.ndarray, *, ties: str = "efron"
) -> np.ndarray:
    """Score residuals per sorted row, as R ``residuals(fit, type = "score")``.

    Row ``i``'s residual is ``delta_i (x_i - xbar_i) - sum_e w_ie (x_i - xbar_e) / den_e``
    over the event terms ``e`` whose risk set holds ``i``: ``xbar_e`` and ``den_e`` are the
    event's risk-set mean and sum of risk weights, ``w_ie`` the row's risk weight (Efron:
    times ``1 - l/d`` for the ``l``-th of ``d`` tied events when ``i`` is one of them) and
    ``xbar_i`` the average of ``xbar_e`` over the row's tied group. The residuals sum to the
    score. ``X`` is in sorted order; returns an ``(n, p)`` array in sorted order.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    problem = CoxProblem(data, X, ties)
    sets, p, x = problem.sets, problem.p, problem.X
    n = x.shape[0]
    out = np.zeros((n, p))
    if problem.n_events == 0:
        return out
    beta = np.asarray(beta, dtype=float)
    eta, shift, T, F = problem._risk_sums(beta)
    group, frac = sets.event_group, problem.frac
    den = T[group, 0] - frac * F[group, 0]
    xbar = (T[group, 1 : 1 + p] - frac[:, None] * F[group, 1 : 1 + p]) / den[:, None]
    inv = 1.0 / den
    first = sets.group_first
    size = np.diff(np.append(first, sets.events.shape[0]))
    sums = _segment_sums(
        np.column_stack([inv, xbar * inv[:, None], frac * inv, xbar * (frac * inv)[:, None], xbar]),
        first,
    )
    hazard, hazard_x = sums[:, :1], sums[:, 1 : 1 + p]
    own, own_x = sums[:, 1 + p : 2 + p], sums[:, 2 + p : 2 + 2 * p]
    group_mean = sums[:, 2 + 2 * p :] / size[:, None]
    # cumulative hazard terms per block of tied times, forward in time within a stratum
    n_blocks = sets.block_first.shape[0]
    per_block = np.zeros((n_blocks, 1 + p))
    per_block[sets.group_block] = np.column_stack([hazard, hazard_x])
    cumulative = np.empty_like(per_block)
    for start, stop in sets.strata_blocks:
        cumulative[start:stop] = np.cumsum(per_block[start:stop], axis=0)
    block_of_row = np.repeat(np.arange(n_blocks), np.diff(np.append(sets.block_first, n)))
    risk = np.exp(eta - shift)[:, None]
    at_row = cumulative[block_of_row]
    out -= risk * (x * at_row[:, :1] - at_row[:, 1:])
    # an event row: its own (x - tied-group mean), and Efron's reduced weight in its group
    events = sets.events
    g = sets.event_group
    out[events] += x[events] - group_mean[g]
    out[events] += risk[events] * (x[events] * own[g] - own_x[g])
    return out


def robust_variance(
    data: SortedSurvival, X: np.ndarray, fit: CoxFit, cluster, *, ties: str = "efron"
) -> np.ndarray:
    """Robust (sandwich) variance, as R ``coxph(..., cluster = id)$var``.

    ``D`` holds the dfbeta residuals (score residuals times the model-based
    variance, R ``residuals(fit, "dfbeta")``) summed within each cluster;
    the variance is ``D' D``. ``X`` and ``cluster`` (any labels) are in sorted order.

    Examples
    --------
    >>> data = SortedSurvival.from_arrays([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 0])
    >>> X = data.sort_rows(np.array([0, 1, 0, 1, 0, 1.0]))[:, None]
    >>> fit = cox_fit_sorted(data, X)
    >>> robust_variance(data, X, fit, np.arange(6)).shape
    (1, 1)
    """
    residuals = score_residuals(data, X, fit.coef, ties=ties)
    dfbeta = residuals @ fit.var
    _, codes = np.unique(np.asarray(cluster), return_inverse=True)
    collapsed = np.zeros((codes.max(initial=-1) + 1, dfbeta.shape[1]))
    np.add.at(collapsed, codes, dfbeta)
    return collapsed.T @ collapsed


def cox_zph(
    data: SortedSurvival,
    X: np.ndarray,
    fit: CoxFit,
    *,
    ties: str = "efron",
    pooled: KMCurve | None = None,
) -> float:
    """Global proportional-hazards test, as R survival 3.x ``cox.zph(fit)``.

    The score test for adding ``X * g(t)`` to the model at the fitted
    coefficients, with ``g`` the left-continuous Kaplan-Meier transform
    ``1 - S(t-)`` of the pooled data, centred over the event times.
    ``X`` is in sorted order; ``pooled``, the Kaplan-Meier curve of all the
    rows if at hand (else computed). Returns the p-value of the global test.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    problem = CoxProblem(data, X, ties)
    sets, p = problem.sets, problem.p
    g = _km_transform(data.time, data.event, sets.events, pooled)
    g = g - g.mean()
    g_group = g[sets.group_first]  # g depends on time only: one value per tied group
    _, mean_sum, cov_sum = problem.group_moments(fit.coef)
    score_g = g @ problem.x_events - g_group @ mean_sum
    info = np.zeros((2 * p, 2 * p))
    info[:p, :p] = cov_sum.sum(axis=0).reshape(p, p)
    info[:p, p:] = (g_group @ cov_sum).reshape(p, p)
    info[p:, :p] = info[:p, p:].T
    info[p:, p:] = ((g_group**2) @ cov_sum).reshape(p, p)
    u = np.concatenate([np.zeros(p), score_g])
    try:
        chisq = float(u @ np.linalg.solve(info, u))
    except np.linalg.LinAlgError:
        # every event at one time (or the transformed times constant): no test of
        # a time trend exists, as R's cox.zph reports NA
        return float("nan")
    return float(special.chdtrc(p, chisq))


def _km_transform(
    time: np.ndarray, event: np.ndarray, rows: np.ndarray, curve: KMCurve | None = None
) -> np.ndarray:
    """``1 - S(t-)`` of the pooled Kaplan-Meier curve (``curve``, or that of ``time`` and
    ``event``) at the times of ``rows``."""
    if curve is None:
        curve = kaplan_meier(time, event)
    before = np.concatenate([[1.0], curve.surv])
    # count of distinct times strictly below each row's time
    return 1.0 - before[np.searchsorted(curve.time, time[rows], side="left")]
