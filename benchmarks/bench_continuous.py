"""W2 (STEPP) and W4 (power simulation) of shared/spec/performance.md.

    python benchmarks/bench_continuous.py

Each workload times survtdm1 as users call it and a plain lifelines loop doing
the same fits (extrapolated from a few permutations / trials), prints both
times and the ratio, and checks that the estimates agree. ``w2()`` and
``w4()`` return a dict each, for a benchmark runner to collect.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from scipy import stats

import survtdm1 as st
from survtdm1.power import CHUNK, dropout_rate, power_interaction
from survtdm1.simulate.two_arm import simulate_two_arm_trials
from survtdm1.stepp import stepp

N_ROWS = 1486
W2_PERMUTATIONS = 1000
W4_TRIALS = 1000
BASELINE_REPEATS = 20
W4_DESIGN = dict(
    n=N_ROWS,
    prevalence=0.3,
    hr_negative=0.55,
    hr_positive=0.45,
    control_median=95.0,
    accrual=36.0,
    follow_up=41.0,
    dropout=0.03,
)


def w2_cohort(seed: int = 2019) -> st.Cohort:
    """KATHERINE-size cohort; the T-DM1 effect weakens with HER2 mRNA."""
    rng = np.random.default_rng(seed)
    her2 = rng.normal(12.0, 1.2, N_ROWS)
    treated = rng.permutation(np.arange(N_ROWS) % 2)
    hazard = 0.007 * np.exp(treated * (-0.6 + 0.25 * (her2 - 12.0)))
    latent = rng.exponential(1.0 / hazard)
    censor = rng.uniform(24.0, 84.0, N_ROWS)
    frame = pd.DataFrame(
        {
            "arm": np.where(treated == 1, "T-DM1", "Trastuzumab"),
            "idfs_months": np.maximum(np.round(np.minimum(latent, censor), 1), 0.1),
            "idfs_event": (latent <= censor).astype(int),
            "her2_mrna": np.round(her2, 2),
        }
    )
    return st.load_cohort(frame, arm="arm", treatment="T-DM1", control="Trastuzumab",
                          time="idfs_months", event="idfs_event")  # fmt: skip


def _lifelines_log_hr(frame: pd.DataFrame, precision: float = 1e-7) -> float:
    fitter = CoxPHFitter().fit(frame, "t", "e", fit_options={"precision": precision})
    return float(fitter.params_["arm"])


def w2(n_jobs: int = 2) -> dict:
    cohort = w2_cohort()
    start = time.perf_counter()
    result = stepp(cohort, "her2_mrna", n_permutations=W2_PERMUTATIONS, seed=1, n_jobs=n_jobs)
    ours = time.perf_counter() - start

    values = cohort.data["her2_mrna"].to_numpy(float)
    frame = pd.DataFrame({"t": cohort.times, "e": cohort.events, "arm": cohort.treated})
    ranges = list(zip(result.table["biomarker_min"], result.table["biomarker_max"], strict=True))
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    log_all = _lifelines_log_hr(frame)
    for _ in range(BASELINE_REPEATS):
        permuted = values[rng.permutation(N_ROWS)]
        windows = [_lifelines_log_hr(frame[(permuted >= lo) & (permuted <= hi)])
                   for lo, hi in ranges]  # fmt: skip
        max(abs(w - log_all) for w in windows)
    per_permutation = (time.perf_counter() - start) / BASELINE_REPEATS
    baseline = per_permutation * (W2_PERMUTATIONS + 1)

    reference = [_lifelines_log_hr(frame[(values >= lo) & (values <= hi)], 1e-12)
                 for lo, hi in ranges]  # fmt: skip
    agree = bool(np.allclose(result.table["log_hr"], reference, rtol=1e-6, atol=1e-9))
    return {"workload": "W2 STEPP (1,486 rows, 10 windows, 1,000 permutations)",
            "survtdm1_s": ours, "lifelines_s": baseline, "ratio": baseline / ours,
            "estimates_agree": agree}  # fmt: skip


def _lifelines_interaction_p(trial: pd.DataFrame) -> float:
    full = CoxPHFitter().fit(trial, "t", "e", formula="arm + marker + arm:marker")
    main = CoxPHFitter().fit(trial, "t", "e", formula="arm + marker")
    chisq = max(2.0 * (full.log_likelihood_ - main.log_likelihood_), 0.0)
    return float(stats.chi2.sf(chisq, 1))


def w4(n_jobs: int = 2, seed: int = 1) -> dict:
    start = time.perf_counter()
    result = power_interaction(**W4_DESIGN, n_simulations=W4_TRIALS, seed=seed, n_jobs=n_jobs)
    ours = time.perf_counter() - start

    # the same first trials as power_interaction's first chunk
    generator = np.random.default_rng(seed).spawn(-(-W4_TRIALS // CHUNK))[0]
    design = {key: value for key, value in W4_DESIGN.items() if key != "dropout"}
    rate = dropout_rate(W4_DESIGN["dropout"], 12.0)
    trials = simulate_two_arm_trials(generator, CHUNK, dropout_rate=rate, **design)
    start = time.perf_counter()
    p_values = []
    for k in range(BASELINE_REPEATS):
        trial = pd.DataFrame({"t": trials.time[k], "e": trials.event[k].astype(int),
                              "arm": trials.treated[k], "marker": trials.positive[k]})  # fmt: skip
        p_values.append(_lifelines_interaction_p(trial))
    baseline = (time.perf_counter() - start) / BASELINE_REPEATS * W4_TRIALS
    ours_p = result.simulations["p_interaction"].to_numpy()[:BASELINE_REPEATS]
    agree = bool(np.allclose(ours_p, p_values, rtol=1e-4, atol=1e-6))
    return {"workload": "W4 power simulation (1,000 KATHERINE-size trials)",
            "survtdm1_s": ours, "lifelines_s": baseline, "ratio": baseline / ours,
            "estimates_agree": agree}  # fmt: skip


def main() -> None:
    for bench in (w2, w4):
        row = bench()
        print(f"{row['workload']}: survtdm1 {row['survtdm1_s']:.2f} s, lifelines loop "
              f"{row['lifelines_s']:.1f} s (extrapolated), ratio {row['ratio']:.0f}x, "
              f"estimates agree: {row['estimates_agree']}")  # fmt: skip


if __name__ == "__main__":
    main()
