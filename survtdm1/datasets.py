"""Bundled synthetic trial cohorts.

The KATHERINE, EMILIA and KRISTINE trials never released patient-level data;
these loaders return the synthetic cohorts shipped with the package, generated
by :mod:`survtdm1.simulate` from the published summaries with fixed seeds
(``survtdm1.simulate.DEFAULT_SEEDS``). The data dictionary, with every
column, unit and coding and which figures are published or assumed, is
``synthetic_data/README.md`` in the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pandas as pd

from survtdm1.exceptions import InputError

__all__ = ["demo_plan", "demo_plan_path", "emilia", "katherine", "kristine", "load"]

_NAMES = ("katherine", "emilia", "kristine")


def load(name: str) -> pd.DataFrame:
    """Load a bundled synthetic cohort by trial name.

    Parameters
    ----------
    name : {"katherine", "emilia", "kristine"}
        Trial name (case-insensitive).

    Returns
    -------
    pandas.DataFrame
        The cohort as shipped; markers not assessed are ``NaN``.

    Raises
    ------
    InputError
        If ``name`` is not a bundled cohort.

    Examples
    --------
    >>> load("kristine").shape
    (444, 9)
    """
    key = str(name).strip().lower()
    if key not in _NAMES:
        raise InputError(f"unknown cohort {name!r}: valid names are {', '.join(_NAMES)}")
    with resources.files("survtdm1").joinpath("data", f"{key}.csv").open("r") as handle:
        return pd.read_csv(handle)


def katherine() -> pd.DataFrame:
    """Synthetic KATHERINE cohort: adjuvant T-DM1 vs trastuzumab, IDFS and OS.

    Returns
    -------
    pandas.DataFrame
        1486 patients; columns ``patient_id, arm, idfs_months, idfs_event,
        os_months, os_event, clinical_stage, hormone_receptor,
        preop_her2_therapy, nodal_status, her2_ihc, her2_mrna, pik3ca,
        pdl1_mrna, cd8, rab5a, mdr1, age``.

    Examples
    --------
    >>> katherine()["arm"].value_counts().sort_index().to_dict()
    {'T-DM1': 743, 'Trastuzumab': 743}
    """
    return load("katherine")


def emilia() -> pd.DataFrame:
    """Synthetic EMILIA cohort: T-DM1 vs lapatinib + capecitabine, PFS and OS.

    Returns
    -------
    pandas.DataFrame
        991 patients; columns ``patient_id, arm, pfs_months, pfs_event,
        os_months, os_event, region, prior_chemo_lines, visceral, her2_mrna,
        pik3ca, egfr, her3, age``.

    Examples
    --------
    >>> int(emilia()["her2_mrna"].notna().sum())
    866
    """
    return load("emilia")


def kristine() -> pd.DataFrame:
    """Synthetic KRISTINE cohort: neoadjuvant T-DM1 + pertuzumab vs TCH + pertuzumab.

    Returns
    -------
    pandas.DataFrame
        444 patients; columns ``patient_id, arm, pcr, efs_months, efs_event,
        her2_mrna, pik3ca, her2_heterogeneity, age``.

    Examples
    --------
    >>> kristine().groupby("arm")["pcr"].sum().to_dict()
    {'T-DM1+Pertuzumab': 99, 'TCH+Pertuzumab': 123}
    """
    return load("kristine")


_DEMO_PLAN = "demo_plan.toml"


def demo_plan_path() -> Path:
    """Path of the bundled demo plan (``survtdm1/data/demo_plan.toml``).

    The plan's cohort path is relative to the plan file, so it finds the
    bundled ``katherine.csv`` beside it. For an installation that is not a
    plain directory (a zip), use :func:`demo_plan` instead.

    Returns
    -------
    pathlib.Path
        The plan file.

    Examples
    --------
    >>> demo_plan_path().name
    'demo_plan.toml'
    """
    return Path(str(resources.files("survtdm1").joinpath("data", _DEMO_PLAN)))


@contextmanager
def demo_plan() -> Iterator[Path]:
    """Context manager giving a real file path of the bundled demo plan.

    Yields
    ------
    pathlib.Path
        The plan file, with the bundled cohorts beside it, valid inside the
        ``with`` block.

    Examples
    --------
    >>> with demo_plan() as plan:
    ...     plan.name
    'demo_plan.toml'
    """
    with resources.as_file(resources.files("survtdm1").joinpath("data")) as folder:
        yield Path(folder) / _DEMO_PLAN
