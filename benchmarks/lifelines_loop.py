"""Baselines: the same numbers as survtdm1, from a plain loop of lifelines fits.

This is how the battery is written without survtdm1: one ``CoxPHFitter`` per
subgroup level, two nested fits per interaction test (plus one for the trend
test of ordered levels), ``KaplanMeierFitter`` per level and arm, and the
overall Cox, KM, log-rank and PH test. Every function returns a flat dict of
named estimates, keyed like survtdm1's outputs, so the two can be compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test, proportional_hazard_test
from lifelines.utils import median_survival_times, restricted_mean_survival_time
from scipy import stats

# iterate to the maximum: lifelines stops its damped Newton steps once the relative
# log-likelihood change is below r_precision, short of the maximum by up to 1e-6
# relative in the coefficients; with that rule off it stops on the step norm alone
TIGHT = {"precision": 1e-14, "r_precision": 1e-30, "max_steps": 500}


def _label(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cut_labels(cuts) -> list[str]:
    cuts = [_label(float(c)) for c in cuts]
    middle = [f"{a} to <{b}" for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    return [f"<{cuts[0]}", *middle, f">={cuts[-1]}"]


def levels(frame: pd.DataFrame, spec: dict) -> tuple[list[str], np.ndarray, bool]:
    """Level labels, a code per row (-1 where missing) and whether levels are ordered."""
    values = frame[spec["column"]]
    known = values.notna().to_numpy()
    codes = np.full(len(values), -1)
    if "cutpoints" in spec:
        edges = np.asarray(spec["cutpoints"], dtype=float)
        codes[known] = np.searchsorted(edges, values[known].to_numpy(float), side="right")
        return _cut_labels(spec["cutpoints"]), codes, True
    if "quantiles" in spec:
        x = values[known].to_numpy(float)
        edges = np.quantile(x, spec["quantiles"])
        codes[known] = np.searchsorted(edges, x, side="left")
        n_levels = len(spec["quantiles"]) + 1
        labels = (
            ["<=median", ">median"]
            if spec["quantiles"] == [0.5]
            else [f"Q{k + 1}" for k in range(n_levels)]
        )
        return labels, codes, True
    labels = sorted(values[known].astype(str).unique())
    codes[known] = pd.Categorical(values[known].astype(str), categories=labels).codes
    return labels, codes, False


def _cox(frame: pd.DataFrame, options: dict) -> CoxPHFitter:
    return CoxPHFitter().fit(frame, "time", "event", fit_options=options)


def _km(time, event) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(time, event, alpha=0.05)


def _landmark(kmf: KaplanMeierFitter, t: float) -> float:
    return float(kmf.survival_function_at_times([t]).iloc[0])


def _effect(fitter: CoxPHFitter, column: str = "treated") -> dict:
    summary = fitter.summary.loc[column]
    return {
        "hr": float(summary["exp(coef)"]),
        "hr_lower": float(summary["exp(coef) lower 95%"]),
        "hr_upper": float(summary["exp(coef) upper 95%"]),
        "p_value": float(summary["p"]),
    }


def _level(time, event, treated, landmark, options) -> dict:
    out = _effect(_cox(pd.DataFrame({"time": time, "event": event, "treated": treated}), options))
    for arm, flag in (("treatment", 1), ("control", 0)):
        kmf = _km(time[treated == flag], event[treated == flag])
        out[f"median_{arm}"] = float(kmf.median_survival_time_)
        out[f"landmark_{arm}"] = _landmark(kmf, landmark)
    return out


def _interaction(time, event, treated, codes, ordered, options) -> dict:
    known = codes >= 0
    t, e, z, level = time[known], event[known], treated[known], codes[known]
    frame = pd.DataFrame({"time": t, "event": e, "treated": z})
    dummies = [f"level{k}" for k in range(1, level.max() + 1)]
    for k, name in enumerate(dummies, start=1):
        frame[name] = (level == k).astype(float)
    reduced = _cox(frame, options)
    for name in dummies:
        frame[f"treated:{name}"] = z * frame[name]
    full = _cox(frame, options)
    terms = [f"treated:{name}" for name in dummies]
    chisq = 2.0 * (full.log_likelihood_ - reduced.log_likelihood_)
    coef = full.params_[terms].to_numpy()
    var = full.variance_matrix_.loc[terms, terms].to_numpy()
    out = {
        "p_interaction": float(stats.chi2.sf(chisq, len(terms))),
        "p_interaction_wald": float(stats.chi2.sf(coef @ np.linalg.solve(var, coef), len(terms))),
        "p_trend": np.nan,
    }
    if ordered:
        rank = level + 1.0
        trend = pd.DataFrame(
            {"time": t, "event": e, "treated": z, "rank": rank, "treated:rank": z * rank}
        )
        out["p_trend"] = float(_cox(trend, options).summary.loc["treated:rank", "p"])
    return out


def _arm_summary(time, event, landmark, tau) -> dict:
    kmf = _km(time, event)
    median_ci = median_survival_times(kmf.confidence_interval_)
    rmst, rmst_var = restricted_mean_survival_time(kmf, t=tau, return_variance=True)
    interval = kmf.confidence_interval_survival_function_
    at = interval.index.searchsorted(landmark, side="right") - 1
    return {
        "median": float(kmf.median_survival_time_),
        "median_lower": float(median_ci.iloc[0, 0]),
        "median_upper": float(median_ci.iloc[0, 1]),
        "landmark": _landmark(kmf, landmark),
        "landmark_lower": float(interval.iloc[at, 0]),
        "landmark_upper": float(interval.iloc[at, 1]),
        "rmst": float(rmst),
        "rmst_se": float(np.sqrt(rmst_var)),
    }


def overall(time, event, treated, *, landmark, rmst_tau, options=None, ph_test=True) -> dict:
    """Overall Cox HR, log-rank p, PH test, per-arm KM summaries (keys as summary.json)."""
    frame = pd.DataFrame({"time": time, "event": event, "treated": treated})
    fitter = _cox(frame, options or {})
    out = {f"overall.{k}": v for k, v in _effect(fitter).items()}
    one, zero = treated == 1, treated == 0
    out["overall.p_logrank"] = float(
        logrank_test(time[one], time[zero], event[one], event[zero]).p_value
    )
    if ph_test:
        ph = proportional_hazard_test(fitter, frame, time_transform="km")
        out["overall.p_ph"] = float(ph.p_value[0])
    for arm, rows in (("treatment", one), ("control", zero)):
        summary = _arm_summary(time[rows], event[rows], landmark, rmst_tau)
        out.update({f"overall.{arm}.{k}": v for k, v in summary.items()})
    return out


def battery(frame: pd.DataFrame, subgroups, *, landmark, rmst_tau, options=None) -> dict:
    """W1 in lifelines: every level's HR and KM, every interaction test, the overall part."""
    options = options or {}
    time = frame["time"].to_numpy(float)
    event = frame["event"].to_numpy(int)
    treated = frame["treated"].to_numpy(int)
    out = {}
    for spec in subgroups:
        labels, codes, ordered = levels(frame, spec)
        tests = _interaction(time, event, treated, codes, ordered, options)
        for k, label in enumerate(labels):
            rows = codes == k
            level = _level(time[rows], event[rows], treated[rows], landmark, options)
            level.update(tests)
            out.update({f"{spec['column']}={label}.{key}": v for key, v in level.items()})
    out.update(overall(time, event, treated, landmark=landmark, rmst_tau=rmst_tau, options=options))
    return out
