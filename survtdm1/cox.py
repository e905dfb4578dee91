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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

TIES = ("efron", "breslow")
_MAX_ITER = 50
_TOL = 1e-10


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
        order = np.lexsort((time, stratum))
        return cls(time[order], event[order], stratum[order], order)

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
        return np.sqrt(np.diag(self.var))

    def wald_p(self) -> np.ndarray:
        """Two-sided Wald p-values, as ``summary(coxph)``."""
        return 2.0 * stats.norm.sf(np.abs(self.coef / self.se))

    def hazard_ratio(self, index: int = 0, conf_level: float = 0.95) -> tuple[float, float, float]:
        """HR with its Wald CI for one coefficient."""
        z = stats.norm.ppf(0.5 + conf_level / 2.0)
        coef, se = self.coef[index], self.se[index]
        return float(np.exp(coef)), float(np.exp(coef - z * se)), float(np.exp(coef + z * se))


def _tie_structure(data: SortedSurvival):
    """Per-event indices describing risk sets and tied groups.

    Returns ``events`` (sorted-row index of each event), ``start`` (first row
    of the event's tied group: the risk set is rows >= start in the same
    stratum), ``stop`` (one past the stratum's last row), ``group`` (tied
    group id of each event) and ``frac`` (Efron's l/d for the event).
    """
    time, stratum = data.time, data.stratum
    n = time.shape[0]
    new_block = np.empty(n, dtype=bool)
    if n:
        new_block[0] = True
        new_block[1:] = (time[1:] != time[:-1]) | (stratum[1:] != stratum[:-1])
    block_id = np.cumsum(new_block) - 1
    block_first = np.flatnonzero(new_block)
    new_stratum = np.ones(n, dtype=bool)
    new_stratum[1:] = stratum[1:] != stratum[:-1]
    stratum_first = np.flatnonzero(new_stratum)
    stratum_stop = np.append(stratum_first[1:], n)
    stratum_id = np.cumsum(new_stratum) - 1

    events = np.flatnonzero(data.event)
    ev_block = block_id[events]
    start = block_first[ev_block]
    stop = stratum_stop[stratum_id[events]]
    # tied groups of events: consecutive events sharing a block
    new_group = np.ones(events.shape[0], dtype=bool)
    new_group[1:] = ev_block[1:] != ev_block[:-1]
    group = np.cumsum(new_group) - 1
    group_first = np.flatnonzero(new_group)
    size = np.diff(np.append(group_first, events.shape[0]))
    rank = np.arange(events.shape[0]) - group_first[group]
    frac = rank / size[group]
    return events, start, stop, group, frac, stratum_first, stratum_stop


class _CoxProblem:
    """Log partial likelihood, score and information for one data set."""

    def __init__(self, data: SortedSurvival, X: np.ndarray, ties: str):
        if ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}, not {ties!r}")
        self.X = X - X.mean(axis=0) if X.shape[0] else X
        (
            self.events,
            self.start,
            self.stop,
            self.group,
            frac,
            self.stratum_first,
            self.stratum_stop,
        ) = _tie_structure(data)
        self.frac = frac if ties == "efron" else np.zeros_like(frac)
        self.n_groups = int(self.group[-1]) + 1 if self.group.size else 0
        p = X.shape[1]
        self.XX = (self.X[:, :, None] * self.X[:, None, :]).reshape(-1, p * p)
        self.x_events = self.X[self.events].sum(axis=0)

    def _tail_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over rows >= start of each event's risk set."""
        if len(self.stratum_first) == 1:
            tail = np.cumsum(values[::-1], axis=0)[::-1]
            return tail[self.start]
        out = np.empty((self.events.shape[0],) + values.shape[1:])
        for first, stop in zip(self.stratum_first, self.stratum_stop, strict=True):
            tail = np.cumsum(values[first:stop][::-1], axis=0)[::-1]
            sel = (self.start >= first) & (self.start < stop)
            out[sel] = tail[self.start[sel] - first]
        return out

    def _group_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over each event's tied group, per event."""
        sums = np.zeros((self.n_groups,) + values.shape[1:])
        np.add.at(sums, self.group, values)
        return sums[self.group]

    def evaluate(self, beta: np.ndarray, derivatives: bool = True):
        """Log-likelihood, score and information at ``beta``."""
        eta = self.X @ beta
        shift = eta.max() if eta.size else 0.0
        risk = np.exp(eta - shift)
        frac = self.frac
        ev_risk = risk[self.events]
        den = self._tail_sums(risk) - frac * self._group_sums(ev_risk)
        loglik = float(eta[self.events].sum() - np.log(den).sum() - shift * den.shape[0])
        if not derivatives:
            return loglik, None, None
        p = self.X.shape[1]
        wx = risk[:, None] * self.X
        num1 = self._tail_sums(wx) - frac[:, None] * self._group_sums(wx[self.events])
        mean = num1 / den[:, None]
        score = self.x_events - mean.sum(axis=0)
        wxx = risk[:, None] * self.XX
        num2 = self._tail_sums(wxx) - frac[:, None] * self._group_sums(wxx[self.events])
        info = (num2 / den[:, None]).sum(axis=0).reshape(p, p) - mean.T @ mean
        return loglik, score, info


def cox_fit_sorted(
    data: SortedSurvival, X: np.ndarray, *, ties: str = "efron", init=None
) -> CoxFit:
    """Fit a Cox model on already sorted rows; ``X`` is in sorted order.

    Newton-Raphson with step halving from ``init`` (zeros), as R ``coxph``,
    iterated until the step is below 1e-10 (tighter than R's default, so that
    both agree to well under 1e-6).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    problem = _CoxProblem(data, X, ties)
    p = X.shape[1]
    beta = np.zeros(p) if init is None else np.asarray(init, dtype=float).copy()
    loglik_null = problem.evaluate(np.zeros(p), derivatives=False)[0]
    loglik, score, info = problem.evaluate(beta)
    converged = False
    iterations = 0
    while iterations < _MAX_ITER:
        iterations += 1
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, score, rcond=None)[0]
        if not np.all(np.isfinite(step)):
            break
        new_beta = beta + step
        new_loglik, new_score, new_info = problem.evaluate(new_beta)
        halvings = 0
        while (not np.isfinite(new_loglik) or new_loglik < loglik - 1e-12) and halvings < 30:
            step = step / 2.0
            new_beta = beta + step
            new_loglik, new_score, new_info = problem.evaluate(new_beta)
            halvings += 1
        beta, score, info = new_beta, new_score, new_info
        change = abs(new_loglik - loglik)
        loglik = new_loglik
        if np.max(np.abs(step)) < _TOL or (change < 1e-13 * max(1.0, abs(loglik)) and halvings):
            converged = True
            break
    var = _invert(info)
    diverged = (
        not np.all(np.isfinite(var)) or np.any(np.abs(beta) > 10) or np.any(np.diag(var) <= 0)
    )
    return CoxFit(
        coef=beta,
        var=var,
        loglik=loglik,
        loglik_null=loglik_null,
        n=int(data.time.shape[0]),
        n_events=int(data.event.sum()),
        iterations=iterations,
        converged=converged and not diverged,
    )


def _invert(info: np.ndarray) -> np.ndarray:
    try:
        var = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)
    if np.linalg.cond(info) > 1e12:
        return np.full_like(info, np.nan)
    return var


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
    -0.1658
    """
    data = SortedSurvival.from_arrays(time, event, strata)
    X = np.asarray(X, dtype=float)
    return cox_fit_sorted(data, data.sort_rows(X), ties=ties)


def lr_test(reduced: CoxFit, full: CoxFit, df: int) -> tuple[float, float]:
    """Likelihood-ratio test between nested fits, as R ``anova(reduced, full)``."""
    chisq = max(2.0 * (full.loglik - reduced.loglik), 0.0)
    return chisq, float(stats.chi2.sf(chisq, df))


def wald_test(fit: CoxFit, index) -> tuple[float, float]:
    """Joint Wald test that the coefficients at ``index`` are zero."""
    index = np.atleast_1d(index)
    coef = fit.coef[index]
    var = fit.var[np.ix_(index, index)]
    try:
        chisq = float(coef @ np.linalg.solve(var, coef))
    except np.linalg.LinAlgError:
        return float("nan"), float("nan")
    return chisq, float(stats.chi2.sf(chisq, index.size))


def cox_zph(data: SortedSurvival, X: np.ndarray, fit: CoxFit, *, ties: str = "efron") -> float:
    """Global proportional-hazards test, as R survival 3.x ``cox.zph(fit)``.

    The score test for adding ``X * g(t)`` to the model at the fitted
    coefficients, with ``g`` the left-continuous Kaplan-Meier transform
    ``1 - S(t-)`` of the pooled data, centred over the event times.
    ``X`` is in sorted order. Returns the p-value of the global test.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    g = _km_transform(data.time, data.event)
    g = g - g[data.event].mean()
    problem = _CoxProblem(data, X, ties)
    eta = problem.X @ fit.coef
    risk = np.exp(eta - eta.max())
    frac = problem.frac
    ev = problem.events
    g_ev = g[ev]
    den = problem._tail_sums(risk) - frac * problem._group_sums(risk[ev])
    wx = risk[:, None] * problem.X
    mean = (problem._tail_sums(wx) - frac[:, None] * problem._group_sums(wx[ev])) / den[:, None]
    score_g = (g_ev[:, None] * (problem.X[ev] - mean)).sum(axis=0)
    p = X.shape[1]
    wxx = risk[:, None] * problem.XX
    num2 = problem._tail_sums(wxx) - frac[:, None] * problem._group_sums(wxx[ev])
    per_event = (num2 / den[:, None]).reshape(-1, p, p) - mean[:, :, None] * mean[:, None, :]
    info = np.zeros((2 * p, 2 * p))
    info[:p, :p] = per_event.sum(axis=0)
    info[:p, p:] = (g_ev[:, None, None] * per_event).sum(axis=0)
    info[p:, :p] = info[:p, p:].T
    info[p:, p:] = (g_ev[:, None, None] ** 2 * per_event).sum(axis=0)
    u = np.concatenate([np.zeros(p), score_g])
    chisq = float(u @ np.linalg.solve(info, u))
    return float(stats.chi2.sf(chisq, p))


def _km_transform(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """``1 - S(t-)`` of the pooled Kaplan-Meier curve at each row's time."""
    order = np.argsort(time, kind="stable")
    t_sorted = time[order]
    e_sorted = event[order]
    uniq, first = np.unique(t_sorted, return_index=True)
    n = t_sorted.shape[0]
    at_risk = n - first
    deaths = np.add.reduceat(e_sorted.astype(float), first)
    surv = np.cumprod(1.0 - deaths / at_risk)
    before = np.concatenate([[1.0], surv])
    idx = np.searchsorted(uniq, time, side="left")  # count of times strictly below
    return 1.0 - before[idx]
