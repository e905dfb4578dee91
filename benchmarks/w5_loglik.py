"""Which log-likelihood is right when survtdm1 and R differ in the last digits on W5.

On a million rows the two log-likelihoods of an interaction LRT are about
-6.3e6 and their difference is about 0.14: a relative rounding of 1e-12 in
either moves the test statistic in its fourth digit. This script fits W5's
``hormone_receptor`` models with survtdm1 and evaluates the Efron log partial
likelihood at those coefficients again, independently, row by row in 80-bit
extended precision (``np.longdouble``), to show to how many digits survtdm1's
values are exact.

    python benchmarks/w5_loglik.py benchmarks/.w5/w5.csv
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from survtdm1 import cox
from survtdm1.cox_cells import TimeBlocks, cell_table


def efron_loglik(time, event, X, beta) -> np.longdouble:
    """Efron log partial likelihood at ``beta``, summed in extended precision."""
    eta = (X @ beta).astype(np.longdouble)
    order = np.argsort(time, kind="stable")
    time, event, eta = time[order], event[order], eta[order]
    weight = np.exp(eta)
    at_risk = np.cumsum(weight[::-1])[::-1]
    new = np.ones(time.shape[0], dtype=bool)
    new[1:] = time[1:] != time[:-1]
    starts = np.flatnonzero(new)
    total = np.longdouble(0)
    for start, stop in zip(starts, np.append(starts[1:], time.shape[0]), strict=True):
        died = event[start:stop]
        if died.any():
            d = int(died.sum())
            tied = weight[start:stop][died].sum()
            total += eta[start:stop][died].sum()
            share = np.arange(d, dtype=np.longdouble) / d
            total -= np.log(at_risk[start] - share * tied).sum()
    return total


def main(path: str) -> None:
    frame = pd.read_csv(path)
    time = frame["idfs_months"].to_numpy(float)
    event = frame["idfs_event"].to_numpy().astype(bool)
    treated = (frame["arm"] == "T-DM1").to_numpy().astype(float)
    positive = (frame["hormone_receptor"] == "positive").to_numpy().astype(float)
    data = cox.SortedSurvival.from_arrays(time, event)
    cells = data.sort_rows((treated + 2 * positive).astype(np.int64))
    table = cell_table(TimeBlocks.from_sorted(data.time), data.event, cells, 4)
    main_design = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
    full_design = np.column_stack([main_design, main_design[:, 0] * main_design[:, 1]])
    rows = np.column_stack([treated, positive])
    for name, design, X in (
        ("arm + hormone_receptor", main_design, rows),
        ("with arm x hormone_receptor", full_design, np.column_stack([rows, treated * positive])),
    ):
        fit = cox.fit_cells(table, design)
        exact = efron_loglik(time, event, X, fit.coef)
        print(f"{name}: survtdm1 {fit.loglik:.6f}, extended precision {float(exact):.6f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/.w5/w5.csv")
