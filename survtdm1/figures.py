"""The figure files of ``survtdm1 analyze``: forest, KM (or response) and the report.

Drawing lives in :mod:`survtdm1.plots`; this module only decides which
figures a result gets and where they are written.
"""

from __future__ import annotations

from pathlib import Path


def write_figures(result, plan, provenance: dict, out: Path) -> list[Path]:
    """Write ``forest.png``, ``forest.svg``, ``km.png`` (or ``response.png``) and
    ``report.html`` for a :class:`~survtdm1.subgroups.SubgroupResult` of ``plan``."""
    from .plan import display_labels
    from .plots import forest_from_result, km_from_result, response_from_result, save_figure
    from .report import render_report

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
    page = render_report(
        result,
        title=plan.title,
        figures={"Treatment effect by subgroup": forest, caption: curves},
        plan_text=plan.text or None,
        provenance=provenance,
        labels=labels,
    )
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    written.append(report)
    return written
