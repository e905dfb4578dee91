"""Binary endpoints (e.g. pCR): per-level response rates, odds ratios, risk differences.

Per level the odds ratio is that of ``glm(response ~ arm, family = binomial)``
with its Wald CI (``confint.default``) and Wald p; the risk difference has a
Wald CI; each arm's response rate has an exact (Clopper-Pearson) CI.
Interaction tests compare nested logistic models (statsmodels GLM) by
likelihood ratio, as R ``anova(glm0, glm1, test = "LRT")``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .cohort import Cohort
from .firth import firth_logistic
from .stratify import Stratification
from .subgroups import interaction_design

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
    "note",
    "subgroup_label",
    "level_label",
]
NAN = float("nan")


def exact_interval(responders: int, n: int, conf_level: float) -> tuple[float, float]:
    """Clopper-Pearson limits of a proportion, as R ``binom.test(responders, n)$conf.int``."""
    if n == 0:
        return NAN, NAN
    alpha = 1.0 - conf_level
    lower = 0.0 if responders == 0 else stats.beta.ppf(alpha / 2, responders, n - responders + 1)
    upper = (
        1.0 if responders == n else stats.beta.ppf(1 - alpha / 2, responders + 1, n - responders)
    )
    return float(lower), float(upper)


def _firth_row(row: dict, response, treated, conf_level: float, reason: str) -> None:
    """Fill the OR of ``row`` with a Firth-penalised estimate (as R ``logistf``)."""
    fit = firth_logistic(response, treated, conf_level=conf_level)
    if not fit.converged:
        row["note"] = f"{reason}: OR not estimable (Firth fit did not converge)"
        return
    odds_ratio, lower, upper = fit.ratio(1)
    row.update(
        {"or": odds_ratio, "or_lower": lower, "or_upper": upper, "p_value": float(fit.p_value[1])}
    )
    row["note"] = (
        f"Firth-penalised OR ({reason}): profile-likelihood CI, penalised likelihood-ratio p"
    )


def two_by_two(
    response: np.ndarray,
    treated: np.ndarray,
    conf_level: float,
    cohort: Cohort,
    firth: str = "auto",
):
    """Counts, odds ratio and risk difference for one set of rows.

    ``firth``: "auto" uses a Firth-penalised OR where an arm has no or only
    responders, "always" for every level, "never" leaves such ORs empty.
    """
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    n_t = int((treated == 1).sum())
    n_c = int((treated == 0).sum())
    r_t = int(response[treated == 1].sum())
    r_c = int(response[treated == 0].sum())
    row = {
        "n_treatment": n_t,
        "n_control": n_c,
        "responders_treatment": r_t,
        "responders_control": r_c,
        "or": NAN,
        "or_lower": NAN,
        "or_upper": NAN,
        "p_value": NAN,
        "rd": NAN,
        "rd_lower": NAN,
        "rd_upper": NAN,
        "rate_treatment": r_t / n_t if n_t else NAN,
        "rate_control": r_c / n_c if n_c else NAN,
        "note": "",
    }
    row["rate_treatment_lower"], row["rate_treatment_upper"] = exact_interval(r_t, n_t, conf_level)
    row["rate_control_lower"], row["rate_control_upper"] = exact_interval(r_c, n_c, conf_level)
    names = {"t": cohort.treatment_label, "c": cohort.control_label}
    if n_t == 0 or n_c == 0:
        row["note"] = f"no patients in the {names['t'] if n_t == 0 else names['c']} arm"
        return row
    p_t, p_c = r_t / n_t, r_c / n_c
    se_rd = np.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    row.update(rd=p_t - p_c, rd_lower=p_t - p_c - z * se_rd, rd_upper=p_t - p_c + z * se_rd)
    cells = {
        names["t"]: (r_t, n_t - r_t),
        names["c"]: (r_c, n_c - r_c),
    }
    for arm, (responders, others) in cells.items():
        if responders == 0 or others == 0:
            which = "no responders" if responders == 0 else "only responders"
            if firth == "never":
                row["note"] = f"{which} in the {arm} arm: OR not estimable"
            else:
                _firth_row(row, response, treated, conf_level, f"{which} in the {arm} arm")
            return row
    if firth == "always":
        _firth_row(row, response, treated, conf_level, "requested for every level")
        return row
    log_or = np.log(r_t / (n_t - r_t)) - np.log(r_c / (n_c - r_c))
    se = np.sqrt(1 / r_t + 1 / (n_t - r_t) + 1 / r_c + 1 / (n_c - r_c))
    row.update(
        {
            "or": float(np.exp(log_or)),
            "or_lower": float(np.exp(log_or - z * se)),
            "or_upper": float(np.exp(log_or + z * se)),
            "p_value": float(2 * stats.norm.sf(abs(log_or / se))),
        }
    )
    return row


def _logistic(y: np.ndarray, X: np.ndarray):
    """Fit ``glm(y ~ X, binomial)``; None when it fails or separates."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            fit = sm.GLM(y, sm.add_constant(X, has_constant="add"), family=sm.families.Binomial())
            return fit.fit()
        except (np.linalg.LinAlgError, ValueError):
            return None


def _separated(fit) -> bool:
    return fit is None or not np.all(np.isfinite(fit.bse)) or np.any(np.abs(fit.params) > 15)


def _interaction_tests(response, treated, codes, split: Stratification) -> dict:
    out = {"p_interaction": NAN, "p_interaction_wald": NAN, "p_trend": NAN}
    known = codes >= 0
    y, t, level = response[known], treated[known], codes[known]
    main, interactions = interaction_design(t, level)
    df = interactions.shape[1]
    if df == 0:
        return out
    reduced = _logistic(y, main)
    full = _logistic(y, np.column_stack([main, interactions]))
    if reduced is None or full is None:
        return out
    chisq = max(2 * (full.llf - reduced.llf), 0.0)
    out["p_interaction"] = float(stats.chi2.sf(chisq, df))
    if not _separated(full):
        start = 1 + main.shape[1]  # after the constant, treatment and main effects
        idx = np.arange(start, start + df)
        coef = full.params[idx]
        var = full.cov_params()[np.ix_(idx, idx)]
        out["p_interaction_wald"] = float(stats.chi2.sf(coef @ np.linalg.solve(var, coef), df))
    if split.ordered:
        rank = level + 1.0
        trend = _logistic(y, np.column_stack([t, rank, t * rank]))
        if not _separated(trend):
            out["p_trend"] = float(trend.pvalues[3])
    return out


def binary_subgroup_analysis(
    cohort: Cohort,
    specs,
    *,
    conf_level: float,
    multiplicity: str,
    firth: str = "auto",
    endpoint_name: str | None = None,
):
    """The subgroup battery for a binary endpoint; see :func:`subgroup_analysis`."""
    from .subgroups import SubgroupResult, level_table, warn_notes

    response = cohort.responses
    treated = cohort.treated
    levels = level_table(
        cohort,
        specs,
        BINARY_COLUMNS,
        arrange=lambda codes: codes,
        interaction=lambda codes, split: _interaction_tests(response, treated, codes, split),
        level=lambda mask: (
            two_by_two(response[mask], treated[mask], conf_level, cohort, firth),
            None,
        ),
        multiplicity=multiplicity,
    )
    warn_notes(levels.notes, stacklevel=4)
    overall = two_by_two(response, treated, conf_level, cohort, firth)
    return SubgroupResult(
        table=levels.table,
        overall=overall,
        exclusions=pd.DataFrame(list(cohort.excluded) + levels.missing, columns=["reason", "n"]),
        at_risk=pd.DataFrame(columns=["arm", "time", "n_at_risk"]),
        overall_curves={},
        level_curves={},
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        time_unit=cohort.time_unit,
        endpoint="binary",
        risk_times=(),
        conf_level=conf_level,
        warnings=levels.notes,
        endpoint_name=endpoint_name or cohort.response,
    )
