"""Submission outputs: subgroups.rtf, subgroups.docx and ard.csv, read back by readers.

The RTF is parsed for its table cells (a small reader below, independent of
rtflite), the DOCX opened with python-docx; every count, HR (95% CI) and p for
interaction they show must equal subgroups.csv at the displayed precision
(counts exactly, HRs to 0.005, p-values to 0.0005 or "<0.001"). ard.csv must
hold the values of subgroups.csv and summary.json at full precision. The
plan's [display] table names the arms in the tables and figures.
"""

from __future__ import annotations

import json
import re
import tomllib
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import docx  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import survtdm1 as st  # noqa: E402
from survtdm1.exceptions import PlanError  # noqa: E402
from survtdm1.plan import _check_display as check_display  # noqa: E402

SUBGROUPS = ["her2_ihc", "pik3ca", "hormone_receptor"]


def _demo_plan(display: dict | None = None) -> dict:
    path = st.datasets.demo_plan_path()
    plan = tomllib.loads(path.read_text())
    plan["cohort"]["path"] = str(path.parent / plan["cohort"]["path"])
    plan["subgroup"] = [s for s in plan["subgroup"] if s["column"] in SUBGROUPS]
    if display is not None:
        plan["display"] = display
    return plan


DISPLAY = {
    "treatment_label": "Trastuzumab emtansine (T-DM1)",
    "control_label": "Trastuzumab {Herceptin} \\ control",
    "time_label": "Months since randomisation (ITT)",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    result = st.analyze(_demo_plan(DISPLAY))
    result.write(out)
    return out, result


# ---------------------------------------------------------------------------
# a small RTF table reader


def _rtf_text(fragment: str) -> str:
    text = re.sub(r"\\uc\d+\s?", "", fragment)
    text = re.sub(r"\\u(-?\d+)[*?]?", lambda m: chr(int(m.group(1)) % 65536), text)
    text = text.replace("\\{", "\x01").replace("\\}", "\x02").replace("\\\\", "\x03")
    text = re.sub(r"\\[a-zA-Z]+-?\d* ?", "", text)
    text = text.replace("{", "").replace("}", "")
    return text.replace("\x01", "{").replace("\x02", "}").replace("\x03", "\\").strip()


def rtf_rows(path) -> list[list[str]]:
    """The cells of every table row of an RTF file, as text."""
    source = path.read_text(encoding="ascii")
    rows = []
    for chunk in re.split(r"\\row(?![a-z])", source)[:-1]:
        chunk = chunk[chunk.find("\\trowd") :] if "\\trowd" in chunk else chunk
        cells = re.split(r"\\cell(?![a-z])", chunk)[:-1]
        rows.append([_rtf_text(cell.split("\\fs", 1)[-1].split(" ", 1)[-1]) for cell in cells])
    return rows


def _effect(cell: str) -> tuple[float, float, float]:
    match = re.fullmatch(r"(\d+\.\d+) \((\d+\.\d+)–(\d+\.\d+)\)", cell)
    assert match, f"not an effect with CI: {cell!r}"
    return tuple(float(v) for v in match.groups())


def _check_rows_against_csv(rows: list[list[str]], table: pd.DataFrame, summary: dict) -> int:
    """Each level row's cells against subgroups.csv; returns the number of rows checked."""
    header_index = next(i for i, r in enumerate(rows) if r and r[0] == "Subgroup")
    header = rows[header_index]
    assert header == ["Subgroup", "n", "Events", "n", "Events", "HR (95% CI)", "P for interaction"]
    body = rows[header_index + 1 :]
    overall = summary["overall"]
    assert body[0][0] == "All patients"
    assert body[0][1:5] == [
        str(overall[k]) for k in ("n_treatment", "events_treatment", "n_control", "events_control")
    ]
    hr = _effect(body[0][5])
    for shown, key in zip(hr, ("hr", "hr_lower", "hr_upper"), strict=True):
        assert abs(shown - overall[key]) <= 0.005 + 1e-12
    checked = 0
    current_p = None
    labels = {(str(r.subgroup_label), str(r.level_label)): r for r in table.itertuples(index=False)}
    heading = None
    for row in body[1:]:
        if len(row) < len(header):  # the footnotes (a one-cell table in RTF)
            continue
        if row[1] == "":  # a subgroup heading: its p for interaction
            heading, current_p = row[0], row[6]
            continue
        record = labels[(heading, row[0].strip())]
        assert row[1:5] == [
            str(int(getattr(record, k)))
            for k in ("n_treatment", "events_treatment", "n_control", "events_control")
        ]
        for shown, value in zip(
            _effect(row[5]), (record.hr, record.hr_lower, record.hr_upper), strict=True
        ):
            assert abs(shown - value) <= 0.005 + 1e-12
        p = record.p_interaction
        if p < 0.001:
            assert current_p == "<0.001"
        else:  # within half a unit of the last decimal shown
            decimals = len(current_p.split(".")[1])
            assert abs(float(current_p) - p) <= 0.5 * 10**-decimals + 1e-12
        checked += 1
    return checked


def test_rtf_table_equals_subgroups_csv(written):
    out, _ = written
    table = pd.read_csv(out / "subgroups.csv")
    summary = json.loads((out / "summary.json").read_text())
    source = (out / "subgroups.rtf").read_text(encoding="ascii")
    assert source.startswith("{\\rtf1")
    rows = rtf_rows(out / "subgroups.rtf")
    assert _check_rows_against_csv(rows, table, summary) == len(table)
    # the plan's title and [display] arm names (RTF special characters escaped)
    text = _rtf_text(source)
    assert "KATHERINE-like cohort" in text
    assert any(DISPLAY["control_label"] in cell for row in rows for cell in row)
    assert any(DISPLAY["treatment_label"] in cell for row in rows for cell in row)


def test_docx_table_equals_subgroups_csv(written):
    out, _ = written
    table = pd.read_csv(out / "subgroups.csv")
    summary = json.loads((out / "summary.json").read_text())
    document = docx.Document(str(out / "subgroups.docx"))
    assert "KATHERINE-like cohort" in document.paragraphs[0].text
    (word_table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in word_table.rows]
    assert rows[0][1] == DISPLAY["treatment_label"] and rows[0][3] == DISPLAY["control_label"]
    assert _check_rows_against_csv(rows, table, summary) == len(table)


def test_ard_long_form_holds_the_values_at_full_precision(written):
    out, result = written
    ard = pd.read_csv(out / "ard.csv", dtype=str, keep_default_na=False)
    assert list(ard.columns) == ["subgroup", "level", "arm", "statistic", "value"]
    table = pd.read_csv(out / "subgroups.csv")
    summary = json.loads((out / "summary.json").read_text())
    treatment, control = result.result.treatment_label, result.result.control_label

    def value(subgroup, level, arm, statistic) -> float:
        hit = ard[
            (ard.subgroup == subgroup)
            & (ard.level == level)
            & (ard.arm == arm)
            & (ard.statistic == statistic)
        ]
        assert len(hit) == 1, (subgroup, level, arm, statistic)
        return float(hit.value.iloc[0])

    overall = summary["overall"]
    assert value("", "", "", "hr") == overall["hr"]
    assert value("", "", treatment, "n") == overall["n_treatment"]
    assert value("", "", control, "events") == overall["events_control"]
    for arm, key in ((treatment, "treatment"), (control, "control")):
        median = overall[key]["median"]  # null when not reached: then no row
        rows = ard[(ard.subgroup == "") & (ard.arm == arm) & (ard.statistic == "median")]
        assert len(rows) == (0 if median is None else 1)
        if median is not None:
            assert float(rows.value.iloc[0]) == median
    for record in table.itertuples(index=False):
        level = str(record.level)
        assert value(record.subgroup, level, "", "hr") == pytest.approx(record.hr, rel=1e-12)
        assert value(record.subgroup, level, control, "n") == record.n_control
        assert value(record.subgroup, level, treatment, "events") == record.events_treatment
        assert value(record.subgroup, level, "", "p_interaction") == pytest.approx(
            record.p_interaction, rel=1e-12
        )
    # no arm suffix is left in a statistic name; labels and notes are not statistics
    assert not ard.statistic.str.endswith(("_treatment", "_control")).any()
    assert not ard.statistic.isin(["subgroup_label", "level_label", "note", "note_kind"]).any()


def test_display_labels_reach_the_figures_and_report(written):
    out, _ = written
    svg = ET.parse(out / "forest.svg")
    text = " ".join(t for t in svg.getroot().itertext())
    assert f"Favours {DISPLAY['treatment_label']}" in text.replace("\n", " ")
    report = (out / "report.html").read_text()
    assert "Trastuzumab emtansine (T-DM1)" in report
    # the plan is shown once (in its own section, not again inside the provenance table)
    assert "plan_text" not in report


@pytest.mark.parametrize(
    ("display", "message"),
    [
        ({"treatment_lable": "x"}, "unknown key"),
        ({"treatment_label": 3}, "treatment_label must be a string"),
        ({"higher_is_better": "yes"}, "higher_is_better must be true or false"),
        ("T-DM1", "[display] must be a table"),
    ],
)
def test_bad_display_table_is_a_plan_error(display, message):
    with pytest.raises(PlanError, match=re.escape(message)):
        st.analyze(_demo_plan(display))


def test_treatment_label_list_needs_one_per_arm():
    plan = _demo_plan({"treatment_label": ["A", "B"]})  # one treatment arm: one label
    with pytest.raises(PlanError, match="treatment_label must be a string"):
        st.analyze(plan)
    # with several treatment arms (a list), one label each
    arms = {"treatment": ["T-DM1", "Other"], "control": "Trastuzumab"}
    with pytest.raises(PlanError, match="list of 2 strings"):
        check_display({"treatment_label": ["A"]}, arms, "<dict>")
    assert check_display({"treatment_label": ["A", "B"]}, arms, "<dict>") == {
        "treatment_label": ["A", "B"]
    }


def test_plot_forest_displays_as_png_in_ipython():
    from IPython.core.formatters import DisplayFormatter

    result = st.analyze(_demo_plan()).result
    for fig in (result.plot_forest(), result.plot_km()):
        assert isinstance(fig, Figure)
        data, _ = DisplayFormatter().format(fig)
        assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_reprs_are_readable_html():
    analysis = st.analyze(_demo_plan())
    page = analysis.result._repr_html_()
    assert "HR 0.51 (95% CI" in page and "P for interaction" in page
    # rounded: no raw floats with many decimals, and not the 22 raw columns
    assert not re.search(r"\d\.\d{5,}", page)
    assert "p_interaction_wald" not in page
    cohort = analysis.cohort._repr_html_()
    assert "1486 patients" in cohort and "Events" in cohort
