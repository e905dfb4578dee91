"""Firth-penalised Cox and logistic regression against published and independent values.

References, in order of authority:

1. Heinze & Schemper (2001), Biometrics 57:114-119, section 2: two patients,
   the one with x = 1 fails first; the Firth estimate is exp(b) = 3 exactly.
2. R coxphf 1.13 and logistf values on simulated monotone-likelihood data, as
   published in the test suite of the PyPI package firthmodels
   (github.com/jzluo/firthmodels, tests/test_cox.py and tests/test_logistic.py;
   data regenerated here by the same numpy code, tests/conftest.py there).
   coxphf and logistf stop at a relative change of 1e-6, hence the tolerances.
3. firthmodels 0.8 itself (an independent implementation: its own risk-set
   sums, Venzon-Moolgavkar profile limits), run here with tight tolerances on
   subgroup-shaped data where an arm has no events. Agreement is ~1e-10; the
   test asks for 1e-6 relative, tighter than the 1e-4 the issue asks for.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from survtdm1.cox import SortedSurvival, cox_fit_sorted
from survtdm1.firth import firth_cox, firth_logistic


def _firthmodels():
    """firthmodels (test extra), or skip only the test that compares with it."""
    return pytest.importorskip("firthmodels", reason="firthmodels is not installed (test extra)")


def _fit(time, event, X, **kwargs):
    data = SortedSurvival.from_arrays(time, event)
    return firth_cox(data, data.sort_rows(np.asarray(X, dtype=float)), **kwargs)


# --- 1. the published worked example -------------------------------------------


def test_heinze_schemper_two_patients():
    fit = _fit([1.0, 2.0], [1, 0], [1.0, 0.0])
    assert fit.converged
    assert fit.ratio(0)[0] == pytest.approx(3.0, rel=1e-12)
    # one coefficient: the penalised LRT is the penalised log-likelihood ratio to b = 0
    assert fit.chisq[0] == pytest.approx(2 * (fit.loglik - fit.loglik_null), rel=1e-12)
    assert fit.lower[0] < np.log(3.0) < fit.upper[0]


# --- 2. coxphf and logistf values ----------------------------------------------


def _cox_separation_data(seed=42, n=100):
    """firthmodels tests/conftest.py make_cox_separation_data (no events where separator=0)."""
    rng = np.random.default_rng(seed)
    separator = rng.choice([0, 1], n, p=[0.35, 0.65])
    x1 = rng.standard_normal(n)
    x2 = rng.uniform(-1, 1, n)
    x3 = rng.choice([0, 1], n, p=[0.6, 0.4])
    X = np.column_stack([separator, x1, x2, x3])
    eta = X @ np.array([0.0, 0.5, -0.3, 0.7])
    survival_time = rng.exponential(1 / (0.1 * np.exp(eta)))
    censor_time = rng.exponential(scale=15.0, size=n)
    time = np.minimum(survival_time, censor_time)
    event = survival_time <= censor_time
    event[separator == 0] = False
    return X, time, event


def _logistic_separation_data(seed=42, n=100):
    """firthmodels tests/conftest.py make_separation_data (all responders where separator=1)."""
    rng = np.random.default_rng(seed)
    separator = rng.choice([0, 1], n, p=[0.8, 0.2])
    x1 = rng.standard_normal(n)
    x2 = rng.uniform(-1, 1, n)
    x3 = rng.exponential(scale=2.0, size=n)
    y = rng.binomial(1, expit(-0.5 + 0.8 * x1 - 0.6 * x2 + 0.3 * x3))
    y[separator == 1] = 1
    return np.column_stack([separator, x1, x2, x3]), y


def test_cox_matches_coxphf():
    X, time, event = _cox_separation_data()
    fit = _fit(time, event, X)
    assert fit.converged
    # coxphf(Surv(time, event) ~ separator + x1 + x2 + x3, pl = TRUE)
    np.testing.assert_allclose(
        fit.coef, [3.8815800583, 0.6042066427, -0.4202139201, 1.0415063080], rtol=1e-6
    )
    np.testing.assert_allclose(
        fit.se, [1.4430190269, 0.1599607483, 0.2541800107, 0.3128784410], rtol=1e-6
    )
    np.testing.assert_allclose(
        fit.lower, [1.9343469272, 0.2921186188, -0.9217200647, 0.4348431279], rtol=1e-6
    )
    np.testing.assert_allclose(
        fit.upper, [8.7215676015, 0.9164270978, 0.0699415336, 1.6550461482], rtol=1e-6
    )
    np.testing.assert_allclose(
        fit.p_value,
        [7.318984974e-09, 1.686334002e-04, 9.295083722e-02, 8.463066114e-04],
        rtol=1e-6,
    )
    # coxphf's likelihood-ratio test of the whole model
    assert 2 * (fit.loglik - fit.loglik_null) == pytest.approx(57.6071, rel=1e-6)


def test_logistic_matches_logistf():
    X, y = _logistic_separation_data()
    fit = firth_logistic(y, X)
    assert fit.converged
    # logistf(y ~ separator + x1 + x2 + x3); ours has the intercept first
    order = [1, 2, 3, 4, 0]
    np.testing.assert_allclose(
        fit.coef[order],
        [3.6577140153, 0.6759781501, -0.8633119501, 0.3385788510, -0.4434562830],
        rtol=1e-6,
    )
    # logistf's own convergence (relative change 1e-5 in its SE path) limits this one
    np.testing.assert_allclose(
        fit.se[order],
        [1.4822786334, 0.2687886213, 0.3874453554, 0.1370778814, 0.3452906671],
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        fit.p_value[order],
        [0.0002084147149, 0.0093173148959, 0.0236385713206, 0.0055887969164, 0.1997147194],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        fit.lower[order],
        [1.3901042899, 0.1602568036, -1.6677883758, 0.0893054012, -1.16089382506],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        fit.upper[order],
        [8.5876062114, 1.2568999211, -0.1135186948, 0.6572681313, 0.2295139209],
        rtol=1e-6,
    )


# --- 3. firthmodels on subgroup-shaped data -------------------------------------


def _subgroup_level(seed: int, n: int, silent_arm: int, covariate: bool):
    """A level where the arm ``silent_arm`` has no events; tied integer times."""
    rng = np.random.default_rng(seed)
    arm = np.repeat([0.0, 1.0], n // 2)
    time = np.round(rng.exponential(10, n)) + 1
    event = rng.random(n) < 0.6
    event[arm == silent_arm] = False
    X = np.column_stack([arm, rng.normal(size=n)]) if covariate else arm[:, None]
    return X, time, event


def _firthmodels_cox(X, time, event):
    model = _firthmodels().FirthCoxPH(
        backend="numpy", gtol=1e-7, xtol=1e-8, max_iter=200, max_halfstep=30
    )
    model.fit(X, (event.astype(bool), time))
    model.lrt()
    ci = model.conf_int(method="pl", tol=1e-10, max_iter=200)
    return model, ci


@pytest.mark.parametrize(
    ("seed", "n", "silent_arm", "covariate"),
    [(1, 40, 1, False), (2, 24, 0, False), (3, 60, 1, True), (4, 16, 1, False)],
)
def test_cox_matches_firthmodels_when_an_arm_has_no_events(seed, n, silent_arm, covariate):
    X, time, event = _subgroup_level(seed, n, silent_arm, covariate)
    data = SortedSurvival.from_arrays(time, event)
    ordinary = cox_fit_sorted(data, data.sort_rows(X), ties="breslow")
    assert not ordinary.converged  # monotone likelihood: the ordinary estimate diverges
    fit = firth_cox(data, data.sort_rows(X))
    model, ci = _firthmodels_cox(X, time, event)
    assert fit.converged and model.converged_
    np.testing.assert_allclose(fit.coef, model.coef_, rtol=1e-6)
    np.testing.assert_allclose(fit.se, model.bse_, rtol=1e-6)
    np.testing.assert_allclose(fit.lower, ci[:, 0], rtol=1e-6)
    np.testing.assert_allclose(fit.upper, ci[:, 1], rtol=1e-6)
    np.testing.assert_allclose(fit.p_value, model.lrt_pvalues_, rtol=1e-6)
    # the treatment effect points away from the arm without events
    assert (fit.coef[0] < 0) == (silent_arm == 1)


@pytest.mark.parametrize(("responders_control", "responders_treatment"), [(0, 5), (3, 12), (7, 0)])
def test_logistic_matches_firthmodels_for_a_sparse_two_by_two(
    responders_control, responders_treatment
):
    n_arm = 12
    treated = np.repeat([0.0, 1.0], n_arm)
    y = np.zeros(2 * n_arm)
    y[:responders_control] = 1
    y[n_arm : n_arm + responders_treatment] = 1
    firthmodels = _firthmodels()
    fit = firth_logistic(y, treated)
    model = firthmodels.FirthLogisticRegression(
        backend="numpy", gtol=1e-7, xtol=1e-8, max_iter=200, max_halfstep=30
    ).fit(treated[:, None], y)
    model.lrt()
    ci = model.conf_int(method="pl", tol=1e-10, max_iter=200)
    order = [1, 0]  # firthmodels puts the intercept last
    np.testing.assert_allclose(fit.coef[order], np.r_[model.coef_, model.intercept_], rtol=1e-6)
    np.testing.assert_allclose(fit.lower[order], ci[:, 0], rtol=1e-6)
    np.testing.assert_allclose(fit.upper[order], ci[:, 1], rtol=1e-6)
    np.testing.assert_allclose(fit.p_value[order], model.lrt_pvalues_, rtol=1e-6)


# --- properties -----------------------------------------------------------------


def test_relabelling_the_arms_negates_the_estimate():
    X, time, event = _subgroup_level(5, 30, 1, False)
    fit = _fit(time, event, X)
    swapped = _fit(time, event, 1.0 - X)
    assert swapped.coef[0] == pytest.approx(-fit.coef[0], rel=1e-9)
    assert swapped.lower[0] == pytest.approx(-fit.upper[0], rel=1e-9)
    assert swapped.upper[0] == pytest.approx(-fit.lower[0], rel=1e-9)
    assert swapped.p_value[0] == pytest.approx(fit.p_value[0], rel=1e-9)


def test_close_to_the_ordinary_estimate_in_a_large_sample():
    rng = np.random.default_rng(11)
    n = 2000
    arm = rng.integers(0, 2, n).astype(float)
    time = rng.exponential(1 / (0.1 * np.exp(-0.5 * arm)))
    event = rng.random(n) < 0.8
    data = SortedSurvival.from_arrays(time, event)
    ordinary = cox_fit_sorted(data, data.sort_rows(arm), ties="breslow")
    fit = firth_cox(data, data.sort_rows(arm))
    # the bias correction is O(1/n): tiny here
    assert fit.coef[0] == pytest.approx(ordinary.coef[0], abs=2e-3)
    assert fit.se[0] == pytest.approx(ordinary.se[0], rel=1e-2)
    # the profile limits are close to the Wald ones
    z = stats.norm.ppf(0.975)
    assert fit.lower[0] == pytest.approx(ordinary.coef[0] - z * ordinary.se[0], abs=1e-2)
    assert fit.upper[0] == pytest.approx(ordinary.coef[0] + z * ordinary.se[0], abs=1e-2)


def test_conf_level_widens_the_interval():
    X, time, event = _subgroup_level(6, 30, 1, False)
    narrow = _fit(time, event, X, conf_level=0.9)
    wide = _fit(time, event, X, conf_level=0.99)
    assert wide.lower[0] < narrow.lower[0] < narrow.coef[0] < narrow.upper[0] < wide.upper[0]


def test_stratified_data_are_accepted():
    X, time, event = _subgroup_level(7, 40, 1, False)
    strata = np.tile([0, 1], 20)
    data = SortedSurvival.from_arrays(time, event, strata)
    fit = firth_cox(data, data.sort_rows(X))
    assert fit.converged and np.isfinite(fit.coef[0])


# --- degenerate input gives NaN, never an exception or a warning ------------------


def test_no_events_gives_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = _fit([1.0, 2.0, 3.0], [0, 0, 0], [0.0, 1.0, 1.0])
    assert not fit.converged
    assert np.isnan(fit.coef).all() and np.isnan(fit.p_value).all()


def test_constant_covariate_gives_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = _fit([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1], [1.0, 1.0, 1.0, 1.0])
        logistic = firth_logistic([0, 1, 1, 0], [1.0, 1.0, 1.0, 1.0])
    assert not fit.converged and np.isnan(fit.coef[0])
    assert not logistic.converged and np.isnan(logistic.coef[1])


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="conf_level"):
        _fit([1.0, 2.0], [1, 0], [1.0, 0.0], conf_level=1.5)
    with pytest.raises(ValueError, match="0/1"):
        firth_logistic([0, 2], [0.0, 1.0])
    with pytest.raises(ValueError, match="rows"):
        firth_logistic([0, 1, 1], [0.0, 1.0])


# --- the module without firthmodels ---------------------------------------------------


def test_only_the_firthmodels_comparisons_skip_without_firthmodels():
    """With firthmodels hidden, the published-value and property tests still run."""
    script = (
        "import sys; sys.modules['firthmodels'] = None\n"
        "import pytest\n"
        "sys.exit(pytest.main([sys.argv[1], '-o', 'addopts=', '-p', 'no:cacheprovider',\n"
        "                      '-k', 'not without_firthmodels']))\n"
    )
    here = Path(__file__)
    run = subprocess.run(
        [sys.executable, "-c", script, str(here)],
        cwd=here.parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    passed = int(re.search(r"(\d+) passed", run.stdout).group(1))
    skipped = int(re.search(r"(\d+) skipped", run.stdout).group(1))
    assert skipped == 7  # 4 Cox + 3 logistic comparisons with firthmodels
    assert passed >= 10
