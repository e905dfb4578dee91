"""Valid but degenerate data: a correct result with a note, never an internal error."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import survtdm1 as st

ARMS = dict(arm="arm", treatment="A", control="B", time="t", event="e")


@pytest.fixture
def frame():
    rng = np.random.default_rng(7)
    n = 120
    return pd.DataFrame(
        {
            "t": rng.exponential(10, n).round(2) + 0.1,
            "e": rng.integers(0, 2, n),
            "arm": np.where(np.arange(n) % 2 == 0, "A", "B"),
            "x": rng.integers(0, 3, n),
        }
    )


def _analyse(frame, subgroups=(), **options):
    cohort = st.load_cohort(frame, **ARMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", st.SurvTDM1Warning)
        return st.subgroup_analysis(cohort, list(subgroups), **options)


@pytest.mark.parametrize("time", [5.0, 0.0])
def test_every_time_tied_gives_no_ph_test(frame, time):
    """One event time for everybody: the PH test has no time trend to test (R: NA)."""
    frame["t"] = time
    result = _analyse(frame, [{"column": "x"}])
    assert math.isnan(result.overall["p_ph"])
    assert result.overall["n_treatment"] == 60


def test_strata_column_without_values(frame):
    frame["site"] = None
    result = _analyse(frame, strata=["site"])
    stratified = result.overall["stratified"]
    assert math.isnan(stratified["hr"]) and math.isnan(stratified["p_logrank"])
    ledger = dict(zip(result.exclusions["reason"], result.exclusions["n"], strict=True))
    assert ledger["missing site (stratified model only)"] == len(frame)


def test_a_column_of_hundreds_of_text_values_is_refused(frame):
    frame = pd.concat([frame] * 2, ignore_index=True)
    frame["code"] = [f"P{k:04d}" for k in range(len(frame))]
    with pytest.raises(st.InputError, match=r"'code' has 240 distinct values \(more than 200\)"):
        _analyse(frame, [{"column": "code"}])


def test_tied_quantile_cuts_leave_an_empty_level_with_a_note(frame):
    frame["marker"] = np.r_[np.zeros(90), np.ones(30)]
    result = _analyse(frame, [{"column": "marker", "quantiles": [0.25, 0.5]}])
    empty = result.table[(result.table["n_treatment"] == 0) & (result.table["n_control"] == 0)]
    assert len(empty) == 1
    assert empty["note"].iloc[0] == "no patients in this level: HR not estimable"
    assert empty["note_kind"].iloc[0] == "no_patients"


def test_horizons_after_follow_up_are_noted(frame):
    last = frame["t"].max()
    result = _analyse(frame, landmark=last + 10, rmst_tau=last + 10)
    note = result.overall["note"]
    assert "landmark" in note and "RMST horizon" in note and "carried forward" in note
    assert result.overall["note_kind"] == "beyond_follow_up"
    within = _analyse(frame, landmark=1.0, rmst_tau=1.0)
    assert within.overall["note"] == ""


@pytest.mark.parametrize(
    "call",
    [
        lambda df: st.subgroup_analysis(df),
        lambda df: st.compare_arms(df, []),
        lambda df: st.stepp(df, "x"),
        lambda df: st.effect_curve(df, "x"),
        lambda df: st.cutpoint(df, "x"),
    ],
    ids=["subgroup_analysis", "compare_arms", "stepp", "effect_curve", "cutpoint"],
)
def test_analyses_refuse_a_dataframe_in_place_of_a_cohort(frame, call):
    with pytest.raises(st.SurvTDM1Error, match="needs a Cohort from survtdm1.load_cohort"):
        call(frame)
