"""The figure files of ``survtdm1 analyze``: forest, KM (or response) and the report.

Drawing lives in :mod:`survtdm1.plots`; this module only decides which
figures a result gets and where they are written.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from . import _forked


def write_figures(result, plan, provenance: dict, out: Path) -> list[Path]:
    """Write ``forest.png``, ``forest.svg``, ``km.png`` (or ``response.png``) and
    ``report.html`` for a :class:`~survtdm1.subgroups.SubgroupResult` of ``plan``
    (for a :class:`~survtdm1.subgroups.MultiArmResult`: see
    :func:`write_comparison_figures`)."""
    if hasattr(result, "comparisons"):
        return write_comparison_figures(result, plan, provenance, out)
    return [
        *write_forest(result, plan, out),
        *write_curves(result, plan, out),
        write_report(result, plan, provenance, out),
    ]


def write_forest(result, plan, out: Path, parallel: bool = False) -> list[Path]:
    """``forest.png`` and ``forest.svg`` of a two-arm result; with ``parallel``, the SVG
    file is written by a forked process while this one writes the PNG file (at a lower
    priority: the PNG file is the longest piece of the outputs, and goes first)."""
    from .plots import save_figure

    figure = _forest_figure(result, _arm_labels(result, plan), plan.display)
    png, svg = _forked.alongside(
        lambda: save_figure(figure, out / "forest", formats=("png",)),
        lambda: save_figure(figure, out / "forest", formats=("svg",)),
        parallel=parallel,
        what="drawing the forest plot",
        yielding=True,
    )
    return png + svg


def write_curves(result, plan, out: Path) -> list[Path]:
    """``km.png`` (``response.png`` for a binary endpoint) of a two-arm result."""
    from .plots import save_figure

    name, figure, _ = _curves_figure(result, _arm_labels(result, plan), plan.display)
    return save_figure(figure, out / name, formats=("png",))


def write_report(result, plan, provenance: dict, out: Path) -> Path:
    """``report.html`` of a two-arm result, embedding the PNG files that
    :func:`write_forest` and :func:`write_curves` wrote into ``out`` (drawing a
    figure again costs seconds on a large battery)."""
    from .report import RenderedFigure, render_report

    name, caption = _curves_kind(result)
    shown = {
        "Treatment effect by subgroup": RenderedFigure.read(out / "forest.png"),
        caption: RenderedFigure.read(out / f"{name}.png"),
    }
    page = render_report(
        result,
        title=plan.title,
        figures=shown,
        plan_text=plan.text or None,
        provenance=provenance,
        labels=_arm_labels(result, plan),
    )
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    return report


def _arm_labels(result, plan) -> dict[str, str]:
    """The arm names shown for a two-arm result (``[display]``, else as written)."""
    from .plan import display_labels

    labels = display_labels(plan, result.treatment_label)
    if "control_label" not in plan.display:
        labels["control"] = str(result.control_label)
    return labels


# --------------------------------------------------------------------------------------
# Several treatment arms: the figures of each comparison, one report
# --------------------------------------------------------------------------------------


def comparison_stem(name: str, number: int, treatment: str) -> str:
    """File stem of a comparison's figure: ``forest-2-xanomeline-high-dose``.

    The number (1-based, list order) keeps names distinct; the slug (ASCII
    letters and digits of the arm's value, at most 40 characters) makes them
    readable.

    >>> comparison_stem("km", 1, "T-DM1 + Pertuzumab")
    'km-1-t-dm1-pertuzumab'
    """
    ascii_text = unicodedata.normalize("NFKD", str(treatment)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")
    return f"{name}-{number}-{slug}" if slug else f"{name}-{number}"


def comparison_labels(plan, number: int, result) -> dict[str, str]:
    """Arm names shown for comparison ``number`` (1-based, list order).

    ``[display] treatment_label`` (with several arms a list: its entry
    ``number``) and ``control_label``; else the arms' values as written.
    """
    display = getattr(plan, "display", None) or {}
    label = display.get("treatment_label")
    if isinstance(label, list):
        label = label[number - 1] if number <= len(label) else None
    return {
        "treatment": str(label or result.treatment_label),
        "control": str(display.get("control_label") or result.control_label),
    }


def _comparison_figures(result, labels: dict[str, str], display: dict):
    """(forest, curves name, curves figure, curves caption) of one two-arm result."""
    return (_forest_figure(result, labels, display), *_curves_figure(result, labels, display))


def _forest_figure(result, labels: dict[str, str], display: dict):
    from .plots import forest_from_result

    arms = {"treatment_label": labels["treatment"], "control_label": labels["control"]}
    extra = (
        {"higher_is_better": display["higher_is_better"]} if "higher_is_better" in display else {}
    )
    return forest_from_result(result, **arms, **extra)


def _curves_kind(result) -> tuple[str, str]:
    """The curves figure's file stem and caption: KM curves, or response rates."""
    if result.endpoint == "binary":
        return "response", "Response rates by arm"
    return "km", "Kaplan-Meier curves by arm"


def _curves_figure(result, labels: dict[str, str], display: dict):
    """(file stem, figure, caption) of the curves of one two-arm result."""
    from .plots import km_from_result, response_from_result

    name, caption = _curves_kind(result)
    if result.endpoint == "binary":
        arms = {"treatment_label": labels["treatment"], "control_label": labels["control"]}
        return name, response_from_result(result, **arms), caption
    options = {"labels": labels, "endpoint_name": result.endpoint_name}
    if display.get("time_label"):
        options["time_label"] = display["time_label"]
    return name, km_from_result(result, **options), caption


def write_comparison_figures(multiarm, plan, provenance: dict, out: Path) -> list[Path]:
    """Figures of every comparison of a :class:`~survtdm1.subgroups.MultiArmResult`.

    Per comparison k (list order): ``forest-k-<arm>.png``, ``forest-k-<arm>.svg``
    and ``km-k-<arm>.png`` (``response-k-<arm>.png`` for a binary endpoint);
    the first comparison also as ``forest.png``, ``forest.svg`` and ``km.png``
    (the files of a two-arm run). One ``report.html`` with a section per
    comparison. Arm names as ``[display]`` gives them (``treatment_label`` a
    list, one per comparison).
    """
    from .plots import save_figure
    from .report import render_comparisons_report

    written: list[Path] = []
    sections = []
    display = getattr(plan, "display", None) or {}
    for number, (treatment, result) in enumerate(
        zip(multiarm.treatments, multiarm.results, strict=True), start=1
    ):
        labels = comparison_labels(plan, number, result)
        forest, curves_name, curves, caption = _comparison_figures(result, labels, display)
        stems = [("forest", forest, ("png", "svg")), (curves_name, curves, ("png",))]
        for name, figure, formats in stems:
            written += save_figure(figure, out / comparison_stem(name, number, treatment), formats)
            if number == 1:
                written += save_figure(figure, out / name, formats=formats)
        figures = {"Treatment effect by subgroup": forest, caption: curves}
        sections.append((result, figures, labels))
    page = render_comparisons_report(
        sections,
        exclusions=multiarm.exclusions,
        title=plan.title,
        plan_text=plan.text or None,
        provenance=provenance,
    )
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    written.append(report)
    return written
