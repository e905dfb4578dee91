"""The binary battery (e.g. pCR): per-level response rates, odds ratios, risk differences.

Per level the odds ratio is that of ``glm(response ~ arm, family = binomial)``
with its Wald CI (``confint.default``) and Wald p; the risk difference has a
Wald CI; each arm's response rate has an exact (Clopper-Pearson) CI.
Interaction tests compare nested logistic models (statsmodels GLM) by
likelihood ratio, as R ``anova(glm0, glm1, test = "LRT")``. The estimators
live in :mod:`survtdm1.logistic`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..firth import firth_logistic
from ..logistic import chi2_sf, exact_interval, logistic_fit, separated, two_by_two
from .common import (
    NAN,
    SubgroupResult,
    add_note,
    assemble_table,
    interaction_design,
    iter_subgroups,
    missing_ledger,
    table_notes,
    warn_notes,
)

BINARY_COLUMNS = [
    "subgroup",
    "level",
    "n_treatment",
    "n_control",
    "responders_treatment",
    "responders_control",
    "or",
    "or_lower",
    "or_upper",
    "p_value",
    "p_interaction",
    "n_missing",
    "rd",
    "rd_lower",
    "rd_upper",
    "rate_treatment",
    "rate_control",
    "rate_treatment_lower",
    "rate_treatment_upper",
    "rate_control_lower",
    "rate_control_upper",
    "p_interaction_wald",
    "p_trend",
    "p_interaction_adj",
    "df_interaction",
    "note",
    "note_kind",
    "subgroup_label",
    "level_label",
    "level_lower",
    "level_upper",
]


def level_row(response, treated, conf_level: float, cohort: Cohort, firth: str = "auto") -> dict:
    """Counts, rates, odds ratio and risk difference for one set of rows.

    ``firth``: "auto" uses a Firth-penalised OR where an arm has no or only
    responders, "always" for every level, "never" leaves such ORs empty.
    """
    n_t = int((treated == 1).sum())
    n_c = int((treated == 0).sum())
    r_t = int(response[treated == 1].sum())
    r_c = int(response[treated == 0].sum())
    row = {
        "n_treatment": n_t,
        "n_control": n_c,
        "responders_treatment": r_t,
        "responders_control": r_c,
        **dict.fromkeys(
            ("or", "or_lower", "or_upper", "p_value", "rd", "rd_lower", "rd_upper"), NAN
        ),
        "rate_treatment": r_t / n_t if n_t else NAN,
        "rate_control": r_c / n_c if n_c else NAN,
        "note": "",
        "note_kind": "",
    }
    row["rate_treatment_lower"], row["rate_treatment_upper"] = exact_interval(r_t, n_t, conf_level)
    row["rate_control_lower"], row["rate_control_upper"] = exact_interval(r_c, n_c, conf_level)
    names = {"treatment": cohort.treatment_label, "control": cohort.control_label}
    if n_t == 0 or n_c == 0:
        row["note"] = f"no patients in the {names['treatment' if n_t == 0 else 'control']} arm"
        row["note_kind"] = "no_patients"
        return row
    table = two_by_two(r_t, n_t, r_c, n_c, conf_level)
    row.update(rd=table.rd, rd_lower=table.rd_lower, rd_upper=table.rd_upper)
    if table.empty_cell:
        reason = f"{table.empty_cell} in the {names[table.empty_arm]} arm"
        if firth == "never":
            row["note"], row["note_kind"] = f"{reason}: OR not estimable", "not_estimable"
        else:
            _firth_row(row, response, treated, conf_level, reason)
    elif firth == "always":
        _firth_row(row, response, treated, conf_level, "requested for every level")
    else:
        row.update(
            {
                "or": table.odds_ratio,
                "or_lower": table.or_lower,
                "or_upper": table.or_upper,
                "p_value": table.p_value,
            }
        )
    return row


def _firth_row(row: dict, response, treated, conf_level: float, reason: str) -> None:
    """Fill the OR of ``row`` with a Firth-penalised estimate (as R ``logistf``)."""
    fit = firth_logistic(response, treated, conf_level=conf_level)
    if not fit.converged:
        row["note"] = f"{reason}: OR not estimable (Firth fit did not converge)"
        row["note_kind"] = "not_estimable"
        return
    odds_ratio, lower, upper = fit.ratio(1)
    row.update(
        {"or": odds_ratio, "or_lower": lower, "or_upper": upper, "p_value": float(fit.p_value[1])}
    )
    row["note"] = (
        f"Firth-penalised OR ({reason}): profile-likelihood CI, penalised likelihood-ratio p"
    )
    row["note_kind"] = "firth"


def _interaction_tests(response, treated, codes, ordered: bool) -> dict:
    out = {"p_interaction": NAN, "p_interaction_wald": NAN, "p_trend": NAN}
    known = codes >= 0
    y, t, level = response[known], treated[known], codes[known]
    main, interactions = interaction_design(t, level)
    df = interactions.shape[1]
    out["df_interaction"] = int(df)
    out["subgroup_note"], out["subgroup_note_kind"] = "", ""
    if df == 0:
        out["subgroup_note"] = "interaction not testable: one level, or every level holds one arm"
        out["subgroup_note_kind"] = "not_testable"
        return out
    reduced = logistic_fit(y, main)
    full = logistic_fit(y, np.column_stack([main, interactions]))
    if reduced is None or full is None:
        out["subgroup_note"] = "interaction tests not computed: a logistic fit failed"
        out["subgroup_note_kind"] = "not_testable"
        return out
    chisq = max(2 * (full.llf - reduced.llf), 0.0)
    out["p_interaction"] = float(chi2_sf(chisq, df))
    if not separated(full):
        start = 1 + main.shape[1]  # after the constant, treatment and main effects
        idx = np.arange(start, start + df)
        coef = full.params[idx]
        var = full.cov_params()[np.ix_(idx, idx)]
        out["p_interaction_wald"] = float(chi2_sf(coef @ np.linalg.solve(var, coef), df))
    else:
        out["subgroup_note"] = (
            "Wald interaction test not computed: infinite estimate (an arm of a level has no "
            "or only responders); see the likelihood-ratio p"
        )
        out["subgroup_note_kind"] = "wald_infinite"
    if ordered:
        rank = level + 1.0
        trend = logistic_fit(y, np.column_stack([t, rank, t * rank]))
        if not separated(trend):
            out["p_trend"] = float(trend.pvalues[3])
    return out


def binary_battery(
    cohort: Cohort,
    specs,
    *,
    conf_level: float,
    multiplicity: str,
    firth: str = "auto",
    endpoint_name: str | None = None,
) -> SubgroupResult:
    """The subgroup battery of a binary endpoint; see :func:`survtdm1.subgroup_analysis`."""
    response = cohort.responses
    treated = cohort.treated
    rows = []
    subgroups = list(iter_subgroups(cohort, specs))
    for subgroup in subgroups:
        tests = _interaction_tests(response, treated, subgroup.codes, subgroup.split.ordered)
        for level in subgroup.levels():
            mask = level.mask
            values = level_row(response[mask], treated[mask], conf_level, cohort, firth)
            rows.append(subgroup.row(level, values, tests))
            add_note(rows[-1], tests["subgroup_note"], tests["subgroup_note_kind"])
    table = assemble_table(rows, BINARY_COLUMNS, multiplicity)
    warn_notes(table, stacklevel=4)
    overall = level_row(response, treated, conf_level, cohort, firth)
    exclusions = list(cohort.excluded) + missing_ledger(subgroups)
    return SubgroupResult(
        table=table,
        overall=overall,
        exclusions=pd.DataFrame(exclusions, columns=["reason", "n"]),
        at_risk=pd.DataFrame(columns=["arm", "time", "n_at_risk"]),
        overall_curves={},
        level_curves={},
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        time_unit=cohort.time_unit,
        endpoint="binary",
        risk_times=(),
        conf_level=conf_level,
        warnings=table_notes(table),
        endpoint_name=endpoint_name or cohort.response,
        settings={
            "ties": None,
            "conf_type": None,
            "p_method": "wald",
            "level_strata": False,
            "adjust": [],
            "cluster": None,
            "time_unit": cohort.time_unit,
        },
    )
