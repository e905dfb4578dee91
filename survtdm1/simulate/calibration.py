"""Shared machinery of the calibrated trial generators.

Seeds and shipped rounding, the random building blocks (stratified uniforms,
inverse-survival draws, censoring), the one-dimensional and simplex searches
the calibrations use, the Kaplan-Meier (:mod:`survtdm1.km`) and Cox
statistics they tune against, and the pieces every trial module composes: the draws every
cohort makes, endpoint outcomes, death after a first event, copula scores,
expression markers and the final data frame. See :mod:`survtdm1.simulate` for
how a cohort is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survtdm1 import km

#: Seeds of the shipped cohorts in ``synthetic_data/`` and ``survtdm1/data/``.
DEFAULT_SEEDS: dict[str, int] = {"katherine": 2019, "emilia": 32, "kristine": 2016}

#: Decimals kept in the shipped CSV files.
TIME_DECIMALS = 2
MARKER_DECIMALS = 3

MARKER_COLUMNS = ("her2_mrna", "pdl1_mrna", "cd8", "rab5a", "mdr1", "egfr", "her3")

# --------------------------------------------------------------------------------------
# Survival curves, random building blocks and the parameter searches
# --------------------------------------------------------------------------------------


def stratified_uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """One uniform in each of ``n`` equal strata of (0, 1), in random order."""
    return (rng.permutation(n) + rng.uniform(size=n)) / n


def cell_uniforms(rng: np.random.Generator, cells: np.ndarray) -> np.ndarray:
    """Stratified uniforms drawn separately within each distinct cell label."""
    uniforms = np.empty(len(cells))
    for label in sorted(set(cells.tolist())):
        members = np.flatnonzero(cells == label)
        uniforms[members] = stratified_uniforms(rng, len(members))
    return uniforms


def piecewise_exponential_times(
    survival: np.ndarray, breaks: np.ndarray, hazards: np.ndarray
) -> np.ndarray:
    """Invert a piecewise-exponential survival curve.

    ``breaks`` are the start times of the pieces (the first is 0) and
    ``hazards`` their constant hazards, one row per patient (shape n x pieces).
    """
    target = -np.log(survival)
    widths = np.diff(breaks)
    cumulative = np.concatenate(
        [np.zeros((len(target), 1)), np.cumsum(hazards[:, :-1] * widths, axis=1)], axis=1
    )
    piece = (cumulative <= target[:, None]).sum(axis=1) - 1
    rows = np.arange(len(target))
    return breaks[piece] + (target - cumulative[rows, piece]) / hazards[rows, piece]


def weibull_times(survival: np.ndarray, shape: np.ndarray, median: np.ndarray) -> np.ndarray:
    """Invert Weibull survival curves given by their shape and median."""
    scale = median / np.log(2.0) ** (1.0 / shape)
    return scale * (-np.log(survival)) ** (1.0 / shape)


def censoring_times(
    entry: np.ndarray,
    dropout: np.ndarray,
    accrual: float,
    min_follow_up: float,
    rate: float,
    ramp_up: bool = False,
) -> np.ndarray:
    """Administrative censoring after accrual, combined with drop-out.

    ``entry`` and ``dropout`` are uniforms; ``entry = 1`` is the first patient
    randomised (longest follow-up). Accrual is uniform over ``accrual`` months,
    or with ``ramp_up`` at a rate growing linearly from zero. The data cut is
    ``min_follow_up`` months after the last patient. Drop-out is exponential
    with ``rate`` per month.
    """
    since_start = accrual * (1.0 - np.sqrt(1.0 - entry)) if ramp_up else accrual * entry
    administrative = min_follow_up + since_start
    if rate <= 0:
        return administrative
    return np.minimum(administrative, -np.log(dropout) / rate)


def _observe(latent: np.ndarray, censor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed time (rounded as shipped, at least 0.01) and event indicator."""
    time = np.maximum(np.round(np.minimum(latent, censor), TIME_DECIMALS), 0.01)
    return time, (latent <= censor).astype(int)


def copula_score(z: np.ndarray, noise: np.ndarray, rho: np.ndarray | float) -> np.ndarray:
    """Standard-normal score with correlation ``rho`` to the latent prognosis ``z``."""
    return rho * z + np.sqrt(1.0 - np.square(rho)) * noise


def top_mask(score: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` largest scores."""
    mask = np.zeros(len(score), dtype=bool)
    mask[np.argsort(-score, kind="stable")[:k]] = True
    return mask


def random_mask(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Boolean mask of ``k`` of ``n`` positions chosen at random."""
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=k, replace=False)] = True
    return mask


def bisect(
    statistic: Callable[[float], float],
    target: float,
    low: float,
    high: float,
    iterations: int = 30,
) -> float:
    """Parameter where a monotone ``statistic`` crosses ``target`` (bisection).

    Statistics of a finite cohort are step functions of a parameter; the
    bracket end whose statistic is closer to ``target`` is returned.
    """
    increasing = statistic(high) > statistic(low)
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        if (statistic(middle) < target) == increasing:
            low = middle
        else:
            high = middle
    return min((high, low), key=lambda value: abs(statistic(value) - target))


def grid_search(
    statistic: Callable[[float], float], target: float, low: float, high: float, points: int = 151
) -> float:
    """Grid value whose ``statistic`` is closest to ``target`` (for non-monotone statistics)."""
    grid = np.linspace(low, high, points)
    errors = [abs(statistic(value) - target) for value in grid]
    return float(grid[int(np.nanargmin(errors))])


def fit_simplex(
    residuals: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    step: float = 0.1,
    evaluations: int = 600,
    restarts: int = 1,
) -> np.ndarray:
    """Parameters minimising the sum of squared ``residuals`` (Nelder-Mead).

    Residuals are (achieved - target) / tolerance. The statistics of a finite
    cohort are step functions of the parameters, on which a simplex can
    collapse early: the search starts from a wide simplex (``step`` on every
    parameter) and is restarted from its result ``restarts`` times.
    Deterministic.
    """
    from scipy.optimize import minimize  # imported when used

    def objective(parameters: np.ndarray) -> float:
        return float(np.sum(np.square(residuals(parameters))))

    best = np.asarray(start, dtype=float)
    for _ in range(restarts + 1):
        simplex = np.vstack([best, best + step * np.eye(len(best))])
        result = minimize(
            objective,
            best,
            method="Nelder-Mead",
            options={
                "maxfev": evaluations,
                "initial_simplex": simplex,
                "xatol": 1e-4,
                "fatol": 1e-4,
            },
        )
        best = np.asarray(result.x)
    return best


# --------------------------------------------------------------------------------------
# The statistics the calibrations tune against: survtdm1's Kaplan-Meier (floor 2) and a
# frozen two-group Cox HR (see cox_hr for why it is not survtdm1.cox)
# --------------------------------------------------------------------------------------


def km_median(time: np.ndarray, event: np.ndarray) -> float:
    """Kaplan-Meier median as R ``quantile(survfit)`` (``nan`` when not reached)."""
    return km.median_survival(km.kaplan_meier(time, event))[0]


def km_at(time: np.ndarray, event: np.ndarray, landmark: float) -> float:
    """Kaplan-Meier survival at ``landmark``, as ``summary(survfit, times = landmark)``."""
    return km.survival_at(km.kaplan_meier(time, event), landmark).surv


def cox_hr(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> float:
    """Hazard ratio of ``group`` (bool) vs the rest: Cox model, Efron ties (as R ``coxph``).

    Deliberately not :func:`survtdm1.cox.cox_fit`: the shipped cohorts depend
    on the last bits of this statistic. The EMILIA calibration ends in a
    Nelder-Mead polish on rounded times, whose path changes when an HR moves
    by a few units in the last place; ``cox_fit`` agrees with this Newton
    iteration to 4e-16 (median) but not bit for bit (and stops up to 6e-8
    short of the maximum on some calls), and with it emilia.csv changes in
    hundreds of rows. This one-covariate Efron Newton iteration (run to a step
    below 1e-10) is frozen so that the cohorts do not move when
    :mod:`survtdm1.cox` is reworked; tests/test_simulate.py checks it against
    lifelines.
    """
    group = np.asarray(group, dtype=bool)
    event_times = np.unique(time[event == 1])
    sorted_1, sorted_0 = np.sort(time[group]), np.sort(time[~group])
    at_risk_1 = len(sorted_1) - np.searchsorted(sorted_1, event_times, side="left")
    at_risk_0 = len(sorted_0) - np.searchsorted(sorted_0, event_times, side="left")
    index = {value: i for i, value in enumerate(event_times)}
    deaths_1 = np.bincount([index[t] for t in time[(event == 1) & group]], minlength=len(index))
    deaths_0 = np.bincount([index[t] for t in time[(event == 1) & ~group]], minlength=len(index))
    ties = deaths_1 + deaths_0
    rows = np.repeat(np.arange(len(event_times)), ties)
    fraction = (np.arange(ties.sum()) - np.repeat(np.cumsum(ties) - ties, ties)) / ties[rows]
    risk_1 = at_risk_1[rows] - fraction * deaths_1[rows]
    risk_0 = at_risk_0[rows] - fraction * deaths_0[rows]
    beta = 0.0
    for _ in range(60):
        share = risk_1 * np.exp(beta) / (risk_0 + risk_1 * np.exp(beta))
        step = (deaths_1.sum() - share.sum()) / max((share * (1.0 - share)).sum(), 1e-12)
        beta += float(np.clip(step, -2.0, 2.0))
        if abs(step) < 1e-10:
            break
    return float(np.exp(beta))


# --------------------------------------------------------------------------------------
# Pieces shared by the trial cohorts
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draws:
    """Random numbers every calibrated cohort draws once from its seed (trials add their own).

    ``treated`` marks the T-DM1 arm (listed first), ``u_event`` holds the
    uniforms behind the latent event times, ``entry`` and ``dropout`` those of
    :func:`censoring_times`, ``noise`` independent standard-normal scores by
    name, ``age`` the ages and ``order`` the permutation that sets the
    patients' row order.
    """

    treated: np.ndarray
    u_event: np.ndarray
    entry: np.ndarray
    dropout: np.ndarray
    noise: dict[str, np.ndarray]
    age: np.ndarray
    order: np.ndarray


@dataclass(frozen=True)
class Outcome:
    """Latent and observed times of one endpoint."""

    latent: np.ndarray
    censor: np.ndarray
    time: np.ndarray
    event: np.ndarray


def make_outcome(latent: np.ndarray, censor: np.ndarray) -> Outcome:
    time, event = _observe(latent, censor)
    return Outcome(latent, censor, time, event)


def post_event_survival(
    first: Outcome,
    uniforms: tuple[np.ndarray, np.ndarray],
    fatal_fraction: np.ndarray,
    median: np.ndarray,
    censor: np.ndarray,
    shape: np.ndarray | float = 1.0,
) -> Outcome:
    """Death after a first event.

    A ``fatal_fraction`` of first events leads to death after a Weibull time
    with the given ``median`` and ``shape``; the others to no death within
    follow-up. Deaths only follow the first event, so the overall-survival time
    is never shorter than the first-event time; ``censor`` is the data cut of
    the overall-survival analysis (never earlier than that of the first event).
    """
    u_fatal, u_time = uniforms
    delay = np.where(u_fatal < fatal_fraction, weibull_times(u_time, shape, median), np.inf)
    return make_outcome(first.latent + delay, np.maximum(censor, first.censor))


def _split_hr(
    time: np.ndarray, event: np.ndarray, marker: np.ndarray, members: np.ndarray
) -> float:
    """HR of marker-low (at or below the median of ``marker``, NaN ignored) vs high."""
    known = ~np.isnan(marker)
    low = marker <= np.median(marker[known])
    rows = members & known
    return cox_hr(time[rows], event[rows], low[rows])


def arm_copula(
    z: np.ndarray, noise: np.ndarray, treated: np.ndarray, rho: dict[bool, float]
) -> np.ndarray:
    """Copula score with an arm-specific correlation to the latent prognosis."""
    return copula_score(z, noise, np.where(treated, rho[True], rho[False]))


def calibrate_split(
    score: Callable[[dict[bool, float]], np.ndarray],
    outcome: Outcome,
    treated: np.ndarray,
    targets: dict[bool, float],
) -> dict[bool, float]:
    """Arm-specific copula correlations giving the target low-vs-high HR within each arm."""
    rho = {True: 0.0, False: 0.0}
    for _ in range(2):  # the pooled median couples the arms slightly
        for arm, target in targets.items():

            def hr(value: float, arm: bool = arm) -> float:
                rho[arm] = value
                return _split_hr(outcome.time, outcome.event, score(rho), treated == arm)

            rho[arm] = bisect(hr, target, -0.95, 0.95, iterations=20)
    return rho


# Scales of the continuous markers: log2 normalised expression (synthetic units),
# value = centre + spread * standard-normal score.
EXPRESSION_SCALE = {
    "her2_mrna": (11.5, 1.4),
    "pdl1_mrna": (6.0, 1.1),
    "cd8": (7.0, 1.3),
    "rab5a": (9.5, 0.5),
    "mdr1": (4.5, 1.0),
    "egfr": (5.5, 1.2),
    "her3": (9.0, 0.9),
}


def expression_values(name: str, score: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Expression values on the marker's scale, NaN where not assessed."""
    centre, spread = EXPRESSION_SCALE[name]
    return np.where(known, np.round(centre + spread * score, MARKER_DECIMALS), np.nan)


def assemble(
    prefix: str, columns: dict[str, np.ndarray], order: np.ndarray, names: tuple[str, ...]
) -> pd.DataFrame:
    """Data frame of ``names`` in a random patient order, with ids ``PREFIX-0001``..."""
    frame = pd.DataFrame({name: columns[name] for name in names}).iloc[order]
    frame.insert(0, "patient_id", [f"{prefix}-{i:04d}" for i in range(1, len(frame) + 1)])
    return frame.reset_index(drop=True)
