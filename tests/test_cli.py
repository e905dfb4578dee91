"""The command line: bad input gives exit status 2 and one line, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLAN = """
[cohort]
path = "cohort.csv"
time = "months"
event = "event"
arm = "arm"
treatment = "A"
control = "B"
id = "pid"

[analysis]
landmark = 12
rmst_tau = 24
risk_times = [0, 6, 12, 18, 24]
strata = ["status"]

[[subgroup]]
column = "grade"

[[subgroup]]
column = "marker"
quantiles = [0.5]
name = "Marker <expression>"
"""


def run(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "survtdm1", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.fixture
def workdir(tmp_path, small_csv):
    (tmp_path / "plan.toml").write_text(PLAN)
    return tmp_path


def test_analyze_writes_tables(workdir):
    result = run("analyze", "plan.toml", "--out", "out", "--quiet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    out = workdir / "out"
    table = pd.read_csv(out / "subgroups.csv", keep_default_na=False)
    assert table["level"].tolist() == ["1", "2", "3", "<=median", ">median"]
    assert table["subgroup_label"].tolist()[-1] == "Marker <expression>"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["stratified"]["strata"] == ["status"]
    assert len(summary["provenance"]["input_sha256"]) == 64
    exclusions = pd.read_csv(out / "exclusions.csv")
    assert exclusions.columns.tolist() == ["reason", "n"]
    reasons = dict(zip(exclusions["reason"], exclusions["n"], strict=True))
    assert reasons["missing grade (subgroup grade only)"] == table["n_missing"].iloc[0]
    assert any(r.startswith("missing status") for r in reasons)
    at_risk = pd.read_csv(out / "at_risk.csv")
    assert at_risk.shape == (10, 3)


def _bad(workdir, plan_text=None, csv_text=None):
    if plan_text is not None:
        (workdir / "plan.toml").write_text(plan_text)
    if csv_text is not None:
        (workdir / "cohort.csv").write_text(csv_text)
    return run("analyze", "plan.toml", "--out", "out", cwd=workdir)


@pytest.mark.parametrize(
    ("plan_edit", "csv_text", "needle"),
    [
        (None, "pid,months,event,arm\n1,1,1,A\n2,-2,0,B\n", "negative"),
        (None, "pid,months,event,arm\n1,1,1,A\n2,2,5,B\n", "0/1"),
        (None, "pid,months,event,arm\n1,1,1,A\n1,2,0,B\n", "duplicated ids"),
        (None, "pid,months,event,arm\n1,1,1,A\n2,2,0,A\n", "not found"),
        (("months", "survival"), None, "'survival' not found"),
        (('control = "B"', 'control = "Z"'), None, "'Z' not found"),
        (("[analysis]", "[analysis]\nwobble = 1"), None, "unknown key"),
        (("landmark = 12", "landmark = -1"), None, "landmark"),
        (('path = "cohort.csv"', 'path = "nowhere.csv"'), None, "file not found"),
        (('column = "grade"', 'column = "grde"'), None, "grde"),
        (("[[subgroup]]", "[[subgroup]\n"), None, "malformed TOML"),
        (('ties = "efron"', ""), None, None),
    ],
)
def test_bad_input_exit_2_one_line(workdir, plan_edit, csv_text, needle):
    plan = PLAN
    if plan_edit is not None:
        plan = PLAN.replace(*plan_edit, 1)
    result = _bad(workdir, plan, csv_text)
    if needle is None:  # control case: the unedited plan succeeds
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]


def test_missing_plan_file(tmp_path):
    result = run("analyze", "missing-plan.toml", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "plan file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_privacy_min_count_suppresses_small_cells_everywhere(workdir):
    (workdir / "plan.toml").write_text(PLAN + "\n[privacy]\nmin_count = 40\n")
    result = run("analyze", "plan.toml", "--out", "out", "--quiet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    out = workdir / "out"
    table = pd.read_csv(out / "subgroups.csv", dtype=str, keep_default_na=False)
    counts = table[["n_treatment", "n_control", "events_treatment", "events_control"]]
    values = counts.to_numpy().ravel().tolist()
    assert "<40" in values
    assert all(v == "<40" or int(v) >= 40 for v in values)
    overall = json.loads((out / "summary.json").read_text())["overall"]
    assert overall["events_treatment"] == "<40" or overall["events_treatment"] >= 40
    exclusions = pd.read_csv(out / "exclusions.csv", dtype=str)
    assert all(v == "<40" or int(v) >= 40 for v in exclusions["n"])
    report = (out / "report.html").read_text()
    assert "&lt;40" in report


def test_the_command_prints_every_written_file_before_its_fast_exit(workdir):
    # `survtdm1` leaves without the interpreter's teardown (cli.run): its output on a pipe
    # (block-buffered: PYTHONUNBUFFERED unset) is flushed first, and its status is main()'s
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    result = subprocess.run(
        [sys.executable, "-m", "survtdm1", "analyze", "plan.toml", "--out", "out"],
        capture_output=True,
        text=True,
        cwd=workdir,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    assert {Path(line).name for line in printed} >= {"subgroups.csv", "forest.png", "report.html"}
    assert all((workdir / line).exists() or Path(line).exists() for line in printed)
    failed = run("analyze", "missing.toml", "--out", "out", cwd=workdir)
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1
