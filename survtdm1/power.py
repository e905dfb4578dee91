"""Simulated power of a biomarker-stratified two-arm trial.

:func:`power_interaction` simulates many trials of a design (sample size,
biomarker prevalence, treatment HR in each biomarker subgroup, control median,
accrual, follow-up, drop-out), analyses each one and reports how often the
treatment x biomarker interaction and the within-subgroup treatment effects
are significant.

Trials are simulated in chunks of :data:`CHUNK` trials, each chunk from its
own generator spawned from ``numpy.random.default_rng(seed)``, so the result
depends on the seed only, not on ``n_jobs`` or on where the chunks run
(joblib threads by default, as numpy releases the GIL in the batched fits;
any joblib backend the caller activates, e.g. a Dask cluster through
``with joblib.parallel_backend("dask"):``). The Cox fits of a chunk run at
once with :mod:`survtdm1.cox_batch`.

The trial generator, :func:`survtdm1.simulate.two_arm.simulate_two_arm_trials`,
is deliberately plain (exponential event times, uniform accrual, exponential
drop-out): power depends on the number of events per subgroup and the HRs,
which it reproduces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _checks
from .cox_batch import cell_risk_sets, cox_fit_cells, merge_cells
from .simulate.two_arm import TwoArmTrials, simulate_two_arm_trials

__all__ = ["CHUNK", "PowerResult", "dropout_rate", "power_interaction"]

#: Trials per chunk (per random generator and per parallel task).
CHUNK = 50

# cell = arm + 2 * marker: (control, -), (treatment, -), (control, +), (treatment, +)
_FULL = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
_MAIN = _FULL[:, :2]
_ARM = np.array([[0.0], [1.0]])

TESTS = {
    "interaction": "treatment x biomarker interaction, likelihood-ratio test (1 df)",
    "treatment_negative": "treatment effect in biomarker-negative patients, Wald test",
    "treatment_positive": "treatment effect in biomarker-positive patients, Wald test",
    "treatment_overall": "treatment effect in all patients, Wald test",
}


def _analyse(trials: TwoArmTrials) -> dict[str, np.ndarray]:
    """Interaction LRT and treatment Wald tests of every trial in a batch."""
    from scipy import stats

    everyone = np.ones(trials.time.shape, dtype=bool)
    cells = trials.treated + 2 * trials.positive
    four = cell_risk_sets(trials.time, trials.event, cells, everyone, 4)
    full = cox_fit_cells(four, _FULL)
    main = cox_fit_cells(four, _MAIN)
    chisq = np.maximum(2.0 * (full.loglik - main.loglik), 0.0)
    ok = full.converged & main.converged
    out = {
        "events": trials.event.sum(axis=1),
        "events_negative": (trials.event & (trials.positive == 0)).sum(axis=1),
        "events_positive": (trials.event & (trials.positive == 1)).sum(axis=1),
        "ratio_of_hrs": np.exp(full.coef[:, 2]),
        "chisq_interaction": np.where(ok, chisq, np.nan),
        "p_interaction": np.where(ok, stats.chi2.sf(chisq, 1), np.nan),
    }
    subsets = {
        "negative": (trials.positive == 0, [0, 1, -1, -1]),
        "positive": (trials.positive == 1, [-1, -1, 0, 1]),
        "overall": (everyone, [0, 1, 0, 1]),
    }
    for name, (mask, mapping) in subsets.items():
        if four.efron_ties:
            sets = cell_risk_sets(trials.time, trials.event, trials.treated, mask, 2)
        else:
            sets = merge_cells(four, mapping)
        fit = cox_fit_cells(sets, _ARM)
        out[f"hr_{name}"] = np.exp(fit.coef[:, 0])
        out[f"p_{name}"] = fit.wald_p()[:, 0]
    return out


def dropout_rate(dropout: float, dropout_time: float) -> float:
    """Exponential rate giving a cumulative drop-out probability ``dropout`` by ``dropout_time``.

    >>> round(dropout_rate(0.1, 12.0), 6)
    0.00878
    """
    return -math.log1p(-dropout) / dropout_time if dropout > 0 else 0.0


def _simulate_chunk(rng: np.random.Generator, n_trials: int, design: dict) -> dict:
    generator_design = {
        key: value for key, value in design.items() if key not in ("dropout", "dropout_time")
    }
    rate = dropout_rate(design["dropout"], design["dropout_time"])
    return _analyse(simulate_two_arm_trials(rng, n_trials, dropout_rate=rate, **generator_design))


@dataclass(frozen=True)
class PowerResult:
    """Result of :func:`power_interaction` (frozen).

    Attributes
    ----------
    table : DataFrame
        One row per test: ``test`` (interaction, treatment_negative,
        treatment_positive, treatment_overall), ``description``, ``power``
        (share of trials with p < alpha), ``power_lower``, ``power_upper``
        (exact 95% Clopper-Pearson interval for the Monte Carlo error),
        ``n_rejected``, ``n_simulations``, ``n_failed`` (trials where the
        model could not be fitted; counted as not rejected), ``true_effect``
        (the design's HR, or ratio of HRs for the interaction) and
        ``median_estimate`` (median estimated HR or ratio of HRs).
    simulations : DataFrame
        One row per simulated trial: ``simulation``, ``events``,
        ``events_negative``, ``events_positive``, ``hr_negative``,
        ``hr_positive``, ``hr_overall``, ``ratio_of_hrs``,
        ``chisq_interaction``, ``p_interaction``, ``p_negative``,
        ``p_positive``, ``p_overall``.
    design : dict
        The arguments that define the design.
    """

    table: pd.DataFrame
    simulations: pd.DataFrame
    design: dict
    alpha: float
    n_simulations: int
    seed: int | None

    def summary(self) -> pd.DataFrame:
        """One row: the design, the mean events and the power of each test."""
        row = dict(self.design)
        row["alpha"] = self.alpha
        row["n_simulations"] = self.n_simulations
        row["mean_events"] = float(self.simulations["events"].mean())
        for test, power in zip(self.table["test"], self.table["power"], strict=True):
            row[f"power_{test}"] = power
        return pd.DataFrame([row])

    def _repr_html_(self) -> str:
        return (
            "<p><b>Simulated power</b> of a biomarker-stratified design</p>"
            + self.summary().to_html(index=False, escape=True)
            + self.table.to_html(index=False, escape=True)
        )


def _table(sims: pd.DataFrame, design: dict, alpha: float) -> pd.DataFrame:
    from scipy import stats  # imported when used: it costs a second

    rows = []
    specs = {
        "interaction": (
            "p_interaction",
            "ratio_of_hrs",
            design["hr_positive"] / design["hr_negative"],
        ),
        "treatment_negative": ("p_negative", "hr_negative", design["hr_negative"]),
        "treatment_positive": ("p_positive", "hr_positive", design["hr_positive"]),
        "treatment_overall": ("p_overall", "hr_overall", float("nan")),
    }
    total = len(sims)
    for test, (p_column, estimate, truth) in specs.items():
        p = sims[p_column].to_numpy(dtype=float)
        rejected = int(np.sum(p < alpha))
        interval = stats.binomtest(rejected, total).proportion_ci(0.95, method="exact")
        estimates = sims[estimate].to_numpy(dtype=float)
        finite = estimates[np.isfinite(estimates)]
        rows.append(
            {
                "test": test,
                "description": TESTS[test],
                "power": rejected / total,
                "power_lower": interval.low,
                "power_upper": interval.high,
                "n_rejected": rejected,
                "n_simulations": total,
                "n_failed": int(np.sum(~np.isfinite(p))),
                "true_effect": truth,
                "median_estimate": float(np.median(finite)) if finite.size else float("nan"),
            }
        )
    return pd.DataFrame(rows)


WHERE = "power_interaction"
_BETWEEN_0_1 = "a number between 0 and 1"


def _design(
    n, prevalence, hr_negative, hr_positive, control_median, accrual, follow_up, dropout,
    dropout_time,
) -> dict:  # fmt: skip
    """The checked design values of :func:`power_interaction`."""
    design = {
        "n": _checks.integer("n", n, 4, where=WHERE),
        "prevalence": _checks.number(
            "prevalence", prevalence, lambda v: 0.0 < v < 1.0, _BETWEEN_0_1, WHERE
        ),
    }
    for name, value in (
        ("hr_negative", hr_negative),
        ("hr_positive", hr_positive),
        ("control_median", control_median),
        ("accrual", accrual),
    ):
        design[name] = _checks.number(name, value, lambda v: v > 0, "a positive number", WHERE)
    design["follow_up"] = _checks.number(
        "follow_up", follow_up, lambda v: v >= 0, "a non-negative number", WHERE
    )
    design["dropout"] = _checks.number(
        "dropout", dropout, lambda v: 0.0 <= v < 1.0, "a probability in [0, 1)", WHERE
    )
    design["dropout_time"] = _checks.number(
        "dropout_time", dropout_time, lambda v: v > 0, "a positive number", WHERE
    )
    return design


def _simulate_chunks(generators, sizes, design: dict, n_jobs: int, progress: bool) -> list:
    """Simulate and analyse the trials chunk by chunk, in parallel threads (joblib)."""
    from joblib import Parallel, delayed
    from tqdm import tqdm  # plain bars: tqdm.auto needs ipywidgets in Jupyter

    jobs = (
        delayed(_simulate_chunk)(rng, size, design)
        for rng, size in zip(generators, sizes, strict=True)
    )
    parts = []
    with tqdm(total=sum(sizes), disable=not progress, desc="Simulated trials") as bar:
        for part in Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(jobs):
            parts.append(part)
            bar.update(part["events"].shape[0])
    return parts


def power_interaction(
    *,
    n: int,
    prevalence: float,
    hr_negative: float,
    hr_positive: float,
    control_median: float,
    accrual: float,
    follow_up: float,
    dropout: float = 0.0,
    dropout_time: float = 12.0,
    n_simulations: int = 1000,
    alpha: float = 0.05,
    seed: int | np.random.Generator | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> PowerResult:
    """Simulated power of the interaction and within-subgroup tests of a design.

    Each simulated trial (see
    :func:`survtdm1.simulate.two_arm.simulate_two_arm_trials`) is analysed with

    - the likelihood-ratio test of treatment x biomarker between the Cox
      models ``arm * marker`` and ``arm + marker`` (1 df), as R
      ``anova(coxph(Surv(t, e) ~ arm + marker), coxph(Surv(t, e) ~ arm * marker))``;
    - the Wald test of the treatment HR in each biomarker subgroup and
      overall, as ``summary(coxph(Surv(t, e) ~ arm))`` (Efron ties).

    Power is the share of trials with p < ``alpha`` (two-sided).

    Parameters
    ----------
    n : int
        Patients per trial, randomised 1:1.
    prevalence : float
        Probability that a patient is biomarker-positive.
    hr_negative, hr_positive : float
        True treatment vs control hazard ratio in each subgroup.
    control_median : float
        Median event time in the control arm (same in both subgroups), in
        the time unit of ``accrual``, ``follow_up`` and ``dropout_time``.
    accrual, follow_up : float
        Accrual period (uniform entry) and follow-up after the last entry.
    dropout : float
        Cumulative probability of loss to follow-up by ``dropout_time``
        (exponential); 0 for none.
    dropout_time : float
        Default 12 (one year when times are in months).
    n_simulations : int
    alpha : float
        Two-sided significance level, between 0 and 1.
    seed : int or numpy Generator, optional
        All randomness comes from ``numpy.random.default_rng(seed)``: the
        chunks' generators are spawned from it. A Generator is advanced by
        the call (spawning), so calling again with the same Generator object
        gives another set of trials; an int seed always gives the same.
        ``result.seed`` holds the int seed (None for a Generator).
    n_jobs : int
        joblib jobs (threads unless the caller activates another backend)
        over chunks of 50 trials. Inside ``with
        joblib.parallel_backend("dask"):`` the chunks run on the Dask cluster
        (pass ``n_jobs=-1``). The result does not depend on ``n_jobs`` or the
        backend.
    progress : bool
        Show a progress bar over the simulations (tqdm).

    Returns
    -------
    PowerResult

    Raises
    ------
    PlanError
        A design value or option is out of range, not finite or of the wrong
        type (e.g. ``n`` below 4, ``prevalence`` not strictly between 0 and 1,
        a non-positive HR, ``alpha`` outside (0, 1)).

    Examples
    --------
    >>> result = power_interaction(n=400, prevalence=0.3, hr_negative=1.0,
    ...                            hr_positive=0.5, control_median=24, accrual=24,
    ...                            follow_up=24, n_simulations=50, seed=1)
    >>> list(result.table["test"])
    ['interaction', 'treatment_negative', 'treatment_positive', 'treatment_overall']
    """
    design = _design(
        n, prevalence, hr_negative, hr_positive, control_median, accrual, follow_up, dropout,
        dropout_time,
    )  # fmt: skip
    n_simulations = _checks.integer("n_simulations", n_simulations, 1, where=WHERE)
    alpha = _checks.number("alpha", alpha, lambda v: 0.0 < v < 1.0, _BETWEEN_0_1, WHERE)
    seed = _checks.seed(seed, WHERE)
    n_jobs = _checks.n_jobs(n_jobs, WHERE)
    sizes = [min(CHUNK, n_simulations - start) for start in range(0, n_simulations, CHUNK)]
    generators = np.random.default_rng(seed).spawn(len(sizes))
    parts = _simulate_chunks(generators, sizes, design, n_jobs, progress)
    columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    sims = pd.DataFrame({"simulation": np.arange(1, n_simulations + 1), **columns})
    order = [
        "simulation", "events", "events_negative", "events_positive", "hr_negative",
        "hr_positive", "hr_overall", "ratio_of_hrs", "chisq_interaction", "p_interaction",
        "p_negative", "p_positive", "p_overall",
    ]  # fmt: skip
    sims = sims[order]
    return PowerResult(
        table=_table(sims, design, alpha),
        simulations=sims,
        design=design,
        alpha=alpha,
        n_simulations=n_simulations,
        seed=seed if isinstance(seed, int) else None,
    )
