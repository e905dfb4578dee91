"""Self-contained HTML report of a subgroup analysis.

:func:`render_report` returns one HTML document: figures embedded as base64
``data:`` images, an inline style sheet, no script and nothing loaded from the
network (a Content-Security-Policy forbids it). Every text that comes from
data or from the plan is escaped with :func:`html.escape`; numbers are rounded
for display only.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._text import (
    display_html,
    format_cell,
    format_conf_level,
    format_effect,
    format_p,
    is_missing,
    subgroup_display,
)

__all__ = [
    "RenderedFigure",
    "figure_data_uri",
    "render_comparisons_report",
    "render_report",
    "subgroup_table_html",
    "table_html",
]

_CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 14px;
       color: #1a1a1a; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
p.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 12px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e3e3e3; text-align: right; }
th { background: #f2f2f2; }
td.text, th.text { text-align: left; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 12px; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 12px; }
ul.warnings li { color: #8a4b00; }
.scroll { overflow-x: auto; }
table.subgroups { width: 100%; }
table.subgroups th { vertical-align: bottom; }
table.subgroups th.group { text-align: center; border-bottom: 1px solid #999; }
table.subgroups tr.heading td { font-weight: bold; padding-top: 8px; }
table.subgroups tr.overall td { font-weight: bold; }
table.subgroups td.level { padding-left: 1.6em; }
table.subgroups td.num { white-space: nowrap; }
table.kv td { word-break: break-all; }
"""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
ARMS = ("treatment", "control")


def _escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


#: A table value rounded for display (the rule of the figures' columns, too).
format_value = format_cell


def table_html(table: pd.DataFrame, *, caption: str | None = None) -> str:
    """An escaped HTML table of ``table`` with numbers rounded for display.

    Parameters
    ----------
    table : DataFrame
    caption : str, optional

    Returns
    -------
    str
        A ``<table>`` element (inside a scrolling ``<div>``).
    """
    numeric = {c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])}
    head = "".join(
        f'<th class="{"num" if c in numeric else "text"}">{_escape(c)}</th>' for c in table.columns
    )
    body = []
    for record in table.itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="{"num" if c in numeric else "text"}">'
            f"{_escape(format_value(v, str(c)))}</td>"
            for c, v in zip(table.columns, record, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    caption_html = f"<caption>{_escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table>{caption_html}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, prefix=f"{name}.")
        elif isinstance(value, list | tuple):
            yield name, ", ".join(str(v) for v in value)
        else:
            yield name, value


def _key_value_html(mapping: Mapping[str, Any]) -> str:
    rows = "".join(
        f'<tr><th class="text">{_escape(key)}</th>'
        f'<td class="text">{_escape(format_value(value, key))}</td></tr>'
        for key, value in _flatten(mapping)
    )
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


@dataclass(frozen=True)
class RenderedFigure:
    """A figure already rendered to PNG (the file written beside the report), with its
    print width: embedded as it is, without drawing the figure again."""

    png: bytes
    width_inches: float

    def get_size_inches(self) -> tuple[float, float]:
        return (self.width_inches, 0.0)

    @classmethod
    def read(cls, path: str | Path) -> RenderedFigure:
        """A PNG file written by :func:`survtdm1.plots.save_figure`, its print width
        read from its size in pixels and its resolution (the ``pHYs`` chunk)."""
        data = Path(path).read_bytes()
        width_px = int.from_bytes(data[16:20], "big")  # IHDR, the first chunk
        at = data.find(b"pHYs", 8, data.find(b"IDAT"))  # before the image data
        if not data.startswith(b"\x89PNG") or at < 0 or data[at + 12] != 1:
            raise ValueError(f"{path}: not a PNG file with its resolution in pixels per metre")
        per_metre = int.from_bytes(data[at + 4 : at + 8], "big")
        return cls(data, width_px / (per_metre * 0.0254))


def figure_data_uri(figure: Any, *, dpi: float = 150, min_width_px: int = 800) -> str:
    """A ``data:`` URI of a figure: a Figure (rendered to PNG), PNG bytes or SVG.

    Parameters
    ----------
    figure : Figure, bytes or str
        A matplotlib figure, the bytes of a PNG or SVG file, or SVG text.
    dpi : float
        Resolution used for a Figure, raised to reach ``min_width_px``.
    min_width_px : int

    Returns
    -------
    str
        ``data:image/png;base64,...`` or ``data:image/svg+xml;base64,...``;
        an SVG shown through ``<img>`` cannot run scripts.
    """
    if isinstance(figure, RenderedFigure):
        figure = figure.png
    if isinstance(figure, str):
        figure = figure.encode("utf-8")
    if isinstance(figure, bytes | bytearray):
        data = bytes(figure)
        if data.startswith(b"\x89PNG"):
            mime = "image/png"
        elif data.lstrip()[:5] in (b"<?xml", b"<svg ", b"<svg\n") or b"<svg" in data[:512]:
            mime = "image/svg+xml"
        else:
            raise ValueError("figure bytes are neither PNG nor SVG")
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    from .plots.style import house_style

    width_in = float(figure.get_size_inches()[0])
    resolution = max(float(dpi), math.ceil(min_width_px / width_in) if width_in > 0 else dpi)
    buffer = io.BytesIO()
    with house_style():
        figure.savefig(buffer, format="png", dpi=resolution, facecolor="white")
    return f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def _with_ci(estimate: Any, lower: Any, upper: Any, scale: float = 1.0, digits: int = 2) -> str:
    """ "0.51 (0.40-0.66)"; "not reached" for a missing estimate, "NR" for a missing limit."""
    if isinstance(estimate, str):
        return estimate
    return format_effect(
        estimate,
        lower,
        upper,
        scale=scale,
        digits=digits,
        missing="not reached",
        missing_limit="NR",
        separator="negative",
    )


def _p(value: Any) -> str:
    return format_p(value)


def _triple(mapping: Mapping[str, Any], key: str) -> tuple[Any, Any, Any]:
    return tuple(mapping.get(f"{key}{suffix}") for suffix in ("", "_lower", "_upper"))


def _summary_rows(result: Any) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Per-arm rows (label, treatment, control) and effect rows (label, value)."""
    overall = getattr(result, "overall", {}) or {}
    ci = f"{format_conf_level(getattr(result, 'conf_level', 0.95))} CI"
    unit = getattr(result, "time_unit", "")
    landmark = getattr(result, "landmark", None)
    tau = getattr(result, "rmst_tau", None)
    binary = getattr(result, "endpoint", "survival") == "binary"
    count = "responders" if binary else "events"
    arm_rows = [
        (label, *(format_value(overall.get(f"{key}_{arm}"), "n") for arm in ARMS))
        for label, key in (("Patients", "n"), (count.capitalize(), count))
    ]
    effects: list[tuple[str, str]] = []
    if binary:
        rates = [_with_ci(*_triple(overall, f"rate_{arm}"), 100, 1) for arm in ARMS]
        arm_rows.append((f"Response rate, % ({ci})", *rates))
        effects += [
            (f"Odds ratio ({ci})", _with_ci(*_triple(overall, "or"))),
            ("p (Wald)", _p(overall.get("p_value"))),
            (f"Rate difference, % points ({ci})", _with_ci(*_triple(overall, "rd"), 100, 1)),
        ]
        return arm_rows, effects

    arms = [overall.get(arm) or {} for arm in ARMS]
    medians = [_with_ci(*_triple(a, "median"), digits=1) for a in arms]
    arm_rows.append((f"Median, {unit} ({ci})", *medians))
    if landmark is not None:
        rates = [_with_ci(*_triple(a, "landmark"), 100, 1) for a in arms]
        arm_rows.append((f"Event-free at {landmark:g} {unit}, % ({ci})", *rates))
    if tau is not None:
        rmst = [
            "" if is_missing(a.get("rmst")) else f"{a['rmst']:.2f} ({a['rmst_se']:.2f})"
            for a in arms
        ]
        arm_rows.append((f"RMST to {tau:g} {unit} (SE)", *rmst))
    effects += [
        (f"Hazard ratio ({ci})", _with_ci(*_triple(overall, "hr"))),
        ("p (Wald)", _p(overall.get("p_value"))),
        ("p (log-rank)", _p(overall.get("p_logrank"))),
        ("Proportional hazards, p (cox.zph)", _p(overall.get("p_ph"))),
    ]
    stratified = overall.get("stratified")
    if stratified:
        strata = ", ".join(str(s) for s in stratified.get("strata", ()))
        p_values = f"{_p(stratified.get('p_value'))} / {_p(stratified.get('p_logrank'))}"
        effects += [
            (f"Stratified HR ({ci}), strata: {strata}", _with_ci(*_triple(stratified, "hr"))),
            ("Stratified p (Wald / log-rank)", p_values),
        ]
    if landmark is not None:
        difference = _with_ci(*_triple(overall, "landmark_difference"), 100, 1)
        effects.append((f"Difference at {landmark:g} {unit}, % points ({ci})", difference))
    if tau is not None:
        difference = _with_ci(*_triple(overall, "rmst_difference"))
        effects.append((f"RMST difference to {tau:g} {unit} ({ci})", difference))
    return arm_rows, effects


def subgroup_table_html(result: Any, labels: Mapping[str, str] | None = None) -> str:
    """The subgroup table as people read it: arm names over per-arm n and events,
    the effect with its CI and the p for interaction, levels under their subgroup."""
    labels = dict(labels or {})
    shown = subgroup_display(
        result.table,
        getattr(result, "overall", None),
        treatment_label=labels.get("treatment", getattr(result, "treatment_label", "")),
        control_label=labels.get("control", getattr(result, "control_label", "")),
        conf_level=getattr(result, "conf_level", 0.95),
        medians="median_treatment" in result.table.columns,
    )
    return display_html(shown)


def _overall_html(result: Any, labels: Mapping[str, str] | None = None) -> str:
    arm_rows, effects = _summary_rows(result)
    labels = labels or {}
    treatment = _escape(labels.get("treatment", getattr(result, "treatment_label", "treatment")))
    control = _escape(labels.get("control", getattr(result, "control_label", "control")))
    head = (
        f'<tr><th class="text"></th><th class="num">{treatment}</th>'
        f'<th class="num">{control}</th></tr>'
    )
    body = "".join(
        f'<tr><th class="text">{_escape(label)}</th><td class="num">{_escape(t)}</td>'
        f'<td class="num">{_escape(c)}</td></tr>'
        for label, t, c in arm_rows
    )
    effect_body = "".join(
        f'<tr><th class="text">{_escape(label)}</th><td class="num">{_escape(value)}</td></tr>'
        for label, value in effects
    )
    return (
        f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
        f"<h3>Treatment effect, all patients</h3><table><tbody>{effect_body}</tbody></table>"
    )


def render_report(
    result: Any,
    *,
    title: str,
    figures: Mapping[str, Any] | None = None,
    plan_text: str | None = None,
    provenance: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """A self-contained HTML report of a subgroup analysis.

    Parameters
    ----------
    result : SubgroupResult
        Supplies ``table``, ``overall``, ``exclusions``, ``warnings``, the arm
        labels, ``endpoint`` and ``time_unit``.
    title : str
        Document title.
    figures : mapping of str to Figure, RenderedFigure, bytes or str, optional
        Caption -> figure (a matplotlib Figure, one already rendered, PNG
        bytes or SVG), embedded
        as base64 ``data:`` images in the given order.
    plan_text : str, optional
        The analysis plan, shown verbatim (escaped).
    provenance : mapping, optional
        Version, plan path, input hash...; shown as a table (its
        ``plan_text`` is left out: the plan is shown once, above).
    labels : mapping, optional
        Arm names to show, ``{"treatment": ..., "control": ...}`` (the
        plan's ``[display]``); default the result's arm values.

    Returns
    -------
    str
        The HTML document. Nothing in it loads from the network and every
        text from data or plan is escaped (``<script>`` shows as text).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> result = SimpleNamespace(table=pd.DataFrame({"subgroup": ["<b>x</b>"]}),
    ...     overall={"hr": 0.5}, exclusions=pd.DataFrame({"reason": [], "n": []}),
    ...     warnings=(), treatment_label="A", control_label="B", endpoint="survival",
    ...     time_unit="months")
    >>> "&lt;b&gt;x&lt;/b&gt;" in render_report(result, title="Demo")
    True
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_escape(title)}</h1>",
    ]
    treatment = (labels or {}).get("treatment", getattr(result, "treatment_label", ""))
    control = (labels or {}).get("control", getattr(result, "control_label", ""))
    endpoint = getattr(result, "endpoint_name", None) or getattr(result, "endpoint", "")
    parts.append(
        f'<p class="subtitle">{_escape(treatment)} vs {_escape(control)} &middot; '
        f"endpoint: {_escape(endpoint)}</p>"
    )

    parts.append("<h2>Overall</h2>")
    parts.append(_overall_html(result, labels))

    if figures:
        parts.append("<h2>Figures</h2>")
        for caption, figure in figures.items():
            uri = figure_data_uri(figure)
            size = ""
            if hasattr(figure, "get_size_inches"):  # shown at print size, never wider than the page
                size = f' style="width: min(100%, {figure.get_size_inches()[0] * 130:.0f}px)"'
            parts.append(
                f'<figure><img src="{uri}" alt="{_escape(caption)}"{size}>'
                f"<figcaption>{_escape(caption)}</figcaption></figure>"
            )

    parts.append("<h2>Subgroups</h2>")
    table = getattr(result, "table", None)
    if table is not None and len(table) and "subgroup" in table.columns:
        parts.append(subgroup_table_html(result, labels))
        parts.append(
            '<p class="subtitle">All columns, unrounded: subgroups.csv; long form: ard.csv.</p>'
        )
    elif table is not None and len(table):
        parts.append(table_html(table))
    else:
        parts.append("<p>No subgroups.</p>")

    parts.append("<h2>Exclusions</h2>")
    exclusions = getattr(result, "exclusions", None)
    if exclusions is not None and len(exclusions):
        parts.append(table_html(exclusions))
    else:
        parts.append("<p>No rows were excluded.</p>")

    parts.append("<h2>Warnings</h2>")
    warnings = list(getattr(result, "warnings", ()) or ())
    if warnings:
        items = "".join(f"<li>{_escape(w)}</li>" for w in warnings)
        parts.append(f'<ul class="warnings">{items}</ul>')
    else:
        parts.append("<p>None.</p>")

    if plan_text is not None:
        parts.append("<h2>Analysis plan</h2>")
        parts.append(f"<pre>{_escape(plan_text)}</pre>")
    if provenance:
        parts.append("<h2>Provenance</h2>")
        shown = {k: v for k, v in provenance.items() if k != "plan_text"}
        parts.append(_key_value_html(shown))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------
# Several treatment arms: one section per comparison
# --------------------------------------------------------------------------------------


def render_comparisons_report(
    sections: Iterable[tuple[Any, Mapping[str, Any], Mapping[str, str]]],
    *,
    exclusions: pd.DataFrame,
    title: str,
    plan_text: str | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> str:
    """A self-contained HTML report of several comparisons against one control.

    Parameters
    ----------
    sections : iterable of (SubgroupResult, figures, labels)
        One per comparison, in order: its two-arm result, its figures
        (caption -> figure, as :func:`render_report`) and the arm names to
        show (``{"treatment": ..., "control": ...}``).
    exclusions : DataFrame
        The combined ledger (``reason, n, comparison``).
    title, plan_text, provenance
        As :func:`render_report`.

    Returns
    -------
    str
        One document: per comparison its overall effect, figures, subgroup
        table and warnings; then the exclusions, the plan and the provenance.
    """
    sections = list(sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_escape(title)}</h1>",
    ]
    names = [f"{labels['treatment']} vs {labels['control']}" for _, _, labels in sections]
    endpoint = getattr(sections[0][0], "endpoint_name", None) or sections[0][0].endpoint
    parts.append(
        f'<p class="subtitle">{len(sections)} comparisons: {_escape("; ".join(names))} '
        f"&middot; endpoint: {_escape(endpoint)}</p>"
    )
    for number, ((result, figures, labels), name) in enumerate(
        zip(sections, names, strict=True), 1
    ):
        shown = _Relabelled(result, labels)
        parts.append(_comparison_section(number, name, shown, figures))
    parts.append("<h2>Exclusions</h2>")
    if len(exclusions):
        parts.append(table_html(exclusions))
    else:
        parts.append("<p>No rows were excluded.</p>")
    if plan_text is not None:
        parts.append(f"<h2>Analysis plan</h2><pre>{_escape(plan_text)}</pre>")
    if provenance:
        parts.append("<h2>Provenance</h2>")
        parts.append(_key_value_html(provenance))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _comparison_section(number: int, name: str, result: Any, figures: Mapping[str, Any]) -> str:
    """Overall effect, figures, subgroup table and warnings of one comparison."""
    parts = [f"<h2>Comparison {number}: {_escape(name)}</h2>", _overall_html(result)]
    for caption, figure in figures.items():
        parts.append(
            f'<figure><img src="{figure_data_uri(figure)}" alt="{_escape(caption)}">'
            f"<figcaption>{_escape(caption)} ({_escape(name)})</figcaption></figure>"
        )
    parts.append(f"<h3>Subgroups ({_escape(name)})</h3>")
    parts.append(table_html(result.table) if len(result.table) else "<p>No subgroups.</p>")
    warnings = list(result.warnings or ())
    if warnings:
        items = "".join(f"<li>{_escape(w)}</li>" for w in warnings)
        parts.append(f'<h3>Warnings</h3><ul class="warnings">{items}</ul>')
    return "\n".join(parts)


class _Relabelled:
    """A result shown under other arm names (``[display]``); everything else as it is."""

    def __init__(self, result: Any, labels: Mapping[str, str]):
        self._result = result
        self.treatment_label = labels["treatment"]
        self.control_label = labels["control"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)
