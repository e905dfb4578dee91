"""Subgroup specifications: categorical, cut points, quantiles.

A :class:`SubgroupSpec` says how a column is split; :func:`split_levels` applies
it to the cohort's rows and returns level codes and labels, following the
contract's rules:

- categorical: every distinct value is a level, labelled as written (integer
  numbers without a decimal point), ordered numerically when all values are
  numbers, else as strings, unless ``levels`` gives the order;
- cut points: intervals [a, b) ("<a", "a to <b", ">=b"); a value equal to a
  cut goes up;
- quantiles: R ``quantile(type = 7)`` of the known values, intervals (a, b]
  ("<=median"/">median" for [0.5], else "Q1", "Q2", ...); a value equal to a
  quantile goes down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cohort import describe_rows, format_codes, format_value
from .exceptions import InputError, PlanError

_KEYS = {"column", "cutpoints", "quantiles", "levels", "name", "labels"}


@dataclass(frozen=True)
class SubgroupSpec:
    """How to split one column into subgroup levels.

    Attributes
    ----------
    column : str
    cutpoints : tuple of float, optional
    quantiles : tuple of float, optional
        Probabilities in (0, 1).
    levels : tuple, optional
        Explicit order of categorical levels (values as written).
    name : str, optional
        Display name (``subgroup_label``).
    labels : dict, optional
        Display label per level label (``level_label``).
    """

    column: str
    cutpoints: tuple[float, ...] | None = None
    quantiles: tuple[float, ...] | None = None
    levels: tuple | None = None
    name: str | None = None
    labels: tuple[tuple[str, str], ...] | None = None

    @property
    def kind(self) -> str:
        if self.cutpoints is not None:
            return "cutpoints"
        if self.quantiles is not None:
            return "quantiles"
        return "categorical"

    @classmethod
    def from_dict(cls, spec: dict) -> SubgroupSpec:
        """Build from a plan's ``[[subgroup]]`` table, checking every key."""
        if not isinstance(spec, dict):
            raise PlanError(f"a subgroup must be a table with a 'column' key, not {spec!r}")
        unknown = set(spec) - _KEYS
        if unknown:
            raise PlanError(
                f"unknown key(s) {sorted(unknown)} in subgroup {spec.get('column', '?')!r} "
                f"(allowed: {sorted(_KEYS)})"
            )
        column = spec.get("column")
        if not isinstance(column, str) or not column:
            raise PlanError(f"subgroup needs a 'column' string, got {column!r}")
        if "cutpoints" in spec and "quantiles" in spec:
            raise PlanError(f"subgroup {column!r}: give cutpoints or quantiles, not both")
        cutpoints = _numbers(spec, "cutpoints", column)
        quantiles = _numbers(spec, "quantiles", column)
        if quantiles is not None and any(not 0 < q < 1 for q in quantiles):
            raise PlanError(f"subgroup {column!r}: quantiles must lie strictly between 0 and 1")
        levels = spec.get("levels")
        if levels is not None:
            if not isinstance(levels, list | tuple) or not levels:
                raise PlanError(f"subgroup {column!r}: levels must be a non-empty list")
            if cutpoints is not None or quantiles is not None:
                raise PlanError(f"subgroup {column!r}: levels apply to categorical subgroups")
            levels = tuple(format_value(v) for v in levels)
            if len(set(levels)) != len(levels):
                raise PlanError(f"subgroup {column!r}: levels repeat a value")
        name = spec.get("name")
        if name is not None and not isinstance(name, str):
            raise PlanError(f"subgroup {column!r}: name must be a string")
        labels = spec.get("labels")
        if labels is not None:
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                raise PlanError(f"subgroup {column!r}: labels must map levels to strings")
            labels = tuple((format_value(k), v) for k, v in labels.items())
        return cls(column, cutpoints, quantiles, levels, name, labels)


def _numbers(spec: dict, key: str, column: str) -> tuple[float, ...] | None:
    if key not in spec:
        return None
    values = spec[key]
    if (
        not isinstance(values, list | tuple)
        or not values
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        or not all(np.isfinite(values))
    ):
        raise PlanError(f"subgroup {column!r}: {key} must be a non-empty list of numbers")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise PlanError(f"subgroup {column!r}: {key} must be strictly increasing")
    return tuple(values)


def as_spec(spec) -> SubgroupSpec:
    """Accept a :class:`SubgroupSpec`, a plan-style dict or a bare column name."""
    if isinstance(spec, SubgroupSpec):
        return spec
    if isinstance(spec, str):
        return SubgroupSpec(spec)
    return SubgroupSpec.from_dict(spec)


@dataclass(frozen=True)
class LevelSplit:
    """A column split into levels for the rows of a cohort.

    Attributes
    ----------
    spec : SubgroupSpec
    labels : tuple of str
        Level labels in display order.
    codes : ndarray of int
        Level index per row, -1 where the value is missing.
    ordered : bool
        True for cut points and quantiles (levels have a rank).
    boundaries : tuple of float
        The cut values used (the computed quantiles for a quantile split).
    """

    spec: SubgroupSpec
    labels: tuple[str, ...]
    codes: np.ndarray
    ordered: bool
    boundaries: tuple[float, ...] = ()

    @property
    def known(self) -> np.ndarray:
        return self.codes >= 0

    @property
    def display_labels(self) -> tuple[str, ...]:
        mapping = dict(self.spec.labels or ())
        return tuple(mapping.get(label, label) for label in self.labels)


def split_levels(spec: SubgroupSpec, values: pd.Series, source: str = "data") -> LevelSplit:
    """Assign each row to a level of ``spec``.

    Examples
    --------
    >>> s = split_levels(SubgroupSpec("age", cutpoints=(50,)), pd.Series([45, 50, None]))
    >>> s.labels, s.codes.tolist()
    (('<50', '>=50'), [0, 1, -1])
    """
    missing = values.isna().to_numpy()
    if spec.kind == "categorical":
        return _categorical(spec, values, missing, source)
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna().to_numpy() & ~missing
    if bad.any():
        positions = values.index.to_numpy()[bad]
        raise InputError(
            f"{source}: column {spec.column!r} needs numbers for its "
            f"{spec.kind}; non-numeric at {describe_rows(positions)} "
            f"(e.g. {values[bad].iloc[0]!r})"
        )
    x = numeric.to_numpy(dtype=float)
    if spec.kind == "cutpoints":
        cuts = np.asarray(spec.cutpoints, dtype=float)
        codes = np.searchsorted(cuts, x, side="right")
        labels = _cut_labels([format_value(c) for c in spec.cutpoints])
    else:
        known = x[~missing]
        if known.size == 0:
            raise InputError(f"{source}: column {spec.column!r} has no known values")
        cuts = np.quantile(known, spec.quantiles)
        codes = np.searchsorted(cuts, x, side="left")
        if spec.quantiles == (0.5,):
            labels = ("<=median", ">median")
        else:
            labels = tuple(f"Q{k + 1}" for k in range(len(cuts) + 1))
    codes = np.where(missing, -1, codes).astype(np.int64)
    return LevelSplit(spec, tuple(labels), codes, True, tuple(float(c) for c in cuts))


def _cut_labels(cuts: list[str]) -> tuple[str, ...]:
    labels = [f"<{cuts[0]}"]
    labels += [f"{a} to <{b}" for a, b in zip(cuts, cuts[1:], strict=False)]
    labels.append(f">={cuts[-1]}")
    return tuple(labels)


def _categorical(spec: SubgroupSpec, values: pd.Series, missing, source: str) -> LevelSplit:
    value_codes, present = format_codes(values, missing)  # once per distinct value
    if spec.levels is not None:
        unknown = sorted(set(present) - set(spec.levels))
        if unknown:
            raise InputError(
                f"{source}: column {spec.column!r} has values {unknown} that are not among "
                f"the plan's levels {list(spec.levels)}"
            )
        labels = spec.levels
    else:
        labels = tuple(_natural_order(present))
    lookup = {label: k for k, label in enumerate(labels)}
    level_of_value = np.array([lookup[t] for t in present] + [-1], dtype=np.int64)
    codes = level_of_value[value_codes]  # code -1: the -1 at the end
    return LevelSplit(spec, tuple(labels), codes, False)


def _natural_order(labels: list[str]) -> list[str]:
    numbers = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce")
    if len(labels) and numbers.notna().all():
        return [label for _, label in sorted(zip(numbers, labels, strict=True))]
    return sorted(labels)
