"""Synthetic trial cohorts calibrated to published summaries.

The KATHERINE, EMILIA and KRISTINE trials never released patient-level data.
This package builds synthetic cohorts that reproduce their published figures
(arm sizes, event counts, hazard ratios, medians, landmark rates, biomarker
subgroups; see ``synthetic_data/README.md``) when analysed with standard tools.

How a cohort is built
---------------------
Seeded random draws alone do not reproduce many joint targets down to subgroups
of 40 patients, so the generator *calibrates*:

1. Every random number is drawn once, up front, from
   ``numpy.random.default_rng(seed)`` (stratified uniforms for event times and
   entry dates, normal scores for biomarkers).
2. Latent event times are drawn through the inverse of a target survival curve
   (piecewise exponential or Weibull) at stratified uniform quantiles, within
   each arm x biomarker cell, so each cell's Kaplan-Meier curve tracks its
   target closely.
3. Administrative censoring (uniform accrual, fixed data cut) and drop-out
   censor the latent times.
4. Biomarkers without a survival target of their own are attached through a
   Gaussian copula with the patient's latent prognosis (``z``: the normal
   score of the event-time quantile within the cell), with arm-specific
   correlations that give prognostic or predictive effects.
5. A few scalar parameters (cell curve scales, drop-out rate, copula
   correlations...) are then tuned by bisection or fixed-point iteration
   against the analysed cohort (Kaplan-Meier, Efron Cox), with the random
   numbers held fixed. The whole procedure is deterministic given the seed.

The public trial functions are :func:`simulate_katherine`,
:func:`simulate_emilia`, :func:`simulate_kristine` and the dispatcher
:func:`simulate_trial`. :func:`simulate_two_arm` is a plain (uncalibrated)
generator of a two-arm trial with a binary biomarker, one trial of
:func:`~survtdm1.simulate.two_arm.simulate_two_arm_trials`, the batch generator
that :func:`survtdm1.power.power_interaction` analyses.

Layout
------
``calibration``
    shared machinery: seeds and rounding, inverse-survival draws, censoring,
    bisection and simplex searches, the statistics calibrated against
    (:mod:`survtdm1.km` and a frozen two-group Cox HR), copula scores,
    outcomes and the cohort data frame.
``katherine``, ``emilia``, ``kristine``
    one calibrated trial each: its published targets, draws and calibration.
``two_arm``
    the plain two-arm generator (a batch of trials as arrays, or one as a
    data frame).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from survtdm1.exceptions import InputError

from .calibration import (
    DEFAULT_SEEDS,
    MARKER_COLUMNS,
    MARKER_DECIMALS,
    TIME_DECIMALS,
)
from .emilia import simulate_emilia
from .katherine import simulate_katherine
from .kristine import simulate_kristine
from .two_arm import simulate_two_arm

__all__ = [
    "DEFAULT_SEEDS",
    "TRIAL_NAMES",
    "simulate_emilia",
    "simulate_katherine",
    "simulate_kristine",
    "simulate_trial",
    "simulate_two_arm",
    "write_cohort",
]

#: Valid trial names for :func:`simulate_trial`.
TRIAL_NAMES: tuple[str, ...] = ("katherine", "emilia", "kristine")

# --------------------------------------------------------------------------------------
# Public dispatch and CSV writing
# --------------------------------------------------------------------------------------

_SIMULATORS: dict[str, Callable[[int], pd.DataFrame]] = {
    "katherine": simulate_katherine,
    "emilia": simulate_emilia,
    "kristine": simulate_kristine,
}


def simulate_trial(name: str, seed: int | None = None) -> pd.DataFrame:
    """Simulate the synthetic cohort of a trial by name.

    Parameters
    ----------
    name : {"katherine", "emilia", "kristine"}
        Trial name (case-insensitive).
    seed : int, optional
        Seed of ``numpy.random.default_rng``; by default ``DEFAULT_SEEDS[name]``,
        which gives the shipped cohort.

    Returns
    -------
    pandas.DataFrame
        The cohort, as :func:`simulate_katherine`, :func:`simulate_emilia` or
        :func:`simulate_kristine` return it.

    Raises
    ------
    InputError
        If ``name`` is not one of the valid trial names.

    Examples
    --------
    >>> simulate_trial("kristine", seed=1).shape
    (444, 9)
    """
    key = str(name).strip().lower()
    if key not in _SIMULATORS:
        valid = ", ".join(TRIAL_NAMES)
        raise InputError(f"unknown trial {name!r}: valid names are {valid}")
    return _SIMULATORS[key](DEFAULT_SEEDS[key] if seed is None else int(seed))


def write_cohort(cohort: pd.DataFrame, path: str | Path) -> Path:
    """Write a cohort to CSV at the shipped rounding.

    Times (``*_months``) are rounded to 2 decimals and continuous markers to 3;
    missing values are written as empty cells; no index column.

    Parameters
    ----------
    cohort : pandas.DataFrame
        A cohort from :func:`simulate_trial` (or any data frame).
    path : str or pathlib.Path
        Destination file.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "kristine.csv"
    >>> write_cohort(simulate_trial("kristine"), out).name
    'kristine.csv'
    """
    frame = cohort.copy()
    for column in frame.columns:
        if column.endswith("_months"):
            frame[column] = frame[column].round(TIME_DECIMALS)
        elif column in MARKER_COLUMNS:
            frame[column] = frame[column].round(MARKER_DECIMALS)
    path = Path(path)
    frame.to_csv(path, index=False, lineterminator="\n")
    return path
