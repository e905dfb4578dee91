"""KRISTINE: neoadjuvant T-DM1 + pertuzumab vs TCH + pertuzumab (pCR, EFS, biomarkers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calibration import (
    DEFAULT_SEEDS,
    Draws,
    Outcome,
    assemble,
    bisect,
    cell_uniforms,
    censoring_times,
    copula_score,
    cox_hr,
    expression_values,
    grid_search,
    km_at,
    make_outcome,
    random_mask,
    top_mask,
)

_KRISTINE_ARMS = ("T-DM1+Pertuzumab", "TCH+Pertuzumab")
_KRISTINE_COLUMNS = (
    "arm",
    "pcr",
    "efs_months",
    "efs_event",
    "her2_mrna",
    "pik3ca",
    "her2_heterogeneity",
    "age",
)
_KRISTINE_N = {True: 223, False: 221}
_KRISTINE_PCR = {True: 99, False: 123}  # 44.4% and 55.7% (published)
_KRISTINE_HER2_KNOWN = {True: 201, False: 201}  # assumption
_KRISTINE_PIK3CA_KNOWN = {True: 190, False: 190}  # among the HER2-assessed (assumption)
_KRISTINE_MUTATION_RATE = {"low": 0.38, "high": 0.16}  # by HER2 mRNA median (published)
_KRISTINE_HETEROGENEOUS = 0.10  # share of the assessed (assumption)
_KRISTINE_PRESURGICAL_PROGRESSION = 15  # T-DM1+P patients progressing before surgery
_KRISTINE_EFS_36_CONTROL = 0.942  # 3-year EFS, TCH+P (assumption)
_KRISTINE_PCR_HR = 0.3  # EFS hazard after pCR relative to no pCR (assumption)
_KRISTINE_SURGERY = 6.0  # months to surgery: a pCR patient has no EFS event before it
_KRISTINE_EFS_HR = 2.61  # published
_KRISTINE_ACCRUAL, _KRISTINE_MIN_FOLLOW_UP, _KRISTINE_DROPOUT = 12.0, 31.0, 0.002


@dataclass(frozen=True)
class _KristineDraws(Draws):
    """The random numbers a KRISTINE cohort draws beyond those of :class:`Draws`."""

    her2_known: np.ndarray
    pik3ca_known: np.ndarray
    heterogeneity_known: np.ndarray
    u_presurgical: np.ndarray


def _kristine_draws(seed: int) -> _KristineDraws:
    rng = np.random.default_rng(seed)
    treated = np.repeat([True, False], [_KRISTINE_N[True], _KRISTINE_N[False]])
    n = len(treated)
    her2_known = np.concatenate(
        [random_mask(rng, _KRISTINE_N[a], _KRISTINE_HER2_KNOWN[a]) for a in (True, False)]
    )
    pik3ca_known = np.zeros(n, dtype=bool)
    heterogeneity_known = np.zeros(n, dtype=bool)
    for arm in (True, False):
        rows = np.flatnonzero(her2_known & (treated == arm))
        pik3ca_known[rng.choice(rows, _KRISTINE_PIK3CA_KNOWN[arm], replace=False)] = True
        heterogeneity_known[rng.choice(rows, len(rows) - 10, replace=False)] = True
    names = ("her2", "pik3ca", "heterogeneity", "pcr")
    return _KristineDraws(
        treated=treated,
        her2_known=her2_known,
        pik3ca_known=pik3ca_known,
        heterogeneity_known=heterogeneity_known,
        u_event=rng.uniform(size=n),
        u_presurgical=rng.uniform(size=n),
        entry=cell_uniforms(rng, treated),
        dropout=rng.uniform(size=n),
        noise={name: rng.standard_normal(n) for name in names},
        age=np.clip(np.round(rng.normal(50.0, 11.0, size=n)), 22, 80),
        order=rng.permutation(n),
    )


def _kristine_pik3ca(draws: _KristineDraws, her2_score: np.ndarray) -> np.ndarray:
    """PIK3CA status with the published mutation rates below and above the HER2 mRNA median."""
    her2_low = her2_score <= np.median(her2_score[draws.her2_known])
    status = np.full(len(her2_score), None, dtype=object)
    for half, rate in (("low", her2_low), ("high", ~her2_low)):
        rows = np.flatnonzero(draws.pik3ca_known & rate)
        count = round(_KRISTINE_MUTATION_RATE[half] * len(rows))
        mutated = top_mask(draws.noise["pik3ca"][rows], count)
        status[rows] = np.where(mutated, "mutated", "wild-type")
    return status


def _kristine_pcr(
    draws: _KristineDraws, her2_score: np.ndarray, mutated: np.ndarray, heterogeneous: np.ndarray
) -> np.ndarray:
    """pCR: the published number of responders per arm, by a latent response score.

    Assumptions: higher HER2 mRNA raises the chance of pCR in both arms; a
    PIK3CA mutation lowers it in the T-DM1+P arm only; HER2 heterogeneity all
    but rules it out under T-DM1+P.
    """
    treated = draws.treated
    score = 0.8 * her2_score + draws.noise["pcr"]
    score -= np.where(treated & mutated, 1.0, 0.0) + np.where(treated & heterogeneous, 3.0, 0.0)
    pcr = np.zeros(len(score), dtype=int)
    for arm, count in _KRISTINE_PCR.items():
        rows = np.flatnonzero(treated == arm)
        pcr[rows] = top_mask(score[rows], count)
    return pcr


def _kristine_efs(
    draws: _KristineDraws, pcr: np.ndarray, hazard: float, multiplier: float
) -> Outcome:
    """EFS: constant hazards (lower after pCR, which starts at surgery; ``multiplier`` x
    under T-DM1+P), plus early locoregional progression before surgery in the T-DM1+P arm."""
    treated = draws.treated
    rate = hazard * np.where(pcr == 1, _KRISTINE_PCR_HR, 1.0) * np.where(treated, multiplier, 1.0)
    latent = -np.log(draws.u_event) / rate + np.where(pcr == 1, _KRISTINE_SURGERY, 0.0)
    candidates = np.flatnonzero(treated & (pcr == 0))
    early = candidates[
        np.argsort(draws.u_presurgical[candidates])[:_KRISTINE_PRESURGICAL_PROGRESSION]
    ]
    latent[early] = 1.0 + 5.0 * draws.u_presurgical[early] / draws.u_presurgical[early].max()
    censor = censoring_times(
        draws.entry, draws.dropout, _KRISTINE_ACCRUAL, _KRISTINE_MIN_FOLLOW_UP, _KRISTINE_DROPOUT
    )
    return make_outcome(latent, censor)


def _calibrate_kristine_efs(draws: _KristineDraws, pcr: np.ndarray) -> Outcome:
    """Control hazard tuned to the assumed 3-year EFS, T-DM1+P multiplier to the published HR."""
    control = ~draws.treated

    def control_efs_36(log_hazard: float) -> float:
        efs = _kristine_efs(draws, pcr, np.exp(log_hazard), 1.0)
        return km_at(efs.time[control], efs.event[control], 36.0)

    hazard = np.exp(bisect(control_efs_36, _KRISTINE_EFS_36_CONTROL, np.log(1e-4), np.log(0.1)))

    def hr(log_multiplier: float) -> float:
        efs = _kristine_efs(draws, pcr, hazard, np.exp(log_multiplier))
        return cox_hr(efs.time, efs.event, draws.treated)

    multiplier = np.exp(grid_search(hr, _KRISTINE_EFS_HR, np.log(0.5), np.log(5.0), 301))
    return _kristine_efs(draws, pcr, hazard, multiplier)


def simulate_kristine(seed: int = DEFAULT_SEEDS["kristine"]) -> pd.DataFrame:
    """Simulate a KRISTINE-like cohort (neoadjuvant T-DM1 + pertuzumab vs TCH + pertuzumab).

    The cohort reproduces the published pCR rates, the EFS hazard ratio and the
    PIK3CA mutation rates by HER2 mRNA level; see ``synthetic_data/README.md``.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; ``DEFAULT_SEEDS["kristine"]``
        gives the shipped cohort.

    Returns
    -------
    pandas.DataFrame
        One row per patient (444 rows), with the columns ``patient_id, arm,
        pcr, efs_months, efs_event, her2_mrna, pik3ca, her2_heterogeneity, age``.

    Examples
    --------
    >>> cohort = simulate_kristine()
    >>> cohort.groupby("arm")["pcr"].sum().to_dict()
    {'T-DM1+Pertuzumab': 99, 'TCH+Pertuzumab': 123}
    """
    draws = _kristine_draws(seed)
    her2_score = draws.noise["her2"]
    pik3ca = _kristine_pik3ca(draws, her2_score)
    heterogeneity_score = copula_score(-her2_score, draws.noise["heterogeneity"], 0.5)
    heterogeneous = np.zeros(len(her2_score), dtype=bool)
    rows = np.flatnonzero(draws.heterogeneity_known)
    heterogeneous[rows] = top_mask(
        heterogeneity_score[rows], round(_KRISTINE_HETEROGENEOUS * len(rows))
    )
    pcr = _kristine_pcr(draws, her2_score, pik3ca == "mutated", heterogeneous)
    efs = _calibrate_kristine_efs(draws, pcr)
    columns = {
        "arm": np.where(draws.treated, _KRISTINE_ARMS[0], _KRISTINE_ARMS[1]),
        "pcr": pcr,
        "efs_months": efs.time,
        "efs_event": efs.event,
        "her2_mrna": expression_values("her2_mrna", her2_score, draws.her2_known),
        "pik3ca": pik3ca,
        "her2_heterogeneity": np.where(
            draws.heterogeneity_known,
            np.where(heterogeneous, "heterogeneous", "homogeneous"),
            None,
        ),
        "age": draws.age.astype(int),
    }
    return assemble("KRI", columns, draws.order, _KRISTINE_COLUMNS)
