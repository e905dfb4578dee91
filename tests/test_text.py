"""Display text without matplotlib (survtdm1._text): one rule per kind of value.

Expected strings are written out by hand from the rules in the docstrings
(the figures' and the report's conventions), not produced by the code.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from survtdm1._text import (
    NOT_ESTIMABLE,
    format_cell,
    format_conf_level,
    format_count,
    format_effect,
    format_p,
    is_missing,
    to_number,
)


@pytest.mark.parametrize(
    ("value", "compact", "running", "fixed"),
    [
        (2e-8, "<0.001", "P < 0.001", "p < 0.001"),
        (0.000999, "<0.001", "P < 0.001", "p < 0.001"),
        (0.001, "0.001", "P = 0.001", "p = 0.001"),
        (0.0312, "0.031", "P = 0.031", "p = 0.031"),
        (0.0999, "0.100", "P = 0.100", "p = 0.100"),
        (0.1, "0.10", "P = 0.10", "p = 0.100"),
        (0.456, "0.46", "P = 0.46", "p = 0.456"),
        (1.0, "1.00", "P = 1.00", "p = 1.000"),
    ],
)
def test_one_p_value_rule_with_its_variants(value, compact, running, fixed):
    assert format_p(value) == compact
    assert format_p(np.float64(value)) == compact
    assert format_p(value, label="P") == running
    assert format_p(value, label="p", decimals=3, missing="p not computed") == fixed


@pytest.mark.parametrize("missing", [None, math.nan, math.inf, pd.NA, "text"])
def test_p_value_missing(missing):
    assert format_p(missing) == ""
    assert format_p(missing, label="p", missing="p not computed") == "p not computed"


def test_counts():
    assert [format_count(v) for v in (12, 12.0, np.int64(7), "<5", math.nan, None)] == [
        "12",
        "12",
        "7",
        "<5",
        "",
        "",
    ]


def test_effect_figure_rule():
    assert format_effect(0.5234, 0.381, 0.7102) == "0.52 (0.38–0.71)"
    assert format_effect(0.05, 0.006, 0.4) == "0.05 (0.01–0.40)"
    # a rate difference shown in % points: one decimal, " to " between limits
    assert format_effect(0.052, -0.01, 0.11, scale=100) == "5.2 (-1.0 to 11.0)"
    assert format_effect(math.nan, 0.1, 0.2) == NOT_ESTIMABLE == "NE"
    assert format_effect(0.5, 0.3, math.inf) == "0.50 (0.30–NE)"
    assert format_effect(None, None, None) == "NE"


def test_effect_report_rule():
    options = {"missing": "not reached", "missing_limit": "NR", "separator": "negative"}
    assert format_effect(20.14, 15.2, None, digits=1, **options) == "20.1 (15.2–NR)"
    assert format_effect(None, 15.2, None, digits=1, **options) == "not reached"
    # percentages without a negative limit keep the en dash; a negative limit gets " to "
    assert format_effect(0.61, 0.55, 0.67, scale=100, digits=1, **options) == "61.0 (55.0–67.0)"
    assert format_effect(0.05, -0.02, 0.12, scale=100, digits=1, **options) == "5.0 (-2.0 to 12.0)"
    assert format_effect(0.5, 0.3, math.inf, **options) == "0.50 (0.30–inf)"


def test_cells_by_column_name():
    assert format_cell(0.0004, "p_interaction") == "<0.001"
    assert format_cell(0.04567, "summary.p") == "0.046"
    assert format_cell(12.0, "events_control") == "12"
    assert format_cell(12.0, "n") == "12"
    assert format_cell(12.5, "n") == "12.50"
    assert format_cell(1234.5, "rmst") == "1234"  # round half to even, no decimals from 1000
    assert format_cell(0.50123, "hr") == "0.50"
    assert format_cell(np.int64(3), "hr") == "3"
    assert format_cell(True, "flag") == "True"
    assert format_cell(math.inf, "hr") == "inf"
    assert format_cell("<5", "n_treatment") == "<5"
    for missing in (None, math.nan, pd.NA, pd.NaT, np.nan):
        assert format_cell(missing, "hr") == ""


def test_missing_and_numbers():
    assert [is_missing(v) for v in (None, math.nan, pd.NA, pd.NaT, 0.0, "", [1, 2])] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert to_number("0.5") == 0.5
    assert math.isnan(to_number("<5")) and math.isnan(to_number(None))


def test_display_text_and_report_need_no_matplotlib():
    for module in ("survtdm1._text", "survtdm1.report"):
        code = f"import sys, {module}; print('matplotlib' in sys.modules)"
        found = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert found.stdout.strip() == "False", module


def test_conf_level_names():
    levels = (0.95, 0.9, 0.975, 0.99)
    assert [format_conf_level(c) for c in levels] == ["95%", "90%", "97.5%", "99%"]
