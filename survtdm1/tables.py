"""Submission tables of ``survtdm1 analyze``: the subgroup table as RTF and DOCX, and ``ard.csv``.

* ``subgroups.rtf`` and ``subgroups.docx``: the subgroup table as a trial
  report shows it (title from the plan, patients and events per arm, the
  effect with its CI, the p-value for interaction), numbers rounded as in the
  figures and the HTML report (:func:`survtdm1._text.subgroup_display`), arm
  names from the plan's ``[display]`` table. The RTF is composed with
  `rtflite <https://pypi.org/project/rtflite/>`_, the DOCX with
  `python-docx <https://pypi.org/project/python-docx/>`_.
* ``ard.csv``: the analysis results data in long form, one statistic a row,
  columns ``subgroup, level, arm, statistic, value``, at full precision.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ._text import display_label, subgroup_display
from .figures import comparison_stem
from .outputs import write_csv
from .plan import Plan, display_labels

__all__ = ["ARD_COLUMNS", "ard_frame", "write_ard", "write_docx", "write_rtf", "write_tables"]

ARD_COLUMNS = ["subgroup", "level", "arm", "statistic", "value"]

#: Columns of subgroups.csv that say what a row is, not a statistic.
_IDENTITY = {
    "subgroup",
    "level",
    "subgroup_label",
    "level_label",
    "note",
    "note_kind",
    "comparison",
}
_ARMS = ("treatment", "control")


def _value(value: Any) -> str | None:
    """A statistic as written to ard.csv (full precision), None when missing."""
    if value is None or isinstance(value, Mapping | list | tuple):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        number = float(value)
        if math.isnan(number):
            return None
        return str(int(number)) if isinstance(value, int) else repr(number)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return _value(value.item())
    return str(value) or None


def _split_arm(name: str, arms: Mapping[str, str]) -> tuple[str, str]:
    """("events", arm value) for "events_treatment"; (name, "") for a between-arm statistic."""
    for key, value in arms.items():
        if name.endswith(f"_{key}"):
            return name[: -len(key) - 1], value
    return name, ""


def _overall_records(overall: Mapping[str, Any], arms: Mapping[str, str], prefix: str = ""):
    for key, value in overall.items():
        if isinstance(value, Mapping):
            if not prefix and key in arms:  # {"treatment": {"median": ...}}: per-arm values
                for name, inner in value.items():
                    text = _value(inner)
                    if text is not None:
                        yield "", "", arms[key], name, text
            else:  # e.g. "stratified": {"hr": ...}
                yield from _overall_records(value, arms, prefix=f"{prefix}{key}.")
            continue
        text = _value(value)
        if text is None or key in _IDENTITY:
            continue
        statistic, arm = _split_arm(str(key), arms)
        yield "", "", arm, f"{prefix}{statistic}", text


def ard_frame(result: Any) -> pd.DataFrame:
    """The analysis results data (ARD) of a :class:`~survtdm1.subgroups.SubgroupResult`.

    One row per statistic: the overall analysis (``subgroup`` and ``level``
    empty) from the keys of ``summary.json``'s "overall", then each subgroup
    level from the columns of ``subgroups.csv``. ``arm`` holds the arm value
    as written for per-arm statistics (``n_treatment`` -> ``n`` of the
    treatment arm) and is empty for between-arm statistics (``hr``,
    ``p_interaction``). Statistics of nested objects are named by their path
    (``stratified.hr``). Missing values are left out; values are written at
    full precision (suppressed counts as their text, e.g. "<5").

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(overall={"n_treatment": 5, "hr": 0.5,
    ...     "treatment": {"median": 12.0}}, treatment_label="A", control_label="B",
    ...     table=pd.DataFrame({"subgroup": ["age"], "level": ["<65"], "hr": [0.4]}))
    >>> ard_frame(r).values.tolist()
    [['', '', 'A', 'n', '5'], ['', '', '', 'hr', '0.5'], ['', '', 'A', 'median', '12.0'], \
['age', '<65', '', 'hr', '0.4']]
    """
    arms = {"treatment": str(result.treatment_label), "control": str(result.control_label)}
    records = list(_overall_records(dict(result.overall or {}), arms))
    table = result.table
    statistics = [c for c in table.columns if c not in _IDENTITY]
    for row in table.to_dict("records"):
        for column in statistics:
            text = _value(row.get(column))
            if text is None:
                continue
            statistic, arm = _split_arm(str(column), arms)
            records.append((str(row["subgroup"]), str(row["level"]), arm, statistic, text))
    return pd.DataFrame(records, columns=ARD_COLUMNS)


def write_ard(result: Any, path: str | Path) -> Path:
    """Write :func:`ard_frame` as CSV to ``path`` (text cells neutralised for
    spreadsheets, as every CSV survtdm1 writes); returns the path.

    With several treatment arms (a ``MultiArmResult``) the rows of every
    comparison, in list order, with a first column ``comparison`` holding the
    treatment arm's value, as in ``subgroups.csv``.
    """
    if hasattr(result, "comparisons"):
        frame = pd.concat(
            [
                ard_frame(one).assign(comparison=str(treatment))
                for treatment, one in zip(result.treatments, result.results, strict=True)
            ],
            ignore_index=True,
        )
        frame = frame[["comparison", *ARD_COLUMNS]]
    else:
        frame = ard_frame(result)
    return write_csv(frame, path)


def _shown(result: Any, labels: Mapping[str, str]) -> dict[str, Any]:
    return subgroup_display(
        result.table,
        result.overall,
        treatment_label=labels["treatment"],
        control_label=labels["control"],
        conf_level=getattr(result, "conf_level", 0.95),
    )


def _titles(result: Any, title: str, labels: Mapping[str, str]) -> list[str]:
    endpoint = getattr(result, "endpoint_name", None) or (
        "Response" if getattr(result, "endpoint", "") == "binary" else "Survival"
    )
    return [
        display_label(title, 200),
        f"{display_label(endpoint)} by subgroup: "
        f"{display_label(labels['treatment'])} vs {display_label(labels['control'])}",
    ]


def _footnotes(result: Any) -> list[str]:
    binary = getattr(result, "endpoint", "") == "binary"
    notes = [
        ("OR: odds ratio (logistic regression)" if binary else "HR: hazard ratio (Cox model)")
        + "; CI: confidence interval; P for interaction: likelihood-ratio test of the "
        "treatment-by-subgroup interaction; NE: not estimable; NR: not reached."
    ]
    notes += [display_label(w, 300) for w in getattr(result, "warnings", ()) or ()]
    return notes


def write_rtf(result: Any, path: str | Path, *, title: str, labels: Mapping[str, str]) -> Path:
    """Write the subgroup table as an RTF file (readable by Word and LibreOffice).

    Composed with rtflite (a title, a header row spanning each arm's
    columns, the body, footnotes). rtflite is given a polars DataFrame (its
    pandas route fails with current narwhals releases), text with RTF's
    special characters escaped here (rtflite writes them raw) and its LaTeX
    conversion off (a label such as ``\\alpha`` stays as written).
    """
    import polars as pl
    import rtflite as rl

    shown = _shown(result, labels)
    header = [_rtf_escape(h) for h in shown["header"]]
    rows = [[_rtf_escape(cell) for cell in row] for row in shown["rows"]]
    frame = pl.DataFrame(
        {f"c{j}": [row[j] for row in rows] for j in range(len(header))},
        schema={f"c{j}": pl.String for j in range(len(header))},
    )
    spans = [(a, b, _rtf_escape(name)) for a, b, name in _spans(shown["groups"])]
    widths = [3.2] + [1.0] * (len(header) - 3) + [1.8, 1.2]
    span_widths = [sum(widths[a:b]) for a, b, _ in spans]
    n, raw = len(header), {"text_convert": False}  # no LaTeX conversion of data text
    document = rl.RTFDocument(
        df=frame,
        rtf_page=rl.RTFPage(orientation="landscape"),
        rtf_title=rl.RTFTitle(text=[_rtf_escape(t) for t in _titles(result, title, labels)], **raw),
        rtf_column_header=[
            rl.RTFColumnHeader(
                text=[text for _, _, text in spans], col_rel_width=span_widths,
                text_justification=["c"] * len(spans), **raw,
            ),
            rl.RTFColumnHeader(
                text=header, col_rel_width=widths, text_justification=["l"] + ["c"] * (n - 1),
                **raw,
            ),
        ],
        rtf_body=rl.RTFBody(
            col_rel_width=widths,
            text_justification=[["l"] + ["c"] * (n - 1)],
            text_format=[
                ["b" if kind != "level" else ""] + [""] * (n - 1) for kind in shown["kinds"]
            ],
            text_convert=[[False]],
        ),
        rtf_footnote=rl.RTFFootnote(text=[_rtf_escape(t) for t in _footnotes(result)], **raw),
    )  # fmt: skip
    path = Path(path)
    with contextlib.redirect_stdout(io.StringIO()):  # rtflite prints the file name
        document.write_rtf(str(path))
    return path


def _rtf_escape(text: str) -> str:
    """Text with RTF's special characters escaped (rtflite passes ``\\``, ``{``, ``}`` raw)."""
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")


def _spans(groups: list[str]) -> list[tuple[int, int, str]]:
    """Runs of equal group names: (start, stop, name)."""
    spans: list[tuple[int, int, str]] = []
    for index, name in enumerate(groups):
        if spans and spans[-1][2] == name and name:
            spans[-1] = (spans[-1][0], index + 1, name)
        else:
            spans.append((index, index + 1, name))
    return spans


def write_docx(result: Any, path: str | Path, *, title: str, labels: Mapping[str, str]) -> Path:
    """Write the subgroup table as a Word document (python-docx), landscape."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    shown = _shown(result, labels)
    header, rows = shown["header"], shown["rows"]
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    titles = _titles(result, title, labels)
    document.add_heading(titles[0], level=1)
    document.add_paragraph(titles[1])
    table = document.add_table(rows=2 + len(rows), cols=len(header))
    table.style = "Table Grid"
    # each row's cells are listed once (table.cell(i, j) walks the whole grid on every call)
    top = table.rows[0].cells  # listed before merging: the spans are disjoint, left to right
    for start, stop, name in _spans(shown["groups"]):
        cell = top[start]
        if stop - start > 1:
            cell = cell.merge(top[stop - 1])
        cell.text = name
    for cell, name in zip(table.rows[1].cells, header, strict=True):
        cell.text = name
    body = table.rows[2:]
    for docx_row, row, kind in zip(body, rows, shown["kinds"], strict=True):
        cells = docx_row.cells
        for j, text in enumerate(row):
            cells[j].text = text
        if kind != "level":
            for run in cells[0].paragraphs[0].runs:
                run.bold = True
    for i, docx_row in enumerate(table.rows):
        for j, cell in enumerate(docx_row.cells):
            paragraph = cell.paragraphs[0]
            if j > 0:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in paragraph.runs:
                run.font.size = Pt(9)
                if i < 2:
                    run.bold = True
    for note in _footnotes(result):
        document.add_paragraph(note).runs[0].font.size = Pt(8)
    path = Path(path)
    document.save(str(path))
    return path


def write_tables(result: Any, plan: Plan, out_dir: str | Path) -> list[Path]:
    """Write ``ard.csv``, ``subgroups.rtf`` and ``subgroups.docx`` of ``result`` into ``out_dir``.

    Arm names come from the plan's ``[display]`` table (else the arm values).
    """
    out = Path(out_dir)
    written = [write_ard(result, out / "ard.csv")]
    if not hasattr(result, "comparisons"):
        return written + _documents(result, plan, out, "subgroups")
    # several treatment arms: per comparison k subgroups-k-<arm>.rtf/.docx (as the
    # figures), the first comparison also as subgroups.rtf/.docx
    for number, (treatment, one) in enumerate(
        zip(result.treatments, result.results, strict=True), start=1
    ):
        written += _documents(one, plan, out, comparison_stem("subgroups", number, treatment))
        if number == 1:
            written += _documents(one, plan, out, "subgroups")
    return written


def _documents(result: Any, plan: Plan, out: Path, stem: str) -> list[Path]:
    """The RTF and DOCX subgroup tables of one two-arm result."""
    labels = display_labels(plan, result.treatment_label)
    if "control_label" not in plan.display:
        labels["control"] = str(result.control_label)
    return [
        write_rtf(result, out / f"{stem}.rtf", title=plan.title, labels=labels),
        write_docx(result, out / f"{stem}.docx", title=plan.title, labels=labels),
    ]
