"""Kaplan-Meier, medians, landmark rates, RMST, at-risk counts and log-rank against R.

Reference: ``tests/reference/expected/{gbsg,lung,veteran,sim}.json``, written by
``Rscript tests/reference/make_reference.R`` (R survival 3.x) from the CSV files in
``tests/reference/data/``. Per data set and arm (treatment / control) and for each
``conf.type`` in log-log, log and plain::

    fit <- survfit(Surv(time, event) ~ 1, conf.type = conf_type)
    summary(fit, censored = TRUE)             # the whole curve
    summary(fit, times = times)               # S(t), std.err (SE of S), CI, n.risk
    quantile(fit, 0.5)                        # median and its CI
    summary(fit, rmean = tau)$table           # rmean, se(rmean) (as print(fit, rmean = tau))
    sum(time >= t)                            # at risk at t
    survdiff(Surv(time, event) ~ arm)         # and  ~ arm + strata(s)

Tolerances: estimates, SEs, CI bounds, chi-squares and p-values to 1e-6 relative
(``numpy.testing.assert_allclose(rtol=1e-6)``; an absolute 1e-12 only where R's value is
exactly 0); times and event / censoring / at-risk counts exactly; NA in R must be NaN ours.

Cross-checks with lifelines, which computes the same quantities with the same formulas
(KaplanMeierFitter's CI is the log-log "exponential Greenwood" interval; its
``restricted_mean_survival_time`` integrates the same step function; ``logrank_test`` is
the unstratified survdiff): also 1e-6 relative, since no iteration is involved.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference_values import DATA_SETS, analysed, as_float, assert_close, expected

from survtdm1 import km

CONF_TYPES = ("log-log", "log", "plain")
ARMS = ("treatment", "control")


def _arm(name: str, arm: str):
    spec = expected(name)
    _, time, event, treated = analysed(spec)
    rows = treated == (1 if arm == "treatment" else 0)
    return spec, time[rows], event[rows]


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_curve_matches_survfit(name, arm, conf_type):
    """The whole curve, as ``summary(survfit(...), censored = TRUE)``."""
    spec, time, event = _arm(name, arm)
    reference = spec["km"][arm][conf_type]["curve"]
    curve = km.kaplan_meier(time, event, conf_type=conf_type)
    np.testing.assert_array_equal(curve.time, as_float(reference["time"]))
    np.testing.assert_array_equal(curve.n_risk, as_float(reference["n_risk"]))
    np.testing.assert_array_equal(curve.n_event, as_float(reference["n_event"]))
    np.testing.assert_array_equal(curve.n_censor, as_float(reference["n_censor"]))
    for field in ("surv", "std_err", "lower", "upper"):
        assert_close(getattr(curve, field), reference[field], what=f"{name} {arm} {field}")


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_survival_at_matches_summary_times(name, arm, conf_type):
    """S(t), SE of S, CI and n.risk, as ``summary(fit, times = t)``.

    The times include observed event times (the step's right-continuity) and times
    between them; t = 0, before the first observed time, has its own test below.
    """
    spec, time, event = _arm(name, arm)
    reference = spec["km"][arm][conf_type]["at_times"]
    curve = km.kaplan_meier(time, event, conf_type=conf_type)
    for k, t in enumerate(as_float(reference["time"])):
        if t < curve.time[0]:
            continue
        point = km.survival_at(curve, t)
        what = f"{name} {arm} {conf_type} t={t}"
        assert point.n_risk == reference["n_risk"][k], what
        for field in ("surv", "std_err", "lower", "upper"):
            assert_close(getattr(point, field), reference[field][k], what=f"{what} {field}")


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_survival_before_first_time_matches_summary_times(name, arm, conf_type):
    """``summary(fit, times = 0)``: S = 1, std.err = 0 and, for every conf.type, CI [1, 1]."""
    spec, time, event = _arm(name, arm)
    reference = spec["km"][arm][conf_type]["at_times"]
    assert reference["time"][0] == 0
    curve = km.kaplan_meier(time, event, conf_type=conf_type)
    assert curve.time[0] > 0
    point = km.survival_at(curve, 0.0)
    assert point.n_risk == reference["n_risk"][0]
    for field in ("surv", "std_err", "lower", "upper"):
        assert_close(getattr(point, field), reference[field][0], what=f"{name} {arm} t=0 {field}")


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_median_matches_quantile(name, arm, conf_type):
    """Median and CI, as ``quantile(fit, 0.5)`` (NA where not reached)."""
    spec, time, event = _arm(name, arm)
    reference = spec["km"][arm][conf_type]
    curve = km.kaplan_meier(time, event, conf_type=conf_type)
    assert_close(
        km.median_survival(curve),
        [reference["median"], reference["median_lower"], reference["median_upper"]],
        what=f"{name} {arm} {conf_type} median, lower, upper",
    )


@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_restricted_mean_matches_print_rmean(name, arm):
    """RMST and its SE, as ``summary(fit, rmean = tau)$table[c("rmean", "se(rmean)")]``."""
    spec, time, event = _arm(name, arm)
    reference = spec["km"][arm]["log-log"]
    curve = km.kaplan_meier(time, event)
    assert_close(
        km.restricted_mean(curve, spec["tau"]),
        [reference["rmean"], reference["rmean_se"]],
        what=f"{name} {arm} rmean, se",
    )


@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_n_at_risk_counts_time_at_or_after(name, arm):
    """At risk at t = patients with time >= t (R ``sum(time >= t)``), exactly."""
    spec, time, _ = _arm(name, arm)
    counts = km.n_at_risk(time, spec["times"])
    np.testing.assert_array_equal(counts, np.asarray(spec["km"][arm]["n_at_risk"], dtype=int))


@pytest.mark.parametrize("stratified", [False, True], ids=["unstratified", "stratified"])
@pytest.mark.parametrize("name", DATA_SETS)
def test_logrank_matches_survdiff(name, stratified):
    """``survdiff(Surv(time, event) ~ arm [+ strata(s)])``: chisq, p, O, E, V of arm 1.

    The stratified test uses the rows whose stratum is known (lung's ph.ecog has one NA).
    """
    spec = expected(name)
    frame, time, event, treated = analysed(spec)
    strata = None
    if stratified:
        known = frame[spec["strata"]].notna().to_numpy()
        time, event, treated = time[known], event[known], treated[known]
        strata = frame.loc[known, spec["strata"]].to_numpy()
        assert known.sum() == spec["logrank"]["stratified_n"]
    reference = spec["logrank"]["stratified" if stratified else "unstratified"]
    result = km.logrank_test(time, event, treated, strata=strata)
    for field in ("chisq", "p_value", "observed", "expected", "variance"):
        assert_close(getattr(result, field), reference[field], what=f"{name} {field}")


# --- lifelines cross-checks ---------------------------------------------------------------


@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_lifelines_kaplan_meier_agrees(name, arm):
    """lifelines' KaplanMeierFitter: S(t) and its log-log CI equal R's at every time."""
    from lifelines import KaplanMeierFitter

    spec, time, event = _arm(name, arm)
    reference = spec["km"][arm]["log-log"]["curve"]
    fitter = KaplanMeierFitter().fit(time, event, alpha=0.05)
    times = as_float(reference["time"])
    assert_close(fitter.survival_function_at_times(times).to_numpy(), reference["surv"])
    interval = fitter.confidence_interval_.loc[times].to_numpy()
    finite = ~np.isnan(as_float(reference["lower"]))
    assert_close(interval[finite, 0], as_float(reference["lower"])[finite])
    assert_close(interval[finite, 1], as_float(reference["upper"])[finite])


@pytest.mark.parametrize("arm", ARMS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_lifelines_rmst_agrees(name, arm):
    """lifelines' ``restricted_mean_survival_time`` equals R's rmean."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    spec, time, event = _arm(name, arm)
    fitter = KaplanMeierFitter().fit(time, event)
    rmst = restricted_mean_survival_time(fitter, t=spec["tau"])
    assert_close(rmst, spec["km"][arm]["log-log"]["rmean"])


@pytest.mark.parametrize("name", DATA_SETS)
def test_lifelines_logrank_agrees(name):
    """``lifelines.statistics.logrank_test`` equals unstratified survdiff."""
    from lifelines.statistics import logrank_test

    spec = expected(name)
    _, time, event, treated = analysed(spec)
    one, zero = treated == 1, treated == 0
    result = logrank_test(time[one], time[zero], event[one], event[zero])
    reference = spec["logrank"]["unstratified"]
    assert_close(result.test_statistic, reference["chisq"])
    assert_close(result.p_value, reference["p_value"])


def test_quantiles_of_rising_curves_in_one_pass_equal_the_curve_by_curve_search():
    from survtdm1.km import _find_quantile, _rising_quantiles

    rng = np.random.default_rng(17)
    for _ in range(300):
        m = int(rng.integers(2, 30))
        x = np.concatenate([[0.0], np.cumsum(rng.uniform(0.1, 3.0, m - 1))])
        steps = rng.choice([0.0, 0.05, 0.1, 0.25], size=(3, m - 1))
        Y = np.concatenate([np.zeros((3, 1)), np.cumsum(steps, axis=1)], axis=1)
        Y = np.minimum(Y, 1.0)
        for p in (0.25, 0.5, 0.75):
            got = _rising_quantiles(x, Y, p)
            want = [_find_quantile(x, y, p) for y in Y]
            np.testing.assert_array_equal(got, want)


def test_quantiles_of_curves_whose_limits_start_undefined_equal_the_curve_by_curve_search():
    # log-log limits are NaN while S = 1: censorings before the first event
    from survtdm1.km import _find_quantile, kaplan_meier, median_survival

    rng = np.random.default_rng(19)
    leading = 0
    for _ in range(300):
        n = int(rng.integers(3, 40))
        time = np.round(rng.exponential(10.0, n), 0) + 1.0
        event = rng.random(n) < 0.7
        event[time == time.min()] = False  # the first time only censored
        curve = kaplan_meier(time, event.astype(int), conf_type="log-log")
        x = np.concatenate([[0.0], curve.time])
        Y = 1.0 - np.stack([curve.surv, curve.lower, curve.upper])
        Y = np.concatenate([np.zeros((3, 1)), Y], axis=1)
        leading += bool(np.isnan(Y[1, 1]))
        for p in (0.25, 0.5, 0.75):
            want = [_find_quantile(x, y, p) for y in Y]
            np.testing.assert_array_equal(median_survival(curve, p), want)
    assert leading == 300  # every curve took the NaN-prefix case


def test_curves_of_all_columns_at_once_equal_the_curves_one_by_one():
    from survtdm1.cox_cells import TimeBlocks, cell_table
    from survtdm1.km import kaplan_meier_columns, kaplan_meier_counts

    rng = np.random.default_rng(31)
    n = 500
    time = np.sort(np.round(rng.exponential(10.0, n), 0) + 1.0)
    event = (rng.random(n) < 0.6).astype(int)
    cell = rng.integers(0, 6, n)
    cell[cell == 5] = 4  # an empty cell
    table = cell_table(TimeBlocks.from_sorted(time), event, cell, 6)
    at_risk = table.at_risk()
    for conf_type in ("log-log", "log", "plain"):
        together = kaplan_meier_columns(
            table.time, at_risk, table.events, table.rows, conf_type=conf_type
        )
        for c, curve in enumerate(together):
            there = table.rows[:, c] > 0
            alone = kaplan_meier_counts(
                table.time[there],
                at_risk[there, c],
                table.events[there, c],
                table.rows[there, c] - table.events[there, c],
                conf_type=conf_type,
            )
            for name in ("time", "n_risk", "n_event", "n_censor", "surv", "std_err"):
                np.testing.assert_array_equal(getattr(curve, name), getattr(alone, name))
            np.testing.assert_array_equal(curve.lower, alone.lower)
            np.testing.assert_array_equal(curve.upper, alone.upper)
        assert together[5].time.size == 0
    with pytest.raises(ValueError, match="conf_type"):
        kaplan_meier_columns(table.time, at_risk, table.events, table.rows, conf_type="arcsin")


def test_medians_of_many_curves_at_once_equal_those_one_by_one():
    from survtdm1.km import kaplan_meier, median_estimates, median_survival

    rng = np.random.default_rng(37)
    curves = []
    for _ in range(200):
        n = int(rng.integers(1, 30))
        time = np.round(rng.exponential(10.0, n), int(rng.integers(0, 2))) + 1.0
        event = (rng.random(n) < rng.uniform(0.0, 1.0)).astype(int)
        curves.append(kaplan_meier(time, event))
    # a curve that ends exactly at 1 - p, one with every patient dead, and one empty
    curves.append(kaplan_meier(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 1, 0, 0])))
    curves.append(kaplan_meier(np.array([1.0, 2.0]), np.array([1, 1])))
    curves.append(kaplan_meier(np.array([]), np.array([], dtype=int)))
    for p in (0.25, 0.5, 0.75, 1e-12):
        want = [median_survival(curve, p)[0] for curve in curves]
        np.testing.assert_array_equal(median_estimates(curves, p), want)
    assert np.isnan(median_estimates(curves)).any() and np.isfinite(median_estimates(curves)).any()
