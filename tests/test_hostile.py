"""Hostile input to the Python API and the data loader: a clear survtdm1 error or a
documented result, never a raw TypeError, a wrong number or a patient id on screen.

Families: argument types; compressed CSV; NUL bytes; time columns of dates, durations
or booleans; arm values that differ only by case or spaces; "NA" and other missing
tokens; duplicated column names; ids in error messages.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_

import survtdm1 as st
from survtdm1 import cli
from survtdm1.plan import read_plan

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ARGS = {"arm": "arm", "treatment": "A", "control": "B", "time": "t", "event": "e"}


def _frame(n: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pid": [f"SUBJ-{i:04d}-X" for i in range(n)],
            "t": np.round(rng.exponential(10, n), 3),
            "e": rng.integers(0, 2, n),
            "arm": np.resize(["A", "B"], n),
            "grade": np.resize(["1", "2", "3"], n),
        }
    )


# --- argument types ---------------------------------------------------------------------------

ANYTHING = st_.one_of(
    st_.none(),
    st_.booleans(),
    st_.integers(),
    st_.floats(),
    st_.text(max_size=5),
    st_.binary(max_size=5),
    st_.lists(st_.integers(), max_size=2),
    st_.dictionaries(st_.text(max_size=2), st_.integers(), max_size=2),
    st_.tuples(st_.text(max_size=2)),
    st_.just(object()),
    st_.just(pd.Series([1.0])),
)


@settings(max_examples=150, deadline=None)
@given(
    argument=st_.sampled_from(
        ["source", "arm", "treatment", "control", "time", "event", "id", "time_unit"]
    ),
    value=ANYTHING,
)
def test_any_argument_value_gives_a_cohort_or_an_input_error(argument, value):
    kwargs = {**ARGS, "id": "pid"}
    source = _frame()
    if argument == "source":
        source = value
    else:
        kwargs[argument] = value
    try:
        st.load_cohort(source, **kwargs)
    except st.SurvTDM1Error:
        pass  # anything else (TypeError, AttributeError, KeyError) fails the test


@pytest.mark.parametrize("plan", [5, None, b"plan.toml", ["plan.toml"], 3.5, object()])
def test_a_plan_of_the_wrong_type_is_a_plan_error(plan):
    with pytest.raises(st.PlanError, match="path of a TOML file or a dict"):
        read_plan(plan)
    with pytest.raises(st.PlanError):
        st.analyze(plan)


@pytest.mark.parametrize("strata", ["grade", ("grade",), [1], [], {"a": 1}])
def test_plan_strata_must_be_a_list_of_names(strata):
    plan = {"cohort": {"path": "x.csv", **ARGS}, "analysis": {"strata": strata}}
    with pytest.raises(st.PlanError, match="strata must be a list"):
        read_plan(plan)


def test_a_nul_in_a_plan_string_is_a_plan_error(tmp_path):
    (tmp_path / "p.toml").write_text(
        '[cohort]\npath = "x.csv"\ntime = "t"\nevent = "e"\narm = "arm"\ntreatment = "A"\n'
        'control = "B"\n[[subgroup]]\ncolumn = "g"\nname = "Grade\\u0000x"\n'
    )
    with pytest.raises(st.PlanError, match="'name' holds a NUL character"):
        read_plan(tmp_path / "p.toml")


def test_unknown_keys_of_mixed_types_are_a_plan_error():
    with pytest.raises(st.PlanError, match="unknown plan key"):
        read_plan({1: 2, "x": 3, "cohort": {}})


def test_duplicated_dataframe_columns_are_an_input_error():
    frame = _frame()
    frame.columns = ["pid", "t", "e", "arm", "t"]
    with pytest.raises(st.InputError, match=r"duplicated column names \['t'\]"):
        st.load_cohort(frame, **ARGS)


# --- compressed CSV -------------------------------------------------------------------------

COMPRESS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip"])
def test_compressed_csv_reads_as_the_plain_file(tmp_path, kind):
    plain = tmp_path / "c.csv"
    _frame().to_csv(plain, index=False)
    packed = tmp_path / f"c.csv.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(packed, "w") as archive:
            archive.write(plain, "c.csv")
    else:
        packed.write_bytes(COMPRESS[kind](plain.read_bytes()))
    expected = st.load_cohort(plain, **ARGS)
    got = st.load_cohort(packed, **ARGS)
    pd.testing.assert_frame_equal(got.data, expected.data)
    assert got.source == f"c.csv.{kind}"
    # damaged: an InputError naming the file, never "not UTF-8" or a crash
    packed.write_bytes(packed.read_bytes()[: len(packed.read_bytes()) // 2])
    with pytest.raises(st.InputError, match=rf"c\.csv\.{kind}: cannot be (decompressed|read)"):
        st.load_cohort(packed, **ARGS)


def test_a_zip_with_two_files_is_an_input_error(tmp_path):
    packed = tmp_path / "c.csv.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("a.csv", "t,e,arm\n1,1,A\n")
        archive.writestr("b.csv", "t,e,arm\n1,1,B\n")
    with pytest.raises(st.InputError, match="exactly one CSV file"):
        st.load_cohort(packed, **ARGS)


# --- NUL bytes --------------------------------------------------------------------------------


@SETTINGS
@given(
    row=st_.integers(0, 11),
    column=st_.sampled_from(["pid", "arm", "grade", "t"]),
    at=st_.integers(0, 3),
)
def test_a_nul_byte_is_an_error_naming_column_and_row(tmp_path, row, column, at):
    frame = _frame().astype(str)
    value = frame.loc[row, column]
    frame.loc[row, column] = value[:at] + "\x00" + value[at:]
    path = tmp_path / "nul.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(st.InputError) as err:
        st.load_cohort(path, **ARGS)
    assert f"column '{column}' at row {row + 1} holds a NUL byte" in str(err.value)


def test_a_nul_character_in_a_dataframe_or_parquet_is_an_error(tmp_path):
    frame = _frame()
    frame.loc[4, "grade"] = "2\x00b"
    with pytest.raises(st.InputError, match=r"column 'grade' holds a NUL character .* at row 5"):
        st.load_cohort(frame, **ARGS)
    frame.to_parquet(tmp_path / "n.parquet")
    with pytest.raises(st.InputError, match=r"n\.parquet: column 'grade' holds a NUL"):
        st.load_cohort(tmp_path / "n.parquet", **ARGS)


@pytest.mark.parametrize("kind", ["object", "category"])
def test_a_lone_surrogate_in_a_dataframe_is_an_error_naming_column_and_rows(kind):
    frame = _frame()
    frame.loc[3, "grade"] = "bad\udc80"  # text no file can hold: never written, never hashed
    frame.loc[7, "grade"] = "\ud800"
    frame = frame.astype({"grade": kind})
    with pytest.raises(st.InputError, match=r"column 'grade' .* not valid Unicode at rows 4, 8$"):
        st.load_cohort(frame, **ARGS)
    frame = frame.rename(columns={"grade": "gr\udc80de"})
    with pytest.raises(st.InputError, match=r"column name 'gr\\udc80de' is not valid Unicode"):
        st.load_cohort(frame, **ARGS)


def test_utf8_is_checked_in_blocks_whatever_the_cut():
    from survtdm1.csvread import _check_utf8

    data = ("é€😀x" * 50).encode("utf-8")  # characters of 2, 3 and 4 bytes
    for block in (1, 2, 3, 5, 7, 64):
        _check_utf8(data, block=block)  # a character cut between blocks is whole
        with pytest.raises(UnicodeDecodeError):
            _check_utf8(data[:-2], block=block)  # ends inside a character
        with pytest.raises(UnicodeDecodeError):
            _check_utf8(data[:40] + b"\xff" + data[40:], block=block)


def test_a_csv_reads_the_same_with_a_byte_order_mark_and_long_lines(tmp_path):
    frame = _frame(n=40)
    frame["grade"] = ["é" * 30000 + str(i % 2) for i in range(40)]  # the header's block ends
    plain, marked = tmp_path / "plain.csv", tmp_path / "marked.csv"  # inside a character
    frame.to_csv(plain, index=False)
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    one, two = st.load_cohort(plain, **ARGS), st.load_cohort(marked, **ARGS)
    pd.testing.assert_frame_equal(one.data, two.data)
    assert list(one.data.columns[: frame.shape[1]]) == list(frame.columns)
    assert set(one.data["grade"].str[-1]) == {"0", "1"}
    bad = plain.read_bytes().replace(b"SUBJ-0003", b"SUBJ-\xff003")
    (tmp_path / "bad.csv").write_bytes(b"\xef\xbb\xbf" + bad)
    at = 3 + bad.index(b"\xff")  # the byte's position in the file, its mark counted
    with pytest.raises(st.InputError, match=rf"bad\.csv: not UTF-8 text .* at byte {at}\)"):
        st.load_cohort(tmp_path / "bad.csv", **ARGS)


# cells of a CSV: text, numbers written as text, R's and pandas' missing values, blanks
_TEXT_CELLS = ["pos", "neg", "NA", "", "1.50", "01", " ", "é", '"a,b"', "None"]
_NUMBER_CELLS = ["1", "2.5", "-3", "NaN", "nan", "True", "False", ""]


@settings(max_examples=80, deadline=None)
@given(
    rows=st_.lists(
        st_.tuples(
            st_.sampled_from(_TEXT_CELLS),
            st_.sampled_from(_NUMBER_CELLS),
            st_.sampled_from(_TEXT_CELLS + _NUMBER_CELLS),
        ),
        max_size=25,
    ),
    sample_rows=st_.sampled_from([1, 4, 1000]),
    sample_levels=st_.sampled_from([1, 100]),
    as_written=st_.sampled_from([(), ("a",), ("c",)]),
    split=st_.booleans(),
    line_end=st_.sampled_from(["\n", "\r\n", "\r"]),
)
def test_text_columns_parsed_as_categories_read_as_a_plain_parse(
    rows, sample_rows, sample_levels, as_written, split, line_end
):
    # the frame is the one of a plain pandas parse, whichever columns the first rows
    # (SAMPLE_ROWS) make categories: text found only later, one level or many; and
    # whether the file is parsed whole or in two halves (split: from 0 bytes on)
    from survtdm1 import csvread

    data = line_end.join(["a,b,c"] + [",".join(row) for row in rows]).encode()
    options = {"keep_default_na": False, "na_values": csvread.MISSING_TOKENS}
    if as_written:
        options["na_values"] = {n: csvread.MISSING_TOKENS for n in "abc" if n not in as_written}
    try:
        plain = pd.read_csv(io.BytesIO(data), dtype=dict.fromkeys(as_written, str), **options)
    except pd.errors.ParserError as err:  # pandas fails on some text ended by a lone "\r"
        plain = err
    else:
        for name in as_written:
            plain[name] = plain[name].where(~plain[name].str.strip().eq(""), np.nan)
    saved = csvread.SAMPLE_ROWS, csvread.SAMPLE_LEVELS, csvread.PARALLEL_BYTES
    csvread.SAMPLE_ROWS, csvread.SAMPLE_LEVELS = sample_rows, sample_levels
    csvread.PARALLEL_BYTES = 0 if split else saved[2]
    try:
        read = csvread.read_csv_data(data, as_written=as_written, names=list("abc"))
    except pd.errors.ParserError as err:
        read = err
    finally:
        csvread.SAMPLE_ROWS, csvread.SAMPLE_LEVELS, csvread.PARALLEL_BYTES = saved
    if isinstance(plain, Exception) or isinstance(read, Exception):  # the same error
        assert str(read) == str(plain)
        return
    pd.testing.assert_frame_equal(read, plain, check_exact=True)
    for name in read.columns:  # the same Python types in text columns ("1.50" stays text)
        assert [type(v) for v in read[name]] == [type(v) for v in plain[name]]


def _split_parse(monkeypatch, data: bytes, names) -> tuple:
    """read_csv_data whole and in two halves, and where the halves meet (None: whole)."""
    from survtdm1 import csvread

    whole = csvread.read_csv_data(data, names=names)
    monkeypatch.setattr(csvread, "PARALLEL_BYTES", 0)
    return whole, csvread.read_csv_data(data, names=names), csvread._split_point(data)


def test_a_large_csv_parsed_in_two_halves_is_the_frame_of_one_parse(monkeypatch):
    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "t": rng.exponential(20, n).round(3),
            "status": rng.choice(["positive", "negative", "NA", ""], n),
            "x": rng.integers(0, 5, n),
        }
    )
    frame.loc[n - 5 :, "x"] = np.nan  # missing values in the second half only: floats
    data = frame.to_csv(index=False).encode()
    whole, halves, cut = _split_parse(monkeypatch, data, list(frame.columns))
    assert cut is not None and len(data) // 2 <= cut < len(data)
    pd.testing.assert_frame_equal(halves, whole, check_exact=True)
    assert halves["x"].dtype == np.float64 and len(halves) == n


def test_a_csv_with_quotes_or_lone_carriage_returns_is_parsed_whole(monkeypatch):
    rows = "".join(f'{i},"a\nb",{i % 3}\n' for i in range(50))
    whole, halves, cut = _split_parse(monkeypatch, ("id,text,x\n" + rows).encode(), None)
    assert cut is None  # a quoted value may hold a line end
    pd.testing.assert_frame_equal(halves, whole)
    assert halves["text"].tolist() == ["a\nb"] * 50
    data = ("id,x\r" + "".join(f"{i},{i}\r" for i in range(40)) + "40,40\n").encode()
    assert _split_parse(monkeypatch, data, None)[2] is None
    data = ("\nid,x\n" + "".join(f"{i},{i}\n" for i in range(40))).encode()
    assert _split_parse(monkeypatch, data, None)[2] is None  # a blank first line


@pytest.mark.parametrize("where", ["second half", "first row of the second half"])
def test_a_bad_line_in_a_split_csv_is_reported_as_by_one_parse(tmp_path, monkeypatch, where):
    # pandas' own message, with the line number in the whole file; a row with one value
    # more than the header, first in the second half, would make that half's row index
    from survtdm1 import csvread
    from survtdm1.readers import read_table

    lines = ["id,t,e"] + [f"{i},{i + 1}.5,{i % 2}" for i in range(200)]
    monkeypatch.setattr(csvread, "PARALLEL_BYTES", 0)
    cut = csvread._split_point(("\n".join(lines) + "\n").encode())
    first_of_second = ("\n".join(lines) + "\n").encode()[:cut].count(b"\n")
    bad = first_of_second + (7 if where == "second half" else 0)
    lines[bad] += ",9"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    messages = []
    for parallel_bytes in (10**12, 0):  # whole, then in two halves
        monkeypatch.setattr(csvread, "PARALLEL_BYTES", parallel_bytes)
        with pytest.raises(st.InputError) as raised:
            read_table(path)
        messages.append(str(raised.value))
    assert messages[1] == messages[0]
    assert "bad.csv: cannot be read" in messages[0] and f"line {bad + 1}" in messages[0]


# --- time columns that are not numbers of the time unit -------------------------------------


def test_date_time_columns_are_rejected(tmp_path):
    frame = _frame()
    frame["t"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(frame["t"], unit="D")
    frame.to_parquet(tmp_path / "d.parquet")
    with pytest.raises(st.InputError, match="'t' holds dates or date-times"):
        st.load_cohort(tmp_path / "d.parquet", **ARGS)
    frame["t"] = frame["t"].dt.tz_localize("Europe/Paris")
    with pytest.raises(st.InputError, match="dates"):
        st.load_cohort(frame, **ARGS)
    frame["t"] = frame["t"].astype(object)
    with pytest.raises(st.InputError, match="dates"):
        st.load_cohort(frame, **ARGS)


@pytest.mark.parametrize(("unit", "days_per_unit"), [("days", 1), ("months", 365.25 / 12)])
def test_durations_are_converted_to_the_time_unit(tmp_path, unit, days_per_unit):
    frame = _frame()
    days = [30, 61, 365, 0.5] * 3
    frame["t"] = pd.to_timedelta(days, unit="D")
    frame.to_parquet(tmp_path / "td.parquet")
    cohort = st.load_cohort(tmp_path / "td.parquet", **ARGS, time_unit=unit)
    np.testing.assert_allclose(cohort.times, np.array(days) / days_per_unit, rtol=1e-15)


def test_boolean_times_are_rejected():
    frame = _frame()
    frame["t"] = frame["e"].astype(bool)
    with pytest.raises(st.InputError, match="True/False"):
        st.load_cohort(frame, **ARGS)
    frame["t"] = pd.Series([True] + [3.0] * 11, dtype=object)
    with pytest.raises(st.InputError, match="True/False"):
        st.load_cohort(frame, **ARGS)


def test_a_parquet_of_dates_through_the_command_line(tmp_path, capsys):
    frame = _frame()
    frame["t"] = pd.Timestamp("2021-03-01") + pd.to_timedelta(frame["t"], unit="D")
    frame.to_parquet(tmp_path / "d.parquet")
    (tmp_path / "plan.toml").write_text(
        '[cohort]\npath = "d.parquet"\ntime = "t"\nevent = "e"\narm = "arm"\n'
        'treatment = "A"\ncontrol = "B"\n'
    )
    status = cli.main(["analyze", str(tmp_path / "plan.toml"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "dates" in err[0]
    assert not (tmp_path / "o").exists()


# --- arm values, missing tokens, ids -----------------------------------------------------------


@pytest.mark.parametrize("variant", ["a", "A ", " A", "A\t", "B  ", "b"])
def test_arm_values_differing_by_case_or_spaces_warn(variant):
    frame = _frame()
    frame.loc[[0, 5], "arm"] = variant
    with pytest.warns(
        st.ArmValueWarning, match=f"2 row.*{re.escape(repr(variant))}.*only by case or spaces"
    ):
        cohort = st.load_cohort(frame, **ARGS)
    assert len(cohort) == 10
    assert dict(cohort.excluded)["other arm (not A or B)"] == 2


def test_no_warning_for_other_arms():
    frame = _frame()
    frame.loc[[0, 5], "arm"] = "C"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        st.load_cohort(frame, **ARGS)


def test_missing_tokens_follow_r(tmp_path):
    """Empty, NA and NaN are missing (as R's read.csv); None, NULL, N/A stay values."""
    frame = _frame()
    tokens = ["", "NA", "NaN", "None", "NULL", "N/A", "n/a", "#N/A", "null", "x", "x", "x"]
    frame["grade"] = tokens
    path = tmp_path / "c.csv"
    frame.to_csv(path, index=False)
    got = st.load_cohort(path, **ARGS).data["grade"]
    assert got.isna().tolist() == [True, True, True] + [False] * 9
    assert got.iloc[3:9].tolist() == tokens[3:9]


@SETTINGS
@given(
    ids=st_.lists(
        st_.text("ABCXYZ0123456789-", min_size=6, max_size=10),
        min_size=12,
        max_size=12,
        unique=True,
    ),
    problem=st_.sampled_from(["duplicate", "missing id", "bad time", "bad event", "no arm"]),
    row=st_.integers(1, 11),
)
def test_error_messages_never_print_patient_ids(ids, problem, row):
    frame = _frame()
    frame["pid"] = ids
    if problem == "duplicate":
        frame.loc[row, "pid"] = frame.loc[0, "pid"]
    elif problem == "missing id":
        frame.loc[row, "pid"] = None
    elif problem == "bad time":
        frame["t"] = frame["t"].astype(object)
        frame.loc[row, "t"] = "soon"
    elif problem == "bad event":
        frame.loc[row, "e"] = 7
    else:
        frame["arm"] = "A"
    try:
        st.load_cohort(frame, **ARGS, id="pid")
    except st.InputError as err:
        message = str(err)
        assert not any(pid in message for pid in frame["pid"].dropna()), message
        if problem in ("duplicate", "missing id"):
            assert f"{row + 1}" in message  # the row, by position
