"""The battery from counts (cox_cells, subgroups/fast) against the row-by-row fits.

The R reference values of the battery are checked in test_battery_reference.py
(the battery now runs on counts); here the two engines must agree with each
other far below those tolerances, with and without tied times, for Efron and
Breslow, including levels where estimates do not exist. Every test runs twice:
with the compiled kernel (survtdm1/_cellfit.c) and with the numpy evaluation
that an install without a C compiler uses (test_kernel.py compares the two
directly).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import survtdm1 as st
from survtdm1 import cox, cox_cells, km
from survtdm1.cohort import format_codes, format_value
from survtdm1.cox_cells import TimeBlocks, cell_table
from survtdm1.subgroups import survival

SUBGROUPS = [
    {"column": "marker"},
    {"column": "grade"},
    {"column": "age", "cutpoints": [50, 65]},
    {"column": "score", "quantiles": [0.25, 0.5, 0.75]},
]


@pytest.fixture(params=["compiled", "numpy"], autouse=True)
def engine(request, monkeypatch):
    """The compiled kernel, or the numpy evaluation (the kernel switched off)."""
    if request.param == "numpy":
        monkeypatch.setattr(cox_cells, "KERNEL", None)
    return request.param


def _cohort(n: int, seed: int, decimals: int):
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    marker = rng.choice(["pos", "neg"], n, p=[0.3, 0.7]).astype(object)
    marker[rng.random(n) < 0.1] = None
    hazard = 0.02 * np.exp(-0.4 * treated + 0.3 * (marker == "pos"))
    event_time = rng.exponential(1.0 / hazard)
    censor = rng.uniform(20.0, 60.0, n)
    frame = pd.DataFrame(
        {
            "arm": np.where(treated == 1, "A", "B"),
            "time": np.maximum(np.round(np.minimum(event_time, censor), decimals), 0.1),
            "event": (event_time <= censor).astype(int),
            "marker": marker,
            "grade": rng.choice([1, 2, 3], n),
            "age": rng.integers(25, 85, n),
            "score": rng.normal(size=n),
        }
    )
    return st.load_cohort(frame, arm="arm", treatment="A", control="B", time="time", event="event")


def _battery(cohort, ties, fast, monkeypatch):
    monkeypatch.setattr(survival, "_fast_path_applies", lambda settings: fast)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return st.subgroup_analysis(cohort, SUBGROUPS, landmark=24, rmst_tau=24, ties=ties)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize(("n", "seed", "decimals"), [(600, 1, 0), (400, 2, 3), (60, 3, 0)])
def test_battery_from_counts_matches_the_row_fits(n, seed, decimals, ties, monkeypatch):
    cohort = _cohort(n, seed, decimals)
    fast = _battery(cohort, ties, True, monkeypatch)
    rows = _battery(cohort, ties, False, monkeypatch)
    numeric = [c for c in rows.table.columns if rows.table[c].dtype.kind == "f"]
    a = fast.table[numeric].to_numpy(float)
    b = rows.table[numeric].to_numpy(float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    # the same likelihoods and Newton loop: agreement to rounding (1e-8 relative)
    np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    assert list(fast.table["note"]) == list(rows.table["note"])
    for key, curves in rows.level_curves.items():
        for arm, curve in curves.items():
            other = fast.level_curves[key][arm]
            for name in ("time", "n_risk", "n_event", "n_censor", "surv", "std_err"):
                np.testing.assert_array_equal(getattr(other, name), getattr(curve, name))


@pytest.mark.parametrize("by_time", [False, True])
@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_fit_from_counts_matches_the_row_fit(ties, by_time, monkeypatch):
    if by_time:  # Efron's sums per event time (the path of fits with many events)
        monkeypatch.setattr(cox_cells, "ARM_TERMS_LIMIT", 0)
    rng = np.random.default_rng(7)
    n = 500
    time = np.round(rng.exponential(10.0, n))
    event = rng.random(n) < 0.7
    level = rng.integers(0, 3, n)
    treated = rng.integers(0, 2, n)
    cells = treated + 2 * level
    design = np.column_stack([np.arange(6) % 2, np.arange(6) // 2 == 1, np.arange(6) // 2 == 2])
    design = np.column_stack([design, design[:, 0] * design[:, 1]]).astype(float)
    data = cox.SortedSurvival.from_arrays(time, event)
    rows = cox.cox_fit_sorted(data, data.sort_rows(design[cells]), ties=ties)
    table = cell_table(TimeBlocks.from_sorted(data.time), data.event, data.sort_rows(cells), 6)
    counts = cox.fit_cells(table, design, ties=ties)
    np.testing.assert_allclose(counts.coef, rows.coef, rtol=1e-10)
    np.testing.assert_allclose(counts.var, rows.var, rtol=1e-9)
    assert counts.loglik == pytest.approx(rows.loglik, rel=1e-12)
    assert (counts.n, counts.n_events, counts.converged) == (rows.n, rows.n_events, True)
    # the log-likelihood at zero is that of any design on the same rows
    main = cox.fit_cells(table, design[:, :1], ties=ties)
    assert main.loglik_null == pytest.approx(counts.loglik_null, rel=1e-13)
    warm = cox.fit_cells(table, design, ties=ties, init=counts.coef * 0.9)
    assert warm.loglik_null == pytest.approx(counts.loglik_null, rel=1e-13)


def test_cox_fit_of_a_binary_covariate_uses_counts_with_the_same_result():
    rng = np.random.default_rng(3)
    time = np.round(rng.exponential(10.0, 2000), 1)
    event = rng.random(2000) < 0.6
    arm = rng.integers(0, 2, 2000)
    fit = cox.cox_fit(time, event, arm)
    data = cox.SortedSurvival.from_arrays(time, event)
    rows = cox.cox_fit_sorted(data, data.sort_rows(arm.astype(float)))
    np.testing.assert_allclose(fit.coef, rows.coef, rtol=1e-10)
    np.testing.assert_allclose(fit.var, rows.var, rtol=1e-9)
    assert fit.loglik_null == pytest.approx(rows.loglik_null, rel=1e-12)


def test_kaplan_meier_from_counts_equals_the_row_estimate():
    time = np.array([1.0, 2, 2, 3, 4, 4, 4, 6])
    event = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    curve = km.kaplan_meier(time, event)
    counts = km.kaplan_meier_counts(
        curve.time, curve.n_risk, curve.n_event, curve.n_censor, conf_type="log-log"
    )
    for name in ("surv", "std_err", "lower", "upper"):
        np.testing.assert_array_equal(getattr(counts, name), getattr(curve, name))


@pytest.mark.parametrize(
    "values",
    [
        [2.0, None, 1.5, 2],
        ["a", None, "b", "a", np.nan],
        [1, True, 1.0, "x", None, 0, False],
        [3, 1, 2],
        [True, False, None],
        [None, None],
    ],
)
def test_format_codes_equals_format_value_row_by_row(values):
    series = pd.Series(values, dtype=object if any(v is None for v in values) else None)
    codes, labels = format_codes(series)
    expected = [format_value(v) if pd.notna(v) else None for v in series]
    assert [labels[k] if k >= 0 else None for k in codes] == expected
    assert labels == list(dict.fromkeys(e for e in expected if e is not None))


def _level_table(time, event, treated):
    data = cox.SortedSurvival.from_arrays(time, event)
    cells = data.sort_rows(np.asarray(treated, dtype=np.int64))
    return cell_table(TimeBlocks.from_sorted(data.time), data.event, cells, 2)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_the_levels_fitted_together_equal_the_levels_fitted_one_by_one(ties):
    rng = np.random.default_rng(11)
    tables = []
    for n, decimals in ((300, 0), (80, 1), (40, 3), (900, 0)):
        time = np.round(rng.exponential(10.0, n), decimals) + 0.1
        tables.append(_level_table(time, rng.random(n) < 0.6, rng.integers(0, 2, n)))
    # a monotone likelihood: the one treated event comes when only treated rows are at risk
    tables.append(_level_table([1.0, 2.0, 3.0, 4.0, 5.0], [1, 1, 0, 0, 1], [0, 0, 1, 1, 1]))
    together = cox.fit_arm_cells(tables, ties=ties)
    for table, fit in zip(tables, together, strict=True):
        alone = cox.fit_cells(table, [[0.0], [1.0]], ties=ties)
        assert (fit.converged, fit.n, fit.n_events) == (alone.converged, alone.n, alone.n_events)
        if not alone.converged:
            # a diverging fit: the log-likelihood creeps to its bound by steps of rounding
            # size, where the two sums may order their last bits differently
            assert abs(fit.coef[0]) > 5 and abs(alone.coef[0]) > 5
            continue
        assert fit.iterations == alone.iterations
        np.testing.assert_allclose(fit.coef, alone.coef, rtol=1e-12)
        np.testing.assert_allclose(fit.var, alone.var, rtol=1e-10)
        assert fit.loglik == pytest.approx(alone.loglik, rel=1e-13)
        assert fit.loglik_null == pytest.approx(alone.loglik_null, rel=1e-13)
    assert [fit.converged for fit in together] == [True, True, True, True, False]
    assert cox.fit_arm_cells([], ties=ties) == []


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_the_arm_fit_term_by_term_equals_the_fit_from_sums_per_time(ties, monkeypatch):
    rng = np.random.default_rng(13)
    n = 3000
    treated = rng.integers(0, 2, n)
    time = np.ceil(rng.exponential(8.0 * np.exp(0.4 * treated)))  # many ties
    event = rng.random(n) < 0.7
    table = _level_table(time, event, treated)
    terms = cox.fit_cells(table, [[0.0], [1.0]], ties=ties)
    monkeypatch.setattr(cox_cells, "ARM_TERMS_LIMIT", 0)  # every fit by sums per time
    by_time = cox.fit_cells(table, [[0.0], [1.0]], ties=ties)
    np.testing.assert_allclose(terms.coef, by_time.coef, rtol=1e-12)
    np.testing.assert_allclose(terms.var, by_time.var, rtol=1e-10)
    assert terms.loglik == pytest.approx(by_time.loglik, rel=1e-13)
    assert terms.iterations == by_time.iterations
    data = cox.SortedSurvival.from_arrays(time, event)
    rows = cox.cox_fit_sorted(data, data.sort_rows(treated.astype(float))[:, None], ties=ties)
    np.testing.assert_allclose(terms.coef, rows.coef, rtol=1e-10)


def test_level_fits_of_many_events_are_fitted_one_by_one_with_the_same_result(monkeypatch):
    rng = np.random.default_rng(21)
    tables = []
    for n in (400, 900):
        time = np.ceil(rng.exponential(6.0, n))  # many ties
        tables.append(_level_table(time, rng.random(n) < 0.7, rng.integers(0, 2, n)))
    batch = cox.fit_arm_cells(tables)
    monkeypatch.setattr(cox_cells, "ARM_TERMS_LIMIT", 100)  # fewer than the events
    single = cox.fit_arm_cells(tables)
    for a, b in zip(batch, single, strict=True):
        np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
        np.testing.assert_allclose(a.var, b.var, rtol=1e-10)
        assert a.loglik == pytest.approx(b.loglik, rel=1e-13)


def test_efron_sums_of_large_tied_groups_as_series_equal_the_event_by_event_sums():
    from types import SimpleNamespace

    from survtdm1.cox_cells import TiedSeries, efron_sums

    rng = np.random.default_rng(5)
    size = np.concatenate([rng.integers(1, 60, 300), [32, 500, 4000]]).astype(float)
    T0 = size * rng.uniform(150.0, 1e5, size.shape[0])  # weighted at risk
    F0 = size * rng.uniform(0.2, 3.0, size.shape[0])  # weighted events
    counts = size.astype(np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    group = np.repeat(np.arange(size.shape[0]), counts)
    frac = (np.arange(group.shape[0]) - first[group]) / size[group]
    layout = dict(size=size, efron=True, counts=counts, first=first, frac=frac)
    series = TiedSeries.build(size, F0 / T0)
    assert series is not None and series.large.size > 20 and series.small.size > 20
    got = efron_sums(T0, F0, SimpleNamespace(**layout, series=series))
    want = efron_sums(T0, F0, SimpleNamespace(**layout, series=None))
    # the three sums of the series agree with the event-by-event ones to rounding
    for index in (0, 1, 3):
        np.testing.assert_allclose(got[index], want[index], rtol=1e-13)
    # f/den, f/den^2, f^2/den^2 follow from them by differences that cancel (in both
    # ways alike). They enter the score and information multiplied by F (<= F0) where
    # 1/den and 1/den^2 are multiplied by T (<= T0): measured against direct sums, each
    # is exact to 1e-9 of the term it stands beside
    den = np.repeat(T0, counts) - frac * np.repeat(F0, counts)
    direct = [np.add.reduceat(frac**j / den**m, first) for j, m in ((1, 1), (1, 2), (2, 2))]
    ratio = T0 / F0
    beside = (got[1] * ratio, got[3] * ratio, got[3] * ratio**2)
    for index, exact, scale in zip((2, 4, 5), direct, beside, strict=True):
        assert np.all(np.abs(got[index] - exact) <= 1e-9 * scale)
    # a group holding a large share of the weight at risk is summed event by event
    heavy = T0.copy()
    heavy[series.large[0]] = F0[series.large[0]] * 1.2
    assert series.sums(heavy, F0, size) is None


def test_a_fit_with_hundreds_of_tied_events_per_time_equals_the_row_fit():
    rng = np.random.default_rng(9)
    n = 120_000
    treated = rng.integers(0, 2, n)
    time = np.ceil(rng.exponential(40.0 * np.exp(0.3 * treated)))  # ~300 distinct times
    event = rng.random(n) < 0.6
    data = cox.SortedSurvival.from_arrays(time, event)
    table = cell_table(TimeBlocks.from_sorted(data.time), data.event, data.sort_rows(treated), 2)
    counts = cox.fit_cells(table, [[0.0], [1.0]])
    assert table.events.sum() > 50_000  # the path of fits with many events (series)
    rows = cox.cox_fit_sorted(data, data.sort_rows(treated.astype(float))[:, None])
    np.testing.assert_allclose(counts.coef, rows.coef, rtol=1e-9)
    np.testing.assert_allclose(counts.var, rows.var, rtol=1e-8)
    assert counts.loglik == pytest.approx(rows.loglik, rel=1e-12)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_the_float_newton_loop_of_one_arm_takes_the_steps_of_newton_fit(ties, monkeypatch):
    from survtdm1.cox_cells import CellProblem

    monkeypatch.setattr(cox_cells, "KERNEL", None)  # the float loop is the numpy path's
    rng = np.random.default_rng(23)
    tables = []
    for n, decimals in ((300, 0), (60, 1), (2000, 2)):
        time = np.round(rng.exponential(10.0, n), decimals) + 0.1
        tables.append(_level_table(time, rng.random(n) < 0.6, rng.integers(0, 2, n)))
    tables.append(_level_table([1.0, 2.0, 3.0, 4.0, 5.0], [1, 1, 0, 0, 1], [0, 0, 1, 1, 1]))
    tables.append(_level_table([1.0, 2.0, 3.0], [0, 0, 0], [0, 1, 1]))  # no events
    for table in tables:
        fast = cox.fit_cells(table, [[0.0], [1.0]], ties=ties)
        problem = CellProblem(table, np.array([[0.0], [1.0]]), ties)
        loop = cox.newton_fit(problem, n=problem.n, n_events=problem.n_events)
        assert (fast.converged, fast.iterations) == (loop.converged, loop.iterations)
        np.testing.assert_allclose(fast.coef, loop.coef, rtol=1e-13)
        np.testing.assert_allclose(fast.var, loop.var, rtol=1e-12)
        assert fast.loglik == pytest.approx(loop.loglik, rel=1e-14, abs=1e-12)
        assert fast.loglik_null == pytest.approx(loop.loglik_null, rel=1e-14, abs=1e-12)
