"""Binary endpoints against R glm (tests/reference/make_binary_reference.R).

Reference: ``glm(pcr ~ arm, family = binomial)`` per level with
``confint.default`` Wald limits; per-arm rates with ``binom.test`` exact
limits; interaction by ``anova(glm(~ arm + g), glm(~ arm * g), test = "LRT")``
and the Wald test of the interaction terms.
Tolerances: counts exact; OR, limits, risk differences and p-values 1e-6
relative; the LRT of a subgroup with a separated level 1e-4 relative (both
fits stop near the supremum of the likelihood).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import survtdm1 as st
from survtdm1.exceptions import SeparationWarning

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def expected():
    return json.loads((REFERENCE / "expected" / "binary_battery.json").read_text())


@pytest.fixture(scope="module")
def cohort():
    return st.load_cohort(
        REFERENCE / "data" / "binary_cohort.csv",
        arm="arm",
        treatment="T-DM1+P",
        control="TCH+P",
        response="pcr",
        id="patient_id",
    )


@pytest.fixture(scope="module")
def result(cohort):
    specs = [
        {"column": "pik3ca"},
        {"column": "her2_mrna", "quantiles": [0.5]},
        {"column": "grade"},
        {"column": "site"},  # level "west" holds one arm: its interaction term is aliased
    ]
    with pytest.warns(SeparationWarning) as caught:
        result = st.subgroup_analysis(cohort, specs)
    messages = {str(w.message).split(":")[0]: str(w.message) for w in caught}
    # grade 4 (Firth) and site west (no patients in an arm) for their rows; every grade
    # row for the Wald interaction test, which an infinite estimate leaves empty
    assert sorted(messages) == ["grade = 1", "grade = 2", "grade = 3", "grade = 4", "site = west"]
    assert "Firth-penalised OR (only responders" in messages["grade = 4"]
    assert "Wald interaction test not computed" in messages["grade = 1"]
    return result


def _close(ours, theirs, rel=1e-6):
    if theirs is None:
        return ours is None or math.isnan(ours)
    return ours == pytest.approx(theirs, rel=rel)


def test_rows_match_r(result, expected):
    table = result.table
    assert list(table.columns[:15]) == [
        "subgroup", "level", "n_treatment", "n_control", "responders_treatment",
        "responders_control", "or", "or_lower", "or_upper", "p_value", "p_interaction",
        "n_missing", "rd", "rd_lower", "rd_upper",
    ]  # fmt: skip
    assert [(r["subgroup"], r["level"]) for r in expected["rows"]] == list(
        zip(table["subgroup"], table["level"], strict=True)
    )
    for (_, ours), theirs in zip(table.iterrows(), expected["rows"], strict=True):
        for key in ("n_treatment", "n_control", "responders_treatment", "responders_control"):
            assert ours[key] == theirs[key], key
        assert ours["n_missing"] == theirs["n_missing"]
        for key in (
            "rd", "rd_lower", "rd_upper", "rate_treatment_lower", "rate_treatment_upper",
            "rate_control_lower", "rate_control_upper",
        ):  # fmt: skip
            assert _close(ours[key], theirs[key]), (ours["subgroup"], ours["level"], key)
        if theirs["degenerate"] and ours["n_control"] == 0:
            assert ours["note"] == "no patients in the TCH+P arm"
        elif theirs["degenerate"]:  # Firth fallback; its numbers are checked in test_firth.py
            assert ours["note"].startswith("Firth-penalised OR (only responders")
            assert ours["or_lower"] < ours["or"] < ours["or_upper"]
        else:
            for key in ("or", "or_lower", "or_upper", "p_value"):
                assert _close(ours[key], theirs[key]), (ours["subgroup"], ours["level"], key)
        rel = 1e-4 if ours["subgroup"] == "grade" else 1e-6
        assert _close(ours["p_interaction"], theirs["p_interaction"], rel), ours["subgroup"]
        assert _close(ours["p_interaction_wald"], theirs["p_interaction_wald"])
        # a row's own note where it is degenerate; otherwise at most the subgroup's note on
        # its Wald interaction test (empty at grade's infinite interaction estimate)
        assert (ours["note_kind"] not in ("", "wald_infinite")) == theirs["degenerate"]
        assert (ours["note_kind"] == "wald_infinite") == (
            not theirs["degenerate"] and math.isnan(ours["p_interaction_wald"])
        )


def test_overall_matches_r(result, expected):
    for key, value in expected["overall"].items():
        if key != "degenerate":
            assert _close(result.overall[key], value), key


def test_firth_never_leaves_separated_levels_empty(cohort):
    with pytest.warns(SeparationWarning):
        result = st.subgroup_analysis(cohort, [{"column": "grade"}], firth="never")
    row = result.table.set_index("level").loc["4"]
    assert math.isnan(row["or"])
    assert row["note"].startswith("only responders in the T-DM1+P arm: OR not estimable;")


def test_survival_options_are_refused_for_a_binary_endpoint(cohort):
    for option in ({"strata": ["site"]}, {"landmark": 12}, {"ties": "breslow"}):
        with pytest.raises(st.PlanError, match="survival endpoint"):
            st.subgroup_analysis(cohort, [], **option)
