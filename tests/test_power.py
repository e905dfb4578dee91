"""Simulated power (survtdm1.power): batched fits, levels, parallel backends."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from survtdm1.cox import cox_fit, lr_test
from survtdm1.exceptions import PlanError
from survtdm1.power import _analyse, dropout_rate, power_interaction
from survtdm1.simulate.two_arm import simulate_two_arm_trials

DESIGN = dict(n=300, prevalence=0.4, control_median=24.0, accrual=24.0, follow_up=24.0)


def test_batched_analysis_equals_separate_cox_fits():
    trials = simulate_two_arm_trials(np.random.default_rng(1), 5, hr_negative=0.8,
                                     hr_positive=0.4, dropout_rate=dropout_rate(0.1, 12.0),
                                     **DESIGN)  # fmt: skip
    out = _analyse(trials)
    for k in range(5):
        arm, marker = trials.treated[k].astype(float), trials.positive[k].astype(float)
        time, event = trials.time[k], trials.event[k]
        full = cox_fit(time, event, np.column_stack([arm, marker, arm * marker]))
        main = cox_fit(time, event, np.column_stack([arm, marker]))
        chisq, p = lr_test(main, full, 1)
        assert out["chisq_interaction"][k] == pytest.approx(chisq, rel=1e-8)
        assert out["p_interaction"][k] == pytest.approx(p, rel=1e-8)
        for name, rows in (("negative", marker == 0), ("positive", marker == 1)):
            fit = cox_fit(time[rows], event[rows], arm[rows])
            assert out[f"hr_{name}"][k] == pytest.approx(np.exp(fit.coef[0]), rel=1e-8)
            assert out[f"p_{name}"][k] == pytest.approx(fit.wald_p()[0], rel=1e-7)


def test_null_design_keeps_the_level():
    """No interaction: 400 trials; rejections ~ Binomial(400, 0.05), 20 +- 4.4.

    Accept 0.025 <= power <= 0.085 (beyond 3.5 SE on the upper side: the LRT
    is slightly liberal in small samples).
    """
    result = power_interaction(hr_negative=0.7, hr_positive=0.7, n_simulations=400, seed=3,
                               **DESIGN)  # fmt: skip
    power = result.table.set_index("test")["power"]
    assert 0.025 <= power["interaction"] <= 0.085
    assert power["treatment_overall"] > power["treatment_positive"]


def test_strong_interaction_has_high_power():
    result = power_interaction(hr_negative=1.0, hr_positive=0.3, n_simulations=200, seed=4,
                               **DESIGN)  # fmt: skip
    table = result.table.set_index("test")
    assert table.loc["interaction", "power"] >= 0.8
    assert table.loc["treatment_negative", "power"] <= 0.12
    assert table.loc["interaction", "true_effect"] == pytest.approx(0.3)
    assert 0.2 <= table.loc["interaction", "median_estimate"] <= 0.45
    assert (table["power_lower"] <= table["power"]).all()
    assert (table["power"] <= table["power_upper"]).all()
    summary = result.summary()
    assert summary.loc[0, "power_interaction"] == table.loc["interaction", "power"]
    assert "Simulated power" in result._repr_html_()


def test_dropout_reduces_events():
    kwargs = dict(hr_negative=0.7, hr_positive=0.7, n_simulations=50, seed=5, **DESIGN)
    without = power_interaction(**kwargs).simulations["events"].mean()
    with_dropout = power_interaction(dropout=0.3, **kwargs).simulations["events"].mean()
    assert with_dropout < 0.9 * without


def test_seed_determines_result_whatever_n_jobs():
    kwargs = dict(hr_negative=0.8, hr_positive=0.5, n_simulations=120, seed=6, **DESIGN)
    serial = power_interaction(**kwargs)
    parallel = power_interaction(n_jobs=2, **kwargs)
    assert serial.simulations.equals(parallel.simulations)
    assert serial.table.equals(parallel.table)
    other = power_interaction(**{**kwargs, "seed": 7})
    assert not other.simulations.equals(serial.simulations)


def test_dask_backend_gives_the_same_result():
    distributed = pytest.importorskip(
        "dask.distributed", reason="dask[distributed] is not installed (extra: survtdm1[dask])"
    )
    kwargs = dict(hr_negative=0.8, hr_positive=0.5, n_simulations=120, seed=8, **DESIGN)
    local = power_interaction(**kwargs)
    with (
        distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        on_dask = power_interaction(n_jobs=-1, **kwargs)
    assert on_dask.simulations.equals(local.simulations)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"prevalence": 1.0}, "prevalence"),
        ({"hr_positive": 0.0}, "hr_positive"),
        ({"dropout": 1.0}, "dropout"),
        ({"n_simulations": 0}, "n_simulations"),
    ],
)
def test_bad_designs(change, message):
    kwargs = dict(hr_negative=0.8, hr_positive=0.5, n_simulations=10, **DESIGN)
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        power_interaction(**kwargs)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n": 2}, "n must be an integer of at least 4, not 2"),
        ({"n": 300.5}, "n must be an integer"),
        ({"n": True}, "n must be an integer"),
        ({"prevalence": float("nan")}, "prevalence must be a number between 0 and 1, not nan"),
        ({"prevalence": "0.4"}, "prevalence"),
        ({"hr_negative": -0.5}, "hr_negative must be a positive number"),
        ({"hr_positive": float("inf")}, "hr_positive must be a positive number, not inf"),
        ({"control_median": 0}, "control_median"),
        ({"accrual": None}, "accrual"),
        ({"follow_up": -1.0}, "follow_up must be a non-negative number"),
        ({"dropout": -0.1}, "dropout"),
        ({"dropout_time": 0}, "dropout_time"),
        ({"n_simulations": 10.5}, "n_simulations"),
        ({"alpha": 0.0}, "alpha must be a number between 0 and 1, not 0.0"),
        ({"alpha": 5}, "alpha"),
        ({"seed": -1}, "seed must be None, a non-negative integer or a numpy.random.Generator"),
        ({"seed": "42"}, "seed"),
        ({"seed": 4.0}, "seed"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"n_jobs": 1.5}, "n_jobs"),
    ],
)
def test_bad_designs_raise_plan_error(change, message):
    kwargs = dict(hr_negative=0.8, hr_positive=0.5, n_simulations=10, **DESIGN)
    kwargs.update(change)
    with pytest.raises(PlanError, match=message) as caught:
        power_interaction(**kwargs)
    assert str(caught.value).startswith("power_interaction: ")


def test_generator_seed():
    """A Generator is used as given (its spawned children), and is advanced by the call."""
    kwargs = dict(hr_negative=0.8, hr_positive=0.5, n_simulations=60, **DESIGN)
    by_int = power_interaction(seed=9, **kwargs)
    generator = np.random.default_rng(9)
    first = power_interaction(seed=generator, **kwargs)
    second = power_interaction(seed=generator, **kwargs)
    assert first.simulations.equals(by_int.simulations)
    assert not second.simulations.equals(first.simulations)
    assert by_int.seed == 9 and first.seed is None
    assert power_interaction(seed=np.int64(9), **kwargs).seed == 9


@pytest.mark.parametrize(
    "module",
    [
        "survtdm1.stepp",
        "survtdm1.effect_curve",
        "survtdm1.splines",
        "survtdm1.power",
        "survtdm1.simulate.two_arm",
        "survtdm1.cox_batch",
    ],
)
def test_docstring_examples_run(module):
    """The examples in the docstrings are right (cox_fit_cells' once quoted a wrong HR)."""
    import doctest
    import importlib

    failures, _ = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert failures == 0
