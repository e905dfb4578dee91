"""Invariants of the subgroup battery, checked on generated cohorts (hypothesis).

Each property holds for every data set, not only for the reference ones:

- the order of the rows does not matter;
- swapping which arm is "treatment" inverts every HR and its CI, keeps p;
- measuring time in another unit (t -> k t) leaves HRs and p-values unchanged
  and multiplies medians by k;
- every row twice leaves the HR unchanged (with Breslow ties: the doubled
  data have the same estimating equations; Efron's correction changes with
  the size of a tied group, so it is not exactly invariant) and narrows the CI;
- Kaplan-Meier curves are non-increasing within [0, 1];
- confidence intervals contain their estimates (KM, medians, HRs).

Generated cohorts have 10 to 50 patients with integer times (many ties),
levels with few or no events (rows with a ``note`` and an empty HR are part
of the test), a categorical and a cut-point subgroup. The runs are
deterministic (``derandomize=True``), without shrinking (a failure reports its
example at once), and the file takes about 15 seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import survtdm1

pytestmark = [
    pytest.mark.filterwarnings("ignore::survtdm1.exceptions.SeparationWarning"),
    pytest.mark.filterwarnings("ignore::survtdm1.exceptions.SmallSampleWarning"),
]

SUBGROUPS = [{"column": "grade"}, {"column": "marker", "cutpoints": [5]}]
FAST = settings(
    derandomize=True,
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
RATIO_TOL = 1e-7  # Newton stops at a step of 1e-9..1e-10 on the log scale
# A likelihood-ratio test between models whose likelihood is monotone (an interaction
# term diverging) depends on where the iterations stop, which the row order can move
# by ~1e-7; p-values are compared with this absolute tolerance as well.
P_ABS_TOL = 1e-6

_row = st.tuples(
    st.integers(1, 30),  # time
    st.booleans(),  # event
    st.sampled_from(["A", "B"]),  # arm
    st.sampled_from(["1", "2", "3"]),  # grade (categorical)
    st.integers(0, 9),  # marker (cut at 5)
)


@st.composite
def cohorts(draw, min_size: int = 10, max_size: int = 50) -> pd.DataFrame:
    rows = draw(st.lists(_row, min_size=min_size, max_size=max_size))
    frame = pd.DataFrame(rows, columns=["months", "event", "arm", "grade", "marker"])
    frame["event"] = frame["event"].astype(int)
    frame.loc[0, "arm"], frame.loc[1, "arm"] = "A", "B"  # both arms present
    return frame


def _analyse(frame: pd.DataFrame, treatment="A", control="B", **options):
    cohort = survtdm1.load_cohort(
        frame, arm="arm", treatment=treatment, control=control, time="months", event="event"
    )
    return survtdm1.subgroup_analysis(cohort, SUBGROUPS, **options)


def _close(a, b, rel=RATIO_TOL, abs_tol=1e-12) -> bool:
    """Equal within ``rel`` (or ``abs_tol``), NaN/None equal to NaN/None."""
    a = math.nan if a is None else float(a)
    b = math.nan if b is None else float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


INTERACTION = ("p_interaction", "p_interaction_wald", "p_trend", "p_interaction_adj")


def _estimable(table: pd.DataFrame) -> pd.Series:
    """Rows whose subgroup has events in both arms of every level.

    Elsewhere an interaction term's likelihood is monotone: its maximum is at
    infinity and the LRT depends on where the iterations stop, so interaction
    p-values are compared on these rows only (p_interaction_adj, which mixes
    subgroups, only when every subgroup qualifies).
    """
    noted = table.groupby("subgroup", sort=False)["note"].transform(lambda n: (n != "").any())
    return ~noted


def _assert_columns(left: pd.DataFrame, right: pd.DataFrame, pairs, transform=lambda x: x):
    estimable = _estimable(left)
    for left_column, right_column in pairs:
        abs_tol = P_ABS_TOL if left_column.startswith("p_") else 1e-12
        rows = estimable if left_column in INTERACTION else pd.Series(True, index=left.index)
        if left_column == "p_interaction_adj" and not estimable.all():
            continue
        for k, (a, b) in enumerate(zip(left[left_column], right[right_column], strict=True)):
            if not rows.iloc[k]:
                continue
            b = transform(b)
            assert _close(a, b, abs_tol=abs_tol), (
                f"row {k}: {left_column}={a} vs {right_column}={b}"
            )


def _inverse(x):
    return math.nan if x is None or math.isnan(x) else 1.0 / x


EXACT = [
    "subgroup",
    "level",
    "n_treatment",
    "n_control",
    "events_treatment",
    "events_control",
    "n_missing",
    "note",
]
FLOATS = [
    "hr",
    "hr_lower",
    "hr_upper",
    "p_value",
    "p_interaction",
    "p_interaction_wald",
    "p_trend",
    "p_interaction_adj",
    "median_treatment",
    "median_control",
]
OVERALL_FLOATS = ["hr", "hr_lower", "hr_upper", "p_value", "p_logrank", "p_ph"]


@FAST
@given(frame=cohorts(), data=st.data())
def test_row_order_changes_nothing(frame, data):
    order = data.draw(st.permutations(range(len(frame))))
    result = _analyse(frame)
    shuffled = _analyse(frame.iloc[list(order)].reset_index(drop=True))
    pd.testing.assert_frame_equal(result.table[EXACT], shuffled.table[EXACT])
    _assert_columns(result.table, shuffled.table, [(c, c) for c in FLOATS])
    for key in OVERALL_FLOATS:
        assert _close(result.overall[key], shuffled.overall[key], abs_tol=P_ABS_TOL), key
    pd.testing.assert_frame_equal(result.at_risk, shuffled.at_risk)
    pd.testing.assert_frame_equal(result.exclusions, shuffled.exclusions)


@FAST
@given(frame=cohorts())
def test_swapping_the_arms_inverts_the_hazard_ratio(frame):
    result = _analyse(frame)
    swapped = _analyse(frame, treatment="B", control="A")
    a, b = result.table, swapped.table
    assert a["n_treatment"].tolist() == b["n_control"].tolist()
    assert a["events_treatment"].tolist() == b["events_control"].tolist()
    _assert_columns(a, b, [("hr", "hr"), ("hr_lower", "hr_upper"), ("hr_upper", "hr_lower")],
                    transform=_inverse)  # fmt: skip
    same = ["p_value", "p_interaction", "p_interaction_wald", "p_trend"]
    _assert_columns(a, b, [(c, c) for c in same])
    _assert_columns(a, b, [("median_treatment", "median_control")])
    o, s = result.overall, swapped.overall
    assert _close(o["hr"], _inverse(s["hr"]))
    assert _close(o["hr_lower"], _inverse(s["hr_upper"]))
    for key in ("p_value", "p_logrank", "p_ph"):
        assert _close(o[key], s[key]), key


@FAST
@given(frame=cohorts(), factor=st.sampled_from([0.1, 2.5, 7.0, 30.4375, 1000.0]))
def test_rescaling_time_keeps_hazard_ratios_and_scales_medians(frame, factor):
    result = _analyse(frame)
    scaled_frame = frame.assign(months=frame["months"] * factor)
    scaled = _analyse(scaled_frame, risk_times=[t * factor for t in result.risk_times])
    a, b = result.table, scaled.table
    pd.testing.assert_frame_equal(a[EXACT], b[EXACT])
    same = ["hr", "hr_lower", "hr_upper", "p_value", "p_interaction", "p_interaction_wald"]
    _assert_columns(a, b, [(c, c) for c in same + ["p_trend"]])
    _assert_columns(a, b, [("median_treatment", "median_treatment")], lambda m: m / factor)
    _assert_columns(a, b, [("median_control", "median_control")], lambda m: m / factor)
    for key in OVERALL_FLOATS:
        assert _close(result.overall[key], scaled.overall[key]), key
    assert result.at_risk["n_at_risk"].tolist() == scaled.at_risk["n_at_risk"].tolist()


@FAST
@given(frame=cohorts(max_size=30))
def test_duplicating_the_cohort_keeps_the_hazard_ratio(frame):
    # the ordinary estimate only: Firth's penalty does not grow with n, so a
    # Firth-penalised HR legitimately changes when every row is doubled
    result = _analyse(frame, ties="breslow", firth="never")
    doubled = _analyse(pd.concat([frame, frame], ignore_index=True), ties="breslow", firth="never")
    a, b = result.table, doubled.table
    assert (2 * a["n_treatment"]).tolist() == b["n_treatment"].tolist()
    assert (2 * a["events_control"]).tolist() == b["events_control"].tolist()
    _assert_columns(a, b, [("hr", "hr"), ("median_treatment", "median_treatment")])
    finite = a["hr"].notna() & b["hr"].notna()
    width = np.log(a["hr_upper"] / a["hr_lower"])[finite]
    doubled_width = np.log(b["hr_upper"] / b["hr_lower"])[finite]
    # the standard error shrinks by sqrt(2)
    np.testing.assert_allclose(doubled_width, width / np.sqrt(2), rtol=1e-6)
    assert (b["p_value"][finite] <= a["p_value"][finite] + 1e-12).all()
    assert _close(result.overall["hr"], doubled.overall["hr"])


def _check_curve(curve) -> None:
    surv = curve.surv
    assert ((surv >= 0) & (surv <= 1)).all()
    assert (np.diff(surv) <= 1e-12).all(), "KM curve increases"
    for bound in (curve.lower, curve.upper):
        known = ~np.isnan(bound)
        assert ((bound[known] >= 0) & (bound[known] <= 1)).all()
    known = ~np.isnan(curve.lower) & ~np.isnan(curve.upper)
    assert (curve.lower[known] <= surv[known] + 1e-12).all()
    assert (surv[known] <= curve.upper[known] + 1e-12).all()


def _contains(lower, estimate, upper) -> bool:
    values = [math.nan if v is None else float(v) for v in (lower, estimate, upper)]
    lower, estimate, upper = values
    if math.isnan(estimate):
        return True
    return (math.isnan(lower) or lower <= estimate) and (math.isnan(upper) or estimate <= upper)


@settings(FAST, max_examples=25)
@given(frame=cohorts(), conf_type=st.sampled_from(["log-log", "log", "plain"]))
def test_km_curves_monotone_and_intervals_contain_estimates(frame, conf_type):
    result = _analyse(frame, conf_type=conf_type, landmark=10)
    for curve in result.overall_curves.values():
        _check_curve(curve)
    for curves in result.level_curves.values():
        for curve in curves.values():
            _check_curve(curve)
    table = result.table
    for row in table.itertuples():
        assert _contains(row.hr_lower, row.hr, row.hr_upper), row
        if not math.isnan(row.hr):
            assert row.hr > 0 and 0 <= row.p_value <= 1
    overall = result.overall
    assert _contains(overall["hr_lower"], overall["hr"], overall["hr_upper"])
    for arm in ("treatment", "control"):
        summary = overall[arm]
        assert _contains(summary["median_lower"], summary["median"], summary["median_upper"])
        assert _contains(summary["landmark_lower"], summary["landmark"], summary["landmark_upper"])


def test_cox_fit_with_nan_information():
    """Found by the properties above: an aliased, diverging interaction model.

    Its information matrix becomes all NaN; at commit 200ad07 ``np.linalg.cond``
    then raised instead of the fit reporting ``converged=False``.
    """
    from survtdm1 import cox

    time = np.array([26, 22, 14, 9, 21, 1, 2, 15, 17, 8, 2]) * 0.1
    event = np.array([1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0])
    arm = np.array([1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0.0])
    grade = np.array([2, 1, 1, 1, 2, 3, 1, 3, 3, 1, 1])
    X = np.column_stack([arm, grade == 2, grade == 3, arm * (grade == 3)]).astype(float)
    data = cox.SortedSurvival.from_arrays(time, event)
    fit = cox.cox_fit_sorted(data, data.sort_rows(X))
    assert not fit.converged


CASE_8AF0729 = {  # at commit 8af0729 one order gave log-likelihood +inf, p_interaction 0.0
    "months": [30, 6, 23, 9, 19, 28, 10, 4, 25, 8, 15, 4, 25, 7, 20, 3, 11, 27, 3, 24]
    + [23, 17, 16, 20, 2, 1, 21, 8, 22, 14, 5, 21, 4, 24, 3, 7, 27, 10, 17, 24],
    "event": "0010000011101011011011010101000011101101",
    "arm": "ABAAABABAAABAABAABBAAAAAAABABAAAAAAAAABB",
    "grade": "1232232222121311113211222321331113311113",
    "order": [27, 1, 12, 6, 38, 35, 11, 4, 34, 3, 21, 24, 25, 7, 0, 5, 19, 37, 16, 33]
    + [28, 31, 36, 30, 20, 22, 13, 39, 26, 14, 32, 23, 10, 9, 15, 2, 8, 29, 18, 17],
    "p": 0.5845647819488,
}
CASE_88D5472 = {  # at commit 88d5472 the file order gave p_interaction 0.0 (fixed: 4eb7769)
    "months": [9, 13, 6, 22, 29, 5, 20, 13, 20, 24, 10, 6, 8, 19, 29, 20, 8, 6, 13, 14]
    + [9, 21, 19, 16, 22],
    "event": "0110111100110000101100000",
    "arm": "ABBAAABAAABBAAAAABBABBAAA",
    "grade": "2232132222221213233333233",
    "order": [0, 23, 1, 5, 2, 19, 9, 15, 14, 4, 11, 18, 16, 8, 12, 20, 22, 13, 3, 24]
    + [17, 7, 10, 6, 21],
    "p": 0.3765875391684935,
}


@pytest.mark.parametrize(
    "case",
    [
        CASE_8AF0729,
        CASE_88D5472,
    ],
)
def test_diverging_interaction_model_gives_the_same_p_in_any_row_order(case):
    """Found by the row-order property: an arm of one grade has no events, the
    interaction model's likelihood is monotone, and one order of the rows drove
    its log-likelihood to +inf (coefficients ~1e6): p_interaction 0.0."""
    frame = pd.DataFrame(
        {
            "months": case["months"],
            "event": [int(c) for c in case["event"]],
            "arm": list(case["arm"]),
            "grade": list(case["grade"]),
            "marker": 0,
        }
    )
    p_values = []
    for rows in (frame, frame.iloc[case["order"]].reset_index(drop=True)):
        cohort = survtdm1.load_cohort(
            rows, arm="arm", treatment="A", control="B", time="months", event="event"
        )
        result = survtdm1.subgroup_analysis(cohort, [{"column": "grade"}])
        p_values.append(result.table["p_interaction"].iloc[0])
    assert p_values[0] == pytest.approx(case["p"], rel=1e-6)
    assert p_values[1] == pytest.approx(case["p"], rel=1e-6)
