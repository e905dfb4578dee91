"""The front door of the subgroup battery, for both endpoints.

:func:`subgroup_analysis` checks the options, reads the subgroup specs and
hands the cohort to the survival battery (:mod:`.survival`) or the binary one
(:mod:`.binary`). A new endpoint is a new module beside those two and one
branch here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import _checks
from ..cohort import TIME_UNITS, Cohort
from ..exceptions import PlanError
from ..levels import SubgroupSpec, as_spec
from .binary import binary_battery
from .common import SubgroupResult, check_columns
from .survival import Settings, survival_battery

# options that mean something for a survival endpoint only, with their defaults
_SURVIVAL_ONLY = {
    "strata": None,
    "landmark": None,
    "rmst_tau": None,
    "risk_times": None,
    "ties": None,
    "conf_type": None,
    "level_strata": False,
    "adjust": None,
    "cluster": None,
    "p_method": None,
    "convention": None,
    "time_unit": None,
}
# the defaults without a convention: R survival's ties, trial practice's KM intervals
_DEFAULTS = {"ties": "efron", "conf_type": "log-log", "p_method": "wald"}


def subgroup_analysis(
    cohort: Cohort,
    subgroups: Sequence[dict | SubgroupSpec | str] = (),
    *,
    strata: Sequence[str] | None = None,
    ties: str | None = None,
    conf_type: str | None = None,
    landmark: float | None = None,
    rmst_tau: float | None = None,
    risk_times: Sequence[float] | None = None,
    conf_level: float = 0.95,
    multiplicity: str = "holm",
    firth: str = "auto",
    endpoint_name: str | None = None,
    level_strata: bool = False,
    adjust: Sequence[str] | None = None,
    cluster: str | None = None,
    p_method: str | None = None,
    convention: str | None = None,
    time_unit: str | None = None,
) -> SubgroupResult:
    """Treatment effect overall and within each subgroup level.

    Parameters
    ----------
    cohort : Cohort
        From :func:`survtdm1.load_cohort`.
    subgroups : list
        Subgroup specs: dicts shaped like a plan's ``[[subgroup]]`` table,
        :class:`~survtdm1.levels.SubgroupSpec` objects, or column names.
    strata : list of str, optional
        Columns for the overall stratified Cox model and log-rank test.
    ties, conf_type : str
        {"efron", "breslow"} (default efron) and the KM intervals {"log-log", "log",
        "plain"} (default log-log), unless a convention gives others.
    landmark, rmst_tau : float, optional
        Landmark time and RMST horizon, in ``time_unit``.
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
        ``note`` starting with "Firth" and ``note_kind`` "firth". Levels with
        fewer than 10 events keep the ordinary estimate and get a note
        (``note_kind`` "small_sample") and a SmallSampleWarning.
    endpoint_name : str, optional
        Display name of the endpoint (e.g. "IDFS") for figures; by default
        taken from the time column when it starts with a usual abbreviation.
    level_strata : bool
        Per-level and interaction models stratified by ``strata`` (default False).
    adjust : list of str, optional
        Covariates in every per-level and interaction model: numeric linear, text as
        indicators (first level in the subgroup order = reference).
    cluster : str, optional
        Cluster ids: robust variance as R ``coxph(..., cluster = id)`` for the CIs,
        p_value, p_interaction_wald and overall (p_interaction stays the LRT).
    p_method : {"wald", "logrank", "lrt"}
        Per-level and overall ``p_value``: Wald (default), log-rank (``survdiff``,
        stratified with ``level_strata``; unadjusted) or LRT of treatment.
    convention : {"r", "tern", "sas"}, optional
        Defaults: "r" = efron, log, wald; "tern" = efron, plain, logrank; "sas" =
        breslow, log-log, wald. ``ties``, ``conf_type``, ``p_method`` given win.
    time_unit : {"days", "weeks", "months", "years"}, optional
        Unit of every time in the options and the result (default: the cohort's); the
        data are converted (a month is 30.4375 days, a year 365.25, a week 7).

    Returns
    -------
    SubgroupResult

    Equivalent R, per level: ``coxph(Surv(t, e) ~ arm, subset = level)``;
    interaction: ``anova(coxph(~ arm + sg), coxph(~ arm * sg))``. With the
    options: ``coxph(Surv(t, e) ~ arm + <adjust> + strata(<strata>), cluster =
    <cluster>)`` per level and ``anova`` between ``~ arm + sg + <adjust> +
    strata()`` and the same plus ``arm:sg``.

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
    if not isinstance(cohort, Cohort):
        kind = type(cohort).__name__
        raise PlanError(f"subgroup_analysis needs a Cohort from survtdm1.load_cohort, not {kind}")
    given = {"strata": strata, "landmark": landmark, "rmst_tau": rmst_tau}
    given |= {"risk_times": risk_times, "ties": ties, "conf_type": conf_type}
    given |= {"p_method": p_method, "adjust": adjust, "level_strata": level_strata}
    given |= {"cluster": cluster, "convention": convention, "time_unit": time_unit}
    settings = _settings(given, conf_level, firth)
    times = _checks.time_list("risk_times", risk_times)
    _checks.choice("multiplicity", multiplicity, _checks.MULTIPLICITY)
    strata = _column_list("strata", strata)
    if settings.level_strata and not strata:
        raise PlanError("level_strata = true needs strata: the columns to stratify by")
    specs = _specs(subgroups)
    model_columns = list(settings.adjust) + [settings.cluster] * (settings.cluster is not None)
    check_columns(cohort, [s.column for s in specs] + (strata or []) + model_columns)
    if cohort.endpoint == "binary":
        return _binary(cohort, specs, given, settings, multiplicity, endpoint_name)
    if settings.time_unit is not None and settings.time_unit != cohort.time_unit:
        cohort = cohort.to_unit(settings.time_unit)
    return survival_battery(
        cohort,
        specs,
        settings,
        strata=strata,
        risk_times=times,
        multiplicity=multiplicity,
        endpoint_name=endpoint_name,
    )


def _binary(cohort, specs, given: dict, settings: Settings, multiplicity, endpoint_name):
    """The binary battery, once no survival-only option is given."""
    asked = [name for name, value in given.items() if _is_given(value, _SURVIVAL_ONLY[name])]
    if asked:
        raise PlanError(
            f"{', '.join(asked)} apply to a survival endpoint, not to the binary "
            f"response {cohort.response!r}"
        )
    return binary_battery(
        cohort,
        specs,
        conf_level=settings.conf_level,
        multiplicity=multiplicity,
        firth=settings.firth,
        endpoint_name=endpoint_name,
    )


def _settings(given: dict, conf_level, firth) -> Settings:
    """The checked options of a survival battery; a convention's defaults yield to
    ``ties``, ``conf_type`` and ``p_method`` given explicitly."""
    defaults = _DEFAULTS
    if given["convention"] is not None:
        convention = _checks.choice("convention", given["convention"], tuple(_checks.CONVENTIONS))
        defaults = _checks.CONVENTIONS[convention]
    resolved = {key: defaults[key] if given[key] is None else given[key] for key in defaults}
    cluster, time_unit = given["cluster"], given["time_unit"]
    if cluster is not None and (not isinstance(cluster, str) or not cluster):
        raise PlanError(f"cluster must be a column name, not {cluster!r}")
    if time_unit is not None:
        _checks.choice("time_unit", time_unit, tuple(TIME_UNITS))
    return Settings(
        ties=_checks.ties(resolved["ties"]),
        conf_type=_checks.choice("conf_type", resolved["conf_type"], _checks.CONF_TYPES),
        conf_level=_checks.conf_level(conf_level),
        landmark=_checks.optional_positive("landmark", given["landmark"]),
        rmst_tau=_checks.optional_positive("rmst_tau", given["rmst_tau"]),
        firth=_checks.choice("firth", firth, _checks.FIRTH_MODES),
        p_method=_checks.choice("p_method", resolved["p_method"], _checks.P_METHODS),
        level_strata=_checks.boolean("level_strata", given["level_strata"]),
        adjust=tuple(_column_list("adjust", given["adjust"]) or ()),
        cluster=cluster,
        time_unit=time_unit,
    )


def _specs(subgroups) -> list[SubgroupSpec]:
    if isinstance(subgroups, str | dict | SubgroupSpec) or not isinstance(
        subgroups, Sequence | tuple | list
    ):
        raise PlanError("subgroups must be a list of specs, e.g. [{'column': 'pik3ca'}]")
    specs = [as_spec(s) for s in subgroups]
    columns = [s.column for s in specs]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise PlanError(f"subgroup column(s) {repeated} listed twice; analyse one split per call")
    return specs


def _column_list(name: str, value) -> list[str] | None:
    """None, or a list of column names (a bare string is one column, never its letters)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise PlanError(f"{name} must be a list of column names, not {value!r}")
    return list(value) or None


def _is_given(value, default) -> bool:
    return value is not None if default is None else value != default
