"""The plain (uncalibrated) two-arm trial with a binary biomarker.

One generator, :func:`simulate_two_arm_trials`, draws a batch of trials as
arrays; :func:`survtdm1.power.power_interaction` analyses such batches, and
:func:`simulate_two_arm` returns one trial as a data frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survtdm1.exceptions import InputError

__all__ = ["TwoArmTrials", "simulate_two_arm", "simulate_two_arm_trials"]


@dataclass(frozen=True)
class TwoArmTrials:
    """A batch of simulated trials, rows sorted by time within each trial.

    Arrays have shape (trials, n): ``time``, ``event`` (bool), ``treated``
    and ``positive`` (0/1 integers).
    """

    time: np.ndarray
    event: np.ndarray
    treated: np.ndarray
    positive: np.ndarray


def simulate_two_arm_trials(
    rng: np.random.Generator,
    n_trials: int,
    *,
    n: int,
    prevalence: float,
    hr_negative: float,
    hr_positive: float,
    control_median: float,
    accrual: float,
    follow_up: float,
    dropout_rate: float = 0.0,
    prognostic_hr: float = 1.0,
) -> TwoArmTrials:
    """Simulate ``n_trials`` two-arm trials with a binary biomarker.

    Each trial randomises ``n`` patients 1:1 (exactly ``n // 2`` to control,
    the other ``n - n // 2`` to treatment); each patient is
    biomarker-positive with probability ``prevalence``. Event times are
    exponential: the control hazard gives ``control_median`` in
    biomarker-negative patients, ``prognostic_hr`` multiplies it in
    biomarker-positive ones, and the treatment multiplies it by
    ``hr_negative`` / ``hr_positive``. Entry is uniform over ``accrual``; the
    data cut is at ``accrual + follow_up``; drop-out is exponential with
    ``dropout_rate`` per time unit (0: none).

    The arguments are not checked (the callers check them). The draws, in
    this order, from ``rng``: the arm permutation of each trial, the
    biomarker uniforms, the standard exponentials of the event times, the
    entry uniforms and (only with drop-out) the drop-out exponentials, each
    of shape (n_trials, n).

    Examples
    --------
    >>> trials = simulate_two_arm_trials(np.random.default_rng(1), 2, n=10, prevalence=0.5,
    ...                                  hr_negative=1.0, hr_positive=0.5, control_median=12.0,
    ...                                  accrual=12.0, follow_up=12.0)
    >>> trials.time.shape, int(trials.treated.sum())
    ((2, 10), 10)
    """
    control = n // 2
    treated = rng.permuted(
        np.tile(np.r_[np.zeros(control, np.int64), np.ones(n - control, np.int64)], (n_trials, 1)),
        axis=1,
    )
    positive = (rng.random((n_trials, n)) < prevalence).astype(np.int64)
    base = math.log(2.0) / control_median
    hazard = base * np.where(treated == 1, np.where(positive == 1, hr_positive, hr_negative), 1.0)
    hazard = hazard * np.where(positive == 1, prognostic_hr, 1.0)
    latent = rng.standard_exponential((n_trials, n)) / hazard
    entry = rng.uniform(0.0, accrual, (n_trials, n))
    censor = accrual + follow_up - entry
    if dropout_rate > 0:
        censor = np.minimum(censor, rng.standard_exponential((n_trials, n)) / dropout_rate)
    time = np.minimum(latent, censor)
    event = latent <= censor
    order = np.argsort(time, axis=1, kind="stable")

    def take(values):
        return np.take_along_axis(values, order, axis=1)

    return TwoArmTrials(take(time), take(event), take(treated), take(positive))


def simulate_two_arm(
    n: int,
    prevalence: float,
    hr_by_level: tuple[float, float] | dict[int, float],
    control_median: float,
    accrual: float,
    follow_up: float,
    dropout_rate: float = 0.0,
    seed: int | np.random.Generator | None = None,
    prognostic_hr: float = 1.0,
) -> pd.DataFrame:
    """Simulate a two-arm trial with a binary biomarker and per-level treatment HRs.

    One trial of :func:`simulate_two_arm_trials` (the generator of
    :func:`survtdm1.power.power_interaction`) as a data frame. Plain random
    draws (no calibration). Event times are exponential: the control hazard
    gives ``control_median`` in biomarker-negative patients,
    ``prognostic_hr`` multiplies it in biomarker-positive ones, and the
    treatment multiplies it by the HR of the patient's biomarker level.
    Patients enter uniformly over ``accrual`` months and are followed until
    ``follow_up`` months after the last entry, with exponential drop-out at
    ``dropout_rate`` per month. Arms are allocated 1:1 at random (the
    treatment arm gets the odd patient). Rows are in the order of the
    observed times.

    Parameters
    ----------
    n : int
        Number of patients (at least 2).
    prevalence : float
        Probability of biomarker level 1, in [0, 1].
    hr_by_level : (float, float) or dict
        Treatment-vs-control hazard ratio in biomarker level 0 and level 1
        (a pair, or a dict keyed by 0 and 1); each positive.
    control_median : float
        Median event time (months) in the control arm, biomarker level 0.
    accrual, follow_up : float
        Accrual duration and minimum follow-up, in months (non-negative).
    dropout_rate : float, default 0
        Exponential drop-out rate per month.
    seed : int, numpy.random.Generator or None
        Seed (or generator) for ``numpy.random.default_rng``.
    prognostic_hr : float, default 1
        Hazard ratio of biomarker level 1 vs 0 in the control arm.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id`` (1..n), ``time`` (months), ``event`` (1/0),
        ``arm`` ("treatment"/"control") and ``biomarker`` (1/0).

    Raises
    ------
    InputError
        If an argument is out of range.

    Examples
    --------
    >>> trial = simulate_two_arm(400, 0.3, (0.7, 0.4), 12.0, 24.0, 12.0, seed=1)
    >>> sorted(trial.columns)
    ['arm', 'biomarker', 'event', 'patient_id', 'time']
    """
    hr_negative, hr_positive = _two_arm_hrs(hr_by_level)
    _check_two_arm(n, prevalence, control_median, accrual, follow_up, dropout_rate, prognostic_hr)
    trials = simulate_two_arm_trials(
        np.random.default_rng(seed),
        1,
        n=int(n),
        prevalence=prevalence,
        hr_negative=hr_negative,
        hr_positive=hr_positive,
        control_median=control_median,
        accrual=accrual,
        follow_up=follow_up,
        dropout_rate=dropout_rate,
        prognostic_hr=prognostic_hr,
    )
    return pd.DataFrame(
        {
            "patient_id": np.arange(1, int(n) + 1),
            "time": trials.time[0],
            "event": trials.event[0].astype(int),
            "arm": np.where(trials.treated[0] == 1, "treatment", "control"),
            "biomarker": trials.positive[0].astype(int),
        }
    )


def _two_arm_hrs(hr_by_level: tuple[float, float] | dict[int, float]) -> tuple[float, float]:
    values = (
        [hr_by_level.get(0), hr_by_level.get(1)]
        if isinstance(hr_by_level, dict)
        else list(hr_by_level)
    )
    if len(values) != 2 or any(v is None or not np.isfinite(v) or v <= 0 for v in values):
        raise InputError(
            f"hr_by_level must give two positive HRs (levels 0 and 1), got {hr_by_level!r}"
        )
    return float(values[0]), float(values[1])


def _check_two_arm(
    n: int,
    prevalence: float,
    control_median: float,
    accrual: float,
    follow_up: float,
    dropout_rate: float,
    prognostic_hr: float,
) -> None:
    problems = {
        "n must be an integer of at least 2": not (float(n).is_integer() and n >= 2),
        "prevalence must lie in [0, 1]": not 0.0 <= prevalence <= 1.0,
        "control_median must be positive": not control_median > 0,
        "accrual and follow_up must be non-negative with a positive sum": not (
            accrual >= 0 and follow_up >= 0 and accrual + follow_up > 0
        ),
        "dropout_rate must be non-negative": not dropout_rate >= 0,
        "prognostic_hr must be positive": not prognostic_hr > 0,
    }
    for message, failed in problems.items():
        if failed:
            raise InputError(f"simulate_two_arm: {message}")
