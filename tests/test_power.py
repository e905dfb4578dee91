"""Simulated power (survtdm1.power): batched fits, levels, parallel backends."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from survtdm1.cox import cox_fit, lr_test
from survtdm1.power import _analyse, power_interaction, simulate_trials

DESIGN = dict(n=300, prevalence=0.4, control_median=24.0, accrual=24.0, follow_up=24.0)


def test_batched_analysis_equals_separate_cox_fits():
    trials = simulate_trials(np.random.default_rng(1), 5, hr_negative=0.8, hr_positive=0.4,
                             dropout=0.1, **DESIGN)  # fmt: skip
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
