"""Many small Cox fits at once: covariates that take a few distinct values.

STEPP windows, their permutations and simulated trials all fit Cox models
whose covariates are functions of a handful of *cells* (the arm, or arm x
biomarker status). For such a model the partial likelihood depends on the data
only through, at each event, the number of patients at risk in each cell and
the number of tied events in each cell. Those counts come from cumulative
sums over the time-sorted rows, for thousands of row masks at once, and
Newton-Raphson then runs on all fits in parallel on arrays of shape
(fits, events, cells).

The numbers are those of :func:`survtdm1.cox.cox_fit` (and R ``coxph``) on
each masked data set, Efron or Breslow ties:

    coxph(Surv(time, status) ~ arm, data = d[mask, ], ties = "efron")
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _special as special
from . import newton
from ._checks import TIES


@dataclass(frozen=True)
class BatchCoxFit:
    """Cox fits of one model on many data sets (frozen).

    Attributes
    ----------
    coef : ndarray, shape (fits, p)
        Log hazard ratios; NaN where the fit did not converge.
    var : ndarray, shape (fits, p, p)
        Inverse observed information at ``coef`` (NaN where not converged).
    loglik : ndarray, shape (fits,)
        Log partial likelihood at ``coef``.
    n_events : ndarray, shape (fits,)
    converged : ndarray of bool, shape (fits,)
        False where Newton-Raphson did not settle or diverged (monotone
        likelihood: |coef| > 10, or a singular information matrix), as
        :class:`survtdm1.cox.CoxFit`.
    """

    coef: np.ndarray
    var: np.ndarray
    loglik: np.ndarray
    n_events: np.ndarray
    converged: np.ndarray

    @property
    def se(self) -> np.ndarray:
        """Standard errors, shape (fits, p)."""
        return np.sqrt(np.diagonal(self.var, axis1=1, axis2=2))

    def wald_p(self) -> np.ndarray:
        """Two-sided Wald p-values, shape (fits, p)."""
        return 2.0 * special.ndtr(-np.abs(self.coef / self.se))

    def hazard_ratio(self, index: int = 0, conf_level: float = 0.95):
        """HR and Wald CI of one coefficient: three arrays of shape (fits,)."""
        z = special.ndtri(0.5 + conf_level / 2.0)
        coef, se = self.coef[:, index], self.se[:, index]
        return np.exp(coef), np.exp(coef - z * se), np.exp(coef + z * se)


@dataclass(frozen=True)
class CellRiskSets:
    """Per-event risk-set counts by cell, for many fits (frozen).

    Attributes
    ----------
    at_risk : ndarray, shape (fits, events, cells)
        Efron-adjusted number at risk in each cell for each event term:
        at risk at the event's time minus ``l/d`` of the tied events (``l``
        the event's rank within its tied group, ``d`` the group's size).
    active : ndarray of bool, shape (fits, events)
        Whether the event term belongs to the fit (its row is in the mask).
    cell_events : ndarray, shape (fits, cells)
        Number of events in each cell.
    event_cell : ndarray, shape (fits, events)
        The cell of each event term.
    efron_ties : bool
        Whether some tied events were split by Efron's correction (then the
        counts depend on the mask and :func:`merge_cells` cannot be used).
    """

    at_risk: np.ndarray
    active: np.ndarray
    cell_events: np.ndarray
    event_cell: np.ndarray
    efron_ties: bool


def _cumulative(values: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis with a leading zero column."""
    out = np.zeros(values.shape[:-1] + (values.shape[-1] + 1,), dtype=np.int32)
    np.cumsum(values, axis=-1, out=out[..., 1:])
    return out


def _gather(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[b, index[b, e]]`` (index 2-D) or ``values[b, index[e]]`` (index 1-D)."""
    if index.ndim == 1:
        return values[:, index]
    return np.take_along_axis(values, index, axis=1)


def _blocks(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last row of each row's block of equal times (last axis)."""
    n = time.shape[-1]
    positions = np.broadcast_to(np.arange(n), time.shape)
    new = np.ones(time.shape, dtype=bool)
    new[..., 1:] = time[..., 1:] != time[..., :-1]
    first = np.maximum.accumulate(np.where(new, positions, 0), axis=-1)
    ends = np.ones(time.shape, dtype=bool)
    ends[..., :-1] = new[..., 1:]
    flipped = np.where(ends, positions, n - 1)[..., ::-1]
    last = np.minimum.accumulate(flipped, axis=-1)[..., ::-1]
    return first, last + 1


def cell_risk_sets(
    time: np.ndarray,
    event: np.ndarray,
    cell: np.ndarray,
    mask: np.ndarray,
    n_cells: int,
    *,
    ties: str = "efron",
) -> CellRiskSets:
    """Risk-set counts by cell for many masks over time-sorted rows.

    Parameters
    ----------
    time, event, cell : ndarray, shape (n,) or (fits, n)
        Rows sorted by time along the last axis; ``cell`` holds integer codes
        0..n_cells-1. One-dimensional arrays are shared by all fits (STEPP:
        one data set, many masks); two-dimensional ones give each fit its own
        data (simulated trials).
    mask : ndarray of bool, shape (fits, n)
        The rows of each fit.
    n_cells : int
    ties : {"efron", "breslow"}
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, not {ties!r}")
    mask = np.asarray(mask, dtype=bool)
    event = np.asarray(event, dtype=bool)
    cell = np.asarray(cell)
    first, stop = _blocks(np.asarray(time))
    if event.ndim == 1:  # shared rows: only the event rows matter
        rows = np.flatnonzero(event)
        start, end = first[rows], stop[rows]
        active = mask[:, rows]
        event_mask = mask & event
    else:
        start, end = first, stop
        event_mask = mask & event
        active = event_mask
        rows = np.arange(event.shape[-1])
    fits = mask.shape[0]
    at_risk = np.empty((fits, active.shape[1], n_cells))
    tied = np.empty_like(at_risk)
    cell_events = np.empty((fits, n_cells))
    for c in range(n_cells):
        in_cell = mask & (cell == c)
        counts = _cumulative(in_cell)
        at_risk[:, :, c] = counts[:, -1:] - _gather(counts, start)
        event_counts = _cumulative(event_mask & (cell == c))
        tied[:, :, c] = _gather(event_counts, end) - _gather(event_counts, start)
        cell_events[:, c] = event_counts[:, -1]
    efron_ties = False
    if ties == "efron":
        all_events = _cumulative(event_mask)
        before = all_events[:, rows] - _gather(all_events, start)
        size = tied.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(active, before / np.maximum(size, 1.0), 0.0)
        at_risk -= frac[:, :, None] * tied
        efron_ties = bool(np.any(frac > 0))
    at_risk[~active] = 1.0  # inactive terms: any positive value (they carry no weight)
    event_cell = np.broadcast_to(cell[..., rows], active.shape)
    return _compact(CellRiskSets(at_risk, active, cell_events, event_cell, efron_ties))


def _compact(sets: CellRiskSets) -> CellRiskSets:
    """Move each fit's active event terms to the front and drop all-inactive columns."""
    active = sets.active
    width = int(active.sum(axis=1).max()) if active.size else 0
    if width == active.shape[1]:
        return sets
    order = np.argsort(~active, axis=1, kind="stable")[:, :width]
    return CellRiskSets(
        np.take_along_axis(sets.at_risk, order[:, :, None], axis=1),
        np.take_along_axis(active, order, axis=1),
        sets.cell_events,
        np.take_along_axis(sets.event_cell, order, axis=1),
        sets.efron_ties,
    )


def merge_cells(sets: CellRiskSets, mapping) -> CellRiskSets:
    """Risk sets of coarser cells, dropping some: ``mapping[old] = new`` or -1.

    E.g. with cells arm + 2 * marker, ``[0, 1, -1, -1]`` gives the arm cells of
    the marker-negative patients and ``[0, 1, 0, 1]`` those of everyone. Exact
    for Breslow ties and for Efron ties when no tied events were split
    (``sets.efron_ties`` false); otherwise build the sets with a mask.
    """
    if sets.efron_ties:
        raise ValueError("merge_cells: Efron-split tied events; use cell_risk_sets with a mask")
    mapping = np.asarray(mapping)
    n_new = int(mapping.max()) + 1
    fits, events, _ = sets.at_risk.shape
    at_risk = np.zeros((fits, events, n_new))
    cell_events = np.zeros((fits, n_new))
    for old, new in enumerate(mapping):
        if new >= 0:
            at_risk[:, :, new] += sets.at_risk[:, :, old]
            cell_events[:, new] += sets.cell_events[:, old]
    new_cell = mapping[sets.event_cell]
    active = sets.active & (new_cell >= 0)
    at_risk[~active] = 1.0
    merged = CellRiskSets(at_risk, active, cell_events, np.maximum(new_cell, 0), False)
    return _compact(merged)


def _evaluate_arm(sets: CellRiskSets, beta: np.ndarray, weight: np.ndarray):
    """:func:`_evaluate` for the design ``[[0], [1]]`` (one binary covariate), faster."""
    b = beta[:, 0]
    shift = np.maximum(b, 0.0)
    control = sets.at_risk[:, :, 0] * np.exp(-shift)[:, None]
    treated = sets.at_risk[:, :, 1] * np.exp(b - shift)[:, None]
    den = control + treated
    loglik = (
        sets.cell_events[:, 1] * b
        - (weight * np.log(den)).sum(axis=1)
        - shift * (weight.sum(axis=1))
    )
    prob = treated / den * weight
    score = sets.cell_events[:, 1] - prob.sum(axis=1)
    info = (prob * control / den).sum(axis=1)
    return loglik, score[:, None], info[:, None, None]


def _evaluate(sets: CellRiskSets, design: np.ndarray, beta: np.ndarray, weight: np.ndarray):
    """Log-likelihood, score and information for each fit at ``beta`` (fits, p)."""
    if design.shape == (2, 1) and design[0, 0] == 0.0 and design[1, 0] == 1.0:
        return _evaluate_arm(sets, beta, weight)
    eta = beta @ design.T  # (fits, cells)
    shift = eta.max(axis=1, keepdims=True)
    scaled = sets.at_risk * np.exp(eta - shift)[:, None, :]  # (fits, events, cells)
    den = scaled.sum(axis=2)
    loglik = (sets.cell_events * eta).sum(axis=1) - (weight * (np.log(den) + shift)).sum(axis=1)
    prob = scaled / den[:, :, None] * weight[:, :, None]
    cell_prob = prob.sum(axis=1)  # (fits, cells)
    score = (sets.cell_events - cell_prob) @ design
    mean = prob @ design  # weighted per-event means (fits, events, p)
    p = design.shape[1]
    outer = (design[:, :, None] * design[:, None, :]).reshape(design.shape[0], p * p)
    info = (cell_prob @ outer).reshape(-1, p, p)
    info -= np.matmul(mean.transpose(0, 2, 1), mean)  # weights are 0/1
    return loglik, score, info


def cox_fit_cells(sets: CellRiskSets, design: np.ndarray) -> BatchCoxFit:
    """Fit ``log h = log h0 + design[cell] @ beta`` on every fit of ``sets``.

    Newton-Raphson from zero with step halving, all fits at once, until each
    fit's step is below ``newton.STEP_TOL`` (as :func:`survtdm1.cox.cox_fit_sorted`).

    Parameters
    ----------
    sets : CellRiskSets
    design : ndarray, shape (cells, p)
        The covariate values of each cell (e.g. ``[[0], [1]]`` for the arm).

    Examples
    --------
    >>> import numpy as np
    >>> time = np.array([1.0, 2, 3, 4, 5, 6])
    >>> event = np.array([1, 1, 0, 1, 1, 0])
    >>> arm = np.array([0, 1, 0, 1, 0, 1])
    >>> sets = cell_risk_sets(time, event, arm, np.ones((1, 6), bool), 2)
    >>> round(float(cox_fit_cells(sets, np.array([[0.0], [1.0]])).coef[0, 0]), 4)
    -0.2739
    """
    design = np.asarray(design, dtype=float)
    fits, p = sets.cell_events.shape[0], design.shape[1]
    weight = sets.active.astype(float)
    beta = np.zeros((fits, p))
    loglik, score, info = _evaluate(sets, design, beta, weight)
    done = np.zeros(fits, dtype=bool)
    failed = np.zeros(fits, dtype=bool)
    for _ in range(newton.MAX_ITER):
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        sub = _subset(sets, todo)
        step = newton.newton_steps(info[todo], score[todo])
        bad = ~np.all(np.isfinite(step), axis=1)
        step[bad] = 0.0
        new_beta = beta[todo] + step
        new_ll, new_score, new_info = _evaluate(sub, design, new_beta, weight[todo])
        for _halving in range(newton.MAX_HALVINGS):
            worse = ~np.isfinite(new_ll) | (new_ll < loglik[todo] - newton.LOGLIK_SLACK)
            if not worse.any():
                break
            step[worse] /= 2.0
            rows = np.flatnonzero(worse)
            new_beta[rows] = beta[todo[rows]] + step[rows]
            part = _subset(sub, rows)
            ll_w, score_w, info_w = _evaluate(part, design, new_beta[rows], weight[todo[rows]])
            new_ll[rows], new_score[rows], new_info[rows] = ll_w, score_w, info_w
        beta[todo], loglik[todo], score[todo], info[todo] = new_beta, new_ll, new_score, new_info
        settled = np.max(np.abs(step), axis=1) < newton.STEP_TOL
        failed[todo[bad]] = True
        done[todo[settled | bad]] = True
    var = newton.invert(info)
    converged = ~(failed | ~done | newton.diverged(beta, var))
    coef = np.where(converged[:, None], beta, np.nan)
    var = np.where(converged[:, None, None], var, np.nan)
    return BatchCoxFit(coef, var, loglik, sets.cell_events.sum(axis=1), converged)


def _subset(sets: CellRiskSets, rows: np.ndarray) -> CellRiskSets:
    return CellRiskSets(
        sets.at_risk[rows],
        sets.active[rows],
        sets.cell_events[rows],
        sets.event_cell[rows],
        sets.efron_ties,
    )
