"""The subgroup battery: row bookkeeping, degenerate levels, lifelines cross-check.

Numbers are checked against R in test_battery_reference.py; here lifelines'
CoxPHFitter (Efron ties) is the independent check of per-level HRs, to 1e-5
relative (lifelines stops its Newton iterations earlier than we do).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

import survtdm1 as st
from survtdm1.exceptions import PlanError, SeparationWarning, SmallSampleWarning
from survtdm1.subgroups.survival import SURVIVAL_COLUMNS

ARGS = {"arm": "arm", "treatment": "A", "control": "B", "time": "months", "event": "event"}
CONTRACT_FIRST = [
    "subgroup", "level", "n_treatment", "n_control", "events_treatment", "events_control",
    "hr", "hr_lower", "hr_upper", "p_value", "p_interaction", "n_missing",
]  # fmt: skip


@pytest.fixture
def cohort(small_frame):
    return st.load_cohort(small_frame, **ARGS)


def test_columns_and_level_bookkeeping(cohort):
    specs = [{"column": "grade"}, {"column": "marker", "cutpoints": [-0.5, 0.5]}]
    result = st.subgroup_analysis(cohort, specs, landmark=12)
    table = result.table
    assert list(table.columns[:12]) == CONTRACT_FIRST
    assert list(table.columns) == SURVIVAL_COLUMNS
    for _, rows in table.groupby("subgroup"):
        total = rows["n_treatment"].sum() + rows["n_control"].sum() + rows["n_missing"].iloc[0]
        assert total == len(cohort)
        assert rows["p_interaction"].nunique() == 1
    grade = table[table["subgroup"] == "grade"]
    assert grade["n_missing"].iloc[0] == cohort.data["grade"].isna().sum()
    assert grade["p_trend"].isna().all()  # categorical: no trend test
    assert table.loc[table["subgroup"] == "marker", "p_trend"].notna().all()


def test_level_hr_matches_lifelines(cohort, small_frame):
    result = st.subgroup_analysis(cohort, [{"column": "status"}])
    frame = cohort.data.assign(trt=cohort.treated)
    for _, row in result.table.iterrows():
        rows = frame[frame["status"] == row["level"]][["months", "event", "trt"]]
        fitter = CoxPHFitter().fit(rows, "months", "event")
        assert row["hr"] == pytest.approx(float(np.exp(fitter.params_["trt"])), rel=1e-5)
        lower, upper = np.exp(fitter.confidence_intervals_.loc["trt"].to_numpy())
        assert row["hr_lower"] == pytest.approx(lower, rel=1e-5)
        assert row["hr_upper"] == pytest.approx(upper, rel=1e-5)
        assert row["p_value"] == pytest.approx(fitter.summary.loc["trt", "p"], rel=1e-4)


def test_overall_lifelines(cohort):
    result = st.subgroup_analysis(cohort, [])
    assert result.table.empty
    assert list(result.table.columns) == SURVIVAL_COLUMNS
    frame = cohort.data.assign(trt=cohort.treated)[["months", "event", "trt"]]
    fitter = CoxPHFitter().fit(frame, "months", "event")
    assert result.overall["hr"] == pytest.approx(float(np.exp(fitter.params_["trt"])), rel=1e-5)
    assert result.overall["landmark_difference"] is None  # not asked for: null


def test_degenerate_levels_give_rows_with_notes():
    frame = pd.DataFrame(
        {
            "months": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "event": [1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0],
            "arm": ["A", "B"] * 6,
            "group": ["x"] * 6 + ["y"] * 4 + ["z"] * 2,
            "only_a": ["p"] * 11 + ["q"],
        }
    )
    # level y (months 7-10, arms A B A B): finite estimate; z: a monotone likelihood
    frame.loc[frame["group"] == "y", "event"] = [1, 1, 0, 1]
    frame.loc[frame["group"] == "z", "event"] = [1, 1]
    frame.loc[(frame["group"] == "x") & (frame["arm"] == "B"), "event"] = 0
    cohort = st.load_cohort(frame, **ARGS)
    with pytest.warns((SeparationWarning, SmallSampleWarning)) as caught:
        result = st.subgroup_analysis(
            cohort, [{"column": "group"}, {"column": "only_a"}], firth="never"
        )
    table = result.table.set_index(["subgroup", "level"])
    x = table.loc[("group", "x")]
    assert np.isnan(x["hr"]) and x["note"].startswith("no events in the B arm: HR not estimable;")
    # level z's interaction term is infinite: every row of `group` says why the Wald p is empty
    assert np.isnan(x["p_interaction_wald"]) and np.isfinite(x["p_interaction"])
    assert table.loc["group", "note"].str.contains("Wald interaction test not computed").all()
    assert np.isfinite(table.loc[("group", "y"), "hr"])
    z = table.loc[("group", "z")]  # A at 11 then B at 12: the HR runs off to infinity
    assert np.isnan(z["hr"]) and "did not converge" in z["note"]
    q = table.loc[("only_a", "q")]
    assert np.isnan(q["hr"]) and q["note"].startswith("no patients in the A arm")
    y = table.loc[("group", "y")]  # estimable, but few events: kept, with a note
    assert y["note"].startswith("fewer than 10 events: the estimate is imprecise;")
    assert y["note_kind"] == "small_sample"  # a row keeps its own kind
    categories = sorted(w.category.__name__ for w in caught)
    assert categories == ["SeparationWarning"] * 3 + ["SmallSampleWarning"] * 2
    assert "group = x" in result.warnings[0]


def test_firth_fallback_only_where_an_arm_has_no_events(cohort):
    frame = cohort.data.copy()
    # level "wild-type": remove every event of arm B
    frame.loc[(frame["status"] == "wild-type") & (frame["arm"] == "B"), "event"] = 0
    sparse = st.load_cohort(frame, **ARGS)
    with pytest.warns(SeparationWarning) as caught:
        result = st.subgroup_analysis(sparse, ["status"])
    assert any("wild-type: Firth-penalised HR" in str(w.message) for w in caught)
    table = result.table.set_index("level")
    firth_row, ordinary = table.loc["wild-type"], table.loc["mutated"]
    assert firth_row["note"].startswith("Firth-penalised HR (no events in the B arm)")
    assert firth_row["hr_lower"] < firth_row["hr"] < firth_row["hr_upper"]
    assert firth_row["hr"] > 1  # A has events, B none: the HR of A vs B is large
    # events in both arms: the ordinary estimate stays; the note says why the Wald
    # interaction p of the subgroup is empty
    assert ordinary["note_kind"] == "wald_infinite"
    assert ordinary["note"].startswith("Wald interaction test not computed: infinite estimate")
    with pytest.warns(SeparationWarning):
        plain = st.subgroup_analysis(sparse, ["status"], firth="never")
    assert plain.table.set_index("level").loc["mutated", "hr"] == ordinary["hr"]
    assert np.isnan(plain.table.set_index("level").loc["wild-type", "hr"])


def test_bad_options():
    frame = pd.DataFrame({"months": [1, 2], "event": [1, 1], "arm": ["A", "B"]})
    cohort = st.load_cohort(frame, **ARGS)
    with pytest.raises(PlanError, match="ties"):
        st.subgroup_analysis(cohort, [], ties="exact")
    with pytest.raises(PlanError, match="conf_type"):
        st.subgroup_analysis(cohort, [], conf_type="arcsine")
    with pytest.raises(PlanError, match="risk_times"):
        st.subgroup_analysis(cohort, [], risk_times=[-1])
    with pytest.raises(st.InputError, match="nope"):
        st.subgroup_analysis(cohort, ["nope"])


def test_result_is_frozen_and_renders_html(cohort):
    result = st.subgroup_analysis(cohort, ["status"])
    with pytest.raises(AttributeError):
        result.table = None
    with pytest.raises(TypeError):
        result.overall["hr"] = 1.0
    with pytest.raises(TypeError):
        result.overall["treatment"]["median"] = 1.0
    assert "<table" in result._repr_html_()


def test_a_result_pickles_and_stays_read_only(cohort):
    import pickle
    from types import MappingProxyType

    specs = [{"column": "grade"}, {"column": "marker", "cutpoint": "maxstat"}]
    result = st.subgroup_analysis(cohort, specs, landmark=12)
    again = pickle.loads(pickle.dumps(result))
    pd.testing.assert_frame_equal(again.table, result.table)
    assert dict(again.overall) == dict(result.overall) and again.warnings == result.warnings
    assert again.cutpoints_summary() == result.cutpoints_summary()
    assert set(again.level_curves) == set(result.level_curves)
    for name in ("overall", "cutpoints", "settings"):
        assert isinstance(getattr(again, name), MappingProxyType), name
    with pytest.raises(TypeError):
        again.overall["hr"] = 1.0
