"""The [analysis] options against values computed in R (contract, "Analysis options").

Reference: ``tests/reference/expected/options.json``, written by
``Rscript tests/reference/make_options_reference.R`` from the contract's definitions with
plain R survival calls (no survtdm1 code involved):

- per level: ``coxph(Surv(time, event) ~ arm + <adjust> + strata(<strata>), cluster =
  <cluster>, ties = <ties>)``: hr, its CI and p (robust with a cluster); p_value by
  p_method: Wald (``summary``), log-rank (``survdiff``) or likelihood ratio (``anova``
  against the model without arm);
- per subgroup: the LRT between ``~ arm + level + <adjust> + strata()`` and the same plus
  ``arm:level`` (df = ``df_interaction``, the estimable interaction terms), the Wald test
  of those terms (robust with a cluster), and p of ``arm:rank`` for cut points;
- overall: the same model on every row, ``survdiff``, ``cox.zph``, the stratified model
  (robust with a cluster) and per-arm KM summaries with the convention's ``conf_type``;
- conventions "r", "tern", "sas" with and without explicit keys; ``time_unit`` days ->
  months (30.4375 days a month).

Cases: gbsg (strata meno per level, adjust age + size, months), veteran (a text covariate,
celltype, with the first level as reference; lrt), rats (cluster = litter; "sas" and "r"),
diabetic (cluster = the cohort's id column, two eyes per patient; per-level strata eye;
adjust age), lung ("tern", "sas", "r" with explicit keys).

Tolerances: estimates, bounds and p-values 1e-6 relative; counts and df exactly. Not
compared, as in tests/test_battery_reference.py: HRs of levels where an arm has no events
(R has none; ours is empty or Firth with a note) and the Wald interaction p of a subgroup
whose interaction model has an infinite coefficient (R's ``monotone_likelihood``), where ours
is empty and the rows carry a note of kind "wald_infinite".
"""

from __future__ import annotations

import math
import warnings

import pytest
from reference_values import REFERENCE_DIR, assert_same_missing_or_close, expected

import survtdm1 as st
from survtdm1.exceptions import SeparationWarning, SmallSampleWarning

CASES = {case["name"]: case for case in expected("options")["cases"]}
RTOL = 1e-6
EFFECT = ["hr", "hr_lower", "hr_upper", "p_value"]
COUNTS = ["n_treatment", "n_control", "events_treatment", "events_control"]


def _plan(case: dict) -> dict:
    cohort = dict(case["cohort"])
    cohort["path"] = str(REFERENCE_DIR / "data" / cohort.pop("file"))
    analysis = {k: v for k, v in case["analysis"].items() if v is not None}
    return {"cohort": cohort, "analysis": analysis, "subgroup": case["subgroups"]}


def _run(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)
        warnings.simplefilter("ignore", SmallSampleWarning)
        return st.analyze(_plan(CASES[name]))


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    return CASES[request.param], _run(request.param)


def test_overall(case):
    reference, result = case
    overall, ref = result.overall, reference["overall"]
    for key in COUNTS:
        assert overall[key] == ref[key], key
    for key in EFFECT + ["p_logrank", "p_ph"]:
        assert_same_missing_or_close(overall[key], ref[key], rtol=RTOL, what=key)
    if "stratified" in ref:
        for key in EFFECT + ["p_logrank"]:
            got = overall["stratified"][key]
            assert_same_missing_or_close(got, ref["stratified"][key], rtol=RTOL, what=key)
    for arm in ("treatment", "control"):
        for key, value in ref[arm].items():
            got = overall[arm][key]
            assert_same_missing_or_close(got, value, rtol=RTOL, what=f"{arm} {key}")


def test_subgroup_rows(case):
    reference, result = case
    table = result.table.set_index(["subgroup", "level"])
    assert len(table) == len(reference["subgroups_table"])
    for ref in reference["subgroups_table"]:
        row = table.loc[(ref["subgroup"], ref["level"])]
        where = f"{reference['name']} {ref['subgroup']} = {ref['level']}"
        for key in COUNTS + ["df_interaction"]:
            assert row[key] == ref[key], f"{where}: {key}"
        if ref["degenerate"]:
            assert row["note"], where  # empty or Firth, and the row says why
        else:
            for key in EFFECT:
                assert_same_missing_or_close(row[key], ref[key], rtol=RTOL, what=f"{where} {key}")
        for key in ("p_interaction", "p_trend", "median_treatment", "median_control"):
            assert_same_missing_or_close(row[key], ref[key], rtol=RTOL, what=f"{where} {key}")
        if ref["monotone_likelihood"]:
            assert math.isnan(row["p_interaction_wald"]), where
            assert "Wald interaction test not computed: infinite estimate" in row["note"]
        else:
            got = row["p_interaction_wald"]
            assert_same_missing_or_close(got, ref["p_interaction_wald"], rtol=RTOL, what=where)


def test_at_risk_and_settings(case):
    reference, result = case
    settings = result.summary_json()["provenance"]["settings"]
    assert settings == reference["settings"]
    expected_rows = reference["at_risk"]
    if expected_rows:
        at_risk = result.result.at_risk
        assert at_risk["time"].tolist() == pytest.approx([r["time"] for r in expected_rows])
        assert at_risk["n_at_risk"].tolist() == [r["n_at_risk"] for r in expected_rows]
    assert result.result.time_unit == reference["settings"]["time_unit"]
