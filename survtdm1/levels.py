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
  quantile goes down;
- maxstat (``cutpoint = "maxstat"``): two levels "<=c" and ">c" at a cut c
  chosen from the data by the analysis (:mod:`survtdm1.cutpoint`) and passed to
  :func:`split_levels` as ``cut``.

Order of categorical levels: numbers in numeric order; text as R ``factor()``
sorts it in the C locale, i.e. by bytes (Unicode code points): digits before
uppercase letters before lowercase letters ("B" before "a"), so the first level,
the reference of the interaction models, is predictable whatever the machine's
locale. ``levels`` overrides the order; ``ordered = true`` gives the levels ranks
1..k in that order for the trend test (``p_trend``), as cut points and
quantiles always have.

A categorical column of numbers with more than :data:`MAX_NUMERIC_LEVELS`
distinct values is refused (a continuous biomarker split into one level per
value is never what is meant): give cutpoints, quantiles or levels.

Each level also has numeric bounds (:meth:`LevelSplit.bounds`): the interval
ends of a cut-point, quantile or maxstat level as computed from the data, NaN
for an open end and for categorical levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cohort import describe_rows, format_codes, format_value
from .exceptions import InputError, PlanError

_KEYS = {"column", "cutpoints", "quantiles", "levels", "name", "labels", "ordered", "cutpoint"}
#: Cut-point methods of ``cutpoint = "..."`` (chosen from the data by the analysis).
CUTPOINT_METHODS = ("maxstat",)
#: Most distinct values a numeric column may have as a categorical subgroup.
MAX_NUMERIC_LEVELS = 20
#: Most levels any categorical subgroup may have (a forest plot of more is unreadable,
#: and a column of one value per patient, such as an id, is no subgroup).
MAX_LEVELS = 200
NAN = float("nan")


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
    ordered : bool
        Categorical levels have ranks 1..k in their order (``levels`` or the
        default order): the battery reports the trend test ``p_trend``.
    cutpoint : {"maxstat"}, optional
        The cut is chosen from the data: maximally selected log-rank
        statistics (R ``maxstat.test``), levels "<=c" and ">c".
    """

    column: str
    cutpoints: tuple[float, ...] | None = None
    quantiles: tuple[float, ...] | None = None
    levels: tuple | None = None
    name: str | None = None
    labels: tuple[tuple[str, str], ...] | None = None
    ordered: bool = False
    cutpoint: str | None = None

    @property
    def kind(self) -> str:
        """ "categorical", "cutpoints", "quantiles" or "maxstat"."""
        if self.cutpoints is not None:
            return "cutpoints"
        if self.quantiles is not None:
            return "quantiles"
        if self.cutpoint is not None:
            return self.cutpoint
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
        given = [key for key in ("cutpoints", "quantiles", "cutpoint") if key in spec]
        if len(given) > 1:
            raise PlanError(f"subgroup {column!r}: give one of {' or '.join(given)}, not both")
        cutpoint = _cutpoint_method(spec, column)
        cutpoints = _numbers(spec, "cutpoints", column)
        quantiles = _numbers(spec, "quantiles", column)
        if quantiles is not None and any(not 0 < q < 1 for q in quantiles):
            raise PlanError(f"subgroup {column!r}: quantiles must lie strictly between 0 and 1")
        levels = spec.get("levels")
        if levels is not None:
            if not isinstance(levels, list | tuple) or not levels:
                raise PlanError(f"subgroup {column!r}: levels must be a non-empty list")
            if given:
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
        ordered = spec.get("ordered", False)
        if not isinstance(ordered, bool):
            raise PlanError(f"subgroup {column!r}: ordered must be true or false")
        if given and "ordered" in spec and not ordered:
            raise PlanError(
                f"subgroup {column!r}: levels from {given[0]} are always ordered; "
                "ordered = false applies to categorical subgroups"
            )
        return cls(column, cutpoints, quantiles, levels, name, labels, ordered, cutpoint)


def _cutpoint_method(spec: dict, column: str) -> str | None:
    if "cutpoint" not in spec:
        return None
    method = spec["cutpoint"]
    if method not in CUTPOINT_METHODS:
        raise PlanError(
            f"subgroup {column!r}: cutpoint must be one of {list(CUTPOINT_METHODS)} "
            f"(fixed cuts are given as cutpoints = [...]), not {method!r}"
        )
    return method


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
        True for cut points, quantiles, maxstat and ``ordered`` categorical
        levels (levels have a rank: the trend test applies).
    boundaries : tuple of float
        The cut values used (the computed quantiles for a quantile split, the
        chosen cut for maxstat); empty for categorical levels.
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

    def bounds(self) -> list[tuple[float, float]]:
        """(lower, upper) of each level: its interval ends, NaN for an open end.

        Categorical levels have no bounds (NaN, NaN). A cut-point level [a, b)
        and a quantile or maxstat level (a, b] both give (a, b); the label says
        which end is closed.

        >>> split_levels(SubgroupSpec("age", cutpoints=(50, 65)), pd.Series([40])).bounds()
        [(nan, 50.0), (50.0, 65.0), (65.0, nan)]
        """
        if not self.boundaries:
            return [(NAN, NAN)] * len(self.labels)
        ends = (NAN, *self.boundaries, NAN)
        return list(zip(ends[:-1], ends[1:], strict=True))


def split_levels(
    spec: SubgroupSpec, values: pd.Series, source: str = "data", *, cut: float | None = None
) -> LevelSplit:
    """Assign each row to a level of ``spec``.

    ``cut`` is the cut chosen from the data for a ``cutpoint = "maxstat"``
    spec (by :func:`survtdm1.cutpoint.maxstat_logrank`, which needs the
    survival times: an analysis computes it, this data-floor function only
    applies it).

    Examples
    --------
    >>> s = split_levels(SubgroupSpec("age", cutpoints=(50,)), pd.Series([45, 50, None]))
    >>> s.labels, s.codes.tolist()
    (('<50', '>=50'), [0, 1, -1])
    >>> split_levels(SubgroupSpec("pgr", cutpoint="maxstat"), pd.Series([3, 21, 90]), cut=21).labels
    ('<=21', '>21')
    """
    if spec.kind == "categorical":  # missing values found by the factorize
        return _categorical(spec, values, None, source)
    x = numeric_values(spec, values, source)
    missing = np.isnan(x)  # numeric_values refuses a value that is no number: NaN is missing
    if spec.kind == "maxstat":
        if cut is None:
            raise ValueError(f"subgroup {spec.column!r}: the maxstat cut must be given as cut=")
        cuts = np.array([float(cut)])
        codes = (x > cuts[0]).astype(np.int64)
        labels = (f"<={format_value(cuts[0])}", f">{format_value(cuts[0])}")
    elif spec.kind == "cutpoints":
        cuts = np.asarray(spec.cutpoints, dtype=float)
        codes = _bins(cuts, x, side="right")
        labels = _cut_labels([format_value(c) for c in spec.cutpoints])
    else:
        known = x[~missing]
        if known.size == 0:
            raise InputError(f"{source}: column {spec.column!r} has no known values")
        cuts = np.quantile(known, spec.quantiles)
        codes = _bins(cuts, x, side="left")
        if spec.quantiles == (0.5,):
            labels = ("<=median", ">median")
        else:
            labels = tuple(f"Q{k + 1}" for k in range(len(cuts) + 1))
    codes = np.where(missing, -1, codes).astype(np.int64)
    return LevelSplit(spec, tuple(labels), codes, True, tuple(float(c) for c in cuts))


def _bins(cuts: np.ndarray, x: np.ndarray, side: str) -> np.ndarray:
    """``np.searchsorted(cuts, x, side)`` for ascending ``cuts``: for a few cuts, counted
    by comparisons (a binary search per value takes several times longer on a million
    values). Like searchsorted, a NaN value goes after every cut.

    >>> _bins(np.array([1.0, 2.0]), np.array([0.5, 1.0, 2.5, np.nan]), "left").tolist()
    [0, 0, 2, 2]
    """
    if cuts.shape[0] > 8 or np.isnan(cuts).any():
        return np.searchsorted(cuts, x, side=side)
    codes = np.zeros(x.shape, dtype=np.intp)
    for cut in cuts:
        codes += (x > cut) if side == "left" else (x >= cut)
    codes[np.isnan(x)] = cuts.shape[0]
    return codes


def numeric_values(spec: SubgroupSpec, values: pd.Series, source: str = "data") -> np.ndarray:
    """The column as floats (NaN where missing); InputError naming rows that are not numbers."""
    if values.dtype.kind in "iuf":  # numbers already (NaN or NA where missing)
        if isinstance(values.dtype, np.dtype):  # numpy's: no NA to replace (a fast copy)
            return values.to_numpy(dtype=float)
        return values.to_numpy(dtype=float, na_value=np.nan)
    missing = values.isna().to_numpy()
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna().to_numpy() & ~missing
    if bad.any():
        positions = values.index.to_numpy()[bad]
        raise InputError(
            f"{source}: column {spec.column!r} needs numbers for its "
            f"{spec.kind}; non-numeric at {describe_rows(positions)} "
            f"(e.g. {values[bad].iloc[0]!r})"
        )
    return numeric.to_numpy(dtype=float)


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
        check_cardinality(spec, present, source)
        labels = tuple(_natural_order(present))
    lookup = {label: k for k, label in enumerate(labels)}
    level_of_value = np.array([lookup[t] for t in present] + [-1], dtype=np.int64)
    codes = level_of_value[value_codes]  # code -1: the -1 at the end
    return LevelSplit(spec, tuple(labels), codes, spec.ordered)


def check_cardinality(spec: SubgroupSpec, present: list[str], source: str = "data") -> None:
    """InputError for a categorical column with too many distinct values.

    ``present``: the distinct values as labels. Above :data:`MAX_NUMERIC_LEVELS`
    numeric values the column is a continuous measurement, not categories;
    above :data:`MAX_LEVELS` values of any kind it is no subgroup (an id, free text).
    """
    if len(present) <= MAX_NUMERIC_LEVELS:
        return
    numbers = pd.to_numeric(pd.Series(present, dtype=object), errors="coerce")
    if numbers.notna().all():
        raise InputError(
            f"{source}: subgroup column {spec.column!r} is numeric with {len(present)} distinct "
            f"values (more than {MAX_NUMERIC_LEVELS}) and no cut: give cutpoints, quantiles "
            f'or levels (or cutpoint = "maxstat") for it in the [[subgroup]] table'
        )
    if len(present) > MAX_LEVELS:
        raise InputError(
            f"{source}: subgroup column {spec.column!r} has {len(present)} distinct values "
            f"(more than {MAX_LEVELS}); recode it into fewer groups, or give levels for it "
            "in the [[subgroup]] table"
        )


# labels that pandas and float() read as the same number, in the same order
_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")


def _may_be_number(label: str) -> bool:
    """False for a label that pandas cannot read as a number: every text pandas reads
    as a number, float() reads too (not the reverse: "1_000", "\u0663")."""
    try:
        float(label)
    except ValueError:
        return False
    return True


def _natural_order(labels: list[str]) -> list[str]:
    """Numbers in numeric order, else text in byte order (R ``factor()`` in the C locale)."""
    if labels and all(_PLAIN_NUMBER.fullmatch(label) for label in labels):
        return sorted(labels, key=lambda label: (float(label), label))
    if not all(_may_be_number(label) for label in labels):
        return sorted(labels, key=lambda label: label.encode("utf-8"))
    numbers = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce")
    if len(labels) and numbers.notna().all():
        return [label for _, label in sorted(zip(numbers, labels, strict=True))]
    return sorted(labels, key=lambda label: label.encode("utf-8"))
