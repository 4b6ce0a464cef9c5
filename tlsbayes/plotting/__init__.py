"""Figures of a fit: SVG by default, PNG with matplotlib on request.

* :mod:`.svg` -- a small SVG canvas (panels, linear and log axes with round ticks, lines,
  markers, error bars, bands, contours, clipped to the panel); numpy and string formatting
  only, so drawing the three figures of a fit costs a few hundredths of a second where
  importing matplotlib alone costs ~0.4 s.
* :mod:`.svg_figures` -- the fit, corner and trace figures on that canvas (``fit.svg``...).
* :mod:`.mpl` -- the same figures drawn with matplotlib as PNG (``--figures png``, notebooks).
* :mod:`.common` -- what both share (labels, the corner's columns, contour levels, titles).

``plotting.plot_fit``, ``plot_corner``, ``plot_trace`` and ``PowerFormatter`` are the
matplotlib ones (imported on first use: importing this package does not load matplotlib);
:func:`renderer` gives the module of a format.
"""

from __future__ import annotations

from ..lazy import lazy_getattr
from .common import CORNER_BINS, CORNER_MASS, TITLE_CHAR_WIDTH, axis_label, density_levels

__all__ = ["CORNER_BINS", "CORNER_MASS", "FORMATS", "PowerFormatter", "TITLE_CHAR_WIDTH",
           "axis_label", "density_levels", "plot_corner", "plot_fit", "plot_trace", "renderer"]

#: Figure formats, the default first: ``svg`` (:mod:`.svg_figures`), ``png`` (:mod:`.mpl`).
FORMATS = ("svg", "png")


def renderer(fmt: str):
    """The module drawing figures in format ``fmt`` (one of :data:`FORMATS`): it has
    ``plot_fit``, ``plot_corner`` and ``plot_trace`` with the same arguments."""
    if fmt == "svg":
        from . import svg_figures

        return svg_figures
    if fmt == "png":
        from . import mpl

        return mpl
    raise ValueError(f"figure format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _load(owner):
    from . import mpl

    return mpl


__getattr__ = lazy_getattr(__name__, {n: "mpl" for n in ("PowerFormatter", "plot_corner",
                                                           "plot_fit", "plot_trace")},
                           globals(), _load)
