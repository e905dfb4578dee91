"""Subgroup specs: labels, order and interval rules fixed by the contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

from survtdm1.exceptions import InputError, PlanError
from survtdm1.levels import SubgroupSpec, as_spec, split_levels


def test_cutpoints_value_at_cut_goes_up():
    split = split_levels(
        SubgroupSpec("x", cutpoints=(4, 10)), pd.Series([3, 4, 9.99, 10, 11, None])
    )
    assert split.labels == ("<4", "4 to <10", ">=10")
    assert split.codes.tolist() == [0, 1, 1, 2, 2, -1]
    assert split.ordered


def test_cut_labels_written_as_in_plan():
    split = split_levels(SubgroupSpec("x", cutpoints=(0.5, 1.5, 2.0)), pd.Series([1.0]))
    assert split.labels == ("<0.5", "0.5 to <1.5", "1.5 to <2", ">=2")


def test_median_split_value_at_median_goes_down():
    values = pd.Series([1, 2, 3, 4, 5, None])
    split = split_levels(SubgroupSpec("x", quantiles=(0.5,)), values)
    assert split.labels == ("<=median", ">median")
    assert split.boundaries == (3.0,)  # R: quantile(1:5, .5, type = 7) = 3
    assert split.codes.tolist() == [0, 0, 0, 1, 1, -1]


def test_quartiles_follow_r_type_7():
    values = pd.Series(np.arange(1, 11, dtype=float))
    split = split_levels(SubgroupSpec("x", quantiles=(0.25, 0.5, 0.75)), values)
    # R: quantile(1:10, c(.25, .5, .75)) = 3.25 5.50 7.75
    assert split.boundaries == (3.25, 5.5, 7.75)
    assert split.labels == ("Q1", "Q2", "Q3", "Q4")
    assert np.bincount(split.codes).tolist() == [3, 2, 2, 3]


def test_categorical_integers_without_decimal_point_and_numeric_order():
    split = split_levels(SubgroupSpec("grade"), pd.Series([10.0, 2.0, None, 1.0, 2.0]))
    assert split.labels == ("1", "2", "10")
    assert split.codes.tolist() == [2, 1, -1, 0, 1]
    assert not split.ordered


def test_categorical_strings_sorted_and_explicit_order():
    values = pd.Series(["wild-type", "mutated", None, "mutated"])
    assert split_levels(SubgroupSpec("p"), values).labels == ("mutated", "wild-type")
    spec = as_spec({"column": "p", "levels": ["wild-type", "mutated"], "name": "PIK3CA"})
    split = split_levels(spec, values)
    assert split.labels == ("wild-type", "mutated")
    assert split.codes.tolist() == [0, 1, -1, 1]


def test_display_labels_do_not_replace_levels():
    spec = as_spec({"column": "ihc", "labels": {"3+": "IHC 3+", "2+": "IHC 2+"}})
    split = split_levels(spec, pd.Series(["3+", "2+"]))
    assert split.labels == ("2+", "3+")
    assert split.display_labels == ("IHC 2+", "IHC 3+")


def test_value_outside_explicit_levels_is_an_error():
    spec = as_spec({"column": "p", "levels": ["a"]})
    with pytest.raises(InputError, match="not among"):
        split_levels(spec, pd.Series(["a", "b"]))


def test_non_numeric_values_with_cutpoints():
    with pytest.raises(InputError, match="'age'.*row 2"):
        split_levels(SubgroupSpec("age", cutpoints=(50,)), pd.Series([40, "old"]))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"column": "x", "cutpont": [1]}, "unknown key"),
        ({"column": "x", "cutpoint": [1]}, "cutpoint must be one of.*cutpoints = "),
        ({"column": "x", "cutpoint": "maxstat", "cutpoints": [1]}, "not both"),
        ({"column": "x", "cutpoint": "maxstat", "levels": [1]}, "categorical"),
        ({"column": "x", "ordered": "yes"}, "true or false"),
        ({"column": "x", "quantiles": [0.5], "ordered": False}, "always ordered"),
        ({"column": "x", "cutpoints": [2, 1]}, "increasing"),
        ({"column": "x", "cutpoints": "5"}, "list of numbers"),
        ({"column": "x", "quantiles": [0.5, 1.0]}, "between 0 and 1"),
        ({"column": "x", "quantiles": [0.5], "cutpoints": [1]}, "not both"),
        ({"cutpoints": [1]}, "column"),
        ({"column": "x", "levels": []}, "non-empty"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(PlanError, match=message):
        as_spec(spec)


def _order_by_pandas(labels: list[str]) -> list[str]:
    """The rule of _natural_order written with pandas alone (its reading of numbers)."""
    numbers = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce")
    if len(labels) and numbers.notna().all():
        return [label for _, label in sorted(zip(numbers, labels, strict=True))]
    return sorted(labels, key=lambda label: label.encode("utf-8"))


def test_natural_order_reads_numbers_as_pandas_does():
    from survtdm1.levels import _natural_order

    pool = [
        "0", "1", "2", "10", "-3", "1.5", "01", "1.0", "007", "2.25", "123456789012345",
        "1e3", " 5", "inf", "-Infinity", "nan", "1+", "3+", "IHC 2+", "Positive",
        "negative", "Ä", "", "٣", "1_000", "0x10", "1d5", "1,000", "1e", "१", "+inf", "1.",
        ".5", "1e400", "NA",
    ]  # fmt: skip
    rng = np.random.default_rng(29)
    for _ in range(400):
        size = int(rng.integers(1, 6))
        labels = list(dict.fromkeys(rng.choice(pool, size=size).tolist()))
        assert _natural_order(labels) == _order_by_pandas(labels), labels
    assert _natural_order(["10", "9", "1.5"]) == ["1.5", "9", "10"]


@settings(max_examples=500, deadline=None)
@given(
    labels=st_.lists(
        st_.text(alphabet=st_.sampled_from(list("0123456789+-.eEdDxX_ ,infatyINFATY\u0663")),
                 min_size=1, max_size=6),
        min_size=1, max_size=4, unique=True,
    )
)  # fmt: skip
def test_natural_order_of_number_like_text_reads_numbers_as_pandas_does(labels):
    from survtdm1.levels import _natural_order

    assert _natural_order(labels) == _order_by_pandas(labels)


@settings(max_examples=200, deadline=None)
@given(
    cuts=st_.lists(
        st_.floats(-5, 5, allow_nan=False).map(lambda v: round(v, 1)), min_size=1, max_size=10
    ).map(sorted),
    x=st_.lists(
        st_.one_of(
            st_.floats(-6, 6, allow_nan=False).map(lambda v: round(v, 1)),
            st_.sampled_from([float("nan"), float("inf"), -float("inf")]),
        ),
        max_size=40,
    ),
    side=st_.sampled_from(["left", "right"]),
)
def test_cut_codes_are_those_of_searchsorted(cuts, x, side):
    # the comparisons that code a cut column: values on a cut, tied cuts (equal
    # quantiles), NaN and infinite values
    from survtdm1.levels import _bins

    cuts, x = np.array(cuts), np.array(x, dtype=float)
    codes = _bins(cuts, x, side)
    np.testing.assert_array_equal(codes, np.searchsorted(cuts, x, side=side))
    assert codes.dtype == np.searchsorted(cuts, x, side=side).dtype
