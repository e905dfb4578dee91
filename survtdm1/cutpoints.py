"""The cut of a cohort's continuous biomarker by maximally selected log-rank statistics.

:func:`cutpoint` takes a :class:`~survtdm1.cohort.Cohort` (floor 3); the
statistics are those of :func:`survtdm1.cutpoint.maxstat_logrank` (floor 2,
arrays in), i.e. R ``maxstat.test(Surv(time, event) ~ x, smethod = "LogRank",
pmethod = "Lau92")``. The same cut is what a ``[[subgroup]]`` table with
``cutpoint = "maxstat"`` uses.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .biomarker import biomarker_values
from .cohort import Cohort
from .cutpoint import CutpointResult, maxstat_logrank
from .exceptions import InputError, PlanError

__all__ = ["CutpointResult", "cutpoint"]

WHERE = "cutpoint"


def cutpoint(
    cohort: Cohort, biomarker: str, *, minprop: float = 0.1, maxprop: float = 0.9
) -> CutpointResult:
    """The cut of ``biomarker`` that best separates survival (maxstat, log-rank scores).

    The patients of the cohort's two arms with a known biomarker value are
    pooled (the arm plays no part in the selection). Each distinct value c
    with between ``minprop`` and ``maxprop`` of those patients at or below it
    is a candidate; the cut is the one with the largest standardised log-rank
    statistic, its p-value Lausen & Schumacher's (1992) approximation, which
    allows for the selection (see :mod:`survtdm1.cutpoint`).

    Equivalent R::

        maxstat.test(Surv(time, event) ~ x, data = d, smethod = "LogRank",
                     pmethod = "Lau92", minprop = 0.1, maxprop = 0.9)

    Parameters
    ----------
    cohort : Cohort
        A survival cohort (see :func:`survtdm1.load_cohort`).
    biomarker : str
        A numeric column of ``cohort.data``.
    minprop, maxprop : float
        Smallest and largest share of patients at or below a candidate cut,
        ``0 <= minprop < maxprop <= 1``.

    Returns
    -------
    CutpointResult
        ``.cutpoint`` (levels ``x <= cutpoint`` and ``x > cutpoint``),
        ``.statistic``, ``.p_value``, ``.table`` (every candidate cut with its
        standardised statistic) and ``.plot()``.

    Raises
    ------
    InputError
        No survival endpoint, no such column, non-numeric values, no events or
        too few distinct values between the ``minprop`` and ``maxprop`` shares.
    PlanError
        ``minprop`` or ``maxprop`` out of range.

    Examples
    --------
    >>> import survtdm1 as st
    >>> emilia = st.load_cohort(st.datasets.emilia(), arm="arm", treatment="T-DM1",
    ...                         control="Lapatinib+Capecitabine", time="pfs_months",
    ...                         event="pfs_event")
    >>> cut = st.cutpoint(emilia, "her2_mrna")
    >>> bool(cut.table["statistic"].max() == cut.statistic)
    True
    """
    if not isinstance(cohort, Cohort):
        kind = type(cohort).__name__
        raise PlanError(f"cutpoint needs a Cohort from survtdm1.load_cohort, not {kind}")
    minprop = _checks.number("minprop", minprop, lambda v: 0 <= v < 1, "in [0, 1)", WHERE)
    maxprop = _checks.number(
        "maxprop", maxprop, lambda v: minprop < v <= 1, f"in ({minprop:g}, 1]", WHERE
    )
    values = biomarker_values(cohort, biomarker, WHERE)
    if np.isnan(values).all():
        raise InputError(f"{cohort.source}: cutpoint: no patient has a known {biomarker!r}")
    try:
        return maxstat_logrank(
            cohort.times,
            cohort.events,
            values,
            minprop=minprop,
            maxprop=maxprop,
            biomarker=str(biomarker),
        )
    except InputError as err:
        raise InputError(f"{cohort.source}: {err}") from None
