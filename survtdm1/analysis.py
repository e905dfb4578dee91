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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._preload import gc_paused, importing
from ._version import __version__
from .cohort import Cohort, load_cohort
from .outputs import WORKER_BYTES, OutputWorker, alongside, publish, write_csv
from .plan import Plan, read_plan
from .tables import write_tables

if TYPE_CHECKING:  # imported when analysing (see analyze)
    from .subgroups import MultiArmResult, SubgroupResult

#: [cohort] keys for sponsor (CDISC ADaM) data, passed to load_cohort as they are
SPONSOR_KEYS = ("censor", "paramcd", "adsl", "population", "response_values", "responders")


@dataclass(frozen=True)
class AnalysisResult:
    """A plan and its results (frozen).

    Attributes
    ----------
    plan : Plan
    cohort : Cohort
    result : SubgroupResult
        With a list of treatment arms: the first comparison's result.
    multiarm : MultiArmResult or None
        With a list of treatment arms (``treatment = ["A", "B"]``): every
        comparison; ``table`` and ``exclusions`` then hold them all (with a
        ``comparison`` column) and ``comparisons`` lists their overall summaries.
    """

    plan: Plan
    cohort: Cohort
    result: SubgroupResult
    multiarm: MultiArmResult | None = None

    @property
    def table(self):
        return self.result.table if self.multiarm is None else self.multiarm.table

    @property
    def overall(self) -> dict:
        return self.result.overall

    @property
    def exclusions(self):
        return self.result.exclusions if self.multiarm is None else self.multiarm.exclusions

    @property
    def comparisons(self) -> list[dict] | None:
        """summary.json's ``comparisons`` (None with a single treatment value)."""
        return None if self.multiarm is None else self.multiarm.comparisons

    @property
    def provenance(self) -> dict:
        return {
            "survtdm1_version": __version__,
            "plan": self.plan.source,
            "plan_text": self.plan.text,
            "input": self.cohort.source,
            "input_sha256": self.cohort.input_sha256,
            "settings": _jsonable(self.result.settings),
        }

    def summary(self):
        return (self.multiarm or self.result).summary()

    def _repr_html_(self) -> str:
        return (self.multiarm or self.result)._repr_html_()

    def summary_json(self) -> dict:
        """The content of ``summary.json``, JSON-ready (NaN as null)."""
        shared = self.shared_result()
        out = {"overall": _jsonable(shared.overall), "provenance": self.provenance}
        cutpoints = shared.cutpoints_summary()
        if cutpoints:
            out["cutpoints"] = _jsonable(cutpoints)
        if self.multiarm is not None:
            out["comparisons"] = _jsonable(shared.comparisons)
        return out

    def write(
        self, out_dir, *, figures: bool = True, progress=None, worker: OutputWorker | None = None
    ) -> list[Path]:
        """Write the contract's files into ``out_dir``; returns their paths.

        The files are written into a staging folder beside ``out_dir`` and
        moved into place once complete, with ``manifest.json`` last; a second
        run on the same folder is refused. The rules (stale files, symlinks,
        the lock) are those of :func:`survtdm1.outputs.publish`. Every CSV
        has its text cells neutralised for spreadsheets
        (:func:`survtdm1.outputs.neutralise_cell`); summary.json keeps the
        raw values.

        ``worker``: an :class:`~survtdm1.outputs.OutputWorker` started (with
        :data:`WRITING_MODULES`) before the analysis, which then writes the
        documents and figures; ``survtdm1 analyze`` starts one for a large cohort.
        """
        say = progress or (lambda message: None)
        shared = self.shared_result()

        def produce(folder: Path) -> list[Path]:
            say("writing tables")
            written = [
                write_csv(shared.table, folder / "subgroups.csv"),
                folder / "summary.json",
                write_csv(shared.at_risk, folder / "at_risk.csv"),
                write_csv(shared.exclusions, folder / "exclusions.csv"),
            ]
            summary = json.dumps(self.summary_json(), indent=2, allow_nan=False)
            written[1].write_text(summary + "\n", encoding="utf-8")
            if figures:
                say("drawing figures")
            job = (shared, self.plan, self.provenance, folder, figures, len(self.cohort.data))
            if worker is not None:
                return written + worker.run(write_documents, *job)
            return written + write_documents(*job)

        return publish(out_dir, produce, about={"survtdm1_version": __version__})

    def shared_result(self) -> SubgroupResult | MultiArmResult:
        """The result as written to files: small cells suppressed if the plan asks.

        The MultiArmResult of every comparison with a list of treatment arms.
        """
        if self.multiarm is not None:
            return _shared_multiarm(self.multiarm, self.plan.min_count)
        if self.plan.min_count is None:
            return self.result
        from .privacy import suppress_result

        return suppress_result(self.result, self.plan.min_count)


def _shared_multiarm(multiarm: MultiArmResult, min_count: int | None) -> MultiArmResult:
    if min_count is None:
        return multiarm
    from .privacy import suppress_result, suppress_small_cells

    return replace(
        multiarm,
        results=tuple(suppress_result(result, min_count) for result in multiarm.results),
        exclusions=suppress_small_cells(multiarm.exclusions, min_count),
        at_risk=suppress_small_cells(multiarm.at_risk, min_count),
    )


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


#: What :func:`write_documents` imports: an :class:`~survtdm1.outputs.OutputWorker`
#: started with these is ready to write when the analysis ends.
WRITING_MODULES = (
    "survtdm1.subgroups",
    "survtdm1.tables",
    "survtdm1.figures",
    "survtdm1.plots",
    "survtdm1.report",
    "rtflite",
    "docx",
)


def write_documents(
    result, plan: Plan, provenance: dict, folder: Path, figures: bool, rows: int
) -> list[Path]:
    """``ard.csv``, ``subgroups.rtf`` and ``subgroups.docx`` of ``result`` and, with
    ``figures``, its figures and ``report.html``, into ``folder``; returns their paths.

    From :data:`~survtdm1.outputs.PARALLEL_ROWS` analysed ``rows``, a second
    process draws the forest plot (or, with several arms, every figure) while
    this one writes the tables and the KM curves; that process writes the
    forest plot's PNG file while a third writes its SVG file.
    """
    from . import figures as drawn
    from .outputs import PARALLEL_ROWS  # read when called (tests lower it)
    from .subgroups import MultiArmResult

    def tables() -> list[Path]:
        return write_tables(result, plan, folder)

    if not figures:
        return tables()
    if isinstance(result, MultiArmResult):

        def every_figure() -> list[Path]:
            return drawn.write_figures(result, plan, provenance, folder)

        return alongside(tables, every_figure, rows)
    written = alongside(
        lambda: tables() + drawn.write_curves(result, plan, folder),
        lambda: drawn.write_forest(result, plan, folder, parallel=rows >= PARALLEL_ROWS),
        rows=rows,
    )
    return written + [drawn.write_report(result, plan, provenance, folder)]


def output_worker(plan: str | os.PathLike | dict) -> OutputWorker | None:
    """An :class:`~survtdm1.outputs.OutputWorker` preparing :func:`write_documents`
    while ``plan`` is analysed, when its cohort file holds
    :data:`~survtdm1.outputs.WORKER_BYTES` or more; else None (nothing to gain)."""
    try:
        size = os.stat(read_plan(plan).cohort["path"]).st_size
    except (OSError, KeyError, TypeError, ValueError):  # a PlanError is a ValueError
        return None  # the analysis reports what is wrong
    return OutputWorker(WRITING_MODULES) if size >= WORKER_BYTES else None


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
    # rows sharing a cluster value are not duplicated ids when `cluster` names the id
    clustered_by_id = c.get("id") is not None and plan.analysis.get("cluster") == c.get("id")
    # the analysis modules (scipy among them) are imported while the cohort file is parsed
    with importing("survtdm1.subgroups", "scipy.special"), gc_paused():
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
            repeated_ids=clustered_by_id,
            **{key: c[key] for key in SPONSOR_KEYS if key in c},
        )
    from .subgroups import compare_arms, subgroup_analysis

    options = {"endpoint_name": c.get("endpoint_name"), **plan.analysis}
    if cohort.treatments is not None:
        multiarm = compare_arms(cohort, plan.subgroups, **options)
        return AnalysisResult(plan, cohort, multiarm.results[0], multiarm)
    result = subgroup_analysis(cohort, plan.subgroups, **options)
    return AnalysisResult(plan, cohort, result)
