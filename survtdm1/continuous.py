"""Continuous biomarkers: STEPP and spline treatment-effect curves.

A median split of a continuous biomarker (HER2 mRNA, RAB5A, MDR1) throws
information away. Two standard views of how the treatment effect changes
along the biomarker:

- :func:`stepp`: the Subpopulation Treatment Effect Pattern Plot (Bonetti &
  Gelber 2000; R package ``stepp``): the treatment hazard ratio in overlapping
  sliding windows of patients ordered by the biomarker, with a permutation
  test of no heterogeneity.
- :func:`effect_curve`: a Cox model with a natural cubic spline of the
  biomarker and its interaction with the arm, giving HR(biomarker) with
  pointwise confidence limits and the likelihood-ratio test of the
  interaction (as R ``coxph(Surv(time, event) ~ arm * ns(x, df = 3))``).

Every window and every permutation is a mask over the same time-sorted rows,
so the permutation test fits all windows of all permutations at once with
:mod:`survtdm1.cox_batch`.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import linalg, stats
from scipy.interpolate import BSpline
from tqdm import tqdm  # plain bars: tqdm.auto needs ipywidgets in Jupyter

from . import km
from .cohort import Cohort, describe_rows
from .cox import TIES, SortedSurvival, cox_fit, lr_test, wald_test
from .cox_batch import cell_risk_sets, cox_fit_cells
from .exceptions import InputError, PlanError

__all__ = [
    "DEFAULT_WINDOWS",
    "EffectCurveResult",
    "SteppResult",
    "default_windows",
    "effect_curve",
    "natural_spline_basis",
    "stepp",
]

#: Number of windows the default ``overlap`` aims at.
DEFAULT_WINDOWS = 10
#: Default window size as a fraction of the patients with a known biomarker.
DEFAULT_WINDOW_FRACTION = 0.25
_ARM_DESIGN = np.array([[0.0], [1.0]])
_PERMUTATION_CHUNK = 100
NAN = float("nan")
#: Columns that load_cohort adds to ``Cohort.data``, not shown in messages.
_INTERNAL_COLUMNS = frozenset({"_arm_label", "_event", "_response"})


# --------------------------------------------------------------------------------------
# Checks of the keyword options (also used by survtdm1.power)
# --------------------------------------------------------------------------------------


def _is_integer(value) -> bool:
    """An int or numpy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _integer_option(where: str, name: str, value, minimum: int, maximum=None, why="") -> int:
    """``value`` as an int, or PlanError unless an integer in [minimum, maximum]."""
    if not _is_integer(value) or value < minimum or (maximum is not None and value > maximum):
        bounds = (
            f"between {minimum} and {maximum}{why}"
            if maximum is not None
            else (f"of at least {minimum}")
        )
        raise PlanError(f"{where}: {name} must be an integer {bounds}, not {value!r}")
    return int(value)


def _number_option(where: str, name: str, value, valid, requirement: str) -> float:
    """``value`` as a float, or PlanError unless a finite real number with ``valid(value)``."""
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not valid(float(value))
    ):
        raise PlanError(f"{where}: {name} must be {requirement}, not {value!r}")
    return float(value)


def _conf_level_option(where: str, conf_level) -> float:
    return _number_option(
        where, "conf_level", conf_level, lambda v: 0.0 < v < 1.0, "a number between 0 and 1"
    )


def _seed_option(where: str, seed) -> None:
    if seed is None or isinstance(seed, np.random.Generator):
        return
    if not _is_integer(seed) or seed < 0:
        raise PlanError(
            f"{where}: seed must be None, a non-negative integer or a numpy.random.Generator, "
            f"not {seed!r}"
        )


def _jobs_option(where: str, n_jobs) -> int:
    if not _is_integer(n_jobs) or n_jobs == 0:
        raise PlanError(
            f"{where}: n_jobs must be a non-zero integer (-1: all processors), not {n_jobs!r}"
        )
    return int(n_jobs)


def _ties_option(where: str, ties) -> str:
    if not isinstance(ties, str) or ties not in TIES:
        raise PlanError(f"{where}: ties must be one of {', '.join(TIES)}, not {ties!r}")
    return ties


# --------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------


def default_windows(n: int, window_size: int | None = None, overlap: int | None = None):
    """The documented defaults of :func:`stepp` for ``n`` patients.

    ``window_size`` defaults to a quarter of the patients (at least 20, at most
    ``n``); ``overlap`` to the value that gives :data:`DEFAULT_WINDOWS` windows,
    i.e. a step of ``ceil((n - window_size) / 9)`` patients between window
    starts. For n = 1,486 (KATHERINE) that is 372 patients per window,
    consecutive windows sharing 248 of them, 10 windows. R ``stepp`` has no
    default either; its ``stepp.win(r1, r2)`` numbers are not these two (``r2``
    is the *minimum* window size, ``r1`` the *largest* number of patients
    consecutive windows may share), see :func:`stepp`.

    >>> default_windows(1486)
    (372, 248)
    """
    if window_size is None:
        window_size = min(n, max(20, int(n * DEFAULT_WINDOW_FRACTION + 0.5)))
    if overlap is None:
        step = max(1, math.ceil((n - window_size) / (DEFAULT_WINDOWS - 1)))
        overlap = max(0, window_size - step)
    return int(window_size), int(overlap)


def _window_ranges(values: np.ndarray, window_size: int, overlap: int) -> list[tuple[float, float]]:
    """Biomarker ranges [min, max] of the sliding windows over ``values``.

    Window k nominally holds the patients of ranks ``k * step`` to
    ``k * step + window_size - 1`` (``step = window_size - overlap``); a last
    window ending at the largest value is added when the steps do not reach
    it. The window then holds *every* patient whose value lies in the range of
    its nominal members, so patients tied at an edge are all in or all out
    (a window may hold a few more than ``window_size`` patients). Windows
    that coincide after this are kept once.
    """
    ordered = np.sort(values)
    n = ordered.shape[0]
    step = window_size - overlap
    starts = list(range(0, n - window_size + 1, step))
    if starts[-1] + window_size < n:
        starts.append(n - window_size)
    ranges: list[tuple[float, float]] = []
    for start in starts:
        bounds = (float(ordered[start]), float(ordered[start + window_size - 1]))
        if bounds not in ranges:
            ranges.append(bounds)
    return ranges


# --------------------------------------------------------------------------------------
# STEPP
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SteppResult:
    """Result of :func:`stepp` (frozen).

    Attributes
    ----------
    table : DataFrame
        One row per window, columns:

        - ``window``: 1, 2, ... in biomarker order;
        - ``n``, ``n_treatment``, ``n_control``, ``events_treatment``,
          ``events_control``: patients and events in the window;
        - ``biomarker_min``, ``biomarker_max``, ``biomarker_median``: the window
          holds exactly the rows whose biomarker lies in [min, max];
        - ``hr``, ``hr_lower``, ``hr_upper``, ``p_value``: treatment vs control
          Cox HR with Wald CI and p (as R ``coxph``), ``log_hr``, ``se_log_hr``;
        - with ``landmark``: ``landmark_treatment``, ``landmark_control`` (KM
          survival at the landmark), ``landmark_difference`` (treatment minus
          control) and ``landmark_difference_lower``/``_upper`` (Wald CI from
          the Greenwood SEs);
        - ``note``: why a window's HR is missing (empty otherwise).
    overall : dict
        The same keys for all patients with a known biomarker.
    p_value : float
        Permutation p-value, ``(1 + #{permuted >= observed}) / (1 + n_permutations)``.
    statistic : float
        ``max_w |log HR(w) - log HR(all)|`` over the estimable windows.
    permutation_statistics : ndarray
        The statistic of each permutation.
    """

    table: pd.DataFrame
    overall: dict
    p_value: float
    statistic: float
    permutation_statistics: np.ndarray = field(repr=False)
    biomarker: str
    window_size: int
    overlap: int
    n_permutations: int
    seed: int | None
    n_missing: int
    landmark: float | None
    conf_level: float
    ties: str
    treatment_label: str
    control_label: str
    time_unit: str

    def summary(self) -> pd.DataFrame:
        """One row: biomarker, patients, windows, overall HR and the permutation test."""
        return pd.DataFrame(
            [
                {
                    "biomarker": self.biomarker,
                    "n": self.overall["n"],
                    "n_missing": self.n_missing,
                    "n_windows": len(self.table),
                    "window_size": self.window_size,
                    "overlap": self.overlap,
                    "hr_overall": self.overall["hr"],
                    "hr_overall_lower": self.overall["hr_lower"],
                    "hr_overall_upper": self.overall["hr_upper"],
                    "statistic": self.statistic,
                    "p_value": self.p_value,
                    "n_permutations": self.n_permutations,
                }
            ]
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>STEPP</b> of {html.escape(str(self.treatment_label))} vs "
            f"{html.escape(str(self.control_label))} "
            f"along <code>{html.escape(str(self.biomarker))}</code></p>"
        )
        return (
            head
            + self.summary().to_html(index=False, escape=True)
            + self.table.to_html(index=False, escape=True)
        )

    def plot(self, ax=None, **kwargs):
        """STEPP plot (see :func:`survtdm1.plots.stepp.stepp_plot`); returns the Figure."""
        from .plots.stepp import stepp_plot

        return stepp_plot(self, ax=ax, **kwargs)


def _biomarker_values(cohort: Cohort, biomarker: str, where: str) -> np.ndarray:
    """The biomarker column as floats (NaN where missing); InputError naming the bad rows."""
    if cohort.endpoint != "survival":
        raise InputError(f"{where} needs a survival endpoint (time and event)")
    columns = cohort.data.columns
    if not isinstance(biomarker, Hashable) or biomarker not in columns:
        shown = ", ".join([str(c) for c in columns if c not in _INTERNAL_COLUMNS][:20])
        raise InputError(
            f"{cohort.source}: biomarker column {biomarker!r} not found (columns: {shown})"
        )
    column = cohort.data[biomarker]
    values = pd.to_numeric(column, errors="coerce")
    positions = cohort.data.index.to_numpy()  # 0-based rows of the source
    bad = (values.isna() & column.notna()).to_numpy()
    if bad.any():
        example = column[bad].iloc[0]
        raise InputError(
            f"{cohort.source}: biomarker column {biomarker!r} has non-numeric values at "
            f"{describe_rows(positions[bad])} (e.g. {example!r})"
        )
    values = values.to_numpy(dtype=float)
    infinite = np.isinf(values)
    if infinite.any():
        raise InputError(
            f"{cohort.source}: biomarker column {biomarker!r} has infinite values at "
            f"{describe_rows(positions[infinite])}"
        )
    return values


def _landmark_columns(time, event, treated, landmark: float, conf_level: float) -> dict:
    points = {}
    for name, rows in (("treatment", treated == 1), ("control", treated == 0)):
        curve = km.kaplan_meier(time[rows], event[rows])
        points[name] = km.survival_at(curve, landmark)
    a, b = points["treatment"], points["control"]
    diff, lower, upper = km.difference_ci(a.surv, a.std_err, b.surv, b.std_err, conf_level)
    return {
        "landmark_treatment": a.surv,
        "landmark_control": b.surv,
        "landmark_difference": diff,
        "landmark_difference_lower": lower,
        "landmark_difference_upper": upper,
    }


def _window_row(time, event, treated, values, effect: dict, converged, conf_level, landmark):
    """One window's counts and biomarker range, its ``effect`` (HR columns) and landmark."""
    row = {
        "n": int(time.shape[0]),
        "n_treatment": int((treated == 1).sum()),
        "n_control": int((treated == 0).sum()),
        "events_treatment": int(event[treated == 1].sum()),
        "events_control": int(event[treated == 0].sum()),
        "biomarker_min": float(values.min()),
        "biomarker_max": float(values.max()),
        "biomarker_median": float(np.median(values)),
    }
    row.update(effect)
    if landmark is not None:
        row.update(_landmark_columns(time, event, treated, landmark, conf_level))
    if not converged:
        arms = [
            name
            for name, count in (
                ("treatment", row["events_treatment"]),
                ("control", row["events_control"]),
            )
            if count == 0
        ]
        row["note"] = (
            f"no event in the {' and '.join(arms)} arm" if arms else "Cox fit did not converge"
        )
    else:
        row["note"] = ""
    return row


def _effects(fit, conf_level: float) -> list[dict]:
    """Per fit of a one-covariate (arm) batch: HR, Wald CI and p, log HR and its SE.

    NaN where the fit did not converge (``BatchCoxFit`` stores NaN there).
    """
    hr, lower, upper = fit.hazard_ratio(0, conf_level)
    p_value = fit.wald_p()[:, 0]
    columns = (hr, lower, upper, p_value, fit.coef[:, 0], fit.se[:, 0])
    names = ("hr", "hr_lower", "hr_upper", "p_value", "log_hr", "se_log_hr")
    return [
        {name: float(column[b]) for name, column in zip(names, columns, strict=True)}
        for b in range(fit.coef.shape[0])
    ]


def _max_deviation(log_hr: np.ndarray, log_hr_all: float) -> np.ndarray:
    """``max_w |log_hr[..., w] - log_hr_all|`` ignoring non-estimable (NaN) windows."""
    deviation = np.abs(log_hr - log_hr_all)
    finite = np.isfinite(deviation)
    largest = np.where(finite, deviation, -np.inf).max(axis=-1)
    return np.where(finite.any(axis=-1), largest, np.nan)


def _permutation_statistics(
    time: np.ndarray,
    event: np.ndarray,
    treated: np.ndarray,
    in_window: np.ndarray,
    permutations: np.ndarray,
    log_hr_all: float,
    ties: str,
) -> np.ndarray:
    """The STEPP statistic of each permutation (rows sorted by time).

    ``in_window[w, i]``: patient i's (observed) biomarker value is in window
    w; ``permutations[k, j]``: the patient whose value sorted row j receives.
    """
    n_windows = in_window.shape[0]
    masks = in_window[:, permutations]  # (windows, permutations, rows)
    masks = masks.transpose(1, 0, 2).reshape(-1, time.shape[0])
    sets = cell_risk_sets(time, event, treated, masks, 2, ties=ties)
    fit = cox_fit_cells(sets, _ARM_DESIGN)
    log_hr = fit.coef[:, 0].reshape(-1, n_windows)
    return _max_deviation(log_hr, log_hr_all)


def stepp(
    cohort: Cohort,
    biomarker: str,
    *,
    window_size: int | None = None,
    overlap: int | None = None,
    n_permutations: int = 1000,
    seed: int | np.random.Generator | None = None,
    n_jobs: int = 1,
    landmark: float | None = None,
    conf_level: float = 0.95,
    ties: str = "efron",
    progress: bool = False,
) -> SteppResult:
    """Sliding-window STEPP of the treatment hazard ratio along a biomarker.

    Patients with a known biomarker value are ordered by it; windows of
    ``window_size`` patients slide along that order, consecutive windows
    sharing ``overlap`` patients. In each window the treatment vs control Cox
    HR (Efron ties, unstratified) is estimated with its Wald CI. A window
    holds exactly the rows whose biomarker lies in [biomarker_min,
    biomarker_max]: patients tied with a window's edge value are all inside,
    so a window may hold a few more than ``window_size`` patients. Rows with
    a missing biomarker are left out and counted (``n_missing``).

    The permutation test of no heterogeneity permutes the biomarker values
    among patients (time, event and arm stay with the patient), recomputes
    the windows' HRs and compares ``max_w |log HR(w) - log HR(all)|``;
    ``p = (1 + #{permuted >= observed}) / (1 + n_permutations)``. Windows
    without an estimable HR (no event in an arm) are left out of the maximum.

    Parameters
    ----------
    cohort : Cohort
        A survival cohort (see :func:`survtdm1.load_cohort`).
    biomarker : str
        Numeric column of ``cohort.data``.
    window_size : int, optional
        Patients per window; default a quarter of the patients with a known
        biomarker (372 for n = 1,486), see :func:`default_windows`.
    overlap : int, optional
        Patients shared by consecutive windows; default such that there are
        10 windows (248 for n = 1,486).
    n_permutations : int
        Permutations for the test (0: no test, ``p_value`` NaN).
    seed : int or numpy Generator, optional
        All randomness comes from ``numpy.random.default_rng(seed)``.
    n_jobs : int
        Parallel jobs (joblib; threads unless the caller activates another
        backend) over chunks of 100 permutations; the result does not depend
        on it.
    landmark : float, optional
        Also report each window's KM survival at this (positive) time per arm
        and their difference with CI.
    conf_level : float
        Between 0 and 1.
    ties : {"efron", "breslow"}
    progress : bool
        Show a progress bar over the permutations (tqdm).

    Returns
    -------
    SteppResult

    Raises
    ------
    InputError
        The cohort has no survival endpoint, no column ``biomarker``, or the
        column holds non-numeric or infinite values (the message names the
        rows), or fewer than 4 patients have a known value.
    PlanError
        An option is out of range or of the wrong type (e.g. ``window_size``
        larger than the patients with a known biomarker, ``conf_level``
        outside (0, 1), a negative ``landmark`` or ``n_permutations``).

    Notes
    -----
    Similar in spirit to the sliding windows of R ``stepp``
    (``stepp.win(type = "sliding", r1, r2)``), but not the same windows: in R,
    ``r2`` is the minimum number of patients per window and ``r1`` the largest
    number shared by consecutive windows, and ``stepp.subpop`` generates the
    windows with its own algorithm. Here window k nominally holds the patients
    of ranks ``k * step`` to ``k * step + window_size - 1`` in biomarker order
    (``step = window_size - overlap``), a last window ends at the largest
    value, and each window is then widened to every row whose value lies in
    its [min, max] range. The HRs are those of R
    ``coxph(Surv(time, event) ~ arm)`` fitted on each window's rows.

    Examples
    --------
    >>> result = stepp(cohort, "her2_mrna", seed=1)  # doctest: +SKIP
    >>> result.table[["window", "biomarker_median", "hr"]]  # doctest: +SKIP
    >>> result.p_value  # doctest: +SKIP
    """
    n_permutations = _integer_option("stepp", "n_permutations", n_permutations, 0)
    _seed_option("stepp", seed)
    n_jobs = _jobs_option("stepp", n_jobs)
    if landmark is not None:
        landmark = _number_option(
            "stepp", "landmark", landmark, lambda v: v > 0, "a positive finite number"
        )
    conf_level = _conf_level_option("stepp", conf_level)
    ties = _ties_option("stepp", ties)
    values_all = _biomarker_values(cohort, biomarker, "stepp")
    known = ~np.isnan(values_all)
    n_missing = int((~known).sum())
    values = values_all[known]
    n = int(values.shape[0])
    if n < 4:
        raise InputError(f"{cohort.source}: stepp: only {n} patients with a known {biomarker!r}")
    known_text = f" (the patients with a known {biomarker!r})"
    if window_size is not None:
        window_size = _integer_option("stepp", "window_size", window_size, 2, n, known_text)
    if overlap is not None:
        overlap = _integer_option("stepp", "overlap", overlap, 0)
    window_size, overlap = default_windows(n, window_size, overlap)
    if overlap >= window_size:
        raise PlanError(
            f"stepp: overlap must be smaller than window_size ({window_size}), not {overlap}"
        )
    time = cohort.times[known]
    event = cohort.events[known]
    treated = cohort.treated[known]

    ranges = _window_ranges(values, window_size, overlap)
    in_window = np.array([(values >= lo) & (values <= hi) for lo, hi in ranges])
    data = SortedSurvival.from_arrays(time, event)
    arm_sorted = data.sort_rows(treated).astype(np.int64)
    masks = np.vstack([in_window[:, data.order], np.ones((1, n), dtype=bool)])
    fit = cox_fit_cells(
        cell_risk_sets(data.time, data.event, arm_sorted, masks, 2, ties=ties), _ARM_DESIGN
    )
    effects = _effects(fit, conf_level)
    rows = []
    for w in range(len(ranges)):
        rows_w = in_window[w]
        row = _window_row(
            time[rows_w],
            event[rows_w],
            treated[rows_w],
            values[rows_w],
            effects[w],
            fit.converged[w],
            conf_level,
            landmark,
        )
        rows.append({"window": w + 1, **row})
    table = pd.DataFrame(rows)
    overall = _window_row(
        time, event, treated, values, effects[-1], fit.converged[-1], conf_level, landmark
    )
    log_hr_all = float(fit.coef[-1, 0])
    statistic = float(_max_deviation(table["log_hr"].to_numpy(dtype=float), log_hr_all))

    rng = np.random.default_rng(seed)
    permuted_stats = np.empty(0)
    p_value = NAN
    if n_permutations:
        permutations = rng.permuted(np.tile(np.arange(n), (n_permutations, 1)), axis=1)
        # sorted row j receives the value of patient permutations[k, order[j]]
        permutations = permutations[:, data.order]
        chunks = [
            permutations[start : start + _PERMUTATION_CHUNK]
            for start in range(0, n_permutations, _PERMUTATION_CHUNK)
        ]
        jobs = (
            delayed(_permutation_statistics)(
                data.time, data.event, arm_sorted, in_window, chunk, log_hr_all, ties
            )
            for chunk in chunks
        )
        results = []
        with tqdm(total=n_permutations, disable=not progress, desc="STEPP permutations") as bar:
            for part in Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(jobs):
                results.append(part)
                bar.update(part.shape[0])
        permuted_stats = np.concatenate(results)
        exceed = int(np.sum(permuted_stats >= statistic - 1e-12 * abs(statistic)))
        p_value = (1 + exceed) / (1 + n_permutations)
    return SteppResult(
        table=table,
        overall=overall,
        p_value=p_value,
        statistic=statistic,
        permutation_statistics=permuted_stats,
        biomarker=biomarker,
        window_size=window_size,
        overlap=overlap,
        n_permutations=n_permutations,
        seed=int(seed) if _is_integer(seed) else None,
        n_missing=n_missing,
        landmark=landmark,
        conf_level=conf_level,
        ties=ties,
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        time_unit=cohort.time_unit,
    )


# --------------------------------------------------------------------------------------
# Spline treatment-effect curve
# --------------------------------------------------------------------------------------


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
    """
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


def _grid_option(grid) -> np.ndarray:
    try:
        values = np.asarray(grid, dtype=float)
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise PlanError(
            f"effect_curve: grid must be a non-empty list of finite numbers, not {grid!r}"
        )
    return values


@dataclass(frozen=True)
class EffectCurveResult:
    """Result of :func:`effect_curve` (frozen).

    Attributes
    ----------
    table : DataFrame
        One row per grid value: ``biomarker``, ``hr``, ``hr_lower``,
        ``hr_upper`` (treatment vs control HR at that biomarker value, pointwise
        Wald CI), ``log_hr``, ``se_log_hr``.
    coef : DataFrame
        The model's coefficients: ``term``, ``coef``, ``se``.
    p_interaction : float
        Likelihood-ratio test of the arm x spline interaction (df = ``df``),
        as R ``anova(coxph(~ arm + ns(x, df)), coxph(~ arm * ns(x, df)))``.
    chisq_interaction : float
    p_interaction_wald : float
        Wald test of the same terms.
    """

    table: pd.DataFrame
    coef: pd.DataFrame
    p_interaction: float
    chisq_interaction: float
    p_interaction_wald: float
    df: int
    knots: np.ndarray
    boundary_knots: tuple[float, float]
    biomarker: str
    n: int
    n_events: int
    n_missing: int
    conf_level: float
    biomarker_treatment: np.ndarray = field(repr=False)
    biomarker_control: np.ndarray = field(repr=False)
    treatment_label: str
    control_label: str
    loglik: float
    converged: bool

    def summary(self) -> pd.DataFrame:
        """One row: biomarker, patients, spline df and knots, interaction tests."""
        return pd.DataFrame(
            [
                {
                    "biomarker": self.biomarker,
                    "n": self.n,
                    "n_events": self.n_events,
                    "n_missing": self.n_missing,
                    "df": self.df,
                    "knots": ", ".join(f"{k:.4g}" for k in self.knots),
                    "chisq_interaction": self.chisq_interaction,
                    "p_interaction": self.p_interaction,
                    "p_interaction_wald": self.p_interaction_wald,
                    "converged": self.converged,
                }
            ]
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>Treatment-effect curve</b> of {html.escape(str(self.treatment_label))} vs "
            f"{html.escape(str(self.control_label))} "
            f"along <code>{html.escape(str(self.biomarker))}</code></p>"
        )
        return head + self.summary().to_html(index=False, escape=True)

    def plot(self, ax=None, **kwargs):
        """HR(biomarker) plot (see :func:`survtdm1.plots.stepp.effect_curve_plot`)."""
        from .plots.stepp import effect_curve_plot

        return effect_curve_plot(self, ax=ax, **kwargs)


def effect_curve(
    cohort: Cohort,
    biomarker: str,
    *,
    df: int = 3,
    conf_level: float = 0.95,
    grid=None,
    ties: str = "efron",
) -> EffectCurveResult:
    """Treatment hazard ratio as a smooth function of a continuous biomarker.

    Fits the Cox model ``arm + ns(x) + arm:ns(x)`` with a natural cubic spline
    basis of ``df`` columns (:func:`natural_spline_basis`, as R ``ns``);
    HR(x) = exp(b_arm + ns(x) . b_interaction) with a pointwise Wald CI from the
    model's variance. The interaction is tested by the likelihood ratio against
    ``arm + ns(x)`` (df = ``df``). Rows with a missing biomarker are left out
    and counted.

    Parameters
    ----------
    cohort : Cohort
    biomarker : str
    df : int
        Columns of the spline basis (interior knots at the quantiles 1/df, ...).
    conf_level : float
        Between 0 and 1.
    grid : array_like, optional
        Biomarker values for the table; default 101 values evenly spaced from
        the 2.5th to the 97.5th percentile (the curve is poorly determined in
        the extreme tails). Values must lie within the data's range.
    ties : {"efron", "breslow"}

    Returns
    -------
    EffectCurveResult

    Raises
    ------
    InputError
        The cohort has no survival endpoint, no column ``biomarker``, or the
        column holds non-numeric or infinite values (the message names the
        rows), or too few distinct values for ``df``.
    PlanError
        ``df`` not a positive integer, ``conf_level`` outside (0, 1), unknown
        ``ties``, or ``grid`` not finite numbers within the biomarker's range.

    Equivalent R::

        fit <- coxph(Surv(time, event) ~ arm * ns(x, df = 3))
        anova(coxph(Surv(time, event) ~ arm + ns(x, df = 3)), fit)

    Examples
    --------
    >>> curve = effect_curve(cohort, "her2_mrna")  # doctest: +SKIP
    >>> curve.p_interaction  # doctest: +SKIP
    """
    df = _integer_option("effect_curve", "df", df, 1)
    conf_level = _conf_level_option("effect_curve", conf_level)
    ties = _ties_option("effect_curve", ties)
    if grid is not None:
        grid = _grid_option(grid)
    values_all = _biomarker_values(cohort, biomarker, "effect_curve")
    known = ~np.isnan(values_all)
    x = values_all[known]
    time, event, treated = cohort.times[known], cohort.events[known], cohort.treated[known]
    if np.unique(x).shape[0] <= df:
        raise InputError(
            f"{cohort.source}: effect_curve: biomarker column {biomarker!r} has too few "
            f"distinct values for df={df}"
        )
    basis, knots, boundary = natural_spline_basis(x, df)
    design_full = np.column_stack([treated, basis, treated[:, None] * basis])
    design_reduced = np.column_stack([treated, basis])
    full = cox_fit(time, event, design_full, ties=ties)
    reduced = cox_fit(time, event, design_reduced, ties=ties)
    chisq, p_lrt = lr_test(reduced, full, df)
    interaction = np.arange(1 + df, 1 + 2 * df)
    _, p_wald = wald_test(full, interaction)

    if grid is None:
        low, high = np.quantile(x, [0.025, 0.975])
        grid = np.linspace(low, high, 101)
    if np.any(grid < boundary[0]) or np.any(grid > boundary[1]):
        outside = grid[(grid < boundary[0]) | (grid > boundary[1])]
        raise PlanError(
            f"effect_curve: grid values must lie within the range of {biomarker!r} "
            f"[{boundary[0]:g}, {boundary[1]:g}]; {outside.shape[0]} do not, e.g. {outside[0]:g}"
        )
    grid_basis, _, _ = natural_spline_basis(grid, df, knots=knots, boundary_knots=boundary)
    contrast = np.zeros((grid.shape[0], design_full.shape[1]))
    contrast[:, 0] = 1.0
    contrast[:, interaction] = grid_basis
    log_hr = contrast @ full.coef
    se = np.sqrt(np.einsum("gi,ij,gj->g", contrast, full.var, contrast))
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    table = pd.DataFrame(
        {
            "biomarker": grid,
            "hr": np.exp(log_hr),
            "hr_lower": np.exp(log_hr - z * se),
            "hr_upper": np.exp(log_hr + z * se),
            "log_hr": log_hr,
            "se_log_hr": se,
        }
    )
    terms = ["arm"] + [f"ns{j + 1}" for j in range(df)] + [f"arm:ns{j + 1}" for j in range(df)]
    coef = pd.DataFrame({"term": terms, "coef": full.coef, "se": full.se})
    return EffectCurveResult(
        table=table,
        coef=coef,
        p_interaction=p_lrt,
        chisq_interaction=chisq,
        p_interaction_wald=p_wald,
        df=df,
        knots=knots,
        boundary_knots=boundary,
        biomarker=biomarker,
        n=int(x.shape[0]),
        n_events=int(event.sum()),
        n_missing=int((~known).sum()),
        conf_level=conf_level,
        biomarker_treatment=x[treated == 1],
        biomarker_control=x[treated == 0],
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        loglik=full.loglik,
        converged=full.converged,
    )
