"""A continuous biomarker column of a survival cohort, checked (floor 3, shared).

The common ground of the continuous-biomarker analyses
(:mod:`survtdm1.stepp`, :mod:`survtdm1.effect_curve`), which do not import
each other.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from .cohort import Cohort, describe_rows
from .exceptions import InputError

__all__ = ["biomarker_values"]

#: Columns that load_cohort adds to ``Cohort.data``, not shown in messages.
INTERNAL_COLUMNS = frozenset({"_arm_label", "_event", "_response"})


def biomarker_values(cohort: Cohort, biomarker: str, where: str) -> np.ndarray:
    """The biomarker column as floats (NaN where missing).

    Raises InputError (prefixed with the cohort's source, ``where`` naming the
    analysis) when the cohort has no survival endpoint, lacks the column, or
    the column holds non-numeric or infinite values, naming the rows as in the
    file.
    """
    if not isinstance(cohort, Cohort):
        kind = type(cohort).__name__
        raise InputError(f"{where} needs a Cohort from survtdm1.load_cohort, not {kind}")
    if cohort.endpoint != "survival":
        raise InputError(f"{where} needs a survival endpoint (time and event)")
    columns = cohort.data.columns
    if not isinstance(biomarker, Hashable) or biomarker not in columns:
        shown = ", ".join([str(c) for c in columns if c not in INTERNAL_COLUMNS][:20])
        raise InputError(
            f"{cohort.source}: biomarker column {biomarker!r} not found (columns: {shown})"
        )
    column = cohort.data[biomarker]
    values = pd.to_numeric(column, errors="coerce")
    positions = cohort.data.index.to_numpy()  # 0-based rows of the source
    bad = (values.isna() & column.notna()).to_numpy()
    if bad.any():
        example = column[bad].iloc[0]
        raise InputError(
            f"{cohort.source}: biomarker column {biomarker!r} has non-numeric values at "
            f"{describe_rows(positions[bad])} (e.g. {example!r})"
        )
    values = values.to_numpy(dtype=float)
    infinite = np.isinf(values)
    if infinite.any():
        raise InputError(
            f"{cohort.source}: biomarker column {biomarker!r} has infinite values at "
            f"{describe_rows(positions[infinite])}"
        )
    return values
