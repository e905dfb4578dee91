"""Display text without matplotlib: numbers, counts, p-values, effects and table cells.

One rule per kind of value, shared by the figures (:mod:`survtdm1.plots`) and
the HTML report (:mod:`survtdm1.report`), so a p-value or a count reads the
same everywhere. Variants (running text "P < 0.001", fixed decimals, the
report's "not reached") are options of the one rule, not copies of it.
Measuring and wrapping text in points needs fonts and stays in
``survtdm1.plots.text``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "LABEL_MAX_CHARS",
    "NOT_ESTIMABLE",
    "display_html",
    "display_label",
    "format_cell",
    "format_conf_level",
    "format_count",
    "format_effect",
    "format_p",
    "is_missing",
    "subgroup_display",
    "to_number",
]

#: What a figure shows for an effect that could not be estimated.
NOT_ESTIMABLE = "NE"

_COUNT_PREFIXES = ("n_", "events_", "responders_")


def to_number(value: Any) -> float:
    """``float(value)``, or NaN when it is not a number (text, None, pandas' NA).

    Examples
    --------
    >>> to_number("0.5"), to_number("<5"), to_number(None)
    (0.5, nan, nan)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def is_missing(value: Any) -> bool:
    """Whether a single value is missing: None, NaN, NaT or pandas' NA.

    The rule of ``pandas.isna`` for one value, without importing pandas.

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0.0), is_missing("")
    (True, True, False, False)
    """
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are the values unequal to themselves
    except TypeError:  # pandas' NA has no truth value
        return True
    except ValueError:  # an array or a list: not one missing value
        return False


def format_count(value: Any) -> str:
    """A count as an integer string; text (e.g. a suppressed "<5") as it is; empty when missing.

    Examples
    --------
    >>> [format_count(v) for v in (12, 12.0, "<5", float("nan"), None)]
    ['12', '12', '<5', '', '']
    """
    if isinstance(value, str):
        return value
    number = to_number(value)
    return f"{number:.0f}" if math.isfinite(number) else ""


def format_conf_level(conf_level: float) -> str:
    """A confidence level as the figures and the report name it, e.g. "95%".

    Examples
    --------
    >>> format_conf_level(0.95), format_conf_level(0.9), format_conf_level(0.975)
    ('95%', '90%', '97.5%')
    """
    return f"{conf_level * 100:g}%"


def format_p(
    value: Any, *, label: str | None = None, decimals: int | None = None, missing: str = ""
) -> str:
    """A p-value for display: one rule, as a table cell or in running text.

    Parameters
    ----------
    value : float
    label : str, optional
        Without a label the compact cell of tables and figure columns
        ("<0.001", "0.003"); with one, running text: ``"{label} < 0.001"``
        or ``"{label} = 0.003"``.
    decimals : int, optional
        Default: three decimals below 0.1, else two.
    missing : str
        Text for a missing or infinite value.

    Examples
    --------
    >>> format_p(2e-8), format_p(0.0312), format_p(0.456), format_p(float("nan"))
    ('<0.001', '0.031', '0.46', '')
    >>> format_p(2e-8, label="Log-rank P"), format_p(0.12, label="p", decimals=3)
    ('Log-rank P < 0.001', 'p = 0.120')
    """
    number = to_number(value)
    if not math.isfinite(number):
        return missing
    if number < 0.001:
        text = "<0.001"
    else:
        places = decimals if decimals is not None else (3 if number < 0.1 else 2)
        text = f"{number:.{places}f}"
    if label is None:
        return text
    if text.startswith("<"):
        return f"{label} < {text[1:]}"
    return f"{label} = {text}"


def format_effect(
    estimate: Any,
    lower: Any,
    upper: Any,
    *,
    scale: float = 1.0,
    digits: int | None = None,
    missing: str = NOT_ESTIMABLE,
    missing_limit: str | None = None,
    separator: str = "scaled",
) -> str:
    """An estimate with its CI, e.g. "0.52 (0.38–0.71)"; "NE" when not estimable.

    Parameters
    ----------
    estimate, lower, upper : float
        On the table's scale; multiplied by ``scale`` for display.
    scale : float
        E.g. 100 for a rate shown in percent.
    digits : int, optional
        Decimals; default 2, or 1 for a scaled effect.
    missing : str
        Text for a missing estimate.
    missing_limit : str, optional
        Text for a missing limit. By default (the figures' rule) an infinite
        value counts as missing and shows ``missing``; when given (the
        report's rule, e.g. "NR" for a median's unreached limit) only None or
        NaN are missing and an infinite value shows as "inf".
    separator : {"scaled", "negative"}
        Between the limits " to " or an en dash: "scaled" (the figures' rule)
        puts " to " for a scaled effect, "negative" (the report's) for a
        negative limit.

    Examples
    --------
    >>> format_effect(0.5234, 0.381, 0.7102)
    '0.52 (0.38–0.71)'
    >>> format_effect(0.052, -0.01, 0.11, scale=100)
    '5.2 (-1.0 to 11.0)'
    >>> format_effect(float("nan"), float("nan"), float("nan"))
    'NE'
    >>> format_effect(20.1, 15.2, None, digits=1, missing="not reached", missing_limit="NR")
    '20.1 (15.2–NR)'
    """
    finite_only = missing_limit is None
    limit_missing = missing if missing_limit is None else missing_limit
    if digits is None:
        digits = 1 if scale != 1.0 else 2

    def one(value: Any, missing_text: str) -> str:
        if is_missing(value) or (finite_only and not math.isfinite(to_number(value))):
            return missing_text
        return f"{float(value) * scale:.{digits}f}"

    if one(estimate, "") == "":
        return missing
    low, high = one(lower, limit_missing), one(upper, limit_missing)
    if separator == "scaled":
        spaced = scale != 1.0
    else:
        spaced = low.startswith("-") or high.startswith("-")
    return f"{one(estimate, missing)} ({low}{' to ' if spaced else '–'}{high})"


def format_cell(value: Any, name: str = "") -> str:
    """A table value rounded for display, by its column ``name`` (escaping is the caller's).

    p-values (names starting with ``p_`` or equal to ``p``, after the last
    dot) as :func:`format_p`; counts (``n``, ``n_*``, ``events_*``,
    ``responders_*``) as integers; other numbers with two decimals (none from
    1000 up); missing values as an empty string; text as it is.

    Examples
    --------
    >>> format_cell(0.000012, "p_value"), format_cell(743.0, "n_treatment")
    ('<0.001', '743')
    >>> format_cell(0.50123, "hr"), format_cell(float("nan"), "hr")
    ('0.50', '')
    """
    if is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            return str(number)
        base = name.rsplit(".", 1)[-1]
        if base.startswith("p_") or base == "p":
            return format_p(number)
        if base.startswith(_COUNT_PREFIXES) or base == "n" and number.is_integer():
            return f"{number:.0f}"
        if abs(number) >= 1000:
            return f"{number:.0f}"
        return f"{number:.2f}"
    return str(value)


#: Labels longer than this many characters are cut with an ellipsis on display.
LABEL_MAX_CHARS = 80


def display_label(value: Any, max_chars: int = LABEL_MAX_CHARS) -> str:
    """A data value made safe to show as a label in a figure, table header or report.

    Control characters (which are not valid in SVG or XML) become spaces,
    runs of white space one space, and a label longer than ``max_chars``
    ends in an ellipsis. Missing values give an empty string. The value in
    the data and in ``subgroups.csv`` is not changed; only what is displayed.

    Examples
    --------
    >>> display_label("grade\\x00 3\\x1b[0m")
    'grade 3 [0m'
    >>> display_label("x" * 100, max_chars=10)
    'xxxxxxxxx…'
    """
    if is_missing(value):
        return ""
    text = str(value)
    if len(text) > 4 * max_chars:  # no need to clean what is cut anyway
        text = text[: 4 * max_chars]
    cleaned = "".join(
        " " if (ord(ch) < 32 or 127 <= ord(ch) < 160 or 0xD800 <= ord(ch) <= 0xDFFF) else ch
        for ch in text
    )
    cleaned = cleaned.replace("\ufffe", " ").replace("\uffff", " ")
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > max_chars:
        cleaned = cleaned[: max_chars - 1].rstrip() + "…"
    return cleaned


#: Effect columns of a subgroup table and their display names.
_EFFECT_NAMES = {"hr": "HR", "or": "OR", "rd": "Difference, % points"}


def subgroup_display(
    table: Any,
    overall: Any = None,
    *,
    treatment_label: str,
    control_label: str,
    conf_level: float = 0.95,
    medians: bool = False,
    overall_label: str = "All patients",
) -> dict[str, Any]:
    """The subgroup table as it is shown to people: per-arm counts, effect, p for interaction.

    Reads ``table`` (a DataFrame with the columns of ``subgroups.csv``) by
    column name, so extra columns are ignored. Survival tables show patients
    and events per arm and the HR; binary tables responders and the OR.

    Returns
    -------
    dict
        ``groups`` (the spanning header: an arm name over its columns),
        ``header`` (column names), ``rows`` (lists of display strings; level
        rows indented by two spaces under their subgroup's heading row) and
        ``kinds`` ("overall", "heading" or "level" per row).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"subgroup": ["age"], "level": ["<65"], "n_treatment": [10],
    ...     "n_control": [12], "events_treatment": [3], "events_control": [5],
    ...     "hr": [0.5], "hr_lower": [0.2], "hr_upper": [1.1], "p_interaction": [0.04]})
    >>> shown = subgroup_display(t, treatment_label="A", control_label="B")
    >>> shown["header"]
    ['Subgroup', 'n', 'Events', 'n', 'Events', 'HR (95% CI)', 'P for interaction']
    >>> shown["rows"]
    [['age', '', '', '', '', '', '0.040'], ['  <65', '10', '3', '12', '5', '0.50 (0.20–1.10)', '']]
    """
    columns = set(table.columns)
    effect = "hr" if "hr" in columns else "or" if "or" in columns else "rd"
    count = "events" if "events_treatment" in columns else "responders"
    per_arm = [("n", "n"), (count, count.capitalize())]
    if medians and "median_treatment" in columns:
        per_arm.append(("median", "Median"))
    percent = format_conf_level(conf_level)
    scale = 100.0 if effect == "rd" else 1.0
    header = ["Subgroup"]
    groups = [""]
    for label in (treatment_label, control_label):
        header += [name for _, name in per_arm]
        groups += [display_label(label)] * len(per_arm)
    header += [f"{_EFFECT_NAMES[effect]} ({percent} CI)", "P for interaction"]
    groups += ["", ""]

    def arm_cells(get) -> list[str]:
        cells = []
        for arm in ("treatment", "control"):
            for key, _ in per_arm:
                value = get(f"{key}_{arm}")
                cells.append(format_count(value) if key != "median" else _median_text(value))
        return cells

    def effect_cell(get) -> str:
        values = [get(f"{effect}{suffix}") for suffix in ("", "_lower", "_upper")]
        return format_effect(*values, scale=scale)

    rows, kinds = [], []
    if overall is not None:

        def get_overall(key: str) -> Any:
            if key.startswith("median_"):  # summary.json keeps medians per arm
                nested = overall.get(key[len("median_") :])
                return nested.get("median") if hasattr(nested, "get") else None
            return overall.get(key)

        rows.append([overall_label, *arm_cells(get_overall), effect_cell(overall.get), ""])
        kinds.append("overall")
    for subgroup in dict.fromkeys(table["subgroup"].astype(str)):
        part = table[table["subgroup"].astype(str) == subgroup]
        first = part.iloc[0]
        heading = display_label(first.get("subgroup_label")) or display_label(subgroup)
        p_values = [to_number(v) for v in part.get("p_interaction", [])]
        p_first = next((p for p in p_values if math.isfinite(p)), math.nan)
        rows.append([heading] + [""] * (len(header) - 2) + [format_p(p_first)])
        kinds.append("heading")
        for _, record in part.iterrows():
            label = display_label(record.get("level_label")) or display_label(record["level"])
            rows.append(["  " + label, *arm_cells(record.get), effect_cell(record.get), ""])
            kinds.append("level")
    return {"groups": groups, "header": header, "rows": rows, "kinds": kinds}


def _median_text(value: Any) -> str:
    number = to_number(value)
    if is_missing(value) or not math.isfinite(number):
        return "NR"
    return f"{number:.1f}"


def display_html(shown: dict[str, Any], *, css_class: str = "subgroups") -> str:
    """The HTML table of a :func:`subgroup_display` (escaped; arm names span their columns).

    Level rows carry class "level" (their first cell indented), headings
    class "heading" and the overall row class "overall"; inline styles keep
    it readable where no style sheet applies (a Jupyter notebook).
    """
    import html

    def esc(value: Any) -> str:
        return html.escape(str(value), quote=True)

    spans: list[list[Any]] = []
    for name in shown["groups"]:
        if spans and name and spans[-1][0] == name:
            spans[-1][1] += 1
        else:
            spans.append([name, 1])
    center = "text-align:center"
    group_row = "".join(
        f'<th colspan="{n}" style="{center};border-bottom:1px solid #999">{esc(name)}</th>'
        if name
        else f'<th colspan="{n}"></th>'
        for name, n in spans
    )
    head = "".join(
        f'<th style="text-align:{"left" if j == 0 else "right"}">{esc(name)}</th>'
        for j, name in enumerate(shown["header"])
    )
    body = []
    for row, kind in zip(shown["rows"], shown["kinds"], strict=True):
        style = "text-align:left" + (";padding-left:1.6em" if kind == "level" else "")
        weight = "" if kind == "level" else ";font-weight:bold"
        first = f'<td class="text" style="{style}{weight}">{esc(row[0].strip())}</td>'
        cells = "".join(
            f'<td class="num" style="text-align:right;white-space:nowrap">{esc(v)}</td>'
            for v in row[1:]
        )
        body.append(f'<tr class="{kind}">{first}{cells}</tr>')
    return (
        f'<table class="{css_class}"><thead><tr>{group_row}</tr><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


#: How many examples (rows, values) an error message shows.
MAX_EXAMPLES = 5


def describe_rows(positions, limit: int = MAX_EXAMPLES) -> str:
    """'rows 3, 8, 9' for 0-based data positions (reported 1-based, header not counted)."""
    positions = list(positions)
    shown = ", ".join(str(int(p) + 1) for p in positions[:limit])
    more = f" and {len(positions) - limit} more" if len(positions) > limit else ""
    noun = "row" if len(positions) == 1 else "rows"
    return f"{noun} {shown}{more}"
