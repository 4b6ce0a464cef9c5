"""The PNG figures (``--figures png``, notebooks): corner plot, data with posterior bands and
residuals, trace plot, drawn with matplotlib (the default SVG figures: :mod:`.svg_figures`).

Free functions that take arrays (the fit figure: a :class:`tlsbayes.results.curves.FitCurves`,
no model) and a path, and write one PNG each.  Figures are drawn on matplotlib's Agg canvas
directly (no pyplot: no global figure registry to close, no backend selection), and the corner
plot is drawn here (:func:`plot_corner`) rather than by the
``corner`` package, which imports ArviZ (seconds) and draws what tlsbayes needs more slowly.
No figure uses ``tight_layout``: it renders every figure twice to measure its text.

Drawing is kept cheap (a fit's figures used to cost more than its sampling): matplotlib's cost
is per object, mostly tick objects (each a handful of lines and texts) and axes, so an axis
that shows no labels is switched off rather than given empty ticks, the outer axes get their
few ticks from a fixed locator computed once per parameter, titles are placed at a fixed
height (matplotlib otherwise measures every axis below them to place them), walker traces are
one line collection per panel and so are the corner plot's contours (from contourpy, without
a ContourSet), labels are plain text (mathtext's parser is slow to build),
and the PNG is written with fast zlib compression (the files are ~2 % larger).
"""

from __future__ import annotations

import math

import numpy as np
from contourpy import contour_generator
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator

from .common import (CORNER_BINS, CORNER_MASS, axis_label, corner_columns, corner_title,
                     density_levels, power_label)

__all__ = ["CORNER_BINS", "CORNER_MASS", "PowerFormatter", "axis_label", "density_levels",
           "plot_corner", "plot_fit", "plot_trace"]


def _new_figure(figsize) -> Figure:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path, dpi) -> None:
    # format given: the atomic writer hands us a temporary name without the .png suffix;
    # zlib level 1: a third of the default's time for files ~2 % larger
    fig.savefig(path, dpi=dpi, format="png", pil_kwargs={"compress_level": 1})


class PowerFormatter(LogFormatter):
    """Log-axis tick labels as plain text, ``10⁶`` and ``3×10⁻⁵``: the labels matplotlib's
    default writes in mathtext, whose parser costs more to build than the whole figure.
    Which ticks are labelled is matplotlib's choice (:class:`matplotlib.ticker.LogFormatter`:
    decades only over many decades, some minor ticks too over few)."""

    def __call__(self, x, pos=None):
        if not x > 0:
            return ""
        m = round(x / 10.0 ** math.floor(math.log10(x) + 1e-9), 6)
        if self.labelOnlyBase and m != 1:
            return ""
        subs = getattr(self, "_sublabels", None)
        if subs is not None and round(m) not in subs:
            return ""
        return power_label(x)


def _log_axis(ax, which: str) -> None:
    """A log scale on the ``which`` (``"x"`` or ``"y"``) axis of ``ax``, labelled by
    :class:`PowerFormatter`."""
    ax.set(**{f"{which}scale": "log"})
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(PowerFormatter())
    axis.set_minor_formatter(PowerFormatter())


def _ticks(lo: float, hi: float, nbins: int = 4) -> np.ndarray:
    """At most ``nbins + 1`` round tick positions inside [lo, hi] (computed once per
    parameter and fixed: no locator runs per panel at draw time)."""
    t = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return t[(t >= lo) & (t <= hi)]


def _corner_diagonal(ax, col, rng, label, width_pt=math.inf):
    """1-D histogram with the 16/50/84 % quantiles and the median +- title.

    A title wider than the panel (``width_pt``, points) would run over the panel to its left;
    it is split after ``=`` instead: the space above a diagonal panel is empty.
    """
    counts, edges = np.histogram(col, bins=CORNER_BINS, range=rng)
    ax.stairs(counts, edges, color="k", lw=1.0)
    title, quantiles = corner_title(col, label, width_pt)
    for q in quantiles:
        ax.axvline(q, color="k", ls="--", lw=0.8)
    # y given: at a fixed height (matplotlib otherwise measures the axes to place it)
    ax.set_title(title, fontsize=8, y=1.0, linespacing=1.1)
    ax.set_ylim(0, 1.1 * max(counts.max(), 1))


def _corner_pair(ax, x, y, xr, yr):
    """2-D histogram (grey) with the contours of :data:`CORNER_MASS`."""
    counts, xe, ye = np.histogram2d(x, y, bins=CORNER_BINS, range=[xr, yr])
    ax.pcolormesh(xe, ye, counts.T, cmap="Greys", shading="flat", rasterized=True)
    levels = np.unique(density_levels(counts))
    if levels.size and counts.max() > levels[0]:
        xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
        # the contour lines from contourpy (what ax.contour uses) as one line collection:
        # a ContourSet's bookkeeping costs more than the lines
        gen = contour_generator(xc, yc, counts.T, line_type="Separate")
        lines = [line for level in levels for line in gen.lines(float(level))]
        ax.add_collection(LineCollection(lines, colors="k", linewidths=0.8), autolim=False)


def plot_corner(samples, names, path, *, param_info=None, log_params=(), truths=None,
                title=None):
    """Corner plot of posterior samples: histograms on the diagonal, 2-D histograms with the
    1- and 2-sigma highest-density contours (:data:`CORNER_MASS`) below it.

    Parameters
    ----------
    samples : ndarray, shape (nsamples, nparams)
        Physical values.
    names : sequence of str
        Parameter names (columns of ``samples``).
    path : path-like
        Output PNG.
    param_info : dict, optional
        ``name -> Parameter`` for labels and units.
    log_params : iterable of str
        Parameters shown as log10 (those with log-uniform priors).
    truths : dict, optional
        ``name -> value`` drawn as lines (e.g. the simulation truth or the paper's value).
    title : str, optional
        Figure title (the card and group).

    Returns
    -------
    matplotlib.figure.Figure
        The figure written (its axes: the ``k (k + 1) / 2`` panels, row by row).
    """
    info = param_info or {}
    cols, labels, tr, ranges = corner_columns(samples, names, info, set(log_params), truths)
    ticks = [_ticks(*r) for r in ranges]
    k = len(cols)
    size = 1.9 * k + 0.9
    fig = _new_figure((size, size + (0.4 if title else 0.0)))
    top = 1 - (0.75 if title else 0.35) / (size + (0.4 if title else 0.0))
    # the right margin leaves room for the last diagonal title, wider than its panel
    left, right, gap = 0.9 / size + 0.04, 1 - 0.8 / size, 0.06
    grid = fig.add_gridspec(k, k, left=left, right=right,
                            bottom=0.9 / size + 0.04, top=top, wspace=gap, hspace=gap)
    panel_pt = 72 * (right - left) * size / (k + (k - 1) * gap)
    if title:
        fig.suptitle(title, y=0.995, va="top", fontsize=11)
    for i in range(k):
        for j in range(i + 1):
            ax = fig.add_subplot(grid[i, j])
            if i == j:
                _corner_diagonal(ax, cols[i], ranges[i], labels[i], panel_pt)
            else:
                _corner_pair(ax, cols[j], cols[i], ranges[j], ranges[i])
                ax.set_ylim(ranges[i])
                if tr[i] is not None:
                    ax.axhline(tr[i], color="tab:red", lw=1.0)
            ax.set_xlim(ranges[j])
            if tr[j] is not None:
                ax.axvline(tr[j], color="tab:red", lw=1.0)
            # Ticks only on the outer edges: the panels of a column (row) share its axis, and
            # matplotlib's tick objects cost more than everything else drawn here; an inner
            # axis is switched off (no tick objects at all), an outer one gets fixed ticks.
            if i == k - 1:
                ax.set_xticks(ticks[j])
                ax.tick_params(axis="x", labelsize=7, labelrotation=45)
                ax.set_xlabel(labels[j], fontsize=9)
            else:
                ax.xaxis.set_visible(False)
            if j == 0 and i > 0:
                ax.set_yticks(ticks[i])
                ax.tick_params(axis="y", labelsize=7)
                ax.set_ylabel(labels[i], fontsize=9)
            else:
                ax.yaxis.set_visible(False)
    _save(fig, path, 110)
    return fig


def plot_trace(chain, names, path, *, burn=0, max_walkers=16, labels=None, title=None):
    """Walker traces, one panel per parameter, with the discarded burn-in shaded.

    Parameters
    ----------
    chain : ndarray, shape (nsteps, nwalkers, ndim)
        Full chain, in the coordinates ``labels`` name (the caller converts it to those of
        the corner plot).
    names : sequence of str
    path : path-like
    burn : int
        Steps discarded as burn-in.
    labels : sequence of str, optional
        Axis label per parameter (default: the names).
    title : str, optional
        Figure title (the card and group).
    """
    nsteps, nw, nd = chain.shape
    height = 1.6 * nd + 0.6 + (0.3 if title else 0.0)
    fig = _new_figure((8, height))
    axes = fig.subplots(nd, 1, squeeze=False)
    fig.subplots_adjust(left=0.12, right=0.98, top=1 - (0.5 if title else 0.15) / height,
                        bottom=0.55 / height, hspace=0.12)
    idx = np.linspace(0, nw - 1, min(nw, max_walkers)).astype(int)
    # at most ~2 points per pixel of the 8-inch panel: a longer chain draws the same picture
    # at a fraction of the cost (drawing the lines is most of the figure's time)
    stride = max(1, nsteps // 1600)
    steps = np.arange(0, nsteps, stride)
    xlim = (-0.02 * nsteps, 1.02 * nsteps)
    colors = [f"C{i % 10}" for i in range(idx.size)]  # matplotlib's colour cycle
    for k, ax in enumerate(axes[:, 0]):
        y = chain[::stride, idx, k]  # (steps, walkers)
        # one collection of the walkers' lines, not one line object each
        segments = np.stack([np.broadcast_to(steps[:, None], y.shape), y], axis=-1)
        ax.add_collection(LineCollection(segments.transpose(1, 0, 2), colors=colors,
                                         linewidths=0.4, alpha=0.6), autolim=False)
        lo, hi = float(np.nanmin(y)), float(np.nanmax(y))
        pad = 0.05 * (hi - lo) if hi > lo else 0.5
        ax.set_xlim(xlim)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_yticks(_ticks(lo - pad, hi + pad, 5))
        ax.set_ylabel(labels[k] if labels is not None else names[k], fontsize=8)
        if burn:
            ax.axvspan(0, burn, color="0.85", zorder=-1)
        if k < nd - 1:  # the panels share the step axis: one set of ticks, at the bottom
            ax.xaxis.set_visible(False)
    axes[-1, 0].set_xticks(_ticks(0, nsteps, 6))
    axes[-1, 0].set_xlabel("step")
    if title:
        fig.suptitle(title, fontsize=10)
    _save(fig, path, 100)


def plot_fit(curves, path):
    """Data with the posterior median curve, 68 % and 95 % bands, and residuals.

    Draws only what ``curves`` holds (no model is evaluated here).

    Parameters
    ----------
    curves : tlsbayes.results.curves.FitCurves
        What the figure shows, from :func:`tlsbayes.results.curves.fit_curves` (or read back
        from a run directory): one column of two panels per data set.
    path : path-like
        Output PNG.
    """
    nds = len(curves.datasets)
    fig = _new_figure((5.2 * nds, 5.8))
    axes = fig.subplots(2, nds, squeeze=False, gridspec_kw={"height_ratios": [3, 1]})
    fig.subplots_adjust(left=0.16 / nds + 0.02, right=0.98, top=0.88 if curves.title else 0.94,
                        bottom=0.09, wspace=0.3, hspace=0.25)
    for j, c in enumerate(curves.datasets):
        ax, axr = axes[0, j], axes[1, j]
        q = c.band
        ax.fill_between(c.x_grid, q[0], q[4], color="tab:blue", alpha=0.18, lw=0, label="95 %")
        ax.fill_between(c.x_grid, q[1], q[3], color="tab:blue", alpha=0.35, lw=0, label="68 %")
        ax.plot(c.x_grid, q[2], color="tab:blue", lw=1.4, label="posterior median")
        ax.errorbar(c.x, c.y, yerr=c.sigma if c.error_bars else None,
                    fmt="o", ms=3, color="k", lw=0.8, label="data")
        axr.axhline(0, color="0.5", lw=0.8)
        axr.plot(c.x, c.residual, "o", ms=3, color="k")
        axr.set_ylabel(c.residual_label)
        for a in (ax, axr):
            if c.log_x:
                _log_axis(a, "x")
        if c.log_y:
            _log_axis(ax, "y")
        ax.set_ylabel(c.y_label)
        ax.set_title(c.title, fontsize=9, y=1.0)
        axr.set_xlabel(c.x_label)
        ax.legend(fontsize=8)
    if curves.title:
        fig.suptitle(curves.title, fontsize=11)
    _save(fig, path, 110)
