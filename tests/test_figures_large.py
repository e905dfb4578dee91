"""Every figure type on a large cohort: no text overlaps other text or leaves the canvas.

The cohort is the GBSG data set (tests/reference/data/gbsg.csv) resampled to
3,200 patients, with long arm names, times in days (four-digit times and
counts) and a 12-level subgroup with long level names. Each figure is drawn,
and the window extents of all its visible texts are compared pairwise.
"""

from __future__ import annotations

import itertools
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import survtdm1 as st  # noqa: E402
from survtdm1.plots import (  # noqa: E402
    forest_from_result,
    forest_plot,
    km_from_result,
    km_grid_from_result,
    response_from_result,
    save_figure,
)

GBSG = Path(__file__).parent / "reference" / "data" / "gbsg.csv"
TREATMENT = "Tamoxifen 20 mg daily plus standard adjuvant chemotherapy"
CONTROL = "Standard adjuvant chemotherapy alone (observation arm)"


def _large_frame() -> pd.DataFrame:
    rng = np.random.default_rng(20261205)
    gbsg = pd.read_csv(GBSG)
    frame = gbsg.sample(3200, replace=True, random_state=7).reset_index(drop=True)
    frame["rfstime"] = frame["rfstime"] + rng.integers(0, 30, len(frame))
    frame["arm"] = np.where(
        frame["hormon"].astype(str).isin(["1", "tamoxifen"]), TREATMENT, CONTROL
    )
    centre = rng.integers(1, 13, len(frame))
    frame["centre"] = [
        f"Recruiting centre number {c:02d} ({'north ' * (c % 3)}region)" for c in centre
    ]
    frame["response"] = (frame["status"] == 0).astype(int)
    return frame


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    frame = _large_frame()
    path = folder / "large.csv"
    frame.to_csv(path, index=False)
    common = {"arm": "arm", "treatment": TREATMENT, "control": CONTROL}
    cohort = st.load_cohort(path, time="rfstime", event="status", time_unit="days", **common)
    binary = st.load_cohort(path, response="response", **common)
    specs = [{"column": "grade"}, {"column": "centre", "name": "Recruiting centre"}]
    return {
        "cohort": cohort,
        "survival": st.subgroup_analysis(cohort, specs),
        "binary": st.subgroup_analysis(binary, specs),
        "folder": folder,
    }


def _drawn_tick_labels(fig: Figure) -> set[int]:
    """ids of the tick labels drawn in the last draw (the others are not on the canvas)."""
    drawn = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if not (ax.get_visible() and axis.get_visible()):
                continue
            for tick in axis._update_ticks():  # the ticks matplotlib draws
                drawn.add(id(tick.label1))
                drawn.add(id(tick.label2))
    return drawn


def assert_no_text_collisions(fig: Figure, slack_px: float = 0.5) -> int:
    """Every visible text inside the figure and apart from every other; returns their count."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    drawn_ticks = _drawn_tick_labels(fig)
    tick_ids = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in axis.get_major_ticks() + axis.get_minor_ticks()
        for label in (tick.label1, tick.label2)
    }
    boxes = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        if id(text) in tick_ids and id(text) not in drawn_ticks:
            continue
        box = text.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((text, box))
    page = fig.bbox
    for text, box in boxes:
        assert (
            box.x0 >= page.x0 - slack_px
            and box.x1 <= page.x1 + slack_px
            and box.y0 >= page.y0 - slack_px
            and box.y1 <= page.y1 + slack_px
        ), f"{text.get_text()!r} leaves the figure: {box} not in {page}"
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        overlap_x = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        overlap_y = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert overlap_x <= slack_px or overlap_y <= slack_px, (
            f"{a.get_text()!r} overlaps {b.get_text()!r}"
        )
    return len(boxes)


def test_large_cohort_has_four_digit_counts(large):
    overall = large["survival"].overall
    assert len(large["cohort"]) >= 3000
    assert overall["n_control"] >= 1000 and overall["n_treatment"] >= 1000
    levels = large["survival"].table.query("subgroup == 'centre'")
    assert len(levels) == 12


def test_forest_on_large_cohort(large):
    fig = forest_from_result(large["survival"])
    assert assert_no_text_collisions(fig) > 100


def test_forest_with_median_columns(large):
    result = large["survival"]
    fig = forest_from_result(result, medians=True)
    assert assert_no_text_collisions(fig) > 100
    shown = {t.get_text() for t in fig.findobj(Text)}
    row = result.table.iloc[0]
    expected = " / ".join(
        f"{v:.1f}" if np.isfinite(v) else "NR" for v in (row.median_treatment, row.median_control)
    )
    assert expected in shown


def test_km_with_risk_rows_on_large_cohort(large):
    result = large["survival"]
    fig = km_from_result(
        result,
        risk_rows=("at_risk", "events", "censored"),
        show_median=True,
        at_risk=None,
        risk_times=list(range(0, 2700, 100)),  # 27 risk times: must be thinned
    )
    assert assert_no_text_collisions(fig) > 20
    ax = fig.axes[0]
    shown = [t for t in ax.texts if t.get_gid() == "km-at-risk-treatment"]
    assert 3 <= len(shown) < 27
    # the axis ends at the last risk time shown
    assert ax.get_xlim()[1] == pytest.approx(float(shown[-1].get_position()[0]))


def test_km_default_on_large_cohort(large):
    assert assert_no_text_collisions(km_from_result(large["survival"])) > 10


@pytest.mark.parametrize("subgroup", ["grade", "centre"])
def test_km_grid_on_large_cohort(large, subgroup):
    fig = km_grid_from_result(large["survival"], subgroup)
    assert assert_no_text_collisions(fig) > 30
    # no empty grid cell: 3 panels a row for 3 and for 12 levels
    assert len(fig.axes) == (3 if subgroup == "grade" else 12)


def test_response_on_large_cohort(large):
    assert assert_no_text_collisions(response_from_result(large["binary"])) > 20


def test_forest_binary_on_large_cohort(large):
    assert assert_no_text_collisions(forest_from_result(large["binary"])) > 100


def test_stepp_and_effect_curve_on_large_cohort(large):
    cohort = large["cohort"]
    stepp = st.stepp(cohort, "pgr", n_permutations=10, seed=1)
    assert assert_no_text_collisions(stepp.plot()) > 5
    curve = st.effect_curve(cohort, "age")
    assert assert_no_text_collisions(curve.plot()) > 5


def test_figures_render_to_png(large, tmp_path):
    """Every figure type written as PNG (looked at while developing)."""
    result = large["survival"]
    figures = {
        "forest": forest_from_result(result),
        "km": km_from_result(result, risk_rows=("at_risk", "events")),
        "km_grid": km_grid_from_result(result, "centre"),
        "response": response_from_result(large["binary"]),
    }
    for name, fig in figures.items():
        (path,) = save_figure(fig, tmp_path / name, formats=("png",))
        assert path.stat().st_size > 10_000


# ---------------------------------------------------------------------------
# hostile labels


def _hostile_table():
    nasty = {
        "dollars": "cost $5 to $10 and $x^2$",
        "control": "grade\x00 3\x1b[0m\x07 \ud800",
        "long": "L" * 5000,
    }
    rows = []
    for i, (level, label) in enumerate(nasty.items()):
        rows.append(
            {
                "subgroup": "weird",
                "level": level,
                "n_treatment": 100 + i,
                "n_control": 90,
                "events_treatment": 30,
                "events_control": 40,
                "hr": 0.7,
                "hr_lower": 0.5,
                "hr_upper": 0.98,
                "p_interaction": 0.5,
                "subgroup_label": "Weird $levels$",
                "level_label": label,
            }
        )
    return pd.DataFrame(rows)


def test_hostile_labels_are_shown_literally_and_fast(tmp_path):
    started = time.perf_counter()
    fig = forest_plot(_hostile_table(), treatment_label="A $\\alpha$", control_label="B\x0b")
    paths = save_figure(fig, tmp_path / "forest", formats=("svg", "png"))
    assert time.perf_counter() - started < 20.0
    ET.parse(paths[0])  # valid XML: control characters are gone
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert not any(t._preprocess_math(t.get_text())[1] for t in texts), "mathtext parsed"
    shown = "\n".join(t.get_text() for t in texts)
    assert "\x00" not in shown and "\x1b" not in shown
    assert "L" * 200 not in shown.replace("\n", "")  # truncated with an ellipsis
    assert "…" in shown
    assert_no_text_collisions(fig)
