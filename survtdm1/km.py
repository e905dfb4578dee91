"""Kaplan-Meier curves, medians, landmark rates, RMST, at-risk counts, log-rank.

Every function works on plain arrays and reproduces R survival 3.x:

    survfit(Surv(time, event) ~ 1, conf.type = "log-log")   # kaplan_meier
    summary(fit, times = t)                                  # survival_at
    quantile(fit, 0.5)                                       # median_survival
    print(fit, rmean = tau)                                  # restricted_mean
    survdiff(Surv(time, event) ~ group + strata(s))          # logrank_test
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _special as special
from . import cox_cells
from ._checks import CONF_TYPES

_TOLERANCE = np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class KMCurve:
    """A Kaplan-Meier curve at every distinct observed time (events and censorings).

    Attributes
    ----------
    time : ndarray
        Distinct times, ascending.
    n_risk, n_event, n_censor : ndarray
        Patients at risk (time >= t), events and censorings at each time.
    surv : ndarray
        Survival estimate S(t).
    std_err : ndarray
        Greenwood standard error of S(t) on the survival scale (as
        ``summary(survfit)$std.err``).
    lower, upper : ndarray
        Pointwise confidence limits (NaN where undefined, as R's NA).
    conf_type : str
    conf_level : float
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    conf_type: str
    conf_level: float

    @property
    def n(self) -> int:
        return int(self.n_risk[0]) if self.n_risk.size else 0

    @property
    def events(self) -> int:
        return int(self.n_event.sum())


def kaplan_meier(time, event, *, conf_type: str = "log-log", conf_level: float = 0.95) -> KMCurve:
    """Kaplan-Meier estimate with pointwise confidence limits.

    Equivalent R: ``survfit(Surv(time, event) ~ 1, conf.type = conf_type)``.

    Examples
    --------
    >>> curve = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    >>> [round(float(s), 3) for s in curve.surv]
    [0.8, 0.6, 0.3, 0.3]
    """
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")
    t_sorted, e_sorted = _sorted_by_time(np.asarray(time, dtype=float), np.asarray(event))
    n = t_sorted.shape[0]
    if n == 0:
        empty = np.empty(0)
        return KMCurve(*(empty,) * 8, conf_type=conf_type, conf_level=conf_level)
    first = _distinct_starts(t_sorted)
    n_event = np.add.reduceat(e_sorted.astype(float), first)
    n_all = np.diff(np.append(first, n))
    return kaplan_meier_counts(
        t_sorted[first], n - first, n_event, n_all - n_event,
        conf_type=conf_type, conf_level=conf_level,
    )  # fmt: skip


def kaplan_meier_counts(
    time, n_risk, n_event, n_censor, *, conf_type: str = "log-log", conf_level: float = 0.95
) -> KMCurve:
    """:func:`kaplan_meier` from counts at each distinct time (ascending).

    ``n_risk`` is the number with time >= t, ``n_event`` and ``n_censor`` the
    events and censorings at t: e.g. the counts of a subgroup battery's
    cells (:class:`survtdm1.cox_cells.CellTable`), without the rows.
    """
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")
    uniq = np.asarray(time, dtype=float)
    n_risk = np.asarray(n_risk, dtype=float)
    n_event = np.asarray(n_event, dtype=float)
    n_censor = np.asarray(n_censor, dtype=float)
    values = _curve_values(n_risk, n_event, [uniq.size], conf_type, conf_level)
    return KMCurve(uniq, n_risk, n_event, n_censor, *values, conf_type, conf_level)


def kaplan_meier_columns(
    time, n_risk, n_event, n_rows, *, conf_type: str = "log-log", conf_level: float = 0.95
) -> list[KMCurve]:
    """:func:`kaplan_meier_counts` of every column of ``(B, C)`` counts at once.

    Column ``c``'s curve is at the times where it has rows (``n_rows[:, c] > 0``).
    The curves are laid end to end and computed with the arithmetic of
    :func:`kaplan_meier_counts` (products and sums curve by curve), so each
    equals its own curve bit for bit; the element-wise steps run once for all.
    """
    return _laid_columns(time, n_risk, n_event, n_rows, conf_type, conf_level)[0]


@dataclass(frozen=True)
class ColumnSummaries:
    """The curves of :func:`kaplan_meier_columns`, with the median of each (as
    :func:`median_estimates`) and S at the landmark (``survival_at(curve, landmark).surv``,
    NaN without a landmark)."""

    curves: list[KMCurve]
    medians: np.ndarray
    landmarks: np.ndarray


def kaplan_meier_column_summaries(
    time,
    n_risk,
    n_event,
    n_rows,
    *,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
    landmark: float | None = None,
) -> ColumnSummaries:
    """:func:`kaplan_meier_columns` with each curve's median and landmark survival."""
    curves, laid = _laid_columns(time, n_risk, n_event, n_rows, conf_type, conf_level)
    if laid is not None:  # the compiled kernel reads them off the curves laid end to end
        times, surv, ends = laid
        medians, landmarks = np.empty(len(curves)), np.empty(len(curves))
        at = np.nan if landmark is None else float(landmark)
        cox_cells.KERNEL.km_summaries(times, surv, ends, 0.5, _TOLERANCE, at, medians, landmarks)
        return ColumnSummaries(curves, medians, landmarks)
    landmarks = np.full(len(curves), np.nan)
    if landmark is not None:
        landmarks[:] = [survival_at(curve, landmark).surv for curve in curves]
    return ColumnSummaries(curves, median_estimates(curves), landmarks)


def _laid_columns(time, n_risk, n_event, n_rows, conf_type: str, conf_level: float):
    """The curves of :func:`kaplan_meier_columns`, and (by the compiled kernel) their times,
    survival and ends laid end to end, else None."""
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")
    n_rows = np.asarray(n_rows)
    laid = None
    if cox_cells.KERNEL is not None and n_rows.ndim == 2 and n_rows.shape[1]:
        columns, ends = _compiled_columns(time, n_risk, n_event, n_rows, conf_type, conf_level)
        laid = (columns[0], columns[4], ends)
        ends = ends.tolist()
    else:
        # curve by curve (column-major), each curve's times in order
        at = np.flatnonzero(n_rows.T.ravel() > 0)
        times = np.broadcast_to(np.asarray(time, dtype=float), n_rows.T.shape).ravel()[at]
        risk = np.asarray(n_risk).T.ravel()[at].astype(float)
        died = np.asarray(n_event).T.ravel()[at].astype(float)
        censored = n_rows.T.ravel()[at] - died
        ends = np.cumsum((n_rows > 0).sum(axis=0)).tolist()
        values = _curve_values(risk, died, ends, conf_type, conf_level)
        columns = (times, risk, died, censored, *values)
    curves, start = [], 0
    for end in ends:
        part = [values[start:end] for values in columns]
        curves.append(KMCurve(*part, conf_type=conf_type, conf_level=conf_level))
        start = end
    return curves, laid


_KERNEL_CONF_TYPES = {"plain": 0, "log": 1, "log-log": 2}  # as survtdm1/_cellfit.c codes them


def _compiled_columns(time, n_risk, n_event, n_rows, conf_type: str, conf_level: float):
    """The columns of :func:`kaplan_meier_columns` laid end to end, and where each curve
    ends, by the compiled kernel: the arithmetic of :func:`_curve_values` (products and
    sums in the same order) and of :func:`_confidence_limits`, whose logs and
    exponentials are taken only where a curve changes (at its events)."""
    B, C = n_rows.shape
    out = np.empty((8, B * C))
    ends = np.empty(C, dtype=np.int64)
    z = float(special.ndtri(0.5 + conf_level / 2.0))  # = stats.norm.ppf
    total = cox_cells.KERNEL.km_columns(
        np.ascontiguousarray(time, dtype=float),
        np.ascontiguousarray(n_risk, dtype=np.int64),
        np.ascontiguousarray(n_event, dtype=np.int64),
        np.ascontiguousarray(n_rows, dtype=np.int64),
        B,
        C,
        _KERNEL_CONF_TYPES[conf_type],
        z,
        *out,
        ends,
    )
    return tuple(out[:, :total]), ends


def _curve_values(risk, died, ends, conf_type: str, conf_level: float):
    """Survival, its standard error and limits of curves laid end to end (each ending
    at one of ``ends``): products and sums curve by curve, the rest element-wise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = 1.0 - died / risk
        increments = np.where(
            risk > died, died / (risk * (risk - died)), np.where(died > 0, np.inf, 0)
        )
    surv, variance = np.empty_like(factor), np.empty_like(factor)
    start = 0
    for end in ends:
        np.cumprod(factor[start:end], out=surv[start:end])
        np.cumsum(increments[start:end], out=variance[start:end])
        start = end
    se_log = np.sqrt(variance)
    with np.errstate(invalid="ignore"):
        std_err = np.where(surv > 0, surv * se_log, np.nan)
    return (surv, std_err, *_confidence_limits(surv, se_log, conf_type, conf_level))


def _is_sorted(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


def _sorted_by_time(time: np.ndarray, *others: np.ndarray):
    """``time`` and ``others`` in ascending (stable) time order; no sort when already so.

    Rows taken from a :class:`~survtdm1.cox.SortedSurvival` (a subgroup, an arm)
    are sorted already, and checking costs one pass instead of a sort.
    """
    if _is_sorted(time):
        return (time, *others)
    order = np.argsort(time, kind="stable")
    return (time[order], *(values[order] for values in others))


def _distinct_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Index of the first of each run of equal values (``np.unique``'s return_index)."""
    starts = np.ones(sorted_values.shape[0], dtype=bool)
    starts[1:] = sorted_values[1:] != sorted_values[:-1]
    return np.flatnonzero(starts)


def _confidence_limits(surv, se_log, conf_type, conf_level):
    """Pointwise limits from the SE of log S, as R's ``survfit_confint``."""
    z = special.ndtri(0.5 + conf_level / 2.0)  # = stats.norm.ppf
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se_log * surv
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            s = np.where(surv > 0, surv, np.nan)
            return s * np.exp(-z * se_log), np.minimum(s * np.exp(z * se_log), 1.0)
        log_s = np.log(np.where((surv > 0) & (surv < 1), surv, np.nan))
        loglog = np.log(-log_s)
        half = z * se_log / log_s
        return np.exp(-np.exp(loglog - half)), np.exp(-np.exp(loglog + half))


@dataclass(frozen=True)
class PointEstimate:
    """S(t) at one time with its standard error and confidence limits."""

    time: float
    surv: float
    std_err: float
    lower: float
    upper: float
    n_risk: float


def survival_at(curve: KMCurve, t: float) -> PointEstimate:
    """Survival at time ``t``, as ``summary(survfit, times = t)``.

    Before the first time S = 1 with SE 0 and limits 1; after
    the last observed time the estimate is NaN (R drops such times).
    """
    nan = float("nan")
    if curve.time.size == 0 or t > curve.time[-1]:
        return PointEstimate(t, nan, nan, nan, nan, 0.0)
    k = int(np.searchsorted(curve.time, t, side="right")) - 1
    risk = float(curve.n_risk[np.searchsorted(curve.time, t, side="left")])
    if k < 0:  # before the first observed time, as summary(survfit, times = t)
        return PointEstimate(t, 1.0, 0.0, 1.0, 1.0, risk)
    return PointEstimate(
        t,
        float(curve.surv[k]),
        float(curve.std_err[k]),
        float(curve.lower[k]),
        float(curve.upper[k]),
        risk,
    )


def _find_quantile(x: np.ndarray, y: np.ndarray, p: float) -> float:
    """Where the rising curve ``y`` (= 1 - S) crosses ``p``; midpoint on a flat."""
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return float("nan")
    x_max = x[-1]
    # as R's duplicated(): keep the first occurrence of each value (NaN included)
    coded = np.where(np.isnan(y), -1.0, y)
    if np.all(coded[1:] >= coded[:-1]):  # rising, as usual: repeated values are adjacent
        keep = np.flatnonzero(np.concatenate([[True], coded[1:] != coded[:-1]]))
    else:
        keep = np.sort(np.unique(coded, return_index=True)[1])
    x, y = x[keep], y[keep]
    valid = ~np.isnan(y)
    positions = np.flatnonzero(valid)
    reach = positions[y[valid] + _TOLERANCE >= p]
    below = positions[y[valid] - _TOLERANCE >= p]
    quant = float("nan")
    if reach.size and below.size:
        quant = (x[reach[0]] + x[below[0]]) / 2.0
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _TOLERANCE and reach.size:
        quant = (x[reach[0]] + x_max) / 2.0
    return float(quant)


def median_survival(curve: KMCurve, p: float = 0.5) -> tuple[float, float, float]:
    """Median (or another quantile) with its CI, as R ``quantile(survfit)``.

    The smallest time where the curve is at or below ``1 - p``; where the
    curve equals it exactly over an interval, the interval's midpoint. The
    limits come from the lower and upper confidence curves the same way.
    Each of the three is NaN on its own when not reached.
    """
    if curve.time.size == 0:
        nan = float("nan")
        return nan, nan, nan
    x = np.concatenate([[0.0], curve.time])
    Y = np.zeros((3, x.shape[0]))
    Y[:, 1:] = 1.0 - np.stack([curve.surv, curve.lower, curve.upper])
    # limits that are NaN where S = 1 (log-log) before the first event: as 0 they
    # keep the curve rising and, for p > 0, cross nothing that the NaN would have
    rising = np.where(np.isnan(Y), 0.0, Y) if p > 2 * _TOLERANCE else Y
    if np.all(np.isfinite(rising)) and np.all(rising[:, 1:] >= rising[:, :-1]):
        estimate, lower, upper = _rising_quantiles(x, rising, p)
        return float(estimate), float(lower), float(upper)
    estimate, lower, upper = (_find_quantile(x, y, p) for y in Y)
    return estimate, lower, upper


def _first_in_segments(hits: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """Per segment ``[start, end)``, the first index in ``hits`` (ascending) and whether
    there is one."""
    if hits.size == 0:
        return np.zeros(starts.shape[0], dtype=np.int64), np.zeros(starts.shape[0], bool)
    k = np.minimum(np.searchsorted(hits, starts), hits.size - 1)
    first = hits[k]
    return first, (first >= starts) & (first < ends)


def median_estimates(curves: list[KMCurve], p: float = 0.5) -> np.ndarray:
    """The estimate of :func:`median_survival` (``p`` quantile) of every curve, at once.

    ``1 - S`` always rises, so each is :func:`_segment_quantiles` of its curve
    (from the point (0, 0), as :func:`median_survival`), the curves laid end to
    end. NaN for a curve without times.
    """
    sizes = np.array([curve.time.shape[0] + 1 for curve in curves], dtype=np.int64)
    ends = np.cumsum(sizes)
    zero = np.zeros(1)
    x = np.concatenate([part for curve in curves for part in (zero, curve.time)])
    y = np.concatenate([part for curve in curves for part in (zero, 1.0 - curve.surv)])
    quant = _segment_quantiles(x, y, ends - sizes, ends, p)
    return np.where(sizes > 1, quant, np.nan)


def _rising_quantiles(x: np.ndarray, Y: np.ndarray, p: float) -> np.ndarray:
    """:func:`_find_quantile` of each row of ``Y``, all finite and rising (at ``x``)."""
    rows, m = Y.shape
    starts = np.arange(rows) * m
    return _segment_quantiles(np.tile(x, rows), Y.ravel(), starts, starts + m, p)


def _segment_quantiles(x, y, starts, ends, p: float) -> np.ndarray:
    """:func:`_find_quantile` of each segment ``[start, end)`` of ``y`` (finite, rising,
    not empty): the first occurrence of each value is then simply the first point past
    a threshold."""
    reach, found = _first_in_segments(np.flatnonzero(y + _TOLERANCE >= p), starts, ends)
    past, passed = _first_in_segments(np.flatnonzero(y - _TOLERANCE >= p), starts, ends)
    last = ends - 1
    quant = np.where(found & passed, (x[reach] + x[past]) / 2.0, np.nan)
    exact = found & (np.abs(p - y[last]) < _TOLERANCE)
    quant = np.where(exact, (x[reach] + x[last]) / 2.0, quant)
    return np.where(y[last] < p, np.nan, quant)


def restricted_mean(curve: KMCurve, tau: float) -> tuple[float, float]:
    """Restricted mean survival time up to ``tau`` and its SE.

    Equivalent R: ``print(survfit(...), rmean = tau)`` (``*rmean``,
    ``*se(rmean)``).
    """
    time, surv = curve.time, curve.surv
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard_var = np.where(
            curve.n_risk - curve.n_event == 0,
            0.0,
            curve.n_event / (curve.n_risk * (curve.n_risk - curve.n_event)),
        )
    keep = time <= tau
    if not keep.any():
        return float(tau), 0.0
    grid = np.append(time[keep], tau)
    level = np.append(surv[keep], surv[keep][-1])
    hazard_var = np.append(hazard_var[keep], 0.0)
    widths = np.diff(np.concatenate([[0.0], grid]))
    rectangles = widths * np.concatenate([[1.0], level[:-1]])
    area_after = np.cumsum(rectangles[1:][::-1])
    variance = float(np.sum(area_after**2 * hazard_var[::-1][1:]))
    return float(rectangles.sum()), float(np.sqrt(variance))


def difference_ci(
    estimate_a: float, se_a: float, estimate_b: float, se_b: float, conf_level: float = 0.95
) -> tuple[float, float, float]:
    """``a - b`` with the Wald CI from the two arms' independent standard errors.

    Used for the landmark-survival and RMST differences between arms.

    >>> tuple(round(v, 4) for v in difference_ci(0.8, 0.03, 0.7, 0.04))
    (0.1, 0.002, 0.198)
    """
    diff = float(estimate_a - estimate_b)
    half = float(special.ndtri(0.5 + conf_level / 2.0)) * float(np.sqrt(se_a**2 + se_b**2))
    return diff, diff - half, diff + half


def n_at_risk(time, times) -> np.ndarray:
    """Patients with follow-up time >= t, for each t in ``times`` (as R)."""
    (time,) = _sorted_by_time(np.asarray(time, dtype=float))
    times = np.asarray(times, dtype=float)
    return (time.shape[0] - np.searchsorted(time, times, side="left")).astype(int)


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test of two groups (``survdiff``).

    ``observed``/``expected`` are events in the group coded 1 (treatment).
    """

    chisq: float
    p_value: float
    observed: float
    expected: float
    variance: float


def logrank_test(time, event, group, strata=None) -> LogRankResult:
    """Two-sample log-rank test, stratified when ``strata`` is given.

    ``group`` is 0/1. Equivalent R:
    ``survdiff(Surv(time, event) ~ group + strata(strata))``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(float)
    group = np.asarray(group).astype(float)
    if strata is None:
        codes = np.zeros(time.shape[0], dtype=np.int64)
        time, event, group = _sorted_by_time(time, event, group)
    else:
        _, codes = np.unique(np.asarray(strata), return_inverse=True)
        order = np.lexsort((time, codes))
        time, event, group, codes = time[order], event[order], group[order], codes[order]
    observed = expected = variance = 0.0
    bounds = np.flatnonzero(np.diff(codes)) + 1
    for t, e, g in zip(
        np.split(time, bounds), np.split(event, bounds), np.split(group, bounds), strict=True
    ):
        first = _distinct_starts(t)
        n = t.shape[0]
        risk = (n - first).astype(float)
        risk_1 = np.cumsum(g[::-1])[::-1][first]
        deaths = np.add.reduceat(e, first)
        deaths_1 = np.add.reduceat(e * g, first)
        o, ex, v = _logrank_sums(risk, risk_1, deaths, deaths_1)
        observed, expected, variance = observed + o, expected + ex, variance + v
    return _logrank_result(observed, expected, variance)


def logrank_counts(n_risk, n_event) -> LogRankResult:
    """:func:`logrank_test` (unstratified) from the numbers at risk and of events of
    group 0 and group 1 at each distinct time (``(B, 2)`` arrays, every distinct time
    of the rows): the same sums, from counts."""
    n_risk = np.asarray(n_risk, dtype=float)
    n_event = np.asarray(n_event, dtype=float)
    risk, deaths = n_risk[:, 0] + n_risk[:, 1], n_event[:, 0] + n_event[:, 1]
    return _logrank_result(*_logrank_sums(risk, n_risk[:, 1], deaths, n_event[:, 1]))


def _logrank_sums(risk, risk_1, deaths, deaths_1) -> tuple[float, float, float]:
    """Observed and expected events of group 1 and the variance, summed over the distinct
    times with ``risk`` at risk (``risk_1`` of group 1) and ``deaths`` (``deaths_1``)."""
    observed = deaths_1.sum()
    expected = np.sum(deaths * risk_1 / risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = deaths * (risk_1 / risk) * (1 - risk_1 / risk) * (risk - deaths) / (risk - 1)
    return observed, expected, np.nansum(np.where(risk > 1, v, 0.0))


def _logrank_result(observed, expected, variance) -> LogRankResult:
    if variance <= 0:
        return LogRankResult(float("nan"), float("nan"), observed, expected, variance)
    chisq = (observed - expected) ** 2 / variance
    p_value = float(special.chdtrc(1, chisq))  # = stats.chi2.sf
    return LogRankResult(float(chisq), p_value, observed, expected, variance)
