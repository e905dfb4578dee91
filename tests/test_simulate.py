"""The synthetic cohort generator: regeneration, codings and the two-arm generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from survtdm1 import datasets, simulate
from survtdm1.exceptions import InputError
from survtdm1.simulate.calibration import MARKER_COLUMNS, cox_hr

ROOT = Path(__file__).resolve().parents[1]
TRIALS = simulate.TRIAL_NAMES

COLUMNS = {
    "katherine": [
        "patient_id", "arm", "idfs_months", "idfs_event", "os_months", "os_event",
        "clinical_stage", "hormone_receptor", "preop_her2_therapy", "nodal_status",
        "her2_ihc", "her2_mrna", "pik3ca", "pdl1_mrna", "cd8", "rab5a", "mdr1", "age",
    ],
    "emilia": [
        "patient_id", "arm", "pfs_months", "pfs_event", "os_months", "os_event", "region",
        "prior_chemo_lines", "visceral", "her2_mrna", "pik3ca", "egfr", "her3", "age",
    ],
    "kristine": [
        "patient_id", "arm", "pcr", "efs_months", "efs_event", "her2_mrna", "pik3ca",
        "her2_heterogeneity", "age",
    ],
}  # fmt: skip
ARMS = {
    "katherine": {"T-DM1", "Trastuzumab"},
    "emilia": {"T-DM1", "Lapatinib+Capecitabine"},
    "kristine": {"T-DM1+Pertuzumab", "TCH+Pertuzumab"},
}


def _shipped(trial: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / "synthetic_data" / f"{trial}.csv")


@pytest.fixture(scope="module", params=TRIALS)
def regenerated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Each cohort regenerated from its seed and written as the CLI writes it."""
    trial = request.param
    path = tmp_path_factory.mktemp("cohorts") / f"{trial}.csv"
    simulate.write_cohort(simulate.simulate_trial(trial, simulate.DEFAULT_SEEDS[trial]), path)
    return trial, path


def test_regenerated_cohort_equals_shipped_file(regenerated) -> None:
    """numpy does not promise identical streams across versions: compare at the rounding."""
    trial, path = regenerated
    fresh, shipped = pd.read_csv(path), _shipped(trial)
    assert list(fresh.columns) == list(shipped.columns)
    assert len(fresh) == len(shipped)
    for column in shipped.columns:
        if pd.api.types.is_float_dtype(shipped[column]):
            unit = 0.01 if column.endswith("_months") else 0.001
            pd.testing.assert_series_equal(
                fresh[column], shipped[column], check_exact=False, atol=unit + 1e-9, rtol=0
            )
        else:
            pd.testing.assert_series_equal(fresh[column], shipped[column])


def test_regeneration_is_byte_identical_here(regenerated) -> None:
    trial, path = regenerated
    assert path.read_bytes() == (ROOT / "synthetic_data" / f"{trial}.csv").read_bytes()


@pytest.mark.parametrize("trial", TRIALS)
def test_package_copy_identical_and_loader(trial: str) -> None:
    shipped = ROOT / "synthetic_data" / f"{trial}.csv"
    packaged = ROOT / "survtdm1" / "data" / f"{trial}.csv"
    assert shipped.read_bytes() == packaged.read_bytes()
    loaded = getattr(datasets, trial)()
    pd.testing.assert_frame_equal(loaded, _shipped(trial))


@pytest.mark.parametrize("trial", TRIALS)
def test_columns_and_codings(trial: str) -> None:
    df = _shipped(trial)
    assert list(df.columns) == COLUMNS[trial]
    assert set(df["arm"]) == ARMS[trial]
    assert df["patient_id"].is_unique
    for column in df.columns:
        if column.endswith("_event") or column == "pcr":
            assert set(df[column].unique()) <= {0, 1}
        if column.endswith("_months"):
            assert (df[column] > 0).all() and np.isfinite(df[column]).all()
            assert (df[column].round(2) == df[column]).all()
        if column in MARKER_COLUMNS:
            known = df[column].dropna()
            assert (known.round(3) == known).all()
    assert set(df["pik3ca"].dropna()) == {"mutated", "wild-type"}


def test_katherine_codings() -> None:
    df = _shipped("katherine")
    assert set(df["her2_ihc"]) == {"3+", "2+"}
    assert set(df["hormone_receptor"]) == {"positive", "negative"}
    assert set(df["clinical_stage"]) == {"operable", "inoperable"}
    assert set(df["nodal_status"]) == {"positive", "negative"}
    assert set(df["preop_her2_therapy"]) == {"trastuzumab", "trastuzumab+other"}
    expression = ["her2_mrna", "pdl1_mrna", "cd8", "rab5a", "mdr1"]
    known = df[expression].notna()
    assert (known.eq(known.iloc[:, 0], axis=0)).all().all()  # one assay, one subset


def test_kristine_codings() -> None:
    df = _shipped("kristine")
    assert set(df["her2_heterogeneity"].dropna()) == {"heterogeneous", "homogeneous"}
    early = df[(df["efs_event"] == 1) & (df["efs_months"] < 6)]
    assert (early["pcr"] == 0).all()  # progression before surgery: no pCR


def test_default_seed_is_used() -> None:
    a = simulate.simulate_trial("KRISTINE")
    b = simulate.simulate_kristine(seed=simulate.DEFAULT_SEEDS["kristine"])
    pd.testing.assert_frame_equal(a, b)


def test_other_seed_gives_other_cohort() -> None:
    a = simulate.simulate_trial("kristine", seed=1)
    b = simulate.simulate_trial("kristine", seed=2)
    assert not a["efs_months"].equals(b["efs_months"])
    assert a.groupby("arm")["pcr"].sum().to_dict() == {
        "T-DM1+Pertuzumab": 99,
        "TCH+Pertuzumab": 123,
    }


def test_bad_trial_name_names_the_valid_ones() -> None:
    with pytest.raises(InputError, match="katherine, emilia, kristine"):
        simulate.simulate_trial("cleopatra", seed=1)
    with pytest.raises(InputError, match="katherine"):
        datasets.load("cleopatra")


def test_two_arm_recovers_its_hrs() -> None:
    trial = simulate.simulate_two_arm(
        n=20_000,
        prevalence=0.4,
        hr_by_level=(0.8, 0.5),
        control_median=12.0,
        accrual=24.0,
        follow_up=24.0,
        dropout_rate=0.005,
        seed=7,
    )
    assert list(trial.columns) == ["patient_id", "time", "event", "arm", "biomarker"]
    assert abs(trial["biomarker"].mean() - 0.4) < 0.02
    for level, expected in ((0, 0.8), (1, 0.5)):
        rows = trial[trial["biomarker"] == level]
        treated = (rows["arm"] == "treatment").to_numpy()
        hr = cox_hr(rows["time"].to_numpy(), rows["event"].to_numpy(), treated)
        assert abs(np.log(hr) - np.log(expected)) < 0.05


def test_two_arm_is_reproducible_and_validates() -> None:
    args = dict(n=50, prevalence=0.5, hr_by_level={0: 1.0, 1: 0.5}, control_median=10.0)
    a = simulate.simulate_two_arm(**args, accrual=12.0, follow_up=6.0, seed=3)
    b = simulate.simulate_two_arm(**args, accrual=12.0, follow_up=6.0, seed=3)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(InputError):
        simulate.simulate_two_arm(**{**args, "prevalence": 1.5}, accrual=12.0, follow_up=6.0)
    with pytest.raises(InputError):
        simulate.simulate_two_arm(
            **{**args, "hr_by_level": (1.0, -2.0)}, accrual=12.0, follow_up=6.0
        )


def test_internal_estimators_agree_with_lifelines() -> None:
    """The generator calibrates with its own (frozen) Efron Cox HR; it matches lifelines.

    Its KM statistics are survtdm1.km's, tested against R in test_km*.py.
    """
    df = _shipped("emilia")
    time, event = df["pfs_months"].to_numpy(), df["pfs_event"].to_numpy()
    treated = (df["arm"] == "T-DM1").to_numpy()
    data = pd.DataFrame({"t": time, "e": event, "x": treated.astype(float)})
    expected = float(np.exp(CoxPHFitter().fit(data, "t", "e").params_["x"]))
    assert cox_hr(time, event, treated) == pytest.approx(expected, rel=1e-6)
