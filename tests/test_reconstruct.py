"""reconstruct_ipd (Guyot et al. 2012): round trips on curves with known truth, bad input.

The truth is the shipped synthetic KATHERINE and EMILIA cohorts (made by the
project's generator). Each arm's Kaplan-Meier curve is digitised as a person
would with WebPlotDigitizer (both corners of each step on a 1000 x 600 px
plot, half-pixel jitter, a few clicks too high, repeated points, shuffled
rows; fixed seeds), reconstructed, and compared with the true patients.
Targets (richest input: curve, risk table and total events), from the
round-trip study in benchmarks/reconstruct_roundtrip.py: |log HR error| < 0.02,
|median error| < 0.3 months, max |S(t) error| < 0.02 over a 0.5-month grid
(median over replicates; 0.04 for any single one).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import survtdm1 as st
from survtdm1.cli import main
from survtdm1.cox import cox_fit
from survtdm1.km import kaplan_meier, median_survival

TRIALS = {
    "katherine": ("idfs_months", "idfs_event", 6.0),
    "emilia": ("pfs_months", "pfs_event", 3.0),
}


def digitise(time, event, rng, width_px=1000, height_px=600) -> pd.DataFrame:
    km = kaplan_meier(time, event)
    drop = km.n_event > 0
    after = km.surv[drop]
    end = float(km.time[-1])
    t = np.concatenate([[0.0], np.repeat(km.time[drop], 2), [end]])
    s = np.concatenate(
        [[1.0], np.column_stack([np.append(1.0, after[:-1]), after]).ravel(), [km.surv[-1]]]
    )
    x_px, y_px = end / width_px, 1.0 / height_px
    t = np.round(t / x_px) * x_px + rng.normal(0.0, 0.5 * x_px, t.size)
    s = np.round(s / y_px) * y_px + rng.normal(0.0, 0.5 * y_px, s.size)
    s[rng.random(s.size) < 0.02] += 2 * y_px
    t, s = np.clip(t, 0.0, None), np.clip(s, 0.0, 1.0)
    again = rng.random(t.size) < 0.03
    t, s = np.append(t, t[again]), np.append(s, s[again])
    order = rng.permutation(t.size)
    return pd.DataFrame({"time": t[order], "survival": s[order]})


def risk_table(time, step) -> pd.DataFrame:
    times = np.arange(0.0, time.max() + 1e-9, step)
    return pd.DataFrame({"time": times, "n_at_risk": [int((time >= x).sum()) for x in times]})


def _arms(trial):
    time_col, event_col, _ = TRIALS[trial]
    frame = getattr(st.datasets, trial)()
    arms = sorted(frame["arm"].unique(), key=lambda a: a != "T-DM1")
    return [
        (
            frame.loc[frame["arm"] == a, time_col].to_numpy(float),
            frame.loc[frame["arm"] == a, event_col].to_numpy(float),
        )
        for a in arms
    ]


def _log_hr(arms) -> float:
    time = np.concatenate([t for t, _ in arms])
    event = np.concatenate([e for _, e in arms])
    treated = np.concatenate([np.full(t.size, float(i == 0)) for i, (t, _) in enumerate(arms)])
    return float(cox_fit(time, event, treated).coef[0])


def _s_error(truth, rebuilt) -> float:
    grid = np.arange(0.0, truth[0].max(), 0.5)
    a, b = kaplan_meier(*truth), kaplan_meier(*rebuilt)
    values = [np.append(1.0, k.surv)[np.searchsorted(k.time, grid, side="right")] for k in (a, b)]
    return float(np.abs(values[0] - values[1]).max())


def _round_trip(trial, seed, tier):
    _, _, step = TRIALS[trial]
    rng = np.random.default_rng(seed)
    truth = _arms(trial)
    rebuilt = []
    for time, event in truth:
        kwargs = {"n": time.size}
        if tier >= 2:
            kwargs = {"at_risk": risk_table(time, step)}
        if tier >= 3:
            kwargs["total_events"] = int(event.sum())
        ipd = st.reconstruct_ipd(digitise(time, event, rng), **kwargs)
        assert len(ipd) == time.size
        rebuilt.append((ipd["time"].to_numpy(), ipd["event"].to_numpy(float)))
        if tier >= 3:
            assert ipd["event"].sum() == event.sum()
    medians = []
    for a, b in zip(truth, rebuilt, strict=True):
        m_true = median_survival(kaplan_meier(*a))[0]
        m_new = median_survival(kaplan_meier(*b))[0]
        if np.isfinite(m_true):
            medians.append(abs(m_new - m_true))
    return {
        "log_hr": abs(_log_hr(rebuilt) - _log_hr(truth)),
        "median": max(medians, default=0.0),
        "s": max(_s_error(a, b) for a, b in zip(truth, rebuilt, strict=True)),
    }


@pytest.mark.parametrize("trial", list(TRIALS))
def test_round_trip_richest_input_meets_targets(trial):
    errors = pd.DataFrame([_round_trip(trial, seed, tier=3) for seed in (11, 12, 13)])
    assert (errors["log_hr"] < 0.02).all(), errors
    assert (errors["median"] < 0.3).all(), errors
    assert errors["s"].median() < 0.02, errors
    assert (errors["s"] < 0.04).all(), errors


@pytest.mark.parametrize("trial", list(TRIALS))
def test_round_trip_poorer_inputs(trial):
    with_table = _round_trip(trial, 21, tier=2)
    assert with_table["log_hr"] < 0.02
    assert with_table["s"] < 0.04
    curve_only = _round_trip(trial, 21, tier=1)
    assert curve_only["log_hr"] < 0.1
    assert curve_only["s"] < 0.04


def test_exact_curve_and_full_risk_table_give_the_events_back():
    rng = np.random.default_rng(5)
    time = np.round(rng.exponential(20.0, 60), 1) + 0.1  # no event at time 0
    event = (rng.random(60) < 0.7).astype(float)
    km = kaplan_meier(time, event)
    drop = km.n_event > 0
    after = km.surv[drop]
    curve = pd.DataFrame(
        {
            "time": np.concatenate([[0.0], np.repeat(km.time[drop], 2), [km.time[-1]]]),
            "survival": np.concatenate(
                [[1.0], np.column_stack([np.append(1.0, after[:-1]), after]).ravel(), [after[-1]]]
            ),
        }
    )
    table = pd.DataFrame({"time": np.unique(np.append(0.0, km.time[drop]))})
    table["n_at_risk"] = [int((time >= t).sum()) for t in table["time"]]
    ipd = st.reconstruct_ipd(curve, table)
    rebuilt = kaplan_meier(ipd["time"], ipd["event"])
    assert len(ipd) == 60
    events = ipd.loc[ipd["event"] == 1, "time"].value_counts().sort_index()
    np.testing.assert_array_equal(events.index, km.time[drop])
    np.testing.assert_array_equal(events.to_numpy(), km.n_event[drop])
    on = np.isin(rebuilt.time, km.time[drop])
    np.testing.assert_allclose(rebuilt.surv[on], km.surv[drop], rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def noisy_curve():
    time, event = _arms("emilia")[1]
    return digitise(time, event, np.random.default_rng(3)), time, event


def test_row_order_and_repeats_do_not_matter(noisy_curve):
    curve, time, _ = noisy_curve
    a = st.reconstruct_ipd(curve, n=time.size)
    b = st.reconstruct_ipd(curve.sample(frac=1.0, random_state=1), n=time.size)
    c = st.reconstruct_ipd(pd.concat([curve, curve.iloc[::7]]), n=time.size)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_output_shape(noisy_curve):
    curve, time, event = noisy_curve
    ipd = st.reconstruct_ipd(curve, risk_table(time, 3.0), total_events=int(event.sum()))
    assert list(ipd.columns) == ["time", "event"]
    assert ipd["event"].isin([0, 1]).all()
    assert (ipd["time"] >= 0).all() and ipd["time"].is_monotonic_increasing
    cohort = st.load_cohort(
        pd.concat([ipd.assign(arm="A"), ipd.assign(arm="B")]),
        arm="arm", treatment="A", control="B", time="time", event="event",
    )  # fmt: skip
    assert len(cohort.data) == 2 * time.size


def test_webplotdigitizer_files(tmp_path, noisy_curve):
    curve, time, _ = noisy_curve
    expected = st.reconstruct_ipd(curve, n=time.size)
    percent = curve.assign(survival=curve["survival"] * 100)
    # header-less, percent: as WebPlotDigitizer exports
    (tmp_path / "bare.csv").write_text(percent.to_csv(header=False, index=False))
    # two header lines (dataset name, then X,Y) and a survival_percent column
    (tmp_path / "wpd.csv").write_text(
        "Dataset 1,\nX,Y\n" + percent.to_csv(header=False, index=False)
    )
    percent.rename(columns={"survival": "survival_percent"}).to_csv(
        tmp_path / "pct.csv", index=False
    )
    for name in ("bare.csv", "wpd.csv", "pct.csv"):
        got = st.reconstruct_ipd(tmp_path / name, n=time.size)
        pd.testing.assert_frame_equal(got, expected, rtol=1e-9, obj=name)


@pytest.mark.parametrize(
    ("curve", "message"),
    [
        (pd.DataFrame({"time": [], "survival": []}), "no points"),
        (
            pd.DataFrame({"time": [0, 1, 2], "survival": [1.0, 1.5, 0.8]}),
            r"outside \[0, 1\] at row 2",
        ),
        (pd.DataFrame({"time": [0, 1, 2], "survival": [1.0, 0.9, -0.1]}), "row 3"),
        (pd.DataFrame({"time": [0, 1, 2], "survival": [100, 90, 80]}), r"outside \[0, 1\]"),
        (
            pd.DataFrame({"time": [0, -1, 2], "survival": [1.0, 0.9, 0.8]}),
            "negative times at row 2",
        ),
        (pd.DataFrame({"time": [0, 1, 2], "survival": [1.0, "x", 0.8]}), "non-numeric"),
        (pd.DataFrame({"time": [0, 1, None], "survival": [1.0, 0.9, 0.8]}), "missing values"),
        (pd.DataFrame({"t0": [0, 1], "survival": [1.0, 0.9]}), "column time not found"),
    ],
)
def test_bad_curves(curve, message):
    with pytest.raises(st.InputError, match=message):
        st.reconstruct_ipd(curve, n=10)


CURVE = pd.DataFrame({"time": [0, 2, 2, 5, 5, 9], "survival": [1, 1, 0.8, 0.8, 0.6, 0.6]})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"at_risk": pd.DataFrame({"time": [0, 3, 6], "n_at_risk": [10, 12, 5]})}, "increase"),
        ({"at_risk": pd.DataFrame({"time": [0, 3, 3], "n_at_risk": [10, 8, 5]})}, "repeats"),
        ({"at_risk": pd.DataFrame({"time": [0, 3], "n_at_risk": [10, 7.5]})}, "whole numbers"),
        ({"at_risk": pd.DataFrame({"time": [0, 3], "n_at_risk": [10, 8]}), "n": 12}, "disagrees"),
        ({"at_risk": pd.DataFrame({"time": [3, 6], "n_at_risk": [10, 8]})}, "give n"),
        ({"at_risk": pd.DataFrame({"time": [0, 3], "count": [10, 8]})}, "n_at_risk not found"),
        ({}, "at_risk table or n"),
        ({"n": 10, "total_events": 11}, "exceeds the arm size"),
    ],
)
def test_bad_risk_tables_and_counts(kwargs, message):
    with pytest.raises(st.InputError, match=message):
        st.reconstruct_ipd(CURVE, **kwargs)


def test_bad_options_and_files(tmp_path):
    with pytest.raises(st.PlanError, match="n must be"):
        st.reconstruct_ipd(CURVE, n=-3)
    with pytest.raises(st.PlanError, match="total_events must be"):
        st.reconstruct_ipd(CURVE, n=10, total_events=2.5)
    with pytest.raises(st.InputError, match="file not found"):
        st.reconstruct_ipd(tmp_path / "absent.csv", n=10)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(st.InputError, match="empty.csv: no points"):
        st.reconstruct_ipd(tmp_path / "empty.csv", n=10)
    (tmp_path / "header.csv").write_text("time,survival\n")
    with pytest.raises(st.InputError, match="header.csv: no points"):
        st.reconstruct_ipd(tmp_path / "header.csv", n=10)
    (tmp_path / "three.csv").write_text("0,1,3\n1,0.9,4\n")
    with pytest.raises(st.InputError, match="exactly two columns"):
        st.reconstruct_ipd(tmp_path / "three.csv", n=10)
    (tmp_path / "risk.csv").write_text("time,n_at_risk\n0,10\n3,12\n6,5\n")
    with pytest.raises(st.InputError, match=r"risk.csv: at-risk counts .* increase .* row 2"):
        st.reconstruct_ipd(CURVE, tmp_path / "risk.csv")


def _cli(*args, cwd, capsys):
    """The command line in-process (a subprocess would spend seconds importing)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        try:
            status = main(list(args))
        except SystemExit as stop:  # argparse errors
            status = stop.code
    out, err = capsys.readouterr()
    return SimpleNamespace(returncode=status, stdout=out, stderr=err)


def test_cli_reconstruct(tmp_path, capsys):
    CURVE.to_csv(tmp_path / "curve.csv", index=False)
    pd.DataFrame({"time": [0, 4], "n_at_risk": [10, 7]}).to_csv(tmp_path / "risk.csv", index=False)
    done = _cli(
        "reconstruct", "--curve", "curve.csv", "--at-risk", "risk.csv", "--events", "4",
        "--arm", "T-DM1", "--out", "ipd.csv", cwd=tmp_path, capsys=capsys,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ipd = pd.read_csv(tmp_path / "ipd.csv")
    assert list(ipd.columns) == ["time", "event", "arm"]
    assert len(ipd) == 10 and ipd["event"].sum() == 4
    expected = st.reconstruct_ipd(CURVE, tmp_path / "risk.csv", total_events=4)
    np.testing.assert_allclose(ipd["time"], expected["time"])


def test_cli_reconstruct_bad_input(tmp_path, capsys):
    pd.DataFrame({"time": [0, 1], "survival": [1.0, 1.2]}).to_csv(tmp_path / "c.csv", index=False)
    done = _cli(
        "reconstruct", "--curve", "c.csv", "--n", "5", "--out", "o.csv", cwd=tmp_path, capsys=capsys
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "c.csv" in lines[0] and "survival" in lines[0]
    done = _cli(
        "reconstruct",
        "--curve",
        "c.csv",
        "--n",
        "-5",
        "--out",
        "o.csv",
        cwd=tmp_path,
        capsys=capsys,
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_docstring_examples_run():
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module("survtdm1.reconstruct"))
    assert tried > 0 and failures == 0


REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.mark.parametrize("case", ["katherine", "emilia_os"])
def test_guyot_steps_as_the_r_reference(case):
    """Events and censorings per digitised point as Guyot's algorithm written in R
    (tests/reference/make_reconstruct_reference.R), exactly."""
    expected = json.loads((REFERENCE / "expected" / "reconstruct.json").read_text())[case]
    curve = REFERENCE / "data" / f"reconstruct_{case}_curve.csv"
    risk = REFERENCE / "data" / f"reconstruct_{case}_risk.csv"
    ipd = st.reconstruct_ipd(curve, risk)
    points = np.asarray(expected["time"])
    time, event = ipd["time"].to_numpy(), ipd["event"].to_numpy()
    events = np.array([np.sum((time == t) & (event == 1)) for t in points])
    censored_at = np.searchsorted(points, time[event == 0], side="left")  # in (t_k-1, t_k]
    at_end = np.sum((time == points[-1]) & (event == 0))
    between = np.bincount(censored_at[time[event == 0] < points[-1]] - 1, minlength=points.size)
    np.testing.assert_array_equal(events, expected["d"])
    np.testing.assert_array_equal(between, expected["c"])
    assert at_end == expected["left"]
