"""What the SVG and the matplotlib figures share: parameter axis labels, the corner plot's
columns, contour levels and titles.  numpy only (no matplotlib), so
the SVG figures import none of it.
"""

from __future__ import annotations

import math

import numpy as np

_SUPERSCRIPT = str.maketrans("-0123456789", "\N{SUPERSCRIPT MINUS}⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_label(x: float) -> str:
    """``x > 0`` as plain text, ``10⁶`` or ``3×10⁻⁵`` (a log axis's tick label; plain text,
    not mathtext, whose parser costs more to build than a whole figure); ``""`` otherwise."""
    if not x > 0:
        return ""
    e = math.floor(math.log10(x) + 1e-9)
    m = round(x / 10.0**e, 6)
    exp = str(e).translate(_SUPERSCRIPT)
    return f"10{exp}" if m == 1 else f"{m:g}×10{exp}"


#: Probability mass inside the corner plot's contours: the 1-sigma and 2-sigma regions of a
#: 2-D Gaussian, 1 - exp(-r^2 / 2) at r = 1, 2 (the levels the ``corner`` package draws).
CORNER_MASS = (1.0 - math.exp(-0.5), 1.0 - math.exp(-2.0))
#: Histogram bins per axis of the corner plot.
CORNER_BINS = 24
#: Width of a character of the corner titles, in font sizes (DejaVu Sans averages ~0.55; a
#: title of more characters than fit its panel is split in two lines).
TITLE_CHAR_WIDTH = 0.6


def axis_label(info, name, log):
    """Axis label of parameter ``name``: the name the summary table uses and its unit,
    ``log10`` in front if ``log`` (the same label in the corner and trace plots, so that each
    parameter has one name and one coordinate across the report)."""
    p = info.get(name)
    unit = p.unit if p is not None else ""
    lab = f"log10 {name}" if log else name
    return f"{lab} [{unit}]" if unit and unit not in ("", "y") else lab


def density_levels(counts: np.ndarray, masses=CORNER_MASS) -> np.ndarray:
    """Histogram heights whose super-level sets hold the given fractions of the draws.

    Parameters
    ----------
    counts : ndarray
        Histogram counts (any shape).
    masses : sequence of float
        Fractions in (0, 1).

    Returns
    -------
    ndarray, shape (len(masses),)
        For each mass m, the largest height h such that the cells with ``counts >= h`` hold at
        least a fraction m of all draws (the highest-density region of the histogram).
    """
    flat = np.sort(np.asarray(counts, dtype=float).ravel())[::-1]
    cum = np.cumsum(flat)
    total = cum[-1] if cum.size else 0.0
    out = np.empty(len(masses))
    for k, m in enumerate(masses):
        i = min(int(np.searchsorted(cum, m * total)), flat.size - 1)
        out[k] = flat[i]
    return out


def corner_columns(samples, names, info, log_params, truths):
    """The corner plot's columns: ``(columns, labels, truths, ranges)``, one entry per
    parameter, each column log10 where asked (and positive), its truth in the same
    coordinate (or None) and its plotted range (the central 99.9 % of the draws)."""
    cols, labels, tr, ranges = [], [], [], []
    for i, n in enumerate(names):
        col = np.asarray(samples[:, i], dtype=float)
        lg = n in log_params and np.all(col > 0)
        col = np.log10(col) if lg else col
        cols.append(col)
        labels.append(axis_label(info, n, lg))
        t = None if truths is None else truths.get(n)
        tr.append(None if t is None else (math.log10(t) if lg and t > 0 else t))
        # the central 99.9 % (as the corner package's range=0.999): one stray draw must not
        # squeeze the posterior into a corner of its panel
        lo, hi = (float(v) for v in np.quantile(col, [0.0005, 0.9995]))
        # a parameter that does not move still gets an axis
        ranges.append((lo - 0.5, hi + 0.5) if hi == lo else (lo, hi))
    return cols, labels, tr, ranges


def corner_title(col, label, width_pt=math.inf, fontsize=8.0):
    """The title of a corner diagonal panel, ``label = median +hi −lo`` (16/50/84 %), and
    those three quantiles.

    A title wider than the panel (``width_pt``, points) would run over the panel to its left;
    it is split after ``=`` instead (a ``\\n`` in the text): the space above a diagonal panel is
    empty.  Plain text, not mathtext: parsing a TeX superscript costs more than the panel.

    Returns
    -------
    title : str
    quantiles : ndarray, shape (3,)
        The 16, 50 and 84 % quantiles of ``col``.
    """
    q = np.quantile(col, [0.16, 0.5, 0.84])
    q16, q50, q84 = q
    value = f"{q50:.3g} +{q84 - q50:.2g} \N{MINUS SIGN}{q50 - q16:.2g}"
    wide = (len(label) + 3 + len(value)) * TITLE_CHAR_WIDTH * fontsize > width_pt
    return f"{label} ={chr(10) if wide else ' '}{value}", q
