"""Text measured and wrapped in points (fonts, no renderer needed).

The display rules for numbers, counts, p-values and effects live in
:mod:`survtdm1._text` (no matplotlib), shared with the HTML report; they are
imported here so the figures have one place to take text from.
"""

from __future__ import annotations

import re

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

from .._text import (
    NOT_ESTIMABLE,
    display_label,
    format_conf_level,
    format_count,
    format_effect,
    format_p,
)
from .._text import to_number as _number

__all__ = [
    "NOT_ESTIMABLE",
    "_number",
    "format_conf_level",
    "format_count",
    "format_effect",
    "format_p",
    "safe_text",
]


def safe_text(value: object, max_chars: int | None = None) -> str:
    """A label as a matplotlib Text shows it literally: :func:`display_label`, ``$`` escaped.

    Matplotlib reads text between two ``$`` as mathtext; an escaped dollar
    (``\\$``) is drawn as a plain ``$``.

    Examples
    --------
    >>> print(safe_text("cost $5-$10"))
    cost \\$5-\\$10
    """
    text = display_label(value) if max_chars is None else display_label(value, max_chars)
    return text.replace("$", r"\$")


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


def _fit(text: str, max_pt: float, prop: FontProperties) -> str:
    """``text`` cut with an ellipsis so that it is at most ``max_pt`` wide."""
    if _width_pt(text, prop) <= max_pt:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if _width_pt(text[:middle].rstrip() + "…", prop) <= max_pt:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"
