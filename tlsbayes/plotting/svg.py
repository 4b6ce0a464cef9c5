"""A small SVG canvas: panels with linear or log axes, lines, markers, error bars, bands,
histograms, grey cells and contour lines, clipped to their panel; text XML-escaped.

Why not matplotlib: importing its Agg canvas alone costs ~0.4 s CPU, more than the whole fit's
other fixed costs; the three figures of a fit written here cost a few hundredths of a second
(numpy and string formatting) and are vector graphics any browser shows.

Coordinates: the API takes data values (a :class:`Panel`) or page points (a :class:`Canvas`,
origin top left, y down, 1 pt = 1/72 inch, as matplotlib's figure sizes x 72).  The file is
written in tenths of a point (``viewBox`` 10x the ``width``/``height`` in pt), so that every
coordinate is an integer: formatting integers is the cheapest way to write many points, and
0.1 pt (0.035 mm) is below what a printer or a screen resolves.  The output is deterministic:
the same figure gives the same bytes (clip ids are numbered per canvas, with its ``prefix`` so
that several figures can share one HTML page).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

from .common import power_label

__all__ = ["Axis", "COLORS", "Canvas", "Panel", "escape", "linear_ticks", "log_ticks",
           "text_width"]

#: matplotlib's default colour cycle ("C0".."C9"), so that both renderers look alike.
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
FONT = "DejaVu Sans, Bitstream Vera Sans, Verdana, Arial, Helvetica, sans-serif"
#: Average glyph width of :data:`FONT` in font sizes (layout estimates: no text is measured).
CHAR_WIDTH = 0.58
#: Tick length and tick-to-label gap, pt (matplotlib's defaults).
TICK, PAD = 3.5, 3.5
_MINUS = "\N{MINUS SIGN}"


def escape(text) -> str:
    """``text`` safe inside an XML element or a quoted attribute (``& < > " '``)."""
    return html.escape(str(text), quote=True)


def text_width(text: str, size: float) -> float:
    """Estimated width in pt of one line of ``text`` at font size ``size``."""
    return len(text) * CHAR_WIDTH * size


def _d(v: float) -> str:
    """One page coordinate (pt) in the file's units (0.1 pt), an integer."""
    return str(int(round(v * 10.0)))


def _points(px: np.ndarray, py: np.ndarray) -> str:
    """``"x,y x,y ..."`` of page coordinates (pt) in the file's units."""
    xi = np.rint(np.asarray(px, dtype=float) * 10.0).astype(np.int64).tolist()
    yi = np.rint(np.asarray(py, dtype=float) * 10.0).astype(np.int64).tolist()
    return " ".join(f"{a},{b}" for a, b in zip(xi, yi))


def _polyline(px: np.ndarray, py: np.ndarray) -> str:
    """Path data ``Mx,y l dx,dy dx,dy ...`` of a polyline through page points (pt): the first
    point absolute, then steps between the points rounded to the file's units (exact: no
    rounding error accumulates), ~40 % shorter than absolute points."""
    xi = np.rint(np.asarray(px, dtype=float) * 10.0).astype(np.int64)
    yi = np.rint(np.asarray(py, dtype=float) * 10.0).astype(np.int64)
    steps = " ".join(f"{a},{b}" for a, b in zip(np.diff(xi).tolist(), np.diff(yi).tolist()))
    return f"M{xi[0]},{yi[0]}l{steps}"


def _runs(px: np.ndarray, py: np.ndarray):
    """The runs of consecutive finite points (a NaN or an infinity breaks a line)."""
    ok = np.isfinite(px) & np.isfinite(py)
    if ok.all():
        yield px, py
        return
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.view(np.int8), [0]))))
    for a, b in zip(edges[::2], edges[1::2]):
        yield px[a:b], py[a:b]


def _style(color="black", width=None, opacity=None, dash=None, fill="none") -> str:
    out = [f'fill="{fill}"']
    if width is not None:
        out.append(f'stroke="{color}" stroke-width="{width * 10:g}"')
    if opacity is not None:
        out.append(f'opacity="{opacity:g}"')
    if dash:
        out.append(f'stroke-dasharray="{" ".join(f"{d * 10:g}" for d in dash)}"')
    return " ".join(out)


def _text(x, y, text, size, anchor="middle", rotate=None, color=None, line_height=1.2):
    """An SVG ``<text>`` at page point (x, y) (its baseline); lines split at ``\\n`` go down."""
    lines = str(text).split("\n")
    attrs = f'x="{_d(x)}" y="{_d(y)}" font-size="{size * 10:g}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if rotate:
        attrs += f' transform="rotate({rotate:g} {_d(x)} {_d(y)})"'
    if color:
        attrs += f' fill="{color}"'
    if len(lines) == 1:
        return f"<text {attrs}>{escape(lines[0])}</text>"
    dy = _d(line_height * size)
    spans = "".join(f'<tspan x="{_d(x)}"{"" if i == 0 else f" dy={chr(34)}{dy}{chr(34)}"}>'
                    f"{escape(s)}</tspan>" for i, s in enumerate(lines))
    return f"<text {attrs}>{spans}</text>"


def linear_ticks(lo: float, hi: float, nbins: int = 5) -> np.ndarray:
    """Round values inside [lo, hi], spaced by the smallest of 1, 2, 2.5, 5 x 10^k that is at
    least ``(hi - lo) / nbins`` (matplotlib's MaxNLocator)."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return np.array([lo]) if math.isfinite(lo) else np.array([])
    raw = span / nbins
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return np.arange(first, last + 1) * step


def _linear_labels(ticks: np.ndarray):
    """Tick labels of round values, and the axis's offset text (``×10⁶``, ``+5.7×10⁹``) when
    the values are too large, too small or too close together to print in full."""
    if ticks.size == 0:
        return [], ""
    step = float(np.min(np.diff(ticks))) if ticks.size > 1 else abs(float(ticks[0])) or 1.0
    shift, note = 0.0, ""
    big = float(np.max(np.abs(ticks)))
    if big > 0 and step < 1e-3 * big:  # 5.7000001e9, 5.7000002e9: an offset, as matplotlib
        span = float(ticks[-1] - ticks[0]) or step
        mid = 0.5 * float(ticks[0] + ticks[-1])
        shift = float(np.round(mid, -int(math.floor(math.log10(span))) - 1))
        note = "+" + _sci(shift, 10)
        big = float(np.max(np.abs(ticks - shift)))
    scale = 1.0
    if big >= 1e6 or 0 < big < 1e-3:
        e = math.floor(math.log10(big))
        scale = 10.0 ** e
        note = (note + " " if note else "") + power_label(scale)
    s = step / scale
    # as many decimals as the step has: 0.25 -> 2, 25 -> 0
    dec = next(d for d in range(12) if abs(round(s, d) - s) <= 1e-9 * s)
    labels = []
    for v in (ticks - shift) / scale:
        t = f"{v:.{dec}f}"
        labels.append(t.lstrip("-") if float(t) == 0 else t.replace("-", _MINUS))
    return labels, note


def _sci(v: float, digits: int) -> str:
    e = math.floor(math.log10(abs(v))) if v else 0
    m = f"{v / 10.0 ** e:.{digits}g}"
    return f"{m}×{power_label(10.0 ** e)}" if e else m


def log_ticks(lo: float, hi: float):
    """Ticks of a log axis over [lo, hi] (both > 0): ``(labelled, minor)``.

    Decades are labelled; over less than two decades also some of the values in between
    (2 and 5 x 10^k, or every integer multiple over less than half a decade), as matplotlib's
    default does; over more than ten decades every other decade.  Minor ticks (unlabelled):
    2..9 x 10^k.
    """
    e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    tol = 1e-9 * (hi - lo)
    inside = lambda v: lo - tol <= v <= hi + tol  # noqa: E731
    decades = [10.0 ** e for e in range(e0, e1 + 1) if inside(10.0 ** e)]
    subs = [m * 10.0 ** e for e in range(e0, e1 + 1) for m in range(2, 10)
            if inside(m * 10.0 ** e)]
    if len(decades) > 10:
        decades = decades[::2]
    labelled = list(decades)
    if len(decades) < 2:
        keep = range(2, 10) if math.log10(hi / lo) < 0.5 else (2, 5)
        labelled += [v for v in subs if round(v / 10.0 ** math.floor(math.log10(v) + 1e-9))
                     in keep]
    return np.array(sorted(labelled)), np.array([v for v in subs if v not in labelled])


class Axis:
    """Data value -> page coordinate along one direction of a panel, linear or log10.

    Parameters
    ----------
    lo, hi : float
        Data values at the two ends (``lo`` at ``start``); > 0 for a log axis.
    start, end : float
        Page coordinates (pt) of the two ends.
    log : bool
    """

    def __init__(self, lo, hi, start, end, log=False):
        if log and not (lo > 0 and hi > 0):
            raise ValueError(f"log axis over [{lo}, {hi}]: the limits must be > 0")
        self.lo, self.hi, self.log = float(lo), float(hi), bool(log)
        a, b = (math.log10(lo), math.log10(hi)) if log else (self.lo, self.hi)
        if b == a:  # a value that never moves still gets an axis around it
            a, b = a - 0.5, b + 0.5
        self.scale = (end - start) / (b - a)
        self.offset = start - a * self.scale

    def __call__(self, v):
        """Page coordinates of data values ``v`` (NaN where a log axis gets v <= 0)."""
        v = np.asarray(v, dtype=float)
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
        return self.offset + self.scale * v

    def inverse(self, p):
        """Data values of page coordinates ``p`` (the inverse of calling the axis)."""
        v = (np.asarray(p, dtype=float) - self.offset) / self.scale
        return 10.0 ** v if self.log else v

    def ticks(self, nbins=5):
        """``(values, labels, minor values, offset text)`` of this axis's ticks."""
        lo, hi = min(self.lo, self.hi), max(self.lo, self.hi)
        if self.log:
            major, minor = log_ticks(lo, hi)
            return major, [power_label(v) for v in major], minor, ""
        major = linear_ticks(lo, hi, nbins)
        labels, note = _linear_labels(major)
        return major, labels, np.array([]), note


class Panel:
    """A rectangle of the page with data axes; what is drawn in it is clipped to it.

    Made by :meth:`Canvas.panel`.  Drawing methods take data values; the frame, ticks and
    labels are drawn on top when the canvas is written (:meth:`xaxis`, :meth:`yaxis` say how).
    ``x`` and ``y`` are the panel's :class:`Axis` (page coordinates of data values).
    """

    def __init__(self, clip_id, box, xlim, ylim, logx=False, logy=False):
        self.box = box  # (left, top, width, height), pt
        left, top, w, h = box
        self.x = Axis(xlim[0], xlim[1], left, left + w, logx)
        self.y = Axis(ylim[0], ylim[1], top + h, top, logy)
        self.clip_id = clip_id
        self.body = []  # clipped elements, in drawing order
        self.over = []  # unclipped elements drawn after the frame (titles, legend)
        self.axes = {}

    # -- lines and shapes ------------------------------------------------------------------
    def line(self, x, y, color="black", width=1.0, opacity=None, dash=None):
        """A polyline through the points (x, y); non-finite points break it."""
        px, py = self.x(x), self.y(y)
        d = "".join(_polyline(a, b) for a, b in _runs(px, py) if a.size > 1)
        if d:
            self.body.append(f'<path d="{d}" {_style(color, width, opacity, dash)}/>')

    def lines(self, segments, color="black", width=1.0, opacity=None, cls=None):
        """Many polylines of one style as one element: ``segments`` is a sequence of (n, 2)
        arrays of (x, y) data values; ``cls``: the element's class (what it shows)."""
        parts = []
        for seg in segments:
            seg = np.asarray(seg, dtype=float)
            px, py = self.x(seg[:, 0]), self.y(seg[:, 1])
            parts += [_polyline(a, b) for a, b in _runs(px, py) if a.size > 1]
        if parts:
            c = f' class="{escape(cls)}"' if cls else ""
            self.body.append(f'<path{c} d="{"".join(parts)}" {_style(color, width, opacity)}/>')

    def hline(self, v, **style):
        """A horizontal line at data value ``v`` across the panel."""
        self.line(self.x.inverse([self.box[0], self.box[0] + self.box[2]]), [v, v], **style)

    def vline(self, v, **style):
        """A vertical line at data value ``v`` across the panel."""
        self.line([v, v], self.y.inverse([self.box[1] + self.box[3], self.box[1]]), **style)

    def vspan(self, a, b, color="#d9d9d9"):
        """A filled vertical band between data values ``a`` and ``b``, full height."""
        xa, xb = sorted(float(v) for v in self.x([a, b]))
        self.body.append(f'<rect x="{_d(xa)}" y="{_d(self.box[1])}" width="{_d(xb - xa)}" '
                         f'height="{_d(self.box[3])}" fill="{color}"/>')

    def band(self, x, lo, hi, color, opacity=0.3):
        """The area between the curves ``lo`` and ``hi`` over ``x`` (where all are finite)."""
        px, pl, ph = self.x(x), self.y(lo), self.y(hi)
        ok = np.isfinite(px) & np.isfinite(pl) & np.isfinite(ph)
        if ok.sum() < 2:
            return
        xs = np.concatenate([px[ok], px[ok][::-1]])
        ys = np.concatenate([ph[ok], pl[ok][::-1]])
        self.body.append(f'<path d="M{_points(xs, ys)}Z" fill="{color}" '
                         f'fill-opacity="{opacity:g}" stroke="none"/>')

    def steps(self, counts, edges, color="black", width=1.0):
        """A histogram outline: ``counts[i]`` over [edges[i], edges[i + 1]]."""
        x = np.repeat(np.asarray(edges, dtype=float), 2)[1:-1]
        y = np.repeat(np.asarray(counts, dtype=float), 2)
        self.line(x, y, color=color, width=width)

    def cells(self, xe, ye, values, levels=16):
        """Grey cells of a 2-D histogram (``values[i, j]`` over [xe[i], xe[i+1]] x
        [ye[j], ye[j+1]]; white at 0, black at the maximum), one element per grey level."""
        values = np.asarray(values, dtype=float)
        top = values.max() if values.size else 0.0
        if not top > 0:
            return
        px, py = self.x(xe), self.y(ye)
        grey = np.minimum((values / top * levels).astype(int), levels - 1)
        for g in range(1, levels):  # level 0 (near-empty cells) is the white background
            ii, jj = np.nonzero((grey == g) & (values > 0))
            if ii.size == 0:
                continue
            shade = int(round(255 * (1 - g / (levels - 1) * 0.85)))
            rects = " ".join(
                f"M{_d(px[i])},{_d(py[j + 1])}H{_d(px[i + 1])}V{_d(py[j])}H{_d(px[i])}Z"
                for i, j in zip(ii.tolist(), jj.tolist()))
            self.body.append(f'<path d="{rects}" fill="rgb({shade},{shade},{shade})" '
                             'shape-rendering="crispEdges"/>')

    # -- data points -------------------------------------------------------------------------
    def markers(self, x, y, color="black", size=3.0, label="data"):
        """Filled circles of diameter ``size`` (pt) at the finite points, one ``<circle>`` each
        in a group of class ``markers`` (marked with ``label``)."""
        px, py = self.x(x), self.y(y)
        ok = np.isfinite(px) & np.isfinite(py)
        r = f"{size * 5:g}"
        dots = "".join(f'<circle cx="{_d(a)}" cy="{_d(b)}" r="{r}"/>'
                       for a, b in zip(px[ok].tolist(), py[ok].tolist()))
        self.body.append(f'<g class="markers" data-label="{escape(label)}" fill="{color}">'
                         f"{dots}</g>")

    def errorbars(self, x, y, yerr, color="black", width=0.8):
        """Vertical bars y +- yerr (a log axis clips a bar's lower end at the panel)."""
        x, y, e = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(x, y, yerr))
        px, p0, p1 = self.x(x), self.y(y - e), self.y(y + e)
        if self.y.log:  # y - e <= 0 has no position: the bar runs off the bottom
            p0 = np.where(np.isfinite(p0), p0, self.box[1] + self.box[3] + 1.0)
        ok = np.isfinite(px) & np.isfinite(p0) & np.isfinite(p1) & (e > 0)
        d = "".join(f"M{_d(a)},{_d(b)}V{_d(c)}"
                    for a, b, c in zip(px[ok].tolist(), p0[ok].tolist(), p1[ok].tolist()))
        if d:
            self.body.append(f'<path d="{d}" {_style(color, width)}/>')

    # -- decorations -----------------------------------------------------------------------
    def xaxis(self, label=None, ticks=None, nbins=None, size=8.0, label_size=9.0, rotate=0,
              show=True):
        """Ticks along the bottom (labelled if ``show``; ``ticks``: fixed values; at most
        ``nbins`` intervals, default one per three font sizes of length, at most 9, as
        matplotlib) and the axis label below them."""
        if nbins is None:
            nbins = int(min(9, max(1, self.box[2] / (3 * size))))
        self.axes["x"] = dict(label=label, ticks=ticks, nbins=nbins, size=size,
                              label_size=label_size, rotate=rotate, show=show)

    def yaxis(self, label=None, ticks=None, nbins=None, size=8.0, label_size=9.0, show=True):
        """Ticks along the left side (labelled if ``show``; ``nbins`` default: one interval
        per two font sizes of height, at most 9) and the axis label beside them."""
        if nbins is None:
            nbins = int(min(9, max(1, self.box[3] / (2 * size))))
        self.axes["y"] = dict(label=label, ticks=ticks, nbins=nbins, size=size,
                              label_size=label_size, rotate=0, show=show)

    def title(self, text, size=9.0, gap=4.0):
        """A title centred above the panel (lines split at ``\\n`` stack upwards)."""
        left, top, w, _ = self.box
        n = str(text).count("\n")
        self.over.append(_text(left + w / 2, top - gap - n * 1.15 * size, text, size,
                               line_height=1.15))

    def legend(self, entries, avoid=(), size=8.0):
        """A legend in the corner of the panel that covers fewest of the ``avoid`` points.

        ``entries``: ``(kind, color, label)`` with kind ``"band"`` (a filled square;
        the colour may carry an opacity as ``(color, opacity)``), ``"line"`` or ``"marker"``;
        ``avoid``: ``(x, y)`` data arrays of what the legend should not hide.
        """
        left, top, w, h = self.box
        lw = 22 + max(text_width(e[2], size) for e in entries) + 8
        lh = len(entries) * 1.5 * size + 6
        corners = [(left + w - lw - 5, top + 5), (left + 5, top + 5),
                   (left + w - lw - 5, top + h - lh - 5), (left + 5, top + h - lh - 5)]
        pts = [(self.x(ax), self.y(ay)) for ax, ay in avoid]

        def covered(c):
            return sum(int(np.sum((px >= c[0]) & (px <= c[0] + lw) & (py >= c[1])
                                  & (py <= c[1] + lh))) for px, py in pts)

        x0, y0 = min(corners, key=covered)  # first of the best, upper right preferred
        out = [f'<rect x="{_d(x0)}" y="{_d(y0)}" width="{_d(lw)}" height="{_d(lh)}" '
               'fill="white" fill-opacity="0.8" stroke="#cccccc" stroke-width="8" rx="20"/>']
        for k, (kind, color, text) in enumerate(entries):
            cy = y0 + 3 + (k + 0.5) * 1.5 * size
            color, opacity = color if isinstance(color, tuple) else (color, 1.0)
            if kind == "band":
                out.append(f'<rect x="{_d(x0 + 5)}" y="{_d(cy - 3.5)}" width="{_d(14)}" '
                           f'height="{_d(7)}" fill="{color}" fill-opacity="{opacity:g}"/>')
            elif kind == "line":
                out.append(f'<path d="M{_d(x0 + 5)},{_d(cy)}H{_d(x0 + 19)}" '
                           f'{_style(color, 1.4)}/>')
            else:
                out.append(f'<circle cx="{_d(x0 + 12)}" cy="{_d(cy)}" r="15" fill="{color}"/>')
            out.append(_text(x0 + 24, cy + 0.35 * size, text, size, anchor="start"))
        self.over += out

    # -- writing -----------------------------------------------------------------------------
    def render(self) -> list:
        """The SVG elements of the panel: its clipped contents, frame, ticks and labels."""
        left, top, w, h = self.box
        out = [f'<g clip-path="url(#{self.clip_id})">', *self.body, "</g>",
               f'<rect x="{_d(left)}" y="{_d(top)}" width="{_d(w)}" height="{_d(h)}" '
               'fill="none" stroke="black" stroke-width="8"/>']
        if "x" in self.axes:
            out += self._x_decorations(**self.axes["x"])
        if "y" in self.axes:
            out += self._y_decorations(**self.axes["y"])
        return out + self.over

    def _tick_values(self, axis, ticks, nbins):
        if ticks is None:
            return axis.ticks(nbins)
        ticks = np.asarray(ticks, dtype=float)
        labels, note = ([power_label(v) for v in ticks], "") if axis.log \
            else _linear_labels(ticks)
        return ticks, labels, np.array([]), note

    def _tick_marks(self, which, ticks, nbins):
        """``(elements, shown, note)`` of the ``"x"`` or ``"y"`` axis: the tick marks (minor
        ones shorter), the (page position, label) of the labelled ticks inside the panel and
        the offset text."""
        left, top, w, h = self.box
        axis, lo, hi = (self.x, left, left + w) if which == "x" else (self.y, top, top + h)
        major, labels, minor, note = self._tick_values(axis, ticks, nbins)
        d = ""
        for values, length in ((major, TICK), (minor, 0.57 * TICK)):
            pos = axis(values)
            pos = pos[(pos >= lo - 0.01) & (pos <= hi + 0.01)].tolist()
            d += "".join(f"M{_d(p)},{_d(top + h)}v{_d(length)}" if which == "x" else
                         f"M{_d(left)},{_d(p)}h{_d(-length)}" for p in pos)
        shown = [(p, t) for p, t in zip(axis(major).tolist(), labels)
                 if lo - 0.01 <= p <= hi + 0.01]
        return ([f'<path d="{d}" {_style("black", 0.8)}/>'] if d else []), shown, note

    def _x_decorations(self, label, ticks, nbins, size, label_size, rotate, show):
        left, top, w, h = self.box
        bottom = top + h
        out, shown, note = self._tick_marks("x", ticks, nbins)
        depth = TICK + PAD
        if show:
            if rotate:
                out += [_text(p + 0.3 * size, bottom + depth + 0.3 * size, t, size, "end",
                              rotate=-rotate) for p, t in shown]
                longest = max((text_width(t, size) for _, t in shown), default=0.0)
                depth += longest * math.sin(math.radians(rotate)) + size
            else:
                out += [_text(p, bottom + depth + 0.8 * size, t, size) for p, t in shown]
                depth += 1.2 * size
            if note:
                out.append(_text(left + w, bottom + depth + 0.8 * size, note, size, "end"))
                depth += 1.2 * size
        if label:
            out.append(_text(left + w / 2, bottom + depth + 1.0 * label_size, label,
                             label_size))
        return out

    def _y_decorations(self, label, ticks, nbins, size, label_size, rotate, show):
        left, top, w, h = self.box
        out, shown, note = self._tick_marks("y", ticks, nbins)
        width = TICK + PAD
        if show:
            out += [_text(left - width, p + 0.35 * size, t, size, "end") for p, t in shown]
            width += max((text_width(t, size) for _, t in shown), default=0.0)
            if note:
                out.append(_text(left, top - 0.5 * size, note, size, "start"))
        if label:
            x = left - width - 0.4 * label_size
            out.append(_text(x, top + h / 2, label, label_size, rotate=-90))
        return out


class Canvas:
    """A page of ``width`` x ``height`` points with panels and text.

    Parameters
    ----------
    width, height : float
        Page size in pt (matplotlib's figure size in inches x 72).
    prefix : str
        Prefix of the element ids (clip paths): figures with different prefixes can be
        embedded in one HTML page.
    """

    def __init__(self, width, height, prefix="fig"):
        self.width, self.height = float(width), float(height)
        self.prefix = prefix
        self.panels = []
        self.parts = []

    def panel(self, left, top, width, height, xlim, ylim, logx=False, logy=False) -> Panel:
        """A new :class:`Panel` at page box (``left``, ``top``, ``width``, ``height``; pt)
        showing ``xlim`` x ``ylim`` (data values; log axes need positive limits)."""
        p = Panel(f"{self.prefix}-clip{len(self.panels)}", (left, top, width, height),
                  xlim, ylim, logx, logy)
        self.panels.append(p)
        return p

    def text(self, x, y, text, size=10.0, anchor="middle", rotate=None):
        """Text with its baseline at page point (x, y); ``\\n`` starts a new line below."""
        self.parts.append(_text(x, y, text, size, anchor, rotate))

    def to_svg(self) -> str:
        """The SVG document."""
        clips = "".join(
            f'<clipPath id="{p.clip_id}"><rect x="{_d(p.box[0])}" y="{_d(p.box[1])}" '
            f'width="{_d(p.box[2])}" height="{_d(p.box[3])}"/></clipPath>' for p in self.panels)
        body = [e for p in self.panels for e in p.render()]
        w, h = _d(self.width), _d(self.height)
        return "\n".join([
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:g}pt" '
            f'height="{self.height:g}pt" viewBox="0 0 {w} {h}" font-family="{FONT}" '
            'stroke-linejoin="round" stroke-linecap="butt">',
            f"<defs>{clips}</defs>",
            f'<rect width="{w}" height="{h}" fill="white"/>',
            *body, *self.parts, "</svg>", ""])

    def write(self, path) -> None:
        """Write the SVG (UTF-8) to ``path``, or to a binary file object."""
        data = self.to_svg().encode("utf-8")
        if hasattr(path, "write"):
            path.write(data)
        else:
            Path(path).write_bytes(data)
