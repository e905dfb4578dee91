"""load_cohort: validation messages, the exclusions ledger, arm matching, units."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import survtdm1 as st
from survtdm1.exceptions import InputError

ARGS = {"arm": "arm", "treatment": "A", "control": "B", "time": "months", "event": "event"}


def _write(tmp_path, text: str, name: str = "d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_loads_two_arms_and_counts_the_other_arm(small_csv, small_frame):
    cohort = st.load_cohort(small_csv, **ARGS, id="pid")
    n_other = int((small_frame["arm"] == "C").sum())
    assert len(cohort) == len(small_frame) - n_other
    assert cohort.exclusions.to_dict("records") == [
        {"reason": "other arm (not A or B)", "n": n_other}
    ]
    assert set(cohort.data["arm"]) == {"A", "B"}
    assert cohort.treated.sum() == (small_frame["arm"] == "A").sum()


def test_dataframe_and_parquet_match_csv(tmp_path, small_csv, small_frame):
    parquet = tmp_path / "cohort.parquet"
    small_frame.to_parquet(parquet)
    from_csv = st.load_cohort(small_csv, **ARGS)
    from_parquet = st.load_cohort(parquet, **ARGS)
    from_frame = st.load_cohort(small_frame, **ARGS)
    for other in (from_parquet, from_frame):
        np.testing.assert_array_equal(other.times, from_csv.times)
        np.testing.assert_array_equal(other.events, from_csv.events)
        np.testing.assert_array_equal(other.treated, from_csv.treated)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("months,event,arm\n1,1,A\n2,0,B\n-3,1,A\n", ["'months'", "negative", "row 3"]),
        ("months,event,arm\n1,1,A\n,0,B\n3,1,A\n", ["'months'", "missing", "row 2"]),
        ("months,event,arm\n1,1,A\ninf,0,B\n3,1,A\n", ["'months'", "non-finite", "row 2"]),
        ("months,event,arm\n1,1,A\nsoon,0,B\n3,1,A\n", ["'months'", "non-numeric", "'soon'"]),
        ("months,event,arm\n1,1,A\n2,2,B\n3,1,A\n", ["'event'", "0/1", "row 2"]),
        ("months,event,arm\n1,1,A\n2,,B\n3,1,A\n", ["'event'", "row 2"]),
        ("months,event,arm\n1,1,A\n2,0,A\n", ["'B'", "not found", "'arm'"]),
        ("months,event\n1,1\n2,0\n", ["arm column 'arm' not found"]),
        ("time,event,arm\n1,1,A\n2,0,B\n", ["time column 'months' not found"]),
    ],
)
def test_invalid_input_names_column_and_rows(tmp_path, text, needles):
    with pytest.raises(InputError) as info:
        st.load_cohort(_write(tmp_path, text), **ARGS)
    message = str(info.value)
    assert "d.csv" in message
    for needle in needles:
        assert needle in message
    assert isinstance(info.value, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        st.load_cohort(tmp_path / "nope.csv", **ARGS)


def test_duplicated_ids_are_an_error(tmp_path):
    path = _write(tmp_path, "pid,months,event,arm\n1,1,1,A\n2,2,0,B\n1,3,1,B\n")
    with pytest.raises(InputError, match=r"duplicated ids at rows 1, 3$"):
        st.load_cohort(path, **ARGS, id="pid")


def test_same_arm_twice_is_an_error(tmp_path):
    path = _write(tmp_path, "months,event,arm\n1,1,A\n2,0,B\n")
    with pytest.raises(InputError, match="same arm"):
        st.load_cohort(path, **{**ARGS, "control": "A"})


def test_integer_coded_arm_matches_numbers_and_strings(tmp_path):
    path = _write(tmp_path, "months,event,arm\n1,1,1\n2,0,2\n3,1,2\n4,1,3\n")
    for treatment, control in ((2, 1), ("2", "1"), (2.0, 1.0)):
        cohort = st.load_cohort(path, **{**ARGS, "treatment": treatment, "control": control})
        assert cohort.treatment_label == "2"
        assert cohort.control_label == "1"
        assert cohort.treated.tolist() == [0.0, 1.0, 1.0]
        assert cohort.exclusions["n"].tolist() == [1]


def test_arm_value_kept_as_written(tmp_path):
    path = _write(tmp_path, "months,event,arm\n1,1,01\n2,0,02\n")
    cohort = st.load_cohort(path, **{**ARGS, "treatment": "01", "control": "02"})
    assert (cohort.treatment_label, cohort.control_label) == ("01", "02")


def test_arm_named_like_a_missing_value_is_an_arm(tmp_path):
    path = _write(tmp_path, "months,event,arm\n1,1,NA\n2,0,None\n3,1,\n")
    cohort = st.load_cohort(path, **{**ARGS, "treatment": "NA", "control": "None"})
    assert cohort.treated.tolist() == [1.0, 0.0]
    assert cohort.exclusions.to_dict("records") == [{"reason": "missing arm", "n": 1}]


def test_missing_arm_is_counted(tmp_path):
    path = _write(tmp_path, "months,event,arm\n1,1,A\n2,0,B\n3,1,\n")
    cohort = st.load_cohort(path, **ARGS)
    assert cohort.exclusions.to_dict("records") == [{"reason": "missing arm", "n": 1}]


def test_boolean_events_accepted(tmp_path):
    path = _write(tmp_path, "months,event,arm\n1,True,A\n2,False,B\n3,true,B\n")
    cohort = st.load_cohort(path, **ARGS)
    assert cohort.events.tolist() == [1.0, 0.0, 1.0]


def test_time_unit_conversion(small_frame):
    cohort = st.load_cohort(small_frame, **ARGS, time_unit="months")
    in_days = cohort.to_unit("days")
    np.testing.assert_allclose(in_days.times, cohort.times * 365.25 / 12)
    np.testing.assert_allclose(in_days.to_unit("months").times, cohort.times)
    with pytest.raises(InputError, match="time_unit"):
        cohort.to_unit("fortnights")


def test_binary_response_validation(tmp_path):
    path = _write(tmp_path, "pcr,arm\n1,A\n0,B\n3,A\n")
    with pytest.raises(InputError, match="'pcr'.*0/1.*row 3"):
        st.load_cohort(path, arm="arm", treatment="A", control="B", response="pcr")
    with pytest.raises(InputError, match="either time and event"):
        st.load_cohort(path, arm="arm", treatment="A", control="B")


def test_duplicated_column_names(tmp_path):
    path = _write(tmp_path, "months,event,arm,arm\n1,1,A,A\n")
    with pytest.raises(InputError, match="duplicated column"):
        st.load_cohort(path, **ARGS)


def test_names_like_pandas_renamed_duplicates_are_fine(tmp_path):
    path = _write(tmp_path, "months,event,arm,dose,dose.2\n1,1,A,1,2\n2,0,B,3,4\n")
    assert list(st.load_cohort(path, **ARGS).data.columns[:5]) == [
        "months",
        "event",
        "arm",
        "dose",
        "dose.2",
    ]


def test_non_utf8_file(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"months,event,arm\n1,1,\xff\xfe\n")
    with pytest.raises(InputError, match="UTF-8"):
        st.load_cohort(path, **ARGS)


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match="d.csv"):
        st.load_cohort(_write(tmp_path, ""), **ARGS)


def test_cohort_is_frozen(small_frame):
    cohort = st.load_cohort(small_frame, **ARGS)
    with pytest.raises(AttributeError):
        cohort.arm = "other"
    assert isinstance(cohort.data, pd.DataFrame)


def test_loading_and_analysing_a_dataframe_leaves_it_unchanged():
    frame = st.datasets.katherine()
    original = frame.copy(deep=True)
    cohort = st.load_cohort(
        frame, arm="arm", treatment="T-DM1", control="Trastuzumab",
        time="idfs_months", event="idfs_event",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st.subgroup_analysis(cohort, [{"column": "pik3ca"}, {"column": "age", "cutpoints": [50]}])
    pd.testing.assert_frame_equal(frame, original)
    assert "_arm_label" not in frame.columns
