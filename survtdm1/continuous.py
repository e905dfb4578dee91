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

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import linalg, stats
from scipy.interpolate import BSpline
from tqdm import tqdm  # plain bars: tqdm.auto needs ipywidgets in Jupyter

from . import km
from .cohort import Cohort
from .cox import SortedSurvival, cox_fit, lr_test, wald_test
from .cox_batch import cell_risk_sets, cox_fit_cells
from .exceptions import InputError

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
    default: its ``stepp.win(r1, r2)`` takes ``r2`` (window size) and ``r1``
    (patients in common), the same two numbers.

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
            f"<p><b>STEPP</b> of {self.treatment_label} vs {self.control_label} "
            f"along <code>{self.biomarker}</code></p>"
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


def _biomarker_values(cohort: Cohort, biomarker: str) -> np.ndarray:
    if cohort.endpoint != "survival":
        raise InputError("stepp and effect_curve need a survival endpoint (time and event)")
    if biomarker not in cohort.data.columns:
        raise InputError(f"{cohort.source}: no column {biomarker!r}")
    column = cohort.data[biomarker]
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        example = column[bad].iloc[0]
        raise InputError(
            f"{cohort.source}: column {biomarker!r} must be numeric; "
            f"{int(bad.sum())} values are not, e.g. {example!r}"
        )
    values = values.to_numpy(dtype=float)
    if np.any(np.isinf(values)):
        raise InputError(f"{cohort.source}: column {biomarker!r} has infinite values")
    return values


def _landmark_columns(time, event, treated, landmark: float, conf_level: float) -> dict:
    points = {}
    for name, rows in (("treatment", treated == 1), ("control", treated == 0)):
        curve = km.kaplan_meier(time[rows], event[rows])
        points[name] = km.survival_at(curve, landmark)
    a, b = points["treatment"], points["control"]
    diff = a.surv - b.surv
    se = math.sqrt(a.std_err**2 + b.std_err**2)
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    return {
        "landmark_treatment": a.surv,
        "landmark_control": b.surv,
        "landmark_difference": diff,
        "landmark_difference_lower": diff - z * se,
        "landmark_difference_upper": diff + z * se,
    }


def _window_row(time, event, treated, values, fit, b: int, conf_level, landmark) -> dict:
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
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
    log_hr, se = float(fit.coef[b, 0]), float(fit.se[b, 0])
    row.update(
        hr=math.exp(log_hr) if fit.converged[b] else NAN,
        hr_lower=math.exp(log_hr - z * se) if fit.converged[b] else NAN,
        hr_upper=math.exp(log_hr + z * se) if fit.converged[b] else NAN,
        p_value=float(2.0 * stats.norm.sf(abs(log_hr / se))) if fit.converged[b] else NAN,
        log_hr=log_hr,
        se_log_hr=se,
    )
    if landmark is not None:
        row.update(_landmark_columns(time, event, treated, landmark, conf_level))
    if not fit.converged[b]:
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
        Also report each window's KM survival at this time per arm and their
        difference with CI.
    conf_level : float
    ties : {"efron", "breslow"}
    progress : bool
        Show a progress bar over the permutations (tqdm).

    Returns
    -------
    SteppResult

    Equivalent R (windows and HRs): ``stepp.win(type = "sliding", r1 = overlap,
    r2 = window_size)`` with ``coxph(Surv(time, event) ~ arm)`` in each window.

    Examples
    --------
    >>> result = stepp(cohort, "her2_mrna", seed=1)  # doctest: +SKIP
    >>> result.table[["window", "biomarker_median", "hr"]]  # doctest: +SKIP
    >>> result.p_value  # doctest: +SKIP
    """
    values_all = _biomarker_values(cohort, biomarker)
    known = ~np.isnan(values_all)
    n_missing = int((~known).sum())
    values = values_all[known]
    n = int(values.shape[0])
    if n < 4:
        raise InputError(f"stepp: only {n} patients with a known {biomarker!r}")
    window_size, overlap = default_windows(n, window_size, overlap)
    if not 2 <= window_size <= n:
        raise ValueError(f"window_size must be between 2 and {n}, not {window_size}")
    if not 0 <= overlap < window_size:
        raise ValueError(f"overlap must be between 0 and window_size - 1, not {overlap}")
    if n_permutations < 0:
        raise ValueError("n_permutations must be >= 0")
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
    rows = []
    for w in range(len(ranges)):
        rows_w = in_window[w]
        row = _window_row(
            time[rows_w],
            event[rows_w],
            treated[rows_w],
            values[rows_w],
            fit,
            w,
            conf_level,
            landmark,
        )
        rows.append({"window": w + 1, **row})
    table = pd.DataFrame(rows)
    overall = _window_row(time, event, treated, values, fit, len(ranges), conf_level, landmark)
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
        seed=seed if isinstance(seed, int | None) else None,
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
            f"<p><b>Treatment-effect curve</b> of {self.treatment_label} vs "
            f"{self.control_label} along <code>{self.biomarker}</code></p>"
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
    grid : array_like, optional
        Biomarker values for the table; default 101 values evenly spaced from
        the 2.5th to the 97.5th percentile (the curve is poorly determined in
        the extreme tails). Values must lie within the data's range.
    ties : {"efron", "breslow"}

    Returns
    -------
    EffectCurveResult

    Equivalent R::

        fit <- coxph(Surv(time, event) ~ arm * ns(x, df = 3))
        anova(coxph(Surv(time, event) ~ arm + ns(x, df = 3)), fit)

    Examples
    --------
    >>> curve = effect_curve(cohort, "her2_mrna")  # doctest: +SKIP
    >>> curve.p_interaction  # doctest: +SKIP
    """
    if df < 1:
        raise ValueError("df must be at least 1")
    values_all = _biomarker_values(cohort, biomarker)
    known = ~np.isnan(values_all)
    x = values_all[known]
    time, event, treated = cohort.times[known], cohort.events[known], cohort.treated[known]
    if np.unique(x).shape[0] <= df:
        raise InputError(f"effect_curve: {biomarker!r} has too few distinct values for df={df}")
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
    grid = np.asarray(grid, dtype=float)
    if np.any(grid < boundary[0]) or np.any(grid > boundary[1]):
        raise ValueError("effect_curve: grid values must lie within the biomarker's range")
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
