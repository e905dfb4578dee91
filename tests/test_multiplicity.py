"""Multiplicity adjustment of interaction p-values, against statsmodels.

``adjust_pvalues`` is written out in survtdm1 (statsmodels' Holm runs a
garbage collection per call); statsmodels ``multipletests`` is the reference,
itself matching R ``p.adjust``. Tolerance 1e-12 absolute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

import survtdm1
from survtdm1.multiplicity import MULTIPLICITY, adjust_interaction, adjust_pvalues

p_values = st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=12)


@settings(derandomize=True, max_examples=200)
@given(p_values, st.sampled_from(MULTIPLICITY))
def test_matches_statsmodels(values, method):
    expected = multipletests(np.array(values), method=method)[1]
    np.testing.assert_allclose(adjust_pvalues(values, method), expected, atol=1e-12)


def test_r_p_adjust_example():
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") = 0.05 0.08 0.09 0.09 0.09
    #    p.adjust(..., "BH") = 0.05 0.05 0.05 0.05 0.05
    p = [0.01, 0.02, 0.03, 0.04, 0.05]
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.05, 0.08, 0.09, 0.09, 0.09])
    np.testing.assert_allclose(adjust_pvalues(p, "fdr_bh"), [0.05] * 5)
    np.testing.assert_allclose(adjust_pvalues(p, "bonferroni"), [0.05, 0.1, 0.15, 0.2, 0.25])


def test_one_adjusted_p_per_subgroup_and_untested_subgroups_left_out():
    table = pd.DataFrame(
        {
            "subgroup": ["a", "a", "b", "b", "c"],
            "p_interaction": [0.01, 0.01, 0.04, 0.04, np.nan],
        }
    )
    adjusted = adjust_interaction(table, "holm")
    np.testing.assert_allclose(adjusted[:4], [0.02, 0.02, 0.04, 0.04])
    assert np.isnan(adjusted[4])


def test_plan_option_reaches_the_table(small_frame):
    cohort = survtdm1.load_cohort(
        small_frame, arm="arm", treatment="A", control="B", time="months", event="event"
    )
    specs = ["status", {"column": "marker", "quantiles": [0.5]}]
    results = {m: survtdm1.subgroup_analysis(cohort, specs, multiplicity=m) for m in MULTIPLICITY}
    raw = results["holm"].table.groupby("subgroup")["p_interaction"].first()
    for method, result in results.items():
        got = result.table.groupby("subgroup")["p_interaction_adj"].first()
        np.testing.assert_allclose(got, multipletests(raw.to_numpy(), method=method)[1])
    with pytest.raises(survtdm1.PlanError, match="multiplicity"):
        survtdm1.subgroup_analysis(cohort, specs, multiplicity="sidak")
