"""Output integrity: staged writes with a manifest, stale files, symlinks, the lock, a
``kill -9`` during writing, two runs on one folder, and CSV cells a spreadsheet would run.

The rules under test are in ``survtdm1/outputs.py`` and the README ("Output folders").
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st_

import survtdm1 as st
from survtdm1 import cli
from survtdm1.outputs import (
    KNOWN_OUTPUTS,
    MANIFEST,
    neutralise_cell,
    publish,
    read_csv,
    verify,
    write_csv,
)

ROOT = Path(__file__).resolve().parents[1]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _produce(files: dict[str, bytes]):
    def produce(folder: Path) -> list[Path]:
        paths = []
        for name, content in files.items():
            (folder / name).write_bytes(content)
            paths.append(folder / name)
        return paths

    return produce


def _snapshot(folder: Path) -> dict:
    """Every entry of a folder: files by content, symlinks by target, folders recursively."""
    out = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            out[entry.name] = "link:" + os.readlink(entry)
        elif entry.is_dir():
            out[entry.name] = _snapshot(entry)
        else:
            out[entry.name] = entry.read_bytes()
    return out


def _leftovers(out: Path) -> list[str]:
    return [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.survtdm1")]


# --- the staging folder, the manifest and stale files ---------------------------------------


def test_fresh_folder_gets_files_and_a_manifest_last(tmp_path):
    out = tmp_path / "out"
    written = publish(out, _produce({"subgroups.csv": b"a\n1\n", "km.png": b"png"}))
    assert [p.name for p in written] == ["subgroups.csv", "km.png"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert [f["name"] for f in manifest["files"]] == ["subgroups.csv", "km.png"]
    assert manifest["files"][0]["sha256"] == hashlib.sha256(b"a\n1\n").hexdigest()
    assert manifest["files"][0]["size"] == 4
    assert verify(out) == []
    assert _leftovers(out) == []  # no staging folder, no lock file


def test_stale_outputs_removed_user_files_kept(tmp_path):
    out = tmp_path / "out"
    publish(out, _produce({"subgroups.csv": b"1", "km.png": b"old", "extra.csv": b"x"}))
    (out / "notes.txt").write_text("mine")  # a user's file
    publish(out, _produce({"subgroups.csv": b"2", "response.png": b"new"}))
    # km.png is a known output name, extra.csv an unchanged file of the last manifest
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST,
        "notes.txt",
        "response.png",
        "subgroups.csv",
    ]
    assert (out / "notes.txt").read_text() == "mine"
    assert verify(out) == []


def test_a_file_changed_since_the_manifest_is_not_removed(tmp_path):
    out = tmp_path / "out"
    publish(out, _produce({"extra.csv": b"x"}))
    (out / "extra.csv").write_bytes(b"edited by hand")
    publish(out, _produce({"subgroups.csv": b"1"}))
    assert (out / "extra.csv").read_bytes() == b"edited by hand"


def test_old_survtdm1_files_without_a_manifest_are_removed(tmp_path):
    """A folder from before manifests: the known output names are survtdm1's."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("km.png", "subgroups.csv", "report.html"):
        (out / name).write_text("old")
    publish(out, _produce({"subgroups.csv": b"new", "response.png": b"p"}))
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "response.png", "subgroups.csv"]


def test_a_failing_run_leaves_the_previous_run_untouched(tmp_path):
    out = tmp_path / "out"
    publish(out, _produce({"subgroups.csv": b"1", "report.html": b"old report"}))
    before = _snapshot(out)

    def half_then_fail(folder: Path):
        (folder / "subgroups.csv").write_bytes(b"2")
        raise RuntimeError("figure failed")

    with pytest.raises(RuntimeError):
        publish(out, half_then_fail)
    assert _snapshot(out) == before
    assert verify(out) == []
    assert _leftovers(out) == []
    with pytest.raises(RuntimeError):  # into a new folder: nothing at all
        publish(tmp_path / "new", half_then_fail)
    assert not os.path.lexists(tmp_path / "new") and _leftovers(tmp_path / "new") == []


@pytest.mark.parametrize("kind", ["file", "root"])
def test_an_out_that_is_a_file_or_the_root_is_refused(tmp_path, kind):
    out = tmp_path / "out" if kind == "file" else Path("/")
    if kind == "file":
        out.write_text("mine")
    with pytest.raises(st.OutputError):
        publish(out, _produce({"subgroups.csv": b"1"}))
    if kind == "file":
        assert out.read_text() == "mine"


def test_the_working_folder_is_written_file_by_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.toml").write_text("mine")
    publish(".", _produce({"subgroups.csv": b"1"}))
    publish(".", _produce({"at_risk.csv": b"2"}))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([MANIFEST, "at_risk.csv", "plan.toml"])
    assert verify(tmp_path) == []


# --- symlinks ----------------------------------------------------------------------------------


def test_out_that_is_a_symlink_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").symlink_to(real)
    with pytest.raises(st.OutputError, match="symlink"):
        publish(tmp_path / "out", _produce({"subgroups.csv": b"1"}))
    assert list(real.iterdir()) == []


@pytest.mark.parametrize("user_file", [False, True], ids=["swap", "file-by-file"])
def test_a_symlink_in_place_of_an_output_is_replaced_not_followed(tmp_path, user_file):
    target = tmp_path / "precious.txt"
    target.write_text("do not touch")
    out = tmp_path / "out"
    out.mkdir()
    (out / "subgroups.csv").symlink_to(target)
    (out / "km.png").symlink_to(tmp_path / "dangling")
    if user_file:
        (out / "mine.txt").write_text("mine")
    publish(out, _produce({"subgroups.csv": b"new"}))
    assert target.read_text() == "do not touch"
    assert not (tmp_path / "dangling").exists()
    assert not (out / "subgroups.csv").is_symlink()
    assert (out / "subgroups.csv").read_bytes() == b"new"
    assert not os.path.lexists(out / "km.png")
    assert verify(out) == []


def test_a_folder_named_like_an_output_is_refused(tmp_path):
    out = tmp_path / "out"
    (out / "subgroups.csv").mkdir(parents=True)
    (out / "mine.txt").write_text("mine")
    before = _snapshot(tmp_path)
    with pytest.raises(st.OutputError, match="is a folder"):
        publish(out, _produce({"subgroups.csv": b"1"}))
    assert _snapshot(tmp_path) == before


# --- the lock ------------------------------------------------------------------------------


def test_a_held_lock_refuses_a_second_run(tmp_path):
    out = tmp_path / "out"
    seen = {}

    def nested(folder: Path):
        with pytest.raises(st.OutputError, match="another survtdm1 run") as err:
            publish(out, _produce({"subgroups.csv": b"2"}))
        seen["message"] = str(err.value)
        return _produce({"subgroups.csv": b"1"})(folder)

    publish(out, nested)
    assert f"pid {os.getpid()}" in seen["message"]
    assert (out / "subgroups.csv").read_bytes() == b"1"


def test_a_lock_file_left_by_a_dead_run_is_taken_over(tmp_path):
    out = tmp_path / "out"
    (tmp_path / ".out.survtdm1.lock").write_text('{"pid": 999999, "host": "x", "started": "y"}')
    (tmp_path / ".out.survtdm1-tmp-deadbeef").mkdir()  # a killed run's staging folder
    (tmp_path / ".out.survtdm1-tmp-deadbeef" / "subgroups.csv").write_text("partial")
    publish(out, _produce({"subgroups.csv": b"1"}))
    assert verify(out) == [] and _leftovers(out) == []


def test_swap_without_renameat2_and_recovery_of_an_interrupted_swap(tmp_path, monkeypatch):
    from survtdm1 import outputs

    monkeypatch.setattr(outputs, "_exchange", lambda first, second: False)
    out = tmp_path / "out"
    publish(out, _produce({"subgroups.csv": b"1"}))
    publish(out, _produce({"subgroups.csv": b"2"}))
    assert (out / "subgroups.csv").read_bytes() == b"2" and _leftovers(out) == []
    # killed between "out -> old" and "staging -> out": the next run starts from the old state
    out.rename(tmp_path / ".out.survtdm1-old-0123")
    (tmp_path / ".out.survtdm1-tmp-4567").mkdir()
    seen = {}

    def look(folder: Path):
        seen["restored"] = (out / "subgroups.csv").read_bytes()
        return _produce({"at_risk.csv": b"3"})(folder)

    publish(out, look)
    assert seen["restored"] == b"2"
    assert sorted(p.name for p in out.iterdir()) == ["at_risk.csv", MANIFEST]
    assert _leftovers(out) == []


# --- a property: any sequence of runs and user edits ----------------------------------------

_NAMES = sorted(KNOWN_OUTPUTS - {MANIFEST}) + ["extra_1.csv", "extra_2.png"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    runs=st_.lists(
        st_.tuples(
            st_.dictionaries(st_.sampled_from(_NAMES), st_.binary(max_size=20), min_size=1),
            st_.booleans(),  # the run fails midway
            st_.sampled_from(["none", "user file", "symlink", "edit extra"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_sequence_of_runs_keeps_the_rules(tmp_path_factory, runs):
    base = tmp_path_factory.mktemp("seq")
    out = base / "out"
    (base / "target.txt").write_text("target")
    user: dict[str, bytes] = {}
    last: dict[str, bytes] | None = None
    for k, (files, fails, meddle) in enumerate(runs):
        if out.is_dir():
            if meddle == "user file":
                user[f"user{k}.txt"] = f"user {k}".encode()
                (out / f"user{k}.txt").write_bytes(user[f"user{k}.txt"])
            elif meddle == "symlink":
                link = out / _NAMES[k % len(_NAMES)]
                if not os.path.lexists(link):
                    link.symlink_to(base / "target.txt")
            elif meddle == "edit extra" and (out / "extra_1.csv").is_file():
                user["extra_1.csv"] = b"edited"
                (out / "extra_1.csv").write_bytes(b"edited")  # now the user's
        before = _snapshot(out) if out.is_dir() else None
        if fails:

            def failing(folder, files=files):
                _produce(files)(folder)
                raise RuntimeError("midway")

            with pytest.raises(RuntimeError):
                publish(out, failing)
            assert (_snapshot(out) if out.is_dir() else None) == before
            continue
        publish(out, _produce(files))
        last = files
        assert verify(out) == []
        assert (base / "target.txt").read_text() == "target"
        present = {p.name: p.read_bytes() for p in out.iterdir() if p.name != MANIFEST}
        for name, content in list(user.items()):
            if name in files:
                del user[name]  # a file of this run's name is replaced: survtdm1's again
            else:
                assert present.pop(name) == content
        assert present == files
        assert _leftovers(out) == []
    assert last is None or json.loads((out / MANIFEST).read_text())["files"]


# --- kill -9 while writing, and a second run at the same time --------------------------------

PLAN = """\
[cohort]
path = "cohort.csv"
time = "months"
event = "event"
arm = "arm"
treatment = "A"
control = "B"

[analysis]
risk_times = [0, 12, 24]

[[subgroup]]
column = "grade"
"""


def _cohort(path: Path, n: int = 80) -> None:
    rng = np.random.default_rng(5)
    pd.DataFrame(
        {
            "months": np.round(rng.exponential(20, n), 2),
            "event": rng.integers(0, 2, n),
            "arm": rng.choice(["A", "B"], n),
            "grade": rng.choice(["1", "2"], n),
        }
    ).to_csv(path, index=False)


def test_kill_during_writing_and_a_concurrent_run(tmp_path, capsys):
    _cohort(tmp_path / "cohort.csv")
    (tmp_path / "plan.toml").write_text(PLAN)
    out = tmp_path / "out"
    previous = st.analyze(tmp_path / "plan.toml")
    previous.write(out, figures=False)
    (out / "km.png").write_bytes(b"a figure of an earlier run")  # now a stale output
    publish_state = _snapshot(out)

    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    writer = subprocess.Popen(
        [sys.executable, "-m", "survtdm1", "analyze", "plan.toml", "--out", "out", "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    staged = None
    while staged is None and writer.poll() is None and time.monotonic() < deadline:
        for entry in tmp_path.glob(".out.survtdm1-tmp-*"):
            if (entry / "subgroups.csv").exists():
                staged = entry
        time.sleep(0.002)
    writer.send_signal(signal.SIGSTOP)  # frozen in the middle of writing, lock held
    assert staged is not None, "the run ended before its tables were seen being written"

    # a second run on the same folder, while the first is writing: exit 2, one line
    capsys.readouterr()
    status = cli.main(["analyze", str(tmp_path / "plan.toml"), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert "another survtdm1 run" in err[0] and f"pid {writer.pid}" in err[0]

    assert _snapshot(out) == publish_state  # untouched while the other run writes
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    # the folder holds the complete previous state, nothing of the killed run
    assert _snapshot(out) == publish_state

    # the next run takes over the lock and cleans the killed run's staging folder
    st.analyze(tmp_path / "plan.toml").write(out, figures=False)
    assert verify(out) == [] and _leftovers(out) == []
    assert not (out / "km.png").exists()  # stale output of an earlier run removed


@pytest.mark.parametrize("kind", ["symlink", "file", "symlinked lock"])
def test_command_line_refuses_unsafe_out_with_one_line(tmp_path, capsys, kind):
    (tmp_path / "plan.toml").write_text(PLAN)
    _cohort(tmp_path / "cohort.csv")
    (tmp_path / "elsewhere").mkdir()
    if kind == "symlink":
        (tmp_path / "out").symlink_to(tmp_path / "elsewhere")
    elif kind == "file":
        (tmp_path / "out").write_text("mine")
    else:
        (tmp_path / ".out.survtdm1.lock").symlink_to(tmp_path / "elsewhere" / "lock")
    capsys.readouterr()
    status = cli.main(["analyze", str(tmp_path / "plan.toml"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("survtdm1: error: "), err
    assert "symlink" in err[0] or "not a folder" in err[0]
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_run_whose_figures_fail_leaves_the_previous_run(tmp_path, monkeypatch, capsys):
    from survtdm1 import figures

    _cohort(tmp_path / "cohort.csv")
    (tmp_path / "plan.toml").write_text(PLAN)
    out = tmp_path / "out"
    st.analyze(tmp_path / "plan.toml").write(out, figures=False)
    before = _snapshot(out)

    def broken(result, plan, provenance, folder):
        (folder / "report.html").write_text("half a report")
        raise RuntimeError("the figure could not be drawn")

    monkeypatch.setattr(figures, "write_report", broken)
    status = cli.main(["analyze", str(tmp_path / "plan.toml"), "--out", str(out), "--quiet"])
    assert status == 1 and "internal error" in capsys.readouterr().err
    assert _snapshot(out) == before and verify(out) == [] and _leftovers(out) == []


# --- CSV cells a spreadsheet would execute ----------------------------------------------------


@given(st_.text(max_size=12))
def test_no_text_cell_starts_like_a_formula(value):
    cell = neutralise_cell(value)
    head = cell.lstrip(" ")
    if head[:1] in TRIGGERS:  # left as it is only when a plain number
        assert set(head) <= set("0123456789+-.eE"), repr(cell)
        float(head)
    # reversible: a cell that begins with ' lost exactly that character
    assert (cell[1:] if cell != value else cell) == value
    assert cell == value or cell.startswith("'")


# characters a UTF-8 file can hold (a lone surrogate has no encoding)
_UTF8 = st_.characters(blacklist_categories=("Cs",))


@given(
    st_.lists(st_.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=8),
    st_.lists(st_.text(_UTF8, max_size=6), min_size=1, max_size=8),
)
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_write_csv_keeps_numbers_exact_and_neutralises_text(tmp_path, numbers, texts):
    n = min(len(numbers), len(texts))
    frame = pd.DataFrame({"x": numbers[:n], "=label": texts[:n]})
    path = write_csv(frame, tmp_path / "t.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["x", "'=label"]
    assert [float(r[0]) for r in rows[1:]] == [float(v) for v in numbers[:n]]  # full precision
    for row, raw in zip(rows[1:], texts[:n], strict=True):
        assert row[1] == neutralise_cell(raw)


@given(
    st_.lists(
        st_.text(
            st_.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
            max_size=6,
        ),
        min_size=1,
        max_size=6,
    )
)
@example(["\r"])  # a lone carriage return once split a row in two
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_read_csv_gives_back_the_raw_text(tmp_path, texts):
    frame = pd.DataFrame({"+name": texts, "n": range(len(texts))})
    back = read_csv(write_csv(frame, tmp_path / "t.csv"), dtype=str, keep_default_na=False)
    assert back.columns.tolist() == ["+name", "n"]
    assert back["+name"].tolist() == texts


HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "'quoted", " =pad"]


def test_every_csv_of_a_run_is_neutralised_and_json_keeps_raw(tmp_path):
    rng = np.random.default_rng(8)
    n = 240
    frame = pd.DataFrame(
        {
            "months": np.round(rng.exponential(20, n), 2),
            "event": rng.integers(0, 2, n),
            "arm": rng.choice(["=HYPERLINK(1)", "-B", "@other"], n, p=[0.45, 0.45, 0.1]),
            "=col": rng.choice(HOSTILE[:4], n),
            "marker": rng.normal(size=n),
        }
    )
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[cohort]\npath = "c.csv"\ntime = "months"\nevent = "event"\narm = "arm"\n'
        'treatment = "=HYPERLINK(1)"\ncontrol = "-B"\n[analysis]\nrisk_times = [0, 10]\n'
        '[[subgroup]]\ncolumn = "=col"\n[[subgroup]]\ncolumn = "marker"\ncutpoints = [-0.5]\n'
    )
    frame.to_csv(tmp_path / "c.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", st.SurvTDM1Warning)  # small levels are not the point
        result = st.analyze(plan)
    written = result.write(tmp_path / "out", figures=False)
    for path in written:
        if path.suffix != ".csv":
            continue
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    head = cell.lstrip(" ")
                    if head[:1] in TRIGGERS:
                        float(head)  # only a number may start like that
    table = pd.read_csv(
        tmp_path / "out" / "subgroups.csv", keep_default_na=False, float_precision="round_trip"
    )
    assert set(table["subgroup"]) == {"'=col", "marker"}
    assert "'=1+1" in set(table["level"]) and "'-2+3" in set(table["level"])
    assert "'<-0.5" not in set(table["level"])  # "<" is harmless and left alone
    at_risk = pd.read_csv(tmp_path / "out" / "at_risk.csv")
    assert set(at_risk["arm"]) == {"'=HYPERLINK(1)", "'-B"}
    np.testing.assert_array_equal(
        table["hr"].to_numpy(dtype=float), result.table["hr"].to_numpy(dtype=float)
    )  # numbers unchanged, to the last bit
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert 'treatment = "=HYPERLINK(1)"' in summary["provenance"]["plan_text"]  # raw in JSON
    assert result.table["level"].isin(["=1+1"]).any()  # the Python result keeps raw values


# --- large cohorts: the figures drawn in a second process ----------------------------


def test_figures_drawn_in_a_second_process_give_the_same_files(tmp_path, monkeypatch):
    from survtdm1 import outputs

    _cohort(tmp_path / "cohort.csv", n=200)
    (tmp_path / "plan.toml").write_text(PLAN)
    result = st.analyze(tmp_path / "plan.toml")
    result.write(tmp_path / "one")
    monkeypatch.setattr(outputs, "PARALLEL_ROWS", 0)  # every cohort counts as large
    result.write(tmp_path / "two")
    one = json.loads((tmp_path / "one" / "manifest.json").read_text())
    two = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert [f["name"] for f in one["files"]] == [f["name"] for f in two["files"]]
    assert "forest.png" in {f["name"] for f in two["files"]}
    for name in ("subgroups.csv", "ard.csv", "subgroups.rtf", "forest.svg"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert verify(tmp_path / "two") == []


def test_an_error_in_the_figure_process_is_raised_and_nothing_is_published(tmp_path, monkeypatch):
    from survtdm1 import figures, outputs

    _cohort(tmp_path / "cohort.csv", n=200)
    (tmp_path / "plan.toml").write_text(PLAN)
    result = st.analyze(tmp_path / "plan.toml")
    monkeypatch.setattr(outputs, "PARALLEL_ROWS", 0)

    def broken(*args, **kwargs):
        raise st.OutputError("no room left for figures")

    monkeypatch.setattr(figures, "write_forest", broken)  # drawn in the second process
    with pytest.raises(st.OutputError, match="no room left for figures"):
        result.write(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path / "out") == []


# --- an output worker prepared while a large cohort is analysed -------------------------------


def _pid_and_modules(names):
    return os.getpid(), [name in sys.modules for name in names]


def _exit_abruptly():
    os._exit(3)


@pytest.fixture
def no_polars(monkeypatch):
    """As in a fresh ``survtdm1 analyze`` process: polars not loaded (these jobs do not use
    it), so that an OutputWorker forks."""
    monkeypatch.delitem(sys.modules, "polars", raising=False)


def test_an_output_worker_runs_its_job_in_a_process_that_imported_its_modules(no_polars):
    from survtdm1.outputs import OutputWorker

    with OutputWorker(["json", "survtdm1.tables"]) as worker:
        pid, loaded = worker.run(_pid_and_modules, ["json", "survtdm1.tables"])
        with pytest.raises(st.OutputError, match="already run its job"):
            worker.run(_pid_and_modules, [])
    assert pid != os.getpid() and loaded == [True, True]


def test_an_error_in_the_output_worker_is_raised_here(no_polars):
    from survtdm1.outputs import OutputWorker

    with OutputWorker([]) as worker, pytest.raises(ValueError, match="invalid literal"):
        worker.run(int, "not a number")
    with OutputWorker([]) as worker, pytest.raises(st.OutputError, match="ended with code 3"):
        worker.run(_exit_abruptly)


def test_once_polars_is_loaded_the_output_worker_runs_its_job_here(monkeypatch):
    from survtdm1.outputs import OutputWorker

    monkeypatch.setitem(sys.modules, "polars", sys.modules.get("polars", object()))
    with OutputWorker(["json"]) as worker:
        pid, _ = worker.run(_pid_and_modules, [])
    assert pid == os.getpid()


def test_an_unused_output_worker_ends_with_its_block(no_polars):
    from survtdm1.outputs import OutputWorker

    worker = OutputWorker(["no_such_module_anywhere"])  # an import that fails is left to the job
    child = worker._child
    assert child.is_alive()
    with worker:
        pass
    assert not child.is_alive() and child.exitcode == 0


_WITH_WORKER = """\
import sys
from survtdm1 import analysis, cli, outputs, tables
analysis.WORKER_BYTES = 0  # every cohort file counts as large
outputs.PARALLEL_ROWS = 0  # and the worker forks again for the forest
used = []
run = outputs.OutputWorker.run
def spied(self, job, *args):
    used.append((job.__name__, self._child is not None))
    return run(self, job, *args)
outputs.OutputWorker.run = spied
if sys.argv[3] == "broken":
    def broken(*args, **kwargs):
        raise outputs.OutputError("no room left for the tables")
    tables.write_rtf = broken  # before the worker is forked
status = cli.main(["analyze", sys.argv[1], "--out", sys.argv[2], "--quiet"])
print(used)
sys.exit(status)
"""


def _analyze_with_worker(plan: Path, out: Path, mode: str = "") -> subprocess.CompletedProcess:
    """``survtdm1 analyze`` in a fresh process (as from the shell: polars not yet loaded)
    with an output worker."""
    return subprocess.run(
        [sys.executable, "-c", _WITH_WORKER, str(plan), str(out), mode or "-"],
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
        timeout=300,
    )


def test_analyze_with_an_output_worker_writes_the_same_files(tmp_path):
    from survtdm1 import analysis

    _cohort(tmp_path / "cohort.csv", n=200)
    (tmp_path / "plan.toml").write_text(PLAN)
    plan = tmp_path / "plan.toml"
    assert analysis.output_worker(plan) is None  # a small file: nothing to gain
    assert cli.main(["analyze", str(plan), "--out", str(tmp_path / "one"), "--quiet"]) == 0
    done = _analyze_with_worker(plan, tmp_path / "two")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('write_documents', True)]"  # in the worker process
    one = json.loads((tmp_path / "one" / "manifest.json").read_text())
    two = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert [f["name"] for f in one["files"]] == [f["name"] for f in two["files"]]
    for name in [f["name"] for f in one["files"]]:
        assert _content(tmp_path / "one" / name) == _content(tmp_path / "two" / name), name
    assert verify(tmp_path / "two") == []


def _content(path: Path):
    """A file's bytes; a DOCX's by member (its zip entries carry the time written)."""
    if path.suffix != ".docx":
        return path.read_bytes()
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_an_error_in_the_output_worker_publishes_nothing(tmp_path):
    _cohort(tmp_path / "cohort.csv", n=200)
    (tmp_path / "plan.toml").write_text(PLAN)
    out = tmp_path / "out"
    done = _analyze_with_worker(tmp_path / "plan.toml", out, "broken")
    err = done.stderr.strip().splitlines()
    assert done.returncode == 2 and err == ["survtdm1: error: no room left for the tables"], err
    assert not out.exists() and _leftovers(out) == []


def test_an_analysis_that_fails_ends_its_unused_output_worker(tmp_path):
    _cohort(tmp_path / "cohort.csv", n=200)
    (tmp_path / "plan.toml").write_text(PLAN.replace('time = "months"', 'time = "no_such_column"'))
    done = _analyze_with_worker(tmp_path / "plan.toml", tmp_path / "out")
    err = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(err) == 1 and "no_such_column" in err[0], err
    assert done.stdout.strip() == "[]"  # no job was given; the process still ended


def _wait_forever():
    time.sleep(600)


def test_ctrl_c_is_left_to_the_parent_which_ends_a_busy_output_worker(no_polars, capfd):
    import signal

    from survtdm1.outputs import OutputWorker

    worker = OutputWorker([])
    child = worker._child
    os.kill(child.pid, signal.SIGINT)  # as a Ctrl-C reaches the whole process group
    time.sleep(0.3)
    assert child.is_alive()

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt), worker:
            worker.run(_wait_forever)  # interrupted here while the worker is busy
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 30 and not child.is_alive()
    assert "Traceback" not in capfd.readouterr().err
