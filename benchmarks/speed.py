"""Speed at real-world size: one Cox fit from 1e3 to 5e6 rows, and W5 (a whole ``analyze``).

Used by ``run.py`` (workloads ``FIT`` and ``W5``). Every timing is the median
of the same number of repetitions for every implementation of a row;
agreement is the largest relative difference of the log hazard ratio
against each baseline (each run to convergence: R's default ``eps = 1e-9``,
the ``survival`` package with 50 iterations, lifelines with tight options).

- ``FIT``: ``coxph(Surv(time, event) ~ treated)`` on a two-arm cohort, times
  rounded to 0.1 month (ties, Efron) and, at 1e6 rows, also continuous
  times (no ties): survtdm1 ``cox_fit``, the PyPI package ``survival``
  (``CoxPHEstimator``, a Rust port of R survival), R ``coxph.fit`` (the C
  engine, timed inside R) and R ``coxph``; lifelines up to 1e5 rows.
- ``W5``: ``survtdm1 analyze`` on a generated 1,000,000-row CSV with the ten
  subgroups of W1 (25 levels), as a separate process (CSV read, figures and
  report included), with its peak RSS; and R survival running the same
  battery on the same rows (CSV read outside the timed part).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cohorts  # noqa: E402

import survtdm1 as st  # noqa: E402

SIZES = (1_000, 10_000, 100_000, 1_000_000, 5_000_000)

R_FIT = r"""
suppressMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); repeats <- as.integer(args[3])
f1 <- NULL; f2 <- NULL
x <- matrix(as.numeric(d$treated), ncol = 1); y <- Surv(as.numeric(d$time), d$event)
engine <- function() coxph.fit(x, y, strata = NULL, offset = NULL, init = NULL,
  control = coxph.control(), weights = NULL, method = "efron", rownames = NULL)
full <- function() coxph(Surv(time, event) ~ treated, data = d, ties = "efron")
t1 <- replicate(repeats, system.time(f1 <<- engine())[["elapsed"]])
t2 <- replicate(repeats, system.time(f2 <<- full())[["elapsed"]])
write.csv(data.frame(key = c("coxph.fit", "coxph", "coef.fit", "coef"),
  value = c(median(t1), median(t2), f1$coefficients[1], coef(f2)[1])),
  args[2], row.names = FALSE)
"""


def median_of(function, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def interleaved(functions: dict, repeats: int) -> dict:
    """Median wall time and last result of each function, timed in rounds: one call of
    each per round, ``repeats`` rounds. This machine's speed drifts by up to 2x within
    a minute; in rounds every implementation sees the same drift, so the ratios hold."""
    times = {name: [] for name in functions}
    results = dict.fromkeys(functions)
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            results[name] = function()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in functions}


def two_arm(n: int, ties: bool = True, seed: int = 20240601) -> pd.DataFrame:
    """time, event, treated of ``n`` rows (times rounded to 0.1 month when ``ties``)."""
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    hazard = 0.015 * np.exp(-0.3 * treated)
    event_time = rng.exponential(1.0 / hazard)
    censor = np.minimum(rng.uniform(36.0, 84.0, n), rng.exponential(400.0, n))
    time_ = np.minimum(event_time, censor)
    if ties:
        time_ = np.maximum(np.round(time_, 1), 0.1)
    event = (event_time <= censor).astype(int)
    return pd.DataFrame({"time": time_, "event": event, "treated": treated})


def _r_fit(frame: pd.DataFrame, repeats: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data, out, script = (Path(tmp) / name for name in ("d.csv", "o.csv", "f.R"))
        frame.to_csv(data, index=False)
        script.write_text(R_FIT)
        subprocess.run(
            ["Rscript", str(script), str(data), str(out), str(repeats)],
            check=True,
            capture_output=True,
        )
        result = pd.read_csv(out)
    return dict(zip(result["key"], result["value"].astype(float), strict=True))


def _survival_package():
    try:
        import survival  # the PyPI package (Rust port of R survival)
    except ImportError:
        return None
    return survival


def fit_row(n: int, ties: bool, repeats: int, lifelines_limit: int = 100_000) -> dict:
    """One Cox fit of ``n`` rows by every implementation: median seconds and coefficients."""
    frame = two_arm(n, ties)
    time_, event, treated = (frame[c].to_numpy() for c in ("time", "event", "treated"))
    row = {"n": n, "ties": ties, "repeats": repeats}
    functions = {"survtdm1": lambda: st.cox.cox_fit(time_, event, treated)}
    survival = _survival_package()
    if survival is not None:
        estimator = survival.CoxPHEstimator(n_iters=50, ties="efron")
        y = np.column_stack([time_.astype(float), event.astype(float)])
        x = treated.astype(float)[:, None]
        functions["survival (PyPI)"] = lambda: estimator.fit(x, y)
    timed = interleaved(functions, repeats)  # the two Python engines in rounds
    row["survtdm1"], fit = timed["survtdm1"]
    row["coef survtdm1"] = float(fit.coef[0])
    if survival is not None:
        row["survival (PyPI)"], fitted = timed["survival (PyPI)"]
        row["coef survival (PyPI)"] = float(np.ravel(fitted.coef_)[0])
    r = _r_fit(frame, repeats)
    if r is not None:
        row["R coxph.fit"], row["R coxph"] = r["coxph.fit"], r["coxph"]
        row["coef R"] = r["coef"]
    if n <= lifelines_limit:
        import lifelines_loop
        from lifelines import CoxPHFitter

        def lifelines_fit():
            return CoxPHFitter().fit(frame, "time", "event", fit_options=lifelines_loop.TIGHT)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row["lifelines"], fitter = median_of(lifelines_fit, repeats)
        row["coef lifelines"] = float(fitter.params_["treated"])
    return row


def fit_rows(quick: bool = False) -> list[dict]:
    """The scaling table: ties at every size, plus 1e6 rows without ties."""
    rows = []
    for n in SIZES[:-1] if quick else SIZES:
        repeats = 3 if quick or n > 1_000_000 else 5
        print(f"  one Cox fit, {n:,} rows (median of {repeats}) ...", flush=True)
        rows.append(fit_row(n, True, repeats))
    print("  one Cox fit, 1,000,000 rows without ties ...", flush=True)
    rows.append(fit_row(1_000_000, False, 3 if quick else 5))
    return rows


# --- W5: survtdm1 analyze on a 1,000,000-row CSV -------------------------------------------

W5_PLAN = """
[cohort]
path = "w5.csv"
time = "idfs_months"
event = "idfs_event"
time_unit = "months"
arm = "arm"
treatment = "T-DM1"
control = "Trastuzumab"
id = "patient_id"

[analysis]
landmark = 36
rmst_tau = 36
"""


def _plan_text() -> str:
    parts = [W5_PLAN]
    for spec in cohorts.W1_SUBGROUPS:
        parts.append("[[subgroup]]")
        for key, value in spec.items():
            parts.append(f"{key} = {json.dumps(value)}")
    return "\n".join(parts) + "\n"


def w5_files(folder: Path, n: int = 1_000_000) -> Path:
    """Write the W5 CSV and plan into ``folder``; returns the plan's path."""
    csv = folder / "w5.csv"
    if not csv.exists():
        cohorts.katherine_like(n=n, seed=5).to_csv(csv, index=False)
    plan = folder / "w5.toml"
    plan.write_text(_plan_text())
    return plan


# VmHWM (peak RSS of this process image): ru_maxrss would also count the pages of the
# parent the child was forked from, before its exec
_PROCESS = (
    "import sys\n"
    "from survtdm1.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "status_lines = open('/proc/self/status').read().splitlines()\n"
    "peak = next(int(x.split()[1]) for x in status_lines if x.startswith('VmHWM'))\n"
    "import resource\n"
    "child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\nMAXRSS_KIB {peak}\\nCHILD_MAXRSS_KIB {child}\\n')\n"
    "sys.exit(status)\n"
)


def run_analyze(plan: Path, out: Path) -> tuple[float, float, float]:
    """Wall seconds and peak RSS (MiB) of one ``survtdm1 analyze`` process (start-up
    included), and the largest peak RSS of the processes it forks to write the outputs
    (their pages shared with the main process, copy-on-write, counted in full)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PROCESS, "analyze", str(plan), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(HERE.parent), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
    )
    seconds = time.perf_counter() - start
    peak = int(done.stderr.rsplit("\nMAXRSS_KIB", 1)[1].split()[0])
    child = int(done.stderr.rsplit("CHILD_MAXRSS_KIB", 1)[1].split()[0])
    return seconds, peak / 1024, child / 1024


def w5(folder: Path, repeats: int, with_r: bool) -> dict:
    """W5: median wall time and peak RSS of ``survtdm1 analyze``; R's battery once."""
    import r_baseline
    import run as bench

    plan = w5_files(folder)
    times, peaks, children = [], [], []
    for k in range(repeats):
        print(f"  W5 survtdm1 analyze, run {k + 1} of {repeats} ...", flush=True)
        seconds, peak, child = run_analyze(plan, folder / "out")
        times.append(seconds)
        peaks.append(peak)
        children.append(child)
    out = {
        "survtdm1": statistics.median(times),
        "peak_rss_mib": max(peaks),
        "output_processes_peak_rss_mib": max(children),
        "repeats": repeats,
    }
    print(
        f"  W5 survtdm1: median {out['survtdm1']:.2f} s of {times}, peak RSS {max(peaks):.0f} MiB"
    )
    ours = pd.read_csv(folder / "out" / "subgroups.csv")
    if with_r and r_baseline.available():
        print("  W5 R survival battery (once) ...", flush=True)
        frame = pd.read_csv(folder / "w5.csv")
        frame = frame.rename(columns={"idfs_months": "time", "idfs_event": "event"})
        frame["treated"] = (frame["arm"] == cohorts.TREATMENT).astype(int)
        r_frame, labels, ordered = bench.r_frame(frame, cohorts.W1_SUBGROUPS)
        seconds, estimates = r_baseline.run(
            r_frame, ordered=ordered, labels=labels, repeats=1, **cohorts.W1_OPTIONS
        )
        out["R survival"] = seconds
        flat = {}
        for row in ours.to_dict("records"):
            for name in (
                "hr",
                "hr_lower",
                "hr_upper",
                "p_value",
                "p_interaction",
                "p_interaction_wald",
                "p_trend",
                "median_treatment",
                "median_control",
                "landmark_treatment",
                "landmark_control",
            ):
                flat[f"{row['subgroup']}={row['level']}.{name}"] = row[name]
        theirs = {k: v for k, v in estimates.items() if not k.startswith("overall")}
        out["agreement R"] = bench.max_relative_difference(flat, theirs)
    return out


def survival_package_battery(frame: pd.DataFrame, subgroups) -> dict:
    """W1's Cox models with the ``survival`` package: every level, interaction and trend fit.

    (Cox fits only: the package's KM is not looped; the comparison is of the
    models, which are most of the battery's work.)
    """
    import lifelines_loop

    survival = _survival_package()
    estimator = survival.CoxPHEstimator(n_iters=50, ties="efron")
    time_ = frame["time"].to_numpy(float)
    event = frame["event"].to_numpy(float)
    treated = frame["treated"].to_numpy(float)
    out = {}
    for spec in subgroups:
        labels, codes, ordered = lifelines_loop.levels(frame, spec)
        known = codes >= 0
        y = np.column_stack([time_[known], event[known]])
        z, level = treated[known], codes[known]
        dummies = (level[:, None] == np.arange(1, len(labels))[None, :]).astype(float)
        estimator.fit(np.column_stack([z, dummies]), y)
        estimator.fit(np.column_stack([z, dummies, z[:, None] * dummies]), y)
        if ordered:
            rank = level + 1.0
            estimator.fit(np.column_stack([z, rank, z * rank]), y)
        for k, label in enumerate(labels):
            rows = codes == k
            fitted = estimator.fit(treated[rows][:, None], np.column_stack([time_, event])[rows])
            out[f"{spec['column']}={label}.hr"] = float(np.exp(np.ravel(fitted.coef_)[0]))
    return out
