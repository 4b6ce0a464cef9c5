"""The figures of a fit as SVG (the default of ``tlsbayes fit``/``report``): the data with the
posterior fit, the corner plot and the walker traces, drawn on :mod:`.svg`'s canvas.

Same content, layout and sizes (pt = matplotlib's inches x 72) as the PNGs of :mod:`.mpl`, with
the same arguments, so :func:`tlsbayes.plotting.renderer` can hand either to the report; they
return the :class:`~.svg.Canvas` written.
"""

from __future__ import annotations

import math

import numpy as np
from contourpy import contour_generator

from .common import CORNER_BINS, CORNER_MASS, corner_columns, corner_title, density_levels
from .svg import COLORS, Canvas, linear_ticks

__all__ = ["plot_corner", "plot_fit", "plot_trace"]

#: Inch, in pt: the layouts below are matplotlib's (figure sizes in inches).
INCH = 72.0
RED = COLORS[3]


def _corner_layout(k, title):
    """Page size and panel geometry of a ``k``-parameter corner plot (pt):
    ``(width, height, left, top, panel, step)`` with panel ``step = panel x (1 + gap)``."""
    size = 1.9 * k + 0.9
    height = size + (0.4 if title else 0.0)
    left = (0.9 / size + 0.04) * size
    # the right margin leaves room for the last diagonal title, wider than its panel
    right = (1 - 0.8 / size) * size
    top = (0.75 if title else 0.35)
    gap = 0.06
    panel = (right - left) / (k + (k - 1) * gap)
    return (size * INCH, height * INCH, left * INCH, top * INCH, panel * INCH,
            panel * (1 + gap) * INCH)


def _corner_diagonal(canvas, box, col, rng, label, truth):
    """1-D histogram, the 16/50/84 % quantiles and the median +- title; the panel."""
    counts, edges = np.histogram(col, bins=CORNER_BINS, range=rng)
    p = canvas.panel(*box, rng, (0.0, 1.1 * max(counts.max(), 1)))
    p.steps(counts, edges, width=1.0)
    title, quantiles = corner_title(col, label, p.box[2])
    for q in quantiles:
        p.vline(q, width=0.8, dash=(3.7, 1.6))
    if truth is not None:
        p.vline(truth, color=RED, width=1.0)
    p.title(title, size=8, gap=3.0)
    return p


def _corner_pair(canvas, box, x, y, xr, yr):
    """2-D histogram (grey) with the contours of :data:`.common.CORNER_MASS`, each a path of
    class ``contour mass-<percent>`` (``mass-39.3``, ``mass-86.5``); the panel."""
    p = canvas.panel(*box, xr, yr)
    counts, xe, ye = np.histogram2d(x, y, bins=CORNER_BINS, range=[xr, yr])
    p.cells(xe, ye, counts)
    levels = density_levels(counts)
    if counts.max() > levels.min():
        xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
        gen = contour_generator(xc, yc, counts.T, line_type="Separate")
        drawn = set()
        for mass, level in zip(CORNER_MASS, levels.tolist()):
            if level not in drawn:  # two masses at one level: one line
                drawn.add(level)
                p.lines(gen.lines(level), width=0.8, cls=f"contour mass-{100 * mass:.1f}")
    return p


def plot_corner(samples, names, path, *, param_info=None, log_params=(), truths=None,
                title=None):
    """Corner plot of posterior samples as SVG: histograms on the diagonal, 2-D histograms
    with the 1- and 2-sigma highest-density contours below it (see
    :func:`tlsbayes.plotting.mpl.plot_corner`, same arguments).

    Returns
    -------
    Canvas
        The figure written (its panels row by row, ``k (k + 1) / 2`` of them).
    """
    info = param_info or {}
    cols, labels, tr, ranges = corner_columns(samples, names, info, set(log_params), truths)
    ticks = [linear_ticks(*r, nbins=4) for r in ranges]
    k = len(cols)
    width, height, left, top, panel, step = _corner_layout(k, title)
    canvas = Canvas(width, height, prefix="corner")
    if title:
        canvas.text(width / 2, 0.3 * INCH, title, size=11)
    for i in range(k):
        for j in range(i + 1):
            box = (left + j * step, top + i * step, panel, panel)
            if i == j:
                p = _corner_diagonal(canvas, box, cols[i], ranges[i], labels[i], tr[i])
            else:
                p = _corner_pair(canvas, box, cols[j], cols[i], ranges[j], ranges[i])
                if tr[i] is not None:
                    p.hline(tr[i], color=RED, width=1.0)
                if tr[j] is not None:
                    p.vline(tr[j], color=RED, width=1.0)
            # ticks on the outer edges only: the panels of a column (row) share its axis
            if i == k - 1:
                p.xaxis(labels[j], ticks=ticks[j], size=7, rotate=45)
            if j == 0 and i > 0:
                p.yaxis(labels[i], ticks=ticks[i], size=7)
    canvas.write(path)
    return canvas


#: Points drawn per walker at most: about two per pt of the 8-inch trace panel's width.
TRACE_POINTS = 800


def plot_trace(chain, names, path, *, burn=0, max_walkers=16, labels=None, title=None):
    """Walker traces as SVG, one panel per parameter, the discarded burn-in shaded (see
    :func:`tlsbayes.plotting.mpl.plot_trace`, same arguments).

    Returns
    -------
    Canvas
        The figure written (one panel per parameter).
    """
    nsteps, nw, nd = chain.shape
    height = (1.6 * nd + 0.6 + (0.3 if title else 0.0)) * INCH
    width = 8 * INCH
    top, bottom = (0.5 if title else 0.15) * INCH, height - 0.55 * INCH
    left, right = 0.12 * width, 0.98 * width
    ph = (bottom - top) / (nd + (nd - 1) * 0.12)
    idx = np.linspace(0, nw - 1, min(nw, max_walkers)).astype(int)
    # a longer chain draws the same picture: the panel shows ~2 points per pt at most
    stride = max(1, math.ceil(nsteps / TRACE_POINTS))
    steps = np.arange(0, nsteps, stride, dtype=float)
    xlim = (-0.02 * nsteps, 1.02 * nsteps)
    canvas = Canvas(width, height, prefix="trace")
    for k in range(nd):
        y = chain[::stride, idx, k]  # (steps, walkers)
        lo, hi = float(np.nanmin(y)), float(np.nanmax(y))
        pad = 0.05 * (hi - lo) if hi > lo else 0.5
        p = canvas.panel(left, top + k * ph * 1.12, right - left, ph, xlim,
                         (lo - pad, hi + pad))
        if burn:
            p.vspan(0, burn)
        for c in range(min(len(COLORS), idx.size)):  # one element per colour of the cycle
            p.lines([np.column_stack([steps, y[:, w]]) for w in range(c, idx.size, 10)],
                    color=COLORS[c], width=0.4, opacity=0.6)
        p.yaxis(labels[k] if labels is not None else names[k], ticks=linear_ticks(
            lo - pad, hi + pad, 5), label_size=8)
        if k == nd - 1:  # the panels share the step axis: one set of ticks, at the bottom
            p.xaxis("step", ticks=linear_ticks(0, nsteps, 6), size=8, label_size=10)
    if title:
        canvas.text(width / 2, 0.3 * INCH, title, size=10)
    canvas.write(path)
    return canvas


def _limits(arrays, log, margin=0.05):
    """Axis limits around the finite (on a log axis: positive) values of ``arrays`` with
    matplotlib's 5 % margins (in log10 on a log axis)."""
    v = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])
    v = v[np.isfinite(v) & (v > 0)] if log else v[np.isfinite(v)]
    if v.size == 0:
        return (1.0, 10.0) if log else (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    span = hi - lo if hi > lo else (abs(lo) * 0.1 or 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    return (10.0 ** lo, 10.0 ** hi) if log else (lo, hi)


def _fit_column(canvas, c, left, width, top, heights):
    """One data set's column: data, bands and median curve above, residuals below."""
    h_top, h_gap, h_res = heights
    blue = COLORS[0]
    err = c.sigma if c.error_bars else np.zeros_like(c.y)
    xlim = _limits([c.x_grid, c.x], c.log_x)
    ylim = _limits([c.band, c.y - err, c.y + err], c.log_y)
    p = canvas.panel(left, top, width, h_top, xlim, ylim, logx=c.log_x, logy=c.log_y)
    p.band(c.x_grid, c.band[0], c.band[4], blue, opacity=0.18)
    p.band(c.x_grid, c.band[1], c.band[3], blue, opacity=0.35)
    p.line(c.x_grid, c.band[2], color=blue, width=1.4)
    if c.error_bars:
        p.errorbars(c.x, c.y, c.sigma, width=0.8)
    p.markers(c.x, c.y, size=4.0)
    p.xaxis(None, size=9)
    p.yaxis(c.y_label, size=9, label_size=10)
    p.title(c.title, size=9, gap=4.0)
    p.legend([("band", (blue, 0.18), "95 %"), ("band", (blue, 0.35), "68 %"),
              ("line", blue, "posterior median"), ("marker", "black", "data")],
             avoid=[(c.x, c.y), (c.x_grid, c.band[2])])
    r = canvas.panel(left, top + h_top + h_gap, width, h_res, xlim,
                     _limits([c.residual, [0.0]], False), logx=c.log_x)
    r.hline(0.0, color="#808080", width=0.8)
    r.markers(c.x, c.residual, size=4.0, label="residuals")
    r.xaxis(c.x_label, size=9, label_size=10)
    r.yaxis(c.residual_label, size=9, label_size=10)
    return p, r


def plot_fit(curves, path):
    """Data with the posterior median curve, 68 % and 95 % bands, and residuals, as SVG (see
    :func:`tlsbayes.plotting.mpl.plot_fit`, same arguments).

    Parameters
    ----------
    curves : tlsbayes.results.curves.FitCurves
        What the figure shows: one column of two panels per data set.
    path : path-like or binary file

    Returns
    -------
    Canvas
        The figure written (two panels per data set: data above, residuals below).
    """
    nds = len(curves.datasets)
    width, height = 5.2 * nds * INCH, 5.8 * INCH
    # matplotlib's subplots_adjust of the PNG: fractions of the page, panels 3:1 in height
    left, right = (0.16 / nds + 0.02) * width, 0.98 * width
    top, bottom = (1 - (0.88 if curves.title else 0.94)) * height, (1 - 0.09) * height
    col = (right - left) / (nds + (nds - 1) * 0.3)
    unit = (bottom - top) / (4 + 2 * 0.25)  # hspace 0.25 of the mean panel height (2 units)
    canvas = Canvas(width, height, prefix="fit")
    for j, c in enumerate(curves.datasets):
        _fit_column(canvas, c, left + j * col * 1.3, col, top, (3 * unit, 0.5 * unit, unit))
    if curves.title:
        canvas.text(width / 2, 0.3 * INCH, curves.title, size=11)
    canvas.write(path)
    return canvas
