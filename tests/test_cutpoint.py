"""Maxstat cut-points, ordered categorical trend tests and level bounds, against R.

Reference: ``tests/reference/expected/cutpoints.json``, written by
``Rscript tests/reference/make_cutpoint_reference.R`` (R maxstat 0.7, survival 3.x) from the
data sets in ``tests/reference/data``:

- ``maxstat.test(Surv(time, event) ~ x, smethod = "LogRank", pmethod = "Lau92",
  minprop = 0.1, maxprop = 0.9)`` on the two arms' rows with x known: estimate (cut),
  statistic, p-value, candidate cuts and their standardised statistics; per level "<=c" /
  ">c": ``coxph(Surv ~ arm)`` HR, Wald CI and p, counts; ``anova`` LRT of arm x level;
- ``coxph(Surv ~ arm * rank)`` Wald p of arm:rank for ordered categorical levels;
- ``levels(factor(x))`` in the C locale.

Tolerances: cut and statistic 1e-6 relative, p-values 1e-6 absolute, Cox estimates 1e-6
relative, counts and labels exactly.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from reference_values import REFERENCE_DIR

import survtdm1 as st
from survtdm1.cutpoint import logrank_scores, maxstat_logrank, p_lausen92
from survtdm1.exceptions import InputError, PlanError
from survtdm1.levels import SubgroupSpec, split_levels

DATA = REFERENCE_DIR / "data"
REFERENCE = json.loads((REFERENCE_DIR / "expected" / "cutpoints.json").read_text())
REL = 1e-6
P_ABS = 1e-6

# data set, time, event, arm, treatment, control, time unit
COHORTS = {
    "gbsg": ("rfstime", "status", "hormon", "tamoxifen", "none", "days"),
    "veteran": ("time", "status", "trt", 2, 1, "days"),
    "lung": ("time", "status", "sex", 2, 1, "days"),
    "sim": ("time_months", "event", "arm", "experimental", "control", "months"),
}
MAXSTAT_CASES = {
    "gbsg_pgr": "gbsg",
    "gbsg_age": "gbsg",
    "veteran_karno": "veteran",
    "lung_ph_karno": "lung",
    "sim_score": "sim",
}
TREND_CASES = {"gbsg_grade": "gbsg", "lung_ph_ecog": "lung", "sim_region": "sim", "sim_ihc": "sim"}


def cohort(name: str) -> st.Cohort:
    time, event, arm, treatment, control, unit = COHORTS[name]
    return st.load_cohort(
        DATA / f"{name}.csv",
        arm=arm,
        treatment=treatment,
        control=control,
        time=time,
        event=event,
        time_unit=unit,
    )


@pytest.fixture(scope="module")
def cohorts() -> dict[str, st.Cohort]:
    return {name: cohort(name) for name in COHORTS}


def assert_close(ours, theirs, rel=REL):
    assert ours == pytest.approx(theirs, rel=rel), (ours, theirs)


# --------------------------------------------------------------------------------------
# The estimator and the analysis function
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(MAXSTAT_CASES))
def test_cutpoint_matches_r_maxstat(case, cohorts):
    expected = REFERENCE["maxstat"][case]
    result = st.cutpoint(cohorts[MAXSTAT_CASES[case]], expected["column"])
    assert_close(result.cutpoint, expected["cutpoint"])
    assert_close(result.statistic, expected["statistic"])
    assert abs(result.p_value - expected["p_value"]) <= P_ABS
    assert result.p_value == pytest.approx(expected["p_value"], rel=1e-6)
    assert result.n == expected["n"] and result.n_missing == expected["n_missing"]
    np.testing.assert_allclose(result.table["cutpoint"], expected["cuts"], rtol=REL)
    np.testing.assert_allclose(result.table["statistic"], expected["stats"], rtol=REL)
    assert result.table["selected"].sum() == 1
    chosen = result.table.loc[result.table["selected"]].iloc[0]
    assert chosen["cutpoint"] == result.cutpoint and chosen["statistic"] == result.statistic
    assert (result.table["n_lower"] + result.table["n_upper"] == result.n).all()
    assert result.summary() == {
        "cutpoint": result.cutpoint,
        "statistic": result.statistic,
        "p_value": result.p_value,
        "method": "maxstat-Lau92",
    }


def test_logrank_scores_as_exact_rank_tests():
    # R: exactRankTests:::cscores.Surv(Surv(c(1, 2, 2, 3, 4, 4), c(1, 1, 0, 1, 0, 1)))
    scores = logrank_scores(np.array([1, 2, 2, 3, 4, 4.0]), np.array([1, 1, 0, 1, 0, 1]))
    expected = [5 / 6, 7 / 12, -5 / 12, 1 / 4, -7 / 4, -3 / 4]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)


def test_lausen92_formula():
    # R: maxstat:::pLausen92(c(0.5, 2.5, 3, 4), 0.1, 0.9)
    assert p_lausen92(0.5) == 1.0
    assert p_lausen92(3.0) == pytest.approx(0.05784388, rel=1e-6)
    # a wider selection interval costs more: larger p for the same statistic
    assert p_lausen92(3.0, 0.05, 0.95) > p_lausen92(3.0)
    assert 0.0 <= p_lausen92(1.0001, 0.001, 0.999) <= 1.0  # clipped


def test_estimator_rows_order_does_not_matter():
    frame = pd.read_csv(DATA / "veteran.csv")
    shuffled = frame.sample(frac=1.0, random_state=3)
    a = maxstat_logrank(frame["time"], frame["status"], frame["karno"])
    b = maxstat_logrank(shuffled["time"], shuffled["status"], shuffled["karno"])
    assert a.cutpoint == b.cutpoint
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)


def test_cutpoint_bad_input(cohorts):
    with pytest.raises(PlanError, match="minprop"):
        st.cutpoint(cohorts["gbsg"], "pgr", minprop=1.2)
    with pytest.raises(PlanError, match="maxprop"):
        st.cutpoint(cohorts["gbsg"], "pgr", minprop=0.5, maxprop=0.4)
    with pytest.raises(InputError, match="'nope' not found"):
        st.cutpoint(cohorts["gbsg"], "nope")
    frame = pd.DataFrame(
        {
            "t": np.arange(1.0, 101.0),
            "e": np.tile([1, 0], 50),
            "arm": np.repeat(["A", "B"], 50),
            "x": [0] * 95 + [1] * 5,  # the one possible cut leaves 95% at or below it
        }
    )
    skewed = st.load_cohort(frame, arm="arm", treatment="A", control="B", time="t", event="e")
    with pytest.raises(InputError, match="no cut leaves between 0.1 and 0.9"):
        st.cutpoint(skewed, "x")
    with pytest.raises(PlanError, match="Cohort"):
        st.cutpoint(pd.DataFrame(), "pgr")
    no_events = maxstat_logrank
    with pytest.raises(InputError, match="needs events"):
        no_events(np.arange(1.0, 21.0), np.zeros(20), np.arange(20.0))


def test_cutpoint_plot_marks_the_cut(cohorts):
    result = st.cutpoint(cohorts["veteran"], "karno")
    figure = result.plot()
    ax = figure.axes[0]
    assert ax.get_xlabel() == "karno"
    assert any(
        line.get_xdata()[0] == result.cutpoint and len(line.get_xdata()) == 2
        for line in ax.get_lines()
    )


# --------------------------------------------------------------------------------------
# cutpoint = "maxstat" in the subgroup battery
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["gbsg_pgr", "veteran_karno", "lung_ph_karno", "sim_score"])
def test_maxstat_subgroup_matches_r(case, cohorts):
    expected = REFERENCE["maxstat"][case]
    column = expected["column"]
    result = st.subgroup_analysis(
        cohorts[MAXSTAT_CASES[case]], [{"column": column, "cutpoint": "maxstat"}]
    )
    table = result.table
    assert table["level"].tolist() == expected["labels"]
    assert table["level_label"].tolist() == expected["labels"]
    for (_, row), level in zip(table.iterrows(), expected["levels"], strict=True):
        for key in ("n_treatment", "n_control", "events_treatment", "events_control"):
            assert row[key] == level[key], key
        for key in ("hr", "hr_lower", "hr_upper"):
            assert_close(row[key], level[key])
        assert abs(row["p_value"] - level["p_value"]) <= P_ABS
    assert abs(table["p_interaction"].iloc[0] - expected["p_interaction"]) <= P_ABS
    assert table["n_missing"].iloc[0] == expected["n_missing"]
    # bounds: "<=c" has an open lower end, ">c" an open upper end
    assert math.isnan(table["level_lower"].iloc[0]) and math.isnan(table["level_upper"].iloc[1])
    assert_close(table["level_upper"].iloc[0], expected["cutpoint"])
    assert_close(table["level_lower"].iloc[1], expected["cutpoint"])
    cut = result.cutpoints[column]
    assert_close(cut.statistic, expected["statistic"])
    assert abs(cut.p_value - expected["p_value"]) <= P_ABS
    assert not math.isnan(table["p_trend"].iloc[0])  # two ranked levels


def test_maxstat_in_a_plan_writes_summary_cutpoints(tmp_path):
    plan = {
        "cohort": {
            "path": str(DATA / "gbsg.csv"),
            "time": "rfstime",
            "event": "status",
            "time_unit": "days",
            "arm": "hormon",
            "treatment": "tamoxifen",
            "control": "none",
        },
        "subgroup": [{"column": "pgr", "cutpoint": "maxstat"}, {"column": "grade"}],
    }
    result = st.analyze(plan)
    expected = REFERENCE["maxstat"]["gbsg_pgr"]
    summary = result.summary_json()
    assert set(summary["cutpoints"]) == {"pgr"}
    entry = summary["cutpoints"]["pgr"]
    assert entry["method"] == "maxstat-Lau92"
    assert_close(entry["cutpoint"], expected["cutpoint"])
    assert_close(entry["statistic"], expected["statistic"])
    assert abs(entry["p_value"] - expected["p_value"]) <= P_ABS
    result.write(tmp_path, figures=False)
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["cutpoints"]["pgr"]["cutpoint"] == 21
    table = pd.read_csv(tmp_path / "subgroups.csv", keep_default_na=False)
    assert table.columns[:12].tolist() == [
        "subgroup",
        "level",
        "n_treatment",
        "n_control",
        "events_treatment",
        "events_control",
        "hr",
        "hr_lower",
        "hr_upper",
        "p_value",
        "p_interaction",
        "n_missing",
    ]
    pgr = table[table["subgroup"] == "pgr"]
    assert pgr["level"].tolist() == ["<=21", ">21"]
    assert pgr["level_lower"].tolist() == ["", "21.0"]
    assert pgr["level_upper"].tolist() == ["21.0", ""]
    grade = table[table["subgroup"] == "grade"]
    assert (grade["level_lower"] == "").all() and (grade["level_upper"] == "").all()


def test_no_cutpoints_key_without_maxstat():
    plan = {
        "cohort": {
            "path": str(DATA / "gbsg.csv"),
            "time": "rfstime",
            "event": "status",
            "arm": "hormon",
            "treatment": "tamoxifen",
            "control": "none",
        },
        "subgroup": [{"column": "grade"}],
    }
    assert "cutpoints" not in st.analyze(plan).summary_json()


def test_level_bounds_of_cutpoints_and_quantiles(cohorts):
    result = st.subgroup_analysis(
        cohorts["gbsg"],
        [{"column": "nodes", "cutpoints": [4, 10]}, {"column": "age", "quantiles": [0.5]}],
    )
    nodes = result.table[result.table["subgroup"] == "nodes"]
    assert nodes["level_lower"].tolist()[1:] == [4.0, 10.0]
    assert nodes["level_upper"].tolist()[:2] == [4.0, 10.0]
    age = result.table[result.table["subgroup"] == "age"]
    # R: quantile(gbsg$age, 0.5, type = 7) = 53
    assert age["level_upper"].iloc[0] == 53.0 and age["level_lower"].iloc[1] == 53.0


def test_maxstat_needs_a_survival_endpoint():
    frame = pd.read_csv(DATA / "binary_cohort.csv")
    binary = st.load_cohort(frame, arm="arm", treatment="T-DM1+P", control="TCH+P", response="pcr")
    with pytest.raises(InputError, match="survival endpoint"):
        st.subgroup_analysis(binary, [{"column": "her2_mrna", "cutpoint": "maxstat"}])


# --------------------------------------------------------------------------------------
# Ordered categorical levels: the trend test
# --------------------------------------------------------------------------------------


# degenerate levels (lung ph.ecog 3, sim ihc 3+) warn; the trend test is still defined
@pytest.mark.filterwarnings("ignore::survtdm1.SurvTDM1Warning")
@pytest.mark.parametrize("case", sorted(TREND_CASES))
def test_ordered_levels_trend_matches_r(case, cohorts):
    expected = REFERENCE["trend"][case]
    spec = {"column": expected["column"], "levels": expected["levels"], "ordered": True}
    table = st.subgroup_analysis(cohorts[TREND_CASES[case]], [spec]).table
    assert table["level"].tolist() == expected["levels"]
    assert abs(table["p_trend"].iloc[0] - expected["p_trend"]) <= P_ABS
    assert table["p_trend"].iloc[0] == pytest.approx(expected["p_trend"], rel=1e-5)
    unordered = {k: v for k, v in spec.items() if k != "ordered"}
    plain = st.subgroup_analysis(cohorts[TREND_CASES[case]], [unordered]).table
    assert plain["p_trend"].isna().all()
    assert plain["level_lower"].isna().all() and plain["level_upper"].isna().all()


def test_ordered_in_a_plan_table():
    spec = SubgroupSpec.from_dict({"column": "grade", "levels": [1, 2, 3], "ordered": True})
    assert spec.ordered and spec.kind == "categorical"
    split = split_levels(spec, pd.Series([3, 1, 2]))
    assert split.ordered and split.codes.tolist() == [2, 0, 1]


# --------------------------------------------------------------------------------------
# Categorical level order and the high-cardinality guard
# --------------------------------------------------------------------------------------


def test_text_levels_in_c_locale_order():
    expected = REFERENCE["factor_levels_c_locale"]
    split = split_levels(SubgroupSpec("x"), pd.Series(expected["values"]))
    assert list(split.labels) == expected["levels"]


def test_numeric_categorical_with_many_values_is_refused(cohorts):
    with pytest.raises(InputError, match=r"'pgr'.*cutpoints, quantiles or levels"):
        st.subgroup_analysis(cohorts["gbsg"], ["pgr"])
    values = pd.Series(np.arange(21.0))
    with pytest.raises(InputError, match="21 distinct"):
        split_levels(SubgroupSpec("score"), values)
    assert len(split_levels(SubgroupSpec("score"), values[:20]).labels) == 20
    given = SubgroupSpec("score", levels=tuple(str(k) for k in range(21)))
    assert len(split_levels(given, values).labels) == 21  # explicit levels are what is meant
    text = pd.Series([f"site {k}" for k in range(30)])
    assert len(split_levels(SubgroupSpec("site"), text).labels) == 30  # text is categorical


def test_cli_refuses_a_numeric_column_with_many_values(tmp_path, capsys):
    from survtdm1.cli import main

    plan = f"""
[cohort]
path = "{DATA / "gbsg.csv"}"
time = "rfstime"
event = "status"
arm = "hormon"
treatment = "tamoxifen"
control = "none"

[[subgroup]]
column = "pgr"
"""
    (tmp_path / "plan.toml").write_text(plan)
    status = main(["analyze", str(tmp_path / "plan.toml"), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert status == 2
    assert len(error.strip().splitlines()) == 1
    assert "'pgr'" in error and "cutpoints, quantiles or levels" in error


def test_cut_follows_monotone_transforms_of_x_and_ignores_time_scale():
    frame = pd.read_csv(DATA / "gbsg.csv")
    base = maxstat_logrank(frame["rfstime"], frame["status"], frame["pgr"])
    logged = maxstat_logrank(frame["rfstime"], frame["status"], np.log1p(frame["pgr"]))
    assert logged.cutpoint == pytest.approx(np.log1p(base.cutpoint), rel=1e-12)
    assert logged.statistic == pytest.approx(base.statistic, rel=1e-12)
    years = maxstat_logrank(frame["rfstime"] / 365.25, frame["status"], frame["pgr"])
    assert years.cutpoint == base.cutpoint
    assert years.statistic == pytest.approx(base.statistic, rel=1e-12)
