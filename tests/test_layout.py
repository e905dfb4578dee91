"""Figure layout as arithmetic in points (survtdm1.plots.layout, plots.placement.choose_spots).

No renderer: widths, line counts and font sizes in, positions out. Each
expected value is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from survtdm1.plots.layout import (  # noqa: E402
    FOREST_MARGIN_PT,
    FOREST_MIN_GRAPH_PT,
    column_offsets,
    forest_frame,
    graph_width,
    key_above_panel,
    km_figure_size,
    label_room,
    row_positions,
    widen_pairs,
)
from survtdm1.plots.placement import choose_spots  # noqa: E402


def test_pairs_widen_to_their_group_title():
    # pair 0: 10 + 10 + 0.6 * 10 = 26 < 40, so each gets (40 - 26) / 2 = 7 more
    # pair 1: 30 + 30 + 6 = 66 >= 20, unchanged
    assert widen_pairs([10.0, 10.0, 30.0, 30.0], [40.0, 20.0], 10.0) == [17.0, 17.0, 30.0, 30.0]


def test_column_offsets_right_to_left_from_the_graph():
    # gap 10; from -10 leftwards: col 3 at -10-10=-20, spacing 6 -> -26;
    # col 2 at -26-10=-36, spacing 12 -> -48; col 1 at -58, spacing 6 -> -64;
    # col 0 at -64-10=-74, spacing 15 -> -89 = counts_pt
    counts, right, counts_pt, right_pt = column_offsets([10.0] * 4, [30.0, 20.0], 10.0)
    assert counts == [-74.0, -58.0, -36.0, -20.0]
    assert counts_pt == 89.0
    # right: 10, then 10 + 30 + 10 = 50; reaches 50 + 20 = 70
    assert right == [10.0, 50.0]
    assert right_pt == 70.0
    # wider columns push everything left by exactly the extra width
    wider, _, wider_pt, _ = column_offsets([10.0, 10.0, 10.0, 25.0], [], 10.0)
    assert wider == [-89.0, -73.0, -51.0, -35.0] and wider_pt == 104.0


def test_label_room_is_capped_by_the_page_and_floored_at_30_mm():
    mm = 72.0 / 25.4
    assert label_room(55.0, None, 100.0, 80.0) == pytest.approx(55.0 * mm)
    # full page 7.2 in = 518.4 pt: 518.4 - 12 - 200 - 150 - 35 mm (99.21 pt) = 57.19 pt < 30 mm
    assert label_room(55.0, 518.4, 200.0, 150.0) == pytest.approx(30.0 * mm)
    # 518.4 - 12 - 100 - 100 - 99.21 = 207.19 pt > 55 mm (155.9 pt): 55 mm
    assert label_room(55.0, 518.4, 100.0, 100.0) == pytest.approx(55.0 * mm)
    # 518.4 - 12 - 150 - 150 - 99.21 = 107.19 pt
    assert label_room(55.0, 518.4, 150.0, 150.0) == pytest.approx(107.1874, abs=1e-3)


def test_rows_headings_get_space_and_wrapped_lines_two_thirds():
    tops, centres, body = row_positions(["overall", "heading", "level", "level"], [1, 1, 2, 1])
    # 0.25 | overall 1 -> 1.25 | +0.35 heading at 1.6, 1 -> 2.6 | level 1.66 -> 4.26 | 1 -> 5.26
    assert tops == pytest.approx([0.25, 1.6, 2.6, 4.26])
    assert centres == pytest.approx([0.75, 2.1, 2.6 + 0.83, 4.76])
    assert body == pytest.approx(5.51)
    # a heading on the first row gets no extra space
    assert row_positions(["heading"], [1]) == ([0.25], [0.75], 1.5)


def test_graph_takes_what_the_columns_leave_but_at_least_35_mm():
    assert graph_width(500.0, 200.0, 100.0) == (500.0 - 12.0 - 300.0, 500.0)
    graph, page = graph_width(300.0, 200.0, 100.0)
    assert graph == pytest.approx(35.0 / 25.4 * 72.0) == pytest.approx(FOREST_MIN_GRAPH_PT)
    assert page == pytest.approx(graph + 2 * FOREST_MARGIN_PT + 300.0)


def test_forest_frame_heights():
    frame = forest_frame(
        7.0,
        tick_block_pt=15.0,
        header_lines=3,
        body_lines=4.0,
        favours_lines=1,
        footnote_lines=2,
        title=True,
    )
    assert frame.favours_top == pytest.approx(15.0 + 2.8)
    assert frame.footnote_top == pytest.approx(17.8 + 8.75 + 4.2)
    assert frame.bottom == pytest.approx(30.75 + 2 * 6.0 * 1.3 + 6.0)  # footnotes at 6 pt
    assert frame.line == pytest.approx(12.6)
    assert frame.header == pytest.approx(3.3 * 12.6 * 0.62 + 3.5)
    assert frame.title == pytest.approx(15.4)
    assert frame.body == pytest.approx(50.4)
    assert frame.height == pytest.approx(6.0 + 15.4 + 29.2796 + 50.4 + 52.35)
    no_title = forest_frame(
        4.0, tick_block_pt=0.0, header_lines=1, body_lines=1.0, favours_lines=1,
        footnote_lines=1, title=False,
    )  # fmt: skip
    assert no_title.title == 0.0
    assert no_title.bottom == pytest.approx(1.6 + 5.0 + 2.4 + 5.0 * 1.3 + 6.0)  # small floor 5 pt


def test_km_figure_size():
    # (2 + 1.6) rows * 7 pt * 1.45 / 72 = 0.5075 in; 3.5 * 0.62 = 2.17; + 0.4
    assert km_figure_size(3.5, 2, 7.0, at_risk=True) == pytest.approx((3.5, 3.0775))
    assert km_figure_size(3.5, 2, 7.0, at_risk=False) == pytest.approx((3.5, 2.57))


def test_key_above_the_panel():
    # legend above (pad 3 + 20 = 23); text beside it (40 + 10 + 60 <= 200), level with it
    above = key_above_panel((40.0, 20.0), (60.0, 10.0), 0.0, 200.0, 10.0, 6.0)
    assert above.text_offset == (0.0, 3.0) and above.height == 23.0 and above.title_pad == 32.0
    # no room beside the legend (40 + 10 + 160 > 200): the text goes above it
    above = key_above_panel((40.0, 20.0), (160.0, 10.0), 0.0, 200.0, 10.0, 6.0)
    assert above.text_offset == (0.0, 26.0) and above.height == 36.0 and above.title_pad == 45.0
    # legend inside; text beside the title (50 + 10 + 60 <= 200) at the title's pad
    above = key_above_panel(None, (60.0, 10.0), 50.0, 200.0, 10.0, 6.0)
    assert above.text_offset == (0.0, 6.0) and above.height == 0.0 and above.title_pad == 6.0
    # nothing above
    assert key_above_panel(None, None, 50.0, 200.0, 10.0, 6.0).text_offset is None


def test_choose_spots_takes_the_first_free_corner():
    sizes = ((40.0, 20.0), (60.0, 10.0), (200.0, 120.0), 10.0)
    legend, text = choose_spots(*sizes, lambda rects, strict: True)
    # upper right: legend a pad (3) in from the corner, text under it (3 + 20 + 1.5 down)
    assert (legend.ha, legend.va, legend.dx, legend.dy) == ("right", "top", -3.0, -3.0)
    assert (text.ha, text.va, text.dx, text.dy) == ("right", "top", -7.0, -24.5)
    assert legend.rect(40.0, 20.0, 200.0, 120.0) == (157.0, 197.0, 97.0, 117.0)

    def lower_half_only(rects, strict):
        return all(y1 <= 60.0 for _, _, _, y1 in rects)

    legend, text = choose_spots(*sizes, lower_half_only)
    # second choice: lower left, text at the bottom (3 + 4 up), legend above it
    assert (legend.ha, legend.va, text.ha, text.va) == ("left", "bottom", "left", "bottom")
    assert text.dy == 7.0 and legend.dy == 3.0 + 4.0 + 10.0 + 1.5

    def strict_fails(rects, strict):
        return not strict

    legend, _ = choose_spots(*sizes, strict_fails)  # bands may be covered in the second pass
    assert (legend.ha, legend.va) == ("right", "top")
    assert choose_spots(*sizes, lambda rects, strict: False) == (None, None)
