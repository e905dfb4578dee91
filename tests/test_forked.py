"""Work done in a forked child process: survtdm1._forked, and the survival battery split
between two processes on large cohorts (the same result as in one process)."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

import survtdm1 as st
from survtdm1 import _forked
from survtdm1.exceptions import SeparationWarning, SmallSampleWarning
from survtdm1.subgroups import survival


def _pid():
    return os.getpid()


def test_there_runs_in_a_child_and_here_in_this_process():
    here, there = _forked.alongside(_pid, _pid, parallel=True, what="x")
    assert here == os.getpid() != there
    here, there = _forked.alongside(_pid, _pid, parallel=False, what="x")
    assert here == there == os.getpid()


def _niceness():
    return os.nice(0)


def test_a_yielding_child_runs_at_a_lower_priority_and_this_process_does_not():
    start = os.nice(0)
    here, there = _forked.alongside(_niceness, _niceness, parallel=True, what="x", yielding=True)
    assert here == os.nice(0) == start
    assert there == min(19, start + _forked.YIELDING_NICE)
    # run here, a yielding function leaves this process's priority alone
    assert _forked.alongside(_niceness, _niceness, parallel=False, what="x", yielding=True) == (
        start,
        start,
    )


def _fail(message):
    def fail():
        raise ValueError(message)

    return fail


@pytest.mark.parametrize("parallel", [True, False])
def test_errors_come_as_if_run_one_after_the_other(parallel):
    with pytest.raises(ValueError, match="here"):
        _forked.alongside(_fail("here"), _fail("there"), parallel=parallel, what="x")
    with pytest.raises(ValueError, match="there"):
        _forked.alongside(_pid, _fail("there"), parallel=parallel, what="x")


def _warn():
    warnings.warn("a level with 3 events", SmallSampleWarning, stacklevel=1)
    return 7


@pytest.mark.parametrize("parallel", [True, False])
def test_the_childs_warnings_are_raised_here(parallel):
    with pytest.warns(SmallSampleWarning, match="a level with 3 events"):
        assert _forked.alongside(_pid, _warn, parallel=parallel, what="x")[1] == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inherited by the child: the warning is its error
        with pytest.raises(SmallSampleWarning, match="3 events"):
            _forked.alongside(_pid, _warn, parallel=parallel, what="x")


def _die():
    os._exit(3)


def test_a_child_that_dies_gives_the_error_asked_for():
    with pytest.raises(RuntimeError, match="the battery failed: the process ended with code 3"):
        _forked.alongside(_pid, _die, parallel=True, what="the battery", error=RuntimeError)


# --- the survival battery in two processes ----------------------------------------------


@pytest.fixture(scope="module")
def katherine():
    frame = st.datasets.katherine()
    frame["site"] = np.arange(frame.shape[0]) % 40  # clusters
    frame.loc[::17, "pik3ca"] = np.nan  # missing subgroup values: the ledger
    return st.load_cohort(
        frame, arm="arm", treatment="T-DM1", control="Trastuzumab",
        time="idfs_months", event="idfs_event",
    )  # fmt: skip


SPECS = [
    {"column": "pik3ca"},
    {"column": "hormone_receptor"},
    {"column": "age", "cutpoints": [40, 65]},
    {"column": "her2_mrna", "quantiles": [0.25, 0.5, 0.75]},
    {"column": "clinical_stage"},
    {"column": "cd8", "cutpoint": "maxstat"},
    {"column": "her2_ihc", "ordered": True},
]
OPTIONS = [
    {"landmark": 36, "rmst_tau": 36},
    {"strata": ["nodal_status"], "ties": "breslow", "conf_type": "plain"},
    {"strata": ["nodal_status"], "level_strata": True, "adjust": ["age"], "cluster": "site"},
    {"p_method": "lrt", "multiplicity": "fdr_bh"},
]


def _child_ran(monkeypatch, tmp_path):
    """Record, in a file, every process that runs a forked part."""
    marks = tmp_path / "children"
    run_child = _forked.run_child

    def marked(*args, **kwargs):
        with open(marks, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        run_child(*args, **kwargs)

    monkeypatch.setattr(_forked, "run_child", marked)
    return marks


@pytest.mark.parametrize("options", OPTIONS)
def test_the_battery_in_two_processes_equals_it_in_one(katherine, options, monkeypatch, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = st.subgroup_analysis(katherine, SPECS, **options)
        marks = _child_ran(monkeypatch, tmp_path)
        monkeypatch.setattr(survival, "PARALLEL_ROWS", 0)  # every cohort counts as large
        two = st.subgroup_analysis(katherine, SPECS, **options)
    assert marks.read_text().split() and str(os.getpid()) not in marks.read_text().split()
    _assert_same(two, one)  # every field, curves and cut points included, exactly
    assert len(two.level_curves) == one.table.shape[0] > 15


def _assert_same(a, b, where="result"):
    """``a`` and ``b`` hold the same values, in the same order (NaN equal to NaN)."""
    assert type(a) is type(b), where
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where, strict=True)
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            _assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, Mapping):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{k}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def test_the_split_battery_raises_the_first_subgroups_error_and_warns_as_one(
    katherine, monkeypatch
):
    monkeypatch.setattr(survival, "PARALLEL_ROWS", 0)
    # a measurement without a cut is no subgroup: found when its levels are split
    with pytest.raises(st.InputError, match="'rab5a' is numeric"):
        st.subgroup_analysis(katherine, [*SPECS, {"column": "rab5a"}])
    with pytest.raises(st.InputError, match="'mdr1' is numeric"):
        st.subgroup_analysis(katherine, [{"column": "mdr1"}, *SPECS, {"column": "rab5a"}])
    # under 30: no event in the T-DM1 arm (a level computed by the child)
    few = [s for s in SPECS if s["column"] != "age"] + [{"column": "age", "cutpoints": [30, 65]}]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        st.subgroup_analysis(katherine, few)
    assert any(
        w.category is SeparationWarning and str(w.message).startswith("age = <30: Firth")
        for w in caught
    )


def test_without_subgroups_the_battery_stays_in_one_process(katherine, monkeypatch, tmp_path):
    # the overall summary alone: a second process would have nothing to run beside it
    marks = _child_ran(monkeypatch, tmp_path)
    monkeypatch.setattr(survival, "PARALLEL_ROWS", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = st.subgroup_analysis(katherine, [])
        assert result.table.empty and not marks.exists()
        st.subgroup_analysis(katherine, [{"column": "pik3ca"}])
    assert marks.exists()
