"""CDISC ADaM export of the synthetic trial cohorts (ADSL, ADTTE, ADRS as SAS transport).

Sponsors hold trial data as ADaM data sets; this module writes the synthetic
KATHERINE-, EMILIA- and KRISTINE-like cohorts in that shape, so that the whole
pipeline (``censor = "CNSR"``, ``paramcd``, ``adsl``, ``population``) can be run on
files like a sponsor's:

``adsl.xpt``
    one row per patient: ``STUDYID``, ``USUBJID``, ``SUBJID``, ``TRT01P`` (the arm as
    written in the CSV), ``ITTFL`` and ``SAFFL`` (all "Y": the synthetic cohorts are
    intention-to-treat populations) and the baseline and biomarker columns under
    ADaM-style names of at most 8 characters, each with a SAS label.
``adtte.xpt``
    one row per patient and time-to-event endpoint, stacked by ``PARAMCD`` (KATHERINE:
    IDFS, OS; EMILIA: PFS, OS; KRISTINE: EFS): ``AVAL`` in days (months x 30.4375,
    unrounded, so that converting back to months is exact), ``CNSR`` (0 = event,
    1 = censored), ``EVNTDESC``, ``TRTP``.
``adrs.xpt`` (KRISTINE)
    pathological complete response, ``PARAMCD`` "PCR" with ``AVALC`` "Y"/"N".

Times and markers are rounded as in the shipped CSV files (times to 2 decimals of a
month, markers to 3), so an analysis of the ADaM files gives the numbers of the CSV.
Files are SAS transport version 5 (the format regulators accept), written with
pyreadstat; R reads them with ``haven::read_xpt``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from survtdm1.exceptions import InputError

DAYS_PER_MONTH = 30.4375
STUDY_IDS = {"katherine": "SIM-KATHERINE", "emilia": "SIM-EMILIA", "kristine": "SIM-KRISTINE"}
#: time-to-event endpoints per trial: (CSV prefix, PARAMCD, PARAM)
ENDPOINTS = {
    "katherine": (
        ("idfs", "IDFS", "Invasive Disease-Free Survival (days)"),
        ("os", "OS", "Overall Survival (days)"),
    ),
    "emilia": (
        ("pfs", "PFS", "Progression-Free Survival (days)"),
        ("os", "OS", "Overall Survival (days)"),
    ),
    "kristine": (("efs", "EFS", "Event-Free Survival (days)"),),
}
#: CSV column -> (ADaM name, SAS label) of the subject-level columns
ADSL_COLUMNS = {
    "age": ("AGE", "Age"),
    "clinical_stage": ("CLINSTG", "Clinical Stage at Presentation"),
    "hormone_receptor": ("HRSTAT", "Hormone Receptor Status"),
    "preop_her2_therapy": ("PREHER2", "Preoperative HER2-Directed Therapy"),
    "nodal_status": ("NODALST", "Pathological Nodal Status"),
    "her2_ihc": ("HER2IHC", "HER2 Immunohistochemistry Score"),
    "her2_mrna": ("HER2MRNA", "HER2 mRNA Expression"),
    "pik3ca": ("PIK3CA", "PIK3CA Mutation Status"),
    "pdl1_mrna": ("PDL1MRNA", "PD-L1 mRNA Expression"),
    "cd8": ("CD8", "CD8 mRNA Expression"),
    "rab5a": ("RAB5A", "RAB5A mRNA Expression"),
    "mdr1": ("MDR1", "MDR1 mRNA Expression"),
    "region": ("REGION1", "Geographic Region"),
    "prior_chemo_lines": ("PRCHEMO", "Prior Chemotherapy Lines (Metastatic)"),
    "visceral": ("VISCFL", "Visceral Disease"),
    "egfr": ("EGFR", "EGFR mRNA Expression"),
    "her3": ("HER3", "HER3 mRNA Expression"),
    "her2_heterogeneity": ("HER2HET", "HER2 Heterogeneity"),
}
TIME_DECIMALS, MARKER_DECIMALS = 2, 3
ADSL_LABELS = {
    "STUDYID": "Study Identifier",
    "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study",
    "TRT01P": "Planned Treatment for Period 01",
    "ITTFL": "Intent-To-Treat Population Flag",
    "SAFFL": "Safety Population Flag",
}
BDS_LABELS = {
    "STUDYID": "Study Identifier",
    "USUBJID": "Unique Subject Identifier",
    "PARAMCD": "Parameter Code",
    "PARAM": "Parameter",
    "AVAL": "Analysis Value",
    "AVALC": "Analysis Value (C)",
    "CNSR": "Censor",
    "EVNTDESC": "Event or Censoring Description",
    "TRTP": "Planned Treatment",
}


def adam_datasets(cohort: pd.DataFrame, trial: str) -> dict[str, tuple[pd.DataFrame, dict]]:
    """The ADaM data sets of a synthetic cohort: ``{name: (frame, labels)}``.

    Parameters
    ----------
    cohort : DataFrame
        A cohort as :func:`survtdm1.simulate.simulate_trial` returns it (or the
        shipped CSV read back).
    trial : {"katherine", "emilia", "kristine"}

    Returns
    -------
    dict
        ``"adsl"``, ``"adtte"`` and, for KRISTINE, ``"adrs"``; each a DataFrame and its
        SAS labels.

    Examples
    --------
    >>> from survtdm1 import datasets
    >>> sets = adam_datasets(datasets.kristine(), "kristine")
    >>> sorted(sets), sets["adtte"][0]["PARAMCD"].unique().tolist()
    (['adrs', 'adsl', 'adtte'], ['EFS'])
    """
    key = str(trial).strip().lower()
    if key not in ENDPOINTS:
        raise InputError(f"unknown trial {trial!r}: valid names are {', '.join(ENDPOINTS)}")
    cohort = _rounded(cohort)
    study = STUDY_IDS[key]
    subject = pd.DataFrame(
        {
            "STUDYID": study,
            "USUBJID": study + "-" + cohort["patient_id"].astype(str),
            "SUBJID": cohort["patient_id"].astype(str),
            "TRT01P": cohort["arm"].astype(str),
            "ITTFL": "Y",
            "SAFFL": "Y",
        }
    )
    labels = dict(ADSL_LABELS)
    for column, (name, label) in ADSL_COLUMNS.items():
        if column in cohort.columns:
            subject[name] = cohort[column].to_numpy()
            labels[name] = label
    out = {"adsl": (subject, labels), "adtte": (_adtte(cohort, subject, key), dict(BDS_LABELS))}
    if "pcr" in cohort.columns:
        out["adrs"] = (_adrs(cohort, subject), dict(BDS_LABELS))
    return out


def write_adam(cohort: pd.DataFrame, trial: str, folder: str | Path) -> list[Path]:
    """Write the ADaM data sets of a synthetic cohort as SAS transport files.

    Parameters
    ----------
    cohort : DataFrame
        A cohort from :func:`survtdm1.simulate.simulate_trial`.
    trial : {"katherine", "emilia", "kristine"}
    folder : str or Path
        Created if needed; ``adsl.xpt``, ``adtte.xpt`` (and ``adrs.xpt``) are written there.

    Returns
    -------
    list of Path
        The files written.
    """
    import pyreadstat

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file; with --adam, --out is a folder")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (frame, labels) in adam_datasets(cohort, trial).items():
        path = folder / f"{name}.xpt"
        pyreadstat.write_xport(
            frame,
            str(path),
            table_name=name.upper(),
            column_labels=[labels.get(c, "") for c in frame.columns],
            file_format_version=5,
        )
        written.append(path)
    return written


def _rounded(cohort: pd.DataFrame) -> pd.DataFrame:
    """Times and markers rounded as the shipped CSV files are."""
    frame = cohort.copy()
    for column in frame.columns:
        if column.endswith("_months"):
            frame[column] = frame[column].round(TIME_DECIMALS)
        elif frame[column].dtype.kind == "f":
            frame[column] = frame[column].round(MARKER_DECIMALS)
    return frame


def _adtte(cohort: pd.DataFrame, subject: pd.DataFrame, trial: str) -> pd.DataFrame:
    parts = []
    for prefix, code, param in ENDPOINTS[trial]:
        event = cohort[f"{prefix}_event"].to_numpy().astype(int)
        parts.append(
            pd.DataFrame(
                {
                    "STUDYID": subject["STUDYID"],
                    "USUBJID": subject["USUBJID"],
                    "PARAMCD": code,
                    "PARAM": param,
                    "AVAL": cohort[f"{prefix}_months"].to_numpy() * DAYS_PER_MONTH,
                    "CNSR": (1 - event).astype(float),
                    "EVNTDESC": np.where(event == 1, "Event", "Censored"),
                    "TRTP": subject["TRT01P"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _adrs(cohort: pd.DataFrame, subject: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": subject["STUDYID"],
            "USUBJID": subject["USUBJID"],
            "PARAMCD": "PCR",
            "PARAM": "Pathological Complete Response",
            "AVALC": np.where(cohort["pcr"].to_numpy() == 1, "Y", "N"),
            "TRTP": subject["TRT01P"],
        }
    )
