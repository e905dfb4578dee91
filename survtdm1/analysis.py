"""Running a whole plan: load, analyse, write the output files.

:func:`analyze` is what ``survtdm1 analyze PLAN --out DIR`` calls; the
returned :class:`AnalysisResult` writes the contract's files with
:meth:`AnalysisResult.write`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .cohort import Cohort, load_cohort
from .plan import Plan, read_plan
from .subgroups import SubgroupResult, subgroup_analysis


@dataclass(frozen=True)
class AnalysisResult:
    """A plan and its results (frozen).

    Attributes
    ----------
    plan : Plan
    cohort : Cohort
    result : SubgroupResult
    """

    plan: Plan
    cohort: Cohort
    result: SubgroupResult

    @property
    def table(self):
        return self.result.table

    @property
    def overall(self) -> dict:
        return self.result.overall

    @property
    def exclusions(self):
        return self.result.exclusions

    @property
    def provenance(self) -> dict:
        return {
            "survtdm1_version": __version__,
            "plan": self.plan.source,
            "plan_text": self.plan.text,
            "input": self.cohort.source,
            "input_sha256": self.cohort.input_sha256,
        }

    def summary(self):
        return self.result.summary()

    def _repr_html_(self) -> str:
        return self.result._repr_html_()

    def summary_json(self) -> dict:
        """The content of ``summary.json``, JSON-ready (NaN as null)."""
        return {"overall": _jsonable(self.result.overall), "provenance": self.provenance}

    def write(self, out_dir, *, figures: bool = True, progress=None) -> list[Path]:
        """Write the contract's files into ``out_dir``; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        say = progress or (lambda message: None)
        written = []
        say("writing tables")
        table_path = out / "subgroups.csv"
        self.result.table.to_csv(table_path, index=False)
        summary_path = out / "summary.json"
        summary_path.write_text(json.dumps(self.summary_json(), indent=2, allow_nan=False) + "\n")
        at_risk_path = out / "at_risk.csv"
        self.result.at_risk.to_csv(at_risk_path, index=False)
        exclusions_path = out / "exclusions.csv"
        self.result.exclusions.to_csv(exclusions_path, index=False)
        written += [table_path, summary_path, at_risk_path, exclusions_path]
        if figures:
            from .figures import write_figures

            say("drawing figures")
            written += write_figures(self, out)
        return written


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def analyze(plan) -> AnalysisResult:
    """Run an analysis plan.

    Parameters
    ----------
    plan : str, Path or dict
        A TOML plan file (see the contract) or the same structure as a dict.

    Returns
    -------
    AnalysisResult
        ``.table``, ``.overall``, ``.exclusions`` and ``.write(out_dir)``.

    Examples
    --------
    >>> import survtdm1 as st
    >>> result = st.analyze(st.datasets.demo_plan_path())  # doctest: +SKIP
    """
    plan = read_plan(plan)
    c = plan.cohort
    cohort = load_cohort(
        c["path"],
        arm=c["arm"],
        treatment=c["treatment"],
        control=c["control"],
        time=c.get("time"),
        event=c.get("event"),
        response=c.get("response"),
        time_unit=c.get("time_unit", "months"),
        id=c.get("id"),
    )
    result = subgroup_analysis(
        cohort,
        list(plan.subgroups),
        endpoint_name=c.get("endpoint_name") if "time" in c else None,
        **plan.analysis,
    )
    return AnalysisResult(plan, cohort, result)
