"""Loading and validating a trial cohort: the only entry for data.

:func:`load_cohort` reads a CSV, a Parquet file or a DataFrame, checks the
endpoint and arm columns, keeps the rows of the two compared arms and records
every row it leaves out in an exclusions ledger. Invalid values (missing,
negative or non-finite times, event codes other than 0/1, duplicated ids) are
errors naming the file, the column and example rows, never silent drops.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import InputError

TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}
_MAX_EXAMPLES = 5


def format_value(value: Any) -> str:
    """A value as a label: integer-valued numbers without a decimal point.

    >>> format_value(2.0), format_value(1.5), format_value("3+")
    ('2', '1.5', '3+')
    """
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if np.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def format_codes(values: pd.Series, missing=None) -> tuple[np.ndarray, list[str]]:
    """:func:`format_value` of every value, computed once per distinct value.

    ``missing`` (``values.isna()`` as an array) may be given when known.
    Returns a code per row (-1 where the value is missing) and the distinct
    labels in order of first appearance: ``labels[codes[i]]`` is
    ``format_value(values.iloc[i])``.

    >>> format_codes(pd.Series([2.0, None, 1.5, 2]))
    (array([ 0, -1,  1,  0]), ['2', '1.5'])
    """
    if missing is None:
        missing = values.isna().to_numpy()
    known = values[~missing] if missing.any() else values
    if known.dtype == object and pd.api.types.infer_dtype(known, skipna=False) != "string":
        # mixed Python objects: 1, 1.0 and True are equal keys but not equal labels
        keys = known.map(lambda v: (type(v), v))
    else:
        keys = known
    key_codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    if keys is not known:
        uniques = [value for _, value in uniques]
    lookup: dict[str, int] = {}
    label_of_key = np.array(
        [lookup.setdefault(format_value(v), len(lookup)) for v in uniques], dtype=np.int64
    )
    codes = np.full(missing.shape[0], -1, dtype=np.int64)
    codes[~missing] = label_of_key[key_codes] if len(uniques) else key_codes
    return codes, list(lookup)


def describe_rows(positions, limit: int = _MAX_EXAMPLES) -> str:
    """'rows 3, 8, 9' for 0-based data positions (reported 1-based, header not counted)."""
    positions = list(positions)
    shown = ", ".join(str(int(p) + 1) for p in positions[:limit])
    more = f" and {len(positions) - limit} more" if len(positions) > limit else ""
    noun = "row" if len(positions) == 1 else "rows"
    return f"{noun} {shown}{more}"


@dataclass(frozen=True)
class Cohort:
    """A validated two-arm cohort (frozen).

    Attributes
    ----------
    data : DataFrame
        The rows of the two compared arms, all original columns, in file order.
        Its index holds each row's 0-based position in the source.
    arm, time, event, response, id : str or None
        Column names as given.
    treatment_label, control_label : str
        The arms' values as written in the file.
    time_unit : str
        days, weeks, months or years.
    source : str
        File name, or "<DataFrame>".
    input_sha256 : str
        SHA-256 of the file's bytes (or of the DataFrame's contents).
    excluded : tuple of (reason, n)
        Rows of the source left out, by reason.
    """

    data: pd.DataFrame
    arm: str
    treatment_label: str
    control_label: str
    time: str | None
    event: str | None
    response: str | None
    time_unit: str
    id: str | None
    source: str
    input_sha256: str
    excluded: tuple[tuple[str, int], ...] = field(default=())

    @property
    def endpoint(self) -> str:
        """ "survival" (time and event) or "binary" (response)."""
        return "binary" if self.response is not None else "survival"

    @property
    def treated(self) -> np.ndarray:
        """1 for the treatment arm, 0 for control, per row."""
        return (self.data["_arm_label"].to_numpy() == self.treatment_label).astype(float)

    @property
    def times(self) -> np.ndarray:
        return self.data[self.time].to_numpy(dtype=float)

    @property
    def events(self) -> np.ndarray:
        return self.data["_event"].to_numpy(dtype=float)

    @property
    def responses(self) -> np.ndarray:
        return self.data["_response"].to_numpy(dtype=float)

    @property
    def exclusions(self) -> pd.DataFrame:
        """The ledger as a DataFrame with columns ``reason, n``."""
        return pd.DataFrame(list(self.excluded), columns=["reason", "n"])

    def __len__(self) -> int:
        return len(self.data)

    def to_unit(self, time_unit: str) -> Cohort:
        """The same cohort with times converted to ``time_unit``."""
        _check_unit(time_unit)
        if self.time is None or time_unit == self.time_unit:
            return replace(self, time_unit=time_unit)
        factor = TIME_UNITS[self.time_unit] / TIME_UNITS[time_unit]
        data = self.data.copy()
        data[self.time] = data[self.time].astype(float) * factor
        return replace(self, data=data, time_unit=time_unit)


def _check_unit(time_unit: str) -> None:
    if time_unit not in TIME_UNITS:
        raise InputError(f"time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}")


def _read_source(source, arm: str) -> tuple[pd.DataFrame, str, str]:
    """The raw table, a display name and the SHA-256 of the input."""
    if isinstance(source, pd.DataFrame):
        digest = hashlib.sha256(pd.util.hash_pandas_object(source, index=False).values).hexdigest()
        return source.reset_index(drop=True), "<DataFrame>", digest
    path = Path(source)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a data file")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".txt", ".gz"):
            frame = _read_csv(path, arm)
        else:
            raise InputError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")
    except InputError:
        raise
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"{path}: cannot be read: {message}") from None
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise InputError(f"{path}: duplicated column names {duplicated}")
    return frame, path.name, digest


def _read_csv(path: Path, arm: str) -> pd.DataFrame:
    with open(path, encoding="utf-8", newline="") as handle:
        names = next(csv.reader(handle), [])
    if not names:
        raise InputError(f"{path}: empty file (no header line)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        # pandas would silently rename them "x.1", "x.2"
        raise InputError(f"{path}: duplicated column names in the header: {repeated}")
    frame = pd.read_csv(path, encoding="utf-8")
    if arm in names:
        # the arm column is kept as written, so that "01", "2.0" or "NA" (an arm
        # coded like that) stay what they are; only an empty cell is missing
        written = pd.read_csv(
            path, usecols=[arm], dtype=str, keep_default_na=False, encoding="utf-8"
        )[arm]
        codes, uniques = pd.factorize(written)  # strip each distinct value once
        blank = np.array([str(u).strip() == "" for u in uniques] + [True])
        frame[arm] = written.where(~blank[codes], np.nan)
    return frame


def _require_columns(frame: pd.DataFrame, columns: dict[str, str | None], source: str) -> None:
    for role, column in columns.items():
        if column is not None and column not in frame.columns:
            available = ", ".join(map(str, frame.columns[:20]))
            raise InputError(f"{source}: {role} column {column!r} not found (columns: {available})")


def _numeric_column(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    values = frame[column]
    if values.dtype == bool:
        return values.astype(float)
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna() & values.notna()
    if bad.any():
        positions = np.flatnonzero(bad.to_numpy())
        example = values.iloc[positions[0]]
        raise InputError(
            f"{source}: column {column!r} has non-numeric values at "
            f"{describe_rows(positions)} (e.g. {example!r})"
        )
    return numeric.astype(float)


def _check_times(frame: pd.DataFrame, column: str, source: str) -> None:
    values = _numeric_column(frame, column, source).to_numpy()
    for problem, mask in (
        ("missing", np.isnan(values)),
        ("non-finite", np.isinf(values)),
        ("negative", values < 0),
    ):
        if mask.any():
            raise InputError(
                f"{source}: column {column!r} has {problem} times at "
                f"{describe_rows(np.flatnonzero(mask))}"
            )


def _binary_column(frame: pd.DataFrame, column: str, source: str, what: str) -> np.ndarray:
    values = frame[column]
    if values.dtype == bool:
        return values.to_numpy(dtype=float)
    codes = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "true": 1.0, "false": 0.0}
    # each distinct value read once (values equal in Python, as 1, 1.0 and True, share a code)
    value_codes, uniques = pd.factorize(values, use_na_sentinel=True)
    per_value = [codes.get(str(u).strip().lower(), np.nan) for u in uniques]
    mapped = pd.Series(np.array([*per_value, np.nan])[value_codes], index=values.index)
    bad = mapped.isna().to_numpy()
    if bad.any():
        positions = np.flatnonzero(bad)
        shown = sorted({str(v) for v in values.iloc[positions[:_MAX_EXAMPLES]]})
        raise InputError(
            f"{source}: column {column!r} must hold {what} coded 0/1; found "
            f"{', '.join(shown)} at {describe_rows(positions)}"
        )
    return mapped.to_numpy(dtype=float)


def _arm_labels(values: pd.Series) -> pd.Series:
    codes, labels = format_codes(values)
    text = np.array([*labels, np.nan], dtype=object)[codes]  # code -1: the NaN at the end
    return pd.Series(text, index=values.index, dtype=object)


def _match_arm(labels: pd.Series, wanted: Any, column: str, source: str) -> str:
    """The label of the arm ``wanted`` among the column's values."""
    target = format_value(wanted)
    present = labels.dropna().unique().tolist()
    if target in present:
        return target
    numeric = pd.to_numeric(pd.Series(present), errors="coerce")
    try:
        wanted_number = float(wanted)
    except (TypeError, ValueError):
        wanted_number = None
    if wanted_number is not None:
        hits = [p for p, x in zip(present, numeric, strict=True) if x == wanted_number]
        if len(hits) == 1:
            return hits[0]
    shown = ", ".join(repr(p) for p in sorted(present, key=str)[:10])
    raise InputError(
        f"{source}: arm value {wanted!r} not found in column {column!r} (values: {shown})"
    )


def load_cohort(
    source: str | os.PathLike | pd.DataFrame,
    *,
    arm: str,
    treatment: str | int | float,
    control: str | int | float,
    time: str | None = None,
    event: str | None = None,
    response: str | None = None,
    time_unit: str = "months",
    id: str | None = None,
) -> Cohort:
    """Load and validate a two-arm trial cohort.

    Parameters
    ----------
    source : str, Path or DataFrame
        A ``.csv`` or ``.parquet`` file, or a DataFrame.
    arm : str
        Column holding the randomised arm.
    treatment, control : str or number
        The two arms' values as written in the file; rows of other arms are
        excluded and counted.
    time, event : str, optional
        Follow-up time and event indicator (1 = event, 0 = censored; bool
        accepted) of a survival endpoint.
    response : str, optional
        A binary endpoint (1 = responder) instead of time and event.
    time_unit : {"days", "weeks", "months", "years"}
    id : str, optional
        Patient identifier column; duplicated ids are invalid.

    Returns
    -------
    Cohort

    Raises
    ------
    InputError
        Missing file or column, non-numeric, negative, missing or non-finite
        times, event or response codes other than 0/1, an absent arm value,
        fewer than two arms, duplicated ids.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [5, 8, 3, 9], "e": [1, 0, 1, 1], "arm": ["A", "B", "A", "B"]})
    >>> cohort = load_cohort(df, arm="arm", treatment="A", control="B", time="t", event="e")
    >>> len(cohort), cohort.endpoint
    (4, 'survival')
    """
    _check_unit(time_unit)
    if response is None and (time is None or event is None):
        raise InputError("give either time and event (survival) or response (binary endpoint)")
    if response is not None and (time is not None or event is not None):
        raise InputError("give either time and event or response, not both")
    frame, name, digest = _read_source(source, arm)
    if frame.shape[0] == 0:
        raise InputError(f"{name}: no data rows")
    _require_columns(
        frame, {"arm": arm, "time": time, "event": event, "response": response, "id": id}, name
    )
    if time is not None:
        _check_times(frame, time, name)
        frame = frame.assign(**{time: _numeric_column(frame, time, name)})
        frame["_event"] = _binary_column(frame, event, name, "events")
    else:
        frame["_response"] = _binary_column(frame, response, name, "responses")
    if id is not None:
        _check_ids(frame, id, name)

    labels = _arm_labels(frame[arm])
    treatment_label = _match_arm(labels, treatment, arm, name)
    control_label = _match_arm(labels, control, arm, name)
    if treatment_label == control_label:
        raise InputError(f"{name}: treatment and control are the same arm ({treatment_label!r})")
    frame["_arm_label"] = labels
    keep = labels.isin([treatment_label, control_label]).to_numpy()
    excluded = []
    n_missing_arm = int(labels.isna().sum())
    if n_missing_arm:
        excluded.append((f"missing {arm}", n_missing_arm))
    n_other = int((~keep).sum()) - n_missing_arm
    if n_other:
        excluded.append((f"other arm (not {treatment_label} or {control_label})", n_other))
    return Cohort(
        data=frame.loc[keep],
        arm=arm,
        treatment_label=treatment_label,
        control_label=control_label,
        time=time,
        event=event,
        response=response,
        time_unit=time_unit,
        id=id,
        source=name,
        input_sha256=digest,
        excluded=tuple(excluded),
    )


def _check_ids(frame: pd.DataFrame, column: str, source: str) -> None:
    ids = frame[column]
    if ids.isna().any():
        raise InputError(
            f"{source}: column {column!r} has missing ids at "
            f"{describe_rows(np.flatnonzero(ids.isna().to_numpy()))}"
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        shown = ", ".join(map(str, ids[dup].unique()[:_MAX_EXAMPLES]))
        raise InputError(
            f"{source}: column {column!r} has duplicated ids ({shown}) at "
            f"{describe_rows(np.flatnonzero(dup))}"
        )
