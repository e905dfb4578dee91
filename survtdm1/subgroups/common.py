"""What the survival and binary batteries share: the result, the level walk, notes, designs.

A battery walks the subgroups with :func:`iter_subgroups` (one
:class:`Subgroup` per spec, its levels as masks), builds one row per level,
and hands the rows to :func:`assemble_table`. Every row carries a ``note`` for
people and a ``note_kind`` for code: warning classes and forest-plot markers
are chosen from the kind, never from the wording.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..cutpoint import CutpointResult, maxstat_logrank
from ..exceptions import InputError, SeparationWarning, SmallSampleWarning
from ..levels import LevelSplit, SubgroupSpec, numeric_values, split_levels
from ..multiplicity import adjust_interaction_rows

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAN = float("nan")

# note kinds: why a row's estimate is missing, penalised or imprecise
NOTE_KINDS = {
    "": None,
    "firth": SeparationWarning,  # a Firth-penalised estimate replaces the ordinary one
    "small_sample": SmallSampleWarning,  # fewer than MIN_EVENTS events: imprecise
    "not_estimable": SeparationWarning,  # an arm without events (or responders): no estimate
    "no_patients": SeparationWarning,  # an arm without patients
    # the ordinary fit diverged (a monotone likelihood) and no Firth fit was asked for
    "not_converged": SeparationWarning,
    # the subgroup's Wald interaction (or trend) test is empty: an interaction estimate is
    # infinite (an arm of a level has no events); the likelihood-ratio p stands
    "wald_infinite": SeparationWarning,
    # the subgroup's interaction test is empty by construction (one level, no events, or
    # every level holding one arm)
    "not_testable": None,
    # the landmark lies after an arm's last follow-up time: no landmark survival (as R)
    "beyond_follow_up": None,
}


@dataclass(frozen=True)
class SubgroupResult:
    """Result of :func:`~survtdm1.subgroup_analysis` (frozen).

    Attributes
    ----------
    table : DataFrame
        One row per subgroup level, columns of ``subgroups.csv`` (see the
        contract): subgroup, level, n_treatment, n_control, events_treatment,
        events_control, hr, hr_lower, hr_upper, p_value, p_interaction,
        n_missing, median_treatment, median_control, landmark_treatment,
        landmark_control, p_interaction_wald, p_trend, p_interaction_adj,
        df_interaction, note, note_kind, subgroup_label, level_label, level_lower,
        level_upper (the numeric bounds of a cut-point, quantile or maxstat
        level; NaN for categorical levels and an open end).
    overall : Mapping
        The keys of ``summary.json``'s "overall" (a read-only mapping).
    exclusions : DataFrame
        Columns ``reason, n``: every row left out, by reason.
    at_risk : DataFrame
        Columns ``arm, time, n_at_risk`` (arm value as written).
    overall_curves : dict
        Kaplan-Meier curves keyed "treatment" and "control".
    level_curves : dict
        ``{(subgroup, level): {"treatment": KMCurve, "control": KMCurve}}``.
    treatment_label, control_label, time_unit, endpoint : str
    risk_times : tuple of float
    conf_level : float
    warnings : tuple of str
        "column = level: note" for every row with a note.
    endpoint_name : str or None
        Display name of the endpoint (e.g. "IDFS"), for figures.
    landmark, rmst_tau : float or None
        The landmark time and RMST horizon asked for.
    cutpoints : Mapping
        ``{column: CutpointResult}`` for every ``cutpoint = "maxstat"``
        subgroup (read-only; empty otherwise).
    settings : Mapping
        The options actually used (ties, conf_type, p_method, level_strata,
        adjust, cluster, time_unit), as summary.json's ``provenance.settings``.
    """

    table: pd.DataFrame
    overall: dict
    exclusions: pd.DataFrame
    at_risk: pd.DataFrame
    overall_curves: dict
    level_curves: dict
    treatment_label: str
    control_label: str
    time_unit: str
    endpoint: str = "survival"
    risk_times: tuple[float, ...] = ()
    conf_level: float = 0.95
    warnings: tuple[str, ...] = field(default=())
    endpoint_name: str | None = None
    landmark: float | None = None
    rmst_tau: float | None = None
    cutpoints: Mapping[str, CutpointResult] = field(default_factory=dict)
    settings: Mapping = field(default_factory=dict)

    def __post_init__(self):
        # a frozen result: the overall summary is a read-only mapping
        object.__setattr__(self, "overall", read_only(self.overall))
        object.__setattr__(self, "cutpoints", MappingProxyType(dict(self.cutpoints)))
        object.__setattr__(self, "settings", read_only(self.settings))

    def __reduce__(self):
        # pickled (to another process, by joblib) with its read-only mappings as dicts;
        # __post_init__ makes them read-only again
        values = {f.name: _writable(getattr(self, f.name)) for f in fields(self)}
        return (_rebuild, (type(self), values))

    def cutpoints_summary(self) -> dict:
        """``summary.json`` ``cutpoints``: ``{column: {cutpoint, statistic, p_value, method}}``."""
        return {column: cut.summary() for column, cut in self.cutpoints.items()}

    def summary(self) -> pd.DataFrame:
        """The subgroup table (a copy)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        """The overall effect and the subgroup table, rounded and labelled, as in the report."""
        from .._text import display_html, format_effect, format_p, subgroup_display

        o = self.overall
        binary = self.endpoint == "binary"
        effect = "or" if binary else "hr"
        level = f"{self.conf_level * 100:g}%"
        values = [o.get(effect + s) for s in ("", "_lower", "_upper")]
        counts = "; ".join(
            f"{name} {html.escape(str(o.get(f'{k}_treatment', '')))} vs "
            f"{html.escape(str(o.get(f'{k}_control', '')))}"
            for k, name in (
                ("n", "patients"),
                *([("responders", "responders")] if binary else [("events", "events")]),
            )
        )
        text = format_effect(*values)
        if " (" in text:  # "0.51 (0.40–0.66)" -> "0.51 (95% CI 0.40–0.66)"
            text = text.replace(" (", f" ({level} CI ", 1)
        head = (
            f"<p><b>{html.escape(self.treatment_label)} vs {html.escape(self.control_label)}"
            f"</b> ({html.escape(self.endpoint_name or self.endpoint)}): "
            f"{effect.upper()} {html.escape(text)}, "
            f"{html.escape(format_p(o.get('p_value'), label='P'))}; {counts}</p>"
        )
        shown = subgroup_display(
            self.table,
            None,
            treatment_label=self.treatment_label,
            control_label=self.control_label,
            conf_level=self.conf_level,
            medians="median_treatment" in self.table.columns,
        )
        table = display_html(shown) if len(self.table) else "<p>No subgroups.</p>"
        notes = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        tail = "<p>All columns: <code>.table</code>.</p>"
        return head + table + tail + (f"<ul>{notes}</ul>" * bool(notes))

    def plot_forest(self, **kwargs) -> Figure:
        """Forest plot of the table; see :func:`survtdm1.plots.forest.forest_from_result`."""
        from ..plots.forest import forest_from_result

        return forest_from_result(self, **kwargs)

    def plot_km(self, **kwargs) -> Figure:
        """KM curves by arm with at-risk table; see :mod:`survtdm1.plots.km`."""
        from ..plots.km import km_from_result

        return km_from_result(self, **kwargs)


def _writable(value):
    """A copy of ``value`` with every read-only mapping (:func:`read_only`) a dict."""
    if isinstance(value, MappingProxyType):
        return {key: _writable(item) for key, item in value.items()}
    return value


def _rebuild(cls, values: dict):
    return cls(**values)


def read_only(mapping):
    """A read-only view of a (nested) dict, as the overall summary of a result."""
    if not isinstance(mapping, Mapping):
        return mapping
    return MappingProxyType({key: read_only(value) for key, value in mapping.items()})


# --------------------------------------------------------------------------------------
# The level walk
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One level of a subgroup: its label, display label, row mask and numeric bounds."""

    label: str
    display: str
    mask: np.ndarray
    lower: float = NAN
    upper: float = NAN


@dataclass(frozen=True)
class Subgroup:
    """One subgroup split over the battery's rows.

    ``codes`` are per-row level indices (-1 where the value is missing), in
    the order the battery keeps its rows. ``cut`` is the maxstat selection
    of a ``cutpoint = "maxstat"`` spec (None otherwise). ``label`` is the
    display name (``subgroup_label``): the spec's ``name``, else the column's
    label from the cohort (a SAS variable label), else the column name.
    """

    spec: SubgroupSpec
    split: LevelSplit
    codes: np.ndarray
    cut: CutpointResult | None = None
    label: str = ""

    @cached_property
    def n_missing(self) -> int:
        """Rows without a level (counted once: every row of the table shows it)."""
        return int((self.codes < 0).sum())

    def levels(self) -> Iterator[Level]:
        for k, (label, display, (lower, upper)) in enumerate(
            zip(self.split.labels, self.split.display_labels, self.split.bounds(), strict=True)
        ):
            yield Level(label, display, self.codes == k, lower, upper)

    def row(self, level: Level, values: dict, tests: dict) -> dict:
        """A table row: the level's identity, its values and the subgroup's tests."""
        return {
            "subgroup": self.spec.column,
            "level": level.label,
            **values,
            "n_missing": self.n_missing,
            **tests,
            "subgroup_label": self.label or self.spec.name or self.spec.column,
            "level_label": level.display,
            "level_lower": level.lower,
            "level_upper": level.upper,
        }


def add_note(row: dict, note: str, kind: str) -> None:
    """Append ``note`` to a row's note; the row keeps its kind if it has one."""
    if not note:
        return
    row["note"] = f"{row['note']}; {note}" if row.get("note") else note
    if not row.get("note_kind"):
        row["note_kind"] = kind


def iter_subgroups(
    cohort: Cohort, specs, arrange: Callable[[np.ndarray], np.ndarray] | None = None
) -> Iterator[Subgroup]:
    """Each spec split over the cohort's rows; ``arrange`` reorders the codes (e.g. by time).

    A ``cutpoint = "maxstat"`` spec has its cut chosen here, on the cohort's
    rows (the two analysed arms) where the column is known: see
    :func:`maxstat_cut`. A spec without a ``name`` is labelled with the
    cohort's label of its column (``Cohort.labels``: SAS variable labels), if any.
    """
    for spec in specs:
        cut = maxstat_cut(cohort, spec) if spec.kind == "maxstat" else None
        split = split_levels(
            spec,
            cohort.data[spec.column],
            cohort.source,
            cut=None if cut is None else cut.cutpoint,
        )
        codes = split.codes
        if arrange is not None:
            # reordered as bytes where the codes fit one: the random reads of a
            # reordering take a fifth of the time on a million rows
            fits = len(split.labels) < np.iinfo(np.int8).max
            codes = arrange(codes.astype(np.int8) if fits else codes).astype(codes.dtype)
        label = spec.name or cohort.labels.get(spec.column) or spec.column
        yield Subgroup(spec, split, codes, cut=cut, label=label)


def maxstat_cut(cohort: Cohort, spec: SubgroupSpec) -> CutpointResult:
    """The maxstat cut of a subgroup column, as R ``maxstat.test(..., pmethod = "Lau92")``."""
    if cohort.endpoint != "survival":
        raise InputError(
            f'{cohort.source}: subgroup {spec.column!r}: cutpoint = "maxstat" selects a cut '
            "by log-rank statistics and needs a survival endpoint (time and event)"
        )
    values = numeric_values(spec, cohort.data[spec.column], cohort.source)
    try:
        return maxstat_logrank(cohort.times, cohort.events, values, biomarker=spec.column)
    except InputError as err:
        raise InputError(f"{cohort.source}: {err}") from None


def subgroup_cuts(subgroups: list[Subgroup]) -> dict[str, CutpointResult]:
    """``{column: CutpointResult}`` of the maxstat subgroups, in plan order."""
    return {s.spec.column: s.cut for s in subgroups if s.cut is not None}


def missing_ledger(subgroups: list[Subgroup]) -> list[tuple[str, int]]:
    """Exclusion-ledger rows for the subgroup values that are missing."""
    return [
        (f"missing {s.spec.column} (subgroup {s.spec.column} only)", s.n_missing)
        for s in subgroups
        if s.n_missing
    ]


def assemble_table(rows: list[dict], columns: list[str], multiplicity: str) -> pd.DataFrame:
    """The subgroup table in the contract's column order, with ``p_interaction_adj``."""
    p_values = [NAN if row.get("p_interaction") is None else row["p_interaction"] for row in rows]
    adjusted = adjust_interaction_rows([row["subgroup"] for row in rows], p_values, multiplicity)
    for row, p in zip(rows, adjusted.tolist(), strict=True):
        row["p_interaction_adj"] = p
    table = pd.DataFrame(rows, columns=columns)
    if not rows:  # no row to carry it: an empty column of floats
        table["p_interaction_adj"] = adjusted
    return table


def table_notes(table: pd.DataFrame) -> tuple[str, ...]:
    """'column = level: note' for every row with a note."""
    columns = (table[name].tolist() for name in ("subgroup", "level", "note"))
    return tuple(
        f"{subgroup} = {level}: {note}"
        for subgroup, level, note in zip(*columns, strict=True)
        if isinstance(note, str) and note  # not an empty or missing note
    )


def warn_notes(table: pd.DataFrame, stacklevel: int) -> None:
    """Raise each row's note as the warning class of its ``note_kind``."""
    columns = (table[name].tolist() for name in ("subgroup", "level", "note", "note_kind"))
    for subgroup, level, note, kind in zip(*columns, strict=True):
        category = NOTE_KINDS.get(kind)
        if category is not None:
            message = f"{subgroup} = {level}: {note}"
            warnings.warn(message, category, stacklevel=stacklevel + 1)


def check_columns(cohort: Cohort, columns: list[str]) -> None:
    missing = [c for c in columns if c not in cohort.data.columns]
    if missing:
        raise InputError(f"{cohort.source}: column(s) {missing} not found")


# --------------------------------------------------------------------------------------
# Interaction designs (shared by the Cox and logistic tests)
# --------------------------------------------------------------------------------------


def interaction_design(treated: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns of the treatment x subgroup models: main effects and interactions.

    ``main`` holds treatment and a dummy per level but the first present one;
    ``interactions`` the treatment x dummy columns that can be estimated: a
    level holding one arm only leaves its term aliased, so it is dropped, as R
    does (NA coefficient), and the test's df counts only the columns kept.
    """
    present = np.unique(level)
    dummies = (level[:, None] == present[None, 1:]).astype(float)
    main = np.column_stack([treated, dummies])
    interactions = treated[:, None] * dummies
    return main, interactions[:, estimable_columns(main, interactions)]


def estimable_columns(base: np.ndarray, extra: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Indices of the columns of ``extra`` not aliased with ``base`` and earlier ones.

    A column is aliased when it is (numerically) a linear combination of the
    columns before it, the intercept included (the Cox likelihood ignores
    constants), which is how R marks a coefficient NA.
    """
    kept = np.column_stack([np.ones(base.shape[0]), base])
    keep = []
    for j in range(extra.shape[1]):
        column = extra[:, j]
        fitted = kept @ np.linalg.lstsq(kept, column, rcond=None)[0]
        if np.linalg.norm(column - fitted) > tol * max(1.0, np.linalg.norm(column)):
            keep.append(j)
            kept = np.column_stack([kept, column])
    return np.array(keep, dtype=int)


# --------------------------------------------------------------------------------------
# Small shared helpers
# --------------------------------------------------------------------------------------

_ENDPOINTS = ("os", "pfs", "idfs", "dfs", "efs", "rfs", "ttp", "dss", "mfs", "ifs", "bcfi")


def guess_endpoint_name(column: str | None) -> str | None:
    """ "IDFS" for a time column such as ``idfs_months``; None when unsure.

    >>> guess_endpoint_name("pfs_months"), guess_endpoint_name("rfstime")
    ('PFS', 'RFS')
    """
    if not column:
        return None
    head = column.lower().replace("-", "_").split("_")[0]
    for name in sorted(_ENDPOINTS, key=len, reverse=True):
        if head == name or (head.startswith(name) and head[len(name) :] in ("time", "t")):
            return name.upper()
    return None
