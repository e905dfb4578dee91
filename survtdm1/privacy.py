"""Small-cell suppression for tables that leave the analysis environment.

Trial data-sharing agreements commonly forbid showing counts of fewer than
``k`` patients. :func:`suppress_small_cells` replaces such counts in a table
(``subgroups.csv``, ``exclusions.csv``, ``at_risk.csv`` or any table with
count columns) by the text ``"<k"``.

What it does not do, by design:

- Estimates derived from a suppressed cell stay as they are: hazard and odds
  ratios, their CIs and p-values, medians, landmark rates, response rates and
  risk differences. They are what the analysis is for; a reader can sometimes
  recover a small count from them (a response rate times n, for instance), so
  an agreement that forbids that must also drop those columns.
- Complementary suppression: when a total and all but one of its parts are
  shown, the hidden part can be recovered by subtraction. The function hides
  each small cell only.

No survtdm1 output holds a patient identifier: the id column is read only to
check that ids are unique (see the test ``tests/test_privacy.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .exceptions import PlanError

COUNT_COLUMNS = (
    "n_treatment",
    "n_control",
    "events_treatment",
    "events_control",
    "responders_treatment",
    "responders_control",
    "n_missing",
    "n",
    "n_at_risk",
)
"""The count columns of survtdm1's tables, suppressed by default when present."""


def suppress_small_cells(
    table: pd.DataFrame, k: int, columns: Iterable[str] | None = None
) -> pd.DataFrame:
    """A copy of ``table`` with every count below ``k`` shown as ``"<k"``.

    Parameters
    ----------
    table : DataFrame
        E.g. ``result.table``, ``result.exclusions`` or ``result.at_risk``.
    k : int
        Smallest count that may be shown (k >= 1); counts 0 to k - 1 are
        replaced, zero included.
    columns : iterable of str, optional
        The count columns to check; default: those of :data:`COUNT_COLUMNS`
        present in ``table``. Every named column must exist.

    Returns
    -------
    DataFrame
        Same rows and columns in the same order. A checked column becomes an
        object column holding integers and the string ``"<k"``; missing
        values stay missing. Other columns, estimates derived from the
        suppressed counts included, are unchanged.

    Raises
    ------
    PlanError
        ``k`` is not a positive integer, a named column is absent or holds
        values that are not counts.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"level": ["a", "b"], "n_treatment": [12, 3], "hr": [0.7, 1.2]})
    >>> suppress_small_cells(t, 5)["n_treatment"].tolist()
    [12, '<5']
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise PlanError(f"small-cell threshold k must be a positive integer, not {k!r}")
    if columns is None:
        chosen = [c for c in COUNT_COLUMNS if c in table.columns]
    else:
        chosen = [columns] if isinstance(columns, str) else list(columns)
        absent = [c for c in chosen if c not in table.columns]
        if absent:
            raise PlanError(f"cannot suppress small cells: column(s) {absent} not in the table")
    out = table.copy()
    label = f"<{k}"
    for column in chosen:
        counts = pd.to_numeric(table[column], errors="coerce")
        bad = counts.isna() & table[column].notna()
        if bad.any() or (counts.dropna() < 0).any() or (counts.dropna() % 1 != 0).any():
            raise PlanError(f"cannot suppress small cells: column {column!r} does not hold counts")
        out[column] = [
            value if pd.isna(value) else (label if value < k else int(value)) for value in counts
        ]
        out[column] = out[column].astype(object)
    return out


OVERALL_COUNT_KEYS = (
    "n_treatment",
    "n_control",
    "events_treatment",
    "events_control",
    "responders_treatment",
    "responders_control",
)


def suppress_result(result, k: int):
    """A copy of a :class:`~survtdm1.subgroups.SubgroupResult` for sharing.

    The subgroup table, the exclusions ledger, the at-risk table and the
    overall counts show every count below ``k`` as ``"<k"``; everything else
    (estimates, curves for drawing) is unchanged. ``survtdm1 analyze`` uses it
    for every file when the plan has ``[privacy] min_count = k``.
    """
    from dataclasses import replace

    label = f"<{k}"
    overall = dict(result.overall)
    for key in OVERALL_COUNT_KEYS:
        value = overall.get(key)
        if value is not None and value < k:
            overall[key] = label
    return replace(
        result,
        table=suppress_small_cells(result.table, k),
        exclusions=suppress_small_cells(result.exclusions, k),
        at_risk=suppress_small_cells(result.at_risk, k),
        overall=overall,
    )
