"""A plain (uncalibrated) two-arm trial with a binary biomarker, for power simulations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survtdm1.exceptions import InputError

from .calibration import _censoring_times


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

    Plain random draws (no calibration), meant for power simulations. Event
    times are exponential: the control hazard gives ``control_median`` in
    biomarker-negative patients, ``prognostic_hr`` multiplies it in
    biomarker-positive ones, and the treatment multiplies it by the HR of the
    patient's biomarker level. Patients enter uniformly over ``accrual``
    months and are followed until ``follow_up`` months after the last entry,
    with exponential drop-out at ``dropout_rate`` per month. Arms are
    allocated 1:1 at random.

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
    hazard_ratios = _two_arm_hrs(hr_by_level)
    _check_two_arm(n, prevalence, control_median, accrual, follow_up, dropout_rate, prognostic_hr)
    rng = np.random.default_rng(seed)
    treated = rng.permutation(np.arange(n) < (n + 1) // 2)
    biomarker = (rng.uniform(size=n) < prevalence).astype(int)
    rate = np.log(2.0) / control_median * np.where(biomarker == 1, prognostic_hr, 1.0)
    rate *= np.where(treated, hazard_ratios[biomarker], 1.0)
    latent = rng.exponential(1.0 / rate)
    censor = _censoring_times(
        rng.uniform(size=n), rng.uniform(size=n), accrual, follow_up, dropout_rate
    )
    return pd.DataFrame(
        {
            "patient_id": np.arange(1, n + 1),
            "time": np.minimum(latent, censor),
            "event": (latent <= censor).astype(int),
            "arm": np.where(treated, "treatment", "control"),
            "biomarker": biomarker,
        }
    )


def _two_arm_hrs(hr_by_level: tuple[float, float] | dict[int, float]) -> np.ndarray:
    values = (
        [hr_by_level.get(0), hr_by_level.get(1)]
        if isinstance(hr_by_level, dict)
        else list(hr_by_level)
    )
    if len(values) != 2 or any(v is None or not np.isfinite(v) or v <= 0 for v in values):
        raise InputError(
            f"hr_by_level must give two positive HRs (levels 0 and 1), got {hr_by_level!r}"
        )
    return np.asarray(values, dtype=float)


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
