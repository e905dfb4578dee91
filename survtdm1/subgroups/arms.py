"""Several treatment arms against one control: one two-arm battery per comparison.

:func:`compare_arms` runs :func:`~survtdm1.subgroup_analysis` on the rows of
each listed treatment arm and the control (as pairwise comparisons against a
reference arm, e.g. MARIANNE's T-DM1 + pertuzumab and T-DM1 each against
trastuzumab + taxane) and gathers the comparisons in a
:class:`MultiArmResult`. Within a comparison every rule is the two-arm one
(quantiles over the two arms' rows, Holm across the plan's subgroups, Firth
where an arm has no events).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ..cohort import Cohort
from ..exceptions import PlanError
from ..levels import SubgroupSpec
from .battery import subgroup_analysis
from .common import SubgroupResult
from .survival import default_risk_times

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: the column that names a row's comparison (the treatment arm as written)
COMPARISON = "comparison"


@dataclass(frozen=True)
class MultiArmResult:
    """Result of :func:`compare_arms` (frozen): one :class:`SubgroupResult` per arm.

    Attributes
    ----------
    results : tuple of SubgroupResult
        One per treatment arm, in the order of the cohort's ``treatments``;
        each is a two-arm result (treatment arm vs the control).
    treatments : tuple of str
        The treatment arms as written in the file.
    control_label : str
    exclusions : DataFrame
        Columns ``reason, n, comparison``: rows left out of every comparison
        (other arms, ADSL, population; ``comparison`` empty), then each
        comparison's own counts of missing subgroup or stratum values
        (``comparison`` = its treatment arm; a control row with a missing
        value is counted in each comparison, as it is left out of each).
    at_risk : DataFrame
        Columns ``arm, time, n_at_risk``: every treatment arm in list order,
        then the control, at the same times.
    """

    results: tuple[SubgroupResult, ...]
    treatments: tuple[str, ...]
    control_label: str
    exclusions: pd.DataFrame
    at_risk: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        """Every comparison's subgroup table, in list order, with a last column ``comparison``."""
        return pd.concat(
            [
                result.table.assign(**{COMPARISON: treatment})
                for treatment, result in zip(self.treatments, self.results, strict=True)
            ],
            ignore_index=True,
        )

    @property
    def overall(self):
        """The first comparison's overall summary (summary.json's ``overall``)."""
        return self.results[0].overall

    @property
    def comparisons(self) -> list[dict]:
        """``[{"treatment", "control", "overall"}]`` per arm (summary.json's ``comparisons``).

        With ``cutpoint = "maxstat"`` subgroups each object also holds its own
        ``cutpoints`` (the cut is chosen on the comparison's two arms).
        """
        out = []
        for treatment, result in zip(self.treatments, self.results, strict=True):
            item = {"treatment": treatment, "control": self.control_label}
            item["overall"] = result.overall
            if result.cutpoints:
                item["cutpoints"] = result.cutpoints_summary()
            out.append(item)
        return out

    def cutpoints_summary(self) -> dict:
        """The first comparison's maxstat cuts (summary.json's ``cutpoints``)."""
        return self.results[0].cutpoints_summary()

    def result(self, treatment: str) -> SubgroupResult:
        """The two-arm result of one treatment arm (its value as written)."""
        for name, result in zip(self.treatments, self.results, strict=True):
            if name == str(treatment):
                return result
        raise PlanError(f"no comparison of {treatment!r}; the arms are {list(self.treatments)}")

    def summary(self) -> pd.DataFrame:
        """The combined subgroup table (a copy)."""
        return self.table

    def _repr_html_(self) -> str:
        return "".join(
            f"<h4>{html.escape(name)} vs {html.escape(self.control_label)}</h4>"
            + result._repr_html_()
            for name, result in zip(self.treatments, self.results, strict=True)
        )

    def plot_forest(self, treatment: str | None = None, **kwargs) -> Figure:
        """Forest plot of one comparison (default: the first)."""
        return self._one(treatment).plot_forest(**kwargs)

    def plot_km(self, treatment: str | None = None, **kwargs) -> Figure:
        """KM curves of one comparison (default: the first)."""
        return self._one(treatment).plot_km(**kwargs)

    def _one(self, treatment: str | None) -> SubgroupResult:
        return self.results[0] if treatment is None else self.result(treatment)


def compare_arms(
    cohort: Cohort,
    subgroups: Sequence[dict | SubgroupSpec | str] = (),
    **options,
) -> MultiArmResult:
    """Each treatment arm against the control, with the subgroup battery.

    Parameters
    ----------
    cohort : Cohort
        From :func:`survtdm1.load_cohort` with a list of treatment arms
        (a cohort with one treatment value gives one comparison).
    subgroups : list
        As :func:`survtdm1.subgroup_analysis`.
    **options
        The keyword arguments of :func:`survtdm1.subgroup_analysis`. Without
        ``risk_times``, a survival endpoint's at-risk times are chosen once
        from the follow-up of all the compared arms, so that every
        comparison (and ``at_risk``) uses the same times.

    Returns
    -------
    MultiArmResult

    Equivalent R, per comparison: the two-arm battery on
    ``subset(d, arm %in% c(treatment, control))``.

    Examples
    --------
    >>> import survtdm1 as st, pandas as pd
    >>> df = pd.DataFrame({"t": [5, 8, 3, 9, 4, 7, 6, 2, 5], "e": [1, 0, 1, 1, 1, 0, 1, 1, 1],
    ...                    "arm": ["A", "B", "C"] * 3})
    >>> cohort = st.load_cohort(df, arm="arm", treatment=["A", "B"], control="C",
    ...                         time="t", event="e")
    >>> result = st.compare_arms(cohort)
    >>> [c["treatment"] for c in result.comparisons], result.at_risk["arm"].unique().tolist()
    (['A', 'B'], ['A', 'B', 'C'])
    """
    if not isinstance(cohort, Cohort):
        kind = type(cohort).__name__
        raise PlanError(f"compare_arms needs a Cohort from survtdm1.load_cohort, not {kind}")
    treatments = cohort.treatments or (cohort.treatment_label,)
    if cohort.endpoint == "survival" and options.get("risk_times") is None:
        # in the unit of the analysis (an [analysis] time_unit converts the times)
        unit = options.get("time_unit")
        times = (cohort if unit is None else cohort.to_unit(unit)).times
        options = {**options, "risk_times": list(default_risk_times(times))}
    results = tuple(
        subgroup_analysis(cohort.comparison(treatment), subgroups, **options)
        for treatment in treatments
    )
    return MultiArmResult(
        results=results,
        treatments=tuple(treatments),
        control_label=cohort.control_label,
        exclusions=combined_exclusions(cohort, results, treatments),
        at_risk=combined_at_risk(results, treatments, cohort.control_label),
    )


def combined_exclusions(cohort: Cohort, results, treatments) -> pd.DataFrame:
    """The shared ledger once (comparison empty), then each comparison's own rows."""
    shared = [(reason, n, "") for reason, n in cohort.excluded]
    own = []
    for treatment, result in zip(treatments, results, strict=True):
        # a comparison's ledger is the shared one followed by its own rows
        extra = result.exclusions.iloc[len(shared) :]
        own += [
            (reason, n, treatment) for reason, n in extra[["reason", "n"]].itertuples(index=False)
        ]
    return pd.DataFrame(shared + own, columns=["reason", "n", COMPARISON])


def combined_at_risk(results, treatments, control: str) -> pd.DataFrame:
    """Each treatment arm's at-risk rows in list order, then the control's (the first's)."""
    frames = [
        result.at_risk[result.at_risk["arm"] == treatment]
        for treatment, result in zip(treatments, results, strict=True)
    ]
    first = results[0].at_risk
    frames.append(first[first["arm"] == control])
    return pd.concat(frames, ignore_index=True)
