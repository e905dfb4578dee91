"""Figures: structure read back from the artists, and images against stored baselines.

Baselines live in tests/baseline_images/; regenerate them after an intended
change with ``SURVTDM1_UPDATE_BASELINES=1 pytest tests/test_plots.py`` and look
at the new PNGs before committing them.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from survtdm1.km import kaplan_meier, n_at_risk  # noqa: E402
from survtdm1.logistic import exact_interval  # noqa: E402
from survtdm1.plots import (  # noqa: E402
    at_risk_from_curve,
    forest_from_result,
    forest_plot,
    format_annotation,
    km_from_result,
    km_grid,
    km_grid_from_result,
    km_plot,
    response_from_result,
    response_plot,
    response_rates,
    save_figure,
)

BASELINES = Path(__file__).parent / "baseline_images"
UPDATE = os.environ.get("SURVTDM1_UPDATE_BASELINES") == "1"
TOLERANCE = 5.0
RISK_TIMES = [0, 12, 24, 36, 48]


# ---------------------------------------------------------------------------
# hand-made inputs shaped like survtdm1.subgroups output


def _level(subgroup, level, n, events, hr, lower, upper, p, **extra):
    return {
        "subgroup": subgroup,
        "level": level,
        "n_treatment": n[0],
        "n_control": n[1],
        "events_treatment": events[0],
        "events_control": events[1],
        "hr": hr,
        "hr_lower": lower,
        "hr_upper": upper,
        "p_value": 0.01,
        "p_interaction": p,
        "n_missing": 0,
        "note": extra.pop("note", ""),
        "note_kind": extra.pop("note_kind", ""),
        "subgroup_label": extra.pop("subgroup_label", ""),
        "level_label": extra.pop("level_label", ""),
        **extra,
    }


def survival_table() -> pd.DataFrame:
    nan = float("nan")
    rows = [
        _level("age", "<65", (670, 678), (82, 152), 0.50, 0.38, 0.65, 0.71, subgroup_label="Age"),
        _level("age", ">=65", (73, 65), (9, 13), 0.62, 0.26, 1.44, 0.71, subgroup_label="Age"),
        _level(
            "pik3ca", "mut", (160, 170), (20, 40), 0.50, 0.29, 0.86, 0.95, level_label="Mutated"
        ),
        _level(
            "pik3ca", "wt", (420, 410), (50, 90), 0.51, 0.36, 0.73, 0.95, level_label="Wild-type"
        ),
        _level(
            "til",
            "high",
            (40, 41),
            (0, 9),
            nan,
            nan,
            nan,
            0.04,
            note="No events in the T-DM1 arm: HR not estimable",
            note_kind="not_estimable",
            subgroup_label="Tumour-infiltrating lymphocytes at baseline, central assessment (%)",
            level_label="High, with a level label long enough to wrap onto a second line",
        ),
        _level("til", "mid", (30, 31), (3, 1), 20.0, 2.1, 190.0, 0.04),
        _level("til", "low", (30, 31), (1, 12), 0.05, 0.006, 0.4, 0.04),
        _level(
            "til",
            "none",
            (30, 31),
            (0, 5),
            0.09,
            0.01,
            0.8,
            0.04,
            note="Firth-penalised estimate: no events in the T-DM1 arm",
            note_kind="firth",
        ),
    ]
    return pd.DataFrame(rows)


OVERALL = {
    "n_treatment": 743,
    "n_control": 743,
    "events_treatment": 91,
    "events_control": 165,
    "hr": 0.50,
    "hr_lower": 0.39,
    "hr_upper": 0.64,
    "p_value": 1e-7,
    "p_logrank": 2e-8,
    "treatment": {"median": float("nan")},
    "control": {"median": float("nan")},
}


def many_rows_table(n_subgroups: int = 9, n_levels: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n_subgroups):
        for j in range(n_levels):
            hr = float(np.exp(rng.normal(-0.6, 0.3)))
            se = float(rng.uniform(0.1, 0.6))
            rows.append(
                _level(
                    f"biomarker_{i}",
                    f"level {j + 1}",
                    (int(rng.integers(20, 400)), int(rng.integers(20, 400))),
                    (int(rng.integers(1, 80)), int(rng.integers(1, 120))),
                    hr,
                    hr * math.exp(-1.96 * se),
                    hr * math.exp(1.96 * se),
                    float(rng.uniform()),
                )
            )
    return pd.DataFrame(rows)


def binary_table() -> pd.DataFrame:
    rows = []
    for subgroup, level, n, responders in [
        ("hr_status", "Negative", (90, 95), (50, 38)),
        ("hr_status", "Positive", (130, 128), (48, 40)),
        ("age", "<50", (120, 118), (55, 41)),
        ("age", ">=50", (100, 105), (43, 37)),
    ]:
        (nt, nc), (rt, rc) = n, responders
        log_or = math.log(rt / (nt - rt) / (rc / (nc - rc)))
        se = math.sqrt(1 / rt + 1 / (nt - rt) + 1 / rc + 1 / (nc - rc))
        rows.append(
            {
                "subgroup": subgroup,
                "level": level,
                "n_treatment": nt,
                "n_control": nc,
                "responders_treatment": rt,
                "responders_control": rc,
                "or": math.exp(log_or),
                "or_lower": math.exp(log_or - 1.96 * se),
                "or_upper": math.exp(log_or + 1.96 * se),
                "p_value": 0.1,
                "p_interaction": 0.4,
                "n_missing": 0,
                "rd": rt / nt - rc / nc,
                "rd_lower": rt / nt - rc / nc - 0.1,
                "rd_upper": rt / nt - rc / nc + 0.1,
                **_rates(nt, nc, rt, rc),
                "note": "",
                "note_kind": "",
            }
        )
    return pd.DataFrame(rows)


def _rates(nt, nc, rt, rc) -> dict:
    """Rate columns as survtdm1.logistic computes them (fixture data for the plots)."""
    out = {}
    for arm, n, r in (("treatment", nt, rt), ("control", nc, rc)):
        out[f"rate_{arm}"] = r / n
        out[f"rate_{arm}_lower"], out[f"rate_{arm}_upper"] = exact_interval(r, n, 0.95)
    return out


BINARY_OVERALL = {
    "n_treatment": 440,
    "n_control": 446,
    "responders_treatment": 196,
    "responders_control": 156,
    "or": 1.5,
    "or_lower": 1.15,
    "or_upper": 1.96,
    **_rates(440, 446, 196, 156),
}


def _arm(n: int, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    event_time = rng.exponential(1 / rate, n)
    censor_time = rng.uniform(20, 60, n)
    return np.minimum(event_time, censor_time), (event_time <= censor_time).astype(int)


@pytest.fixture(scope="module")
def arms():
    treatment = _arm(300, 0.005, 1)
    control = _arm(300, 0.01, 2)
    return treatment, control


@pytest.fixture(scope="module")
def curves(arms):
    (tt, et), (tc, ec) = arms
    return {"treatment": kaplan_meier(tt, et), "control": kaplan_meier(tc, ec)}


@pytest.fixture(scope="module")
def at_risk(arms):
    rows = []
    for label, (time, _) in zip(("T-DM1", "Trastuzumab"), arms, strict=True):
        for t, n in zip(RISK_TIMES, n_at_risk(time, RISK_TIMES), strict=True):
            rows.append({"arm": label, "time": float(t), "n_at_risk": int(n)})
    return pd.DataFrame(rows)


def _texts(fig: Figure, gid_prefix: str) -> list:
    found = [
        artist
        for ax in fig.axes
        for artist in ax.texts
        if (artist.get_gid() or "").startswith(gid_prefix)
    ]
    return found


def _lines(fig: Figure, gid: str) -> list:
    return [line for ax in fig.axes for line in ax.lines if line.get_gid() == gid]


def _row_y(text) -> float:
    return float(text.get_position()[1])


# ---------------------------------------------------------------------------
# forest plot structure


@pytest.fixture(scope="module")
def forest():
    return forest_plot(
        survival_table(), OVERALL, treatment_label="T-DM1", control_label="Trastuzumab"
    )


def test_forest_row_order_and_labels(forest):
    labels = sorted(_texts(forest, "forest-label-"), key=_row_y)
    assert [t.get_text().replace("\n", " ") for t in labels] == [
        "All patients",
        "Age",
        "<65",
        ">=65",
        "pik3ca",
        "Mutated",
        "Wild-type",
        "Tumour-infiltrating lymphocytes at baseline, central assessment (%)",
        "High, with a level label long enough to wrap onto a second line",
        "mid",
        "low",
        "none",
    ]
    kinds = [t.get_gid() for t in labels]
    assert kinds[0] == "forest-label-overall"
    assert kinds.count("forest-label-heading") == 3


def test_forest_columns_read_back(forest):
    def column(key):
        return [t.get_text() for t in sorted(_texts(forest, f"forest-cell-{key}"), key=_row_y)]

    assert column("n_treatment")[:3] == ["743", "670", "73"]
    assert column("count_control")[:3] == ["165", "152", "13"]
    effects = column("effect")
    assert effects[0] == "0.50 (0.39–0.64)"
    assert effects[1] == "0.50 (0.38–0.65)"
    # one interaction p per subgroup, on its heading
    assert column("p_interaction") == ["0.71", "0.95", "0.040"]


def test_forest_axis_and_favours(forest):
    ax = forest.axes[0]
    assert ax.get_xscale() == "log"
    low, high = ax.get_xlim()
    assert low <= 0.05 and high >= 20
    reference = [line for line in ax.lines if line.get_gid() == "forest-reference"]
    assert reference and reference[0].get_xdata()[0] == 1
    favours = [t.get_text() for t in _texts(forest, "forest-favours")]
    assert any("Favours T-DM1" in t for t in favours)
    assert any("Favours Trastuzumab" in t for t in favours)


def test_forest_markers_for_estimable_rows_only(forest):
    filled = _lines(forest, "forest-marker")
    open_ = _lines(forest, "forest-marker-firth")
    assert len(filled) == 6  # 7 estimable levels, one of them Firth
    assert len(open_) == 1
    assert open_[0].get_markerfacecolor() in ("white", (1.0, 1.0, 1.0, 1.0))
    assert len([p for p in forest.axes[0].patches if p.get_gid() == "forest-overall"]) == 1
    sizes = sorted(line.get_markersize() for line in filled)
    assert sizes[0] < sizes[-1]  # sized by information


def test_forest_not_estimable_row_says_why(forest):
    effects = [t.get_text() for t in _texts(forest, "forest-cell-effect")]
    ne = [text for text in effects if text.startswith("NE")]
    assert len(ne) == 1
    mark = ne[0][2:]
    notes = _texts(forest, "forest-footnotes")[0].get_text()
    assert f"{mark} No events in the T-DM1 arm: HR not estimable" in notes
    assert "Firth" in notes and "NE, not estimable." in notes


def test_forest_clips_intervals_running_off_the_axis(forest):
    arrows = _lines(forest, "forest-clip")
    assert sorted(line.get_marker() for line in arrows) == ["<", ">"]


def test_forest_nothing_overlaps_or_is_cut_off(forest):
    forest.draw_without_rendering()
    renderer = forest._get_renderer()
    figure_box = forest.bbox
    texts = [t for ax in forest.axes for t in ax.texts] + list(forest.texts)
    boxes = [t.get_window_extent(renderer) for t in texts if t.get_text()]
    for box in boxes:
        assert box.x0 >= figure_box.x0 - 0.5 and box.x1 <= figure_box.x1 + 0.5
        assert box.y0 >= figure_box.y0 - 0.5 and box.y1 <= figure_box.y1 + 0.5
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert overlap_x <= 0.5 or overlap_y <= 0.5


def test_forest_many_rows_fit_the_page():
    fig = forest_plot(
        many_rows_table(), OVERALL, treatment_label="T-DM1", control_label="Trastuzumab"
    )
    assert len(_texts(fig, "forest-label-")) == 1 + 9 + 27
    assert fig.get_size_inches()[0] == pytest.approx(183 / 25.4)
    assert len(_lines(fig, "forest-marker")) == 27


def test_forest_adjusted_p_and_binary_odds_ratio():
    table = survival_table()
    table["p_interaction_adj"] = np.minimum(table["p_interaction"] * 3, 1.0)
    fig = forest_plot(table, OVERALL, treatment_label="A", control_label="B")
    assert [t.get_text() for t in _texts(fig, "forest-cell-p_interaction_adj")] == [
        "1.00",
        "1.00",
        "0.12",
    ]
    fig = forest_plot(binary_table(), BINARY_OVERALL, treatment_label="A", control_label="B")
    headers = " ".join(t.get_text() for t in _texts(fig, "forest-header"))
    assert "OR" in headers and "Responders" in headers and "Odds ratio" in headers
    favours = [t.get_text() for t in _texts(fig, "forest-favours")]
    assert favours[0].endswith("Favours B") and favours[1].startswith("Favours A")


def test_forest_firth_marks_only_the_effect_the_note_is_about():
    table = binary_table()
    note = "Firth-penalised OR (no responders in one arm): profile-likelihood CI"
    table.loc[1, ["note", "note_kind"]] = [note, "firth"]
    for effect, firth in (("or", True), ("rd", False)):
        fig = forest_plot(table, treatment_label="A", control_label="B", effect=effect)
        assert len(_lines(fig, "forest-marker-firth")) == (1 if firth else 0)
        assert len(_lines(fig, "forest-marker")) == (3 if firth else 4)
        notes = " ".join(t.get_text() for t in _texts(fig, "forest-footnotes"))
        assert ("Open squares: Firth" in notes) is firth
        assert (note in notes) is firth
        effects = [t.get_text() for t in _texts(fig, "forest-cell-effect")]
        assert any(text[-1] in "ᵃᵇᶜ" for text in effects) is firth
    # a note saying why the estimate is missing stays with every effect
    table.loc[2, ["rd", "rd_lower", "rd_upper"]] = float("nan")
    table.loc[2, ["note", "note_kind"]] = ["no patients in the A arm", "no_patients"]
    fig = forest_plot(table, treatment_label="A", control_label="B", effect="rd")
    notes = " ".join(t.get_text() for t in _texts(fig, "forest-footnotes"))
    assert "no patients in the A arm" in notes and "Firth" not in notes


def test_forest_shows_suppressed_counts_as_they_are():
    from survtdm1.privacy import suppress_small_cells

    table = suppress_small_cells(survival_table(), 10)
    overall = {**OVERALL, "events_treatment": "<100"}
    fig = forest_plot(table, overall, treatment_label="T-DM1", control_label="Trastuzumab")

    def column(key):
        cells = sorted(_texts(fig, f"forest-cell-{key}"), key=_row_y)
        return [t.get_text() for t in cells]

    assert column("count_treatment") == [
        "<100",
        "82",
        "<10",
        "20",
        "50",
        "<10",
        "<10",
        "<10",
        "<10",
    ]
    assert column("count_control") == ["165", "152", "13", "40", "90", "<10", "<10", "12", "<10"]
    assert column("n_treatment")[:3] == ["743", "670", "73"]
    # a suppressed count is shown as given; the rate, an estimate, stays (privacy.py)
    binary = suppress_small_cells(binary_table(), 45)
    rates = response_rates(binary)
    row = rates[(rates["level"] == "Positive") & (rates["arm"] == "control")].iloc[0]
    assert row["responders"] == "<45"
    assert row["rate"] == pytest.approx(40 / 128)


def test_forest_draws_into_a_given_axes():
    fig = Figure(figsize=(8, 5))
    ax = fig.add_axes((0.45, 0.2, 0.3, 0.65))
    out = forest_plot(survival_table(), treatment_label="A", control_label="B", ax=ax)
    assert out is fig and len(fig.axes) == 1


# ---------------------------------------------------------------------------
# KM plots


def test_km_at_risk_numbers_are_those_passed(curves, at_risk):
    fig = km_plot(
        curves,
        labels={"treatment": "T-DM1", "control": "Trastuzumab"},
        at_risk=at_risk,
        endpoint_name="IDFS",
        annotation=format_annotation(0.5, 0.39, 0.64, 2e-8),
    )
    ax = fig.axes[0]
    assert list(ax.get_xticks()) == RISK_TIMES
    for key, arm in (("treatment", "T-DM1"), ("control", "Trastuzumab")):
        texts = sorted(_texts(fig, f"km-at-risk-{key}"), key=lambda t: t.get_position()[0])
        expected = at_risk[at_risk["arm"] == arm]
        assert [int(t.get_text()) for t in texts] == expected["n_at_risk"].tolist()
        assert [t.get_position()[0] for t in texts] == expected["time"].tolist()
        label = _texts(fig, f"km-at-risk-label-{key}")[0]
        assert label.get_text() == arm
    assert ax.get_ylabel() == "IDFS (%)"
    assert ax.get_xlabel() == "Months since randomisation"
    assert ax.get_ylim() == (0.0, 100.0)
    annotation = _texts(fig, "km-annotation")[0].get_text()
    assert annotation == "HR 0.50 (95% CI 0.39–0.64)\nLog-rank P < 0.001"
    assert len(_lines(fig, "km-censor-treatment")) == 1


def test_km_at_risk_read_off_curves_matches_counts(curves, arms):
    for key, (time, _) in zip(("treatment", "control"), arms, strict=True):
        assert (
            at_risk_from_curve(curves[key], RISK_TIMES + [1e6]).tolist()
            == n_at_risk(time, RISK_TIMES + [1e6]).tolist()
        )


def test_km_options_ci_median_and_default_labels(curves):
    fig = km_plot(
        curves,
        risk_times=RISK_TIMES,
        time_unit="weeks",
        ci=True,
        show_median=True,
        medians={"treatment": float("nan"), "control": 30.0},
    )
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Event-free (%)"
    assert ax.get_xlabel() == "Weeks since randomisation"
    assert {c.get_gid() for c in ax.collections} >= {"km-ci-treatment", "km-ci-control"}
    assert _lines(fig, "km-median-control") and not _lines(fig, "km-median-treatment")
    with pytest.raises(ValueError, match="medians"):
        km_plot(curves, show_median=True)


def test_km_grid_panels_share_axes(curves):
    level_curves = {("pik3ca", level): curves for level in ("mut", "wt", "unknown")}
    fig = km_grid(
        level_curves,
        "pik3ca",
        level_labels={"mut": "Mutated", "wt": "Wild-type"},
        labels={"treatment": "T-DM1", "control": "Trastuzumab"},
        risk_times=RISK_TIMES,
    )
    assert len(fig.axes) == 3
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Mutated", "Wild-type", "unknown"]
    first = fig.axes[0]
    for ax in fig.axes[1:]:
        assert ax.get_xlim() == first.get_xlim() and ax.get_ylim() == first.get_ylim()
        assert first.get_shared_x_axes().joined(first, ax)
    counts = sorted(_texts(fig, "km-at-risk-control"), key=lambda t: t.get_position()[0])
    assert len(counts) == 3 * len(RISK_TIMES)


def test_result_wrappers(curves, at_risk):
    table = survival_table()
    result = SimpleNamespace(
        table=table,
        overall=OVERALL,
        at_risk=at_risk,
        overall_curves=curves,
        level_curves={("pik3ca", "mut"): curves, ("pik3ca", "wt"): curves},
        treatment_label="T-DM1",
        control_label="Trastuzumab",
        time_unit="months",
        endpoint="survival",
        risk_times=tuple(RISK_TIMES),
        conf_level=0.95,
        warnings=(),
    )
    assert isinstance(forest_from_result(result), Figure)
    fig = km_from_result(result, show_median=True)
    assert "Log-rank" in _texts(fig, "km-annotation")[0].get_text()
    grid = km_grid_from_result(result, "pik3ca")
    assert [ax.get_title(loc="left") for ax in grid.axes] == ["Mutated", "Wild-type"]
    binary = SimpleNamespace(
        table=binary_table(),
        overall=BINARY_OVERALL,
        treatment_label="A",
        control_label="B",
        endpoint="binary",
        conf_level=0.95,
    )
    assert isinstance(response_from_result(binary), Figure)
    headers = " ".join(t.get_text() for t in _texts(forest_from_result(binary), "forest-header"))
    assert "OR" in headers


def _result(curves, at_risk, **extra):
    fields = {
        "table": survival_table(),
        "overall": OVERALL,
        "at_risk": at_risk,
        "overall_curves": curves,
        "level_curves": {("pik3ca", "mut"): curves, ("pik3ca", "wt"): curves},
        "treatment_label": "T-DM1",
        "control_label": "Trastuzumab",
        "time_unit": "months",
        "endpoint": "survival",
        "risk_times": tuple(RISK_TIMES),
        "conf_level": 0.95,
        "warnings": (),
    }
    fields.update(extra)
    return SimpleNamespace(**fields)


def test_km_from_result_labels_rename_arms_for_display_only(curves, at_risk):
    result = _result(curves, at_risk)
    fig = km_from_result(result, labels={"treatment": "Trastuzumab emtansine", "control": "H"})
    for key, arm in (("treatment", "T-DM1"), ("control", "Trastuzumab")):
        texts = sorted(_texts(fig, f"km-at-risk-{key}"), key=lambda t: t.get_position()[0])
        expected = at_risk[at_risk["arm"] == arm]["n_at_risk"].tolist()
        assert [int(t.get_text()) for t in texts] == expected
    shown = [t.get_text() for t in _texts(fig, "km-at-risk-label-")]
    assert shown == ["Trastuzumab emtansine", "H"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == shown
    # an arm left out of labels keeps its arm value
    fig = km_from_result(result, labels={"control": "H"})
    assert [t.get_text() for t in _texts(fig, "km-at-risk-label-")] == ["T-DM1", "H"]
    with pytest.raises(ValueError, match="no rows for arm 'T-DM1 '"):
        km_plot(curves, at_risk=at_risk, arm_values={"treatment": "T-DM1 ", "control": "x"})


def test_km_endpoint_name_read_from_result_when_present(curves, at_risk):
    assert km_from_result(_result(curves, at_risk)).axes[0].get_ylabel() == "Event-free (%)"
    named = _result(curves, at_risk, endpoint_name="IDFS")
    assert km_from_result(named).axes[0].get_ylabel() == "IDFS (%)"
    assert km_from_result(_result(curves, at_risk, endpoint_name=None)).axes[0].get_ylabel() == (
        "Event-free (%)"
    )
    grid = km_grid_from_result(named, "pik3ca")
    assert grid.axes[0].get_ylabel() == "IDFS (%)"


def test_km_suppressed_at_risk_counts_shown_as_given(curves, at_risk):
    from survtdm1.privacy import suppress_small_cells

    suppressed = suppress_small_cells(at_risk, 100)
    fig = km_from_result(_result(curves, suppressed))
    texts = sorted(_texts(fig, "km-at-risk-treatment"), key=lambda t: t.get_position()[0])
    assert [t.get_text() for t in texts] == [
        str(v) for v in suppressed[suppressed["arm"] == "T-DM1"]["n_at_risk"]
    ]
    assert "<100" in [t.get_text() for t in texts]
    fig = km_plot(
        curves,
        risk_times=[0, 24],
        at_risk={"treatment": [300, "<10"], "control": [300.0, float("nan")]},
    )
    for key, expected in (("treatment", ["300", "<10"]), ("control", ["300", ""])):
        texts = sorted(_texts(fig, f"km-at-risk-{key}"), key=lambda t: t.get_position()[0])
        assert [t.get_text() for t in texts] == expected


def test_km_annotation_p_value_spacing():
    assert format_annotation(0.5, 0.39, 0.64, 2e-8).endswith("Log-rank P < 0.001")
    assert format_annotation(0.5, 0.39, 0.64, 0.0031).endswith("Log-rank P = 0.003")
    assert format_annotation(0.5, 0.39, 0.64, 0.31).endswith("Log-rank P = 0.31")


def _step_path(line):
    from matplotlib.path import Path as MplPath

    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    xs = np.repeat(x, 2)[1:]
    ys = np.repeat(y, 2)[:-1]
    return MplPath(line.get_transform().transform(np.column_stack([xs, ys])))


def _key_boxes(ax):
    boxes = [t.get_window_extent() for t in ax.texts if t.get_gid() == "km-annotation"]
    if ax.get_legend() is not None:
        boxes.append(ax.get_legend().get_window_extent())
    return boxes


def _assert_key_clear_of_curves(fig):
    fig.draw_without_rendering()
    for ax in fig.axes:
        paths = [
            _step_path(line) for line in ax.lines if (line.get_gid() or "").startswith("km-curve-")
        ]
        boxes = _key_boxes(ax)
        assert boxes
        for box in boxes:
            for path in paths:
                assert not path.intersects_bbox(box, filled=False), (ax.get_title(loc="left"), box)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b)


@pytest.fixture(scope="module")
def apart_curves():
    """One arm stays high, the other falls to about 10% (as EMILIA OS, PIK3CA-mutated)."""
    rng = np.random.default_rng(11)
    event_time, censor_time = rng.exponential(120, 80), rng.uniform(5, 36, 80)
    high_time = np.minimum(event_time, censor_time)
    high_event = (event_time <= censor_time).astype(int)
    low_time = rng.exponential(14, 80)
    low_event = (low_time < 34).astype(int)
    low_time = np.minimum(low_time, 34)
    return {
        "treatment": kaplan_meier(high_time, high_event),
        "control": kaplan_meier(low_time, low_event),
    }


def test_km_legend_and_annotation_avoid_the_curves(apart_curves, curves):
    labels = {"treatment": "T-DM1", "control": "Lapatinib+Capecitabine"}
    annotation = format_annotation(0.24, 0.11, 0.55, 0.0004)
    assert min(float(c.surv[-1]) for c in apart_curves.values()) < 0.45
    assert max(float(c.surv[-1]) for c in apart_curves.values()) > 0.6
    for width in ("single", "full"):
        fig = km_plot(apart_curves, labels=labels, annotation=annotation, width=width)
        _assert_key_clear_of_curves(fig)
    fig = km_plot(curves, labels=labels, annotation=annotation)
    _assert_key_clear_of_curves(fig)
    level_curves = {("pik3ca", "mutated"): apart_curves, ("pik3ca", "wild-type"): curves}
    fig = km_grid(
        level_curves,
        "pik3ca",
        labels=labels,
        annotations={"mutated": annotation, "wild-type": annotation},
    )
    _assert_key_clear_of_curves(fig)


def test_km_grid_key_clear_of_curves_on_emilia():
    import survtdm1 as st

    cohort = st.load_cohort(
        st.datasets.emilia(),
        arm="arm",
        treatment="T-DM1",
        control="Lapatinib+Capecitabine",
        time="os_months",
        event="os_event",
    )
    result = st.subgroup_analysis(cohort, [{"column": "pik3ca"}])
    _assert_key_clear_of_curves(km_grid_from_result(result, "pik3ca"))
    _assert_key_clear_of_curves(km_from_result(result))


# ---------------------------------------------------------------------------
# response plot


def test_response_rates_and_plot():
    rates = response_rates(binary_table(), BINARY_OVERALL)
    overall = rates[(rates["kind"] == "overall") & (rates["arm"] == "treatment")].iloc[0]
    assert overall["rate"] == pytest.approx(196 / 440)
    assert (overall["rate_lower"], overall["rate_upper"]) == exact_interval(196, 440, 0.95)
    fig = response_plot(rates, treatment_label="A", control_label="B", endpoint_name="pCR rate")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "pCR rate (%)"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["All patients", "hr_status", "Negative", "Positive", "age", "<50", ">=50"]


# ---------------------------------------------------------------------------
# saving, global state


def test_save_figure_formats_and_minimum_width(tmp_path, curves):
    from PIL import Image

    fig = km_plot(curves, risk_times=RISK_TIMES)
    paths = save_figure(fig, tmp_path / "out" / "km.png", formats=("png", "svg", "pdf"), dpi=72)
    assert [p.name for p in paths] == ["km.png", "km.svg", "km.pdf"]
    with Image.open(paths[0]) as image:
        assert image.size[0] >= 800
    svg = paths[1].read_text()
    assert "<svg" in svg and "No. at risk" in svg  # text kept as text


def test_plots_leave_global_state_alone(curves):
    before = dict(matplotlib.rcParams)
    forest_plot(survival_table(), OVERALL, treatment_label="A", control_label="B")
    km_plot(curves, risk_times=RISK_TIMES)
    after = dict(matplotlib.rcParams)
    assert before.keys() == after.keys()
    assert all(
        before[key] == after[key] or (before[key] != before[key]) for key in before
    )  # NaN-safe


# ---------------------------------------------------------------------------
# images against baselines


def _compare(fig: Figure, name: str, tmp_path: Path) -> None:
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=72, format="png", metadata={"Software": None})
    expected = BASELINES / f"{name}.png"
    if UPDATE:
        BASELINES.mkdir(exist_ok=True)
        shutil.copyfile(actual, expected)
        return
    assert expected.exists(), f"missing baseline {expected}; see this module's docstring"
    result = compare_images(str(expected), str(actual), tol=TOLERANCE)
    assert result is None, result


def test_image_forest(tmp_path, forest):
    _compare(forest, "forest", tmp_path)


def test_image_km(tmp_path, curves, at_risk):
    fig = km_plot(
        curves,
        labels={"treatment": "T-DM1", "control": "Trastuzumab"},
        at_risk=at_risk,
        endpoint_name="IDFS",
        annotation=format_annotation(0.5, 0.39, 0.64, 2e-8),
        ci=True,
    )
    _compare(fig, "km", tmp_path)


def test_image_km_grid(tmp_path, curves):
    level_curves = {("pik3ca", level): curves for level in ("Mutated", "Wild-type")}
    fig = km_grid(level_curves, "pik3ca", risk_times=RISK_TIMES, endpoint_name="IDFS")
    _compare(fig, "km_grid", tmp_path)


def test_image_response(tmp_path):
    rates = response_rates(binary_table(), BINARY_OVERALL)
    fig = response_plot(rates, treatment_label="T-DM1", control_label="Trastuzumab")
    _compare(fig, "response", tmp_path)


def test_km_draws_into_a_given_axes(curves):
    fig = Figure(figsize=(4, 4))
    ax = fig.add_axes((0.25, 0.35, 0.7, 0.6))
    out = km_plot(curves, ax=ax, risk_times=RISK_TIMES)
    assert out is fig and len(fig.axes) == 1
    assert len(_texts(fig, "km-at-risk-treatment")) == len(RISK_TIMES)


def test_km_risk_rows_events_and_censored_count_the_data(curves, arms):
    fig = km_plot(
        curves,
        labels={"treatment": "T-DM1", "control": "Trastuzumab"},
        risk_times=RISK_TIMES,
        risk_rows=("at_risk", "events", "censored"),
    )
    ax = fig.axes[0]
    for key, (time, event) in zip(("treatment", "control"), arms, strict=True):
        shown = {
            kind: [t.get_text() for t in ax.texts if t.get_gid() == f"km-{kind}-{key}"]
            for kind in ("at-risk", "events", "censored")
        }
        times = [float(t.get_position()[0]) for t in ax.texts if t.get_gid() == f"km-events-{key}"]
        assert times == [float(t) for t in RISK_TIMES]
        assert shown["events"] == [str(int(((time <= t) & (event == 1)).sum())) for t in times]
        assert shown["censored"] == [str(int(((time <= t) & (event == 0)).sum())) for t in times]
        assert shown["at-risk"] == [str(int((time >= t).sum())) for t in times]
    titles = [
        t.get_text() for t in ax.texts if t.get_gid() in ("km-events-title", "km-censored-title")
    ]
    assert titles == ["Cumulative events", "Cumulative censored"]
    with pytest.raises(ValueError, match="risk_rows"):
        km_plot(curves, risk_rows=("deaths",))


def test_km_axis_ends_at_last_risk_time(curves):
    fig = km_plot(curves, risk_times=[0, 12, 24, 36])
    assert fig.axes[0].get_xlim() == (0.0, 36.0)


def test_figures_show_as_png_in_jupyter(curves):
    from IPython.core.formatters import DisplayFormatter

    fig = km_plot(curves)
    assert isinstance(fig, Figure)
    data, _ = DisplayFormatter().format(fig)
    assert data["image/png"].startswith(b"\x89PNG")
