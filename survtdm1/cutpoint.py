"""Maximally selected log-rank statistics: the cut of a continuous biomarker (floor 2).

:func:`maxstat_logrank` is R ``maxstat::maxstat.test(Surv(time, event) ~ x,
smethod = "LogRank", pmethod = "Lau92", minprop, maxprop)`` on arrays
(Hothorn & Lausen 2003; Lausen & Schumacher 1992):

1. log-rank scores of the survival times, as ``exactRankTests::cscores.Surv``:
   ``a_i = event_i - sum_{j: t_j <= t_i} event_j / (N - r_j + 1)`` with ``r_j``
   the largest rank among the times tied with ``t_j``;
2. for each candidate cut ``c`` (the distinct values of x whose count of
   values ``<= c``, m, lies in ``[max(1, floor(N minprop)), floor(N maxprop)]``),
   the linear rank statistic ``S_m`` = sum of the scores of the m patients with
   ``x <= c``, standardised with its exact conditional (permutation) mean
   ``E = m / N sum(a)`` and variance
   ``V = m (N - m) / (N^2 (N - 1)) (N sum(a^2) - sum(a)^2)``: ``|S_m - E| / sqrt(V)``;
3. the cut is the smallest value at which the standardised statistic is
   largest; its p-value, adjusted for the selection, is Lausen & Schumacher's
   (1992) approximation ``pLausen92``:
   ``p = 4 phi(b) / b + phi(b) (b - 1/b) log(maxprop (1 - minprop) / ((1 - maxprop) minprop))``
   (1 for ``b < 1``; clipped to [0, 1]).

Sums are accumulated in extended precision as R's ``sum`` and ``cumsum`` do,
so that exact ties between candidate statistics resolve as in R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .exceptions import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CutpointResult", "logrank_scores", "maxstat_logrank", "p_lausen92"]

METHOD = "maxstat-Lau92"


@dataclass(frozen=True)
class CutpointResult:
    """A cut chosen by maximally selected log-rank statistics (frozen).

    Attributes
    ----------
    cutpoint : float
        The chosen cut c (a value of the biomarker): levels ``x <= c`` and ``x > c``.
    statistic : float
        The maximum standardised log-rank statistic (R's ``statistic``, "M").
    p_value : float
        The selection-adjusted p-value of Lausen & Schumacher (1992), as R
        ``pmethod = "Lau92"``.
    table : DataFrame
        One row per candidate cut, in increasing order: ``cutpoint``,
        ``n_lower`` (patients with ``x <= cutpoint``), ``n_upper``,
        ``statistic`` (standardised, R's ``stats``) and ``selected``.
    n : int
        Patients used (biomarker known).
    n_missing : int
        Patients left out because the biomarker is missing.
    minprop, maxprop : float
    biomarker : str
        The biomarker's name, for figures and tables.
    method : str
        ``"maxstat-Lau92"``.
    """

    cutpoint: float
    statistic: float
    p_value: float
    table: pd.DataFrame = field(repr=False)
    n: int
    n_missing: int = 0
    minprop: float = 0.1
    maxprop: float = 0.9
    biomarker: str = "x"
    method: str = METHOD

    def summary(self) -> dict:
        """The keys of ``summary.json`` ``cutpoints``: cutpoint, statistic, p_value, method."""
        return {
            "cutpoint": self.cutpoint,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "method": self.method,
        }

    def _repr_html_(self) -> str:
        return (
            f"<p><b>Cut of <code>{self.biomarker}</code></b> by maximally selected log-rank "
            f"statistics: c = {self.cutpoint:g}, M = {self.statistic:.4g}, "
            f"p = {self.p_value:.4g} (Lau92; {self.n} patients)</p>"
        )

    def plot(self, ax=None, **kwargs) -> Figure:
        """The statistic against the cut; see :func:`survtdm1.plots.cutpoint.cutpoint_plot`."""
        from .plots.cutpoint import cutpoint_plot

        return cutpoint_plot(self, ax=ax, **kwargs)


def logrank_scores(time, event) -> np.ndarray:
    """Log-rank scores of right-censored times, as ``exactRankTests::cscores.Surv``.

    >>> logrank_scores(np.array([1.0, 2, 2, 3, 4, 4]), np.array([1, 1, 0, 1, 0, 1])).round(4)
    array([ 0.8333,  0.5833, -0.4167,  0.25  , -1.75  , -0.75  ])
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    n = time.shape[0]
    order = np.argsort(time, kind="stable")
    # the largest rank among tied times (exactRankTests' irank), 1-based
    rank_sorted = np.searchsorted(time[order], time[order], side="right")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_sorted
    fact = event / (n - rank + 1)
    cumulative = np.cumsum(fact[order].astype(np.longdouble)).astype(float)
    return event - cumulative[rank - 1]


def p_lausen92(statistic: float, minprop: float = 0.1, maxprop: float = 0.9) -> float:
    """Lausen & Schumacher's (1992) p-value of a maximally selected statistic (``pLausen92``).

    >>> round(p_lausen92(3.0), 6)
    0.057844
    """
    b = float(statistic)
    if not b >= 1:
        return 1.0
    density = math.exp(-0.5 * b * b) / math.sqrt(2 * math.pi)
    ratio = (maxprop * (1 - minprop)) / ((1 - maxprop) * minprop)
    p = 4 * density / b + density * (b - 1 / b) * math.log(ratio)
    return min(max(p, 0.0), 1.0)


def _candidates(x_sorted: np.ndarray, minprop: float, maxprop: float) -> np.ndarray:
    """Counts m of the values ``<=`` each candidate cut (maxstat's ``m``)."""
    n = x_sorted.shape[0]
    first = np.ones(n, dtype=bool)
    first[1:] = x_sorted[1:] != x_sorted[:-1]
    m = np.flatnonzero(first)  # values strictly below each distinct value
    low, high = math.floor(n * minprop), math.floor(n * maxprop)
    if minprop == 0 and maxprop == 1:
        return m[1:-1]
    return m[(m >= max(1, low)) & (m <= high)]


def maxstat_logrank(
    time,
    event,
    x,
    *,
    minprop: float = 0.1,
    maxprop: float = 0.9,
    biomarker: str = "x",
) -> CutpointResult:
    """The cut of ``x`` that maximises the standardised log-rank statistic.

    R: ``maxstat.test(Surv(time, event) ~ x, smethod = "LogRank", pmethod =
    "Lau92", minprop = minprop, maxprop = maxprop)``. Rows where ``x`` is NaN
    are left out (``n_missing``); see the module docstring for the formulas.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and event indicators (1 = event, 0 = censored).
    x : array-like of float
        The biomarker.
    minprop, maxprop : float
        The smallest and largest share of patients at or below a candidate cut
        (``0 <= minprop < maxprop <= 1``).
    biomarker : str
        Name carried into the result for tables and figures.

    Raises
    ------
    InputError
        No events, or no candidate cut between the ``minprop`` and ``maxprop``
        shares (too few distinct values).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.uniform(0, 10, 200)
    >>> time = rng.exponential(np.where(x > 6, 0.3, 1.0))
    >>> result = maxstat_logrank(time, np.ones(200), x)
    >>> 5 < result.cutpoint < 7, result.p_value < 0.001
    (True, True)
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    x = np.asarray(x, dtype=float)
    known = ~np.isnan(x)
    n_missing = int((~known).sum())
    time, event, x = time[known], event[known], x[known]
    n = x.shape[0]
    if n < 2 or event.sum() == 0:
        raise InputError(
            f"maxstat cut of {biomarker!r}: needs events among the patients with a known value "
            f"({n} patients, {int(event.sum())} events)"
        )
    scores = logrank_scores(time, event)
    order = np.argsort(x, kind="stable")
    y, x_sorted = scores[order], x[order]
    m = _candidates(x_sorted, minprop, maxprop)
    if m.size == 0:
        raise InputError(
            f"maxstat cut of {biomarker!r}: no cut leaves between {minprop:g} and {maxprop:g} "
            f"of the {n} patients at or below it (too few distinct values)"
        )
    total = float(np.sum(y.astype(np.longdouble)))
    squares = float(np.sum((y * y).astype(np.longdouble)))
    expected = m / n * total
    variance = m * (n - m) / (n**2 * (n - 1)) * (n * squares - total**2)
    partial = np.cumsum(y.astype(np.longdouble)).astype(float)[m - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        stats = np.abs((partial - expected) / np.sqrt(variance))
    best = int(np.flatnonzero(stats == np.nanmax(stats))[0])
    statistic = float(stats[best])
    table = pd.DataFrame(
        {
            "cutpoint": x_sorted[m - 1],
            "n_lower": m,
            "n_upper": n - m,
            "statistic": stats,
            "selected": np.arange(m.size) == best,
        }
    )
    return CutpointResult(
        cutpoint=float(x_sorted[m[best] - 1]),
        statistic=statistic,
        p_value=p_lausen92(statistic, minprop, maxprop),
        table=table,
        n=n,
        n_missing=n_missing,
        minprop=float(minprop),
        maxprop=float(maxprop),
        biomarker=biomarker,
    )
