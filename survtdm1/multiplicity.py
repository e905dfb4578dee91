"""Multiplicity adjustment of interaction p-values across a plan's subgroups.

``p_interaction_adj`` of ``subgroups.csv``: one test per subgroup (its
interaction p), adjusted across the subgroups that have a test, as R
``p.adjust(p, "holm" | "BH" | "bonferroni")``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._checks import MULTIPLICITY

NAN = float("nan")


def adjust_pvalues(p_values, method: str = "holm") -> np.ndarray:
    """Adjusted p-values, as R ``p.adjust`` and statsmodels ``multipletests``.

    Holm's step-down, Benjamini-Hochberg ("fdr_bh") or Bonferroni. Written
    out here (a few lines) because statsmodels' Holm runs a full garbage
    collection on every call; tests check it against statsmodels.

    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        stepped = np.maximum.accumulate(ranked * np.arange(m, 0, -1))
    elif method == "fdr_bh":
        stepped = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ValueError(f"multiplicity must be one of {', '.join(MULTIPLICITY)}, not {method!r}")
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def adjust_interaction(table: pd.DataFrame, method: str = "holm") -> np.ndarray:
    """Interaction p-values adjusted across subgroups (one p per subgroup).

    Subgroups without a test stay empty and do not count in the adjustment.
    """
    if table.empty:
        return np.array([], dtype=float)
    names, p_values = table["subgroup"].tolist(), table["p_interaction"].to_numpy(dtype=float)
    return adjust_interaction_rows(names, p_values, method)


def adjust_interaction_rows(names: list, p_values, method: str = "holm") -> np.ndarray:
    """:func:`adjust_interaction` of the rows of subgroups ``names`` with interaction
    p-values ``p_values`` (NaN where not tested)."""
    if not names:
        return np.array([], dtype=float)
    # one p per subgroup: its first non-missing one (the rows of a subgroup share it)
    first: dict = {}
    for name, p in zip(names, np.asarray(p_values, dtype=float), strict=True):
        if np.isnan(first.get(name, NAN)):
            first[name] = p
    per_subgroup = np.array(list(first.values()), dtype=float)
    valid = ~np.isnan(per_subgroup)
    adjusted = np.full(per_subgroup.shape[0], NAN)
    if valid.any():
        adjusted[valid] = adjust_pvalues(per_subgroup[valid], method)
    position = {name: k for k, name in enumerate(first)}
    return adjusted[[position[name] for name in names]]
