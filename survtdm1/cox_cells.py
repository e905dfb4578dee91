"""Cox fits from counts by cell and distinct time (covariates constant within cells).

The models of a subgroup battery (the arm within one level; arm x level for
the interaction tests; arm x rank for the trend test) have covariates that
take one value per *cell* (arm x level). Their partial likelihood depends on
the rows only through, at each distinct event time, the number at risk and
the number of events in each cell. :func:`cell_table` counts rows and events
per (distinct time, cell) with one ``bincount``, and :func:`survtdm1.cox.fit_cells` runs
the Newton loop of :func:`survtdm1.cox.cox_fit_sorted` on those counts: the
same likelihood with Efron's or Breslow's ties, hence the same fit (to
rounding), at a cost set by the number of distinct times, not of rows.

Equivalent R, for the rows of the cells in ``table`` and ``design[cell]``
as covariates:

    coxph(Surv(time, status) ~ x, ties = "efron")
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._checks import TIES

try:  # the compiled kernel (survtdm1/_cellfit.c), built by pip where a C compiler is found
    from . import _cellfit as KERNEL
except ImportError:  # installed without a C compiler: the numpy evaluation below
    KERNEL = None


@dataclass(frozen=True)
class TimeBlocks:
    """Rows sorted by time, numbered by distinct time (frozen).

    Attributes
    ----------
    time : ndarray
        Distinct times, ascending.
    block : ndarray of int
        Per sorted row, the index of its time in ``time``.
    """

    time: np.ndarray
    block: np.ndarray

    @classmethod
    def from_sorted(cls, sorted_time: np.ndarray) -> TimeBlocks:
        """Blocks of equal times of rows already sorted by time."""
        new = np.ones(sorted_time.shape[0], dtype=bool)
        new[1:] = sorted_time[1:] != sorted_time[:-1]
        return cls(sorted_time[new], np.cumsum(new) - 1)


@dataclass(frozen=True)
class CellTable:
    """Rows and events per distinct time and cell (frozen).

    Attributes
    ----------
    time : ndarray, shape (B,)
        Distinct times, ascending.
    rows, events : ndarray, shape (B, C)
        Number of rows, and of events, with that time in each cell.
    """

    time: np.ndarray
    rows: np.ndarray
    events: np.ndarray

    @classmethod
    def counted(cls, time, rows, events, at_risk) -> CellTable:
        """A table whose numbers at risk were counted with it (as :meth:`at_risk` gives them)."""
        table = cls(time, rows, events)
        table.__dict__["_at_risk"] = at_risk  # cached_property's slot
        return table

    def select(self, cells) -> CellTable:
        """The table of some cells only (the rows of the others left out)."""
        # each cell's number at risk is its own: the columns of this table's
        return CellTable.counted(
            self.time, self.rows[:, cells], self.events[:, cells], self._at_risk[:, cells]
        )

    @cached_property
    def event_cells(self) -> EventCells:
        """The event times only, as the compiled kernel takes them (computed once)."""
        if KERNEL is not None and self.events.ndim == 2 and self.events.shape[1]:
            return self._compiled_event_cells()
        has = row_sums(self.events) > 0
        R = self.at_risk()
        # everyone is at risk at the first time
        n_cell = R[0].astype(float) if R.shape[0] else np.zeros(R.shape[1])
        D = np.compress(has, self.events, axis=0).astype(float)
        R = np.compress(has, R, axis=0).astype(float)
        return EventCells(R, D, n_cell, int(D.sum()), series_powers(row_sums(D), row_sums(R)))

    def _compiled_event_cells(self) -> EventCells:
        R = np.ascontiguousarray(self.at_risk(), dtype=np.int64)
        B, C = R.shape
        R_out, D_out, size, risk = np.empty((B, C)), np.empty((B, C)), np.empty(B), np.empty(B)
        events = np.ascontiguousarray(self.events, dtype=np.int64)
        kept = KERNEL.event_rows(R, events, B, C, R_out, D_out, size, risk)
        size, risk = size[:kept], risk[:kept]
        if kept and size.max() >= SERIES_MIN_TIES:
            power = series_powers(size, risk)
        else:  # no time with enough tied events for the series
            power = np.zeros((kept, SERIES_TERMS + 3))
        n_cell = self.totals[0].astype(float)  # everyone is at risk at the first time
        return EventCells(R_out[:kept], D_out[:kept], n_cell, int(size.sum()), power)

    @cached_property
    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and events of each cell (computed once; not to be modified): the rows
        are those at risk at the first time."""
        at_risk = self.at_risk()
        rows = at_risk[0] if at_risk.shape[0] else np.zeros(at_risk.shape[1], dtype=np.int64)
        return rows, self.events.sum(axis=0)

    def at_risk(self) -> np.ndarray:
        """Number at risk (time >= t) in each cell at each distinct time (computed once;
        not to be modified)."""
        return self._at_risk

    @cached_property
    def _at_risk(self) -> np.ndarray:
        # summed cell by cell along contiguous rows (a cumsum down a (B, C) array with
        # few columns is several times slower)
        backwards = np.ascontiguousarray(self.rows.T[:, ::-1])
        # laid out by time (C order), as the compiled kernel and the curves read it
        return np.ascontiguousarray(np.cumsum(backwards, axis=1)[:, ::-1].T)


@dataclass(frozen=True)
class EventCells:
    """A :class:`CellTable` at its event times (frozen; C-contiguous float arrays).

    Attributes
    ----------
    R, D : ndarray, shape (B, C)
        Number at risk and number of events in each cell at each event time.
    n_cell : ndarray, shape (C,)
        Rows per cell.
    n_events : int
    """

    R: np.ndarray
    D: np.ndarray
    n_cell: np.ndarray
    n_events: int
    power: np.ndarray  # (B, SERIES_TERMS + 3): see series_powers

    @cached_property
    def n(self) -> int:
        """Rows in all cells."""
        return int(self.n_cell.sum())

    @cached_property
    def present(self) -> np.ndarray:
        """1.0 for a cell with rows, else 0.0 (computed once)."""
        return (self.n_cell > 0).astype(float)


def series_powers(size: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """``S_k(d) = sum_{l < d} l^k``, k = 0..SERIES_TERMS + 2, for the event times of ``size``
    tied events (of ``at_risk``) whose Efron sums may be taken as series, zeros for the
    others: the compiled kernel's table (the numpy one is :class:`TiedSeries`)."""
    power = np.zeros((size.shape[0], SERIES_TERMS + 3))
    large = _series_times(size, size / at_risk)
    if large.size:
        power[large] = _power_sums(size[large], SERIES_TERMS + 2).T
    return power


class CompiledProblem:
    """A :class:`CellProblem` for the compiled kernel (``survtdm1/_cellfit.c``).

    The kernel evaluates the same log-likelihood, score and information, with
    Efron's sums per event time taken as ``sum 1/den``, ``sum f/den`` and their
    squares, and runs the loop of :func:`survtdm1.cox.newton_fit` (the same
    rules, from :mod:`survtdm1.newton`) without returning to Python.
    """

    def __init__(self, table: CellTable, design: np.ndarray, ties: str):
        if ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}, not {ties!r}")
        cells = table.event_cells
        design = np.asarray(design, dtype=float)
        B, C = cells.R.shape
        if design.ndim != 2 or design.shape[0] != C:
            raise ValueError(f"design must have one row per cell ({C}), not {design.shape}")
        self.p = p = design.shape[1]
        self.n = cells.n
        self.n_events = cells.n_events
        Z = design - (cells.n_cell @ design) / max(self.n, 1)
        self._problem = (cells.R, cells.D, np.ascontiguousarray(Z), cells.present, cells.power)
        self._sizes = (B, C, p, ties == "efron", SERIES_MAX_RATIO)

    def evaluate(self, beta: np.ndarray):
        """Log-likelihood, score and information at ``beta``."""
        beta = np.ascontiguousarray(beta, dtype=float)
        score, info = np.empty(self.p), np.empty((self.p, self.p))
        loglik = KERNEL.evaluate(*self._problem, *self._sizes, beta, score, info)
        return loglik, score, info

    def loglik(self, beta: np.ndarray) -> float:
        return self.evaluate(beta)[0]

    def newton(self, beta: np.ndarray, rules: tuple) -> tuple[int, bool, float, float, np.ndarray]:
        """Newton-Raphson from ``beta`` (overwritten with the estimate), with ``rules``
        ``(max_iter, max_halvings, step_tol, loglik_slack, settle_tol, cond_limit,
        max_coef)`` (:data:`survtdm1.newton.RULES`). Returns (iterations, converged,
        loglik, loglik at the start, inverse information as
        :func:`survtdm1.newton.invert` gives it); iterations is -1 where a step met an
        exactly singular information matrix; converged is False for a fit that
        :func:`survtdm1.newton.diverged` would reject."""
        info, var = np.empty((2, self.p, self.p))
        iterations, converged, loglik, start, usable = KERNEL.fit(
            *self._problem, *self._sizes, beta, info, var, *rules
        )
        return iterations, bool(converged and usable), loglik, start, var


def row_sums(values: np.ndarray) -> np.ndarray:
    """``values.sum(axis=1)`` of a (B, C) array with few columns, column by column
    (numpy's reduction along a short last axis is several times slower)."""
    total = values[:, 0].copy()
    for column in range(1, values.shape[1]):
        total += values[:, column]
    return total


def tie_layout(size: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Efron's terms of event times with ``size`` tied events each, one per event:
    ``(counts, first, group, frac)``: the sizes as integers, the index of each time's
    first term, each term's time and its fraction ``l / d`` (the l-th of d)."""
    counts = np.asarray(size).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    group = np.repeat(np.arange(counts.shape[0]), counts)
    # np.repeat rather than fancy indexing: much faster on many terms
    frac = np.arange(group.shape[0], dtype=float)
    frac -= np.repeat(first, counts)
    frac /= np.repeat(counts, counts)
    return counts, first, group, frac


def cell_table(blocks: TimeBlocks, event: np.ndarray, cell: np.ndarray, n_cells: int) -> CellTable:
    """Count rows and events by (distinct time, cell); rows with ``cell < 0`` are left out.

    ``event`` and ``cell`` are per sorted row (the order of ``blocks``).
    """
    n_blocks = blocks.time.shape[0]
    if KERNEL is not None:  # one pass over the rows, without index arrays
        rows = np.zeros((n_blocks, n_cells), dtype=np.int64)
        events = np.zeros((n_blocks, n_cells), dtype=np.int64)
        KERNEL.count_cells(
            np.ascontiguousarray(blocks.block, dtype=np.int64),
            np.ascontiguousarray(cell, dtype=np.int64),
            np.ascontiguousarray(event, dtype=bool),
            n_blocks,
            n_cells,
            rows,
            events,
        )
        return CellTable(blocks.time, rows, events)
    keep = cell >= 0
    index = blocks.block * n_cells + cell
    if not keep.all():
        index, event = index[keep], event[keep]
    size = n_blocks * n_cells
    rows = np.bincount(index, minlength=size).reshape(n_blocks, n_cells)
    events = np.bincount(index[event.astype(bool)], minlength=size).reshape(n_blocks, n_cells)
    return CellTable(blocks.time, rows, events)


SERIES_MIN_TIES = 32  # tied groups of this many events or more may use the series
SERIES_MAX_SHARE = 0.01  # ... when (d - 1)/d of the weight at risk that dies stays below this
SERIES_MAX_RATIO = 0.05  # ... and while (d - 1) r, weights included, stays below this
SERIES_TERMS = 16  # terms r^k, k = 0..16: the truncation is below 0.05^17 ~ 1e-22 relative


@dataclass(frozen=True)
class TiedSeries:
    """Efron's sums of the large tied groups as power series (frozen).

    For a time with ``d`` tied events, ``den_l = T0 (1 - l r)`` with
    ``r = F0 / (d T0)``, so ``sum log den_l = d log T0 - sum_k r^k S_k / k``,
    ``sum 1/den_l = sum_k r^k S_k / T0`` and ``sum 1/den_l^2 = sum_k (k + 1)
    r^k S_k / T0^2``, with ``S_k = sum_l l^k`` (exact for ``(d - 1) r < 1``; all
    terms positive). Used where ``(d - 1) r`` is small, when a group has many
    events but they are a small part of those at risk (large cohorts with
    coarse times); elsewhere the sums go event by event.

    Attributes
    ----------
    large : ndarray of int
        The event times summed by series.
    power : ndarray, shape (SERIES_TERMS + 1, len(large))
        ``S_k`` of each of them.
    small : ndarray of int
        The other event times; ``counts``, ``first`` and ``frac`` lay out their
        events as :func:`efron_sums` does.
    """

    large: np.ndarray
    power: np.ndarray
    small: np.ndarray
    counts: np.ndarray
    first: np.ndarray
    frac: np.ndarray

    @classmethod
    def build(cls, size: np.ndarray, share: np.ndarray) -> TiedSeries | None:
        """For event times of ``size`` events, ``share`` of those at risk dying (unweighted);
        None when no time qualifies."""
        large = _series_times(size, share)
        if large.size == 0:
            return None
        power = _power_sums(size[large], SERIES_TERMS)
        small = np.setdiff1d(np.arange(size.shape[0]), large)
        counts, first, _, frac = tie_layout(size[small])
        return cls(large, power, small, counts, first, frac)

    def sums(self, T0, F0, d):
        """log den, 1/den and 1/den^2 summed per event time, or None when a large group's
        events now hold too large a share of the weight at risk (the caller sums them
        event by event)."""
        L = self.large
        t0, dl = T0[L], d[L]
        r = F0[L] / (dl * t0)
        if not np.all((dl - 1.0) * r <= SERIES_MAX_RATIO):
            return None
        logs, a, c = np.empty_like(T0), np.empty_like(T0), np.empty_like(T0)
        if self.small.size:
            S = self.small
            logs[S], a[S], c[S] = _expanded_sums(T0[S], F0[S], self.counts, self.first, self.frac)
        k = SERIES_TERMS
        log_part = self.power[k] / k
        inv_part = self.power[k].copy()
        sq_part = (k + 1) * self.power[k]
        for k in range(SERIES_TERMS - 1, -1, -1):  # Horner, highest power first
            log_part = log_part * r + (self.power[k] / k if k else 0.0)
            inv_part = inv_part * r + self.power[k]
            sq_part = sq_part * r + (k + 1) * self.power[k]
        logs[L] = dl * np.log(t0) - log_part
        a[L] = inv_part / t0
        c[L] = sq_part / (t0 * t0)
        return logs, a, c


def _series_times(size: np.ndarray, share: np.ndarray) -> np.ndarray:
    """The event times (of ``size`` tied events, ``share`` of those at risk dying) whose
    Efron sums may be taken as series."""
    return np.flatnonzero(
        (size >= SERIES_MIN_TIES) & ((size - 1.0) / size * share <= SERIES_MAX_SHARE)
    )


def _power_sums(size: np.ndarray, k_max: int) -> np.ndarray:
    """``S_k(d) = sum_{l < d} l^k`` for k = 0..k_max (rows) and each ``d`` in ``size``
    (columns), read off cumulative sums of l^k (0^0 = 1)."""
    d = np.asarray(size).astype(np.int64)
    ks = np.arange(k_max + 1)
    table = np.cumsum(np.arange(d.max(), dtype=float)[None, :] ** ks[:, None], axis=1)
    return table[:, d - 1]


def _expanded_sums(T0, F0, counts, first, frac):
    """log den, 1/den and 1/den^2 summed event by event (``den = T0 - f F0``)."""
    den = np.repeat(F0, counts)
    np.multiply(den, frac, out=den)
    np.subtract(np.repeat(T0, counts), den, out=den)
    inv = np.divide(1.0, den)
    logs = np.add.reduceat(np.log(den, out=den), first)
    a = np.add.reduceat(inv, first)
    c = np.add.reduceat(np.multiply(inv, inv, out=inv), first)
    return logs, a, c


def efron_sums(T0, F0, events):
    """Per event time: sums over its events of log den, 1/den, f/den, 1/den^2, f/den^2
    and f^2/den^2, with ``den = T0 - f F0`` for Efron's fraction ``f`` of each event.

    Only ``log den``, ``1/den`` and ``1/den^2`` are summed event by event: as
    ``f = (T0 - den) / F0``, the sums with ``f`` follow from those three. (Their
    rounding error, relative to ``d`` times the terms they multiply, is that of
    the three sums.) ``events`` holds, per event time, ``size`` (d, float),
    ``counts`` (d, int) and ``first`` (the index of its first event term), per
    event term ``frac`` (l / d) (see :func:`tie_layout`), ``efron`` (False when no
    time has ties) and ``series`` (a :class:`TiedSeries` or None).
    """
    d = events.size
    if not events.efron:  # every event of a time has the same denominator T0
        inv = 1.0 / T0
        zero = np.zeros_like(T0)
        return d * np.log(T0), d * inv, zero, d * inv * inv, zero, zero
    summed = None if events.series is None else events.series.sums(T0, F0, d)
    if summed is None:
        summed = _expanded_sums(T0, F0, events.counts, events.first, events.frac)
    logs, a, c = summed
    tied = F0 > 0  # F0 > 0 wherever a time has events (weights exp() > 0)
    safe = np.where(tied, F0, 1.0)
    b = np.where(tied, (T0 * a - d) / safe, 0.0)
    e = np.where(tied, (T0 * c - a) / safe, 0.0)
    h = np.where(tied, (T0 * T0 * c - 2.0 * T0 * a + d) / (safe * safe), 0.0)
    return logs, a, b, c, e, h


# a one-arm-covariate fit with Efron's ties and up to this many events is evaluated
# term by term (ArmTerms: fewer operations); beyond, from sums per event time (one
# term per event would then cost more memory traffic than it saves)
ARM_TERMS_LIMIT = 50_000


@dataclass(frozen=True)
class ArmTerms:
    """The denominators of a one-arm-covariate (0/1) Cox likelihood, term by term (frozen).

    With weights ``w0`` (control) and ``w1`` (treated), each term's denominator
    is ``w0 * control + w1 * treated`` and it counts ``weight`` times. For
    Efron's ties one term per event: the l-th of ``d`` tied events has
    ``control = R0 - (l/d) D0`` and ``treated = R1 - (l/d) D1``; otherwise one
    term per event time, counted ``d`` times. As the covariate is 0 or 1, a
    term's mean covariate is ``q = w1 treated / den`` and its variance
    ``q (1 - q)``: score and information need no other sums.
    """

    control: np.ndarray
    treated: np.ndarray
    weight: np.ndarray  # empty for Efron's terms (one per event: every weight is 1)
    time: np.ndarray  # the event time (row of the table) of each term
    efron: bool

    @classmethod
    def build(cls, R: np.ndarray, D: np.ndarray, efron: bool) -> ArmTerms:
        size = D.sum(axis=1)
        times = np.arange(size.shape[0])
        if not efron:
            return cls(R[:, 0], R[:, 1], size.astype(float), times, False)
        counts, _, group, frac = tie_layout(size)
        control = np.repeat(R[:, 0], counts) - frac * np.repeat(D[:, 0], counts)
        treated = np.repeat(R[:, 1], counts) - frac * np.repeat(D[:, 1], counts)
        return cls(control, treated, np.ones(0), group, True)

    def sums(self, w0: float, w1: float) -> tuple[float, float, float] | None:
        """Over the terms: sums of ``weight * log den``, ``weight * q`` and
        ``weight * q (1 - q)``; None if a denominator is not positive."""
        treated = self.treated * w1
        den = self.control * w0
        den += treated
        if not den.min(initial=np.inf) > 0:
            return None
        q = np.divide(treated, den, out=treated)
        logs = np.log(den, out=den)
        if self.efron:  # one term per event: every weight is 1
            mean = float(q.sum())
            return float(logs.sum()), mean, mean - float(q @ q)
        mean = float(self.weight @ q)
        return float(self.weight @ logs), mean, mean - float((self.weight * q) @ q)


class CellProblem:
    """Log partial likelihood, score and information from a :class:`CellTable`.

    The arithmetic of :class:`survtdm1.cox.CoxProblem` with the rows of a
    cell pooled: per event time ``T = sum_c R_c w_c [1, z_c, z_c z_c']`` and
    ``F`` the same over the cell's events, then Efron's per-event fractions.
    """

    def __init__(self, table: CellTable, design: np.ndarray, ties: str):
        if ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}, not {ties!r}")
        design = np.asarray(design, dtype=float)
        self.p = p = design.shape[1]
        events = table.events
        size = row_sums(events)
        has = size > 0
        size = size[has]
        R = table.at_risk()
        # everyone is at risk at the first time
        n_cell = R[0].astype(float) if R.shape[0] else np.zeros(R.shape[1])
        self.n = int(n_cell.sum())
        self.n_events = int(size.sum())
        self.R = np.compress(has, R, axis=0).astype(float)
        self.D = np.compress(has, events, axis=0).astype(float)
        self.cell_events = np.array([column.sum() for column in self.D.T])
        self.size = size.astype(float)
        self.efron = ties == "efron" and bool(np.any(size > 1))
        # one 0/1 covariate (the arm): a shorter evaluation, uncentred
        self.arm = design.shape == (2, 1) and design[0, 0] == 0.0 and design[1, 0] == 1.0
        self.arm_terms = None
        if self.arm and (not self.efron or self.n_events <= ARM_TERMS_LIMIT):
            self.arm_terms = ArmTerms.build(self.R, self.D, self.efron)
            return  # nothing else is needed
        self.present = n_cell > 0
        self.Z = Z = design - (n_cell @ design) / max(self.n, 1)
        products = (Z[:, :, None] * Z[:, None, :]).reshape(-1, p * p)
        self.ZZ = np.concatenate([np.ones((Z.shape[0], 1)), Z, products], axis=1)
        # Efron's terms, one per event: the l-th of d tied events removes l/d
        self.counts, self.first, self.event_group, self.frac = tie_layout(size)
        self.RD = np.concatenate([self.R, self.D])
        # Efron's last denominator of a time is T0 - (1 - 1/d) F0: all are positive if it is
        self.last_share = (1.0 - 1.0 / self.size) * self.efron
        if self.arm:
            self.R0, self.R1 = self.R[:, 0].copy(), self.R[:, 1].copy()
            self.D0, self.D1 = self.D[:, 0].copy(), self.D[:, 1].copy()
        # term by term (each event's, or each time's, mean covariate and second moment)
        # unless Efron's ties would make too many terms
        self.by_term = not self.efron or self.n_events <= ARM_TERMS_LIMIT
        self.series = None
        if self.efron and not self.by_term:  # large tied groups summed as series
            self.series = TiedSeries.build(self.size, size / row_sums(self.R))

    def _group_sums(self, T0, F0):
        return efron_sums(T0, F0, self)

    def _evaluate_arm(self, beta: np.ndarray):
        """:meth:`evaluate` for the design ``[[0], [1]]``: covariate values 0 and 1."""
        if self.arm_terms is None:
            return self._evaluate_arm_by_time(beta)
        loglik, score, info = self.evaluate_arm_float(float(beta[0]))
        return loglik, np.array([score]), np.array([[info]])

    def evaluate_arm_float(self, b: float) -> tuple[float, float, float]:
        """:meth:`_evaluate_arm` term by term with a float coefficient: (loglik, score,
        information) as floats; (-inf, nan, nan) if a denominator is not positive."""
        shift = max(b, 0.0)
        sums = self.arm_terms.sums(math.exp(-shift), math.exp(b - shift))
        if sums is None:
            return -math.inf, math.nan, math.nan
        logs, mean, var = sums
        treated_events = float(self.cell_events[1])
        return treated_events * b - logs - shift * self.n_events, treated_events - mean, var

    def _evaluate_arm_by_time(self, beta: np.ndarray):
        """:meth:`_evaluate_arm` from sums per event time (faster for many events)."""
        b = float(beta[0])
        shift = max(b, 0.0)
        w0, w1 = np.exp(-shift), np.exp(b - shift)
        T1, F1 = self.R1 * w1, self.D1 * w1  # z = z^2 = 1 in the treated cell only
        T0, F0 = self.R0 * w0 + T1, self.D0 * w0 + F1
        if not np.all(T0 - F0 * self.last_share > 0):
            return -np.inf, np.full(1, np.nan), np.full((1, 1), np.nan)
        logs, a, b_, c, e, h = self._group_sums(T0, F0)
        loglik = float(self.cell_events[1] * b - logs.sum() - shift * self.n_events)
        mean = float(a @ T1 - b_ @ F1)
        info = mean - float(c @ (T1 * T1) - 2.0 * (e @ (T1 * F1)) + h @ (F1 * F1))
        return loglik, np.array([self.cell_events[1] - mean]), np.array([[info]])

    def evaluate(self, beta: np.ndarray):
        """Log-likelihood, score and information at ``beta``."""
        p = self.p
        if self.n_events == 0:
            return 0.0, np.zeros(p), np.zeros((p, p))
        if self.arm:
            with np.errstate(all="ignore"):
                return self._evaluate_arm(beta)
        if self.by_term:
            with np.errstate(all="ignore"):
                return self._evaluate_by_term(beta)
        with np.errstate(all="ignore"):
            # relative to the largest linear predictor of a cell with rows: weights <= 1,
            # and 0 for cells without rows (whatever their predictor)
            relative = self.Z @ beta
            shift = float(relative[self.present].max())
            relative -= shift
            weights = np.where(self.present, np.exp(relative), 0.0)
            weighted = weights[:, None] * self.ZZ
            TF = self.RD @ weighted  # T (at risk) over F (events), stacked
            B = self.size.shape[0]
            T0, F0 = TF[:B, 0], TF[B:, 0]
            if not np.all(T0 - F0 * self.last_share > 0):
                return -np.inf, np.full(p, np.nan), np.full((p, p), np.nan)
            logs, a, b, c, e, h = self._group_sums(T0, F0)
            # sum over events of (eta - shift) - log den: no cancellation of large terms
            loglik = float(self.cell_events @ relative - logs.sum())
            moments = np.concatenate([a, -b]) @ TF  # a @ T - b @ F, every column at once
            T1, F1 = TF[:B, 1 : 1 + p], TF[B:, 1 : 1 + p]
            score = self.cell_events @ self.Z - moments[1 : 1 + p]
            # T1' c T1 - T1' e F1 - F1' e T1 + F1' h F1
            outer = T1.T @ (T1 * c[:, None] - F1 * e[:, None]) + F1.T @ (
                F1 * h[:, None] - T1 * e[:, None]
            )
            info = moments[1 + p :].reshape(p, p) - outer
            return loglik, score, info

    def _evaluate_by_term(self, beta: np.ndarray):
        """:meth:`evaluate` term by term: with Efron's ties a term per event, whose sums
        are ``T - (l/d) F``; else a term per event time, counted ``d`` times. Each
        term's denominator and mean covariate are computed; the second moments enter
        only summed, through per-time weights of ``T2`` and ``F2``."""
        p = self.p
        relative = self.Z @ beta
        relative -= float(relative[self.present].max())
        weights = np.where(self.present, np.exp(relative), 0.0)
        TF = self.RD @ (weights[:, None] * self.ZZ)  # T (at risk) over F (events), stacked
        B = self.size.shape[0]
        low = TF[:, : 1 + p]  # the sums of 1 and of z
        if self.efron:
            group = self.event_group
            terms = low[group] - self.frac[:, None] * low[group + B]
        else:
            terms = low[:B]
        den = terms[:, 0]
        if not den.min(initial=np.inf) > 0:
            return -np.inf, np.full(p, np.nan), np.full((p, p), np.nan)
        inverse = 1.0 / den
        mean = terms[:, 1:] * inverse[:, None]
        if self.efron:  # second moment of a term: (T2 - f F2) / den, summed per time
            on_t = np.bincount(group, weights=inverse, minlength=B)
            on_f = np.bincount(group, weights=self.frac * inverse, minlength=B)
            second = np.concatenate([on_t, -on_f]) @ TF[:, 1 + p :]
            logs, first, spread = np.log(den).sum(), mean.sum(axis=0), mean.T @ mean
        else:
            d = self.size
            second = (d * inverse) @ TF[:B, 1 + p :]
            logs, first, spread = d @ np.log(den), d @ mean, mean.T @ (mean * d[:, None])
        loglik = float(self.cell_events @ relative - logs)
        return loglik, self.cell_events @ self.Z - first, second.reshape(p, p) - spread

    def loglik(self, beta: np.ndarray) -> float:
        return self.evaluate(beta)[0]
