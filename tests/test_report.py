"""The HTML report: self-contained, escaped, complete."""

from __future__ import annotations

import base64
import io
import re
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from survtdm1.report import figure_data_uri, format_value, render_report, table_html  # noqa: E402

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _result(label: str = SCRIPT) -> SimpleNamespace:
    table = pd.DataFrame(
        {
            "subgroup": ["age", "age"],
            "level": ["<65", ">=65"],
            "n_treatment": [670, 73],
            "n_control": [678, 65],
            "events_treatment": [82, 9],
            "events_control": [152, 13],
            "hr": [0.512345, float("nan")],
            "hr_lower": [0.38, float("nan")],
            "hr_upper": [0.65, float("nan")],
            "p_value": [0.0000123, float("nan")],
            "p_interaction": [0.7123, 0.7123],
            "n_missing": [0, 0],
            "note": ["", "No events: HR not estimable"],
            "subgroup_label": [label, label],
            "level_label": ["", ""],
        }
    )
    return SimpleNamespace(
        table=table,
        overall={
            "n_treatment": 743,
            "n_control": 743,
            "hr": 0.501234,
            "hr_lower": 0.39,
            "hr_upper": 0.64,
            "p_value": 1e-7,
            "p_logrank": 2e-8,
            "treatment": {"median": float("nan"), "rmst": 52.123456, "rmst_se": 0.31},
        },
        exclusions=pd.DataFrame({"reason": ["other arm", f"missing {label}"], "n": [12, 3]}),
        warnings=(f"{label} = >=65: No events: HR not estimable",),
        treatment_label="T-DM1",
        control_label=label,
        endpoint="survival",
        time_unit="months",
        rmst_tau=60.0,
    )


def _figure() -> Figure:
    fig = Figure(figsize=(3.5, 2.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.set_title(SCRIPT)
    return fig


@pytest.fixture(scope="module")
def report() -> str:
    return render_report(
        _result(),
        title=f"Report {SCRIPT}",
        figures={f"Forest {SCRIPT}": _figure()},
        plan_text=f'[cohort]\nname = "{SCRIPT}"\n',
        provenance={"survtdm1_version": "0.1.0", "plan": SCRIPT, "input_sha256": "ab" * 32},
    )


def test_every_text_from_data_or_plan_is_escaped(report):
    assert SCRIPT not in report
    assert "<script" not in report.lower()
    # title, caption, table label, arm name, exclusions, warnings, plan, provenance
    assert report.count(ESCAPED) >= 8


def test_self_contained(report):
    assert report.startswith("<!DOCTYPE html>")
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', report):
        assert attribute.startswith("data:")
    assert "http://" not in report and "https://" not in report
    assert "<link" not in report and "@import" not in report
    assert "Content-Security-Policy" in report


def test_figures_embedded_as_png_at_least_800_wide(report):
    from PIL import Image

    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', report)
    assert len(uris) == 1
    with Image.open(io.BytesIO(base64.b64decode(uris[0]))) as image:
        assert image.size[0] >= 800


def test_sections_and_rounding(report):
    for heading in ("Overall", "Figures", "Subgroups", "Exclusions", "Warnings", "Analysis plan"):
        assert f"<h2>{heading}</h2>" in report
    assert "0.51" in report and "0.512345" not in report  # rounded for display only
    assert "0.50" in report and "0.501234" not in report
    assert "52.12 (0.31)" in report and "52.123456" not in report
    assert "not reached" in report  # a median that is not reached says so
    assert "&lt;0.001" in report  # p-values
    assert ">12<" in report and ">3<" in report  # exclusions ledger counts
    assert "No events: HR not estimable" in report


def test_figures_given_as_bytes():
    buffer = io.BytesIO()
    _figure().savefig(buffer, format="png")
    assert figure_data_uri(buffer.getvalue()).startswith("data:image/png;base64,")
    svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'
    assert figure_data_uri(svg).startswith("data:image/svg+xml;base64,")
    with pytest.raises(ValueError):
        figure_data_uri(b"GIF89a")


def test_empty_parts_are_stated():
    result = _result("plain")
    result.warnings = ()
    result.exclusions = pd.DataFrame({"reason": [], "n": []})
    html_text = render_report(result, title="t", figures={})
    assert "No rows were excluded." in html_text
    assert "<h2>Warnings</h2>\n<p>None.</p>" in html_text


def test_value_formatting_and_table():
    assert format_value(0.0004, "p_interaction") == "<0.001"
    assert format_value(0.04567, "p_value") == "0.046"
    assert format_value(12.0, "events_control") == "12"
    assert format_value(None) == ""
    html_text = table_html(pd.DataFrame({"level": ["<50"], "hr": [0.456]}))
    assert "&lt;50" in html_text and "0.46" in html_text


def test_interval_labels_follow_conf_level(small_frame):
    import survtdm1 as st

    cohort = st.load_cohort(
        small_frame, arm="arm", treatment="A", control="B", time="months", event="event"
    )
    result = st.subgroup_analysis(cohort, [], conf_level=0.9, landmark=12, rmst_tau=24)
    page = render_report(result, title="t")
    assert "90% CI" in page and "95% CI" not in page


@pytest.mark.parametrize("width", [7.53, 3.5, 2.0])
def test_a_rendered_figure_reads_its_print_width_from_the_png(tmp_path, width):
    from survtdm1.plots import save_figure
    from survtdm1.report import RenderedFigure

    figure = Figure(figsize=(width, 2.0))
    (path,) = save_figure(figure, tmp_path / "figure", formats=("png",))
    rendered = RenderedFigure.read(path)
    assert rendered.png == path.read_bytes()
    # to a pixel: the PNG is a whole number of pixels wide at the saved resolution
    dpi = max(200, -(-800 // width))
    assert rendered.width_inches == pytest.approx(width, abs=1.0 / dpi)
    (tmp_path / "figure.svg").write_text("<svg/>")
    with pytest.raises(ValueError, match="not a PNG"):
        RenderedFigure.read(tmp_path / "figure.svg")
