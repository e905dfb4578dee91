"""The vectorised engine (survtdm1.cox, survtdm1.km) against lifelines on every data set.

Reference: lifelines' CoxPHFitter and KaplanMeierFitter, independent implementations
of the same estimators, run here on every data set in ``tests/reference/data`` (gbsg,
lung, veteran, sim): with ties (Efron; lifelines has no Breslow), stratified and not,
treatment alone and with covariates; and on subgroup masks over the sorted rows, the
way the battery calls the engine. The R values themselves are checked in
test_cox_reference.py and test_km_reference.py.

Tolerance 1e-6 relative for coefficients, standard errors, log-likelihoods, HRs with
CIs, survival, CI bounds and medians. lifelines stops its damped Newton steps once the
relative log-likelihood change falls below ``r_precision``, which can leave its
coefficients 1e-7 to 1e-3 relative short of the maximum; with that rule switched off
(``r_precision`` 1e-30) it iterates on the step norm alone, to the maximum.

No timing here: speed is measured in benchmarks/.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_values import DATA_SETS, analysed, assert_close, design_matrix, expected

from survtdm1 import cox, km

LIFELINES_TIGHT = {"precision": 1e-14, "r_precision": 1e-30, "max_steps": 500}
MODELS = ("treatment", "covariates")


def _complete(name: str):
    spec = expected(name)
    frame, time, event, treated = analysed(spec)
    complete = frame[[*spec["covariates"], spec["strata"]]].notna().all(axis=1).to_numpy()
    frame = frame[complete].reset_index(drop=True)
    X = design_matrix(frame, treated[complete], spec)
    return spec, frame, time[complete], event[complete], X


def _lifelines_cox(time, event, X, strata=None):
    from lifelines import CoxPHFitter

    columns = [f"x{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns).assign(time=time, event=event)
    options = {}
    if strata is not None:
        frame["stratum"] = strata
        options["strata"] = ["stratum"]
    fitter = CoxPHFitter().fit(
        frame, duration_col="time", event_col="event", fit_options=LIFELINES_TIGHT, **options
    )
    return fitter, columns


def _assert_same_fit(fit: cox.CoxFit, fitter, columns, what: str):
    assert fit.converged, what
    assert_close(fit.coef, fitter.params_[columns].to_numpy(), what=f"{what} coef")
    assert_close(fit.se, fitter.standard_errors_[columns].to_numpy(), what=f"{what} se")
    assert_close(fit.loglik, fitter.log_likelihood_, what=f"{what} loglik")
    summary = fitter.summary.loc[columns[0]]
    lifelines_hr = [summary[k] for k in ("exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%")]
    assert_close(fit.hazard_ratio(0), lifelines_hr, what=f"{what} HR and CI")


@pytest.mark.parametrize("stratified", [False, True], ids=["unstratified", "stratified"])
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", DATA_SETS)
def test_cox_fit_agrees_with_lifelines(name, model, stratified):
    """cox_fit (Efron) vs CoxPHFitter: coef, se, loglik, HR with CI."""
    spec, frame, time, event, X = _complete(name)
    if model == "treatment":
        X = X[:, :1]
    strata = frame[spec["strata"]].to_numpy() if stratified else None
    fit = cox.cox_fit(time, event, X, strata=strata)
    fitter, columns = _lifelines_cox(time, event, X, strata)
    _assert_same_fit(fit, fitter, columns, f"{name} {model} stratified={stratified}")


@pytest.mark.parametrize("name", DATA_SETS)
def test_masked_fits_agree_with_lifelines(name):
    """Fits on masks over the sorted rows (as the battery runs them) vs separate fits.

    Masks: each half of the first covariate's values, and the interaction model
    warm-started from the reduced model, as ``subgroup_analysis`` does.
    """
    _, _, time, event, X = _complete(name)
    data = cox.SortedSurvival.from_arrays(time, event)
    X_sorted = data.sort_rows(X)
    covariate = X_sorted[:, 1]
    for mask in (covariate <= np.median(covariate), covariate > np.median(covariate)):
        sub = data.subset(mask)
        fit = cox.cox_fit_sorted(sub, X_sorted[mask, :1])
        fitter, columns = _lifelines_cox(sub.time, sub.event, X_sorted[mask, :1])
        _assert_same_fit(fit, fitter, columns, f"{name} masked level")
    high = (covariate > np.median(covariate)).astype(float)
    main = np.column_stack([X_sorted[:, 0], high])
    reduced = cox.cox_fit_sorted(data, main)
    design = np.column_stack([main, main[:, 0] * high])
    full = cox.cox_fit_sorted(data, design, init=np.append(reduced.coef, 0.0))
    fitter, columns = _lifelines_cox(data.time, data.event, design)
    _assert_same_fit(full, fitter, columns, f"{name} warm-started interaction model")
    assert_close(full.loglik_null, cox.cox_fit_sorted(data, design).loglik_null)


@pytest.mark.parametrize("name", DATA_SETS)
def test_kaplan_meier_agrees_with_lifelines(name):
    """KM on sorted (fast path) and unsorted input vs KaplanMeierFitter: S, CI, median."""
    from lifelines import KaplanMeierFitter

    _, time, event, treated = analysed(expected(name))
    for arm in (0, 1):
        t, e = time[treated == arm], event[treated == arm]
        order = np.argsort(t, kind="stable")
        fitter = KaplanMeierFitter().fit(t, e, alpha=0.05)
        for rows in (order, np.arange(t.shape[0])):  # sorted, as given
            curve = km.kaplan_meier(t[rows], e[rows])
            surv = fitter.survival_function_at_times(curve.time).to_numpy()
            assert_close(curve.surv, surv, what=f"{name} arm {arm} S(t)")
            interval = fitter.confidence_interval_.loc[curve.time].to_numpy()
            finite = np.isfinite(curve.lower)
            assert_close(curve.lower[finite], interval[finite, 0], what=f"{name} lower")
            assert_close(curve.upper[finite], interval[finite, 1], what=f"{name} upper")
            median = km.median_survival(curve)[0]
            # where S is 0.5 on a flat, R (and survtdm1) take the flat's midpoint and
            # lifelines its start: compare only where the rules coincide
            on_flat = np.any(np.abs(curve.surv - 0.5) < 1e-8)
            if np.isfinite(fitter.median_survival_time_) and not on_flat:
                assert_close(median, fitter.median_survival_time_, what=f"{name} median")


@pytest.mark.parametrize("name", DATA_SETS)
def test_logrank_agrees_with_lifelines(name):
    """Log-rank on sorted and unsorted rows vs lifelines.statistics.logrank_test."""
    from lifelines.statistics import logrank_test

    _, time, event, treated = analysed(expected(name))
    one, zero = treated == 1, treated == 0
    reference = logrank_test(time[one], time[zero], event[one], event[zero])
    order = np.argsort(time, kind="stable")
    for rows in (order, np.arange(time.shape[0])):
        result = km.logrank_test(time[rows], event[rows], treated[rows])
        assert_close(result.chisq, reference.test_statistic, what=f"{name} chisq")
        assert_close(result.p_value, reference.p_value, what=f"{name} p")
