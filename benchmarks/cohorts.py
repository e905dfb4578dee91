"""Simulated cohorts for the benchmarks (self-contained; fixed seeds).

The W1 cohort is KATHERINE-sized (1,486 patients, two arms) with ten subgroup
columns giving 25 levels: six two-level categorical factors (one with missing
values), age by cut points (3 levels), HER2 mRNA by quartiles (4), PD-L1 mRNA
by cut points (3) and CD8 by tertiles (3). Times are in months, rounded to
0.1 month so that tied event times occur, as in real follow-up data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TREATMENT, CONTROL = "T-DM1", "Trastuzumab"

W1_SUBGROUPS = [
    {"column": "pik3ca"},
    {"column": "hormone_receptor"},
    {"column": "her2_ihc"},
    {"column": "clinical_stage"},
    {"column": "nodal_status"},
    {"column": "preop_her2_therapy"},
    {"column": "age", "cutpoints": [40, 65]},
    {"column": "her2_mrna", "quantiles": [0.25, 0.5, 0.75]},
    {"column": "pdl1_mrna", "cutpoints": [0.5, 1.5]},
    {"column": "cd8", "quantiles": [1 / 3, 2 / 3]},
]
W1_OPTIONS = {"landmark": 36.0, "rmst_tau": 36.0}


def _survival_times(rng, treated, log_hr, n, *, base_hazard=0.015, follow_up=(36.0, 84.0)):
    """Exponential event times with uniform administrative censoring and drop-out."""
    hazard = base_hazard * np.exp(log_hr * treated)
    event_time = rng.exponential(1.0 / hazard)
    censor_time = np.minimum(rng.uniform(*follow_up, n), rng.exponential(400.0, n))
    time = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(int)
    return np.maximum(np.round(time, 1), 0.1), event


def katherine_like(n: int = 1486, seed: int = 20190101) -> pd.DataFrame:
    """A KATHERINE-size two-arm cohort with ten biomarker / stratification columns."""
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    pik3ca = rng.choice(["mutated", "wild-type"], n, p=[0.3, 0.7]).astype(object)
    pik3ca[rng.random(n) < 0.2] = None
    her2_mrna = rng.normal(12.0, 1.2, n)
    log_hr = -0.45 - 0.2 * (pik3ca == "mutated") + 0.15 * (her2_mrna < 11.5)
    time, event = _survival_times(rng, treated, log_hr, n)
    return pd.DataFrame(
        {
            "patient_id": np.arange(1, n + 1),
            "arm": np.where(treated == 1, TREATMENT, CONTROL),
            "idfs_months": time,
            "idfs_event": event,
            "pik3ca": pik3ca,
            "hormone_receptor": rng.choice(["positive", "negative"], n, p=[0.72, 0.28]),
            "her2_ihc": rng.choice(["3+", "2+"], n, p=[0.83, 0.17]),
            "clinical_stage": rng.choice(["inoperable", "operable"], n, p=[0.25, 0.75]),
            "nodal_status": rng.choice(["positive", "negative"], n, p=[0.46, 0.54]),
            "preop_her2_therapy": rng.choice(
                ["trastuzumab alone", "trastuzumab plus other"], n, p=[0.8, 0.2]
            ),
            "age": rng.integers(23, 81, n),
            "her2_mrna": np.round(her2_mrna, 3),
            "pdl1_mrna": np.round(rng.lognormal(0.0, 0.8, n), 3),
            "cd8": np.round(rng.gamma(2.0, 1.0, n), 3),
        }
    )


def large_two_arm(n: int = 1_000_000, seed: int = 20240601) -> pd.DataFrame:
    """W3: a real-world-size two-arm cohort (time, event, arm only)."""
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    time, event = _survival_times(rng, treated, np.full(n, -0.3), n)
    return pd.DataFrame(
        {
            "arm": np.where(treated == 1, TREATMENT, CONTROL),
            "time": time,
            "event": event,
        }
    )
