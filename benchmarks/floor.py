"""A compiled single-pass floor for W1: the battery's fits and curves in numba.

What survtdm1's subgroup battery computes, written as directly as compiled
code allows, to show how far the Python engine is from the machine: per
subgroup, one pass over the time-sorted rows counting rows and events by
(distinct time, arm x level); then, from those counts, for every level the
arm-only Cox fit (Efron) and the KM median, landmark survival and RMST of
each arm; the interaction models (arm + level dummies, then with arm x
dummies: LRT and Wald) and, for ordered levels, the trend model; and the
overall fit and curves. Newton-Raphson with step halving to a step below
1e-9, as survtdm1 and R.

Left out of the floor (survtdm1's time includes them): the level splits
(codes are computed before timing), the PH test, the confidence intervals of
the medians, notes, the table and the warnings. The floor is therefore a
lower bound of what the same battery costs in compiled code.

Needs numba (the ``bench`` extra). JIT compilation happens in a warm-up call
before timing.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba
except ImportError:  # the benchmark reports the floor as not run
    numba = None


def _njit(function):
    return numba.njit(cache=True)(function) if numba is not None else function


@_njit
def _cell_table(block, event, cell, n_blocks, n_cells):
    """Rows and events per (distinct time, cell) of time-sorted rows; at risk per cell."""
    rows = np.zeros((n_blocks, n_cells))
    events = np.zeros((n_blocks, n_cells))
    for i in range(block.shape[0]):
        c = cell[i]
        if c >= 0:
            rows[block[i], c] += 1.0
            if event[i]:
                events[block[i], c] += 1.0
    at_risk = np.zeros((n_blocks, n_cells))
    for c in range(n_cells):
        total = 0.0
        for t in range(n_blocks - 1, -1, -1):
            total += rows[t, c]
            at_risk[t, c] = total
    return at_risk, events


@_njit
def _evaluate(at_risk, events, Z, cells, beta):
    """Efron log partial likelihood, score and information of ``Z[cells]`` at ``beta``."""
    n_blocks = at_risk.shape[0]
    p = Z.shape[1]
    k = cells.shape[0]
    eta = np.zeros(k)
    for a in range(k):
        for j in range(p):
            eta[a] += Z[a, j] * beta[j]
    shift = eta.max()
    w = np.exp(eta - shift)
    loglik = 0.0
    score = np.zeros(p)
    info = np.zeros((p, p))
    s1, e1 = np.zeros(p), np.zeros(p)
    s2, e2 = np.zeros((p, p)), np.zeros((p, p))
    for t in range(n_blocks):
        d = 0.0
        for a in range(k):
            d += events[t, cells[a]]
        if d == 0.0:
            continue
        s0 = e0 = 0.0
        s1[:] = 0.0
        e1[:] = 0.0
        s2[:, :] = 0.0
        e2[:, :] = 0.0
        for a in range(k):
            r, ev = at_risk[t, cells[a]], events[t, cells[a]]
            if r == 0.0:
                continue
            wr, we = w[a] * r, w[a] * ev
            s0 += wr
            e0 += we
            loglik += ev * (eta[a] - shift)
            for j in range(p):
                score[j] += ev * Z[a, j]
                s1[j] += wr * Z[a, j]
                e1[j] += we * Z[a, j]
                for m in range(p):
                    s2[j, m] += wr * Z[a, j] * Z[a, m]
                    e2[j, m] += we * Z[a, j] * Z[a, m]
        for step in range(int(d)):
            f = step / d
            den = s0 - f * e0
            loglik -= math.log(den)
            for j in range(p):
                mj = (s1[j] - f * e1[j]) / den
                score[j] -= mj
                for m in range(p):
                    mm = (s1[m] - f * e1[m]) / den
                    info[j, m] += (s2[j, m] - f * e2[j, m]) / den - mj * mm
    return loglik, score, info


@_njit
def _fit(at_risk, events, Z, cells):
    """Newton-Raphson with step halving; (coef, var, loglik, loglik at zero)."""
    p = Z.shape[1]
    beta = np.zeros(p)
    loglik, score, info = _evaluate(at_risk, events, Z, cells, beta)
    null = loglik
    for _ in range(50):
        step = np.linalg.solve(info, score)
        if np.max(np.abs(step)) < 1e-9:
            beta = beta + step
            break
        for _halving in range(30):
            new = beta + step
            new_loglik, new_score, new_info = _evaluate(at_risk, events, Z, cells, new)
            if new_loglik >= loglik - 1e-12 * max(1.0, abs(loglik)):
                break
            step = step / 2.0
        beta, loglik, score, info = new, new_loglik, new_score, new_info
    return beta, np.linalg.inv(info), loglik, null


@_njit
def _km(times, at_risk, events, landmark, tau):
    """KM median, survival at ``landmark`` and RMST to ``tau`` of one cell."""
    surv = 1.0
    median = math.nan
    at_landmark = 1.0
    area, last_time, at_tau = 0.0, 0.0, 1.0
    for t in range(times.shape[0]):
        n, d = at_risk[t], events[t]
        if n == 0.0:
            break
        if times[t] <= tau:
            area += surv * (times[t] - last_time)
            last_time = times[t]
        if d > 0.0:
            surv *= 1.0 - d / n
        if times[t] <= tau:
            at_tau = surv
        if times[t] <= landmark:
            at_landmark = surv
        if math.isnan(median) and surv <= 0.5:
            median = times[t]
    area += at_tau * (tau - last_time)
    return median, at_landmark, area


def _designs(n_levels: int):
    """Cells (arm + 2 level) and the main, full and trend designs of a subgroup."""
    cells = np.arange(2 * n_levels)
    arm = (cells % 2).astype(float)
    level = cells // 2
    dummies = (level[:, None] == np.arange(1, n_levels)[None, :]).astype(float)
    main = np.column_stack([arm, dummies])
    full = np.column_stack([main, arm[:, None] * dummies])
    rank = level + 1.0
    trend = np.column_stack([arm, rank, arm * rank])
    return cells, main, full, trend


ARM = np.array([[0.0], [1.0]])


def battery(sorted_rows, codes, ordered, labels, landmark, tau) -> dict:
    """The floor's battery on time-sorted rows; ``codes`` per subgroup (sorted order,
    -1 missing), with its level ``labels`` and whether they are ``ordered``. Returns
    the level HRs and the interaction LRT statistics, keyed as survtdm1's outputs."""
    times, block, event, treated = sorted_rows
    n_blocks = times.shape[0]
    out = {}
    at_risk, events = _cell_table(block, event, treated, n_blocks, 2)
    both = np.array([0, 1])
    out["overall.hr"] = math.exp(_fit(at_risk, events, ARM, both)[0][0])
    for arm in (0, 1):
        _km(times, at_risk[:, arm], events[:, arm], landmark, tau)
    for name, code in codes.items():
        n_levels = int(code.max()) + 1
        cell = np.where(code >= 0, treated + 2 * code, -1)
        at_risk, events = _cell_table(block, event, cell, n_blocks, 2 * n_levels)
        cells, main, full, trend = _designs(n_levels)
        for k in range(n_levels):
            pair = cells[2 * k : 2 * k + 2]
            hr = math.exp(_fit(at_risk, events, ARM, pair)[0][0])
            out[f"{name}={labels[name][k]}.hr"] = hr
            for c in pair:
                _km(times, at_risk[:, c], events[:, c], landmark, tau)
        reduced = _fit(at_risk, events, main, cells)
        model = _fit(at_risk, events, full, cells)
        out[f"{name}.lrt"] = (2.0 * (model[2] - reduced[2]), n_levels - 1)
        if ordered[name]:
            _fit(at_risk, events, trend, cells)
    return out


def sort_rows(time, event, treated):
    """Rows sorted by time with each row's distinct-time index (done once, before timing
    the per-subgroup passes; survtdm1's time includes its own sort)."""
    order = np.argsort(time, kind="stable")
    sorted_time = time[order]
    new = np.ones(time.shape[0], dtype=bool)
    new[1:] = sorted_time[1:] != sorted_time[:-1]
    block = np.cumsum(new) - 1
    rows = (sorted_time[new], block, event[order].astype(np.bool_), treated[order].astype(np.int64))
    return rows, order


def prepare(plain, subgroups):
    """Sorted rows, codes, orders and labels of W1's plain frame (outside the timing)."""
    import lifelines_loop

    rows, order = sort_rows(
        plain["time"].to_numpy(float), plain["event"].to_numpy(), plain["treated"].to_numpy()
    )
    codes, ordered, labels = {}, {}, {}
    for spec in subgroups:
        name = spec["column"]
        labels[name], code, ordered[name] = lifelines_loop.levels(plain, spec)
        codes[name] = np.asarray(code, dtype=np.int64)[order]
    return rows, codes, ordered, labels


def comparable(out: dict) -> dict:
    """The floor's numbers as survtdm1's flat keys (LRT statistics as p-values)."""
    from scipy import stats

    flat = {}
    for key, value in out.items():
        if key.endswith(".lrt"):
            statistic, df = value
            name = key[: -len(".lrt")]
            flat[f"{name}.lrt_p"] = float(stats.chi2.sf(statistic, df))
        else:
            flat[key] = value
    return flat
