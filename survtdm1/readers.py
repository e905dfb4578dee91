"""File readers: CSV, Parquet and SAS (transport ``.xpt``, ``.sas7bdat``).

:func:`read_table` turns one data file into a DataFrame, the SAS variable
labels it carries (empty for CSV and Parquet) and the SHA-256 of its bytes.
Any file that cannot be read is an :class:`~survtdm1.exceptions.InputError`
naming the file; no reader ever drops or renames a column silently.

SAS files are read with pyreadstat (the equivalent of R ``haven::read_xpt`` /
``haven::read_sas``), which keeps the variable labels. Character values that
are blank in SAS (SAS's missing character value) become missing here, so that
a blank flag or subgroup value counts as missing, not as a level "".
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._text import describe_rows
from .csvread import csv_data, is_csv_name, read_csv_data
from .exceptions import InputError

SAS_SUFFIXES = (".xpt", ".sas7bdat")


@dataclass(frozen=True)
class Table:
    """One file as read.

    Attributes
    ----------
    frame : DataFrame
        The rows in file order, index 0..n-1.
    name : str
        The file's name (for messages), or "<DataFrame>".
    sha256 : str
        SHA-256 of the file's bytes (of the DataFrame's contents for a DataFrame).
    labels : dict
        SAS variable label per column, for the columns that have one.
    nul_checked : bool
        True when the file's text was checked for NUL characters as it was read
        (a CSV): the cells need no second look.
    """

    frame: pd.DataFrame
    name: str
    sha256: str
    labels: dict[str, str] = field(default_factory=dict)
    nul_checked: bool = False


def read_table(source, keep_as_written: tuple[str, ...] = ()) -> Table:
    """Read a data file (or wrap a DataFrame).

    Parameters
    ----------
    source : str, Path or DataFrame
        ``.csv`` (also compressed: ``.csv.gz``, ``.csv.bz2``, ``.csv.xz``,
        ``.csv.zip``; see :mod:`survtdm1.csvread`), ``.parquet``, ``.xpt`` (SAS transport,
        version 5 or 8) or ``.sas7bdat``.
    keep_as_written : tuple of str
        CSV columns read as text exactly as written (the arm column, so that
        "01" or "NA" stay what they are); only an empty cell is missing.

    Raises
    ------
    InputError
        A missing file, a folder, an unsupported suffix, a file that cannot be
        parsed (the message names the file), duplicated column names.

    Examples
    --------
    >>> import pandas as pd
    >>> read_table(pd.DataFrame({"a": [1]})).name
    '<DataFrame>'
    """
    if isinstance(source, pd.DataFrame):
        _check_unicode(source)
        try:
            hashed = pd.util.hash_pandas_object(source, index=False).values
        except UnicodeEncodeError:  # a text that no file can hold (a lone surrogate)
            raise InputError(f"<DataFrame>: {_unencodable(source)}") from None
        digest = hashlib.sha256(hashed).hexdigest()
        return Table(source.reset_index(drop=True), "<DataFrame>", digest)
    path = Path(source)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a data file")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    labels: dict[str, str] = {}
    try:
        raw = path.read_bytes() if is_csv_name(path) else None  # read once: hashed, parsed
        hashing = _Digest(raw) if raw is not None else None  # while the bytes are parsed
        digest = _file_digest(path) if hashing is None else None
    except OSError as err:
        raise InputError(f"{path}: cannot be read: {_first_line(err)}") from None
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif raw is not None:
            frame = read_csv(path, keep_as_written, raw)
        elif suffix in SAS_SUFFIXES:
            frame, labels = read_sas(path)
        else:
            raise InputError(
                f"{path}: unsupported file type {suffix!r} (use .csv, .parquet, .xpt or .sas7bdat)"
            )
    except InputError:
        raise
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as err:
        raise InputError(f"{path}: cannot be read: {_first_line(err)}") from None
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise InputError(f"{path}: duplicated column names {duplicated}")
    if hashing is not None:
        digest = hashing.hexdigest()
    return Table(frame, path.name, digest, labels, nul_checked=raw is not None)


class _Digest(threading.Thread):
    """The SHA-256 of ``data``, computed in a thread while the caller goes on (hashlib
    lets other threads run while it hashes: a CSV file is hashed while it is parsed)."""

    def __init__(self, data: bytes):
        super().__init__(daemon=True)
        self._data, self._hexdigest = data, ""
        self.start()

    def run(self) -> None:
        self._hexdigest = hashlib.sha256(self._data).hexdigest()

    def hexdigest(self) -> str:
        self.join()
        return self._hexdigest


def _check_unicode(frame: pd.DataFrame) -> None:
    """InputError for a column name that UTF-8 cannot encode (a lone surrogate)."""
    for name in frame.columns:
        if isinstance(name, str) and not _encodable(name):
            raise InputError(f"<DataFrame>: column name {name!r} is not valid Unicode text")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unencodable(frame: pd.DataFrame) -> str:
    """Where a DataFrame holds text that UTF-8 cannot encode: 'column 'g' at row 4 ...'."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
            bad = [
                i
                for i, value in enumerate(column.astype(object))
                if isinstance(value, str) and not _encodable(value)
            ]
            if bad:
                return f"column {name!r} has text that is not valid Unicode at {describe_rows(bad)}"
    return "text that is not valid Unicode"


def _file_digest(path: Path) -> str:
    """SHA-256 of a file read in blocks (a large SAS file is never held whole for it)."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def read_csv(
    path: Path, keep_as_written: tuple[str, ...] = (), raw: bytes | None = None
) -> pd.DataFrame:
    """A CSV file (``raw``: its bytes when already read); repeated header names are an
    error (pandas would rename them).

    The text checks (compression, NUL bytes, UTF-8, R's missing values) are
    those of :mod:`survtdm1.csvread`.
    """
    data = csv_data(path, raw)
    names = _header(data)
    if not names:
        raise InputError(f"{path}: empty file (no header line)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        # pandas would silently rename them "x.1", "x.2"
        raise InputError(f"{path}: duplicated column names in the header: {repeated}")
    # such columns (the arm) are kept as written, so that "01", "2.0" or "NA" (an arm
    # coded like that) stay what they are; only an empty cell is missing
    written = [c for c in dict.fromkeys(keep_as_written) if c in names]
    return read_csv_data(data, as_written=written, names=names)


def _header(data: bytes) -> list[str]:
    """The header line's names, read from the checked bytes' start."""
    head = data[: 1 << 16]
    if b"\n" not in head:
        head = data
    # a character cut at the block's end is after the header line: left out
    text = head.decode("utf-8", errors="ignore")
    return next(csv.reader(io.StringIO(text, newline="")), [])


def read_sas(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """A SAS transport (``.xpt``) or ``.sas7bdat`` file and its variable labels.

    As R ``haven::read_xpt(path)`` / ``haven::read_sas(path)``; blank character
    values become missing.
    """
    import pyreadstat

    reader = pyreadstat.read_xport if path.suffix.lower() == ".xpt" else pyreadstat.read_sas7bdat
    try:
        frame, meta = reader(str(path))
    except Exception as err:  # noqa: BLE001 - pyreadstat raises its own error classes
        raise InputError(
            f"{path}: cannot be read as a SAS {path.suffix.lower()} file: {_first_line(err)}"
        ) from None
    for column in frame.columns:
        if frame[column].dtype == object:
            values = frame[column]
            blank = values.map(lambda v: isinstance(v, str) and v.strip() == "")
            if blank.any():
                frame[column] = values.where(~blank, np.nan)
    labels = {
        str(column): str(label)
        for column, label in (meta.column_names_to_labels or {}).items()
        if label not in (None, "")
    }
    return frame, labels


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
