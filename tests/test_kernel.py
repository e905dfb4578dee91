"""The compiled Cox kernel (survtdm1/_cellfit.c) against the numpy evaluation.

Two checks cover it: its log-likelihood, score and information equal those of
:class:`survtdm1.cox_cells.CellProblem` (the numpy arithmetic, itself checked
against the row fits and R), and its Newton loop takes the steps of
:func:`survtdm1.cox.newton_fit` driven by its own evaluation. Tolerances: the
two evaluations sum in different orders, 1e-11 relative; the two loops make the
same steps, 1e-12.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import survtdm1 as st
from survtdm1 import cox, cox_cells, newton
from survtdm1.cox_cells import CellProblem, CellTable, CompiledProblem, TimeBlocks, cell_table


def test_the_kernel_is_built():
    assert cox_cells.KERNEL is not None, (
        "survtdm1/_cellfit.c was not compiled (is a C compiler installed?): "
        "survtdm1 then runs its numpy evaluation, and the kernel goes untested"
    )


def _table(n, seed, decimals, levels):
    """A cell table ``arm + 2 * level`` of random rows; the last level's treated cell
    empty when ``levels`` > 2 (a cell without rows, as in a sparse subgroup)."""
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(10.0, n), decimals) + 0.1
    event = rng.random(n) < 0.6
    arm = rng.integers(0, 2, n)
    level = rng.integers(0, levels, n)
    if levels > 2:
        arm[level == levels - 1] = 0
    data = cox.SortedSurvival.from_arrays(time, event)
    cell = data.sort_rows(arm + 2 * level)
    return cell_table(TimeBlocks.from_sorted(data.time), data.event, cell, 2 * levels)


def _designs(levels):
    """The battery's models on ``2 * levels`` cells: arm; arm + levels; arm x levels; trend."""
    cells = np.arange(2 * levels)
    arm, level = (cells % 2).astype(float), cells // 2
    dummies = (level[:, None] == np.arange(1, levels)[None, :]).astype(float)
    main = np.column_stack([arm, dummies])
    rank = level + 1.0
    return {
        "main": main,
        "interaction": np.column_stack([main, arm[:, None] * dummies[:, :-1]]),
        "trend": np.column_stack([arm, rank, arm * rank]),
    }


CASES = [(400, 1, 0, 3), (150, 2, 2, 2), (900, 3, 0, 4), (40, 4, 1, 2)]


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize(("n", "seed", "decimals", "levels"), CASES)
def test_the_compiled_evaluation_equals_the_numpy_evaluation(n, seed, decimals, levels, ties):
    table = _table(n, seed, decimals, levels)
    rng = np.random.default_rng(seed + 100)
    for design in _designs(levels).values():
        numpy_side = CellProblem(table, design, ties)
        compiled = CompiledProblem(table, design, ties)
        for scale in (0.0, 0.3, 2.0, 15.0):
            beta = rng.normal(scale=scale, size=design.shape[1])
            ll, score, info = numpy_side.evaluate(beta)
            c_ll, c_score, c_info = compiled.evaluate(beta)
            assert c_ll == pytest.approx(ll, rel=1e-11, abs=1e-9)
            size = max(1.0, float(np.abs(info).max()))
            np.testing.assert_allclose(c_score, score, rtol=1e-11, atol=1e-11 * size)
            np.testing.assert_allclose(c_info, info, rtol=1e-11, atol=1e-11 * size)
            np.testing.assert_array_equal(c_info, c_info.T)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_denominators_of_every_size_give_the_numpy_log_likelihood(ties):
    # the kernel sums the logs of the denominators as the log of their product, kept in
    # range by renormalising; coefficients up to 800 make some denominators fall below
    # 2^-400 (5 times at -800 here), whose logs are then added one by one
    table = _table(400, 1, 0, 3)
    design = _designs(3)["interaction"]
    numpy_side = CellProblem(table, design, ties)
    compiled = CompiledProblem(table, design, ties)
    for size in (300.0, 800.0):
        for sign in (1.0, -1.0):
            beta = sign * size * np.linspace(-1.0, 1.0, design.shape[1])
            ll, _, _ = numpy_side.evaluate(beta)
            c_ll, _, _ = compiled.evaluate(beta)
            assert np.isfinite(ll) and c_ll == pytest.approx(ll, rel=1e-12)


def test_large_tied_groups_summed_as_series_equal_the_event_by_event_sums():
    # 200,000 rows in whole months: hundreds of tied events per time, a small share of
    # those at risk, so that the kernel takes the series (as the numpy TiedSeries does)
    rng = np.random.default_rng(43)
    n = 200_000
    arm, level = rng.integers(0, 2, n), rng.integers(0, 3, n)
    hazard = 0.01 * np.exp(-0.3 * arm + 0.2 * level)
    time = np.ceil(np.minimum(rng.exponential(1.0 / hazard), rng.uniform(30, 90, n)))
    event = rng.random(n) < 0.8
    data = cox.SortedSurvival.from_arrays(time, event)
    cell = data.sort_rows(arm + 2 * level)
    table = cell_table(TimeBlocks.from_sorted(data.time), data.event, cell, 6)
    series = table.event_cells.power[:, 0] > 0
    assert series.sum() >= 20 and not series.all()  # some times as series, some not
    for design in _designs(3).values():
        compiled = CompiledProblem(table, design, "efron")
        by_event = CompiledProblem(table, design, "efron")
        *head, power = by_event._problem
        by_event._problem = (*head, np.zeros_like(power))  # every time event by event
        numpy_side = CellProblem(table, design, "efron")
        for beta in (np.zeros(design.shape[1]), np.linspace(-0.5, 0.5, design.shape[1])):
            ll, score, info = compiled.evaluate(beta)
            for other in (by_event.evaluate(beta), numpy_side.evaluate(beta)):
                assert ll == pytest.approx(other[0], rel=1e-13)
                size = float(np.abs(info).max())
                np.testing.assert_allclose(score, other[1], rtol=1e-9, atol=1e-9 * size)
                np.testing.assert_allclose(info, other[2], rtol=1e-10, atol=1e-12 * size)
    rows = cox.cox_fit_sorted(data, data.sort_rows(arm.astype(float))[:, None])
    fit = cox.fit_cells(table.select([0, 1, 2, 3, 4, 5]), [[0.0], [1.0]] * 3)
    np.testing.assert_allclose(fit.coef, rows.coef, rtol=1e-10)
    assert fit.loglik == pytest.approx(rows.loglik, rel=1e-12)


def test_a_denominator_that_is_not_positive_gives_minus_infinity():
    table = _table(200, 5, 0, 2)
    design = _designs(2)["main"]
    compiled = CompiledProblem(table, design, "efron")
    ll, score, info = compiled.evaluate(np.array([np.nan, 0.0]))
    assert not np.isfinite(ll)
    numpy_ll = CellProblem(table, design, "efron").evaluate(np.array([np.nan, 0.0]))[0]
    assert not np.isfinite(numpy_ll)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize(("n", "seed", "decimals", "levels"), CASES)
def test_the_compiled_loop_takes_the_steps_of_newton_fit(n, seed, decimals, levels, ties):
    table = _table(n, seed, decimals, levels)
    for design in _designs(levels).values():
        compiled = cox.fit_cells(table, design, ties=ties)
        problem = CompiledProblem(table, design, ties)
        loop = cox.newton_fit(problem, n=problem.n, n_events=problem.n_events)
        assert (compiled.converged, compiled.iterations) == (loop.converged, loop.iterations)
        np.testing.assert_allclose(compiled.coef, loop.coef, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(compiled.var, loop.var, rtol=1e-10)
        assert compiled.loglik == pytest.approx(loop.loglik, rel=1e-14)
        assert compiled.loglik_null == pytest.approx(loop.loglik_null, rel=1e-14)
        # from a start, with the null log-likelihood evaluated at zero
        start = loop.coef + 0.1
        again = cox.fit_cells(table, design, ties=ties, init=start)
        from_start = cox.newton_fit(problem, start, n=problem.n, n_events=problem.n_events)
        assert again.iterations == from_start.iterations
        np.testing.assert_allclose(again.coef, from_start.coef, rtol=1e-12, atol=1e-14)
        assert again.loglik_null == pytest.approx(loop.loglik_null, rel=1e-14)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_compiled_and_numpy_fits_agree(ties, monkeypatch):
    for n, seed, decimals, levels in CASES:
        table = _table(n, seed, decimals, levels)
        for design in _designs(levels).values():
            compiled = cox.fit_cells(table, design, ties=ties)
            with monkeypatch.context() as patch:
                patch.setattr(cox_cells, "KERNEL", None)
                numpy_fit = cox.fit_cells(table, design, ties=ties)
            assert compiled.converged == numpy_fit.converged
            assert (compiled.n, compiled.n_events) == (numpy_fit.n, numpy_fit.n_events)
            np.testing.assert_allclose(compiled.coef, numpy_fit.coef, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(compiled.var, numpy_fit.var, rtol=1e-9)
            assert compiled.loglik == pytest.approx(numpy_fit.loglik, rel=1e-12)


def test_a_diverging_fit_is_not_converged_on_either_path(monkeypatch):
    # the one treated event comes when only treated rows are at risk: a monotone likelihood
    data = cox.SortedSurvival.from_arrays(np.arange(1.0, 6.0), np.array([1, 1, 0, 0, 1]))
    cells = data.sort_rows(np.array([0, 0, 1, 1, 1]))
    table = cell_table(TimeBlocks.from_sorted(data.time), data.event, cells, 2)
    compiled = cox.fit_cells(table, [[0.0], [1.0]])
    monkeypatch.setattr(cox_cells, "KERNEL", None)
    numpy_fit = cox.fit_cells(table, [[0.0], [1.0]])
    assert not compiled.converged and not numpy_fit.converged
    assert compiled.coef[0] < -5 and numpy_fit.coef[0] < -5


def test_a_singular_step_falls_back_to_the_numpy_loop(monkeypatch):
    table = _table(300, 6, 0, 2)
    design = np.column_stack([_designs(2)["main"], np.zeros(4)])  # a column of zeros
    problem = CompiledProblem(table, design, "efron")
    iterations = problem.newton(np.zeros(3), newton.RULES)[0]
    assert iterations == -1  # the kernel declines: numpy takes least squares there
    compiled = cox.fit_cells(table, design)
    monkeypatch.setattr(cox_cells, "KERNEL", None)
    numpy_fit = cox.fit_cells(table, design)
    np.testing.assert_array_equal(compiled.coef, numpy_fit.coef)
    assert compiled.converged == numpy_fit.converged


def test_the_compiled_inverse_is_newton_invert():
    rng = np.random.default_rng(41)
    for p in (1, 2, 3, 5, 8):
        for log_cond in (0, 3, 6, 9, 11, 13, 15):
            q = np.linalg.qr(rng.normal(size=(p, p)))[0]
            values = np.logspace(0, log_cond, p) * rng.choice([1.0, 10.0, 1e4])
            info = (q * values) @ q.T
            info = (info + info.T) / 2.0
            var = np.empty((p, p))
            cox_cells.KERNEL.invert(info, var, p, newton.COND_LIMIT)
            want = newton.invert(info)
            if log_cond in (11, 13):  # away from the limit (1e12) both decide alike
                assert np.isnan(var).all() == np.isnan(want).all() == (log_cond == 13 and p > 1)
            if not np.isnan(want).any() and log_cond <= 9:
                tol = 1e-12 * 10.0**log_cond
                np.testing.assert_allclose(var, want, rtol=tol, atol=tol * np.abs(want).max())
    for bad in (np.zeros((2, 2)), np.array([[1.0, np.nan], [np.nan, 1.0]]), np.zeros((1, 1))):
        var = np.empty(bad.shape)
        cox_cells.KERNEL.invert(bad, var, bad.shape[0], newton.COND_LIMIT)
        assert np.isnan(var).all() and np.isnan(newton.invert(bad)).all()


def test_bad_arguments_are_refused():
    table = _table(100, 7, 0, 2)
    with pytest.raises(ValueError, match="ties"):
        cox.fit_cells(table, [[0.0], [1.0], [0.0], [1.0]], ties="exact")
    with pytest.raises(ValueError, match="one row per cell"):
        CompiledProblem(table, np.zeros((3, 1)), "efron")
    problem = CompiledProblem(table, _designs(2)["main"], "efron")
    with pytest.raises(ValueError, match="beta"):
        problem.evaluate(np.zeros(5))
    R, D, Z, present, power = problem._problem
    with pytest.raises(ValueError, match="power"):  # a table of powers of another width
        cox_cells.KERNEL.evaluate(
            R, D, Z, present, power[:, :-1].copy(), *problem._sizes, np.zeros(2),
            np.empty(2), np.empty((2, 2)),
        )  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_cell_counts_equal_the_numpy_counts(seed, monkeypatch):
    # rows and events by time block and cell, rows of cell -1 (a missing level) left out
    rng = np.random.default_rng(seed)
    n, n_blocks, n_cells = 5000, 40 + seed, 3 + 2 * seed
    blocks = TimeBlocks(np.arange(n_blocks, dtype=float), np.sort(rng.integers(0, n_blocks, n)))
    cell = rng.integers(-1, n_cells, n)
    event = rng.random(n) < 0.4
    compiled = cell_table(blocks, event, cell, n_cells)
    monkeypatch.setattr(cox_cells, "KERNEL", None)
    numpy_counts = cell_table(blocks, event, cell, n_cells)
    for name in ("rows", "events"):
        got, expected = getattr(compiled, name), getattr(numpy_counts, name)
        assert got.dtype == expected.dtype and got.shape == (n_blocks, n_cells)
        np.testing.assert_array_equal(got, expected)
    assert compiled.rows.sum() == (cell >= 0).sum()
    assert compiled.events.sum() == (event & (cell >= 0)).sum()


def test_cell_counts_out_of_range_are_refused():
    rows, events = np.zeros((2, 3), dtype=np.int64), np.zeros((2, 3), dtype=np.int64)
    block, event = np.array([0, 1], dtype=np.int64), np.array([True, False])
    count = cox_cells.KERNEL.count_cells
    with pytest.raises(ValueError, match="row 1 has a block or cell out of range"):
        count(block, np.array([0, 3], dtype=np.int64), event, 2, 3, rows, events)
    with pytest.raises(ValueError, match="row 1 has a block or cell out of range"):
        count(np.array([0, 2], dtype=np.int64), np.array([0, 1], dtype=np.int64), event, 2, 3,
              rows, events)  # fmt: skip
    with pytest.raises(ValueError, match="unexpected sizes"):
        count(block, np.array([0, 1], dtype=np.int32), event, 2, 3, rows, events)


def test_the_battery_is_the_same_with_and_without_the_kernel(monkeypatch):
    cohort = st.load_cohort(
        st.datasets.katherine(),
        arm="arm",
        treatment="T-DM1",
        control="Trastuzumab",
        time="idfs_months",
        event="idfs_event",
    )
    subgroups = [
        {"column": "pik3ca"},
        {"column": "hormone_receptor"},
        {"column": "her2_ihc"},
        {"column": "age", "cutpoints": [40, 65]},
        {"column": "her2_mrna", "quantiles": [0.25, 0.5, 0.75]},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = st.subgroup_analysis(cohort, subgroups, landmark=36, rmst_tau=36).table
        monkeypatch.setattr(cox_cells, "KERNEL", None)
        numpy_table = st.subgroup_analysis(cohort, subgroups, landmark=36, rmst_tau=36).table
    numbers = compiled.select_dtypes("number").columns
    assert list(numbers) == list(numpy_table.select_dtypes("number").columns)
    np.testing.assert_allclose(
        compiled[numbers].to_numpy(float), numpy_table[numbers].to_numpy(float), rtol=1e-9
    )
    assert compiled.drop(columns=numbers).equals(numpy_table.drop(columns=numbers))


def _fields(fit):
    """Every field of a fit, NaN equal to NaN."""
    return repr((fit.coef.tolist(), fit.var.tolist(), fit.loglik, fit.loglik_null, fit.n,
                 fit.n_events, fit.iterations, fit.converged))  # fmt: skip


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize(
    ("n", "seed", "decimals", "levels"), [*CASES, (3000, 5, -1, 3), (4000, 8, -1, 2)]
)
def test_the_level_fits_in_one_call_equal_the_fits_one_by_one(n, seed, decimals, levels, ties):
    # the same arithmetic from the same counts: equal bit for bit. Times rounded to tens
    # give tied groups of 32 events and more, which the one-call fit hands back
    table = _table(n, seed, decimals, levels)
    died, rows = table.events.sum(axis=0), table.rows.sum(axis=0)
    fitted = [k for k in range(levels) if min(died[2 * k : 2 * k + 2]) > 0 < rows[2 * k]]
    at_once = cox.fit_arm_levels(table, fitted, ties=ties)
    one_by_one = cox.fit_arm_cells([table.select([2 * k, 2 * k + 1]) for k in fitted], ties=ties)
    assert [_fields(f) for f in at_once] == [_fields(f) for f in one_by_one]
    if decimals < 0:  # the series path was taken by the fallback
        assert table.events.max() >= cox_cells.SERIES_MIN_TIES


def test_level_fits_in_one_call_of_a_diverging_level_and_without_the_kernel(monkeypatch):
    # level 0 as in the diverging fit above; level 1 an ordinary one
    event = np.array([1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0])
    data = cox.SortedSurvival.from_arrays(np.arange(1.0, 13.0), event)
    cells = data.sort_rows(np.array([0, 0, 1, 1, 1, 2, 3, 2, 3, 3, 2, 3]))
    table = cell_table(TimeBlocks.from_sorted(data.time), data.event, cells, 4)
    at_once = cox.fit_arm_levels(table, [0, 1])
    one_by_one = cox.fit_arm_cells([table.select([0, 1]), table.select([2, 3])])
    assert [_fields(f) for f in at_once] == [_fields(f) for f in one_by_one]
    assert not at_once[0].converged and at_once[1].converged
    monkeypatch.setattr(cox_cells, "KERNEL", None)
    numpy_fits = cox.fit_arm_levels(table, [0, 1])
    np.testing.assert_allclose(numpy_fits[1].coef, at_once[1].coef, rtol=1e-12)
    assert cox.fit_arm_levels(table, []) == []


def test_level_fits_of_a_level_out_of_range_are_refused():
    table = _table(100, 7, 0, 2)
    with pytest.raises(ValueError, match="level 2 out of range"):
        cox.fit_arm_levels(table, [0, 2])
    with pytest.raises(ValueError, match="ties"):
        cox.fit_arm_levels(table, [0], ties="exact")


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
@pytest.mark.parametrize(("n", "seed", "decimals", "levels"), CASES)
def test_compiled_km_columns_equal_the_numpy_columns(n, seed, decimals, levels, conf_type,
                                                      monkeypatch):  # fmt: skip
    from survtdm1 import km

    table = _table(n, seed, decimals, levels)  # the last level's treated cell has no rows
    rows, events = table.rows.copy(), table.events.copy()
    last = np.flatnonzero(rows[:, 0])[-1]
    events[last, 0] = rows[last, 0]  # the last rows of a cell all die: S = 0 there
    args = (table.time, CellTable(table.time, rows, events).at_risk(), events, rows)
    compiled = km.kaplan_meier_columns(*args, conf_type=conf_type, conf_level=0.9)
    monkeypatch.setattr(cox_cells, "KERNEL", None)
    numpy_curves = km.kaplan_meier_columns(*args, conf_type=conf_type, conf_level=0.9)
    assert len(compiled) == len(numpy_curves) == 2 * levels
    assert compiled[0].surv[-1] == 0.0
    if levels > 2:
        assert compiled[-1].time.size == 0
    for ours, theirs in zip(compiled, numpy_curves, strict=True):
        for name in ("time", "n_risk", "n_event", "n_censor", "surv", "std_err"):
            np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
        # the limits by the C library's log and exp, numpy's own where it has them (with
        # AVX-512): equal here, within an ulp or two there
        for name in ("lower", "upper"):
            np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-14)


def _summaries(args, landmark):
    from survtdm1 import km

    return km.kaplan_meier_column_summaries(*args, landmark=landmark)


@pytest.mark.parametrize(("n", "seed", "decimals", "levels"), [*CASES, (8, 9, 0, 2)])
def test_compiled_medians_and_landmarks_equal_the_numpy_ones(n, seed, decimals, levels,
                                                              monkeypatch):  # fmt: skip
    from survtdm1 import km

    table = _table(n, seed, decimals, levels)
    args = (table.time, table.at_risk(), table.events, table.rows)
    # before the first time, at a time, between times, after the last; none
    landmarks = [0.0, float(table.time[3]), float(table.time[3]) + 1e-9, 1e9, None]
    compiled = [_summaries(args, t) for t in landmarks]
    monkeypatch.setattr(cox_cells, "KERNEL", None)
    numpy_ones = [_summaries(args, t) for t in landmarks]
    for t, ours, theirs in zip(landmarks, compiled, numpy_ones, strict=True):
        np.testing.assert_array_equal(ours.medians, theirs.medians)
        np.testing.assert_array_equal(ours.landmarks, theirs.landmarks)
        want = [km.median_survival(c)[0] for c in theirs.curves]
        np.testing.assert_array_equal(ours.medians, want)
        want = [np.nan if t is None else km.survival_at(c, t).surv for c in theirs.curves]
        np.testing.assert_array_equal(ours.landmarks, want)


def test_a_compiled_median_on_a_flat_at_one_half_is_its_midpoint():
    from survtdm1 import km

    # one of two dies at 2: S = 1/2 from 2 to the last time 5, so the median is 3.5 (R)
    time = np.array([1.0, 2.0, 5.0])
    rows = np.array([[1, 0], [1, 1], [1, 1]])
    events = np.array([[0, 0], [1, 0], [0, 0]])
    at_risk = CellTable(time, rows, events).at_risk()
    summaries = km.kaplan_meier_column_summaries(time, at_risk, events, rows)
    assert summaries.medians[0] == 3.5 == km.median_survival(summaries.curves[0])[0]
    assert np.isnan(summaries.medians[1])


@pytest.mark.parametrize(
    ("n", "seed", "decimals", "levels"), [*CASES, (40_000, 5, 2, 3), (0, 1, 0, 2)]
)
def test_compiled_event_cells_equal_the_numpy_ones(n, seed, decimals, levels, monkeypatch):
    # 40,000 rows: tied groups of 32 events and more, a small share of those at risk,
    # whose Efron sums are taken as series
    table = _table(n, seed, decimals, levels)
    compiled = CellTable(table.time, table.rows, table.events).event_cells
    monkeypatch.setattr(cox_cells, "KERNEL", None)
    numpy_cells = CellTable(table.time, table.rows, table.events).event_cells
    for name in ("R", "D", "n_cell", "power"):
        got, want = getattr(compiled, name), getattr(numpy_cells, name)
        assert got.dtype == want.dtype and got.shape == want.shape, name
        np.testing.assert_array_equal(got, want)
    assert compiled.n_events == numpy_cells.n_events
    if n > 10_000:
        assert compiled.power.any()


def test_one_fit_diverges_as_the_same_fit_in_a_batch():
    rng = np.random.default_rng(43)
    odd = [np.nan, np.inf, -np.inf, 11.0, -10.5, 0.0, -1.0]
    seen = set()
    for _ in range(3000):
        p = int(rng.integers(1, 5))
        beta, var = rng.normal(size=p), np.eye(p) * rng.uniform(0.1, 2.0)
        for values in (beta, var):
            flat = values.reshape(-1)  # a view: the odd value lands in beta or var
            if rng.random() < 0.5:
                flat[rng.integers(0, flat.size)] = rng.choice(odd)
        one = newton.diverged(beta, var)
        assert one == bool(newton.diverged(beta[None], var[None])[0])
        seen.add(one)
    assert seen == {True, False}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_level_counts_equal_the_numpy_counts(seed, monkeypatch):
    from survtdm1.subgroups import fast

    rng = np.random.default_rng(seed)
    n, n_blocks, levels = 5000, 40 + seed, 1 + 2 * seed
    blocks = TimeBlocks(np.arange(n_blocks, dtype=float), np.sort(rng.integers(0, n_blocks, n)))
    codes = rng.integers(-1, levels, n)  # -1: a missing level, left out
    treated = rng.integers(0, 2, n).astype(float)
    event = rng.random(n) < 0.4
    compiled = fast.subgroup_table(blocks, event, treated, codes, levels)
    monkeypatch.setattr(cox_cells, "KERNEL", None)
    numpy_counts = fast.subgroup_table(blocks, event, treated, codes, levels)
    for name in ("rows", "events"):
        np.testing.assert_array_equal(getattr(compiled, name), getattr(numpy_counts, name))
    np.testing.assert_array_equal(compiled.at_risk(), numpy_counts.at_risk())
    assert compiled.at_risk().dtype == numpy_counts.at_risk().dtype == np.int64


def test_level_counts_out_of_range_are_refused():
    out = [np.zeros((2, 4), dtype=np.int64) for _ in range(3)]
    block, event = np.array([0, 1], dtype=np.int64), np.array([True, False])
    count = cox_cells.KERNEL.count_levels
    arm = np.array([0.0, 1.0])
    with pytest.raises(ValueError, match="row 1 has a block, level or arm out of range"):
        count(block, np.array([0, 2], dtype=np.int64), arm, event, 2, 2, *out)
    with pytest.raises(ValueError, match="row 0 has a block, level or arm out of range"):
        count(block, np.array([0, 1], dtype=np.int64), np.array([2.0, 1.0]), event, 2, 2, *out)
    with pytest.raises(ValueError, match="row 1 has a block, level or arm out of range"):
        count(np.array([0, 2], dtype=np.int64), np.array([0, 1], dtype=np.int64), arm, event,
              2, 2, *out)  # fmt: skip
    with pytest.raises(ValueError, match="unexpected sizes"):
        count(block, np.array([0, 1], dtype=np.int32), arm, event, 2, 2, *out)
