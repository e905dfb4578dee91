"""Round-trip accuracy of :func:`survtdm1.reconstruct_ipd` (Guyot et al. 2012).

Simulated trials calibrated to KATHERINE (IDFS) and EMILIA (PFS) come from the
project's generator (``survtdm1.simulate_trial``) with several seeds. Each
arm's Kaplan-Meier curve is "digitised" as a person with WebPlotDigitizer would
(:func:`digitise`): both corners of every step, snapped to the pixels of a
1000 x 600 px plot, jittered by half a pixel in time and survival, a few
clicks a couple of pixels too high (small upward jumps), a few points clicked
twice, and the rows shuffled. Each arm is then reconstructed with three input
tiers and compared with the true data:

- ``curve + n``: the curve and the arm size;
- ``+ risk table``: and the numbers at risk at regular times (as published
  under the figure);
- ``+ total events``: and the reported number of events.

Measures: |log HR error| (Efron Cox HR treatment vs control on the
reconstructed vs the true patients), |median error| (KM median, months, per arm
where both are reached; the larger of the two arms), max |S(t) error| (the
larger of the two arms, every 0.5 month while at least 10 patients are at
risk), and the same at every 0.01 month over the whole curve ("whole curve").
The latter mostly measures the last few patients and the digitiser's
horizontal jitter: a step of one patient among 30 at risk, clicked 0.05 month
early, differs by 0.03 over those 0.05 month; one among 3 by 0.3.

    python benchmarks/reconstruct_roundtrip.py                # 8 seeds per trial
    python benchmarks/reconstruct_roundtrip.py --seeds 3      # quicker
"""

from __future__ import annotations

import argparse
import sys
import time as clock
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import survtdm1 as st  # noqa: E402
from survtdm1.cox import cox_fit  # noqa: E402
from survtdm1.km import kaplan_meier, median_survival  # noqa: E402

#: trial -> (endpoint time column, event column, risk-table step in months)
TRIALS = {
    "katherine": ("idfs_months", "idfs_event", 6.0),
    "emilia": ("pfs_months", "pfs_event", 3.0),
}
TIERS = ("curve + n", "+ risk table", "+ total events")
WIDTH_PX, HEIGHT_PX = 1000, 600
JITTER_PX = 0.5
REPEATED = 0.03  # share of points clicked twice
UPWARD = 0.02  # share of points clicked 2 px too high
FIRST_SEED = 101
GRID = 0.5  # months between the times where S(t) is compared
MIN_AT_RISK = 10  # ... while at least this many patients are at risk


def digitise(time, event, rng: np.random.Generator) -> pd.DataFrame:
    """The points a digitiser would read off the arm's KM curve (noisy, shuffled)."""
    km = kaplan_meier(time, event)
    drop = km.n_event > 0
    after = km.surv[drop]
    before = np.append(1.0, after[:-1])
    end = float(km.time[-1])
    t = np.concatenate([[0.0], np.repeat(km.time[drop], 2), [end]])
    s = np.concatenate([[1.0], np.column_stack([before, after]).ravel(), [km.surv[-1]]])
    x_px, y_px = end / WIDTH_PX, 1.0 / HEIGHT_PX
    t = np.round(t / x_px) * x_px + rng.normal(0.0, JITTER_PX * x_px, t.size)
    s = np.round(s / y_px) * y_px + rng.normal(0.0, JITTER_PX * y_px, s.size)
    s[rng.random(s.size) < UPWARD] += 2 * y_px
    t, s = np.clip(t, 0.0, None), np.clip(s, 0.0, 1.0)
    again = rng.random(t.size) < REPEATED
    t, s = np.append(t, t[again]), np.append(s, s[again])
    order = rng.permutation(t.size)
    return pd.DataFrame({"time": t[order], "survival": s[order]})


def risk_table(time, step: float, end: float) -> pd.DataFrame:
    times = np.arange(0.0, end + 1e-9, step)
    return pd.DataFrame({"time": times, "n_at_risk": [int((time >= x).sum()) for x in times]})


def _step_values(km, grid):
    return np.append(1.0, km.surv)[np.searchsorted(km.time, grid, side="right")]


def _log_hr(arms) -> float:
    time = np.concatenate([a[0] for a in arms])
    event = np.concatenate([a[1] for a in arms])
    treated = np.concatenate([np.full(len(a[0]), float(i == 0)) for i, a in enumerate(arms)])
    return float(cox_fit(time, event, treated).coef[0])


def _inputs(time, event, curve, step, tier):
    n = len(time)
    if tier == TIERS[0]:
        return {"curve": curve, "n": n}
    table = risk_table(time, step, float(time.max()))
    if tier == TIERS[1]:
        return {"curve": curve, "at_risk": table}
    return {"curve": curve, "at_risk": table, "total_events": int(event.sum())}


def one_trial(trial: str, seed: int) -> list[dict]:
    """One simulated trial (``seed``), digitised with its own noise stream, at every tier."""
    rng = np.random.default_rng([seed, list(TRIALS).index(trial)])
    time_col, event_col, step = TRIALS[trial]
    cohort = st.simulate_trial(trial, seed=seed)
    arm_values = sorted(cohort["arm"].unique(), key=lambda a: a != "T-DM1")
    truth = [
        (
            cohort.loc[cohort["arm"] == a, time_col].to_numpy(float),
            cohort.loc[cohort["arm"] == a, event_col].to_numpy(float),
        )
        for a in arm_values
    ]
    curves = [digitise(t, e, rng) for t, e in truth]
    rows = []
    for tier in TIERS:
        rebuilt = []
        for (t, e), curve in zip(truth, curves, strict=True):
            ipd = st.reconstruct_ipd(**_inputs(t, e, curve, step, tier))
            rebuilt.append((ipd["time"].to_numpy(), ipd["event"].to_numpy(float)))
        row = {"trial": trial, "seed": seed, "tier": tier}
        row["log_hr_error"] = abs(_log_hr(rebuilt) - _log_hr(truth))
        medians, sup, sup_all = [], [], []
        for (t, e), (rt, re) in zip(truth, rebuilt, strict=True):
            true_km, new_km = kaplan_meier(t, e), kaplan_meier(rt, re)
            m_true, m_new = median_survival(true_km)[0], median_survival(new_km)[0]
            if np.isfinite(m_true) and np.isfinite(m_new):
                medians.append(abs(m_new - m_true))
            reliable = float(np.sort(t)[-MIN_AT_RISK])  # the last time with 10 at risk
            for step_size, end, store in ((GRID, reliable, sup), (0.01, float(t.max()), sup_all)):
                grid = np.arange(0.0, end, step_size)
                store.append(np.abs(_step_values(true_km, grid) - _step_values(new_km, grid)).max())
        row["median_error"] = max(medians) if medians else np.nan
        row["max_s_error"] = max(sup)
        row["max_s_error_continuous"] = max(sup_all)
        row["events_error"] = sum(
            abs(int(r[1].sum()) - int(x[1].sum())) for r, x in zip(rebuilt, truth, strict=True)
        )
        rows.append(row)
    return rows


def _median_max(values: pd.Series, digits: int) -> str:
    values = values.dropna()
    if values.empty:
        return "n/a (not reached)"
    return f"{values.median():.{digits}f} ({values.max():.{digits}f})"


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Per trial and tier: median over replicates (largest in brackets)."""
    rows = []
    for (trial, tier), group in frame.groupby(["trial", "tier"], sort=False):
        rows.append(
            {
                "trial": trial,
                "input": tier,
                "replicates": len(group),
                "abs log HR error": _median_max(group["log_hr_error"], 4),
                "abs median error (months)": _median_max(group["median_error"], 3),
                "max abs S(t) error, >=10 at risk": _median_max(group["max_s_error"], 4),
                "max abs S(t) error, whole curve": _median_max(group["max_s_error_continuous"], 4),
                "abs events error (both arms)": _median_max(group["events_error"], 0),
            }
        )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * table.shape[1]]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="simulated trials per design")
    parser.add_argument("--out", default=None, help="optional CSV of every replicate")
    parser.add_argument("--from-csv", default=None, help="only summarise a CSV from --out")
    args = parser.parse_args(argv)
    if args.from_csv:
        frame = pd.read_csv(args.from_csv)
    else:
        rows = []
        start = clock.perf_counter()
        for trial in TRIALS:
            for seed in range(FIRST_SEED, FIRST_SEED + args.seeds):
                rows.extend(one_trial(trial, seed))
                elapsed = clock.perf_counter() - start
                print(f"{trial} seed {seed} done ({elapsed:.0f} s)", flush=True)
        frame = pd.DataFrame(rows)
        if args.out:
            frame.to_csv(args.out, index=False)
    print("median over replicates (largest in brackets)")
    print(markdown(summarise(frame)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
