"""House style of survtdm1 figures: fonts, sizes, colours and journal widths.

Every plotting function builds its figure inside :func:`house_style`, a
``matplotlib.rc_context``, so the user's global rcParams are never changed.
Colours come from the Okabe-Ito palette, which stays distinguishable for the
common forms of colour blindness and in greyscale print.

Widths follow the usual journal columns: a single column is about 89 mm, one
and a half columns about 120 mm and a full page about 183 mm.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

#: Okabe & Ito (2008), "Color Universal Design", in its usual order.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Arm colours: treatment blue, control vermillion (safe for colour-blind readers).
ARM_COLORS: dict[str, str] = {
    "treatment": OKABE_ITO["blue"],
    "control": OKABE_ITO["vermillion"],
}

#: Colour of reference lines, grid and secondary text.
GREY = "#6E6E6E"
LIGHT_GREY = "#D9D9D9"

MM_PER_INCH = 25.4
SINGLE_COLUMN_MM = 89.0
ONE_AND_HALF_COLUMN_MM = 120.0
FULL_PAGE_MM = 183.0

_WIDTHS_MM = {
    "single": SINGLE_COLUMN_MM,
    "column": SINGLE_COLUMN_MM,
    "one-and-half": ONE_AND_HALF_COLUMN_MM,
    "full": FULL_PAGE_MM,
    "page": FULL_PAGE_MM,
}

#: Base font size in points (journals ask for 5-8 pt at final size).
FONT_SIZE = 7.0
FONT_FAMILY = "DejaVu Sans"

#: rcParams of the house style; applied through :func:`house_style` only.
HOUSE_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE + 1,
    "axes.titleweight": "bold",
    "axes.labelsize": FONT_SIZE,
    "axes.linewidth": 0.6,
    "axes.edgecolor": "black",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=[ARM_COLORS["treatment"], ARM_COLORS["control"]]),
    "xtick.labelsize": FONT_SIZE,
    "ytick.labelsize": FONT_SIZE,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.size": 0.0,
    "ytick.minor.size": 0.0,
    "legend.fontsize": FONT_SIZE,
    "legend.frameon": False,
    "lines.linewidth": 1.0,
    "lines.solid_capstyle": "butt",
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.dpi": 200,
    "svg.fonttype": "none",
    "svg.hashsalt": "survtdm1",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "axes.unicode_minus": True,
}


def width_inches(width: str | float) -> float:
    """Figure width in inches from a journal name or a width in millimetres.

    Parameters
    ----------
    width : {"single", "column", "one-and-half", "full", "page"} or float
        A named journal width or a width in millimetres.

    Returns
    -------
    float
        The width in inches.

    Examples
    --------
    >>> round(width_inches("single"), 2)
    3.5
    >>> round(width_inches(183), 2)
    7.2
    """
    if isinstance(width, str):
        try:
            millimetres = _WIDTHS_MM[width]
        except KeyError:
            names = ", ".join(sorted(_WIDTHS_MM))
            raise ValueError(
                f"width must be one of {names} or millimetres, not {width!r}"
            ) from None
    else:
        millimetres = float(width)
        if not millimetres > 0:
            raise ValueError(f"width must be positive millimetres, not {width!r}")
    return millimetres / MM_PER_INCH


@contextlib.contextmanager
def house_style(overrides: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Context in which survtdm1 builds and saves its figures.

    The house rcParams (plus ``overrides``) hold inside the ``with`` block
    only; the caller's rcParams are restored on exit.

    Parameters
    ----------
    overrides : mapping, optional
        rcParams that replace house values (e.g. ``{"font.size": 8}``).

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with house_style():
    ...     mpl.rcParams["font.size"]
    7.0
    """
    rc = dict(HOUSE_RC)
    if overrides:
        rc.update(overrides)
    with mpl.rc_context(rc):
        yield


def arm_colors(colors: Mapping[str, str] | None = None) -> dict[str, str]:
    """The arm colours, with ``colors`` replacing the defaults it names."""
    merged = dict(ARM_COLORS)
    if colors:
        merged.update(colors)
    return merged


def font_family() -> str:
    """The concrete font family in force (the first of the generic family's list)."""
    family = mpl.rcParams["font.family"][0]
    generic = f"font.{family}"
    if generic in mpl.rcParams and mpl.rcParams[generic]:
        return str(mpl.rcParams[generic][0])
    return str(family)


def fix_tick_style(ax: Any) -> None:
    """Pin tick sizes and fonts on ``ax`` so ticks made at draw time keep the style.

    Matplotlib creates tick labels lazily when a figure is drawn, outside
    :func:`house_style`; stored tick parameters keep them in the house style.
    """
    rc = mpl.rcParams
    ax.tick_params(
        axis="both",
        which="major",
        labelsize=rc["xtick.labelsize"],
        length=rc["xtick.major.size"],
        width=rc["xtick.major.width"],
        pad=rc["xtick.major.pad"],
        labelfontfamily=font_family(),
    )
    ax.tick_params(axis="both", which="minor", length=0)


def text_width_pt(text: str, size: float | None = None, weight: str = "normal") -> float:
    """Rendered width in points of a (possibly multi-line) text in the current font.

    Measured with matplotlib's font machinery (no figure or renderer needed),
    so layouts can be sized before anything is drawn.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=size or mpl.rcParams["font.size"], weight=weight)
    widths = [
        text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0] if line else 0.0
        for line in str(text).split("\n")
    ]
    return max(widths, default=0.0)


class DisplayFigure(Figure):
    """A matplotlib Figure that shows itself as an image in Jupyter.

    IPython displays objects through their ``_repr_png_`` method, so a
    figure returned by a survtdm1 plot function shows as a picture without
    ``%matplotlib inline`` or ``plt.show()``. It is an ordinary
    :class:`~matplotlib.figure.Figure` in every other way (save it
    with ``savefig`` or :func:`~survtdm1.plots.save_figure`).

    Examples
    --------
    >>> fig = DisplayFigure(figsize=(2, 1))
    >>> fig._repr_png_()[:4]
    b'\x89PNG'
    """

    #: Resolution of the Jupyter image (the saved files use their own dpi).
    repr_dpi = 150

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(self)  # a renderer for measuring text (fig.canvas.get_renderer())

    def _render(self, fmt: str) -> bytes:
        import io

        buffer = io.BytesIO()
        with house_style():
            options: dict[str, Any] = {"format": fmt, "facecolor": "white"}
            if fmt == "png":
                options["dpi"] = self.repr_dpi
            self.savefig(buffer, **options)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self._render("png")


def new_figure(**kwargs: Any) -> DisplayFigure:
    """A :class:`DisplayFigure` (``kwargs`` as :class:`~matplotlib.figure.Figure`)."""
    return DisplayFigure(**kwargs)


def _rc(name: str) -> Any:
    import matplotlib as mpl

    return mpl.rcParams[name]
