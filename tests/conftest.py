"""Shared fixtures: small cohorts written to temporary files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

# every property test draws the same examples on every run (CI is deterministic); a
# test's own @settings keep this unless they say otherwise
settings.register_profile("survtdm1", derandomize=True)
settings.load_profile("survtdm1")


@pytest.fixture
def small_frame() -> pd.DataFrame:
    """A 120-patient two-arm cohort with a third arm and biomarkers (fixed seed)."""
    rng = np.random.default_rng(20261126)
    n = 120
    arm = rng.choice(["A", "B", "C"], size=n, p=[0.45, 0.45, 0.1])
    marker = rng.normal(size=n)
    hazard = np.where(arm == "A", 0.05, 0.08) * np.exp(0.3 * marker)
    event_time = rng.exponential(1 / hazard)
    censor = rng.uniform(5, 40, size=n)
    frame = pd.DataFrame(
        {
            "pid": np.arange(1, n + 1),
            "arm": arm,
            "months": np.round(np.minimum(event_time, censor), 1),
            "event": (event_time <= censor).astype(int),
            "marker": np.round(marker, 3),
            "grade": rng.choice([1, 2, 3], size=n).astype(float),
            "status": rng.choice(["mutated", "wild-type"], size=n),
        }
    )
    frame.loc[[3, 17, 40], "grade"] = np.nan
    frame.loc[[5, 6], "status"] = np.nan
    return frame


@pytest.fixture
def small_csv(tmp_path, small_frame):
    path = tmp_path / "cohort.csv"
    small_frame.to_csv(path, index=False)
    return path
