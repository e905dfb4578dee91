"""EMILIA: T-DM1 vs lapatinib + capecitabine (PFS, OS, HER2 mRNA and PIK3CA subgroups)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .calibration import (
    DEFAULT_SEEDS,
    EXPRESSION_SCALE,
    MARKER_DECIMALS,
    Draws,
    Outcome,
    arm_copula,
    assemble,
    bisect,
    cell_uniforms,
    censoring_times,
    copula_score,
    cox_hr,
    expression_values,
    fit_simplex,
    grid_search,
    km_median,
    make_outcome,
    post_event_survival,
    stratified_uniforms,
    top_mask,
    weibull_times,
)

_EMILIA_ARMS = ("T-DM1", "Lapatinib+Capecitabine")
_EMILIA_COLUMNS = (
    "arm",
    "pfs_months",
    "pfs_event",
    "os_months",
    "os_event",
    "region",
    "prior_chemo_lines",
    "visceral",
    "her2_mrna",
    "pik3ca",
    "egfr",
    "her3",
    "age",
)
_EMILIA_N = {True: 495, False: 496}
# HER2 mRNA class per arm (published subgroup sizes; "na" = not assessed).
_EMILIA_HER2_CLASS = {
    True: {"low": 230, "high": 197, "na": 68},
    False: {"low": 204, "high": 235, "na": 57},
}
_EMILIA_PIK3CA = {True: {"mutated": 40, "wild-type": 93}, False: {"mutated": 39, "wild-type": 87}}
_EMILIA_ACCRUAL, _EMILIA_MIN_FOLLOW_UP, _EMILIA_OS_EXTRA_FOLLOW_UP = 32.0, 2.5, 6.5
_EMILIA_OS_DROPOUT = 0.002  # loss to follow-up for OS, per month (assumption)
_EMILIA_TARGETS = {
    "pfs_median": {True: 9.6, False: 6.4},
    "pfs_events": {True: 265, False: 304},
    "pfs_hr": 0.65,
    # subgroup: (median T-DM1, median L+C, HR)
    "pfs_her2": {"low": (8.2, 6.4, 0.64), "high": (10.6, 6.9, 0.65)},
    "pfs_pik3ca": {"mutated": (10.9, 4.3, 0.45), "wild-type": (9.8, 6.4, 0.74)},
    "os_median": {True: 30.9, False: 25.1},
    "os_deaths": {True: 149, False: 182},
    "os_hr": 0.68,
    "os_median_control_pik3ca": {"mutated": 17.3, "wild-type": 27.8},
}


@dataclass(frozen=True)
class _EmiliaDraws(Draws):
    """The random numbers an EMILIA cohort draws beyond those of :class:`Draws`."""

    her2_class: np.ndarray
    u_post_progression: np.ndarray
    u_pik3ca: dict[tuple[bool, str], np.ndarray]
    u_her2: np.ndarray


def _emilia_draws(seed: int) -> _EmiliaDraws:
    rng = np.random.default_rng(seed)
    treated = np.repeat([True, False], [_EMILIA_N[True], _EMILIA_N[False]])
    her2_class = np.concatenate(
        [rng.permutation(np.repeat(list(c), list(c.values()))) for c in _EMILIA_HER2_CLASS.values()]
    )
    cells = np.char.add(np.where(treated, "T-", "C-"), her2_class.astype(str))
    n = len(treated)
    names = ("her2", "pik3ca", "egfr", "her3", "region", "lines", "visceral")
    return _EmiliaDraws(
        treated=treated,
        her2_class=her2_class.astype(object),
        u_event=cell_uniforms(rng, cells),
        entry=cell_uniforms(rng, treated),
        dropout=rng.uniform(size=n),
        u_post_progression=rng.uniform(size=n),
        u_pik3ca={
            (arm, level): stratified_uniforms(rng, k)
            for arm, counts in _EMILIA_PIK3CA.items()
            for level, k in counts.items()
        },
        u_her2=rng.uniform(size=n),
        noise={name: rng.standard_normal(n) for name in names},
        age=np.clip(np.round(rng.normal(53.0, 11.0, size=n)), 25, 84),
        order=rng.permutation(n),
    )


@dataclass
class _EmiliaPfsCurves:
    """Weibull PFS curves of the arm x HER2-class cells and drop-out by arm.

    Within a class both arms share the Weibull shape (proportional hazards).
    Drop-out differs between the arms (as discontinuation for toxicity and
    censoring without independently confirmed progression did in the trial);
    it sets the event counts without moving the Kaplan-Meier curves.
    """

    median: dict[tuple[bool, str], float]
    class_shape: dict[str, float]
    dropout_rate: dict[bool, float]


def _emilia_pfs(draws: _EmiliaDraws, her2_class: np.ndarray, curves: _EmiliaPfsCurves) -> Outcome:
    keys = zip(draws.treated.tolist(), her2_class.tolist(), strict=True)
    median = np.array([curves.median[key] for key in keys])
    shape = np.array([curves.class_shape[c] for c in her2_class.tolist()])
    censor = np.empty(len(median))
    for arm, rate in curves.dropout_rate.items():
        rows = draws.treated == arm
        censor[rows] = censoring_times(
            draws.entry[rows],
            draws.dropout[rows],
            _EMILIA_ACCRUAL,
            _EMILIA_MIN_FOLLOW_UP,
            rate,
            ramp_up=True,
        )
    return make_outcome(weibull_times(draws.u_event, shape, median), censor)


def _calibrate_emilia_pfs(draws: _EmiliaDraws, her2_class: np.ndarray) -> Outcome:
    """Tune the PFS cell curves and drop-out to the published PFS figures.

    Per HER2 class: the shared shape to the class HR, the cell medians to the
    class medians; the not-assessed cells to the arm medians; the drop-out rate
    of each arm to its event count.
    """
    targets, treated = _EMILIA_TARGETS, draws.treated
    curves = _EmiliaPfsCurves(
        median={
            (arm, c): targets["pfs_median"][arm]
            for arm in (True, False)
            for c in ("low", "high", "na")
        },
        class_shape={"low": 1.5, "high": 1.0, "na": 1.2},
        dropout_rate={True: 0.01, False: 0.01},
    )

    def tuned(rows: np.ndarray, kind: str, setter: Callable[[float], None]) -> Callable:
        def evaluate(value: float) -> float:
            setter(value)
            outcome = _emilia_pfs(draws, her2_class, curves)
            time, event = outcome.time[rows], outcome.event[rows]
            if kind == "median":
                return km_median(time, event)
            if kind == "hr":
                return cox_hr(time, event, treated[rows])
            return float(event.sum())

        return evaluate

    shift = {True: 0.0, False: 0.0}

    def shifted(arm: bool, value: float) -> None:
        """Move the arm's class medians by ``value`` months and its not-assessed cell by 4x."""
        for level, medians in targets["pfs_her2"].items():
            median = medians[0 if arm else 1]
            curves.median[arm, level] *= (median + value) / (median + shift[arm])
        curves.median[arm, "na"] = targets["pfs_median"][arm] + 4.0 * value
        shift[arm] = value

    for _ in range(3):
        for level, (median_t, median_c, hr) in targets["pfs_her2"].items():
            rows = her2_class == level
            curves.class_shape[level] = bisect(
                tuned(rows, "hr", lambda v, c=level: curves.class_shape.__setitem__(c, v)),
                hr,
                0.3,
                4.0,
                20,
            )
            for arm, median in ((True, median_t + shift[True]), (False, median_c + shift[False])):
                setter = lambda v, k=(arm, level): curves.median.__setitem__(k, v)  # noqa: E731
                curves.median[arm, level] = bisect(
                    tuned(rows & (treated == arm), "median", setter),
                    median,
                    0.5 * median,
                    2 * median,
                    20,
                )
        for arm, median in targets["pfs_median"].items():
            setter = lambda v, a=arm: shifted(a, v)  # noqa: E731
            shifted(arm, bisect(tuned(treated == arm, "median", setter), median, -0.4, 0.4, 20))
            setter = lambda v, a=arm: curves.dropout_rate.__setitem__(a, v)  # noqa: E731
            curves.dropout_rate[arm] = bisect(
                tuned(treated == arm, "events", setter), targets["pfs_events"][arm], 0.0, 0.2, 20
            )
    return _emilia_pfs(draws, her2_class, _polish_emilia_pfs(draws, her2_class, curves))


_EMILIA_CELLS = tuple((arm, c) for arm in (True, False) for c in ("low", "high", "na"))


def _arm_errors(
    outcome: Outcome,
    treated: np.ndarray,
    hr: float,
    medians: dict[bool, float],
    events: dict[bool, int],
) -> list[float]:
    """Errors of the overall HR and of each arm's median and event count, in tolerances.

    Tolerances: 0.04 on the HR, 0.6 months on a median, 5% of an event count.
    """
    errors = [(cox_hr(outcome.time, outcome.event, treated) - hr) / 0.04]
    for arm in (True, False):
        rows = treated == arm
        median = km_median(outcome.time[rows], outcome.event[rows])
        errors.append((median - medians[arm]) / 0.6)
        count = events[arm]
        errors.append((outcome.event[rows].sum() - count) / (0.05 * count))
    return errors


def _subgroup_errors(
    outcome: Outcome,
    treated: np.ndarray,
    groups: np.ndarray,
    targets: dict[str, tuple[float, float, float]],
) -> list[float]:
    """Errors of each subgroup's HR and arm medians, in tolerances (0.08 and 0.6 months).

    ``targets`` maps a level of ``groups`` to (median T-DM1, median L+C, HR).
    """
    errors = []
    for level, (median_t, median_c, hr) in targets.items():
        rows = groups == level
        errors.append((cox_hr(outcome.time[rows], outcome.event[rows], treated[rows]) - hr) / 0.08)
        for arm, median in ((True, median_t), (False, median_c)):
            cell = rows & (treated == arm)
            errors.append((km_median(outcome.time[cell], outcome.event[cell]) - median) / 0.6)
    return errors


def _polish_emilia_pfs(
    draws: _EmiliaDraws, her2_class: np.ndarray, curves: _EmiliaPfsCurves
) -> _EmiliaPfsCurves:
    """Joint simplex search over all PFS curve parameters, from the tuned start.

    Minimises the squared errors of every PFS target (arm and HER2-class
    medians, HRs and event counts), each in units of its tolerance.
    """
    targets, treated = _EMILIA_TARGETS, draws.treated

    def unpack(parameters: np.ndarray) -> _EmiliaPfsCurves:
        return _EmiliaPfsCurves(
            median=dict(zip(_EMILIA_CELLS, np.exp(parameters[:6]), strict=True)),
            class_shape={"low": np.exp(parameters[6]), "high": np.exp(parameters[7]), "na": 1.2},
            dropout_rate={True: abs(parameters[8]), False: abs(parameters[9])},
        )

    def residuals(parameters: np.ndarray) -> np.ndarray:
        pfs = _emilia_pfs(draws, her2_class, unpack(parameters))
        errors = _arm_errors(
            pfs, treated, targets["pfs_hr"], targets["pfs_median"], targets["pfs_events"]
        )
        return np.array(errors + _subgroup_errors(pfs, treated, her2_class, targets["pfs_her2"]))

    start = np.concatenate(
        [
            np.log([curves.median[cell] for cell in _EMILIA_CELLS]),
            np.log([curves.class_shape["low"], curves.class_shape["high"]]),
            [curves.dropout_rate[True], curves.dropout_rate[False]],
        ]
    )
    return unpack(fit_simplex(residuals, start, step=0.05, evaluations=1500))


def _match_quantiles(
    pool_times: np.ndarray, available: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Indices of pool patients whose latent times are nearest to ``targets``, each used once."""
    order = np.argsort(pool_times, kind="stable")
    free = available[order].copy()
    sorted_times = pool_times[order]
    chosen = []
    for target in np.sort(targets):
        position = int(np.searchsorted(sorted_times, target))
        below = next((i for i in range(position - 1, -1, -1) if free[i]), None)
        above = next((i for i in range(position, len(free)) if free[i]), None)
        candidates = [i for i in (below, above) if i is not None]
        best = min(candidates, key=lambda i: abs(sorted_times[i] - target))
        free[best] = False
        chosen.append(order[best])
    return np.array(chosen, dtype=int)


def _emilia_pik3ca(draws: _EmiliaDraws, pfs: Outcome, parameters: np.ndarray) -> np.ndarray:
    """PIK3CA status: assessed patients chosen so each arm x status group follows its curve.

    ``parameters``: log medians (mutated T-DM1, mutated L+C, wild-type T-DM1,
    wild-type L+C) and log Weibull shapes (mutated, wild-type) of the target
    PFS curves. Patients are taken among those with HER2 mRNA assessed.
    """
    status = np.full(len(pfs.latent), None, dtype=object)
    medians = dict(
        zip(
            ((True, "mutated"), (False, "mutated"), (True, "wild-type"), (False, "wild-type")),
            np.exp(parameters[:4]),
            strict=True,
        )
    )
    shapes = {"mutated": np.exp(parameters[4]), "wild-type": np.exp(parameters[5])}
    for arm in (True, False):
        rows = np.flatnonzero((draws.treated == arm) & (draws.her2_class != "na"))
        available = np.ones(len(rows), dtype=bool)
        for level in ("mutated", "wild-type"):
            quantiles = draws.u_pik3ca[arm, level]
            wanted = weibull_times(quantiles, shapes[level], medians[arm, level])
            chosen = _match_quantiles(pfs.latent[rows], available, wanted)
            available[chosen] = False
            status[rows[chosen]] = level
    return status


def _calibrate_emilia_pik3ca(draws: _EmiliaDraws, pfs: Outcome) -> np.ndarray:
    """PIK3CA groups reproducing the published PFS medians and HRs by status."""
    targets, treated = _EMILIA_TARGETS["pfs_pik3ca"], draws.treated

    def residuals(parameters: np.ndarray) -> np.ndarray:
        status = _emilia_pik3ca(draws, pfs, parameters)
        return np.array(_subgroup_errors(pfs, treated, status, targets))

    start = np.log([10.9, 4.3, 9.8, 6.4, 0.86, 0.71])
    return _emilia_pik3ca(draws, pfs, fit_simplex(residuals, start, step=0.1, evaluations=800))


def _emilia_os(
    draws: _EmiliaDraws, pfs: Outcome, pik3ca: np.ndarray, parameters: np.ndarray
) -> Outcome:
    """Overall survival: death after progression (every progression is eventually fatal).

    ``parameters``: log median survival after progression (T-DM1, L+C), log
    multipliers of that median for PIK3CA-mutated and wild-type L+C patients,
    the months between the PFS and the OS data cuts, and log Weibull shapes of
    survival after progression (T-DM1, L+C).
    """
    median = np.where(draws.treated, np.exp(parameters[0]), np.exp(parameters[1]))
    control = ~draws.treated
    median[control & (pik3ca == "mutated")] *= np.exp(parameters[2])
    median[control & (pik3ca == "wild-type")] *= np.exp(parameters[3])
    censor = censoring_times(
        draws.entry,
        draws.dropout,
        _EMILIA_ACCRUAL,
        _EMILIA_MIN_FOLLOW_UP + parameters[4],
        _EMILIA_OS_DROPOUT,
        ramp_up=True,
    )
    shape = np.where(draws.treated, np.exp(parameters[5]), np.exp(parameters[6]))
    uniforms = (np.zeros(len(median)), draws.u_post_progression)
    return post_event_survival(pfs, uniforms, np.ones(len(median)), median, censor, shape)


def _calibrate_emilia_os(draws: _EmiliaDraws, pfs: Outcome, pik3ca: np.ndarray) -> Outcome:
    """Survival after progression and OS follow-up tuned to the published OS figures.

    Alternates a simplex search of the arm-level parameters (medians, deaths,
    HR) with bisections of the PIK3CA multipliers in the L+C arm (medians by
    PIK3CA status).
    """
    targets, treated = _EMILIA_TARGETS, draws.treated
    parameters = np.array([np.log(18.0), np.log(14.0), np.log(0.7), np.log(1.3), 6.5, -0.3, 0.0])
    arm_level = [0, 1, 4, 5, 6]

    def arm_residuals(values: np.ndarray) -> np.ndarray:
        parameters[arm_level] = values
        os = _emilia_os(draws, pfs, pik3ca, parameters)
        errors = _arm_errors(
            os, treated, targets["os_hr"], targets["os_median"], targets["os_deaths"]
        )
        return np.nan_to_num(np.array(errors), nan=10.0)

    def pik3ca_median(index: int, level: str) -> Callable[[float], float]:
        rows = ~treated & (pik3ca == level)

        def evaluate(value: float) -> float:
            parameters[index] = value
            os = _emilia_os(draws, pfs, pik3ca, parameters)
            median = km_median(os.time[rows], os.event[rows])
            return 1e3 if np.isnan(median) else median

        return evaluate

    for round_ in range(3):
        for index, level in ((2, "mutated"), (3, "wild-type")):
            median = targets["os_median_control_pik3ca"][level]
            parameters[index] = grid_search(pik3ca_median(index, level), median, -1.5, 1.5, 601)
        if round_ < 2:
            start = parameters[arm_level].copy()
            arm_residuals(fit_simplex(arm_residuals, start, evaluations=400, restarts=2))
    return _emilia_os(draws, pfs, pik3ca, parameters)


def _emilia_factors(draws: _EmiliaDraws, z: np.ndarray) -> dict[str, np.ndarray]:
    """Stratification factors (shares about those of the trial; associations assumed)."""
    noise, treated = draws.noise, draws.treated
    region = np.empty(len(z), dtype=object)
    lines = np.empty(len(z), dtype=object)
    visceral = np.empty(len(z), dtype=object)
    shares = (("United States", 0.27), ("Western Europe", 0.32), ("Asia", 0.16))
    for arm in (True, False):
        rows = np.flatnonzero(treated == arm)
        rank = noise["region"][rows].argsort().argsort() / len(rows)
        cuts = np.cumsum([share for _, share in shares])
        region[rows] = np.select(
            [rank < cut for cut in cuts], [name for name, _ in shares], default="Other"
        )
        lines[rows] = np.where(top_mask(noise["lines"][rows], round(0.39 * len(rows))), ">1", "0-1")
        visceral_score = copula_score(-z[rows], noise["visceral"][rows], 0.2)
        visceral[rows] = np.where(
            top_mask(visceral_score, round(0.68 * len(rows))), "visceral", "non-visceral"
        )
    return {"region": region, "prior_chemo_lines": lines, "visceral": visceral}


def _emilia_her2_values(draws: _EmiliaDraws, z: np.ndarray) -> np.ndarray:
    """HER2 mRNA values: every "low" patient at or below, every "high" one above the median.

    Values are stratified normal quantiles ranked by a score weakly tied to the
    latent prognosis within each class; the two highest "low" values are tied
    at the median, as in the published split (434 at or below the median of 866).
    """
    her2_class = draws.her2_class
    known = np.flatnonzero(her2_class != "na")
    score = copula_score(z[known], draws.noise["her2"][known], 0.2)
    order = np.lexsort((score, her2_class[known] == "high"))  # lows first, then by score
    n = len(known)
    quantiles = (np.arange(n) + draws.u_her2[known][order]) / n
    centre, spread = EXPRESSION_SCALE["her2_mrna"]
    values = np.round(centre + spread * ndtri(quantiles), MARKER_DECIMALS)
    n_low = int((her2_class == "low").sum())
    values[n_low - 2 : n_low] = values[n_low - 2]
    values[n_low:] = np.maximum(values[n_low:], values[n_low - 1] + 10.0**-MARKER_DECIMALS)
    result = np.full(len(z), np.nan)
    result[known[order]] = values
    return result


def simulate_emilia(seed: int = DEFAULT_SEEDS["emilia"]) -> pd.DataFrame:
    """Simulate an EMILIA-like cohort (T-DM1 vs lapatinib + capecitabine).

    The cohort reproduces the published PFS and OS figures and the HER2 mRNA
    and PIK3CA subgroups; see ``synthetic_data/README.md`` for every column.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; ``DEFAULT_SEEDS["emilia"]``
        gives the shipped cohort.

    Returns
    -------
    pandas.DataFrame
        One row per patient (991 rows), with the columns ``patient_id, arm,
        pfs_months, pfs_event, os_months, os_event, region,
        prior_chemo_lines, visceral, her2_mrna, pik3ca, egfr, her3, age``.

    Examples
    --------
    >>> cohort = simulate_emilia()
    >>> cohort["arm"].value_counts().to_dict()
    {'Lapatinib+Capecitabine': 496, 'T-DM1': 495}
    """
    draws = _emilia_draws(seed)
    z = -ndtri(draws.u_event)  # latent prognosis within the cell: high = long PFS
    pfs = _calibrate_emilia_pfs(draws, draws.her2_class)
    pik3ca = _calibrate_emilia_pik3ca(draws, pfs)
    os = _calibrate_emilia_os(draws, pfs, pik3ca)
    known = draws.her2_class != "na"
    treated = draws.treated
    columns = {
        "arm": np.where(treated, _EMILIA_ARMS[0], _EMILIA_ARMS[1]),
        "pfs_months": pfs.time,
        "pfs_event": pfs.event,
        "os_months": os.time,
        "os_event": os.event,
        **_emilia_factors(draws, z),
        "her2_mrna": _emilia_her2_values(draws, z),
        "pik3ca": pik3ca,
        "egfr": expression_values("egfr", copula_score(z, draws.noise["egfr"], -0.1), known),
        "her3": expression_values(
            "her3", arm_copula(z, draws.noise["her3"], treated, {True: 0.15, False: 0.0}), known
        ),
        "age": draws.age.astype(int),
    }
    return assemble("EMI", columns, draws.order, _EMILIA_COLUMNS)
