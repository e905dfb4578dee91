"""STEPP windows and biomarker ties: ``window_ties = "together"`` (default) or ``"split"``.

Reference for "split": ``tests/reference/expected/cutpoints.json`` ``stepp_split``, written by
``Rscript tests/reference/make_cutpoint_reference.R``: gbsg age (an integer biomarker with
heavy ties), window 150, overlap 100; each window the rows of ranks start + 1 .. start + 150
of R's stable ``order(age)``, ``coxph(Surv(rfstime, status) ~ hormon)`` (Efron) on them.
Tolerances: HR and CI 1e-6 relative, p 1e-6 absolute, counts exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from reference_values import REFERENCE_DIR

import survtdm1 as st
from survtdm1.exceptions import PlanError
from survtdm1.stepp import rank_window_members, window_members, window_ranges, window_starts

SPLIT = json.loads((REFERENCE_DIR / "expected" / "cutpoints.json").read_text())["stepp_split"]


@pytest.fixture(scope="module")
def gbsg() -> st.Cohort:
    return st.load_cohort(REFERENCE_DIR / "data" / "gbsg.csv", arm="hormon",
                          treatment="tamoxifen", control="none", time="rfstime",
                          event="status")  # fmt: skip


def test_split_windows_match_r(gbsg):
    size, overlap = SPLIT["window_size"], SPLIT["overlap"]
    result = st.stepp(gbsg, "age", window_size=size, overlap=overlap, n_permutations=0,
                      window_ties="split")  # fmt: skip
    table = result.table
    assert result.window_ties == "split"
    assert len(table) == len(SPLIT["windows"])
    for (_, row), expected in zip(table.iterrows(), SPLIT["windows"], strict=True):
        for key in ("n", "n_treatment", "n_control", "events_treatment", "events_control"):
            assert row[key] == expected[key], key
        for key in ("hr", "hr_lower", "hr_upper", "biomarker_min", "biomarker_max"):
            assert row[key] == pytest.approx(expected[key], rel=1e-6), key
        assert abs(row["p_value"] - expected["p_value"]) <= 1e-6


def test_together_windows_swell_on_ties_split_windows_do_not(gbsg):
    together = st.stepp(gbsg, "age", window_size=150, overlap=100, n_permutations=0)
    split = st.stepp(gbsg, "age", window_size=150, overlap=100, n_permutations=0,
                     window_ties="split")  # fmt: skip
    assert together.window_ties == "together"
    assert (together.table["n"] >= 150).all() and together.table["n"].max() > 160
    assert (split.table["n"] == 150).all()
    summary = together.summary().iloc[0]
    assert summary["window_n_max"] == together.table["n"].max() > summary["window_size"]
    assert split.summary().iloc[0][["window_n_min", "window_n_max"]].tolist() == [150, 150]


def test_split_permutation_test_runs_and_is_reproducible(gbsg):
    a = st.stepp(gbsg, "nodes", n_permutations=30, seed=4, window_ties="split")
    b = st.stepp(gbsg, "nodes", n_permutations=30, seed=4, window_ties="split")
    assert a.p_value == b.p_value and 0 < a.p_value <= 1
    assert np.isfinite(a.permutation_statistics).all()


def test_window_arithmetic_split():
    values = np.array([5.0, 1.0, 2.0, 2.0, 3.0, 4.0])
    members = rank_window_members(values, 3, 1)
    assert members.sum(axis=1).tolist() == [3, 3, 3]
    # the tie at 2 is cut: the first 2 (row 2) in window 1 only, the second in both
    assert members[:, 2].tolist() == [True, False, False]
    assert members[:, 3].tolist() == [True, True, False]
    together = window_members(values, window_ranges(values, 3, 1))
    assert together.sum(axis=1).tolist() == [3, 4, 3]
    assert window_starts(6, 3, 1) == [0, 2, 3]


def test_window_ties_is_checked(gbsg):
    with pytest.raises(PlanError, match="window_ties must be one of together, split"):
        st.stepp(gbsg, "age", n_permutations=0, window_ties="R")
