"""interaction_meta: within-trial interactions pooled across trials (deft), against R metafor.

Expected values: tests/reference/make_meta_reference.R (metafor::rma, methods
FE, REML and DL) on the per-level HR tables in tests/reference/data/meta_*.csv,
stored in tests/reference/expected/meta.json. Tolerance 1e-6 (absolute on the
log scale, tau^2, I^2, Q and the p-values; relative on the ratios).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survtdm1 as st
from survtdm1.meta import InteractionMetaResult

REFERENCE = Path(__file__).resolve().parent / "reference"
EXPECTED = json.loads((REFERENCE / "expected" / "meta.json").read_text())
SETS = ("heterogeneous", "homogeneous", "two_trials")
TOL = 1e-6


def _published(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "data" / f"meta_{name}.csv")


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("method", ["REML", "DL"])
def test_pooled_as_metafor(name, method):
    expected = EXPECTED[name]
    result = st.interaction_meta(_published(name), "x", method=method)
    table = result.table
    assert list(table["trial"]) == expected["trial"]
    np.testing.assert_allclose(table["log_ratio"], expected["log_ratio"], rtol=0, atol=TOL)
    np.testing.assert_allclose(table["se"], expected["se"], rtol=0, atol=TOL)
    for model, key in (("fixed", "FE"), ("random", method)):
        want, got = expected["fits"][key], result.pooled[model]
        for stat in ("log_ratio", "se", "z", "p_value", "tau2", "i2"):
            assert got[stat] == pytest.approx(want[stat], abs=TOL), (model, stat)
        for stat in ("ratio", "ratio_lower", "ratio_upper"):
            assert got[stat] == pytest.approx(want[stat], rel=TOL), (model, stat)
        assert result.pooled["q"] == pytest.approx(want["q"], abs=TOL)
        assert result.pooled["p_heterogeneity"] == pytest.approx(want["p_heterogeneity"], abs=TOL)
    random = expected["fits"][method]
    assert result.pooled["tau2"] == pytest.approx(random["tau2"], abs=TOL)
    assert result.pooled["i2"] == pytest.approx(random["i2"], abs=TOL)
    np.testing.assert_allclose(table["weight_fixed"], expected["fits"]["FE"]["weights"], atol=TOL)
    np.testing.assert_allclose(table["weight_random"], random["weights"], atol=TOL)


def test_reference_sets_cover_both_cases():
    # one set with heterogeneity, one without: the tests above exercise both branches
    assert EXPECTED["heterogeneous"]["fits"]["REML"]["tau2"] > 0.1
    assert EXPECTED["homogeneous"]["fits"]["REML"]["tau2"] == 0
    assert EXPECTED["homogeneous"]["fits"]["DL"]["tau2"] == 0


def test_table_columns_and_frozen():
    result = st.interaction_meta(_published("heterogeneous"), "pik3ca")
    assert isinstance(result, InteractionMetaResult)
    assert list(result.table.columns[:8]) == [
        "trial", "log_ratio", "se", "ratio", "ratio_lower", "ratio_upper",
        "weight_fixed", "weight_random",
    ]  # fmt: skip
    assert set(result.pooled) >= {"fixed", "random", "tau2", "i2", "q", "p_heterogeneity"}
    assert set(result.pooled["random"]) >= {"ratio", "ratio_lower", "ratio_upper", "p_value"}
    assert result.levels == ("wild-type", "mutated")
    with pytest.raises(AttributeError):
        result.method = "DL"
    with pytest.raises(TypeError):
        result.pooled["tau2"] = 0.0
    assert "Trial A" in result._repr_html_()
    json.dumps(result.to_dict())


def test_level_order_follows_first_trial():
    published = _published("heterogeneous")
    swapped = published.copy()
    swapped.iloc[[2, 3]] = published.iloc[[3, 2]].to_numpy()  # Trial B: mutated row first
    a = st.interaction_meta(published, "pik3ca")
    b = st.interaction_meta(swapped, "pik3ca")
    pd.testing.assert_frame_equal(a.table, b.table)


def test_swapping_levels_inverts_every_ratio():
    published = _published("heterogeneous")
    swapped = published.iloc[np.arange(len(published)) ^ 1]  # rows 1, 0, 3, 2, ...
    a = st.interaction_meta(published, "x")
    b = st.interaction_meta(swapped, "x")
    np.testing.assert_allclose(a.table["log_ratio"], -b.table["log_ratio"], atol=1e-12)
    assert a.pooled["random"]["ratio"] == pytest.approx(1 / b.pooled["random"]["ratio"])


@pytest.fixture(scope="module")
def two_cohort_results():
    """Two synthetic trials analysed by subgroup_analysis (PIK3CA, two levels)."""
    results = {}
    for name, time, event in (("KATHERINE", "idfs_months", "idfs_event"),
                              ("EMILIA", "pfs_months", "pfs_event")):  # fmt: skip
        frame = getattr(st.datasets, name.lower())()
        treatment = "T-DM1"
        control = sorted(set(frame["arm"]) - {treatment})[0]
        cohort = st.load_cohort(
            frame, arm="arm", treatment=treatment, control=control, time=time, event=event
        )
        results[name] = st.subgroup_analysis(cohort, [{"column": "pik3ca"}])
    return results


def test_subgroup_results_match_their_table(two_cohort_results):
    from_results = st.interaction_meta(two_cohort_results, "pik3ca")
    rows = []
    for trial, result in two_cohort_results.items():
        table = result.table[result.table["subgroup"] == "pik3ca"]
        rows.append(table.assign(trial=trial)[["trial", "level", "hr", "hr_lower", "hr_upper"]])
    from_table = st.interaction_meta(pd.concat(rows), "pik3ca")
    pd.testing.assert_frame_equal(from_results.table, from_table.table)
    assert from_results.pooled["random"]["ratio"] == pytest.approx(
        from_table.pooled["random"]["ratio"], rel=1e-12
    )


def test_plot_has_two_panels():
    figure = st.interaction_meta(_published("heterogeneous"), "pik3ca").plot()
    assert len(figure.axes) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="hr_upper"), "hr_upper"),
        (lambda d: d.iloc[:-1], "exactly two levels"),
        (lambda d: d.iloc[:2], "at least two trials"),
        (lambda d: d.assign(hr=d["hr"].where(d.index != 3, -1.0)), "row 4"),
        (lambda d: d.assign(hr_lower=d["hr_upper"]), "hr_lower < hr < hr_upper"),
        (lambda d: d.iloc[:0], "no trials"),
    ],
)
def test_bad_tables(change, message):
    with pytest.raises(st.InputError, match=message):
        st.interaction_meta(change(_published("heterogeneous")), "x")


def test_bad_results(two_cohort_results):
    with pytest.raises(st.InputError, match="no subgroup 'her2'"):
        st.interaction_meta(two_cohort_results, "her2")
    with pytest.raises(st.PlanError, match="method"):
        st.interaction_meta(two_cohort_results, "pik3ca", method="ML")
    with pytest.raises(st.InputError, match="mapping"):
        st.interaction_meta([1, 2], "pik3ca")


def _cli(args, cwd, capsys):
    from survtdm1.cli import main

    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        try:
            status = main(args)
        except SystemExit as stop:  # argparse errors
            status = stop.code
    return status, *capsys.readouterr()


def test_cli_meta_from_table(tmp_path, capsys):
    source = REFERENCE / "data" / "meta_heterogeneous.csv"
    status, out, err = _cli(
        ["meta", "--table", str(source), "--subgroup", "pik3ca", "--method", "DL", "--out", "m"],
        tmp_path,
        capsys,
    )
    assert status == 0, err
    table = pd.read_csv(tmp_path / "m" / "meta.csv")
    summary = json.loads((tmp_path / "m" / "meta.json").read_text())
    want = EXPECTED["heterogeneous"]["fits"]["DL"]
    assert summary["pooled"]["random"]["ratio"] == pytest.approx(want["ratio"], rel=TOL)
    assert summary["pooled"]["tau2"] == pytest.approx(want["tau2"], abs=TOL)
    np.testing.assert_allclose(table["log_ratio"], EXPECTED["heterogeneous"]["log_ratio"], atol=TOL)
    assert (tmp_path / "m" / "meta.png").stat().st_size > 0
    assert (tmp_path / "m" / "meta.svg").stat().st_size > 0


def test_cli_meta_from_analysis_outputs(tmp_path, capsys, two_cohort_results):
    for trial, result in two_cohort_results.items():
        (tmp_path / trial).mkdir()
        result.table.to_csv(tmp_path / trial / "subgroups.csv", index=False)
    status, _, err = _cli(
        ["meta", "--trial", "KATHERINE=KATHERINE", "--trial", "EMILIA=EMILIA/subgroups.csv",
         "--subgroup", "pik3ca", "--out", "m", "--quiet"],
        tmp_path,
        capsys,
    )  # fmt: skip
    assert status == 0, err
    written = pd.read_csv(tmp_path / "m" / "meta.csv")
    direct = st.interaction_meta(two_cohort_results, "pik3ca").table
    assert list(written["trial"]) == ["KATHERINE", "EMILIA"]
    np.testing.assert_allclose(
        written["log_ratio"], direct.set_index("trial").loc[written["trial"], "log_ratio"]
    )


@pytest.mark.parametrize(
    "args",
    [
        ["meta", "--subgroup", "x", "--out", "m"],
        ["meta", "--trial", "A", "--subgroup", "x", "--out", "m"],
        ["meta", "--trial", "A=absent", "--trial", "B=absent2", "--subgroup", "x", "--out", "m"],
        ["meta", "--table", "absent.csv", "--subgroup", "x", "--out", "m"],
        ["meta", "--table", "bad.csv", "--subgroup", "x", "--out", "m"],
        ["meta", "--table", "bad.csv", "--subgroup", "x", "--method", "ML", "--out", "m"],
    ],
)
def test_cli_meta_bad_input(tmp_path, capsys, args):
    (tmp_path / "bad.csv").write_text("trial,level,hr\nA,x,0.5\n")
    status, _, err = _cli(args, tmp_path, capsys)
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("survtdm1: error")


def test_docstring_examples_run():
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module("survtdm1.meta"))
    assert tried > 0 and failures == 0


def test_conf_level_of_the_results_is_used(two_cohort_results):
    # CIs at 90% give the same SEs once read with the 90% quantile
    at_90 = {}
    for trial in two_cohort_results:
        frame = getattr(st.datasets, trial.lower())()
        time, event = ("idfs", "idfs") if trial == "KATHERINE" else ("pfs", "pfs")
        cohort = st.load_cohort(
            frame, arm="arm", treatment="T-DM1",
            control=sorted(set(frame["arm"]) - {"T-DM1"})[0],
            time=f"{time}_months", event=f"{event}_event",
        )  # fmt: skip
        at_90[trial] = st.subgroup_analysis(cohort, [{"column": "pik3ca"}], conf_level=0.9)
    assert at_90["EMILIA"].conf_level == 0.9
    a = st.interaction_meta(two_cohort_results, "pik3ca").table
    b = st.interaction_meta(at_90, "pik3ca").table
    np.testing.assert_allclose(b["se"], a["se"], rtol=1e-6)
    np.testing.assert_allclose(b["log_ratio"], a["log_ratio"], rtol=1e-12)
