"""Forest rows take what a note is about from the table's ``note_kind`` column.

Markers are chosen from the kind, never from the note's wording; a table
without the column (written before it existed) shows its notes and no
Firth marker.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from survtdm1.plots import forest_plot, forest_rows  # noqa: E402
from survtdm1.plots.rows import NOTE_KINDS  # noqa: E402

FIRTH_NOTE = "Firth-penalised estimate: no events in the A arm"


def _table(note_kinds: list[str] | None, effect: str = "hr") -> pd.DataFrame:
    count = "events" if effect == "hr" else "responders"
    table = pd.DataFrame(
        {
            "subgroup": ["age", "age", "age"],
            "level": ["<50", "50-65", ">65"],
            "n_treatment": [100, 90, 80],
            "n_control": [100, 95, 85],
            f"{count}_treatment": [20, 0, 15],
            f"{count}_control": [30, 10, 20],
            effect: [0.6, 0.09, math.nan],
            f"{effect}_lower": [0.4, 0.01, math.nan],
            f"{effect}_upper": [0.9, 0.8, math.nan],
            "rd": [0.1, -0.1, math.nan],
            "rd_lower": [0.0, -0.2, math.nan],
            "rd_upper": [0.2, 0.0, math.nan],
            "p_interaction": [0.3, 0.3, 0.3],
            "note": ["", FIRTH_NOTE, "No events: not estimable"],
        }
    )
    if note_kinds is not None:
        table.insert(table.columns.get_loc("note") + 1, "note_kind", note_kinds)
    return table


def _markers(fig, gid):
    return [line for ax in fig.axes for line in ax.lines if line.get_gid() == gid]


def _footnotes(fig) -> str:
    return " ".join(
        t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "forest-footnotes"
    )


def test_rows_carry_the_kind_from_the_column():
    rows = forest_rows(_table(["", "firth", "not_estimable"]))
    levels = [r for r in rows if r.kind == "level"]
    assert [r.note_kind for r in levels] == ["", "firth", "not_estimable"]
    assert [r.firth for r in levels] == [False, True, False]
    assert {r.note_kind for r in levels} <= set(NOTE_KINDS)


def test_overall_row_kind_from_the_mapping():
    overall = {"hr": 0.4, "hr_lower": 0.1, "hr_upper": 0.9, "note": "penalised"}
    rows = forest_rows(_table(["", "", ""]), {**overall, "note_kind": "firth"})
    assert rows[0].kind == "overall" and rows[0].firth and rows[0].note == "penalised"
    assert not forest_rows(_table(None), overall)[0].firth


def test_firth_marker_from_the_kind_not_the_wording():
    fig = forest_plot(
        _table(["", "firth", "not_estimable"]), treatment_label="A", control_label="B"
    )
    assert len(_markers(fig, "forest-marker-firth")) == 1
    assert len(_markers(fig, "forest-marker")) == 1
    assert "Open squares: Firth-penalised estimates." in _footnotes(fig)
    # the same wording with another kind draws no open square
    fig = forest_plot(_table(["", "small_sample", ""]), treatment_label="A", control_label="B")
    assert len(_markers(fig, "forest-marker-firth")) == 0
    assert FIRTH_NOTE in _footnotes(fig) and "Open squares" not in _footnotes(fig)


def test_table_without_the_column_shows_notes_and_no_firth_marker():
    table = _table(None)
    assert "note_kind" not in table.columns
    rows = forest_rows(table)
    assert all(r.note_kind == "" for r in rows)
    fig = forest_plot(table, treatment_label="A", control_label="B")
    assert len(_markers(fig, "forest-marker-firth")) == 0
    assert len(_markers(fig, "forest-marker")) == 2
    notes = _footnotes(fig)
    assert FIRTH_NOTE in notes and "No events: not estimable" in notes
    assert "Open squares" not in notes


@pytest.mark.parametrize("missing", [None, math.nan])
def test_missing_kind_cells_read_as_none(missing):
    rows = forest_rows(_table([missing, "firth", missing]))
    assert [r.note_kind for r in rows if r.kind == "level"] == ["", "firth", ""]


def test_binary_tables_firth_kind_only_for_the_odds_ratio():
    table = _table(["", "firth", "not_estimable"], effect="or")
    for effect, firth_markers in (("or", 1), ("rd", 0)):
        fig = forest_plot(table, treatment_label="A", control_label="B", effect=effect)
        assert len(_markers(fig, "forest-marker-firth")) == firth_markers
        row = [r for r in forest_rows(table, effect=effect) if r.level == "50-65"][0]
        assert row.note_kind == ("firth" if effect == "or" else "")
        assert row.note == (FIRTH_NOTE if effect == "or" else "")
