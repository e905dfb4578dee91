"""survtdm1 benchmarks: each workload of docs' performance spec against its baselines.

Run ``python benchmarks/run.py`` (or ``make bench``). For every workload in
:data:`WORKLOADS` it times survtdm1 as users call it, the lifelines loop that
computes the same numbers, and R survival (when ``Rscript`` is installed; else
skipped with a message), all in the same run; prints times, ratios, peak
memory and the largest relative difference of the estimates; and writes
``benchmarks/results.md`` with the machine described.

Times are the median of N repetitions (``--repeats``), the same N for every
implementation of a workload; the simulated cohorts come from fixed seeds
(``cohorts.py``). ``FIT`` (one Cox fit, 1e3 to 5e6 rows) and ``W5`` (a whole
``survtdm1 analyze`` of 1,000,000 rows) live in ``speed.py``. Adding a workload (W2 STEPP, W4
power) means writing one function that returns a :class:`Outcome` and
registering it in :data:`WORKLOADS`.

    python benchmarks/run.py                 # every workload
    python benchmarks/run.py --workload W1   # one of them
    python benchmarks/run.py --quick         # fewer repetitions
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import bench_continuous  # noqa: E402
import cohorts  # noqa: E402
import lifelines_loop  # noqa: E402
import r_baseline  # noqa: E402
import speed  # noqa: E402

import survtdm1 as st  # noqa: E402

# estimates left out of the comparison with lifelines, and why
NOT_COMPARED = {
    "p_ph": "lifelines' proportional_hazard_test is survival 2.x's cox.zph, not 3.x's",
    "rmst_se": "lifelines' RMST variance is not the Greenwood-type one of print(survfit)",
    "median_lower": "lifelines reads the median CI off its own CI curves",
    "median_upper": "lifelines reads the median CI off its own CI curves",
}


@dataclass
class Timing:
    """One implementation's median time (seconds) over ``repeats`` runs."""

    name: str
    seconds: float | None
    repeats: int
    note: str = ""


@dataclass
class Outcome:
    """What a workload reports: timings, memory, agreement, target checks."""

    workload: str
    description: str
    timings: list[Timing]
    memory: dict = field(default_factory=dict)
    agreement: dict = field(default_factory=dict)  # baseline -> (max rel diff, key)
    targets: list[tuple[str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # extra markdown lines


def best_of(function: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls and the last call's result."""
    return speed.median_of(function, repeats)


# --- survtdm1 outputs as flat, comparable dicts -------------------------------------------


def flatten_result(result) -> dict:
    """subgroups.csv and summary.json values keyed as the baselines key them."""
    out = {}
    fields = [
        "hr",
        "hr_lower",
        "hr_upper",
        "p_value",
        "median_treatment",
        "median_control",
        "landmark_treatment",
        "landmark_control",
        "p_interaction",
        "p_interaction_wald",
        "p_trend",
    ]
    for row in result.table.to_dict("records"):
        for name in fields:
            out[f"{row['subgroup']}={row['level']}.{name}"] = row[name]
    overall = result.overall
    for name in ("hr", "hr_lower", "hr_upper", "p_value", "p_logrank", "p_ph"):
        out[f"overall.{name}"] = overall[name]
    for arm in ("treatment", "control"):
        for name, value in overall[arm].items():
            if name != "landmark_se":
                out[f"overall.{arm}.{name}"] = value
    return out


def _missing(value) -> bool:
    """Not reached / not estimable: None, NaN, or lifelines' inf median."""
    return value is None or not np.isfinite(float(value))


def max_relative_difference(
    ours: dict, theirs: dict, skip: tuple[str, ...] = ()
) -> tuple[float, str, list[str]]:
    """Largest |ours - theirs| / |theirs| over shared keys (missing in both counts as equal),
    leaving out the estimates named in ``skip`` (for lifelines: :data:`NOT_COMPARED`).

    Returns the difference, its key, and the keys where exactly one side is missing.
    """
    worst, worst_key, mismatched = 0.0, "", []
    for key, reference in theirs.items():
        if key not in ours or key.rsplit(".", 1)[-1] in skip:
            continue
        value = ours[key]
        if _missing(value) or _missing(reference):
            if _missing(value) != _missing(reference):
                mismatched.append(key)
            continue
        scale = max(abs(float(reference)), 1e-300)
        difference = abs(float(value) - float(reference)) / scale
        if difference > worst:
            worst, worst_key = difference, key
    return worst, worst_key, mismatched


# --- W1: the subgroup battery ------------------------------------------------------------


def _w1_cohort():
    frame = cohorts.katherine_like()
    cohort = st.load_cohort(
        frame,
        arm="arm",
        treatment=cohorts.TREATMENT,
        control=cohorts.CONTROL,
        time="idfs_months",
        event="idfs_event",
    )
    plain = frame.rename(columns={"idfs_months": "time", "idfs_event": "event"})
    plain["treated"] = (plain["arm"] == cohorts.TREATMENT).astype(int)
    return cohort, plain


def r_frame(plain, subgroups):
    """time, event, treated and an integer level code per subgroup, for R."""
    frame = plain[["time", "event", "treated"]].copy()
    labels, ordered = {}, []
    for spec in subgroups:
        names, codes, is_ordered = lifelines_loop.levels(plain, spec)
        frame[spec["column"]] = np.where(codes >= 0, codes, np.nan)
        labels[spec["column"]] = names
        if is_ordered:
            ordered.append(spec["column"])
    return frame, labels, ordered


def _compare_r(ours: dict, frame, labels, ordered, options, repeats, outcome: Outcome):
    if not r_baseline.available():
        outcome.notes.append("R survival skipped: Rscript is not installed")
        outcome.timings.append(Timing("R survival", None, 0, "Rscript not installed"))
        return
    seconds, estimates = r_baseline.run(
        frame, ordered=ordered, labels=labels, repeats=repeats, **options
    )
    outcome.timings.append(Timing("R survival", seconds, repeats, "system.time in R"))
    worst, key, mismatched = max_relative_difference(ours, estimates)
    outcome.agreement["R survival"] = (worst, key, mismatched)


def workload_w1(repeats: int, with_r: bool) -> Outcome:
    """W1: 1,486 rows, 10 subgroup variables, 25 levels, landmark and RMST."""
    cohort, plain = _w1_cohort()
    subgroups, options = cohorts.W1_SUBGROUPS, cohorts.W1_OPTIONS
    outcome = Outcome("W1", "subgroup battery: 1,486 rows, 10 subgroups, 25 levels", [])
    functions = {
        "survtdm1": lambda: st.subgroup_analysis(cohort, subgroups, **options),
        "numpy engine": lambda: _without_kernel(
            lambda: st.subgroup_analysis(cohort, subgroups, **options)
        ),
        "lifelines": lambda: lifelines_loop.battery(plain, subgroups, **options),
    }
    if speed._survival_package() is not None:
        functions["survival"] = lambda: speed.survival_package_battery(plain, subgroups)
        functions["survival battery"] = lambda: speed.survival_package_full_battery(
            plain, subgroups, **options
        )
    else:
        outcome.notes.append("the survival package (PyPI) is not installed: skipped")
    floor_run = _compiled_floor(plain, subgroups, options, outcome)
    if floor_run is not None:
        functions["floor"] = floor_run[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # in rounds (one call of each per round): the machine's speed drifts
        timed = speed.interleaved(functions, repeats)
        tight = lifelines_loop.battery(plain, subgroups, options=lifelines_loop.TIGHT, **options)
    (ours_time, result), (ll_time, _) = timed["survtdm1"], timed["lifelines"]
    ours = flatten_result(result)
    outcome.timings += [
        Timing("survtdm1 subgroup_analysis", ours_time, repeats),
        Timing("lifelines loop", ll_time, repeats, "default convergence"),
    ]
    outcome.agreement["lifelines (tight convergence)"] = max_relative_difference(
        ours, tight, tuple(NOT_COMPARED)
    )
    numpy_time, numpy_result = timed["numpy engine"]
    outcome.timings.append(
        Timing("survtdm1 without its compiled kernel", numpy_time, repeats, "numpy engine")
    )
    outcome.agreement["survtdm1's numpy engine"] = max_relative_difference(
        ours, flatten_result(numpy_result)
    )
    sp_time = floor_time = None
    if "survival" in timed:
        sp_time, sp = timed["survival battery"]
        outcome.timings.append(
            Timing("survival (PyPI) loop", sp_time, repeats, "the lifelines loop's estimates")
        )
        outcome.agreement["survival (PyPI), the battery"] = max_relative_difference(
            ours, sp, SURVIVAL_NOT_COMPARED
        )
        outcome.notes.append(
            "not compared with the survival package: the KM confidence limits of medians and "
            "landmark survival (its survfit's limits differ from R's by up to 0.7%; "
            "survtdm1's agree with R's, see the R survival row)"
        )
        fits_time, fits = timed["survival"]
        outcome.timings.append(
            Timing("survival (PyPI) loop, Cox fits only", fits_time, repeats, "no KM, no tests")
        )
        outcome.agreement["survival (PyPI), Cox fits only, HR"] = max_relative_difference(
            ours, fits
        )
    if floor_run is not None:
        floor_time, out = timed["floor"]
        outcome.timings.append(
            Timing("compiled floor (numba)", floor_time, repeats, "fits and curves only (floor.py)")
        )
        floor_run[1](out, ours)
    if with_r:
        frame, labels, ordered = r_frame(plain, subgroups)
        _compare_r(ours, frame, labels, ordered, options, repeats, outcome)
    outcome.notes.append(
        "survtdm1 (with and without its kernel), lifelines, the survival package and the "
        "floor are timed in rounds (one "
        "call of each per round, medians over the rounds): this machine's speed drifts by "
        "up to 2x within a minute. R runs its repetitions in its own process"
    )
    outcome.memory = _memory_in_subprocess("W1")
    outcome.targets = [
        ("W1 >= 100x faster than the lifelines loop", ll_time / ours_time >= 100),
        ("W1 >= 5x faster than a loop of the survival package (the lifelines loop's work)",
         sp_time is not None and sp_time / ours_time >= 5),
        ("estimates agree with lifelines to 1e-6", _agree(outcome, "lifelines")),
        ("W1 within 3x of the compiled single-pass floor",
         floor_time is not None and ours_time / floor_time <= 3),
    ]  # fmt: skip
    return outcome


#: Estimates of the survival package's battery left out of the agreement: its KM
#: confidence limits are not R's (see workload_w1's note).
SURVIVAL_NOT_COMPARED = ("median_lower", "median_upper", "landmark_lower", "landmark_upper")


def _without_kernel(function):
    """``function()`` with survtdm1's compiled kernel switched off (its numpy engine, as
    installed without a C compiler)."""
    from survtdm1 import cox_cells

    saved, cox_cells.KERNEL = cox_cells.KERNEL, None
    try:
        return function()
    finally:
        cox_cells.KERNEL = saved


def _compiled_floor(plain, subgroups, options, outcome):
    """floor.py's numba battery, compiled by a first call: (run, compare), where
    ``compare(out, ours)`` records its agreement; None without numba."""
    import floor  # here, not at the top: the memory probes must not load numba

    if floor.numba is None:
        outcome.notes.append("numba is not installed: the compiled floor was not run")
        return None
    prepared = floor.prepare(plain, subgroups)

    def run_floor():
        return floor.battery(*prepared, options["landmark"], options["rmst_tau"])

    def compare(out, ours):
        labels = prepared[3]
        theirs = {}
        for key, value in floor.comparable(out).items():
            if key.endswith(".lrt_p"):
                name = key[: -len(".lrt_p")]
                theirs[f"{name}={labels[name][0]}.p_interaction"] = value
            else:
                theirs[key] = value
        outcome.agreement["compiled floor (numba), HR and LRT"] = max_relative_difference(
            ours, theirs
        )

    run_floor()  # JIT compilation, not timed
    return run_floor, compare


# --- W3: one Cox fit + KM on 1,000,000 rows ----------------------------------------------


def _w3_cohort():
    frame = cohorts.large_two_arm()
    cohort = st.load_cohort(
        frame, arm="arm", treatment=cohorts.TREATMENT, control=cohorts.CONTROL,
        time="time", event="event",
    )  # fmt: skip
    plain = frame.assign(treated=(frame["arm"] == cohorts.TREATMENT).astype(int))
    return cohort, plain


def workload_w3(repeats: int, with_r: bool) -> Outcome:
    """W3: the overall analysis (Cox, log-rank, PH test, KM per arm) of 1,000,000 rows."""
    cohort, plain = _w3_cohort()
    options = cohorts.W1_OPTIONS
    outcome = Outcome("W3", "one Cox fit + KM, 1,000,000 rows, 2 arms", [])
    ours_time, result = best_of(lambda: st.subgroup_analysis(cohort, [], **options), repeats)
    time_, event, treated = (plain[c].to_numpy() for c in ("time", "event", "treated"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' RMST variance integral warns on 1M rows
        start = time.perf_counter()
        theirs = lifelines_loop.overall(time_, event, treated, ph_test=False, **options)
        ll_time = time.perf_counter() - start
    outcome.timings += [
        Timing("survtdm1 subgroup_analysis", ours_time, repeats),
        Timing("lifelines CoxPHFitter + KM + log-rank", ll_time, 1, "no PH test (see notes)"),
    ]
    outcome.notes.append(
        "the lifelines baseline leaves out the PH test (proportional_hazard_test, not timed "
        "on 1M rows); survtdm1's and R's times include theirs (cox.zph)"
    )
    ours = flatten_result(result)
    outcome.agreement["lifelines (default convergence)"] = max_relative_difference(
        ours, theirs, tuple(NOT_COMPARED)
    )
    if with_r:
        frame = plain[["time", "event", "treated"]]
        _compare_r(ours, frame, {}, [], options, max(1, repeats // 2), outcome)
    outcome.memory = _memory_in_subprocess("W3")
    r_time = next((t.seconds for t in outcome.timings if t.name == "R survival"), None)
    outcome.targets = [
        ("W3 >= 20x faster than lifelines", ll_time / ours_time >= 20),
        ("W3 faster than R survival", r_time is None or ours_time < r_time),
        ("W3 peak memory < 1 GiB", outcome.memory.get("max_rss_mib", 0) < 1024),
    ]
    return outcome


def _agree(outcome: Outcome, prefix: str) -> bool:
    return all(
        worst <= 1e-6 and not mismatched
        for name, (worst, _, mismatched) in outcome.agreement.items()
        if name.startswith(prefix)
    )


# --- peak memory, measured in a fresh process --------------------------------------------

COHORT_BUILDERS = {"W1": (_w1_cohort, "W1"), "W3": (_w3_cohort, "W3")}


def _memory_in_subprocess(name: str) -> dict:
    """Run one survtdm1 call of workload ``name`` in a fresh process and read its peak memory."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--memory-probe", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _peak_rss_mib() -> float:
    """Peak RSS of this process image (VmHWM): ru_maxrss would also count the pages of
    the parent this process was forked from, before its exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_probe(name: str) -> None:
    """Print peak memory of one ``subgroup_analysis`` call (VmHWM and tracemalloc)."""
    cohort, _ = COHORT_BUILDERS[name][0]()
    subgroups = cohorts.W1_SUBGROUPS if name == "W1" else []
    rss_before = _peak_rss_mib()
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st.subgroup_analysis(cohort, subgroups, **cohorts.W1_OPTIONS)
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss = _peak_rss_mib()
    print(
        json.dumps(
            {
                "max_rss_mib": round(rss, 1),
                "rss_before_call_mib": round(rss_before, 1),
                "call_peak_traced_mib": round(traced_peak, 1),
            }
        )
    )


def _continuous_workload(name: str, run: Callable[[], dict], target: float) -> Outcome:
    """W2/W4 (bench_continuous.py): one timed run against an extrapolated lifelines loop."""
    row = run()
    outcome = Outcome(name, row["workload"].removeprefix(f"{name} "), [])
    outcome.timings += [
        Timing("survtdm1", row["survtdm1_s"], 1, "n_jobs=2"),
        Timing("lifelines loop", row["lifelines_s"], 1, "extrapolated from 20 repeats"),
    ]
    outcome.targets = [
        (f"{name} >= {target:.0f}x faster than the lifelines loop", row["ratio"] >= target),
        ("estimates agree with lifelines", row["estimates_agree"]),
    ]
    if name == "W2":
        outcome.targets.append(("W2 under 10 s on 2 cores", row["survtdm1_s"] < 10))
    return outcome


def workload_w2(repeats: int, with_r: bool) -> Outcome:
    """W2: STEPP, 1,486 rows, 10 windows, 1,000 permutations."""
    return _continuous_workload("W2", bench_continuous.w2, 50)


def workload_w4(repeats: int, with_r: bool) -> Outcome:
    """W4: power simulation, 1,000 KATHERINE-size trials, interaction test in each."""
    return _continuous_workload("W4", bench_continuous.w4, 50)


def _fit_time(seconds: float) -> str:
    """Three significant digits: milliseconds below 1 s (a 1e3-row fit takes under 1 ms)."""
    return f"{seconds * 1000:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def workload_fit(repeats: int, with_r: bool) -> Outcome:
    """FIT: one Cox fit (treatment only) from 1e3 to 5e6 rows, against every engine."""
    rows = speed.fit_rows(quick=repeats < 5)  # --repeats 3 or less: up to 1e6 rows only
    outcome = Outcome("FIT", "one Cox fit, 1e3 to 5e6 rows (scaling)", [])
    names = ["survtdm1", "survival (PyPI)", "R coxph.fit", "R coxph", "lifelines"]
    head = "| rows | ties | repeats | " + " | ".join(names) + " | max rel. diff. of coef |"
    lines = [head, "|" + "---|" * (len(names) + 4)]
    for row in rows:
        cells = [_fit_time(row[n]) if n in row else "not run" for n in names]
        ours = row["coef survtdm1"]
        diff = max(
            abs(ours - row[k]) / abs(row[k])
            for k in row
            if k.startswith("coef ") and k != "coef survtdm1"
        )
        ties = "yes" if row["ties"] else "no"
        lines.append(
            f"| {row['n']:,} | {ties} | {row['repeats']} | "
            + " | ".join(cells)
            + f" | {diff:.1e} |"
        )
    outcome.tables = lines + ["", "Medians of the repetitions; R timed inside R (system.time)."]
    million = next(r for r in rows if r["n"] == 1_000_000 and r["ties"])
    sp = [r for r in rows if "survival (PyPI)" in r]
    outcome.targets = [
        ("one fit faster than R coxph.fit at 1e6 rows",
         "R coxph.fit" in million and million["survtdm1"] < million["R coxph.fit"]),
        ("one fit faster than the survival package at every size",
         bool(sp) and all(r["survtdm1"] < r["survival (PyPI)"] for r in sp)),
    ]  # fmt: skip
    return outcome


def workload_w5(repeats: int, with_r: bool) -> Outcome:
    """W5: survtdm1 analyze on a 1,000,000-row CSV, 10 subgroups, as a whole process."""
    folder = HERE / ".w5"
    folder.mkdir(exist_ok=True)
    result = speed.w5(folder, repeats, with_r)
    outcome = Outcome("W5", "survtdm1 analyze, 1,000,000-row CSV, 10 subgroups (25 levels)", [])
    ours = result["survtdm1"]
    outcome.timings.append(
        Timing("survtdm1 analyze (process)", ours, repeats, "CSV read, figures, report included")
    )
    r_time = result.get("R survival")
    if r_time is not None:
        outcome.timings.append(Timing("R survival battery", r_time, 1, "CSV read not timed"))
        outcome.agreement["R survival"] = result["agreement R"]
    outcome.memory = {
        "peak_rss_mib": round(result["peak_rss_mib"], 1),
        "forked_processes_peak_rss_mib": round(result["forked_processes_peak_rss_mib"], 1),
        "all_processes_peak_pss_mib": round(result["all_processes_peak_pss_mib"], 1),
    }
    outcome.notes.append(
        "survtdm1 analyze forks: an output process before the analysis (for cohort files "
        "of 8 MB or more), which forks once more to draw the forest plot (and that process "
        "once more for its SVG file), and a second battery process after the data are read "
        "(from 100,000 rows, with subgroups). The forked processes' "
        "peak RSS is the largest of theirs and counts in full the pages they share with the "
        "main process (copy-on-write); all_processes_peak_pss_mib is the largest sum of "
        "every process's PSS (a shared page counted once), sampled every 20 ms in an "
        "untimed run: the memory the run uses"
    )
    outcome.notes.append(
        "an LRT p-value may differ from R's in its fourth digit: its two log-likelihoods "
        "are about -6.3e6 and differ by about 0.14, so a rounding of 1e-12 in either moves "
        "it. benchmarks/w5_loglik.py evaluates survtdm1's hormone_receptor models again "
        "in 80-bit extended precision and finds survtdm1's log-likelihoods to all six "
        "printed decimals; R's (even with eps = 1e-14) are 3e-5 and 4e-5 away"
    )
    outcome.targets = [
        ("W5 about 5 s (10x faster than the 49.7 s before)", ours <= 5.0),
        (
            "W5 peak memory < 1 GiB (main process, and all processes together)",
            max(result["peak_rss_mib"], result["all_processes_peak_pss_mib"]) < 1024,
        ),
        ("W5 >= 20x faster than R survival", r_time is not None and r_time / ours >= 20),
    ]
    return outcome


def workload_import(repeats: int, with_r: bool) -> Outcome:
    """IMPORT: ``import survtdm1`` in a fresh interpreter, against an empty one."""

    def fresh(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=HERE.parent)
        return time.perf_counter() - start

    repeats = max(repeats, 10)
    times = {
        "python -c 'import survtdm1'": [fresh("import survtdm1") for _ in range(repeats)],
        "python -c 'pass' (interpreter start)": [fresh("pass") for _ in range(repeats)],
        "python -c 'import pandas' (for scale)": [fresh("import pandas") for _ in range(repeats)],
    }
    outcome = Outcome("IMPORT", "import survtdm1 in a fresh process", [])
    for name, seconds in times.items():
        outcome.timings.append(Timing(name, float(np.median(seconds)), repeats, "whole process"))
    ours = outcome.timings[0].seconds
    outcome.targets = [("import survtdm1 under 0.5 s", ours < 0.5)]
    outcome.notes.append(
        "survtdm1's names are imported on first use (PEP 562): the first call of "
        "load_cohort then imports pandas and the engine (about 0.8 s here)"
    )
    return outcome


WORKLOADS: dict[str, Callable[[int, bool], Outcome]] = {
    "W1": workload_w1,
    "W2": workload_w2,
    "W3": workload_w3,
    "W4": workload_w4,
    "FIT": workload_fit,
    "W5": workload_w5,
    "IMPORT": workload_import,
}
DEFAULT_REPEATS = {"W1": 5, "W2": 1, "W3": 5, "W4": 1, "FIT": 5, "W5": 5, "IMPORT": 10}


# --- the machine and the report ----------------------------------------------------------


def describe_machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import lifelines
    import pandas
    import scipy

    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except (TypeError, KeyError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "lifelines": lifelines.__version__,
        "survival (PyPI)": _version_of("survival"),
        "numba (compiled floor)": _version_of("numba"),
        "survtdm1": st.__version__,
        "R": r_baseline.r_version() if r_baseline.available() else "not installed",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _version_of(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _fmt_seconds(seconds) -> str:
    return "skipped" if seconds is None else f"{seconds:.4f} s"


def render(outcomes: list[Outcome], machine: dict) -> str:
    lines = ["# survtdm1 benchmark results", "", "Written by `python benchmarks/run.py`.", ""]
    lines += ["## Machine", ""] + [f"- {k}: {v}" for k, v in machine.items()] + [""]
    for outcome in outcomes:
        ours = outcome.timings[0].seconds if outcome.timings else None
        lines += [f"## {outcome.workload}: {outcome.description}", ""]
        if outcome.timings:
            lines += ["| implementation | median time | repeats | survtdm1 faster by | note |"]
            lines += ["|---|---|---|---|---|"]
        for timing in outcome.timings:
            ratio = "" if timing.seconds is None else f"{timing.seconds / ours:.1f}x"
            lines.append(
                f"| {timing.name} | {_fmt_seconds(timing.seconds)} | {timing.repeats} "
                f"| {ratio} | {timing.note} |"
            )
        lines.append("")
        if outcome.tables:
            lines += outcome.tables + [""]
        if outcome.memory:
            lines += ["Peak memory of one survtdm1 call (fresh process): " + ", ".join(
                f"{k} = {v}" for k, v in outcome.memory.items()
            ), ""]  # fmt: skip
        for name, (worst, key, mismatched) in outcome.agreement.items():
            text = f"- max relative difference vs {name}: {worst:.2e} ({key})"
            if mismatched:
                text += f"; missing on one side only: {', '.join(mismatched)}"
            lines.append(text)
        if any("lifelines" in name for name in outcome.agreement):
            lines += [f"- not compared with lifelines: {k} ({v})" for k, v in NOT_COMPARED.items()]
        lines += [""] + [f"- target {'met' if ok else 'NOT met'}: {t}" for t, ok in outcome.targets]
        lines += [f"- note: {note}" for note in outcome.notes] + [""]
    return "\n".join(lines)


def _sections(text: str) -> tuple[str, dict[str, str]]:
    head, *parts = text.split("\n## ")
    return head, {part.split(":", 1)[0].split("\n", 1)[0]: "## " + part for part in parts}


def merge_sections(old: str, new: str) -> str:
    """``new`` with the workload sections of ``old`` that ``new`` does not have (in the
    order of WORKLOADS); the machine section is ``new``'s."""
    head, new_parts = _sections(new)
    _, old_parts = _sections(old)
    merged = {**old_parts, **new_parts}
    order = ["Machine", *WORKLOADS]
    keys = sorted(merged, key=lambda k: order.index(k) if k in order else len(order))
    return "\n".join([head.rstrip("\n") + "\n"] + [merged[k].rstrip("\n") + "\n" for k in keys])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--repeats", type=int, help="repetitions (best of N)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-r", action="store_true", help="skip the R survival baseline")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the other workloads' sections of an existing output (each section says "
        "the machine's load when it ran)",
    )
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return 0
    with_r = not args.no_r and r_baseline.available()
    if not args.no_r and not with_r:
        print("R survival baseline skipped: Rscript is not installed")
    outcomes = []
    for name in args.workload or list(WORKLOADS):
        repeats = args.repeats or (3 if args.quick else DEFAULT_REPEATS[name])
        print(f"running {name} (median of {repeats}) ...", flush=True)
        started = time.strftime("%Y-%m-%d %H:%M")
        outcomes.append(WORKLOADS[name](repeats, with_r))
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        outcomes[-1].notes.append(f"run {started}; load average (1, 5, 15 min) after it: {load}")
        print(render([outcomes[-1]], {}).split("## Machine", 1)[-1].split("\n", 3)[-1])
        text = render(outcomes, describe_machine())
        if args.keep and args.output.exists():
            text = merge_sections(args.output.read_text(), text)
        args.output.write_text(text)  # kept after each one
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
