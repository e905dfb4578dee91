"""The survival battery: per-level Cox and KM, interaction tests, the overall summary.

:func:`survival_battery` composes :mod:`survtdm1.km` and :mod:`survtdm1.cox`
into the table a trial forest plot shows. The rows are sorted by time once;
every subgroup level is a mask over the sorted rows, so no level re-sorts.
The front door, :func:`survtdm1.subgroup_analysis`, checks the options and
calls this module or :mod:`survtdm1.subgroups.binary`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import cox, km
from ..cohort import Cohort
from ..cox_cells import TimeBlocks
from ..firth import firth_cox
from . import fast
from .common import (
    NAN,
    SubgroupResult,
    assemble_table,
    guess_endpoint_name,
    interaction_design,
    iter_subgroups,
    missing_ledger,
    table_notes,
    warn_notes,
)

SURVIVAL_COLUMNS = [
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
    "median_treatment",
    "median_control",
    "landmark_treatment",
    "landmark_control",
    "p_interaction_wald",
    "p_trend",
    "p_interaction_adj",
    "note",
    "note_kind",
    "subgroup_label",
    "level_label",
]
ARM_KEYS = (
    "median",
    "median_lower",
    "median_upper",
    "landmark",
    "landmark_lower",
    "landmark_upper",
    "landmark_se",
    "rmst",
    "rmst_se",
)
MIN_EVENTS = 10
SMALL_SAMPLE_NOTE = f"fewer than {MIN_EVENTS} events: the estimate is imprecise"
COUNT_KEYS = ("n_treatment", "n_control", "events_treatment", "events_control")
EFFECT_KEYS = ("hr", "hr_lower", "hr_upper", "p_value")


@dataclass(frozen=True)
class _Arms:
    """Sorted arrays shared by every fit of one battery."""

    data: cox.SortedSurvival
    treated: np.ndarray  # 0/1 per sorted row

    @property
    def time(self):
        return self.data.time

    @property
    def event(self):
        return self.data.event


def survival_battery(
    cohort: Cohort,
    specs,
    settings: Settings,
    *,
    strata: list[str] | None,
    risk_times: tuple[float, ...] | None,
    multiplicity: str,
    endpoint_name: str | None,
) -> SubgroupResult:
    """The subgroup battery of a survival endpoint; see :func:`survtdm1.subgroup_analysis`."""
    data = cox.SortedSurvival.from_arrays(cohort.times, cohort.events)
    arms = _Arms(data, data.sort_rows(cohort.treated))
    rows, curves = [], {}
    subgroups = list(iter_subgroups(cohort, specs, arrange=data.sort_rows))
    blocks = TimeBlocks.from_sorted(data.time) if _fast_path_applies(settings) else None
    for subgroup in subgroups:
        if blocks is not None:  # every fit and curve from arm x level x time counts
            table = fast.subgroup_table(
                blocks, data.event, arms.treated, subgroup.codes, len(subgroup.split.labels)
            )
            tests = fast.interaction_tests(table, subgroup.split.ordered, settings.ties)
        else:
            tests = _interaction_tests(arms, subgroup.codes, subgroup.split.ordered, settings.ties)
        for k, level in enumerate(subgroup.levels()):
            pieces = fast.level_pieces(table, k, settings) if blocks is not None else None
            values, curves[(subgroup.spec.column, level.label)], _ = _level_row(
                arms, level.mask, settings, cohort, pieces
            )
            rows.append(subgroup.row(level, values, tests))
    table = assemble_table(rows, SURVIVAL_COLUMNS, multiplicity)
    warn_notes(table, stacklevel=4)
    exclusions = list(cohort.excluded) + missing_ledger(subgroups)

    overall, overall_curves = _overall(arms, settings, cohort)
    overall["stratified"] = None
    if strata:
        overall["stratified"], missing = _stratified(arms, cohort, strata, settings)
        exclusions += missing
    times = risk_times if risk_times is not None else default_risk_times(cohort.times)
    return SubgroupResult(
        table=table,
        overall=overall,
        exclusions=pd.DataFrame(exclusions, columns=["reason", "n"]),
        at_risk=_at_risk(arms, cohort, times),
        overall_curves=overall_curves,
        level_curves=curves,
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        time_unit=cohort.time_unit,
        endpoint="survival",
        risk_times=times,
        conf_level=settings.conf_level,
        warnings=table_notes(table),
        endpoint_name=endpoint_name or guess_endpoint_name(cohort.time),
        landmark=settings.landmark,
        rmst_tau=settings.rmst_tau,
    )


@dataclass(frozen=True)
class Settings:
    """The checked options of one survival battery."""

    ties: str
    conf_type: str
    conf_level: float
    landmark: float | None
    rmst_tau: float | None
    firth: str = "auto"


def _fast_path_applies(settings: Settings) -> bool:
    """Whether every model of the battery has cell-constant covariates (:mod:`.fast`).

    Options that need general design matrices (e.g. covariate adjustment)
    make this false and the battery fits the models on the rows.
    """
    return True


def _fit_treatment(time, event, treated, ties, strata=None):
    data = cox.SortedSurvival.from_arrays(time, event, strata)
    return cox.cox_fit_sorted(data, data.sort_rows(treated)[:, None], ties=ties)


def _degenerate(n: dict, events: dict, cohort: Cohort) -> tuple[str, str]:
    """(reason, kind) when an arm of the rows has no patients or no events, else ("", "")."""
    names = {"treatment": cohort.treatment_label, "control": cohort.control_label}
    for arm in ("treatment", "control"):
        if n[arm] == 0:
            return f"no patients in the {names[arm]} arm", "no_patients"
    empty = [names[arm] for arm in ("treatment", "control") if events[arm] == 0]
    if empty:
        return f"no events in the {' and '.join(empty)} arm", "not_estimable"
    return "", ""


def _arm_counts(sub, treated, settings: Settings):
    n, events, curves = {}, {}, {}
    for arm, flag in (("treatment", 1.0), ("control", 0.0)):
        in_arm = treated == flag
        n[arm] = int(in_arm.sum())
        events[arm] = int(sub.event[in_arm].sum())
        curves[arm] = km.kaplan_meier(
            sub.time[in_arm],
            sub.event[in_arm],
            conf_type=settings.conf_type,
            conf_level=settings.conf_level,
        )
    return n, events, curves


def _level_rows(arms: _Arms, mask: np.ndarray):
    if mask.all():  # the whole cohort: reuse the sorted rows and their risk sets
        return arms.data, arms.treated
    return arms.data.subset(mask), arms.treated[mask]


def _level_row(arms: _Arms, mask: np.ndarray, settings: Settings, cohort: Cohort, pieces=None):
    """Counts, HR and KM summaries of the rows in ``mask``; also their curves and Cox fit.

    ``pieces`` (:class:`.fast.LevelPieces`): counts, curves and fit computed
    from cell counts; the rows are then taken only for a Firth fit.
    """
    if pieces is None:
        sub, treated = _level_rows(arms, mask)
        n, events, curves = _arm_counts(sub, treated, settings)
    else:
        n, events, curves = pieces.n, pieces.events, pieces.curves
    row = {
        "n_treatment": n["treatment"],
        "n_control": n["control"],
        "events_treatment": events["treatment"],
        "events_control": events["control"],
        **dict.fromkeys(("hr", "hr_lower", "hr_upper", "p_value"), NAN),
        "note": "",
        "note_kind": "",
    }
    reason, kind = _degenerate(n, events, cohort)
    fit = None
    if kind == "no_patients" or (kind and sum(events.values()) == 0):
        _set_note(row, f"{reason}: HR not estimable", kind)
    elif kind:  # events in one arm only: the ordinary estimate does not exist
        _firth_or_empty(row, *_level_rows(arms, mask), settings, reason)
    else:
        if pieces is None:
            fit = cox.cox_fit_sorted(sub, treated[:, None], ties=settings.ties)
        else:
            fit = pieces.fit
        if not fit.converged:
            _firth_or_empty(row, *_level_rows(arms, mask), settings, "ordinary Cox fit diverged")
        else:
            hr, lower, upper = fit.hazard_ratio(0, settings.conf_level)
            row.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=float(fit.wald_p()[0]))
            if settings.firth == "always":
                _firth_row(row, *_level_rows(arms, mask), settings, "requested for every level")
            elif sum(events.values()) < MIN_EVENTS:
                _set_note(row, SMALL_SAMPLE_NOTE, "small_sample")
    for arm in ("treatment", "control"):
        row[f"median_{arm}"] = km.median_survival(curves[arm])[0] if n[arm] else NAN
        row[f"landmark_{arm}"] = (
            km.survival_at(curves[arm], settings.landmark).surv
            if settings.landmark is not None and n[arm]
            else NAN
        )
    return row, curves, fit


def _set_note(row: dict, note: str, kind: str) -> None:
    row["note"], row["note_kind"] = note, kind


def _firth_or_empty(row: dict, sub, treated, settings: Settings, reason: str) -> None:
    """Where the ordinary HR does not exist: a Firth estimate, or none if Firth is off."""
    if settings.firth == "never":
        if reason == "ordinary Cox fit diverged":
            _set_note(row, "Cox fit did not converge: HR not estimable", "not_converged")
        else:
            _set_note(row, f"{reason}: HR not estimable", "not_estimable")
        return
    _firth_row(row, sub, treated, settings, reason)


def _firth_row(row: dict, sub, treated, settings: Settings, reason: str) -> None:
    """Replace the HR of ``row`` by a Firth-penalised estimate (as R ``coxphf``)."""
    fit = firth_cox(sub, treated[:, None], conf_level=settings.conf_level)
    if not fit.converged:
        _set_note(row, f"{reason}: HR not estimable (Firth fit did not converge)", "not_estimable")
        return
    hr, lower, upper = fit.ratio(0)
    row.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=float(fit.p_value[0]))
    _set_note(
        row,
        f"Firth-penalised HR ({reason}): profile-likelihood CI, penalised likelihood-ratio p",
        "firth",
    )


def _interaction_tests(arms: _Arms, codes: np.ndarray, ordered: bool, ties: str) -> dict:
    """LRT and Wald tests of treatment x subgroup; trend test for ordered levels."""
    out = {"p_interaction": NAN, "p_interaction_wald": NAN, "p_trend": NAN}
    known = codes >= 0
    sub = arms.data.subset(known)
    treated = arms.treated[known]
    level = codes[known]
    if sub.event.sum() == 0:
        return out
    main, interactions = interaction_design(treated, level)
    df = interactions.shape[1]
    if df == 0:
        return out
    # the three fits share ``sub`` and so its risk sets; the full model starts
    # from the reduced one (its interaction terms at zero)
    reduced_fit = cox.cox_fit_sorted(sub, main, ties=ties)
    full_fit = cox.cox_fit_sorted(
        sub,
        np.column_stack([main, interactions]),
        ties=ties,
        init=np.append(reduced_fit.coef, np.zeros(df)) if reduced_fit.converged else None,
    )
    out["p_interaction"] = cox.lr_test(reduced_fit, full_fit, df)[1]
    if full_fit.converged:
        terms = np.arange(main.shape[1], main.shape[1] + df)
        out["p_interaction_wald"] = cox.wald_test(full_fit, terms)[1]
    if ordered:
        rank = level + 1.0
        trend_fit = cox.cox_fit_sorted(
            sub, np.column_stack([treated, rank, treated * rank]), ties=ties
        )
        if trend_fit.converged:
            out["p_trend"] = float(trend_fit.wald_p()[2])
    return out


def _arm_summary(curve: km.KMCurve, settings: Settings) -> dict:
    out = dict.fromkeys(ARM_KEYS)
    if curve.time.size == 0:
        return out
    median, lower, upper = km.median_survival(curve)
    out.update(median=median, median_lower=lower, median_upper=upper)
    if settings.landmark is not None:
        point = km.survival_at(curve, settings.landmark)
        out.update(
            landmark=point.surv,
            landmark_lower=point.lower,
            landmark_upper=point.upper,
            landmark_se=point.std_err,
        )
    if settings.rmst_tau is not None:
        out["rmst"], out["rmst_se"] = km.restricted_mean(curve, settings.rmst_tau)
    return out


def _difference(treatment: dict, control: dict, key: str, se_key: str, conf_level: float):
    a, b = treatment.get(key), control.get(key)
    sa, sb = treatment.get(se_key), control.get(se_key)
    if a is None or b is None or sa is None or sb is None:
        return None, None, None
    return km.difference_ci(a, sa, b, sb, conf_level)


def _overall(arms: _Arms, settings: Settings, cohort: Cohort) -> tuple[dict, dict]:
    everyone = np.ones(arms.time.shape[0], dtype=bool)
    row, curves, fit = _level_row(arms, everyone, settings, cohort)
    overall = {key: row[key] for key in COUNT_KEYS + EFFECT_KEYS}
    overall["p_logrank"] = km.logrank_test(arms.time, arms.event, arms.treated).p_value
    overall["p_ph"] = NAN
    if fit is not None and fit.converged:
        overall["p_ph"] = cox.cox_zph(arms.data, arms.treated[:, None], fit, ties=settings.ties)
    overall["note"], overall["note_kind"] = row["note"], row["note_kind"]
    overall["treatment"] = _arm_summary(curves["treatment"], settings)
    overall["control"] = _arm_summary(curves["control"], settings)
    for name, se_key in (("landmark", "landmark_se"), ("rmst", "rmst_se")):
        diff, lower, upper = _difference(
            overall["treatment"], overall["control"], name, se_key, settings.conf_level
        )
        overall[f"{name}_difference"] = diff
        overall[f"{name}_difference_lower"] = lower
        overall[f"{name}_difference_upper"] = upper
    return overall, curves


def _stratified(arms: _Arms, cohort: Cohort, strata: list[str], settings: Settings):
    frame = cohort.data[strata]
    known = frame.notna().all(axis=1).to_numpy()
    missing = [
        (f"missing {column} (stratified model only)", int(frame[column].isna().sum()))
        for column in strata
        if frame[column].isna().any()
    ]
    keys = frame.astype(str).agg("\x1f".join, axis=1).to_numpy()
    time, event, treated = cohort.times[known], cohort.events[known], cohort.treated[known]
    out = {"strata": strata, "hr": NAN, "hr_lower": NAN, "hr_upper": NAN, "p_value": NAN}
    fit = _fit_treatment(time, event, treated, settings.ties, keys[known])
    if fit.converged:
        hr, lower, upper = fit.hazard_ratio(0, settings.conf_level)
        out.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=float(fit.wald_p()[0]))
    out["p_logrank"] = km.logrank_test(time, event, treated, keys[known]).p_value
    return out, missing


def default_risk_times(time: np.ndarray) -> tuple[float, ...]:
    """About six evenly spaced 'nice' times from 0 to the last follow-up."""
    top = float(np.max(time)) if len(time) else 0.0
    if top <= 0:
        return (0.0,)
    raw = top / 6.0
    magnitude = 10 ** np.floor(np.log10(raw))
    step = min(m * magnitude for m in (1, 2, 2.5, 3, 5, 6, 10) if m * magnitude >= raw)
    count = int(np.floor(top / step + 1e-9))
    return tuple(float(step * k) for k in range(count + 1))


def _at_risk(arms: _Arms, cohort: Cohort, times) -> pd.DataFrame:
    rows = []
    for label, flag in ((cohort.treatment_label, 1.0), (cohort.control_label, 0.0)):
        counts = km.n_at_risk(arms.time[arms.treated == flag], times)
        rows += [(label, t, int(c)) for t, c in zip(times, counts, strict=True)]
    return pd.DataFrame(rows, columns=["arm", "time", "n_at_risk"])
