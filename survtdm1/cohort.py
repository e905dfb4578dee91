"""Loading and validating a trial cohort: the only entry for data.

:func:`load_cohort` reads a CSV, a Parquet file, a SAS file (``.xpt``,
``.sas7bdat``) or a DataFrame, checks the endpoint and arm columns, keeps the
rows of the two compared arms and records every row it leaves out in an
exclusions ledger. Invalid values (missing, negative or non-finite times, event
codes other than 0/1, duplicated ids) are errors naming the file, the column
and example rows, never silent drops.

CDISC ADaM data (ADTTE, ADRS with ADSL) are read as they are: a censoring flag
(``censor = "CNSR"``: 0 = event, positive = censored), one parameter of a
stacked file (``paramcd``), subject-level columns joined from ADSL by the id
(``adsl``) and an analysis population flag (``population``).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ._text import MAX_EXAMPLES as _MAX_EXAMPLES
from ._text import describe_rows
from .exceptions import InputError
from .readers import read_table

TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}


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
    if values.dtype == object:
        array = values.to_numpy()
        shared = _shared_objects(array)
        if shared is not None:
            key_codes, uniques = shared
        elif pd.api.types.infer_dtype(array, skipna=True) in ("string", "empty"):
            key_codes, uniques = pd.factorize(array, use_na_sentinel=True)  # text, by value
        else:
            return _mixed_codes(values, missing)
    else:  # one factorize over all rows: missing values get the code -1
        key_codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if missing is not None:
        key_codes = np.where(missing, -1, key_codes)
    return _labelled(key_codes, uniques)


def _mixed_codes(values: pd.Series, missing) -> tuple[np.ndarray, list[str]]:
    """:func:`format_codes` of mixed Python objects: 1, 1.0 and True are equal keys but
    not equal labels."""
    if missing is None:
        missing = values.isna().to_numpy()
    keys = values[~missing].map(lambda v: (type(v), v))
    known_codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    key_codes = np.full(missing.shape[0], -1, dtype=np.int64)
    key_codes[~missing] = known_codes
    return _labelled(key_codes, [value for _, value in uniques])


#: Above this many distinct objects, or one per :data:`ROWS_PER_SHARED_OBJECT` rows,
#: :func:`format_codes` factorizes an object column by value (each distinct object is
#: formatted: worth it only where many rows share one)
MAX_SHARED_OBJECTS = 4096
ROWS_PER_SHARED_OBJECT = 64


def _shared_objects(values: np.ndarray) -> tuple[np.ndarray, list] | None:
    """An object array factorized by identity: a code per row (in order of first
    appearance) and the distinct objects, missing ones (None, NaN) coded as such
    by :func:`_labelled`; None when it holds more than :data:`MAX_SHARED_OBJECTS`,
    or more than one per :data:`ROWS_PER_SHARED_OBJECT` rows.

    A CSV parse shares one string object per distinct value, so that hashing
    the objects' addresses (machine integers) replaces hashing and comparing
    their text, about five times faster on a million rows. Equal values held by
    distinct objects get distinct codes here and one label in :func:`_labelled`.
    """
    values = np.ascontiguousarray(values)
    if values.shape[0] == 0:
        return None
    limit = min(MAX_SHARED_OBJECTS, values.shape[0] // ROWS_PER_SHARED_OBJECT)
    # too many distinct objects among the first rows already (a few hundred rows at least)
    if len(set(map(id, values[: max(limit + 1, 256)]))) > limit:
        return None
    # the addresses of the objects `values` holds (and keeps alive meanwhile)
    cells = (ctypes.c_size_t * values.shape[0]).from_address(values.ctypes.data)
    codes, addresses = pd.factorize(np.ctypeslib.as_array(cells), use_na_sentinel=False)
    if addresses.shape[0] > limit:
        return None
    # the object at each distinct address (alive: `values` holds it)
    objects = [ctypes.cast(int(address), ctypes.py_object).value for address in addresses]
    return codes.astype(np.int64, copy=False), objects


def _labelled(key_codes: np.ndarray, uniques) -> tuple[np.ndarray, list[str]]:
    """Codes of distinct keys turned into codes of distinct labels (-1 stays -1, as
    does a missing key)."""
    lookup: dict[str, int] = {}
    label_of_key = np.array(
        [-1 if _is_missing(v) else lookup.setdefault(format_value(v), len(lookup)) for v in uniques]
        + [-1],  # key code -1: missing
        dtype=np.int64,
    )
    return label_of_key[key_codes], list(lookup)


def _is_missing(value) -> bool:
    """A missing value as pandas counts it (None, NaN, NaT, NA), for one object."""
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


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
    censor : str or None
        The censoring-flag column (0 = event) when given instead of ``event``.
    paramcd : str or None
        The ADaM parameter kept from a stacked file (rows of other parameters
        are other endpoints, not exclusions).
    population : str or None
        The population flag column; only rows flagged "Y" are kept.
    adsl : str or None
        File name of the subject-level data set joined by ``id``.
    adsl_sha256 : str or None
        SHA-256 of that file (of the DataFrame's contents for a DataFrame).
    labels : dict
        Display label per column, from the SAS variable labels of the cohort
        file and ADSL (cohort file first); empty for CSV and Parquet. The
        default ``subgroup_label`` of a subgroup the plan does not name.
    treatments : tuple of str or None
        With a list of treatment arms (several comparisons against one
        control): the arms' values as written, in list order; ``data`` then
        holds the rows of the control and of every listed arm, and
        ``treatment_label`` is the first arm. None for a cohort loaded with one
        treatment value. :meth:`comparison` gives the two-arm cohort of one
        arm; analyses need such a two-arm cohort (``treated`` is ambiguous
        with two arms or more).
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
    censor: str | None = None
    paramcd: str | None = None
    population: str | None = None
    adsl: str | None = None
    adsl_sha256: str | None = None
    labels: dict[str, str] = field(default_factory=dict, repr=False)
    treatments: tuple[str, ...] | None = None

    @property
    def endpoint(self) -> str:
        """ "survival" (time and event) or "binary" (response)."""
        return "binary" if self.response is not None else "survival"

    @property
    def treated(self) -> np.ndarray:
        """1 for the treatment arm, 0 for control, per row."""
        if self.treatments is not None and len(self.treatments) > 1:
            shown = ", ".join(repr(t) for t in self.treatments)
            raise InputError(
                f"{self.source}: the cohort holds {len(self.treatments)} treatment arms "
                f"({shown}) against {self.control_label!r}; analyse one comparison, e.g. "
                f"cohort.comparison({self.treatments[0]!r}), or all with st.compare_arms"
            )
        return (self.data["_arm_label"].to_numpy() == self.treatment_label).astype(float)

    def comparison(self, treatment: str | int | float) -> Cohort:
        """The two-arm cohort of one listed treatment arm against the control.

        Its rows are those of the two arms (in file order); its ledger
        (``excluded``) is this cohort's: rows of the other listed arms are not
        exclusions, they belong to their own comparison.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"t": [5, 8, 3, 9, 4, 7], "e": [1, 0, 1, 1, 1, 0],
        ...                    "arm": ["A", "B", "C", "A", "B", "C"]})
        >>> three = load_cohort(df, arm="arm", treatment=["A", "B"], control="C",
        ...                     time="t", event="e")
        >>> three.treatments, len(three), len(three.comparison("B"))
        (('A', 'B'), 6, 4)
        """
        arms = self.treatments if self.treatments is not None else (self.treatment_label,)
        label = _match_arm(list(arms), treatment, self.arm, self.source)
        rows = self.data["_arm_label"].isin([label, self.control_label]).to_numpy()
        return replace(self, data=self.data.loc[rows], treatment_label=label, treatments=None)

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

    def _repr_html_(self) -> str:
        """Jupyter: the arms with their patients and events, follow-up, exclusions."""
        import html

        from ._text import format_count

        def esc(value: Any) -> str:
            return html.escape(str(value), quote=True)

        treated = self.treated.astype(bool)
        survival = self.endpoint == "survival"
        outcome = self.events if survival else self.responses
        count_name = "Events" if survival else "Responders"
        head = f"<tr><th></th><th>Patients</th><th>{count_name}</th>"
        head += f"<th>Longest follow-up ({esc(self.time_unit)})</th></tr>" if survival else "</tr>"
        rows = []
        for label, mask in ((self.treatment_label, treated), (self.control_label, ~treated)):
            cells = f"<td>{int(mask.sum())}</td><td>{int(np.nansum(outcome[mask]))}</td>"
            if survival:
                times = self.times[mask]
                longest = f"{np.nanmax(times):.1f}" if times.size else ""
                cells += f"<td>{longest}</td>"
            rows.append(f'<tr><th style="text-align:left">{esc(label)}</th>{cells}</tr>')
        what = (
            f"time {esc(self.time)}, event {esc(self.event)}"
            if survival
            else (f"response {esc(self.response)}")
        )
        excluded = "".join(
            f"<li>{esc(reason)}: {esc(format_count(n))}</li>" for reason, n in self.excluded if n
        )
        return (
            f"<p><b>Cohort</b> from {esc(self.source)}: {len(self)} patients; arm column "
            f"{esc(self.arm)}; {what}</p>"
            f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
            + (f"<p>Excluded:</p><ul>{excluded}</ul>" if excluded else "<p>No rows excluded.</p>")
        )


def _check_unit(time_unit: str) -> None:
    if time_unit not in TIME_UNITS:
        raise InputError(f"time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}")


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
        example = values[bad].iloc[0]
        raise InputError(
            f"{source}: column {column!r} has non-numeric values at "
            f"{describe_rows(frame.index[bad.to_numpy()])} (e.g. {example!r})"
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
                f"{describe_rows(frame.index[mask])}"
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
        shown = sorted({str(v) for v in values[bad].iloc[:_MAX_EXAMPLES]})
        raise InputError(
            f"{source}: column {column!r} must hold {what} coded 0/1; found "
            f"{', '.join(shown)} at {describe_rows(frame.index[bad])}"
        )
    return mapped.to_numpy(dtype=float)


def _match_arm(present: list[str], wanted: Any, column: str, source: str) -> str:
    """The label of the arm ``wanted`` among the column's distinct labels ``present``."""
    target = format_value(wanted)
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
    treatment: str | int | float | Sequence[str | int | float],
    control: str | int | float,
    time: str | None = None,
    event: str | None = None,
    response: str | None = None,
    time_unit: str = "months",
    id: str | None = None,
    censor: str | None = None,
    paramcd: str | None = None,
    adsl: str | os.PathLike | pd.DataFrame | None = None,
    population: str | None = None,
    response_values: Mapping[Any, int] | None = None,
    responders: Sequence[Any] | None = None,
    repeated_ids: bool = False,
) -> Cohort:
    """Load and validate a two-arm trial cohort.

    Parameters
    ----------
    source : str, Path or DataFrame
        A ``.csv``, ``.parquet``, ``.xpt`` (SAS transport) or ``.sas7bdat``
        file, or a DataFrame.
    arm : str
        Column holding the randomised arm (in the file or in ``adsl``).
    treatment, control : str or number
        The two arms' values as written in the file; rows of other arms are
        excluded and counted. ``treatment`` may be a list of arms, each to be
        compared with the control (the Cohort then has ``treatments``; see
        :meth:`Cohort.comparison` and :func:`survtdm1.compare_arms`).
    time, event : str, optional
        Follow-up time and event indicator (1 = event, 0 = censored; bool
        accepted) of a survival endpoint.
    response : str, optional
        A binary endpoint (1 = responder) instead of time and event.
    time_unit : {"days", "weeks", "months", "years"}
    id : str, optional
        Patient identifier column; duplicated ids are invalid.
    censor : str, optional
        A censoring flag instead of ``event``, as ADaM's ``CNSR``: 0 = event,
        any positive integer = censored. An event column named CNSR is
        invalid input (it would reverse every hazard ratio).
    paramcd : str, optional
        Keep the rows whose ``PARAMCD`` equals this value (one endpoint of a
        stacked ADTTE or ADRS; the other rows are other endpoints, not
        exclusions). A file whose ``PARAMCD`` holds several values needs it.
    adsl : str, Path or DataFrame, optional
        Subject-level data joined by ``id`` (one row per id). Columns are
        looked up in the cohort file first, then in ADSL. Rows whose id is not
        in ADSL are excluded and counted.
    population : str, optional
        A Y/N population flag column (cohort file or ADSL): rows not flagged
        "Y" are excluded and counted.
    response_values : mapping, optional
        For a text response such as ADRS ``AVALC``: each value as written ->
        1 (responder) or 0; a value not in the mapping is invalid input.
    responders : sequence, optional
        Alternatively, the values that count as response; every other
        non-missing value is a non-responder.
    repeated_ids : bool
        Allow an id on several rows (two eyes or lesions of one patient,
        analysed with ``cluster`` = the id column); missing ids stay invalid.

    Returns
    -------
    Cohort

    Raises
    ------
    InputError
        Missing file or column, non-numeric, negative, missing or non-finite
        times, event or response codes other than 0/1, an absent arm value,
        fewer than two arms, duplicated ids, CNSR given as an event, both or
        neither of event and censor, a stacked PARAMCD without ``paramcd``, a
        ``paramcd`` absent from the file, duplicated ADSL ids; a treatment
        list that is empty, repeats an arm or holds the control.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [5, 8, 3, 9], "e": [1, 0, 1, 1], "arm": ["A", "B", "A", "B"]})
    >>> cohort = load_cohort(df, arm="arm", treatment="A", control="B", time="t", event="e")
    >>> len(cohort), cohort.endpoint
    (4, 'survival')
    >>> adtte = pd.DataFrame({"PARAMCD": ["OS", "OS", "PFS", "PFS"], "AVAL": [5, 8, 3, 9],
    ...                       "CNSR": [0, 1, 0, 0], "ARM": ["A", "B", "A", "B"]})
    >>> os_ = load_cohort(adtte, arm="ARM", treatment="A", control="B", time="AVAL",
    ...                   censor="CNSR", paramcd="OS")
    >>> os_.events.tolist()
    [1.0, 0.0]
    """
    _check_arguments(
        source,
        dict(
            arm=arm,
            time=time,
            event=event,
            response=response,
            id=id,
            censor=censor,
            population=population,
        ),
        dict(treatment=treatment, control=control),
        time_unit,
    )
    _check_unit(time_unit)
    _check_endpoint(time, event, censor, response, response_values, responders)
    endpoint = {"time": time, "event": event, "censor": censor, "response": response}
    sponsor = {"paramcd": paramcd, "adsl": adsl, "population": population}
    sponsor["repeated_ids"] = bool(repeated_ids)
    frame, read = _read_rows(
        source, arm, endpoint, response_values, responders, id, sponsor, time_unit
    )
    frame, arms, arm_excluded = _select_arms(frame, arm, treatment, control, read.pop("where"))
    read["excluded"] = tuple(read["excluded"] + arm_excluded)
    read["labels"] = {c: text for c, text in read["labels"].items() if c in frame.columns}
    return Cohort(data=frame, arm=arm, **arms, **endpoint, time_unit=time_unit, id=id, **read)


def _read_rows(source, arm, endpoint, response_values, responders, id, sponsor, time_unit):
    """The source read, one parameter, joined with ADSL, in the population, with the endpoint.

    Returns the rows and the Cohort fields that describe where they come from
    (with "where": the file name for messages, and "excluded" as a list).
    """
    table = read_table(source, keep_as_written=(arm,))
    name = table.name
    frame = _check_loaded(
        table.frame, name, endpoint["time"], time_unit, nul_checked=table.nul_checked
    )
    if frame.shape[0] == 0:
        raise InputError(f"{name}: no data rows")
    _check_not_cnsr(endpoint["event"], name)
    frame, labels, excluded, adsl_table = _sponsor_rows(
        frame, table.labels, name, id=id, arm=arm, **sponsor
    )
    adsl_name = None if adsl_table is None else adsl_table.name
    where = _where(name, adsl_name)
    _require_columns(frame, {"arm": arm, **endpoint}, where)
    frame = _with_endpoint(frame, name, endpoint, response_values, responders)
    paramcd = sponsor["paramcd"]
    return frame, {
        "source": name,
        "where": where,
        "input_sha256": table.sha256,
        "excluded": excluded,
        "paramcd": None if paramcd is None else str(paramcd),
        "population": sponsor["population"],
        "adsl": adsl_name,
        "adsl_sha256": None if adsl_table is None else adsl_table.sha256,
        "labels": labels,
    }


def _select_arms(frame: pd.DataFrame, arm: str, treatment, control, where: str):
    """The rows of the compared arms with their ``_arm_label``; the arms' labels; the ledger.

    Returns ``(rows, {"treatment_label", "control_label", "treatments"}, [(reason, n)])``:
    rows with a missing arm value and rows of arms in no comparison are left out
    and counted. ``treatment`` is one arm value or a list of them.
    """
    codes, present = format_codes(frame[arm])  # once per distinct value
    several = isinstance(treatment, list | tuple)
    wanted = list(treatment) if several else [treatment]
    if not wanted:
        raise InputError(f"{where}: the treatment list is empty; name at least one arm of {arm!r}")
    treatments = [_match_arm(present, value, arm, where) for value in wanted]
    control_label = _match_arm(present, control, arm, where)
    if control_label in treatments:
        what = (
            "treatment and control are the same arm"
            if not several
            else ("the treatment list holds the control arm")
        )
        raise InputError(f"{where}: {what} ({control_label!r} in column {arm!r})")
    repeated = sorted({t for t in treatments if treatments.count(t) > 1})
    if repeated:
        raise InputError(
            f"{where}: the treatment list names arm {repeated[0]!r} twice (column {arm!r}); "
            "list each arm once"
        )
    chosen = (*treatments, control_label)
    _warn_near_arms(codes, present, chosen, arm, where)
    labels_arm = np.array([*present, np.nan], dtype=object)[codes]  # code -1: the NaN at the end
    frame = frame.copy(deep=False)  # a new column, no copy of the others
    frame["_arm_label"] = labels_arm
    keep = np.isin(codes, [present.index(label) for label in chosen])
    excluded = []
    n_missing_arm = int((codes < 0).sum())
    if n_missing_arm:
        excluded.append((f"missing {arm}", n_missing_arm))
    n_other = int((~keep).sum()) - n_missing_arm
    if n_other:
        excluded.append((f"other arm (not {', '.join(treatments)} or {control_label})", n_other))
    arms = {
        "treatment_label": treatments[0],
        "control_label": control_label,
        "treatments": tuple(treatments) if several else None,
    }
    return (frame if keep.all() else frame.loc[keep]), arms, excluded


def _check_ids(frame: pd.DataFrame, column: str, source: str, repeated: bool = False) -> None:
    ids = frame[column]
    if ids.isna().any():
        raise InputError(
            f"{source}: column {column!r} has missing ids at "
            f"{describe_rows(frame.index[ids.isna().to_numpy()])}"
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any() and not repeated:
        # rows by position only: an id value is never printed
        raise InputError(
            f"{source}: column {column!r} has duplicated ids at {describe_rows(frame.index[dup])}"
        )


# --- hostile input: argument types, time column kinds, near-miss arm values ----------------


def _check_arguments(source, columns: dict[str, Any], arms: dict[str, Any], time_unit) -> None:
    """Types of load_cohort's arguments, so that a wrong one is an InputError, not a TypeError."""
    if not isinstance(source, str | os.PathLike | pd.DataFrame):
        raise InputError(
            f"source must be a file path or a pandas DataFrame, not {type(source).__name__}"
        )
    if "arm" in columns and columns["arm"] is None:
        raise InputError("arm must be a column name (a string), not None")
    for role, column in columns.items():
        if column is not None and (isinstance(column, bool) or not isinstance(column, str | int)):
            raise InputError(f"{role} must be a column name (a string), not {column!r}")
    for role, value in arms.items():
        if role == "treatment" and isinstance(value, list | tuple):  # several arms
            for item in value:
                _check_arguments(source, {}, {"treatment arm": item}, time_unit)
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float | np.number):
            raise InputError(f"{role} must be an arm value (a string or a number), not {value!r}")
        if isinstance(value, float | np.floating) and not np.isfinite(value):
            raise InputError(f"{role} must be a finite number or a string, not {value!r}")
    if not isinstance(time_unit, str):
        raise InputError(f"time_unit must be a string, not {time_unit!r}")


def _check_loaded(
    frame: pd.DataFrame, name: str, time: str | None, time_unit: str, nul_checked: bool = False
) -> pd.DataFrame:
    """Checks of the table as read, whatever its source; returns it with a time column
    of durations converted to ``time_unit``."""
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise InputError(f"{name}: duplicated column names {duplicated}")
    if not nul_checked:  # a CSV's text was checked as it was read
        _check_no_nul(frame, name)
    if time is None or time not in frame.columns:
        return frame
    values = frame[time]
    kind = _time_kind(values)
    if kind == "dates":
        raise InputError(
            f"{name}: column {time!r} holds dates or date-times, not follow-up times; "
            f"give the time from randomisation as a number ({time_unit})"
        )
    if kind == "booleans":
        raise InputError(f"{name}: column {time!r} holds True/False values, not follow-up times")
    if kind == "durations":
        days = pd.to_timedelta(values).dt.total_seconds() / 86400.0
        return frame.assign(**{time: days / TIME_UNITS[time_unit]})
    return frame


def _check_no_nul(frame: pd.DataFrame, name: str) -> None:
    """A NUL character in a text cell (of a DataFrame or Parquet file) is an error, as in a CSV:
    most readers of our CSV outputs would cut the value there."""
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values)):
            continue
        # each distinct value is looked at once (a column of a million rows has few); a
        # Python set, as pandas' string hashing would cut a value at its NUL
        try:
            distinct = set(values.tolist())
        except TypeError:  # unhashable cells: look at every one
            distinct = values.tolist()
        if any(isinstance(v, str) and "\x00" in v for v in distinct):
            bad = values.map(lambda v: isinstance(v, str) and "\x00" in v).to_numpy(dtype=bool)
            raise InputError(
                f"{name}: column {column!r} holds a NUL character (\\x00) at "
                f"{describe_rows(np.flatnonzero(bad))}"
            )


def _time_kind(values: pd.Series) -> str:
    """'dates', 'durations', 'booleans' or 'numbers' (anything else) for a time column."""
    import datetime

    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return "dates"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "durations"
    if pd.api.types.is_bool_dtype(dtype):
        return "booleans"
    if pd.api.types.is_object_dtype(dtype):
        known = values.dropna()
        if any(isinstance(v, bool | np.bool_) for v in known):
            return "booleans"
        if any(isinstance(v, datetime.date | np.datetime64 | pd.Period) for v in known):
            return "dates"
        deltas = [isinstance(v, datetime.timedelta | np.timedelta64) for v in known]
        if deltas and all(deltas):
            return "durations"
        if any(deltas):
            return "dates"  # durations mixed with numbers: no single unit
    return "numbers"


def _warn_near_arms(
    codes: np.ndarray, present: list[str], chosen: tuple[str, ...], arm: str, source: str
) -> None:
    """Warn about arm values equal to the treatment or control value up to case and spaces."""
    import warnings

    from .exceptions import ArmValueWarning

    def fold(text: str) -> str:
        return " ".join(str(text).split()).casefold()

    wanted = {fold(label): label for label in chosen}
    counts = np.bincount(codes[codes >= 0], minlength=len(present))
    for value, count in zip(present, counts.tolist(), strict=True):
        if value not in chosen and fold(value) in wanted:
            warnings.warn(
                f"{source}: {count} row(s) of column {arm!r} hold {value!r}, which differs from "
                f"the arm {wanted[fold(value)]!r} only by case or spaces; they are excluded as "
                "another arm (correct the file or the plan if they belong to it)",
                ArmValueWarning,
                stacklevel=4,  # user -> load_cohort -> _select_arms -> here
            )


# --------------------------------------------------------------------------------------
# Sponsor data: CDISC ADaM endpoints (CNSR, PARAMCD), ADSL join, population flags
# --------------------------------------------------------------------------------------


def _sponsor_rows(frame, labels, name, *, id, arm, paramcd, adsl, population, repeated_ids):
    """The rows of one parameter, joined with ADSL, in the population; and the ledger.

    Returns the rows, the column labels (cohort file first, then ADSL), the
    exclusions ``[(reason, n)]`` and ADSL as read (or None).
    """
    frame = _select_parameter(frame, paramcd, name)
    labels = dict(labels)
    excluded: list[tuple[str, int]] = []
    adsl_table = adsl_name = None
    if id is not None:
        _require_columns(frame, {"id": id}, name)
        _check_ids(frame, id, name, repeated=repeated_ids)
    if adsl is not None:
        frame, adsl_table, n_out = _join_adsl(frame, adsl, id, arm, name)
        adsl_name = adsl_table.name
        labels = {**adsl_table.labels, **labels}
        if n_out:
            excluded.append((f"{id} not in ADSL ({adsl_name})", n_out))
    if population is not None:
        frame, n_out = _select_population(frame, population, name, adsl_name)
        if n_out:
            excluded.append((f"{population} is not Y (outside the analysis population)", n_out))
    if frame.shape[0] == 0:
        raise InputError(f"{name}: no rows left after the ADSL join")
    return frame, labels, excluded, adsl_table


def _with_endpoint(frame, name, endpoint, response_values, responders) -> pd.DataFrame:
    """Checked numeric times and the ``_event`` (1 = event) or ``_response`` column."""
    time, event, censor, response = (endpoint[k] for k in ("time", "event", "censor", "response"))
    if time is None:
        frame = frame.copy()
        frame["_response"] = _response_codes(frame, response, name, response_values, responders)
        return frame
    _check_times(frame, time, name)
    # new columns, no copy of the others (a deep copy would first merge every text column
    # into one 2-D block: a third of a second on a million rows)
    frame = frame.copy(deep=False)
    frame[time] = _numeric_column(frame, time, name)
    if censor is not None:
        frame["_event"] = _events_from_censor(frame, censor, name)
    else:
        frame["_event"] = _binary_column(frame, event, name, "events")
    return frame


def _where(name: str, adsl_name: str | None) -> str:
    return name if adsl_name is None else f"{name} (with ADSL {adsl_name})"


def _check_endpoint(time, event, censor, response, response_values, responders) -> None:
    """The endpoint arguments: time with one of event/censor, or response."""
    if response is not None:
        if time is not None or event is not None or censor is not None:
            raise InputError("give either time and event/censor or response, not both")
        if response_values is not None and responders is not None:
            raise InputError("give response_values or responders, not both")
        if response_values is not None:
            _check_response_values(response_values)
        return
    if response_values is not None or responders is not None:
        raise InputError("response_values and responders apply to a response column only")
    if event is not None and censor is not None:
        raise InputError(
            f"give event or censor, not both (event {event!r}, censor {censor!r}): "
            "event is 1 = event, censor is 0 = event"
        )
    if time is None or (event is None and censor is None):
        raise InputError(
            "give either time and event (or censor) for a survival endpoint, "
            "or response for a binary endpoint"
        )


def _check_response_values(response_values) -> None:
    if not isinstance(response_values, Mapping) or not response_values:
        raise InputError("response_values must map response values to 1 (response) or 0")
    bad = {
        k: v
        for k, v in response_values.items()
        if isinstance(v, bool) or v not in (0, 1) or not isinstance(v, int | float)
    }
    if bad:
        raise InputError(f"response_values must map each value to 1 or 0, not {bad}")


def _check_not_cnsr(event: str | None, source: str) -> None:
    if event is not None and str(event).strip().upper() == "CNSR":
        raise InputError(
            f"{source}: column {event!r} given as event is a censoring indicator "
            f"(ADaM CNSR: 0 = event, 1 = censored); use censor = {event!r} instead of event"
        )


def _paramcd_column(frame: pd.DataFrame) -> str | None:
    for column in frame.columns:
        if str(column).upper() == "PARAMCD":
            return column
    return None


def _select_parameter(frame: pd.DataFrame, paramcd, source: str) -> pd.DataFrame:
    """The rows of one parameter of a stacked ADaM file (row positions kept in the index)."""
    column = _paramcd_column(frame)
    if paramcd is None:
        if column is not None:
            values = sorted({format_value(v) for v in frame[column].dropna()})
            if len(values) > 1:
                raise InputError(
                    f"{source}: column {column!r} holds {len(values)} parameters "
                    f"({', '.join(values)}); choose one with paramcd (e.g. paramcd = "
                    f"{values[0]!r}) instead of pooling different endpoints"
                )
        return frame
    if column is None:
        raise InputError(f"{source}: paramcd {paramcd!r} given but the file has no PARAMCD column")
    wanted = format_value(paramcd)
    codes = frame[column].map(lambda v: format_value(v).strip() if pd.notna(v) else None)
    keep = (codes == wanted).to_numpy()
    if not keep.any():
        values = sorted({c for c in codes.dropna()})
        raise InputError(
            f"{source}: paramcd {wanted!r} not found in column {column!r} "
            f"(values: {', '.join(values) or 'none'})"
        )
    return frame.loc[keep]


def _id_keys(values: pd.Series) -> pd.Series:
    return values.map(lambda v: format_value(v).strip() if pd.notna(v) else None)


def _join_adsl(frame: pd.DataFrame, adsl, id: str | None, arm: str, source: str):
    """Cohort rows with ADSL's extra columns (left join by id); ids not in ADSL left out."""
    if id is None:
        raise InputError(f"{source}: adsl needs id, the subject identifier (e.g. id = 'USUBJID')")
    table = read_table(adsl, keep_as_written=(arm,))
    subject = table.frame
    if subject.shape[0] == 0:
        raise InputError(f"{table.name}: no data rows")
    _require_columns(subject, {"id": id}, f"{table.name} (ADSL)")
    _check_ids(subject, id, f"{table.name} (ADSL)")
    extra = [c for c in subject.columns if c not in frame.columns]
    lookup = subject.assign(_id_key=_id_keys(subject[id])).set_index("_id_key")[extra]
    keys = _id_keys(frame[id])
    found = keys.isin(lookup.index).to_numpy()
    kept = frame.loc[found]
    joined = lookup.loc[keys[found].to_numpy()].set_index(kept.index)
    return pd.concat([kept, joined], axis=1), table, int((~found).sum())


def _select_population(frame: pd.DataFrame, flag: str, source: str, adsl_name: str | None):
    """Rows flagged "Y"; the others (N or blank) are counted by the caller."""
    where = _where(source, adsl_name)
    _require_columns(frame, {"population": flag}, where)
    text = frame[flag].map(lambda v: str(v).strip() if pd.notna(v) else "")
    unknown = ~text.isin(["Y", "N", ""])
    if unknown.any():
        shown = sorted(set(text[unknown]))[:_MAX_EXAMPLES]
        raise InputError(
            f"{where}: population flag {flag!r} must hold Y or N; found "
            f"{', '.join(map(repr, shown))} at {describe_rows(frame.index[unknown.to_numpy()])}"
        )
    keep = (text == "Y").to_numpy()
    if not keep.any():
        raise InputError(f"{where}: no row has population flag {flag!r} = 'Y'")
    return frame.loc[keep], int((~keep).sum())


def _events_from_censor(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """1 = event where the censoring flag is 0, 0 where it is a positive integer."""
    values = _numeric_column(frame, column, source).to_numpy()
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        shown = sorted({str(v) for v in frame[column][bad].iloc[:_MAX_EXAMPLES]})
        raise InputError(
            f"{source}: censoring column {column!r} must hold 0 (event) or a positive integer "
            f"(censored); found {', '.join(shown)} at {describe_rows(frame.index[bad])}"
        )
    return (values == 0).astype(float)


def _response_codes(frame, column: str, source: str, response_values, responders) -> np.ndarray:
    """0/1 responses: a 0/1 column, or text values mapped by the plan."""
    if response_values is None and responders is None:
        return _binary_column(frame, column, source, "responses")
    values = frame[column]
    missing = values.isna().to_numpy()
    if missing.any():
        raise InputError(
            f"{source}: column {column!r} has missing responses at "
            f"{describe_rows(frame.index[missing])}"
        )
    text = values.map(lambda v: format_value(v).strip())
    if responders is not None:
        return text.isin({format_value(v).strip() for v in responders}).to_numpy(dtype=float)
    mapping = {format_value(k).strip(): float(v) for k, v in response_values.items()}
    unmapped = (~text.isin(list(mapping))).to_numpy()
    if unmapped.any():
        shown = sorted(set(text[unmapped]))[:_MAX_EXAMPLES]
        raise InputError(
            f"{source}: column {column!r} has values not in response_values "
            f"({', '.join(map(repr, shown))}) at {describe_rows(frame.index[unmapped])}"
        )
    return text.map(mapping).to_numpy(dtype=float)
