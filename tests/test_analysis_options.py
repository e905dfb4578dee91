"""The [analysis] options: plan keys, bad values, resolution of conventions, time units.

Numbers against R are in tests/test_options_reference.py; this file checks the
surface: every option is a plan key and a keyword of ``st.subgroup_analysis``, bad
values are a PlanError (exit 2, one line from the CLI), a convention's defaults yield
to explicit keys, and the resolved settings reach ``provenance.settings``.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_cli import PLAN, run

import survtdm1 as st
from survtdm1 import cox, km
from survtdm1.exceptions import InputError, PlanError, SeparationWarning, SmallSampleWarning

ARGS = {"arm": "arm", "treatment": "A", "control": "B", "time": "months", "event": "event"}


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)
        warnings.simplefilter("ignore", SmallSampleWarning)
        return function(*args, **kwargs)


@pytest.fixture
def cohort(small_frame):
    return st.load_cohort(small_frame, **ARGS)


def _plan(path, **analysis) -> dict:
    cohort = {"path": str(path), **ARGS, "id": "pid"}
    return {"cohort": cohort, "analysis": analysis, "subgroup": [{"column": "grade"}]}


@pytest.mark.parametrize(
    ("analysis", "needle"),
    [
        ({"p_method": "score"}, "p_method must be one of wald, logrank, lrt, not 'score'"),
        ({"convention": "stata"}, "convention must be one of r, tern, sas, not 'stata'"),
        ({"level_strata": "yes", "strata": ["status"]}, "level_strata must be true or false"),
        ({"level_strata": True}, "level_strata = true needs strata"),
        ({"adjust": "marker"}, "adjust must be a list of column names"),
        ({"adjust": []}, "adjust must be a list of column names"),
        ({"cluster": 5}, "cluster must be a column name, not 5"),
        ({"time_unit": "fortnights"}, "time_unit must be one of days, weeks, months, years"),
        ({"ties": "exact", "convention": "sas"}, "ties must be one of efron, breslow"),
        ({"conf_type": "arcsine"}, "conf_type must be one of log-log, log, plain"),
    ],
)
def test_bad_option_values_are_plan_errors(small_csv, analysis, needle):
    with pytest.raises(PlanError) as caught:
        st.analyze(_plan(small_csv, **analysis))
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_adjust_or_cluster_column_is_input_error(small_csv):
    with pytest.raises(InputError, match=r"column\(s\) \['age'\] not found"):
        st.analyze(_plan(small_csv, adjust=["age"]))
    with pytest.raises(InputError, match=r"\['site'\] not found"):
        st.analyze(_plan(small_csv, cluster="site"))


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('p_method = "score"', "p_method must be one of"),
        ('convention = "stata"', "convention must be one of"),
        ('adjust = "marker"', "adjust must be a list of column names"),
    ],
)
def test_cli_bad_option_exit_2_one_line(workdir, line, needle):
    (workdir / "plan.toml").write_text(PLAN.replace("[analysis]", f"[analysis]\n{line}", 1))
    result = run("analyze", "plan.toml", "--out", "out", cwd=workdir)
    assert result.returncode == 2, result.stderr
    lines = [text for text in result.stderr.splitlines() if text.strip()]
    assert len(lines) == 1 and needle in lines[0], result.stderr


@pytest.fixture
def workdir(tmp_path, small_csv):
    (tmp_path / "plan.toml").write_text(PLAN)
    return tmp_path


def test_options_for_a_survival_endpoint_only(tmp_path):
    frame = pd.DataFrame(
        {"arm": ["A", "B"] * 10, "pcr": [0, 1, 1, 0, 1] * 4, "grp": ["x"] * 10 + ["y"] * 10}
    )
    cohort = st.load_cohort(frame, arm="arm", treatment="A", control="B", response="pcr")
    for option in ({"adjust": ["grp"]}, {"p_method": "lrt"}, {"convention": "r"}):
        with pytest.raises(PlanError, match="apply to a survival endpoint"):
            st.subgroup_analysis(cohort, [], **option)
    table = _quiet(st.subgroup_analysis, cohort, [{"column": "grp"}]).table
    assert table["df_interaction"].tolist() == [1, 1]


def test_defaults_and_conventions_resolve(cohort):
    default = _quiet(st.subgroup_analysis, cohort, ["grade"])
    assert dict(default.settings) == {
        "ties": "efron",
        "conf_type": "log-log",
        "p_method": "wald",
        "level_strata": False,
        "adjust": [],
        "cluster": None,
        "time_unit": "months",
    }
    tern = _quiet(st.subgroup_analysis, cohort, ["grade"], convention="tern")
    assert (tern.settings["conf_type"], tern.settings["p_method"]) == ("plain", "logrank")
    # the overall p_value of "tern" is the log-rank test
    assert tern.overall["p_value"] == pytest.approx(tern.overall["p_logrank"], rel=1e-12)
    sas = _quiet(st.subgroup_analysis, cohort, ["grade"], convention="sas", conf_type="log")
    assert (sas.settings["ties"], sas.settings["conf_type"]) == ("breslow", "log")
    # the default battery and an explicit "wald" with the default options agree exactly
    wald = _quiet(st.subgroup_analysis, cohort, ["grade"], p_method="wald")
    pd.testing.assert_frame_equal(default.table, wald.table)


def test_lrt_per_level_is_the_likelihood_ratio_of_treatment(cohort):
    result = _quiet(st.subgroup_analysis, cohort, [], p_method="lrt")
    fit = cox.cox_fit(cohort.times, cohort.events, cohort.treated)
    chisq = 2 * (fit.loglik - fit.loglik_null)
    assert result.overall["p_value"] == pytest.approx(stats.chi2.sf(chisq, 1), rel=1e-10)


def test_time_unit_converts_the_data_not_the_effects(cohort):
    months = _quiet(st.subgroup_analysis, cohort, ["grade"], landmark=12)
    days = _quiet(st.subgroup_analysis, cohort, ["grade"], landmark=12 * 30.4375, time_unit="days")
    assert days.time_unit == "days" and days.settings["time_unit"] == "days"
    for key in ("hr", "hr_lower", "hr_upper", "p_value", "p_interaction"):
        np.testing.assert_allclose(days.table[key], months.table[key], rtol=1e-9)
    np.testing.assert_allclose(
        days.table["median_treatment"], months.table["median_treatment"] * 30.4375, rtol=1e-12
    )
    np.testing.assert_allclose(
        days.table["landmark_treatment"], months.table["landmark_treatment"], rtol=1e-12
    )


def test_provenance_settings_in_summary_json(small_csv, tmp_path):
    plan = _plan(small_csv, convention="sas", strata=["status"], level_strata=True)
    plan["analysis"].update(adjust=["marker"], cluster="pid", time_unit="weeks")
    result = _quiet(st.analyze, plan)
    result.write(tmp_path / "out", figures=False)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["provenance"]["settings"] == {
        "ties": "breslow",
        "conf_type": "log-log",
        "p_method": "wald",
        "level_strata": True,
        "adjust": ["marker"],
        "cluster": "pid",
        "time_unit": "weeks",
    }
    table = pd.read_csv(tmp_path / "out" / "subgroups.csv")
    assert table["df_interaction"].tolist() == [2, 2, 2]


def test_cluster_naming_the_id_allows_repeated_ids(small_frame, tmp_path):
    frame = pd.concat([small_frame, small_frame.assign(months=small_frame["months"] + 0.05)])
    path = tmp_path / "twice.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match="duplicated ids"):
        st.analyze(_plan(path))
    clustered = _quiet(st.analyze, _plan(path, cluster="pid"))
    plain_plan = _plan(path)
    del plain_plan["cohort"]["id"]
    plain = _quiet(st.analyze, plain_plan)
    assert clustered.overall["n_treatment"] == 2 * (small_frame["arm"] == "A").sum()
    # a cluster changes the variance only: the same HR, a wider CI (pairs of near copies)
    assert clustered.overall["hr"] == pytest.approx(plain.overall["hr"], rel=1e-12)
    assert clustered.overall["hr_upper"] > plain.overall["hr_upper"]


def test_a_level_of_one_arm_is_not_counted_in_df_interaction(small_frame):
    frame = small_frame.copy()
    frame.loc[frame["arm"] == "A", "site"] = "x"
    frame.loc[frame["arm"] == "B", "site"] = np.where(
        np.arange((frame["arm"] == "B").sum()) % 2, "x", "y"
    )
    c = st.load_cohort(frame, **ARGS)
    table = _quiet(st.subgroup_analysis, c, ["site"]).table
    # level y holds control patients only: its interaction term is aliased (R: NA)
    assert table["df_interaction"].tolist() == [0, 0]
    assert table["note_kind"].tolist() == ["not_testable", "no_patients"]
    assert table["note"].str.contains("interaction not testable").all()


def test_score_residuals_sum_to_the_score(small_frame):
    frame = small_frame[small_frame["arm"] != "C"]
    data = cox.SortedSurvival.from_arrays(
        frame["months"], frame["event"], frame["status"].fillna("?")
    )
    X = data.sort_rows(np.column_stack([frame["arm"] == "A", frame["marker"]]).astype(float))
    for ties in ("efron", "breslow"):
        beta = np.array([0.3, -0.2])
        _, score, _ = cox.CoxProblem(data, X, ties).evaluate(beta)
        residuals = cox.score_residuals(data, X, beta, ties=ties)
        np.testing.assert_allclose(residuals.sum(axis=0), score, rtol=1e-10, atol=1e-10)


def test_binary_wald_interaction_at_an_infinite_estimate_has_a_note():
    # level y: no responder in arm B, so the interaction estimate is infinite
    frame = pd.DataFrame(
        {
            "arm": ["A", "B"] * 20,
            "pcr": [1, 1, 0, 0, 1, 0, 0, 1] * 2 + [1, 0, 0, 0] * 6,
            "grp": ["x"] * 16 + ["y"] * 24,
        }
    )
    cohort = st.load_cohort(frame, arm="arm", treatment="A", control="B", response="pcr")
    result = _quiet(st.subgroup_analysis, cohort, [{"column": "grp"}])
    table = result.table.set_index("level")
    assert np.isnan(table["p_interaction_wald"]).all() and np.isfinite(table["p_interaction"]).all()
    assert table.loc["x", "note_kind"] == "wald_infinite"
    assert table.loc["y", "note_kind"] == "firth"  # the row keeps its own kind
    assert table["note"].str.contains("Wald interaction test not computed").all()
    assert result.settings["p_method"] == "wald"


def test_a_landmark_after_the_follow_up_of_an_arm_has_a_note(cohort):
    result = _quiet(st.subgroup_analysis, cohort, ["status"], landmark=38)
    table = result.table
    empty = table["landmark_treatment"].isna() | table["landmark_control"].isna()
    assert empty.any()  # the small cohort's follow-up ends before 40 months in some arms
    assert table.loc[empty, "note"].str.contains("after the last follow-up").all()
    assert not table.loc[~empty, "note"].str.contains("after the last follow-up").any()


def test_logrank_p_where_an_arm_of_a_level_has_no_events(small_frame):
    frame = small_frame.copy()
    frame.loc[(frame["status"] == "mutated") & (frame["arm"] == "B"), "event"] = 0
    c = st.load_cohort(frame, **ARGS)
    table = _quiet(st.subgroup_analysis, c, ["status"], convention="tern").table
    row = table.set_index("level").loc["mutated"]
    rows = frame[(frame["status"] == "mutated") & frame["arm"].isin(["A", "B"])]
    logrank = km.logrank_test(rows["months"], rows["event"], rows["arm"] == "A").p_value
    assert row["p_value"] == pytest.approx(logrank, rel=1e-12)
    assert row["note"].startswith("Firth") and "p_value is the log-rank p" in row["note"]
