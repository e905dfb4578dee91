"""Read the stored R reference values (tests/reference/, written by make_reference.R).

The files are regenerated with ``Rscript tests/reference/make_reference.R`` (``make
reference``); the tests only read them, so CI does not need R. R's NA is stored as JSON
null and read here as NaN.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE_DIR = Path(__file__).parent / "reference"
DATA_SETS = ("gbsg", "lung", "veteran", "sim")
PLANS = ("gbsg", "lung", "sim")
RTOL = 1e-6
ATOL = 1e-12  # only for values that are exactly zero in R (e.g. SE of S = 1)


@cache
def expected(name: str) -> dict:
    """The JSON written by make_reference.R, e.g. ``expected("gbsg")``."""
    return json.loads((REFERENCE_DIR / "expected" / f"{name}.json").read_text())


@cache
def _read_data(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / "data" / f"{name}.csv")


def data(name: str) -> pd.DataFrame:
    """A fresh copy of one exported data set (empty cells are NaN)."""
    return _read_data(name).copy()


def analysed(spec: dict) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the two arms of a low-level spec, with time, event and the 0/1 arm."""
    frame = data(Path(spec["data"]).stem)
    frame = frame[frame[spec["arm"]].isin([spec["treatment"], spec["control"]])]
    frame = frame.reset_index(drop=True)
    time = frame[spec["time"]].to_numpy(dtype=float)
    event = frame[spec["event"]].to_numpy(dtype=int)
    treated = (frame[spec["arm"]] == spec["treatment"]).to_numpy(dtype=int)
    return frame, time, event, treated


def as_float(value) -> np.ndarray:
    """JSON value(s) as a float array, null -> NaN."""
    if isinstance(value, np.ndarray):
        return value.astype(float)
    if isinstance(value, list):
        return np.array([np.nan if v is None else float(v) for v in value], dtype=float)
    return np.atleast_1d(np.nan if value is None else float(value)).astype(float)


def is_missing(value) -> bool:
    """R's NA written by us: None, NaN, pandas NA or an empty string."""
    if value is None or (isinstance(value, str) and value == ""):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def assert_close(actual, reference, *, rtol: float = RTOL, what: str = "") -> None:
    """Equal to ``rtol`` (relative); NaN/None in both places counts as equal."""
    actual_values = np.atleast_1d(np.asarray(actual, dtype=float))
    np.testing.assert_allclose(
        actual_values, as_float(reference), rtol=rtol, atol=ATOL, equal_nan=True, err_msg=what
    )


def assert_same_missing_or_close(actual, reference, *, rtol: float = RTOL, what: str = ""):
    """One scalar: both missing, or both numbers equal to ``rtol``."""
    if reference is None or (isinstance(reference, float) and math.isnan(reference)):
        assert is_missing(actual), f"{what}: R gives NA, ours {actual!r}"
        return
    assert not is_missing(actual), f"{what}: R gives {reference!r}, ours is missing"
    assert float(actual) == pytest.approx(float(reference), rel=rtol, abs=ATOL), (
        f"{what}: ours {actual!r}, R {reference!r}"
    )


def design_matrix(frame: pd.DataFrame, treated: np.ndarray, spec: dict) -> np.ndarray:
    """Treatment column then covariates, factors coded as R's treatment contrasts.

    Factor levels are sorted in code-point order (R ``sort(method = "radix")``) and the
    first one is the reference, as R's ``factor()`` + ``model.matrix()`` in the script.
    """
    columns = [treated.astype(float)]
    for name in spec["covariates"]:
        values = frame[name]
        if name in spec["factors"]:
            levels = sorted(values.astype(str).unique())
            columns.extend((values.astype(str) == level).to_numpy(float) for level in levels[1:])
        else:
            columns.append(values.to_numpy(dtype=float))
    return np.column_stack(columns)
