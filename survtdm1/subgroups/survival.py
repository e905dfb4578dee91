"""The survival battery: per-level Cox and KM, interaction tests, the overall summary.

:func:`survival_battery` composes :mod:`survtdm1.km` and :mod:`survtdm1.cox`
into the table a trial forest plot shows. The rows are sorted by time once;
every subgroup level is a mask over the sorted rows, so no level re-sorts.
The front door, :func:`survtdm1.subgroup_analysis`, checks the options and
calls this module or :mod:`survtdm1.subgroups.binary`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from .. import _forked, cox, km
from .._preload import gc_paused
from ..cohort import Cohort
from ..cox_cells import TimeBlocks
from ..firth import firth_cox
from ..levels import SubgroupSpec, split_levels
from . import fast
from .common import (
    NAN,
    SubgroupResult,
    add_note,
    assemble_table,
    estimable_columns,
    guess_endpoint_name,
    interaction_design,
    iter_subgroups,
    missing_ledger,
    subgroup_cuts,
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
    "df_interaction",
    "note",
    "note_kind",
    "subgroup_label",
    "level_label",
    "level_lower",
    "level_upper",
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


#: From this many rows, the battery's later subgroups and its overall summary are
#: computed in a forked process while this one computes the earlier subgroups
PARALLEL_ROWS = 100_000


# the collector off meanwhile: it would look through everything the session holds (a
# notebook's frames) every few hundred of the battery's short-lived objects
@gc_paused()
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
    """The subgroup battery of a survival endpoint; see :func:`survtdm1.subgroup_analysis`.

    From :data:`PARALLEL_ROWS` rows (on Linux), with subgroups, a forked process
    computes the later subgroups and the overall summary while this one computes
    the earlier ones: the same numbers, in about half the time on two cores.
    """
    model = _model_rows(cohort, settings, strata) if settings.needs_model else None
    battery = _Battery(cohort, settings, model)  # each process sorts the rows itself
    specs = list(specs)
    # the overall summary (KM curves, PH test, at-risk table) weighs about five subgroups
    half = len(specs) - max(0, (len(specs) - 5) // 2)
    first, (second, summary) = _forked.alongside(
        lambda: battery.subgroups(specs[:half]),
        lambda: (battery.subgroups(specs[half:]), battery.overall(strata, risk_times)),
        parallel=bool(specs) and cohort.times.shape[0] >= PARALLEL_ROWS,
        what="the subgroup battery",
        error=RuntimeError,
    )
    table = assemble_table(first.rows + second.rows, SURVIVAL_COLUMNS, multiplicity)
    warn_notes(table, stacklevel=4)
    exclusions = list(cohort.excluded) + first.ledger + second.ledger + summary.exclusions
    return SubgroupResult(
        table=table,
        overall=summary.overall,
        exclusions=pd.DataFrame(exclusions, columns=["reason", "n"]),
        at_risk=summary.at_risk,
        overall_curves=summary.curves,
        level_curves=first.curves | second.curves,
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        time_unit=cohort.time_unit,
        endpoint="survival",
        risk_times=summary.risk_times,
        conf_level=settings.conf_level,
        warnings=table_notes(table),
        endpoint_name=endpoint_name or guess_endpoint_name(cohort.time),
        landmark=settings.landmark,
        rmst_tau=settings.rmst_tau,
        cutpoints=first.cuts | second.cuts,
        settings=settings.provenance(cohort.time_unit),
    )


@dataclass(frozen=True)
class _Rows:
    """The table rows, level curves, missing-value ledger and maxstat cuts of some subgroups."""

    rows: list
    curves: dict
    ledger: list
    cuts: dict


@dataclass(frozen=True)
class _Summary:
    """The overall summary, its curves, its exclusions and the at-risk table."""

    overall: dict
    curves: dict
    exclusions: list
    at_risk: pd.DataFrame
    risk_times: tuple


@dataclass(frozen=True)
class _Battery:
    """What every part of a survival battery shares: the model rows (strata,
    covariates, clusters) and, computed when first used (by each process of a
    battery in two, at the same time), the rows sorted by time with their arms
    and the distinct times."""

    cohort: Cohort
    settings: Settings
    model: _Model | None

    @cached_property
    def arms(self) -> _Arms:
        """The rows sorted by time, with their arms."""
        data = cox.SortedSurvival.from_arrays(self.cohort.times, self.cohort.events)
        return _Arms(data, data.sort_rows(self.cohort.treated))

    @cached_property
    def blocks(self) -> TimeBlocks | None:
        """The distinct times of the sorted rows, where fits come from cell counts."""
        if not _fast_path_applies(self.settings):
            return None
        return TimeBlocks.from_sorted(self.arms.data.time)

    def subgroups(self, specs) -> _Rows:
        """The rows of the subgroups ``specs``, in order."""
        cohort, settings, arms, model = self.cohort, self.settings, self.arms, self.model
        subgroups = list(iter_subgroups(cohort, specs, arrange=arms.data.sort_rows))
        n_levels = [len(subgroup.split.labels) for subgroup in subgroups]
        tables = [None] * len(subgroups)
        if self.blocks is not None:  # every fit and curve from arm x level x time counts
            tables = [
                fast.subgroup_table(self.blocks, arms.event, arms.treated, subgroup.codes, levels)
                for subgroup, levels in zip(subgroups, n_levels, strict=True)
            ]
        fits = fast.level_fits(tables, n_levels, settings.ties) if self.blocks is not None else {}
        rows, curves = [], {}
        for i, (subgroup, counts) in enumerate(zip(subgroups, tables, strict=True)):
            tests = self._tests(subgroup, counts)
            level_fits = [fits.get((i, k)) for k in range(n_levels[i])]
            pieces = [None] * n_levels[i]
            if counts is not None:
                pieces = fast.subgroup_pieces(counts, level_fits, settings)
            for k, level in enumerate(subgroup.levels()):
                values, curves[(subgroup.spec.column, level.label)], _ = _level_row(
                    arms, level.mask, settings, cohort, pieces[k]
                )
                if model is not None:
                    _model_effect(values, model, model.codes(subgroup) == k, settings, cohort)
                _landmark_note(values, settings, cohort)
                rows.append(subgroup.row(level, values, tests))
                add_note(rows[-1], tests["subgroup_note"], tests["subgroup_note_kind"])
        return _Rows(rows, curves, missing_ledger(subgroups), subgroup_cuts(subgroups))

    def _tests(self, subgroup, counts) -> dict:
        """The subgroup's interaction (and trend) tests."""
        settings, ordered = self.settings, subgroup.split.ordered
        if self.model is not None and settings.model_options:
            return _model_interaction_tests(self.model, subgroup, settings)
        if counts is not None:
            return _test_notes(*fast.interaction_tests(counts, ordered, settings.ties), ordered)
        return _interaction_tests(self.arms, subgroup.codes, ordered, settings.ties)

    def overall(self, strata: list[str] | None, risk_times) -> _Summary:
        """The overall summary (stratified by ``strata`` too) and the at-risk table."""
        cohort, settings, arms, model = self.cohort, self.settings, self.arms, self.model
        pieces = counted = None
        if self.blocks is not None:  # the overall fit, curves and tests from counts too
            everyone = np.zeros(arms.time.shape[0], dtype=np.int64)
            whole = fast.subgroup_table(self.blocks, arms.event, arms.treated, everyone, 1)
            fit = fast.level_fits([whole], [1], settings.ties).get((0, 0))
            pieces = fast.subgroup_pieces(whole, [fit], settings)[0]
            counted = fast.overall_tests(whole)
        overall, curves = _overall(arms, settings, cohort, pieces, counted)
        _horizon_notes(overall, curves, settings, cohort)
        exclusions = []
        if model is not None:
            _model_effect(overall, model, np.ones(model.treated.shape[0], bool), settings, cohort)
            exclusions += model.missing
        overall["stratified"] = None
        if strata:
            overall["stratified"], missing = _stratified(arms, cohort, strata, settings)
            exclusions += missing
        times = risk_times if risk_times is not None else default_risk_times(cohort.times)
        return _Summary(overall, curves, exclusions, _at_risk(arms, cohort, times), times)


@dataclass(frozen=True)
class Settings:
    """The checked options of one survival battery."""

    ties: str
    conf_type: str
    conf_level: float
    landmark: float | None
    rmst_tau: float | None
    firth: str = "auto"
    p_method: str = "wald"
    level_strata: bool = False
    adjust: tuple[str, ...] = ()
    cluster: str | None = None
    time_unit: str | None = None

    @property
    def model_options(self) -> bool:
        """Stratified, adjusted or clustered models asked for."""
        return self.level_strata or bool(self.adjust) or self.cluster is not None

    @property
    def needs_model(self) -> bool:
        """Per-level effects other than the default unstratified Wald ones."""
        return self.model_options or self.p_method != "wald"

    def provenance(self, time_unit: str) -> dict:
        """The resolved options, as summary.json's ``provenance.settings``."""
        return {
            "ties": self.ties,
            "conf_type": self.conf_type,
            "p_method": self.p_method,
            "level_strata": self.level_strata,
            "adjust": list(self.adjust),
            "cluster": self.cluster,
            "time_unit": time_unit,
        }


def _fast_path_applies(settings: Settings) -> bool:
    """Whether the battery's KM curves and unadjusted models come from cell counts (:mod:`.fast`).

    Always, today: the option models (strata per level, adjust, cluster) are fitted
    on the rows in their own step whichever path this chooses. The row path is
    kept as the check of the counts path (tests/test_cell_engine.py switches it).
    """
    return True


def _fit_treatment(time, event, treated, ties, strata=None):
    data = cox.SortedSurvival.from_arrays(time, event, strata)
    return cox.cox_fit_sorted(data, data.sort_rows(treated)[:, None], ties=ties)


def _degenerate(n: dict, events: dict, cohort: Cohort) -> tuple[str, str]:
    """(reason, kind) when an arm of the rows has no patients or no events, else ("", "")."""
    names = {"treatment": cohort.treatment_label, "control": cohort.control_label}
    if n["treatment"] == 0 and n["control"] == 0:  # e.g. between tied quantile cuts
        return "no patients in this level", "no_patients"
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
        if pieces is not None:  # computed for all levels at once
            row[f"median_{arm}"] = pieces.medians[arm] if n[arm] else NAN
            row[f"landmark_{arm}"] = pieces.landmarks[arm] if n[arm] else NAN
            continue
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
    main, interactions = interaction_design(treated, level)
    df = interactions.shape[1]
    if sub.event.sum() == 0 or df == 0:
        return _test_notes(out, df, sub.event.sum(), ordered)
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
    return _test_notes(out, df, sub.event.sum(), ordered)


def _horizon_notes(overall: dict, curves: dict, settings: Settings, cohort: Cohort) -> None:
    """Say so where the landmark or RMST horizon lies after an arm's last follow-up.

    R extends the last value of the curve there (``print(survfit, rmean = tau)``);
    the numbers stay as R's, with a note that they rest on no follow-up.
    """
    names = {"treatment": cohort.treatment_label, "control": cohort.control_label}
    for key, horizon in (("landmark", settings.landmark), ("RMST horizon", settings.rmst_tau)):
        if horizon is None:
            continue
        late = [
            names[arm]
            for arm in ("treatment", "control")
            if curves[arm].time.size and horizon > float(curves[arm].time[-1])
        ]
        if late:
            note = (
                f"{key} {horizon:g} after the last follow-up in the {' and '.join(late)} "
                "arm: the curve's last value is carried forward"
            )
            add_note(overall, note, "beyond_follow_up")


def _landmark_note(row: dict, settings: Settings, cohort: Cohort) -> None:
    """Why a landmark cell of an arm with patients is empty: after its last follow-up."""
    if settings.landmark is None:
        return
    names = {"treatment": cohort.treatment_label, "control": cohort.control_label}
    for arm in ("treatment", "control"):
        if row[f"n_{arm}"] and np.isnan(row[f"landmark_{arm}"]):
            note = (
                f"landmark {settings.landmark:g} after the last follow-up in the {names[arm]} "
                "arm: no landmark survival"
            )
            add_note(row, note, "beyond_follow_up")


def _test_notes(out: dict, df: int, events: float, ordered: bool) -> dict:
    """``df_interaction`` and why a test cell of the subgroup is empty (note, kind)."""
    out["df_interaction"] = int(df)
    note, kind = "", ""
    if df == 0:
        note, kind = (
            "interaction not testable: one level, or every level holds one arm",
            "not_testable",
        )
    elif events == 0:
        note, kind = "interaction not testable: no events", "not_testable"
    else:
        empty = [name for name in ("p_interaction_wald", "p_trend") if np.isnan(out[name])]
        if not ordered and "p_trend" in empty:
            empty.remove("p_trend")  # categorical levels have no trend test by definition
        if np.isnan(out["p_interaction"]):
            note, kind = "interaction likelihood-ratio test not computed", "not_testable"
        elif empty:
            tests = " and ".join(
                {"p_interaction_wald": "Wald interaction", "p_trend": "trend"}[n] for n in empty
            )
            note = (
                f"{tests} test not computed: infinite estimate (an arm of a level has no "
                "events); see the likelihood-ratio p"
            )
            kind = "wald_infinite"
    out["subgroup_note"], out["subgroup_note_kind"] = note, kind
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


def _overall(
    arms: _Arms, settings: Settings, cohort: Cohort, pieces=None, counted=None
) -> tuple[dict, dict]:
    """The overall row; ``pieces`` and ``counted`` (:class:`.fast.OverallTests`) from the
    cell counts where computed there."""
    everyone = np.ones(arms.time.shape[0], dtype=bool)
    row, curves, fit = _level_row(arms, everyone, settings, cohort, pieces)
    overall = {key: row[key] for key in COUNT_KEYS + EFFECT_KEYS}
    if counted is None:
        overall["p_logrank"] = km.logrank_test(arms.time, arms.event, arms.treated).p_value
    else:
        overall["p_logrank"] = counted.logrank.p_value
    overall["p_ph"] = NAN
    if fit is not None and fit.converged:
        pooled = None if counted is None else counted.pooled
        overall["p_ph"] = cox.cox_zph(
            arms.data, arms.treated[:, None], fit, ties=settings.ties, pooled=pooled
        )
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
    if not known.any():  # a strata column without a single value: no stratified model
        out["p_logrank"] = NAN
        return out, missing
    fit = _fit_treatment(time, event, treated, settings.ties, keys[known])
    if fit.converged and settings.cluster is not None:
        fit = _robust_stratified(fit, cohort, known, keys, settings)
    if fit.converged:
        hr, lower, upper = fit.hazard_ratio(0, settings.conf_level)
        out.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=float(fit.wald_p()[0]))
    out["p_logrank"] = km.logrank_test(time, event, treated, keys[known]).p_value
    return out, missing


def _robust_stratified(fit, cohort: Cohort, known, keys, settings: Settings) -> cox.CoxFit:
    """The overall stratified fit with the robust variance of ``settings.cluster``."""
    clusters = cohort.data[settings.cluster].astype(str).to_numpy()[known]
    has_cluster = cohort.data[settings.cluster].notna().to_numpy()[known]
    if not has_cluster.all():
        return replace(fit, converged=False)  # no robust variance without every cluster
    data = cox.SortedSurvival.from_arrays(cohort.times[known], cohort.events[known], keys[known])
    X = data.sort_rows(cohort.treated[known])[:, None]
    var = cox.robust_variance(data, X, fit, data.sort_rows(clusters), ties=settings.ties)
    return replace(fit, var=var)


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
    labels, counts = [], []
    for label, flag in ((cohort.treatment_label, 1.0), (cohort.control_label, 0.0)):
        counts.append(np.asarray(km.n_at_risk(arms.time[arms.treated == flag], times)))
        labels += [label] * len(times)
    columns = {
        "arm": np.array(labels, dtype=object),
        "time": np.array(list(times) * 2, dtype=float),
        "n_at_risk": np.concatenate(counts).astype(np.int64),
    }
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------------------
# Per-level and interaction models with strata, covariates and clusters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Model:
    """The rows and columns of the models asked for by level_strata, adjust and cluster.

    The rows complete in those columns, sorted by (stratum, time); ``rows`` maps
    each sorted row to its position in the cohort.
    """

    data: cox.SortedSurvival
    treated: np.ndarray
    covariates: np.ndarray  # (n, q): the adjust columns, text as indicator columns
    cluster: np.ndarray | None
    rows: np.ndarray
    stratified: bool
    missing: list

    def codes(self, subgroup) -> np.ndarray:
        """The subgroup's level codes on the model's rows."""
        return subgroup.split.codes[self.rows]


def _model_rows(cohort: Cohort, settings: Settings, strata: list[str] | None) -> _Model:
    stratified = settings.level_strata
    columns = list(strata or []) * stratified + list(settings.adjust)
    columns += [settings.cluster] * (settings.cluster is not None)
    columns = list(dict.fromkeys(columns))
    frame = cohort.data[columns]
    known = frame.notna().all(axis=1).to_numpy()
    missing = [
        (f"missing {column} (models of the levels and interactions only)", n)
        for column, n in frame.isna().sum().items()
        if n
    ]
    keys = None
    if stratified:
        keys = cohort.data[strata].astype(str).agg("\x1f".join, axis=1).to_numpy()[known]
    data = cox.SortedSurvival.from_arrays(cohort.times[known], cohort.events[known], keys)
    rows = np.flatnonzero(known)[data.order]
    cluster = None
    if settings.cluster is not None:
        cluster = cohort.data[settings.cluster].astype(str).to_numpy()[rows]
    return _Model(
        data=data,
        treated=cohort.treated[rows],
        covariates=_adjust_design(cohort, settings.adjust)[rows],
        cluster=cluster,
        rows=rows,
        stratified=stratified,
        missing=missing,
    )


def _adjust_design(cohort: Cohort, columns: tuple[str, ...]) -> np.ndarray:
    """Numeric columns as they are; text ones as indicators of all levels but the first."""
    parts = [np.zeros((len(cohort.data), 0))]
    for column in columns:
        values = cohort.data[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            parts.append(values.to_numpy(dtype=float)[:, None])
            continue
        split = split_levels(SubgroupSpec(column), values, cohort.source)
        levels = np.arange(1, len(split.labels))
        parts.append((split.codes[:, None] == levels[None, :]).astype(float))
    return np.column_stack(parts)


def _with_strata(model: _Model, mask: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``X`` and, for a stratified model, an indicator column per stratum (for alias checks)."""
    if not model.stratified:
        return X
    stratum = model.data.stratum[mask]
    return np.column_stack([X, stratum[:, None] == np.unique(stratum)[None, :]])


def _model_design(model: _Model, mask: np.ndarray, base: np.ndarray, extra=None) -> np.ndarray:
    """``base``, then the estimable ones of ``extra`` and the adjust columns on ``mask``.

    As R, a column aliased with those before it or with the strata (e.g. a
    covariate level absent from a subgroup level, a subgroup that is a stratum)
    is left out, as its NA coefficient is in R.
    """
    covariates = model.covariates[mask]
    extra = covariates if extra is None else np.column_stack([extra, covariates])
    keep = estimable_columns(_with_strata(model, mask, base), extra)
    return np.column_stack([base, extra[:, keep]])


def _robust(fit: cox.CoxFit, sub, X, model: _Model, mask, ties: str) -> cox.CoxFit:
    """The fit with the robust variance when clusters are given."""
    if model.cluster is None or not fit.converged:
        return fit
    return replace(fit, var=cox.robust_variance(sub, X, fit, model.cluster[mask], ties=ties))


def _model_effect(row: dict, model: _Model, mask, settings: Settings, cohort: Cohort) -> None:
    """Replace the effect of ``row`` by that of the model asked for (as R ``coxph(Surv ~
    arm + <adjust> + strata(<strata>), cluster = <cluster>)`` on the level's rows)."""
    sub, treated = model.data.subset(mask), model.treated[mask]
    n = {"treatment": int(treated.sum()), "control": int((treated == 0).sum())}
    events = {
        "treatment": int(sub.event[treated == 1].sum()),
        "control": int(sub.event[treated == 0].sum()),
    }
    row.update(dict.fromkeys(EFFECT_KEYS, NAN), note="", note_kind="")
    reason, kind = _degenerate(n, events, cohort)
    X = _model_design(model, mask, treated[:, None])
    if kind == "no_patients" or (kind and sum(events.values()) == 0):
        _set_note(row, f"{reason}: HR not estimable", kind)
        return
    if kind:
        _model_firth(row, sub, X, settings, reason)
        if settings.p_method == "logrank":  # the log-rank test exists without an HR
            strata = sub.stratum if model.stratified else None
            row["p_value"] = float(km.logrank_test(sub.time, sub.event, treated, strata).p_value)
            add_note(row, "p_value is the log-rank p", row["note_kind"])
        return
    fit = cox.cox_fit_sorted(sub, X, ties=settings.ties)
    if not fit.converged:
        _model_firth(row, sub, X, settings, "ordinary Cox fit diverged")
        return
    fit = _robust(fit, sub, X, model, mask, settings.ties)
    hr, lower, upper = fit.hazard_ratio(0, settings.conf_level)
    p_value = _p_value(fit, sub, X, model.stratified, settings)
    row.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=p_value)
    if settings.firth == "always":
        _model_firth(row, sub, X, settings, "requested for every level", always=True)
    elif sum(events.values()) < MIN_EVENTS:
        _set_note(row, SMALL_SAMPLE_NOTE, "small_sample")


def _p_value(fit: cox.CoxFit, sub, X, stratified: bool, settings: Settings) -> float:
    """The treatment p of ``p_method``: Wald, log-rank (``survdiff``) or likelihood ratio."""
    if settings.p_method == "logrank":
        strata = sub.stratum if stratified else None
        return float(km.logrank_test(sub.time, sub.event, X[:, 0], strata).p_value)
    if settings.p_method == "lrt":
        if X.shape[1] == 1:  # against the null model
            reduced = replace(fit, loglik=fit.loglik_null)
        else:  # against the model without treatment
            reduced = cox.cox_fit_sorted(sub, X[:, 1:], ties=settings.ties)
        return cox.lr_test(reduced, fit, 1)[1]
    return float(fit.wald_p()[0])


def _model_firth(row: dict, sub, X, settings: Settings, reason: str, always=False) -> None:
    """A Firth-penalised treatment HR of the model (as R ``coxphf``), or none if Firth is off."""
    if settings.firth == "never" and not always:
        if reason == "ordinary Cox fit diverged":
            _set_note(row, "Cox fit did not converge: HR not estimable", "not_converged")
        else:
            _set_note(row, f"{reason}: HR not estimable", "not_estimable")
        return
    fit = firth_cox(sub, X, conf_level=settings.conf_level)
    if not fit.converged:
        _set_note(row, f"{reason}: HR not estimable (Firth fit did not converge)", "not_estimable")
        return
    hr, lower, upper = fit.ratio(0)
    row.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=float(fit.p_value[0]))
    robust = "; model-based, not cluster-robust" if settings.cluster is not None else ""
    _set_note(
        row,
        f"Firth-penalised HR ({reason}): profile-likelihood CI, penalised likelihood-ratio "
        f"p{robust}",
        "firth",
    )


def _model_interaction_tests(model: _Model, subgroup, settings: Settings) -> dict:
    """The interaction tests with the model's strata, covariates and robust variance."""
    out = {"p_interaction": NAN, "p_interaction_wald": NAN, "p_trend": NAN}
    codes = model.codes(subgroup)
    known = codes >= 0
    sub, treated, level = model.data.subset(known), model.treated[known], codes[known]
    main, interactions = interaction_design(treated, level)
    main = _model_design(model, known, main[:, :1], main[:, 1:])
    estimable = estimable_columns(_with_strata(model, known, main), interactions)
    interactions = interactions[:, estimable]
    df = interactions.shape[1]
    if sub.event.sum() == 0 or df == 0:
        return _test_notes(out, df, sub.event.sum(), subgroup.split.ordered)
    ties = settings.ties
    reduced_fit = cox.cox_fit_sorted(sub, main, ties=ties)
    full = np.column_stack([main, interactions])
    init = np.append(reduced_fit.coef, np.zeros(df)) if reduced_fit.converged else None
    full_fit = cox.cox_fit_sorted(sub, full, ties=ties, init=init)
    out["p_interaction"] = cox.lr_test(reduced_fit, full_fit, df)[1]
    if full_fit.converged:
        full_fit = _robust(full_fit, sub, full, model, known, ties)
        terms = np.arange(main.shape[1], main.shape[1] + df)
        out["p_interaction_wald"] = cox.wald_test(full_fit, terms)[1]
    if subgroup.split.ordered:
        rank = level + 1.0
        trend = np.column_stack([treated, treated * rank])
        trend = _model_design(model, known, trend, rank[:, None])
        trend_fit = cox.cox_fit_sorted(sub, trend, ties=ties)
        if trend_fit.converged:
            trend_fit = _robust(trend_fit, sub, trend, model, known, ties)
            out["p_trend"] = float(trend_fit.wald_p()[1])
    return _test_notes(out, df, sub.event.sum(), subgroup.split.ordered)
