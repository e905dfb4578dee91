"""Privacy: small-cell suppression, and no patient identifier in any output file."""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import survtdm1 as st
from survtdm1.exceptions import PlanError, SeparationWarning
from survtdm1.privacy import suppress_small_cells

OUTPUT_FILES = (
    "subgroups.csv",
    "summary.json",
    "at_risk.csv",
    "exclusions.csv",
    "ard.csv",
    "subgroups.rtf",
    "subgroups.docx",
)


def test_counts_below_k_become_text():
    table = pd.DataFrame(
        {
            "subgroup": ["x", "x", "x"],
            "level": ["1", "2", "3"],
            "n_treatment": [40, 4, 0],
            "n_control": [38, 5, 7],
            "events_treatment": [12, 1, 0],
            "events_control": [20, 3, 2],
            "hr": [0.6, 0.3, np.nan],
            "n_missing": [2, 2, 2],
        }
    )
    out = suppress_small_cells(table, 5)
    assert out["n_treatment"].tolist() == [40, "<5", "<5"]
    assert out["n_control"].tolist() == [38, 5, 7]
    assert out["events_treatment"].tolist() == [12, "<5", "<5"]
    assert out["events_control"].tolist() == [20, "<5", "<5"]
    assert out["n_missing"].tolist() == ["<5"] * 3
    # estimates derived from suppressed cells stay, and so does everything else
    pd.testing.assert_series_equal(out["hr"], table["hr"])
    assert list(out.columns) == list(table.columns)
    # the input is not modified
    assert table["n_treatment"].tolist() == [40, 4, 0]


def test_written_csv_shows_the_text():
    exclusions = pd.DataFrame({"reason": ["other arm", "missing grade"], "n": [12, 2]})
    csv = suppress_small_cells(exclusions, 3).to_csv(index=False)
    assert csv.splitlines() == ["reason,n", "other arm,12", "missing grade,<3"]


def test_binary_and_at_risk_columns_and_missing_values():
    table = pd.DataFrame(
        {"responders_treatment": [2.0, np.nan, 9.0], "responders_control": [11, 0, 10]}
    )
    out = suppress_small_cells(table, 10)
    assert out["responders_treatment"].iloc[0] == "<10"
    assert pd.isna(out["responders_treatment"].iloc[1])
    assert out["responders_treatment"].iloc[2] == "<10"
    assert out["responders_control"].tolist() == [11, "<10", 10]
    at_risk = pd.DataFrame({"arm": ["A", "A"], "time": [0.0, 24.0], "n_at_risk": [50, 3]})
    assert suppress_small_cells(at_risk, 5)["n_at_risk"].tolist() == [50, "<5"]


def test_explicit_columns_and_k_of_one():
    table = pd.DataFrame({"n_treatment": [0, 3], "events_treatment": [0, 1]})
    out = suppress_small_cells(table, 2, columns=["events_treatment"])
    assert out["n_treatment"].tolist() == [0, 3]
    assert out["events_treatment"].tolist() == ["<2", "<2"]
    assert suppress_small_cells(table, 1)["n_treatment"].tolist() == ["<1", 3]


@pytest.mark.parametrize("k", [0, -3, 2.5, True, "5"])
def test_bad_threshold(k):
    with pytest.raises(PlanError, match="positive integer"):
        suppress_small_cells(pd.DataFrame({"n": [1]}), k)


def test_bad_columns():
    with pytest.raises(PlanError, match="not in the table"):
        suppress_small_cells(pd.DataFrame({"n": [1]}), 5, columns=["n_control"])
    with pytest.raises(PlanError, match="does not hold counts"):
        suppress_small_cells(pd.DataFrame({"n": ["many"]}), 5)
    with pytest.raises(PlanError, match="does not hold counts"):
        suppress_small_cells(pd.DataFrame({"n": [1.5]}), 5)


# --- no patient identifier leaves the analysis --------------------------------------


def _identified_cohort(n: int = 160, binary: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(
        {
            "patient_id": [f"KATH-{rng.integers(10**6, 10**7)}-{i:04d}" for i in range(n)],
            "arm": rng.choice(["T-DM1", "Trastuzumab", "Other"], size=n, p=[0.45, 0.45, 0.1]),
            "grade": rng.choice([1, 2, 3], size=n).astype(float),
            "marker": np.round(rng.normal(size=n), 3),
        }
    )
    frame.loc[[4, 9], "grade"] = np.nan
    if binary:
        frame["pcr"] = rng.integers(0, 2, n)
    else:
        frame["months"] = np.round(rng.exponential(30, n), 2)
        frame["event"] = rng.integers(0, 2, n)
    return frame


@pytest.mark.parametrize("binary", [False, True])
def test_no_output_file_contains_a_patient_id(tmp_path, binary):
    frame = _identified_cohort(binary=binary)
    data = tmp_path / "cohort.csv"
    frame.to_csv(data, index=False)
    endpoint = {"response": "pcr"} if binary else {"time": "months", "event": "event"}
    plan = {
        "cohort": {
            "path": str(data),
            "arm": "arm",
            "treatment": "T-DM1",
            "control": "Trastuzumab",
            "id": "patient_id",
            **endpoint,
        },
        "analysis": {} if binary else {"landmark": 24, "risk_times": [0, 12, 24, 36]},
        "subgroup": [{"column": "grade"}, {"column": "marker", "quantiles": [0.5]}],
    }
    with warnings.catch_warnings(record=True) as caught:  # sparse levels may warn
        warnings.simplefilter("always")
        result = st.analyze(plan)
    assert all(issubclass(w.category, SeparationWarning) for w in caught)
    written = result.write(tmp_path / "out", figures=False)
    assert sorted(p.name for p in written) == sorted(OUTPUT_FILES)
    ids = frame["patient_id"].tolist()
    for path in written:
        if path.suffix == ".docx":  # a zip: its document text
            with zipfile.ZipFile(path) as archive:
                text = archive.read("word/document.xml").decode("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        leaked = [pid for pid in ids if pid in text]
        assert not leaked, f"{path.name} holds patient ids {leaked[:3]}"
        assert "KATH-" not in text
