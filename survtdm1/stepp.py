"""STEPP: the treatment hazard ratio in sliding windows along a continuous biomarker.

The Subpopulation Treatment Effect Pattern Plot (Bonetti & Gelber 2000; R
package ``stepp``): the treatment hazard ratio in overlapping sliding windows
of patients ordered by the biomarker, with a permutation test of no
heterogeneity.

Every window and every permutation is a mask over the same time-sorted rows,
so the permutation test fits all windows of all permutations at once with
:mod:`survtdm1.cox_batch`. The window arithmetic (:func:`default_windows`,
:func:`window_ranges`) is pure and needs no fit.

Similar in spirit to the sliding windows of R ``stepp``
(``stepp.win(type = "sliding", r1, r2)``), but not the same windows: in R,
``r2`` is the minimum number of patients per window and ``r1`` the largest
number shared by consecutive windows, and ``stepp.subpop`` generates the
windows with its own algorithm. Here window k nominally holds the patients of
ranks ``k * step`` to ``k * step + window_size - 1`` in biomarker order
(``step = window_size - overlap``), a last window ends at the largest value.
Ties in the biomarker at a window's edge are handled as ``window_ties`` says:
``"together"`` (default) widens the window to every row whose value lies in
its [min, max] range, so tied patients are all in or all out and a window can
hold more than ``window_size`` patients (on an integer biomarker, up to 15 %
more in practice); ``"split"`` keeps exactly ``window_size`` patients per
window, cutting through a tie in the order of the cohort's rows. The table's
``n`` is always the actual number of patients of a window.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _checks, km
from .biomarker import biomarker_values
from .cohort import Cohort
from .cox import SortedSurvival
from .cox_batch import BatchCoxFit, cell_risk_sets, cox_fit_cells
from .exceptions import InputError

__all__ = [
    "DEFAULT_WINDOWS",
    "WINDOW_TIES",
    "SteppResult",
    "default_windows",
    "rank_window_members",
    "stepp",
    "window_members",
    "window_ranges",
    "window_starts",
]

WHERE = "stepp"
#: Number of windows the default ``overlap`` aims at.
DEFAULT_WINDOWS = 10
#: Default window size as a fraction of the patients with a known biomarker.
DEFAULT_WINDOW_FRACTION = 0.25
_ARM_DESIGN = np.array([[0.0], [1.0]])
_PERMUTATION_CHUNK = 100
#: How a window treats patients tied with its edge value (see the module docstring).
WINDOW_TIES = ("together", "split")
NAN = float("nan")


# --------------------------------------------------------------------------------------
# Windows (pure arithmetic on the sorted values, no fit)
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


def window_ranges(values: np.ndarray, window_size: int, overlap: int) -> list[tuple[float, float]]:
    """Biomarker ranges [min, max] of the sliding windows over ``values``.

    Window k nominally holds the patients of ranks ``k * step`` to
    ``k * step + window_size - 1`` (``step = window_size - overlap``); a last
    window ending at the largest value is added when the steps do not reach
    it. The window then holds *every* patient whose value lies in the range of
    its nominal members, so patients tied at an edge are all in or all out
    (a window may hold a few more than ``window_size`` patients). Windows
    that coincide after this are kept once. ``values`` need not be sorted.

    >>> window_ranges(np.array([5.0, 1.0, 2.0, 2.0, 3.0, 4.0]), 3, 1)
    [(1.0, 2.0), (2.0, 4.0), (3.0, 5.0)]
    """
    ordered = np.sort(values)
    ranges: list[tuple[float, float]] = []
    for start in window_starts(ordered.shape[0], window_size, overlap):
        bounds = (float(ordered[start]), float(ordered[start + window_size - 1]))
        if bounds not in ranges:
            ranges.append(bounds)
    return ranges


def window_starts(n: int, window_size: int, overlap: int) -> list[int]:
    """First rank (0-based, in biomarker order) of each nominal window.

    Steps of ``window_size - overlap``; a last window ending at the largest
    value is added when the steps do not reach it.

    >>> window_starts(10, 4, 1)
    [0, 3, 6]
    >>> window_starts(11, 4, 1)
    [0, 3, 6, 7]
    """
    step = window_size - overlap
    starts = list(range(0, n - window_size + 1, step))
    if starts[-1] + window_size < n:
        starts.append(n - window_size)
    return starts


def rank_window_members(values: np.ndarray, window_size: int, overlap: int) -> np.ndarray:
    """``members[w, i]`` for ``window_ties = "split"``: exactly ``window_size`` patients each.

    Window w holds the patients of ranks ``starts[w]`` to ``starts[w] +
    window_size - 1`` (:func:`window_starts`) in biomarker order, ties ranked
    in the order of ``values`` (a stable sort), so a tie at an edge is split.

    >>> rank_window_members(np.array([5.0, 1.0, 2.0, 2.0, 3.0, 4.0]), 3, 1).astype(int)
    array([[0, 1, 1, 1, 0, 0],
           [0, 0, 0, 1, 1, 1],
           [1, 0, 0, 0, 1, 1]])
    """
    n = values.shape[0]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(n)
    starts = window_starts(n, window_size, overlap)
    return np.array([(rank >= start) & (rank < start + window_size) for start in starts])


def window_members(values: np.ndarray, ranges: list[tuple[float, float]]) -> np.ndarray:
    """``members[w, i]``: ``values[i]`` lies in the range of window ``w`` (bool array).

    >>> window_members(np.array([1.0, 2.0, 3.0]), [(1.0, 2.0), (2.0, 3.0)]).astype(int)
    array([[1, 1, 0],
           [0, 1, 1]])
    """
    return np.array([(values >= low) & (values <= high) for low, high in ranges])


def _window_sizes(n: int, window_size, overlap, known_text: str) -> tuple[int, int]:
    """Checked ``window_size`` and ``overlap`` (defaults from :func:`default_windows`)."""
    if window_size is not None:
        window_size = _checks.integer("window_size", window_size, 2, n, WHERE, known_text)
    if overlap is not None:
        overlap = _checks.integer("overlap", overlap, 0, where=WHERE)
    window_size, overlap = default_windows(n, window_size, overlap)
    if overlap >= window_size:
        raise _checks.fail("overlap", overlap, f"smaller than window_size ({window_size})", WHERE)
    return window_size, overlap


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
        - ``biomarker_min``, ``biomarker_max``, ``biomarker_median``: with
          ``window_ties = "together"`` the window holds exactly the rows whose
          biomarker lies in [min, max]; with "split", ``n`` is ``window_size``
          and rows tied with an edge value may be outside;
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
    window_ties : {"together", "split"}
        How ties at a window's edge were handled (see :func:`stepp`).
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
    window_ties: str = "together"

    def summary(self) -> pd.DataFrame:
        """One row: biomarker, patients, windows (nominal and actual sizes), overall HR, test."""
        return pd.DataFrame(
            [
                {
                    "biomarker": self.biomarker,
                    "n": self.overall["n"],
                    "n_missing": self.n_missing,
                    "n_windows": len(self.table),
                    "window_size": self.window_size,
                    "window_n_min": int(self.table["n"].min()),
                    "window_n_max": int(self.table["n"].max()),
                    "window_ties": self.window_ties,
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


@dataclass(frozen=True)
class _Options:
    """The checked keyword options of :func:`stepp`."""

    n_permutations: int
    seed: int | np.random.Generator | None
    n_jobs: int
    landmark: float | None
    conf_level: float
    ties: str
    window_ties: str = "together"


def _options(n_permutations, seed, n_jobs, landmark, conf_level, ties, window_ties) -> _Options:
    return _Options(
        n_permutations=_checks.integer("n_permutations", n_permutations, 0, where=WHERE),
        seed=_checks.seed(seed, WHERE),
        n_jobs=_checks.n_jobs(n_jobs, WHERE),
        landmark=_checks.optional_positive("landmark", landmark, WHERE),
        conf_level=_checks.conf_level(conf_level, WHERE),
        ties=_checks.ties(ties, WHERE),
        window_ties=_checks.choice("window_ties", window_ties, WINDOW_TIES, WHERE),
    )


def _known_values(cohort: Cohort, biomarker: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a known biomarker (mask) and their values; InputError below 4 rows."""
    values_all = biomarker_values(cohort, biomarker, WHERE)
    known = ~np.isnan(values_all)
    n = int(known.sum())
    if n < 4:
        raise InputError(f"{cohort.source}: stepp: only {n} patients with a known {biomarker!r}")
    return known, values_all[known]


@dataclass(frozen=True)
class _Windows:
    """The known-biomarker rows, their windows and the batch Cox fit of every window.

    ``fit`` has one row per window and a last row for all patients.
    """

    time: np.ndarray
    event: np.ndarray
    treated: np.ndarray
    values: np.ndarray
    in_window: np.ndarray
    data: SortedSurvival
    arm_sorted: np.ndarray
    fit: BatchCoxFit


def _members(values: np.ndarray, window_size: int, overlap: int, window_ties: str):
    """``in_window[w, i]`` of the windows, ties at edges kept together or split."""
    if window_ties == "split":
        return rank_window_members(values, window_size, overlap)
    return window_members(values, window_ranges(values, window_size, overlap))


def _fit_windows(time, event, treated, values, in_window, ties: str) -> _Windows:
    """Cox fits of the arm in every window and in all patients, at once (cox_batch)."""
    data = SortedSurvival.from_arrays(time, event)
    arm_sorted = data.sort_rows(treated).astype(np.int64)
    masks = np.vstack([in_window[:, data.order], np.ones((1, values.shape[0]), dtype=bool)])
    fit = cox_fit_cells(
        cell_risk_sets(data.time, data.event, arm_sorted, masks, 2, ties=ties), _ARM_DESIGN
    )
    return _Windows(time, event, treated, values, in_window, data, arm_sorted, fit)


def _window_table(windows: _Windows, options: _Options) -> tuple[pd.DataFrame, dict]:
    """One row per window, and the same columns for all patients (``overall``)."""
    effects = _effects(windows.fit, options.conf_level)
    rows = []
    for w, rows_w in enumerate(windows.in_window):
        row = _window_row(
            windows.time[rows_w],
            windows.event[rows_w],
            windows.treated[rows_w],
            windows.values[rows_w],
            effects[w],
            windows.fit.converged[w],
            options.conf_level,
            options.landmark,
        )
        rows.append({"window": w + 1, **row})
    overall = _window_row(
        windows.time,
        windows.event,
        windows.treated,
        windows.values,
        effects[-1],
        windows.fit.converged[-1],
        options.conf_level,
        options.landmark,
    )
    return pd.DataFrame(rows), overall


def _permutation_test(
    windows: _Windows, log_hr_all: float, statistic: float, options: _Options, progress: bool
) -> tuple[np.ndarray, float]:
    """The permuted statistics and the permutation p-value (NaN without permutations)."""
    from joblib import Parallel, delayed
    from tqdm import tqdm  # plain bars: tqdm.auto needs ipywidgets in Jupyter

    n_permutations = options.n_permutations
    if not n_permutations:
        return np.empty(0), NAN
    rng = np.random.default_rng(options.seed)
    n = windows.values.shape[0]
    permutations = rng.permuted(np.tile(np.arange(n), (n_permutations, 1)), axis=1)
    # sorted row j receives the value of patient permutations[k, order[j]]
    permutations = permutations[:, windows.data.order]
    chunks = [
        permutations[start : start + _PERMUTATION_CHUNK]
        for start in range(0, n_permutations, _PERMUTATION_CHUNK)
    ]
    jobs = (
        delayed(_permutation_statistics)(
            windows.data.time,
            windows.data.event,
            windows.arm_sorted,
            windows.in_window,
            chunk,
            log_hr_all,
            options.ties,
        )
        for chunk in chunks
    )
    results = []
    with tqdm(total=n_permutations, disable=not progress, desc="STEPP permutations") as bar:
        parallel = Parallel(n_jobs=options.n_jobs, prefer="threads", return_as="generator")
        for part in parallel(jobs):
            results.append(part)
            bar.update(part.shape[0])
    permuted = np.concatenate(results)
    exceed = int(np.sum(permuted >= statistic - 1e-12 * abs(statistic)))
    return permuted, (1 + exceed) / (1 + n_permutations)


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
    window_ties: str = "together",
    progress: bool = False,
) -> SteppResult:
    """Sliding-window STEPP of the treatment hazard ratio along a biomarker.

    Patients with a known biomarker value are ordered by it; windows of
    ``window_size`` patients slide along that order, consecutive windows
    sharing ``overlap`` patients. In each window the treatment vs control Cox
    HR (Efron ties, unstratified) is estimated with its Wald CI, as R
    ``coxph(Surv(time, event) ~ arm)`` on the window's rows. The table's ``n``
    is a window's actual size (see ``window_ties``). Rows with a missing
    biomarker are left out and counted (``n_missing``). The windows are not
    R ``stepp.win``'s (see the module docstring).

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
        Ties in the survival times (Cox partial likelihood).
    window_ties : {"together", "split"}
        Biomarker ties at a window's edge: all tied patients in the window
        (it may hold more than ``window_size``), or split in row order.
    progress : bool
        Show a progress bar over the permutations (tqdm).

    Returns
    -------
    SteppResult

    Raises
    ------
    InputError
        No survival endpoint, no column ``biomarker``, non-numeric or infinite
        values (the message names the rows), or fewer than 4 known values.
    PlanError
        An option is out of range or of the wrong type (e.g. ``window_size``
        larger than the patients with a known biomarker, ``conf_level``
        outside (0, 1), a negative ``landmark`` or ``n_permutations``).

    Examples
    --------
    >>> import survtdm1 as st
    >>> emilia = st.load_cohort(st.datasets.emilia(), arm="arm", treatment="T-DM1",
    ...                         control="Lapatinib+Capecitabine", time="pfs_months",
    ...                         event="pfs_event")
    >>> result = stepp(emilia, "her2_mrna", n_permutations=20, seed=1)
    >>> len(result.table), bool((result.table["hr"] < 1).all())
    (10, True)
    """
    options = _options(n_permutations, seed, n_jobs, landmark, conf_level, ties, window_ties)
    known, values = _known_values(cohort, biomarker)
    known_text = f" (the patients with a known {biomarker!r})"
    window_size, overlap = _window_sizes(values.shape[0], window_size, overlap, known_text)
    in_window = _members(values, window_size, overlap, options.window_ties)
    windows = _fit_windows(cohort.times[known], cohort.events[known], cohort.treated[known],
                           values, in_window, options.ties)  # fmt: skip
    table, overall = _window_table(windows, options)
    log_hr_all = float(windows.fit.coef[-1, 0])
    statistic = float(_max_deviation(table["log_hr"].to_numpy(dtype=float), log_hr_all))
    permuted, p_value = _permutation_test(windows, log_hr_all, statistic, options, progress)
    return SteppResult(
        table=table,
        overall=overall,
        p_value=p_value,
        statistic=statistic,
        permutation_statistics=permuted,
        biomarker=biomarker,
        window_size=window_size,
        overlap=overlap,
        n_permutations=options.n_permutations,
        seed=options.seed if isinstance(options.seed, int) else None,
        n_missing=int((~known).sum()),
        landmark=options.landmark,
        conf_level=options.conf_level,
        ties=options.ties,
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        time_unit=cohort.time_unit,
        window_ties=options.window_ties,
    )
