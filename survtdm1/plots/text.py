"""Display text of the figures: numbers, counts, p-values and effects with their CI,
and text measured and wrapped in points (no renderer needed).

The formatting rules are shared by the forest plot, the KM annotation and the
HTML report, so a p-value or a count reads the same everywhere.
"""

from __future__ import annotations

import math
import re
from typing import Any

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

__all__ = ["NOT_ESTIMABLE", "format_count", "format_effect", "format_p"]


NOT_ESTIMABLE = "NE"


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def format_count(value: Any) -> str:
    """A count as an integer string; text (e.g. a suppressed "<5") as it is; empty when missing.

    Examples
    --------
    >>> [format_count(v) for v in (12, 12.0, "<5", float("nan"), None)]
    ['12', '12', '<5', '', '']
    """
    if isinstance(value, str):
        return value
    number = _number(value)
    return f"{number:.0f}" if math.isfinite(number) else ""


def format_p(value: float) -> str:
    """A p-value for display: "<0.001", three decimals below 0.1, else two."""
    if not math.isfinite(value):
        return ""
    if value < 0.001:
        return "<0.001"
    if value < 0.1:
        return f"{value:.3f}"
    return f"{value:.2f}"


def format_effect(estimate: float, lower: float, upper: float, *, scale: float = 1.0) -> str:
    """An estimate with its CI, e.g. "0.52 (0.38–0.71)"; "NE" when not estimable.

    Examples
    --------
    >>> format_effect(0.5234, 0.381, 0.7102)
    '0.52 (0.38–0.71)'
    >>> format_effect(float("nan"), float("nan"), float("nan"))
    'NE'
    """
    if not math.isfinite(estimate):
        return NOT_ESTIMABLE

    def one(value: float) -> str:
        if not math.isfinite(value):
            return NOT_ESTIMABLE
        value *= scale
        digits = 1 if scale != 1.0 else 2
        return f"{value:.{digits}f}"

    separator = " to " if scale != 1.0 else "–"
    return f"{one(estimate)} ({one(lower)}{separator}{one(upper)})"


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(size=size, weight=weight)


def _width_pt(text: str, prop: FontProperties) -> float:
    """Rendered width of a (possibly multi-line) text in points."""
    widths = [
        text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0] if line else 0.0
        for line in text.split("\n")
    ]
    return max(widths, default=0.0)


def _wrap(text: str, max_pt: float, prop: FontProperties) -> str:
    """Break ``text`` at spaces and after hyphens or slashes to fit ``max_pt``.

    A single word wider than ``max_pt`` stays whole (its column widens) unless
    it is wider than twice ``max_pt``, when it is cut.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        tokens = [
            piece
            for word in re.findall(r"\S+\s*|\s+", paragraph)
            for piece in re.split(r"(?<=\w{3}[-/])", word)
            if piece
        ]
        current = ""
        for token in tokens:
            candidate = current + token
            if not current or _width_pt(candidate.rstrip(), prop) <= max_pt:
                current = candidate
            else:
                lines.append(current.rstrip())
                current = token.lstrip()
            while _width_pt(current.rstrip(), prop) > 2 * max_pt and len(current) > 1:
                cut = len(current) - 1
                while cut > 1 and _width_pt(current[:cut], prop) > max_pt:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current.rstrip())
    return "\n".join(lines)
