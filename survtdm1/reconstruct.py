"""Individual patient data reconstructed from a digitised Kaplan-Meier curve.

The algorithm of Guyot, Ades, Ouwens and Welton (BMC Med Res Methodol 2012;
12:9), as R ``IPDfromKM`` and the authors' published R code: within each
interval of the published risk table the number censored is solved so that the
number at risk at the interval's end matches the table, censorings are spread
evenly within the interval, and events are read from the drops of the curve,
``d_k = round(n_k * (1 - S_k / S_last))``. Two departures from the published
code: after the last risk-table time (or over the whole curve without a
table) the curve is taken to be drawn to the last patient's follow-up, so
censorings are spread evenly until one patient is left at its end (Guyot
assumed the earlier average censoring rate, which leaves far too many at risk
in the tail of a trial's curve); and a reported total number of events is
reached exactly: first by Guyot's adjustment of the last interval's
censoring, then, for what rounding leaves over, by swapping single events and
censorings within risk-table intervals where that moves the curve least.

Digitisation noise is cleaned before that: points are sorted by time (a point
of a vertical drop clicked slightly to the left is put in its place), exact
repeats are dropped, the curve is made non-increasing by isotonic (pool
adjacent violators) regression, which undoes small upward jumps without the
downward bias of a running minimum, and a point is inserted at every risk-table
time. Each step is vectorised with numpy except the Guyot recursion itself,
which is sequential by nature (each point's events depend on the number at risk
that the previous points left).

Floor 2 (estimators): tables or arrays in, a DataFrame out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import _checks
from .cohort import describe_rows
from .exceptions import InputError

__all__ = ["read_at_risk", "read_curve", "reconstruct_ipd"]

#: Accepted column names (lower case, spaces as "_"); the first is the canonical one.
CURVE_TIME = ("time", "x", "t")
CURVE_SURVIVAL = ("survival", "surv", "s")
CURVE_PERCENT = ("survival_percent", "survival_%", "survival_(%)", "percent")
RISK_TIME = ("time", "x", "t")
RISK_COUNT = ("n_at_risk", "n_risk", "at_risk", "n")

#: A header-less or "x, y" curve whose largest survival value is at least this
#: (and none above 100) is read as percent (WebPlotDigitizer exports the axis
#: as drawn, often 0-100).
_PERCENT_DETECT = 50.0
#: ... and values up to 100 + this (a click just above the axis' 100 line) count as 100.
_PERCENT_SLACK = 1.0
_MAX_ITERATIONS = 100


# --------------------------------------------------------------------------------------
# Reading and validating the two tables
# --------------------------------------------------------------------------------------


def _is_numeric_row(values) -> bool:
    fields = [str(v).strip() for v in values if pd.notna(v) and str(v).strip() != ""]
    return bool(fields) and not pd.to_numeric(pd.Series(fields), errors="coerce").isna().any()


def _read_csv(path: Path) -> tuple[pd.DataFrame, bool]:
    """The file's table and whether it had a header (WebPlotDigitizer writes none)."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        raw = pd.read_csv(path, header=None, dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), False
    except pd.errors.ParserError as err:
        raise InputError(
            f"{path}: not a readable CSV table ({' '.join(str(err).split())})"
        ) from None
    raw = raw.dropna(axis=1, how="all")  # trailing commas
    if raw.shape[0] == 0:
        return raw, False
    if _is_numeric_row(raw.iloc[0]):
        return raw.reset_index(drop=True), False
    # WebPlotDigitizer's multi-dataset export has a dataset-name line above "X,Y"
    skip = 1
    if raw.shape[0] > 1 and not _is_numeric_row(raw.iloc[1]) and raw.iloc[1].notna().all():
        skip = 2
    header = [str(v).strip() for v in raw.iloc[skip - 1]]
    body = raw.iloc[skip:].reset_index(drop=True)
    body.columns = header
    return body, True


def _normalise(name) -> str:
    return str(name).strip().lower().replace(" ", "_")


def _find(frame: pd.DataFrame, aliases: tuple[str, ...]) -> str | None:
    by_name = {_normalise(c): c for c in frame.columns}
    return next((by_name[a] for a in aliases if a in by_name), None)


def _load(source, what: str, label: str) -> tuple[pd.DataFrame, str, bool]:
    """(table, name used in messages, whether its columns are positional x, y)."""
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), f"{label} table", False
    if isinstance(source, str | Path):
        frame, has_header = _read_csv(Path(source))
        if not has_header and frame.shape[0] > 0:
            if frame.shape[1] != 2:
                raise InputError(
                    f"{source}: a file without a header needs exactly two columns "
                    f"(time and {what}), found {frame.shape[1]}"
                )
            frame.columns = ["x", "y"]
        return frame, str(source), not has_header
    raise InputError(
        f"{label} must be a pandas DataFrame or a CSV path, not {type(source).__name__}"
    )


def _numbers(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    values = frame[column]
    numeric = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    for problem, mask in (
        ("non-numeric", np.isnan(numeric) & values.notna().to_numpy()),
        ("missing", values.isna().to_numpy()),
        ("non-finite", np.isinf(numeric)),
    ):
        if mask.any():
            raise InputError(
                f"{name}: column {column!r} has {problem} values at "
                f"{describe_rows(np.flatnonzero(mask))}"
            )
    return numeric


def _times(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    time = _numbers(frame, column, name)
    if (time < 0).any():
        raise InputError(
            f"{name}: column {column!r} has negative times at "
            f"{describe_rows(np.flatnonzero(time < 0))}"
        )
    return time


def _columns(frame: pd.DataFrame, name: str, wanted: dict[str, tuple[str, ...]]) -> dict:
    found = {key: _find(frame, aliases) for key, aliases in wanted.items()}
    missing = [key for key, column in found.items() if column is None]
    if missing:
        shown = ", ".join(str(c) for c in frame.columns)
        raise InputError(
            f"{name}: column {' / '.join(missing)} not found (columns: {shown}; "
            f"accepted names: {', '.join(a for k in missing for a in wanted[k])})"
        )
    return found


def read_curve(source) -> tuple[np.ndarray, np.ndarray, str]:
    """The digitised points of a curve as (time, survival in [0, 1], name).

    ``source`` is a DataFrame or a CSV path. Accepted columns: ``time`` (or
    ``x``, ``t``) and ``survival`` (or ``surv``, ``s``) as a proportion in
    [0, 1]; or ``survival_percent`` (or ``percent``) on the 0-100 scale. A
    file without a header (two numeric columns, as WebPlotDigitizer exports)
    or with the header ``x, y`` is read as time and survival, and its survival
    is taken as percent when its largest value is at least 50 (a curve drawn on
    a 0-100 axis starts near 100).
    """
    frame, name, positional = _load(source, "survival", "curve")
    if frame.shape[0] == 0:
        raise InputError(f"{name}: no points")
    time_column = _find(frame, CURVE_TIME)
    percent_column = _find(frame, CURVE_PERCENT)
    survival_column = _find(frame, CURVE_SURVIVAL)
    xy = time_column is not None and _normalise(time_column) == "x" and _find(frame, ("y",))
    if survival_column is None and percent_column is None and xy:
        survival_column, positional = _find(frame, ("y",)), True
    if survival_column is None and percent_column is None:
        _columns(frame, name, {"time": CURVE_TIME, "survival": CURVE_SURVIVAL + CURVE_PERCENT})
    _columns(frame, name, {"time": CURVE_TIME})
    time = _times(frame, time_column, name)
    column = survival_column if survival_column is not None else percent_column
    survival = _numbers(frame, column, name)
    scale = 1.0
    if column == percent_column:
        scale = 100.0
    elif positional and _PERCENT_DETECT <= survival.max() <= 100.0 + _PERCENT_SLACK:
        scale = 100.0
    if positional and scale == 100.0:  # a click just above the 100 line of the axis
        survival = np.where(
            survival <= 100.0 + _PERCENT_SLACK, np.minimum(survival, 100.0), survival
        )
    bad = (survival < 0) | (survival > scale)
    if bad.any():
        bounds = "[0, 100] (percent)" if scale == 100.0 else "[0, 1]"
        raise InputError(
            f"{name}: column {column!r} has survival outside {bounds} at "
            f"{describe_rows(np.flatnonzero(bad))} (e.g. {survival[bad][0]!r})"
        )
    return time, survival / scale, name


def read_at_risk(source) -> tuple[np.ndarray, np.ndarray, str]:
    """The published risk table as (time, n_at_risk, name), sorted by time.

    Accepted columns: ``time`` (or ``x``, ``t``) and ``n_at_risk`` (or
    ``n_risk``, ``at_risk``, ``n``); a file without a header is read as time
    and n_at_risk. Counts must be whole numbers that never increase with time;
    times must be distinct.
    """
    frame, name, _ = _load(source, "n_at_risk", "at_risk")
    if frame.shape[0] == 0:
        raise InputError(f"{name}: no rows")
    if list(frame.columns) == ["x", "y"]:
        frame.columns = ["time", "n_at_risk"]
    columns = _columns(frame, name, {"time": RISK_TIME, "n_at_risk": RISK_COUNT})
    time = _times(frame, columns["time"], name)
    count = _numbers(frame, columns["n_at_risk"], name)
    column = columns["n_at_risk"]
    for problem, mask in (
        ("negative counts", count < 0),
        ("counts that are not whole numbers", count != np.round(count)),
    ):
        if mask.any():
            raise InputError(
                f"{name}: column {column!r} has {problem} at {describe_rows(np.flatnonzero(mask))}"
            )
    order = np.argsort(time, kind="stable")
    repeated = order[1:][np.diff(time[order]) == 0]
    if repeated.size:
        raise InputError(
            f"{name}: column {columns['time']!r} repeats a time at {describe_rows(repeated)}"
        )
    rises = order[1:][np.diff(count[order]) > 0]
    if rises.size:
        raise InputError(
            f"{name}: at-risk counts in column {column!r} increase with time at "
            f"{describe_rows(np.sort(rises))} (a risk table never increases)"
        )
    return time[order], count[order].astype(np.int64), name


# --------------------------------------------------------------------------------------
# Cleaning the digitised points
# --------------------------------------------------------------------------------------


def decreasing_fit(values: np.ndarray) -> np.ndarray:
    """Least-squares non-increasing fit (pool adjacent violators).

    >>> decreasing_fit(np.array([1.0, 0.8, 0.84, 0.6])).round(2).tolist()
    [1.0, 0.82, 0.82, 0.6]
    """
    means: list[float] = []
    sizes: list[int] = []
    for value in values.tolist():
        mean, size = value, 1
        while means and means[-1] < mean:  # a block below its successor: pool them
            previous, count = means.pop(), sizes.pop()
            mean = (previous * count + mean * size) / (count + size)
            size += count
        means.append(mean)
        sizes.append(size)
    return np.repeat(means, sizes)


def clean_curve(time: np.ndarray, survival: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, de-duplicated, non-increasing points starting at (0, 1).

    Points are sorted by time and, at a shared time, by decreasing survival (the
    top of a vertical drop first); exact repeats are dropped; the survival is
    made non-increasing by :func:`decreasing_fit`; the curve starts at (0, 1).
    """
    order = np.lexsort((-survival, time))
    time, survival = time[order], survival[order]
    keep = np.ones(time.size, dtype=bool)
    keep[1:] = (np.diff(time) != 0) | (np.diff(survival) != 0)
    time, survival = time[keep], np.clip(decreasing_fit(survival[keep]), 0.0, 1.0)
    later = time > 0
    return np.append(0.0, time[later]), np.append(1.0, survival[later])


def _insert_times(time, survival, extra) -> tuple[np.ndarray, np.ndarray]:
    """Add a point at each ``extra`` time not yet present, on the step curve."""
    extra = np.setdiff1d(extra, time)
    before = np.searchsorted(time, extra, side="right") - 1
    where = np.searchsorted(time, extra, side="left")
    return np.insert(time, where, extra), np.insert(survival, where, survival[before])


# --------------------------------------------------------------------------------------
# The Guyot recursion
# --------------------------------------------------------------------------------------


class _Points:
    """Per-point state of the reconstruction: events ``d``, censorings ``cen``
    in (t_k, t_k+1), numbers at risk ``n_hat`` and the running KM value."""

    def __init__(self, time: np.ndarray, survival: np.ndarray):
        self.time = time
        self.surv = survival.tolist()
        m = time.size
        self.d = [0] * m
        self.cen = [0] * m
        self.n_hat = [0] * (m + 1)
        self.residual = [0.0] * m  # unrounded events minus events, per point
        self.km_start = 1.0  # KM value entering the interval being solved

    def spread(self, n_censor: int, lo: int, hi: int, stop: int) -> None:
        """Spread ``n_censor`` censorings evenly over (t_lo, t_stop), counted per point lo..hi."""
        self.cen[lo : hi + 1] = [0] * (hi + 1 - lo)
        if n_censor <= 0 or hi < lo:
            return
        times = self.time[lo] + np.arange(1, n_censor + 1) * (
            (self.time[stop] - self.time[lo]) / (n_censor + 1)
        )
        bucket = np.searchsorted(self.time[lo : hi + 1], times, side="right") - 1
        counts = np.bincount(np.clip(bucket, 0, hi - lo), minlength=hi + 1 - lo)
        self.cen[lo : hi + 1] = counts.tolist()

    def run(self, lo: int, hi: int, n_start: int) -> float:
        """Events and numbers at risk over points lo..hi; returns the KM value at hi."""
        d, cen, n_hat, surv = self.d, self.cen, self.n_hat, self.surv
        km = self.km_start
        n_hat[lo] = n_start
        for k in range(lo, hi + 1):
            n = n_hat[k]
            events, exact = 0, 0.0
            if k > 0 and km > 0 and n > 0:
                exact = n * (1.0 - surv[k] / km)
                events = min(max(round(exact), 0), n)
                km *= 1.0 - events / n
            d[k] = events
            self.residual[k] = exact - events
            left = n - events - cen[k]
            if left < 0:  # the number at risk cannot be negative
                cen[k], left = n - events, 0
            n_hat[k + 1] = left
        return km


def _solve_interval(points: _Points, lo, hi, stop, n_start, n_end) -> tuple[float, int]:
    """Censorings in [t_lo, t_stop) so that n_hat at ``stop`` is ``n_end`` (Guyot step 3-5).

    Returns the KM value at ``hi`` and the number censored in the interval.
    """
    surv = points.surv
    ratio = surv[stop] / surv[lo] if surv[lo] > 0 else 0.0
    ceiling = max(n_start - n_end, 0)
    n_censor = min(max(round(n_start * ratio - n_end), 0), ceiling)
    best = None
    for _ in range(_MAX_ITERATIONS):
        points.spread(n_censor, lo, hi, stop)
        km = points.run(lo, hi, n_start)
        gap = points.n_hat[hi + 1] - n_end
        if best is None or abs(gap) < best[0]:
            best = (abs(gap), n_censor)
        if gap == 0 or (gap < 0 and n_censor == 0):
            break
        step = min(max(n_censor + gap, 0), ceiling)
        if step == n_censor:
            break
        n_censor = step
    if best[1] != n_censor:  # Guyot's update cycled: keep the closest count
        n_censor = best[1]
        points.spread(n_censor, lo, hi, stop)
        km = points.run(lo, hi, n_start)
    surplus = points.n_hat[hi + 1] - n_end
    if surplus > 0:  # still too many at risk: they leave just before the risk time
        points.cen[hi] += surplus
        points.n_hat[hi + 1] = n_end
    return km, sum(points.cen[lo : hi + 1])


def _last_interval(points: _Points, lo, hi, n_start, n_censor, total_events) -> None:
    """The last interval: ``n_censor`` censorings, then as many as match the total events."""
    n_censor = min(max(n_censor, 0), n_start)
    points.spread(n_censor, lo, hi - 1, hi)
    points.run(lo, hi, n_start)
    if total_events is None:
        return
    before = sum(points.d[:lo])
    if before >= total_events:
        # the earlier intervals already hold every event (by rounding): Guyot
        # would drop the last interval's events; :func:`_honour_total` instead
        # removes the surplus where it changes the curve least
        return
    best = None
    for _ in range(_MAX_ITERATIONS):
        gap = before + sum(points.d[lo : hi + 1]) - total_events
        if best is None or abs(gap) < best[0]:
            best = (abs(gap), n_censor)
        if gap == 0 or (gap < 0 and n_censor == 0):
            break
        step = min(max(n_censor + gap, 0), n_start)
        if step == n_censor:
            break
        n_censor = step
        points.spread(n_censor, lo, hi - 1, hi)
        points.run(lo, hi, n_start)
    if best[1] != n_censor:
        points.spread(best[1], lo, hi - 1, hi)
        points.run(lo, hi, n_start)


def _honour_total(points: _Points, lower: list[int], total_events: int, arm_size: int) -> None:
    """Swap events and censorings within risk intervals until the events add up.

    Guyot's adjustment of the last interval cannot always reach the reported
    total (the earlier intervals' rounding is fixed by the risk table). The
    remaining difference is taken where a swap moves the reconstructed hazard
    least from the curve's (the change in rounding error over the number at
    risk): an event is added at a point of a drop, taking the patient from a
    later censoring of the same interval (or from those left at the end), or
    removed, the patient being censored just after it. The numbers at risk at
    the risk-table times stay.
    """
    d, cen = points.d, points.cen
    m = len(d)
    stops = [*lower[1:], m]
    interval = np.searchsorted(np.asarray(lower), np.arange(m), side="right") - 1
    gap = sum(d) - total_events
    # the cost of a swap: how much further the point's hazard moves from the curve's
    residual = np.asarray(points.residual)
    at_risk = np.maximum(np.asarray(points.n_hat[:m], dtype=float), 1.0)
    shift = -1.0 if gap < 0 else 1.0
    cost = (np.abs(residual + shift) - np.abs(residual)) / at_risk
    candidates = np.argsort(cost, kind="stable")
    left_at_end = arm_size - sum(d) - sum(cen)
    for k in candidates.tolist():
        if gap == 0:
            break
        if gap > 0 and d[k] > 0:
            d[k] -= 1
            cen[k] += 1
            gap -= 1
        elif gap < 0 and k > 0 and (d[k] > 0 or residual[k] > 0.0):
            stop = stops[interval[k]]
            donor = next((j for j in range(k, min(stop, m - 1)) if cen[j] > 0), None)
            if donor is not None:
                cen[donor] -= 1
            elif stop < m or left_at_end <= 0:
                continue  # nobody of this interval is left to have the event
            else:
                left_at_end -= 1
            d[k] += 1
            gap += 1


def _guyot(time, survival, risk_time, risk_count, total_events) -> _Points:
    points = _Points(time, survival)
    lower = np.searchsorted(time, risk_time, side="left").tolist()
    n_start = int(risk_count[0])
    for i in range(len(lower) - 1):
        lo, stop = lower[i], lower[i + 1]
        km, _ = _solve_interval(points, lo, stop - 1, stop, n_start, int(risk_count[i + 1]))
        points.km_start = km
        # as Guyot: when the curve's drops leave fewer at risk than published,
        # the next interval starts from those left (nobody appears from nowhere)
        n_start = min(points.n_hat[stop], int(risk_count[i + 1]))
    lo, hi = lower[-1], time.size - 1
    n_censor = 0
    if hi > lo:  # the curve is drawn to the last follow-up: one patient left at its end
        _, n_censor = _solve_interval(points, lo, hi - 1, hi, n_start, min(1, n_start))
    _last_interval(points, lo, hi, n_start, n_censor, total_events)
    if total_events is not None:
        _honour_total(points, lower, total_events, int(risk_count[0]))
    return points


def _patients(points: _Points, n: int) -> pd.DataFrame:
    """One row per patient: events at their points, censorings spread within (t_k, t_k+1)."""
    time = points.time
    d = np.asarray(points.d)
    cen = np.asarray(points.cen)[:-1]
    excess = d.sum() + cen.sum() - n
    if excess > 0:  # forcing the risk table can leave more leavers than patients
        taken = np.minimum(cen[::-1], np.maximum(excess - np.cumsum(cen[::-1]) + cen[::-1], 0))
        cen = cen - taken[::-1]
    start = np.repeat(np.arange(cen.size), cen)
    rank = np.arange(start.size) - np.repeat(np.cumsum(cen) - cen, cen)
    width = time[start + 1] - time[start]
    censor_time = time[start] + (rank + 1) / (cen[start] + 1) * width
    remaining = max(n - int(d.sum()) - int(cen.sum()), 0)
    frame = pd.DataFrame(
        {
            "time": np.concatenate([np.repeat(time, d), censor_time, np.full(remaining, time[-1])]),
            "event": np.concatenate(
                [np.ones(int(d.sum()), dtype=np.int64), np.zeros(cen.sum() + remaining, np.int64)]
            ),
        }
    )
    return frame.sort_values(["time", "event"], ascending=[True, False], kind="stable").reset_index(
        drop=True
    )


# --------------------------------------------------------------------------------------
# Public entry
# --------------------------------------------------------------------------------------


def _arm_size(risk_time, risk_count, n, name) -> tuple[np.ndarray, np.ndarray]:
    if risk_time is None:
        if n is None:
            raise InputError("reconstruct_ipd: give the arm size: an at_risk table or n")
        return np.array([0.0]), np.array([n])
    if risk_time[0] > 0:
        if n is None:
            raise InputError(
                f"{name}: the risk table starts at time {risk_time[0]:g}, not 0; "
                "give n (the arm size at time 0)"
            )
        return np.append(0.0, risk_time), np.append(n, risk_count)
    if n is not None and n != risk_count[0]:
        raise InputError(
            f"{name}: n = {n} disagrees with the risk table's {risk_count[0]} at risk at time 0"
        )
    return risk_time, risk_count


def reconstruct_ipd(curve, at_risk=None, *, total_events=None, n=None) -> pd.DataFrame:
    """Individual patient data of one arm from its digitised Kaplan-Meier curve.

    The algorithm of Guyot et al. (2012), as R
    ``IPDfromKM::getIPD(preprocess(dat, trisk, nrisk, totalpts), armID = 1, tot.events)``.

    Parameters
    ----------
    curve : DataFrame or path
        Digitised points, columns ``time, survival`` (survival a proportion in
        [0, 1]); points in any order, possibly repeated or slightly
        non-monotone. Also accepted: ``survival_percent`` (0-100), and the
        header-less two-column CSV that WebPlotDigitizer exports (or a header
        ``x, y``), read as percent when its largest survival value is at
        least 50. See :func:`read_curve`.
    at_risk : DataFrame or path, optional
        The published risk table, columns ``time, n_at_risk``; its row at time
        0 gives the arm size. Rows after the last digitised time are not used.
    total_events : int, optional
        The reported number of events in the arm; the censoring of the last
        risk-table interval is adjusted until the events add up to it.
    n : int, optional
        The arm size, needed when there is no risk table (or when it does not
        start at time 0); must agree with the table's count at time 0.

    Returns
    -------
    DataFrame
        One row per patient, columns ``time`` (float, the curve's time unit)
        and ``event`` (1 = event, 0 = censored), sorted by time.

    Raises
    ------
    InputError
        No points, survival outside [0, 1], negative or missing times, at-risk
        counts that increase with time or are not whole numbers, neither
        ``at_risk`` nor ``n``, ``n`` disagreeing with the table.
    PlanError
        ``n`` or ``total_events`` not a non-negative integer.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"time": [0, 2, 2, 5, 5, 9],
    ...                       "survival": [1, 1, 0.8, 0.8, 0.6, 0.6]})
    >>> ipd = reconstruct_ipd(curve, n=10, total_events=4)
    >>> int(ipd["event"].sum()), len(ipd)
    (4, 10)
    """
    n = None if n is None else _checks.integer("n", n, 1, where="reconstruct_ipd")
    if total_events is not None:
        total_events = _checks.integer("total_events", total_events, 0, where="reconstruct_ipd")
    time, survival, _ = read_curve(curve)
    risk_time = risk_count = None
    name = "at_risk"
    if at_risk is not None:
        risk_time, risk_count, name = read_at_risk(at_risk)
    risk_time, risk_count = _arm_size(risk_time, risk_count, n, name)
    arm_size = int(risk_count[0])
    if total_events is not None and total_events > arm_size:
        raise InputError(
            f"reconstruct_ipd: total_events = {total_events} exceeds the arm size {arm_size}"
        )
    time, survival = clean_curve(time, survival)
    used = risk_time <= time[-1]
    risk_time, risk_count = risk_time[used], risk_count[used]
    time, survival = _insert_times(time, survival, risk_time)
    points = _guyot(time, survival, risk_time, risk_count, total_events)
    return _patients(points, arm_size)
