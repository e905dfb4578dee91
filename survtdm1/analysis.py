"""Running a whole plan: load, analyse, write the output files.

:func:`analyze` is what ``survtdm1 analyze PLAN --out DIR`` calls; the
returned :class:`AnalysisResult` writes the contract's files with
:meth:`AnalysisResult.write`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._version import __version__
from .cohort import Cohort, load_cohort
from .plan import Plan, read_plan
from .subgroups import SubgroupResult, subgroup_analysis
from .tables import write_tables

OUTPUT_TABLES = ("subgroups.csv", "summary.json", "at_risk.csv", "exclusions.csv")


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
        overall = self.shared_result().overall
        return {"overall": _jsonable(overall), "provenance": self.provenance}

    def write(self, out_dir, *, figures: bool = True, progress=None) -> list[Path]:
        """Write the contract's files into ``out_dir``; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        say = progress or (lambda message: None)
        shared = self.shared_result()
        say("writing tables")
        paths = {name: out / name for name in OUTPUT_TABLES}
        shared.table.to_csv(paths["subgroups.csv"], index=False)
        summary = json.dumps(self.summary_json(), indent=2, allow_nan=False)
        paths["summary.json"].write_text(summary + "\n")
        shared.at_risk.to_csv(paths["at_risk.csv"], index=False)
        shared.exclusions.to_csv(paths["exclusions.csv"], index=False)
        written = list(paths.values())
        written += write_tables(shared, self.plan, out)  # ard.csv, subgroups.rtf/.docx
        if figures:
            from .figures import write_figures

            say("drawing figures")
            written += write_figures(shared, self.plan, self.provenance, out)
        return written

    def shared_result(self) -> SubgroupResult:
        """The result as written to files: small cells suppressed if the plan asks."""
        if self.plan.min_count is None:
            return self.result
        from .privacy import suppress_result

        return suppress_result(self.result, self.plan.min_count)


def _jsonable(value):
    if isinstance(value, Mapping):
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


def analyze(plan: str | os.PathLike | dict) -> AnalysisResult:
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
        endpoint_name=c.get("endpoint_name"),
        **plan.analysis,
    )
    return AnalysisResult(plan, cohort, result)
