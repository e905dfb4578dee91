"""Reading CSV text safely: compressed files, NUL bytes, and R's missing values.

:func:`csv_text` returns a CSV file's text (decompressed by its suffix:
``.gz``, ``.bz2``, ``.xz``, ``.zip`` with one file) after checking that it is
UTF-8 and holds no NUL byte (pandas would end a value there and invent a
level); :func:`read_csv_text` parses it with the missing values of R's
``read.csv`` (:data:`MISSING_TOKENS`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import InputError

COMPRESSED = (".gz", ".bz2", ".zip", ".xz")
MISSING_TOKENS = ["", "NA", "NaN", "nan"]
"""Cells read as missing from a CSV (R's read.csv: "NA"; pandas' "NaN"); "None",
"NULL", "N/A" and the like stay values, so that a real level is never dropped."""


def is_csv_name(path: Path) -> bool:
    """.csv/.txt, possibly compressed (.csv.gz, .csv.bz2, .csv.zip, .csv.xz)."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes = suffixes[:-1]
        return not suffixes or suffixes[-1] in (".csv", ".txt")
    return bool(suffixes) and suffixes[-1] in (".csv", ".txt")


def csv_bytes(path: Path) -> bytes:
    """The CSV's bytes, decompressed by its suffix (.gz, .bz2, .zip, .xz)."""
    import bz2
    import gzip
    import lzma
    import zipfile

    suffix = path.suffix.lower()
    try:
        if suffix == ".gz":
            return gzip.decompress(path.read_bytes())
        if suffix == ".bz2":
            return bz2.decompress(path.read_bytes())
        if suffix == ".xz":
            return lzma.decompress(path.read_bytes())
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1:
                    raise InputError(
                        f"{path}: a .zip must hold exactly one CSV file, not {len(members)}"
                    )
                return archive.read(members[0])
        return path.read_bytes()
    except InputError:
        raise
    except (OSError, EOFError, ValueError, lzma.LZMAError, zipfile.BadZipFile) as err:
        raise InputError(f"{path}: cannot be decompressed ({err})") from None


def csv_text(path: Path) -> str:
    """The CSV as text; a NUL byte (which pandas reads as the end of a value) is an error."""
    raw = csv_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    if "\x00" in text:
        raise InputError(f"{path}: {_where_nul(text)} holds a NUL byte (\\x00); {_NUL_HINT}")
    return text


_NUL_HINT = "a value cannot contain it (is the file UTF-16 or binary?)"


def _where_nul(text: str) -> str:
    """'column 'x' at row 3' for the first NUL byte of a CSV text."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    if any("\x00" in name for name in header):
        return "the header line"
    position = 0
    for row in reader:
        if not row:
            continue  # a blank line is no data row (as pandas)
        position += 1
        for index, cell in enumerate(row):
            if "\x00" in cell:
                column = header[index] if index < len(header) else f"field {index + 1}"
                return f"column {column!r} at row {position}"
    return "a line"


def read_csv_text(
    text: str, as_written: Sequence[str] = (), names: Sequence[str] = ()
) -> pd.DataFrame:
    """pandas.read_csv on checked text, missing values as R's read.csv (see MISSING_TOKENS).

    The columns ``as_written`` (of the header ``names``) are read as text, with
    only an empty (or blank) cell missing, in the same single parse.
    """
    # parsed from UTF-8 bytes: a StringIO would hold the text as four bytes per character
    if not as_written:
        return pd.read_csv(
            io.BytesIO(text.encode("utf-8")), keep_default_na=False, na_values=MISSING_TOKENS
        )
    frame = pd.read_csv(
        io.BytesIO(text.encode("utf-8")),
        keep_default_na=False,
        na_values={name: MISSING_TOKENS for name in names if name not in as_written},
        dtype={name: str for name in as_written},
    )
    for name in as_written:
        column = frame[name]
        # blank cells are missing; each distinct value is looked at once
        blank = [v for v in set(column.dropna().tolist()) if not v.strip()]
        if blank:
            frame[name] = column.where(~column.isin(blank), np.nan)
    return frame


# --- CSV files that survtdm1 wrote (text cells neutralised for spreadsheets) ---------------


def restore_cell(value):
    """The raw value of a cell written by :func:`survtdm1.outputs.write_csv` (the inverse of
    :func:`survtdm1.outputs.neutralise_cell`).

    >>> restore_cell("'=HYPERLINK(1)"), restore_cell("''x"), restore_cell("-0.5")
    ('=HYPERLINK(1)', "'x", '-0.5')
    """
    if isinstance(value, str) and value.startswith("'"):
        return value[1:]
    return value


def read_written_csv(path, **options) -> pd.DataFrame:
    """Read a CSV written by :func:`survtdm1.outputs.write_csv`, with the raw text
    values and column names (``options`` go to :func:`pandas.read_csv`)."""
    frame = pd.read_csv(path, **options)
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if pd.api.types.is_object_dtype(column.dtype):
            frame.isetitem(position, column.map(restore_cell))
    frame.columns = [restore_cell(name) for name in frame.columns]
    return frame
