"""The survival battery of one subgroup from arm x level x distinct-time counts.

Every model the battery fits for a subgroup (the arm within each level, the
interaction models, the trend model) and every KM curve by arm and level
depends on the rows only through the number of rows and events per distinct
time in each cell ``arm + 2 * level``. :func:`subgroup_table` counts them
once (:func:`survtdm1.cox_cells.cell_table`); the fits and curves then cost
a few operations per distinct time, never an ``n x p`` design matrix. The
numbers are those of the row-by-row path (the same likelihoods and the same
Newton loop), which :mod:`survtdm1.subgroups.survival` keeps for the options
that need general designs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .. import cox, cox_cells, km
from ..cox import fit_cells
from ..cox_cells import CellTable, TimeBlocks, cell_table

NAN = float("nan")


@dataclass(frozen=True)
class LevelPieces:
    """What a level's row needs: counts, KM curves, median and landmark survival by arm
    (NaN where not reached or not asked), and the Cox fit if any."""

    n: dict
    events: dict
    curves: dict
    fit: cox.CoxFit | None
    medians: dict
    landmarks: dict


def subgroup_table(
    blocks: TimeBlocks, event: np.ndarray, treated: np.ndarray, codes: np.ndarray, n_levels: int
) -> CellTable:
    """Rows and events per distinct time in each cell ``arm + 2 * level`` (missing left out)."""
    if cox_cells.KERNEL is not None:  # one pass over the rows, the numbers at risk with them
        shape = (blocks.time.shape[0], 2 * n_levels)
        rows, events, at_risk = (np.empty(shape, dtype=np.int64) for _ in range(3))
        cox_cells.KERNEL.count_levels(
            np.ascontiguousarray(blocks.block, dtype=np.int64),
            np.ascontiguousarray(codes, dtype=np.int64),
            np.ascontiguousarray(treated, dtype=float),
            np.ascontiguousarray(event, dtype=bool),
            shape[0],
            n_levels,
            rows,
            events,
            at_risk,
        )
        return CellTable.counted(blocks.time, rows, events, at_risk)
    cell = np.where(codes >= 0, treated.astype(np.int64) + 2 * codes, -1)
    return cell_table(blocks, event, cell, 2 * n_levels)


def level_fits(tables: list[CellTable | None], n_levels: list[int], ties: str) -> dict:
    """The Cox fit of every level where both arms have events, of every subgroup.

    Returns ``{(subgroup index, level index): CoxFit}``
    (:func:`survtdm1.cox.fit_arm_levels`).
    """
    fits = {}
    for i, (table, levels) in enumerate(zip(tables, n_levels, strict=True)):
        if table is None:
            continue
        rows, died = table.totals
        fitted = [
            k
            for k in range(levels)
            if min(rows[2 * k], rows[2 * k + 1], died[2 * k], died[2 * k + 1]) > 0
        ]
        for k, fit in zip(fitted, cox.fit_arm_levels(table, fitted, ties=ties), strict=True):
            fits[(i, k)] = fit
    return fits


def subgroup_pieces(table: CellTable, fits: list, settings) -> list[LevelPieces]:
    """Counts and KM curves by arm of every level of a subgroup, with their Cox fits
    (``fits[k]``, from :func:`level_fits`; None unless both arms have events).

    The curves of all cells come from one pass over the table
    (:func:`survtdm1.km.kaplan_meier_columns`), each equal to its cell's own.
    """
    summaries = km.kaplan_meier_column_summaries(
        table.time,
        table.at_risk(),
        table.events,
        table.rows,
        conf_type=settings.conf_type,
        conf_level=settings.conf_level,
        landmark=settings.landmark,
    )
    curves, medians, landmarks = summaries.curves, summaries.medians, summaries.landmarks
    rows, died = table.totals
    pieces = []
    for level, fit in enumerate(fits):
        n, events, level_curves, level_medians, level_landmarks = {}, {}, {}, {}, {}
        for arm, column in (("treatment", 2 * level + 1), ("control", 2 * level)):
            n[arm], events[arm] = int(rows[column]), int(died[column])
            level_curves[arm] = curves[column]
            level_medians[arm] = float(medians[column])
            level_landmarks[arm] = float(landmarks[column])
        pieces.append(LevelPieces(n, events, level_curves, fit, level_medians, level_landmarks))
    return pieces


@dataclass(frozen=True)
class OverallTests:
    """From the overall table (cells control, treated): the log-rank test and the
    Kaplan-Meier curve of both arms pooled (for the PH test's time transform)."""

    logrank: km.LogRankResult
    pooled: km.KMCurve


def overall_tests(table: CellTable) -> OverallTests:
    """:class:`OverallTests` of the overall table: the same sums as the row-by-row log-rank
    test, and the pooled curve of the counts of both cells (as the rows give it)."""
    at_risk, events, rows = table.at_risk(), table.events, table.rows
    pooled = km.kaplan_meier_columns(
        table.time,
        at_risk[:, :1] + at_risk[:, 1:],
        events[:, :1] + events[:, 1:],
        rows[:, :1] + rows[:, 1:],
    )[0]
    return OverallTests(km.logrank_counts(at_risk, events), pooled)


def _estimable(base: np.ndarray, extra: np.ndarray, weight: np.ndarray, tol: float = 1e-9):
    """:func:`survtdm1.subgroups.common.estimable_columns` on cells standing for rows.

    A cell of ``w`` rows is one row scaled by ``sqrt(w)``: least squares and
    residual norms are then those of the rows.
    """
    root = np.sqrt(weight)[:, None]
    kept = np.column_stack([np.ones(base.shape[0]), base]) * root
    keep = []
    for j in range(extra.shape[1]):
        column = extra[:, j] * root[:, 0]
        fitted = kept @ np.linalg.lstsq(kept, column, rcond=None)[0]
        if np.linalg.norm(column - fitted) > tol * max(1.0, np.linalg.norm(column)):
            keep.append(j)
            kept = np.column_stack([kept, column])
    return np.array(keep, dtype=int)


def interaction_tests(table: CellTable, ordered: bool, ties: str) -> tuple[dict, int, float]:
    """LRT and Wald tests of arm x subgroup, trend test for ordered levels (from counts).

    The models of :func:`survtdm1.subgroups.common.interaction_design`: arm
    and a dummy per present level but the first; arm x dummy where estimable.
    Returns the test columns, the number of interaction terms and the events.
    """
    out = {"p_interaction": NAN, "p_interaction_wald": NAN, "p_trend": NAN}
    rows, died = table.totals
    events = float(died.sum())
    there = rows > 0
    if there.all():  # every cell present: the model is saturated, every term estimable
        main, full_design = _saturated_designs(rows.shape[0])
    else:
        main, interactions = _designs(there)
        keep = _estimable(main[there], interactions[there], rows[there])
        full_design = np.column_stack([main, interactions[:, keep]])
    df = full_design.shape[1] - main.shape[1]
    if df == 0 or events == 0:
        return out, df, events
    reduced = fit_cells(table, main, ties=ties)
    full = fit_cells(
        table,
        full_design,
        ties=ties,
        init=np.append(reduced.coef, np.zeros(df)) if reduced.converged else None,
        loglik_null=reduced.loglik_null,  # every design has the same likelihood at zero
    )
    out["p_interaction"] = cox.lr_test(reduced, full, df)[1]
    if full.converged:
        terms = np.arange(main.shape[1], main.shape[1] + df)
        out["p_interaction_wald"] = cox.wald_test(full, terms)[1]
    if ordered:
        trend = fit_cells(table, _trend_design(rows.shape[0]), ties=ties)
        if trend.converged:
            out["p_trend"] = float(trend.wald_p()[2])
    return out, df, events


def _designs(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The main effects (arm, a dummy per present level but the first) and the arm x
    dummy columns, on the cells ``arm + 2 * level`` (``present``: the cells with rows)."""
    n_cells = present.shape[0]
    arm = np.arange(n_cells) % 2
    level = np.arange(n_cells) // 2
    present_levels = np.unique(level[present])
    dummies = (level[:, None] == present_levels[None, 1:]).astype(float)
    return np.column_stack([arm, dummies]), arm[:, None] * dummies


@functools.lru_cache(maxsize=64)
def _saturated_designs(n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_designs` with every cell present: the main effects, and the full model
    (main effects and every arm x dummy), made once per number of cells (read-only)."""
    main, interactions = _designs(np.ones(n_cells, dtype=bool))
    full = np.column_stack([main, interactions])
    main.setflags(write=False)
    full.setflags(write=False)
    return main, full


@functools.lru_cache(maxsize=64)
def _trend_design(n_cells: int) -> np.ndarray:
    """Arm, rank and arm x rank on the cells ``arm + 2 * level`` (rank = level + 1;
    made once per number of cells, read-only)."""
    arm = (np.arange(n_cells) % 2).astype(float)
    rank = np.arange(n_cells) // 2 + 1.0
    design = np.column_stack([arm, rank, arm * rank])
    design.setflags(write=False)
    return design
