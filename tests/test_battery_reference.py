"""The whole subgroup battery (``st.analyze(plan)``) against values computed in R.

Reference: ``tests/reference/expected/battery_{gbsg,lung,sim}.json`` for the plans
``tests/reference/plans/{gbsg,lung,sim}.toml``, written by
``Rscript tests/reference/make_reference.R`` (R survival 3.x), which follows the contract's
definitions with plain survival calls, independently of survtdm1:

- per level (contract's labels and order; cut points [a, b), quantiles (a, b] of
  ``quantile(type = 7)`` over the two arms' known values)::

      coxph(Surv(time, event) ~ arm, ties = ties)          # hr, CI, Wald p (not degenerate)
      quantile(survfit(...), 0.5)$quantile                 # median_treatment/control
      summary(survfit(...), times = landmark)$surv         # landmark_treatment/control

- per subgroup, on the rows where it is known, unstratified::

      main <- coxph(Surv ~ arm + factor(level)); full <- coxph(Surv ~ arm * factor(level))
      pchisq(2 * (full$loglik[2] - main$loglik[2]), df = levels - 1)   # p_interaction
      Wald test of the estimable arm:level terms of `full`             # p_interaction_wald
      coxph(Surv ~ arm * rank), p of arm:rank (cut points, quantiles)  # p_trend

- overall: ``coxph(Surv ~ arm)`` (hr, CI, Wald p), ``survdiff`` (p_logrank),
  ``cox.zph(fit)`` global p (p_ph); ``coxph(Surv ~ arm + strata(s))`` and
  ``survdiff(Surv ~ arm + strata(s))`` ("stratified"); per arm ``quantile(fit, .5)``,
  ``summary(fit, times = landmark)`` and ``summary(fit, rmean = tau)$table``; differences
  treatment - control with Wald CIs from the two SEs; at risk = ``sum(time >= t)`` per arm.

Tolerances: every estimate, bound and p-value to 1e-6 relative (``pytest.approx(rel=1e-6)``);
counts exactly; R's NA must be missing ours (NaN, None or an empty cell). Two exceptions,
both where R's own number is not an estimate:

- degenerate levels (an arm with no event, or no patient): R has no ordinary HR; ours must
  be empty with a ``note``, or a Firth estimate whose note starts with "Firth" (contract);
- ``p_interaction_wald`` of a subgroup whose interaction model has an infinite coefficient
  (monotone likelihood; sim's ``ihc``, recorded as ``monotone_likelihood`` in the JSON): the
  Wald statistic at a diverging coefficient is arbitrary, so it is not compared. The LRT
  (``p_interaction``) is well defined (the log-likelihood converges) and is compared.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from reference_values import (
    PLANS,
    REFERENCE_DIR,
    assert_same_missing_or_close,
    expected,
    is_missing,
)

import survtdm1 as st

FIRST_COLUMNS = [
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
COUNTS = ["n_treatment", "n_control", "events_treatment", "events_control", "n_missing"]
HR_COLUMNS = ["hr", "hr_lower", "hr_upper", "p_value"]
NUMBERS = [
    "p_interaction",
    "p_interaction_wald",
    "p_trend",
    "median_treatment",
    "median_control",
    "landmark_treatment",
    "landmark_control",
]
OVERALL_COUNTS = ["n_treatment", "n_control", "events_treatment", "events_control"]


def _plan_path(name: str):
    return REFERENCE_DIR / "plans" / f"{name}.toml"


@pytest.fixture(scope="module", params=PLANS)
def battery(request):
    """(plan name, R reference, survtdm1's AnalysisResult).

    A plan with a degenerate level must warn (SeparationWarning, contract: the row stays
    and says why); any other warning fails the test (the suite runs with -W error).
    """
    name = request.param
    reference = expected(f"battery_{name}")
    if any(row["degenerate"] for row in reference["subgroups"]):
        with pytest.warns(st.SeparationWarning):
            return name, reference, st.analyze(str(_plan_path(name)))
    return name, reference, st.analyze(str(_plan_path(name)))


def _rows(table: pd.DataFrame) -> list[dict]:
    return table.to_dict(orient="records")


def _check_table(name: str, reference: dict, table: pd.DataFrame) -> None:
    rows = _rows(table)
    labels = [(row["subgroup"], row["level"]) for row in rows]
    assert labels == [(row["subgroup"], row["level"]) for row in reference["subgroups"]], name
    monotone = {
        column for column, info in reference["subgroup_info"].items() if info["monotone_likelihood"]
    }
    for ours, theirs in zip(rows, reference["subgroups"], strict=True):
        where = f"{name} {theirs['subgroup']} {theirs['level']!r}"
        for column in COUNTS:
            assert int(ours[column]) == theirs[column], f"{where} {column}"
        if theirs["degenerate"]:
            _check_degenerate(ours, where)
        else:
            for column in HR_COLUMNS:
                assert_same_missing_or_close(ours[column], theirs[column], what=f"{where} {column}")
        for column in NUMBERS:
            if column == "p_interaction_wald" and theirs["subgroup"] in monotone:
                continue
            assert_same_missing_or_close(ours[column], theirs[column], what=f"{where} {column}")


def _check_degenerate(row: dict, where: str) -> None:
    note = row.get("note")
    assert not is_missing(note), f"{where}: a degenerate level needs a note"
    if str(note).startswith("Firth"):
        assert np.isfinite(float(row["hr"])), f"{where}: Firth note without a Firth HR"
        return
    for column in HR_COLUMNS:
        assert is_missing(row[column]), f"{where}: {column} must be empty, is {row[column]!r}"


def _check_overall(name: str, reference: dict, overall: dict) -> None:
    expected_overall = reference["overall"]
    for key in OVERALL_COUNTS:
        assert int(overall[key]) == expected_overall[key], f"{name} overall {key}"
    for key, value in expected_overall.items():
        if key in OVERALL_COUNTS or isinstance(value, dict):
            continue
        assert_same_missing_or_close(overall[key], value, what=f"{name} overall {key}")
    for arm in ("treatment", "control"):
        for key, value in expected_overall[arm].items():
            assert_same_missing_or_close(
                overall[arm][key], value, what=f"{name} overall {arm} {key}"
            )
    if "stratified" in expected_overall:
        ours, theirs = overall["stratified"], expected_overall["stratified"]
        assert list(ours["strata"]) == theirs["strata"]
        for key in ("hr", "hr_lower", "hr_upper", "p_value", "p_logrank"):
            assert_same_missing_or_close(ours[key], theirs[key], what=f"{name} stratified {key}")
    else:
        assert overall.get("stratified") is None, f"{name}: no strata in the plan"


def test_table_matches_r(battery):
    """Rows, labels and order; counts; HRs, CIs, p-values, medians, landmarks."""
    name, reference, result = battery
    _check_table(name, reference, result.table)


def test_table_starts_with_contract_columns(battery):
    _, _, result = battery
    assert list(result.table.columns[: len(FIRST_COLUMNS)]) == FIRST_COLUMNS


def test_levels_are_strings(battery):
    """Labels are text as the contract writes them ("1", never 1 or "1.0")."""
    _, _, result = battery
    assert all(isinstance(level, str) for level in result.table["level"])


def test_overall_matches_r(battery):
    """summary.json's "overall": counts, HR, p-values, PH test, stratified, per-arm KM."""
    name, reference, result = battery
    _check_overall(name, reference, result.overall)


@pytest.mark.parametrize("name", PLANS)
def test_written_files_match_r(name, tmp_path):
    """``survtdm1 analyze PLAN --out DIR``: subgroups.csv, summary.json, at_risk.csv.

    The files carry full precision, so they are held to the same tolerance.
    """
    reference = expected(f"battery_{name}")
    completed = subprocess.run(
        [sys.executable, "-m", "survtdm1", "analyze", str(_plan_path(name)), "--out", str(tmp_path)]
        + ["--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    table = pd.read_csv(
        tmp_path / "subgroups.csv",
        dtype={"subgroup": str, "level": str, "note": str},
        keep_default_na=False,
        na_values=[""],
    )
    assert list(table.columns[: len(FIRST_COLUMNS)]) == FIRST_COLUMNS
    _check_table(name, reference, table)
    summary = json.loads((tmp_path / "summary.json").read_text())
    _check_overall(name, reference, summary["overall"])

    at_risk = pd.read_csv(tmp_path / "at_risk.csv", dtype={"arm": str})
    assert list(at_risk.columns) == ["arm", "time", "n_at_risk"]
    ours = {(row.arm, float(row.time)): int(row.n_at_risk) for row in at_risk.itertuples()}
    theirs = {(row["arm"], float(row["time"])): row["n_at_risk"] for row in reference["at_risk"]}
    assert ours == theirs
