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
    "sys.stdout.flush()\n"
    "sys.stderr.flush()\n"
    "import os\n"
    "os._exit(status)  # as the survtdm1 command (cli.run): no interpreter teardown\n"
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


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:  # ended meanwhile
                pass
    return found


def _pss_kib(pid: int) -> int:
    """Proportional set size of a process: its private pages, plus each page it shares
    divided by the number of processes sharing it (0 once it has ended)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("Pss:")), 0)


def tree_memory_peak(plan: Path, out: Path, every: float = 0.02) -> float:
    """The largest memory (MiB) that one ``survtdm1 analyze`` and the processes it forks
    use together, sampled every ``every`` seconds: the sum of their PSS, which counts a
    page shared after a fork once (their peak RSS values count it in each process).
    Sampling slows the run: not a timed run."""
    process = subprocess.Popen(
        [sys.executable, "-m", "survtdm1", "analyze", str(plan), "--out", str(out), "--quiet"],
        env={"PYTHONPATH": str(HERE.parent), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_pss_kib(pid) for pid in _tree(process.pid)))
        time.sleep(every)
    if process.returncode != 0:
        raise RuntimeError(f"survtdm1 analyze failed with code {process.returncode}")
    return peak / 1024


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
        "forked_processes_peak_rss_mib": max(children),
        "all_processes_peak_pss_mib": tree_memory_peak(plan, folder / "out"),
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
    """W1's Cox models with the ``survival`` package: every level, interaction and trend fit
    (the fits only, no curves and no tests: a second row beside
    :func:`survival_package_full_battery`, which does the lifelines loop's work)."""
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


def survival_package_full_battery(frame: pd.DataFrame, subgroups, *, landmark, rmst_tau) -> dict:
    """W1 with the ``survival`` package doing the work of the lifelines loop
    (``lifelines_loop.battery``), the same estimates under the same keys:

    - per level: the Cox HR (Wald CI and p) and each arm's KM median and landmark survival;
    - per subgroup: the interaction's likelihood-ratio and Wald tests, the trend test;
    - overall: the Cox HR, the log-rank test (``survdiff``), the PH test (``cox_zph``) and
      each arm's KM median with its CI, landmark survival with its CI, and RMST.

    Cox models by ``CoxPHEstimator`` (as :func:`survival_package_battery`), the overall
    one by ``coxph`` (which ``cox_zph`` takes); curves by ``survfit``. p-values and the
    RMST integral in numpy/scipy.
    """
    import lifelines_loop
    from scipy import stats

    survival = _survival_package()
    estimator = survival.CoxPHEstimator(n_iters=50, ties="efron")
    time_ = frame["time"].to_numpy(float)
    event = frame["event"].to_numpy(float)
    treated = frame["treated"].to_numpy(float)
    z975 = stats.norm.ppf(0.975)

    def cox(columns, rows=None):
        x = np.column_stack(columns)
        y = np.column_stack([time_, event])
        if rows is not None:
            x, y = x[rows], y[rows]
        return estimator.fit(x, y).model_

    def effect(model) -> dict:
        coef, se = model.coefficients[0], np.sqrt(model.var[0][0])
        return {
            "hr": float(np.exp(coef)),
            "hr_lower": float(np.exp(coef - z975 * se)),
            "hr_upper": float(np.exp(coef + z975 * se)),
            "p_value": float(2.0 * stats.norm.sf(abs(coef / se))),
        }

    def km(rows):
        return survival.survfit(survival.Surv(time_[rows], event[rows]))

    def at(curve, t) -> int:
        """The index of the curve's last time at or before ``t`` (W1's landmark is after
        every arm's first time)."""
        return int(np.searchsorted(np.asarray(curve.time), t, side="right")) - 1

    def median(curve) -> list[float]:
        """The median and its CI limits (NaN where not reached)."""
        q = survival.quantile(curve, 0.5)
        values = (q.quantile[0][0], q.lower[0][0], q.upper[0][0])
        return [np.nan if v is None else float(v) for v in values]

    out = {}
    for spec in subgroups:
        labels, codes, ordered = lifelines_loop.levels(frame, spec)
        known = codes >= 0
        df = len(labels) - 1
        dummies = [(codes == k).astype(float) for k in range(1, df + 1)]
        reduced = cox([treated, *dummies], known)
        full = cox([treated, *dummies, *[treated * d for d in dummies]], known)
        coef = np.asarray(full.coefficients)[1 + df :]
        var = np.asarray(full.var)[1 + df :, 1 + df :]
        tests = {
            "p_interaction": float(stats.chi2.sf(2.0 * (full.loglik[1] - reduced.loglik[1]), df)),
            "p_interaction_wald": float(stats.chi2.sf(coef @ np.linalg.solve(var, coef), df)),
            "p_trend": np.nan,
        }
        if ordered:
            rank = codes + 1.0
            trend = cox([treated, rank, treated * rank], known)
            b, v = trend.coefficients[2], trend.var[2][2]
            tests["p_trend"] = float(2.0 * stats.norm.sf(abs(b / np.sqrt(v))))
        for k, label in enumerate(labels):
            rows = codes == k
            values = effect(cox([treated], rows))
            for arm, flag in (("treatment", 1.0), ("control", 0.0)):
                curve = km(rows & (treated == flag))
                values[f"median_{arm}"] = median(curve)[0]
                values[f"landmark_{arm}"] = float(curve.surv[at(curve, landmark)])
            values.update(tests)
            out.update({f"{spec['column']}={label}.{key}": v for key, v in values.items()})
    data = pd.DataFrame({"time": time_, "event": event, "treated": treated})
    model = survival.coxph("Surv(time, event) ~ treated", data=data, ties="efron")
    out.update({f"overall.{k}": v for k, v in effect(model).items()})
    out["overall.p_logrank"] = float(
        survival.survdiff(survival.Surv(time_, event), group=treated).pvalue
    )
    out["overall.p_ph"] = float(survival.cox_zph(model).table[-1]["p"])  # GLOBAL
    for arm, flag in (("treatment", 1.0), ("control", 0.0)):
        curve = km(treated == flag)
        times, surv = np.asarray(curve.time), np.asarray(curve.surv)
        middle, lower, upper = median(curve)
        i = at(curve, landmark)
        steps = np.concatenate([[0.0], times[times < rmst_tau], [rmst_tau]])
        heights = np.concatenate([[1.0], surv[times < rmst_tau]])
        out.update(
            {
                f"overall.{arm}.median": middle,
                f"overall.{arm}.median_lower": lower,
                f"overall.{arm}.median_upper": upper,
                f"overall.{arm}.landmark": float(surv[i]),
                f"overall.{arm}.landmark_lower": float(curve.lower[i]),
                f"overall.{arm}.landmark_upper": float(curve.upper[i]),
                f"overall.{arm}.rmst": float(np.sum(np.diff(steps) * heights)),
            }
        )
    return out
