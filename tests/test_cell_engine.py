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

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import survtdm1 as st
from survtdm1 import cohort, cox, cox_cells, km
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


# cells as a CSV parse or a user's frame may hold them: text, numbers, booleans, missing values
_CELLS = hs.sampled_from(
    ["pos", "neg", "1", "1.0", "", 1, 1.0, 2.5, True, False, None, np.nan, pd.NA]
)


@settings(max_examples=200, deadline=None)
@given(
    cells=hs.lists(_CELLS, max_size=40),
    shared=hs.booleans(),
    limit=hs.sampled_from([1, 3, cohort.MAX_SHARED_OBJECTS]),
)
def test_format_codes_by_identity_equals_format_value_row_by_row(cells, shared, limit):
    # shared: one object per distinct value (as a CSV parse gives), else a new object per
    # cell; `limit` makes the identity path give way to the factorize by value
    values = np.array(cells if shared else [_fresh(v) for v in cells], dtype=object)
    saved = cohort.MAX_SHARED_OBJECTS, cohort.ROWS_PER_SHARED_OBJECT
    cohort.MAX_SHARED_OBJECTS, cohort.ROWS_PER_SHARED_OBJECT = limit, 1
    try:
        codes, labels = format_codes(pd.Series(values, dtype=object))
    finally:
        cohort.MAX_SHARED_OBJECTS, cohort.ROWS_PER_SHARED_OBJECT = saved
    expected = [None if pd.isna(v) else format_value(v) for v in values]
    assert [labels[k] if k >= 0 else None for k in codes] == expected
    assert labels == list(dict.fromkeys(e for e in expected if e is not None))


def _fresh(value):
    """An equal value held by a new object (text and numbers), else the value itself."""
    if isinstance(value, str):
        return value.encode().decode()
    if type(value) is float:
        return float(repr(value))
    return value


def test_format_codes_of_a_parsed_text_column_uses_one_object_per_value():
    # the identity path applies where a CSV parse shares its strings
    parsed = pd.read_csv(io.StringIO("x\n" + "\n".join(["pos", "neg", "NA", "pos"] * 50)))["x"]
    assert cohort._shared_objects(parsed.to_numpy()) is not None
    codes, labels = format_codes(parsed)
    assert labels == ["pos", "neg"]
    assert codes[:4].tolist() == [0, 1, -1, 0]


def _level_table(time, event, treated):
    data = cox.SortedSurvival.from_arrays(time, event)
    cells = data.sort_rows(np.asarray(treated, dtype=np.int64))
    return cell_table(TimeBlocks.from_sorted(data.time), data.event, cells, 2)


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


@settings(max_examples=100, deadline=None)
@given(
    weights=hs.lists(hs.integers(1, 10_000_000), min_size=4, max_size=16).filter(
        lambda w: len(w) % 2 == 0
    )
)
def test_with_every_cell_present_every_interaction_is_estimable(weights):
    # interaction_tests keeps every arm x level term without least squares when no
    # cell is empty: the check by least squares agrees, whatever the cell sizes
    from survtdm1.subgroups import fast

    n_cells = len(weights)
    arm, level = np.arange(n_cells) % 2, np.arange(n_cells) // 2
    dummies = (level[:, None] == np.arange(1, n_cells // 2)[None, :]).astype(float)
    main = np.column_stack([arm, dummies])
    kept = fast._estimable(main, arm[:, None] * dummies, np.array(weights, dtype=float))
    assert kept.tolist() == list(range(n_cells // 2 - 1))


@pytest.mark.parametrize(("n", "seed", "decimals"), [(600, 1, 0), (400, 2, 3), (60, 3, 0)])
def test_the_log_rank_test_from_counts_is_the_row_test(n, seed, decimals):
    # the same sums over the same distinct times: equal bit for bit
    rng = np.random.default_rng(seed)
    time = np.maximum(np.round(rng.exponential(20.0, n), decimals), 0.1)
    event = (rng.random(n) < 0.6).astype(int)
    treated = rng.integers(0, 2, n)
    data = cox.SortedSurvival.from_arrays(time, event)
    table = cell_table(TimeBlocks.from_sorted(data.time), data.event, data.sort_rows(treated), 2)
    rows = km.logrank_test(time, event, treated)
    counts = km.logrank_counts(table.at_risk(), table.events)
    for name in ("chisq", "p_value", "observed", "expected", "variance"):
        assert getattr(counts, name) == getattr(rows, name), name


def test_the_pooled_curve_from_counts_gives_the_row_curve_and_ph_test():
    from survtdm1.subgroups import fast

    rng = np.random.default_rng(11)
    n = 500
    time = np.maximum(np.round(rng.exponential(20.0, n)), 1.0)
    event = (rng.random(n) < 0.6).astype(int)
    treated = rng.integers(0, 2, n)
    data = cox.SortedSurvival.from_arrays(time, event)
    arm = data.sort_rows(treated)
    table = cell_table(TimeBlocks.from_sorted(data.time), data.event, arm, 2)
    tests = fast.overall_tests(table)
    rows = km.kaplan_meier(time, event)
    for name in ("time", "n_risk", "n_event", "surv", "std_err"):
        np.testing.assert_array_equal(getattr(tests.pooled, name), getattr(rows, name))
    fit = cox.cox_fit_sorted(data, arm[:, None].astype(float))
    with_curve = cox.cox_zph(data, arm[:, None], fit, pooled=tests.pooled)
    assert with_curve == cox.cox_zph(data, arm[:, None], fit)


def test_the_wald_test_of_one_coefficient_is_the_solve_of_its_variance():
    rng = np.random.default_rng(5)
    for _ in range(500):
        p = int(rng.integers(1, 4))
        a = rng.normal(size=(p, p))
        fit = cox.CoxFit(rng.normal(size=p), a @ a.T + 0.1 * np.eye(p), 0.0, 0.0, 10, 5, 3, True)
        j = int(rng.integers(0, p))
        chisq, p_value = cox.wald_test(fit, [j])
        coef = fit.coef[[j]]
        want = float(coef @ np.linalg.solve(fit.var[np.ix_([j], [j])], coef))
        assert chisq == pytest.approx(want, rel=1e-15) and 0.0 <= p_value <= 1.0
    singular = cox.CoxFit(np.array([0.5]), np.zeros((1, 1)), 0.0, 0.0, 10, 5, 3, True)
    assert np.isnan(cox.wald_test(singular, [0])).all()
