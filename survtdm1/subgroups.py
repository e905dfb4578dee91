"""The subgroup battery: per-level Cox and KM, interaction tests, overall summary.

:func:`subgroup_analysis` composes :mod:`survtdm1.km` and :mod:`survtdm1.cox`
into the table a trial forest plot shows. The rows are sorted by time once;
every subgroup level is a mask over the sorted rows, so no level re-sorts.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import cox, km
from .cohort import Cohort
from .exceptions import PlanError, SeparationWarning, SmallSampleWarning
from .firth import firth_cox
from .multiplicity import MULTIPLICITY, adjust_interaction

if TYPE_CHECKING:
    from matplotlib.figure import Figure
from .stratify import Stratification, SubgroupSpec, as_spec, stratify

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
FIRTH_MODES = ("auto", "always", "never")
MIN_EVENTS = 10
SMALL_SAMPLE_NOTE = f"fewer than {MIN_EVENTS} events: the estimate is imprecise"
COUNT_KEYS = ("n_treatment", "n_control", "events_treatment", "events_control")
EFFECT_KEYS = ("hr", "hr_lower", "hr_upper", "p_value")
NAN = float("nan")


@dataclass(frozen=True)
class SubgroupResult:
    """Result of :func:`subgroup_analysis` (frozen).

    Attributes
    ----------
    table : DataFrame
        One row per subgroup level, columns of ``subgroups.csv`` (see the
        contract): subgroup, level, n_treatment, n_control, events_treatment,
        events_control, hr, hr_lower, hr_upper, p_value, p_interaction,
        n_missing, median_treatment, median_control, landmark_treatment,
        landmark_control, p_interaction_wald, p_trend, p_interaction_adj,
        note, subgroup_label, level_label.
    overall : Mapping
        The keys of ``summary.json``'s "overall" (a read-only mapping).
    exclusions : DataFrame
        Columns ``reason, n``: every row left out, by reason.
    at_risk : DataFrame
        Columns ``arm, time, n_at_risk`` (arm value as written).
    overall_curves : dict
        Kaplan-Meier curves keyed "treatment" and "control".
    level_curves : dict
        ``{(subgroup, level): {"treatment": KMCurve, "control": KMCurve}}``.
    treatment_label, control_label, time_unit, endpoint : str
    risk_times : tuple of float
    conf_level : float
    warnings : tuple of str
    endpoint_name : str or None
        Display name of the endpoint (e.g. "IDFS"), for figures.
    landmark, rmst_tau : float or None
        The landmark time and RMST horizon asked for.
    """

    table: pd.DataFrame
    overall: dict
    exclusions: pd.DataFrame
    at_risk: pd.DataFrame
    overall_curves: dict
    level_curves: dict
    treatment_label: str
    control_label: str
    time_unit: str
    endpoint: str = "survival"
    risk_times: tuple[float, ...] = ()
    conf_level: float = 0.95
    warnings: tuple[str, ...] = field(default=())
    endpoint_name: str | None = None
    landmark: float | None = None
    rmst_tau: float | None = None

    def __post_init__(self):
        # a frozen result: the overall summary is a read-only mapping
        object.__setattr__(self, "overall", _read_only(self.overall))

    def summary(self) -> pd.DataFrame:
        """The subgroup table (a copy)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        o = self.overall
        effect = "or" if self.endpoint == "binary" else "hr"
        head = (
            f"<p><b>{html.escape(self.treatment_label)} vs {html.escape(self.control_label)}</b>: "
            f"{effect.upper()} {o.get(effect, NAN):.3f} "
            f"({o.get(effect + '_lower', NAN):.3f} to {o.get(effect + '_upper', NAN):.3f}), "
            f"p = {o.get('p_value', NAN):.4g}</p>"
        )
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (
            head + self.table.to_html(index=False, na_rep="") + (f"<ul>{notes}</ul>" * bool(notes))
        )

    def plot_forest(self, **kwargs) -> Figure:
        """Forest plot of the table; see :func:`survtdm1.plots.forest.forest_from_result`."""
        from .plots.forest import forest_from_result

        return forest_from_result(self, **kwargs)

    def plot_km(self, **kwargs) -> Figure:
        """KM curves by arm with at-risk table; see :mod:`survtdm1.plots.km`."""
        from .plots.km import km_from_result

        return km_from_result(self, **kwargs)


def _read_only(mapping):
    """A read-only view of a (nested) dict, as the overall summary of a result."""
    if not isinstance(mapping, Mapping):
        return mapping
    return MappingProxyType({key: _read_only(value) for key, value in mapping.items()})


def _options(ties, conf_type, conf_level, landmark, rmst_tau, risk_times):
    if ties not in cox.TIES:
        raise PlanError(f"ties must be one of {', '.join(cox.TIES)}, not {ties!r}")
    if conf_type not in km.CONF_TYPES:
        raise PlanError(f"conf_type must be one of {', '.join(km.CONF_TYPES)}, not {conf_type!r}")
    if not isinstance(conf_level, int | float) or not 0 < conf_level < 1:
        raise PlanError(f"conf_level must lie between 0 and 1, not {conf_level!r}")
    for name, value in (("landmark", landmark), ("rmst_tau", rmst_tau)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise PlanError(f"{name} must be a positive number, not {value!r}")
        if not np.isfinite(value):
            raise PlanError(f"{name} must be a finite number, not {value!r}")
    if risk_times is not None:
        if (
            not isinstance(risk_times, list | tuple | np.ndarray)
            or len(risk_times) == 0
            or not all(isinstance(t, int | float) and not isinstance(t, bool) for t in risk_times)
            or any(t < 0 for t in risk_times)
        ):
            raise PlanError("risk_times must be a non-empty list of non-negative numbers")
        if not np.all(np.isfinite(risk_times)):
            raise PlanError("risk_times must be finite numbers")


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


def subgroup_analysis(
    cohort: Cohort,
    subgroups: Sequence[dict | SubgroupSpec | str] = (),
    *,
    strata: Sequence[str] | None = None,
    ties: str = "efron",
    conf_type: str = "log-log",
    landmark: float | None = None,
    rmst_tau: float | None = None,
    risk_times: Sequence[float] | None = None,
    conf_level: float = 0.95,
    multiplicity: str = "holm",
    firth: str = "auto",
    endpoint_name: str | None = None,
) -> SubgroupResult:
    """Treatment effect overall and within each subgroup level.

    Parameters
    ----------
    cohort : Cohort
        From :func:`survtdm1.load_cohort`.
    subgroups : list
        Subgroup specs: dicts shaped like a plan's ``[[subgroup]]`` table,
        :class:`~survtdm1.stratify.SubgroupSpec` objects, or column names.
    strata : list of str, optional
        Columns for the overall stratified Cox model and log-rank test.
    ties : {"efron", "breslow"}
    conf_type : {"log-log", "log", "plain"}
        Kaplan-Meier confidence intervals.
    landmark, rmst_tau : float, optional
        Landmark time and RMST horizon, in the cohort's time unit.
    risk_times : list of float, optional
        Times of the at-risk table (default: evenly spaced ticks).
    conf_level : float
    multiplicity : {"holm", "fdr_bh", "bonferroni"}
        Adjustment of the interaction p-values across subgroups
        (``p_interaction_adj``), as R ``p.adjust(p, "holm" | "BH" | "bonferroni")``.
    firth : {"auto", "always", "never"}
        Firth-penalised Cox (Breslow ties, profile-likelihood CI, penalised
        likelihood-ratio p, as R ``coxphf``): "auto" only where an arm of a
        level has no events or the ordinary fit diverges; such rows carry a
        ``note`` starting with "Firth". Levels with fewer than 10 events keep
        the ordinary estimate and get a note and a SmallSampleWarning.
    endpoint_name : str, optional
        Display name of the endpoint (e.g. "IDFS") for figures; by default
        taken from the time column when it starts with a usual abbreviation.

    Returns
    -------
    SubgroupResult

    Equivalent R, per level: ``coxph(Surv(t, e) ~ arm, subset = level)``;
    interaction: ``anova(coxph(~ arm + sg), coxph(~ arm * sg))``.

    Examples
    --------
    >>> import survtdm1 as st, pandas as pd
    >>> df = pd.DataFrame({"t": [5, 8, 3, 9, 4, 7], "e": [1, 0, 1, 1, 1, 0],
    ...                    "arm": ["A", "B"] * 3, "x": [1, 1, 2, 2, 1, 2]})
    >>> c = st.load_cohort(df, arm="arm", treatment="A", control="B", time="t", event="e")
    >>> result = st.subgroup_analysis(c, [{"column": "x"}])
    >>> result.table["level"].tolist()
    ['1', '2']
    """
    _options(ties, conf_type, conf_level, landmark, rmst_tau, risk_times)
    if firth not in FIRTH_MODES:
        raise PlanError(f"firth must be one of {', '.join(FIRTH_MODES)}, not {firth!r}")
    if multiplicity not in MULTIPLICITY:
        raise PlanError(
            f"multiplicity must be one of {', '.join(MULTIPLICITY)}, not {multiplicity!r}"
        )
    if isinstance(subgroups, str | dict | SubgroupSpec):
        raise PlanError("subgroups must be a list of specs, e.g. [{'column': 'pik3ca'}]")
    specs = [as_spec(s) for s in subgroups]
    columns = [s.column for s in specs]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise PlanError(f"subgroup column(s) {repeated} listed twice; analyse one split per call")
    _check_columns(cohort, columns + list(strata or []))
    if cohort.endpoint == "binary":
        from .binary import binary_subgroup_analysis

        survival_only = {
            "strata": strata is not None,
            "landmark": landmark is not None,
            "rmst_tau": rmst_tau is not None,
            "risk_times": risk_times is not None,
            "ties": ties != "efron",
            "conf_type": conf_type != "log-log",
        }
        asked = [name for name, given in survival_only.items() if given]
        if asked:
            raise PlanError(
                f"{', '.join(asked)} apply to a survival endpoint, not to the binary "
                f"response {cohort.response!r}"
            )

        return binary_subgroup_analysis(
            cohort,
            specs,
            conf_level=conf_level,
            multiplicity=multiplicity,
            firth=firth,
            endpoint_name=endpoint_name,
        )

    data = cox.SortedSurvival.from_arrays(cohort.times, cohort.events)
    arms = _Arms(data, data.sort_rows(cohort.treated))
    settings = _Settings(ties, conf_type, conf_level, landmark, rmst_tau, firth)
    levels = level_table(
        cohort,
        specs,
        SURVIVAL_COLUMNS,
        arrange=data.sort_rows,
        interaction=lambda codes, split: _interaction_tests(arms, codes, split, ties),
        level=lambda mask: _level_row(arms, mask, settings, cohort)[:2],
        multiplicity=multiplicity,
    )
    warn_notes(levels.notes, stacklevel=3)
    exclusions = list(cohort.excluded) + levels.missing

    overall, overall_curves = _overall(arms, settings, cohort)
    overall["stratified"] = None
    if strata:
        overall["stratified"], missing = _stratified(arms, cohort, list(strata), ties, conf_level)
        exclusions += missing
    times = tuple(risk_times) if risk_times is not None else default_risk_times(cohort.times)
    return SubgroupResult(
        table=levels.table,
        overall=overall,
        exclusions=pd.DataFrame(exclusions, columns=["reason", "n"]),
        at_risk=_at_risk(arms, cohort, times),
        overall_curves=overall_curves,
        level_curves=levels.extras,
        treatment_label=cohort.treatment_label,
        control_label=cohort.control_label,
        time_unit=cohort.time_unit,
        endpoint="survival",
        risk_times=times,
        conf_level=conf_level,
        warnings=levels.notes,
        endpoint_name=endpoint_name or guess_endpoint_name(cohort.time),
        landmark=landmark,
        rmst_tau=rmst_tau,
    )


_ENDPOINTS = ("os", "pfs", "idfs", "dfs", "efs", "rfs", "ttp", "dss", "mfs", "ifs", "bcfi")


def guess_endpoint_name(column: str | None) -> str | None:
    """ "IDFS" for a time column such as ``idfs_months``; None when unsure.

    >>> guess_endpoint_name("pfs_months"), guess_endpoint_name("rfstime")
    ('PFS', 'RFS')
    """
    if not column:
        return None
    head = column.lower().replace("-", "_").split("_")[0]
    for name in sorted(_ENDPOINTS, key=len, reverse=True):
        if head == name or (head.startswith(name) and head[len(name) :] in ("time", "t")):
            return name.upper()
    return None


@dataclass(frozen=True)
class LevelTable:
    """Rows of a battery before the overall analysis (shared by both endpoints).

    ``notes`` are "column = level: note" lines, ``missing`` the exclusion
    ledger rows of the subgroup columns, ``extras`` whatever the level function
    returned beside its row (KM curves), keyed (subgroup, level).
    """

    table: pd.DataFrame
    notes: tuple[str, ...]
    missing: list[tuple[str, int]]
    extras: dict


def level_table(cohort, specs, columns, *, arrange, interaction, level, multiplicity):
    """One row per level of every spec, with its subgroup's interaction tests.

    ``arrange`` puts per-row level codes into the order the masks use;
    ``interaction(codes, split)`` returns the subgroup's test columns;
    ``level(mask)`` returns ``(row, extra)`` for the rows of one level.
    """
    rows, notes, missing, extras = [], [], [], {}
    for spec in specs:
        split = stratify(spec, cohort.data[spec.column], cohort.source)
        codes = arrange(split.codes)
        n_missing = int((codes < 0).sum())
        if n_missing:
            missing.append((f"missing {spec.column} (subgroup {spec.column} only)", n_missing))
        tests = interaction(codes, split)
        for k, (label, display) in enumerate(zip(split.labels, split.display_labels, strict=True)):
            row, extras[(spec.column, label)] = level(codes == k)
            if row["note"]:
                notes.append(f"{spec.column} = {label}: {row['note']}")
            rows.append(
                {
                    "subgroup": spec.column,
                    "level": label,
                    **row,
                    "n_missing": n_missing,
                    **tests,
                    "subgroup_label": spec.name or spec.column,
                    "level_label": display,
                }
            )
    table = pd.DataFrame(rows, columns=columns)
    table["p_interaction_adj"] = adjust_interaction(table, multiplicity)
    return LevelTable(table, tuple(notes), missing, extras)


def warn_notes(notes, stacklevel: int) -> None:
    """Raise each level note as a SmallSampleWarning or a SeparationWarning."""
    for note in notes:
        category = SmallSampleWarning if note.endswith(SMALL_SAMPLE_NOTE) else SeparationWarning
        warnings.warn(note, category, stacklevel=stacklevel + 1)


def _check_columns(cohort: Cohort, columns: list[str]) -> None:
    from .exceptions import InputError

    missing = [c for c in columns if c not in cohort.data.columns]
    if missing:
        raise InputError(f"{cohort.source}: column(s) {missing} not found")


@dataclass(frozen=True)
class _Settings:
    ties: str
    conf_type: str
    conf_level: float
    landmark: float | None
    rmst_tau: float | None
    firth: str = "auto"


def _fit_treatment(time, event, treated, ties, strata=None):
    data = cox.SortedSurvival.from_arrays(time, event, strata)
    return cox.cox_fit_sorted(data, data.sort_rows(treated)[:, None], ties=ties)


def _degenerate_note(n, events, cohort: Cohort) -> str:
    names = {"treatment": cohort.treatment_label, "control": cohort.control_label}
    for arm in ("treatment", "control"):
        if n[arm] == 0:
            return f"no patients in the {names[arm]} arm: HR not estimable"
    empty = [names[arm] for arm in ("treatment", "control") if events[arm] == 0]
    if empty:
        return f"no events in the {' and '.join(empty)} arm: HR not estimable"
    return ""


def _level_row(arms: _Arms, mask: np.ndarray, settings: _Settings, cohort: Cohort):
    """Counts, HR and KM summaries of the rows in ``mask``."""
    if mask.all():  # the whole cohort: reuse the sorted rows and their risk sets
        sub, treated = arms.data, arms.treated
    else:
        sub, treated = arms.data.subset(mask), arms.treated[mask]
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
    row = {
        "n_treatment": n["treatment"],
        "n_control": n["control"],
        "events_treatment": events["treatment"],
        "events_control": events["control"],
        "hr": NAN,
        "hr_lower": NAN,
        "hr_upper": NAN,
        "p_value": NAN,
        "note": _degenerate_note(n, events, cohort),
    }
    fit = None
    separated = bool(row["note"]) and min(n.values()) > 0 and sum(events.values()) > 0
    if not row["note"]:
        fit = cox.cox_fit_sorted(sub, treated[:, None], ties=settings.ties)
        if fit.converged:
            hr, lower, upper = fit.hazard_ratio(0, settings.conf_level)
            row.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=float(fit.wald_p()[0]))
            if settings.firth == "always":
                _firth_row(row, sub, treated, settings, "requested for every level")
            elif sum(events.values()) < MIN_EVENTS:
                row["note"] = SMALL_SAMPLE_NOTE
        else:
            row["note"] = "Cox fit did not converge: HR not estimable"
            separated = True
    if separated and settings.firth != "never":
        reason = row["note"].split(":")[0]
        reason = "ordinary Cox fit diverged" if reason.startswith("Cox fit") else reason
        _firth_row(row, sub, treated, settings, reason)
    for arm in ("treatment", "control"):
        row[f"median_{arm}"] = km.median_survival(curves[arm])[0] if n[arm] else NAN
        row[f"landmark_{arm}"] = (
            km.survival_at(curves[arm], settings.landmark).surv
            if settings.landmark is not None and n[arm]
            else NAN
        )
    return row, curves, fit


def _firth_row(row: dict, sub, treated, settings: _Settings, reason: str) -> None:
    """Replace the HR of ``row`` by a Firth-penalised estimate (as R ``coxphf``)."""
    fit = firth_cox(sub, treated[:, None], conf_level=settings.conf_level)
    if not fit.converged:
        row["note"] = f"{reason}: HR not estimable (Firth fit did not converge)"
        return
    hr, lower, upper = fit.ratio(0)
    row.update(hr=hr, hr_lower=lower, hr_upper=upper, p_value=float(fit.p_value[0]))
    row["note"] = (
        f"Firth-penalised HR ({reason}): profile-likelihood CI, penalised likelihood-ratio p"
    )


def _interaction_tests(arms: _Arms, codes: np.ndarray, split: Stratification, ties: str) -> dict:
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
    if split.ordered:
        rank = level + 1.0
        trend_fit = cox.cox_fit_sorted(
            sub, np.column_stack([treated, rank, treated * rank]), ties=ties
        )
        if trend_fit.converged:
            out["p_trend"] = float(trend_fit.wald_p()[2])
    return out


def interaction_design(treated: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns of the treatment x subgroup models: main effects and interactions.

    ``main`` holds treatment and a dummy per level but the first present one;
    ``interactions`` the treatment x dummy columns that can be estimated: a
    level holding one arm only leaves its term aliased, so it is dropped, as R
    does (NA coefficient), and the test's df counts only the columns kept.
    """
    present = np.unique(level)
    dummies = (level[:, None] == present[None, 1:]).astype(float)
    main = np.column_stack([treated, dummies])
    interactions = treated[:, None] * dummies
    return main, interactions[:, estimable_columns(main, interactions)]


def estimable_columns(base: np.ndarray, extra: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Indices of the columns of ``extra`` not aliased with ``base`` and earlier ones.

    A column is aliased when it is (numerically) a linear combination of the
    columns before it, the intercept included (the Cox likelihood ignores
    constants), which is how R marks a coefficient NA.
    """
    kept = np.column_stack([np.ones(base.shape[0]), base])
    keep = []
    for j in range(extra.shape[1]):
        column = extra[:, j]
        fitted = kept @ np.linalg.lstsq(kept, column, rcond=None)[0]
        if np.linalg.norm(column - fitted) > tol * max(1.0, np.linalg.norm(column)):
            keep.append(j)
            kept = np.column_stack([kept, column])
    return np.array(keep, dtype=int)


def _arm_summary(curve: km.KMCurve, settings: _Settings) -> dict:
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


def _overall(arms: _Arms, settings: _Settings, cohort: Cohort) -> tuple[dict, dict]:
    everyone = np.ones(arms.time.shape[0], dtype=bool)
    row, curves, fit = _level_row(arms, everyone, settings, cohort)
    overall = {key: row[key] for key in COUNT_KEYS + EFFECT_KEYS}
    overall["p_logrank"] = km.logrank_test(arms.time, arms.event, arms.treated).p_value
    overall["p_ph"] = NAN
    if fit is not None and fit.converged:
        overall["p_ph"] = cox.cox_zph(arms.data, arms.treated[:, None], fit, ties=settings.ties)
    overall["note"] = row["note"]
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


def _stratified(arms: _Arms, cohort: Cohort, strata: list[str], ties: str, conf_level: float):
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
    fit = _fit_treatment(time, event, treated, ties, keys[known])
    if fit.converged:
        hr, lower, upper = fit.hazard_ratio(0, conf_level)
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
