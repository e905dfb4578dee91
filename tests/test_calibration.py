"""The shipped synthetic cohorts reproduce the published trial figures.

Every "target" row of ``../shared/spec/trials.md`` is copied, with its
tolerance, into ``tests/trial_targets.json``; each is checked on the shipped
CSV in ``synthetic_data/``. Tolerances: arm sizes and evaluable counts exact
(median-split counts within 2), events within 5%, HRs within 0.04 (subgroups
and within-arm prognostic HRs 0.08), medians within 0.6 months, landmark rates
within 1.5 points, KRISTINE pCR rates within 1 point and PIK3CA mutation rates
within 2 points.

The statistics come from survtdm1's own engine (``survtdm1.cox`` and
``survtdm1.km``, themselves tested against R survival): unstratified Cox with
Efron ties, Kaplan-Meier medians as R ``quantile(survfit)``. The independent
check with R on the shipped CSVs is ``tests/reference/check_cohorts.R``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survtdm1 import cox, km

ROOT = Path(__file__).resolve().parents[1]
TARGETS = json.loads((Path(__file__).with_name("trial_targets.json")).read_text())


def _cox_hr(df: pd.DataFrame, time: str, event: str, mask: pd.Series) -> float:
    """Cox HR of ``mask`` (True) vs the rest, unstratified, Efron ties (as R ``coxph``)."""
    fit = cox.cox_fit(df[time], df[event], mask.to_numpy(dtype=float))
    return float(np.exp(fit.coef[0]))


def _km_median(df: pd.DataFrame, time: str, event: str) -> float:
    """Kaplan-Meier median as R ``quantile(survfit, 0.5)``."""
    return km.median_survival(km.kaplan_meier(df[time], df[event]))[0]


def _km_at(df: pd.DataFrame, time: str, event: str, landmark: float) -> float:
    """Kaplan-Meier survival at ``landmark``, as ``summary(survfit, times = landmark)``."""
    return km.survival_at(km.kaplan_meier(df[time], df[event]), landmark).surv


@cache
def _cohort(trial: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / "synthetic_data" / f"{trial}.csv")


def _condition(df: pd.DataFrame, spec: dict) -> pd.Series:
    column = df[spec["column"]]
    if "equals" in spec:
        return column == spec["equals"]
    if "known" in spec:
        return column.notna()
    median = column.median()  # of the assessed patients of both arms, as R quantile type 7
    return (column <= median) if spec["split"] == "low" else (column > median)


def _rows(df: pd.DataFrame, target: dict) -> pd.DataFrame:
    keep = pd.Series(True, index=df.index)
    if target["arm"] is not None:
        keep &= df["arm"] == target["arm"]
    for spec in target["subset"]:
        keep &= _condition(df, spec)
    return df[keep]


def _achieved(target: dict) -> float:
    df = _cohort(target["trial"])
    rows = _rows(df, target)
    endpoint = target.get("endpoint", {})
    kind = target["kind"]
    if kind in ("n", "known"):
        return float(len(rows))
    if kind == "events":
        return float(rows[endpoint["event"]].sum())
    if kind == "hr":
        treated = rows["arm"] == TARGETS["treatment"][target["trial"]]
        return _cox_hr(rows, endpoint["time"], endpoint["event"], treated)
    if kind == "prognostic_hr":
        assessed = rows[rows[target["group"]["column"]].notna()]
        group = _condition(df, target["group"]).loc[assessed.index]
        return _cox_hr(assessed, endpoint["time"], endpoint["event"], group)
    if kind == "median":
        return _km_median(rows, endpoint["time"], endpoint["event"])
    if kind == "landmark":
        return _km_at(rows, endpoint["time"], endpoint["event"], endpoint["landmark"])
    if kind == "rate":
        return float(rows[endpoint["response"]].mean())
    if kind == "mutation_rate":
        assessed = rows[rows["pik3ca"].notna()]
        return float((assessed["pik3ca"] == "mutated").mean())
    raise ValueError(f"unknown target kind {kind!r}")


def _label(target: dict) -> str:
    arm = f" [{target['arm']}]" if target["arm"] else ""
    return f"{target['trial']}: {target['figure']} ({target['kind']}){arm}"


@pytest.mark.parametrize("target", TARGETS["targets"], ids=_label)
def test_target_within_tolerance(target: dict) -> None:
    achieved = _achieved(target)
    allowed = target["tolerance"]
    if target["kind"] == "events":
        allowed = target["tolerance"] * target["target"]
    assert abs(achieved - target["target"]) <= allowed + 1e-9, (
        f"{_label(target)}: achieved {achieved:.4f}, target {target['target']} +- {allowed:.4g}"
    )


def test_every_trial_has_targets() -> None:
    trials = {target["trial"] for target in TARGETS["targets"]}
    assert trials == {"katherine", "emilia", "kristine"}


def test_os_never_precedes_first_event() -> None:
    for trial, first in (("katherine", "idfs"), ("emilia", "pfs")):
        df = _cohort(trial)
        assert (df["os_months"] >= df[f"{first}_months"]).all()
    katherine = _cohort("katherine")  # deaths follow an IDFS event (death is one)
    assert not ((katherine["os_event"] == 1) & (katherine["idfs_event"] == 0)).any()


def test_qualitative_stories() -> None:
    """The review's stories hold in the data (see synthetic_data/README.md)."""
    emilia = _cohort("emilia")
    mutated = emilia[emilia["pik3ca"] == "mutated"]
    wild = emilia[emilia["pik3ca"] == "wild-type"]
    control = "Lapatinib+Capecitabine"
    # T-DM1 keeps its benefit in PIK3CA-mutated tumours where L+C loses it.
    assert _km_median(mutated[mutated["arm"] == "T-DM1"], "pfs_months", "pfs_event") >= _km_median(
        wild[wild["arm"] == "T-DM1"], "pfs_months", "pfs_event"
    )
    assert _km_median(mutated[mutated["arm"] == control], "pfs_months", "pfs_event") < _km_median(
        wild[wild["arm"] == control], "pfs_months", "pfs_event"
    )
    katherine = _cohort("katherine")
    for arm, marker, better in (
        ("Trastuzumab", "pdl1_mrna", True),  # PD-L1 high: better under trastuzumab
        ("T-DM1", "rab5a", True),  # RAB5A high: more T-DM1-sensitive
        ("T-DM1", "mdr1", False),  # MDR1 high: T-DM1 resistance
    ):
        rows = katherine[(katherine["arm"] == arm) & katherine[marker].notna()]
        high = rows[marker] > katherine[marker].median()
        hr = _cox_hr(rows, "idfs_months", "idfs_event", high)
        assert (hr < 0.9) if better else (hr > 1.1), (arm, marker, hr)
    rows = katherine[(katherine["arm"] == "T-DM1") & katherine["pdl1_mrna"].notna()]
    high = rows["pdl1_mrna"] > katherine["pdl1_mrna"].median()
    assert _cox_hr(rows, "idfs_months", "idfs_event", high) > 0.9  # not under T-DM1
