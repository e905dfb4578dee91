"""The rows of a forest plot as read from a subgroup table, and the effect measures.

:data:`EFFECTS` says which columns hold each effect (HR, OR, risk difference)
and how it is drawn; :func:`forest_rows` turns the table (and the overall
row) into :class:`ForestRow` objects in display order. Nothing is estimated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._text import to_number as _number
from .text import safe_text

__all__ = ["EFFECTS", "NOTE_KINDS", "ForestRow", "forest_rows"]

#: The values of a table's ``note_kind`` column ("" when there is no note).
NOTE_KINDS = ("", "firth", "small_sample", "not_estimable", "no_patients", "not_converged")


@dataclass(frozen=True)
class _Effect:
    """How one effect measure is read from the table and drawn."""

    columns: tuple[str, str, str]
    short_name: str
    axis_label: str
    count_columns: tuple[str, str]
    count_title: str
    log_scale: bool
    reference: float
    treatment_side: str  # where the treatment is favoured: "left" or "right"
    display_scale: float = 1.0
    # a Firth note is about the HR or OR model; other effects (the risk
    # difference, a Wald estimate) are not penalised and keep no such note
    firth_applies: bool = True


#: The effect measures a forest plot can show.
EFFECTS: dict[str, _Effect] = {
    "hr": _Effect(
        ("hr", "hr_lower", "hr_upper"),
        "HR",
        "Hazard ratio",
        ("events_treatment", "events_control"),
        "Events",
        True,
        1.0,
        "left",
    ),
    "or": _Effect(
        ("or", "or_lower", "or_upper"),
        "OR",
        "Odds ratio",
        ("responders_treatment", "responders_control"),
        "Responders",
        True,
        1.0,
        "right",
    ),
    "rd": _Effect(
        ("rd", "rd_lower", "rd_upper"),
        "Difference",
        "Difference in response rate (% points)",
        ("responders_treatment", "responders_control"),
        "Responders",
        False,
        0.0,
        "right",
        100.0,
        firth_applies=False,
    ),
}


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot, as read from the table.

    Attributes
    ----------
    kind : {"overall", "heading", "level"}
    label : str
        Display text of the row (heading: the subgroup's display name).
    subgroup, level : str
        Keys as in the table ("" where not applicable).
    n_treatment, n_control, count_treatment, count_control : float or str
        Patients and events (or responders) per arm; NaN on headings; text
        as given when the table holds text (e.g. "<5" from
        :func:`survtdm1.privacy.suppress_small_cells`), shown unchanged.
    estimate, lower, upper : float
        Effect and confidence limits on the table's scale; NaN when not estimable.
    note : str
        Why the estimate is missing or penalised ("" when nothing to say). A
        note about a Firth-penalised fit is kept only for the effects it
        concerns (HR, OR), not for the risk difference.
    note_kind : str
        What the note is about, one of :data:`NOTE_KINDS`, read from the
        table's ``note_kind`` column ("" when the table has none: the note's
        wording is never parsed). Markers are chosen from it.
    p_interaction, p_interaction_adj : float
        On headings only.
    median_treatment, median_control : float
        Median time per arm (survival tables; NaN when not reached or absent).
    """

    kind: str
    label: str
    subgroup: str = ""
    level: str = ""
    n_treatment: float | str = math.nan
    n_control: float | str = math.nan
    count_treatment: float | str = math.nan
    count_control: float | str = math.nan
    estimate: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    note: str = ""
    note_kind: str = ""
    p_interaction: float = math.nan
    p_interaction_adj: float = math.nan
    median_treatment: float = math.nan
    median_control: float = math.nan

    @property
    def estimable(self) -> bool:
        return self.kind != "heading" and math.isfinite(self.estimate)

    @property
    def firth(self) -> bool:
        return self.note_kind == "firth"


def _note_for(spec: _Effect, source: Mapping[str, Any]) -> dict[str, str]:
    """The row's ``note`` and ``note_kind`` as they apply to the plotted effect.

    A table without a ``note_kind`` column (written before it existed) gives
    kind "": its notes are shown, no marker is chosen from them.
    """
    kind = _text(source.get("note_kind")).strip()
    if kind == "firth" and not spec.firth_applies:
        return {"note": "", "note_kind": ""}
    return {"note": _text(source.get("note")), "note_kind": kind}


def _text(value: Any) -> str:
    """A display string; empty for None and NaN."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


def _effect_for(table: pd.DataFrame, effect: str | None) -> str:
    if effect is None:
        return "hr" if "hr" in table.columns or "or" not in table.columns else "or"
    if effect not in EFFECTS:
        raise ValueError(f"effect must be one of {', '.join(EFFECTS)}, not {effect!r}")
    return effect


def forest_rows(
    table: pd.DataFrame,
    overall: Mapping[str, Any] | None = None,
    *,
    effect: str | None = None,
    overall_label: str = "All patients",
) -> list[ForestRow]:
    """The rows of a forest plot, in display order (reads the table, no estimation).

    Parameters
    ----------
    table : DataFrame
        Columns of ``subgroups.csv``; ``subgroup_label``/``level_label`` are
        used for display when present and non-empty.
    overall : mapping, optional
        The keys of ``summary.json``'s "overall"; gives the top row.
    effect : {"hr", "or", "rd"}, optional
        Default: "hr" when the table has an ``hr`` column, else "or".
    overall_label : str

    Returns
    -------
    list of ForestRow
        The overall row, then per subgroup (in order of first appearance) a
        heading followed by its levels in table order.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"subgroup": ["age", "age"], "level": ["<50", ">=50"],
    ...                       "hr": [0.5, 0.7], "hr_lower": [0.3, 0.5], "hr_upper": [0.9, 1.0]})
    >>> [row.label for row in forest_rows(table)]
    ['age', '<50', '>=50']
    """
    effect = _effect_for(table, effect)
    spec = EFFECTS[effect]
    rows: list[ForestRow] = []
    if overall is not None:
        est, lower, upper = (_number(overall.get(key)) for key in spec.columns)
        rows.append(
            ForestRow(
                "overall",
                safe_text(overall_label),
                n_treatment=_count(overall.get("n_treatment")),
                n_control=_count(overall.get("n_control")),
                count_treatment=_count(overall.get(spec.count_columns[0])),
                count_control=_count(overall.get(spec.count_columns[1])),
                estimate=est,
                lower=lower,
                upper=upper,
                **_note_for(spec, overall),
                **{
                    f"median_{arm}": _number((overall.get(arm) or {}).get("median"))
                    for arm in ("treatment", "control")
                    if hasattr(overall.get(arm), "get")
                },
            )
        )
    if table is None or len(table) == 0:
        return rows

    def column(name: str) -> pd.Series:
        if name in table.columns:
            return table[name]
        return pd.Series([math.nan] * len(table), index=table.index)

    keys = table["subgroup"].map(_text)
    for subgroup in pd.unique(keys):
        part = table[keys == subgroup]
        first = part.iloc[0]
        heading = safe_text(_text(first.get("subgroup_label")) or subgroup)
        p_values = column("p_interaction")[part.index].map(_number)
        p_adjusted = column("p_interaction_adj")[part.index].map(_number)
        rows.append(
            ForestRow(
                "heading",
                heading,
                subgroup=subgroup,
                p_interaction=_first_finite(p_values),
                p_interaction_adj=_first_finite(p_adjusted),
            )
        )
        for index, record in part.iterrows():
            level = _text(record.get("level"))
            est, lower, upper = (_number(column(name)[index]) for name in spec.columns)
            rows.append(
                ForestRow(
                    "level",
                    safe_text(_text(record.get("level_label")) or level),
                    subgroup=subgroup,
                    level=level,
                    n_treatment=_count(column("n_treatment")[index]),
                    n_control=_count(column("n_control")[index]),
                    count_treatment=_count(column(spec.count_columns[0])[index]),
                    count_control=_count(column(spec.count_columns[1])[index]),
                    estimate=est,
                    lower=lower,
                    upper=upper,
                    **_note_for(spec, record),
                    median_treatment=_number(column("median_treatment")[index]),
                    median_control=_number(column("median_control")[index]),
                )
            )
    return rows


def _first_finite(values: pd.Series) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return finite[0] if finite else math.nan


def _count(value: Any) -> float | str:
    """A count cell: its number, or its text when it is not a number (e.g. "<5")."""
    number = _number(value)
    if math.isnan(number) and isinstance(value, str) and value.strip():
        return value.strip()
    return number
