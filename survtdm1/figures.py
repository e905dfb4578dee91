"""The figure files of ``survtdm1 analyze``: forest, KM (or response) and the report.

Drawing lives in :mod:`survtdm1.plots`; this module only decides which
figures a result gets and where they are written.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path


def write_figures(result, plan, provenance: dict, out: Path) -> list[Path]:
    """Write ``forest.png``, ``forest.svg``, ``km.png`` (or ``response.png``) and
    ``report.html`` for a :class:`~survtdm1.subgroups.SubgroupResult` of ``plan``
    (for a :class:`~survtdm1.subgroups.MultiArmResult`: see
    :func:`write_comparison_figures`)."""
    if hasattr(result, "comparisons"):
        return write_comparison_figures(result, plan, provenance, out)
    from .plan import display_labels
    from .plots import forest_from_result, km_from_result, response_from_result, save_figure
    from .report import RenderedFigure, render_report

    display = plan.display
    labels = display_labels(plan, result.treatment_label)
    if "control_label" not in display:
        labels["control"] = str(result.control_label)
    arms = {"treatment_label": labels["treatment"], "control_label": labels["control"]}
    written: list[Path] = []
    forest_options = {}
    if "higher_is_better" in display:
        forest_options["higher_is_better"] = display["higher_is_better"]
    forest = forest_from_result(result, **arms, **forest_options)
    written += save_figure(forest, out / "forest", formats=("png", "svg"))
    if result.endpoint == "binary":
        curves_name, curves = "response", response_from_result(result, **arms)
        caption = "Response rates by arm"
    else:
        km_options = {"labels": labels, "endpoint_name": result.endpoint_name}
        if display.get("time_label"):
            km_options["time_label"] = display["time_label"]
        curves_name, curves = "km", km_from_result(result, **km_options)
        caption = "Kaplan-Meier curves by arm"
    written += save_figure(curves, out / curves_name, formats=("png",))
    # the report embeds the PNG files just written (drawing a figure again costs seconds
    # on a large battery)
    shown = {
        "Treatment effect by subgroup": RenderedFigure(
            (out / "forest.png").read_bytes(), float(forest.get_size_inches()[0])
        ),
        caption: RenderedFigure(
            (out / f"{curves_name}.png").read_bytes(), float(curves.get_size_inches()[0])
        ),
    }
    page = render_report(
        result,
        title=plan.title,
        figures=shown,
        plan_text=plan.text or None,
        provenance=provenance,
        labels=labels,
    )
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    written.append(report)
    return written


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
    from .plots import forest_from_result, km_from_result, response_from_result

    arms = {"treatment_label": labels["treatment"], "control_label": labels["control"]}
    extra = (
        {"higher_is_better": display["higher_is_better"]} if "higher_is_better" in display else {}
    )
    forest = forest_from_result(result, **arms, **extra)
    if result.endpoint == "binary":
        return forest, "response", response_from_result(result, **arms), "Response rates by arm"
    options = {"labels": labels, "endpoint_name": result.endpoint_name}
    if display.get("time_label"):
        options["time_label"] = display["time_label"]
    return forest, "km", km_from_result(result, **options), "Kaplan-Meier curves by arm"


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
