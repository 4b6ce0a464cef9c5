"""The SVG figures (tlsbayes.plotting.svg, .svg_figures): well-formed XML, data drawn where the
axes say, log ticks at decades, contours holding their mass, one marker per point, escaped
text, the same bytes for the same input."""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from tlsbayes import plotting
from tlsbayes.plotting import svg, svg_figures
from tlsbayes.results.curves import DatasetCurves, FitCurves

NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(path):
    return ET.parse(path).getroot()


def _clip_box(root, k):
    """Page box (pt) of the k-th panel, from its clip path (the file is in 0.1 pt)."""
    rect = root.find(f".//s:clipPath[@id='{_clip_ids(root)[k]}']/s:rect", NS)
    return tuple(float(rect.get(a)) / 10 for a in ("x", "y", "width", "height"))


def _clip_ids(root):
    return [c.get("id") for c in root.iterfind(".//s:clipPath", NS)]


def _panel_group(root, k):
    return root.find(f".//s:g[@clip-path='url(#{_clip_ids(root)[k]})']", NS)


def _circles(group, label="data"):
    g = group.find(f"s:g[@class='markers'][@data-label='{label}']", NS)
    return np.array([[float(c.get("cx")), float(c.get("cy"))] for c in g], dtype=float) / 10


def _subpaths(d):
    """The polylines of a path ``d="Mx,y l dx,dy dx,dy ... Mx,y l ..."`` (a start point,
    then relative steps), page pt."""
    out = []
    for part in d.split("M")[1:]:
        start, _, steps = part.partition("l")
        xy = [tuple(map(float, p.split(","))) for p in [start, *steps.split()]]
        out.append(np.cumsum(np.array(xy), axis=0) / 10)
    return out


def _curves(n=12, log=True, title="t"):
    x = np.linspace(-100.0, -10.0, n)
    y = 10.0 ** (5 + 0.02 * (x + 100))
    grid = np.linspace(x[0], x[-1], 50)
    mid = 10.0 ** (5 + 0.02 * (grid + 100))
    band = np.vstack([mid * f for f in (0.8, 0.9, 1.0, 1.1, 1.2)])
    ds = DatasetCurves(name="qi", model="q_power", title="data set qi (model q_power)",
                       x_grid=grid, band=band, x=x, y=y, sigma=0.05 * y, error_bars=True,
                       median_at_data=1 / y, residual=np.sin(x), x_label="P [dBm]",
                       y_label="Qᵢ", residual_label="(data − model)/σ", log_x=False,
                       log_y=log)
    return FitCurves(title, (ds,))


def _gauss(n=20_000, rho=0.6, seed=3):
    rng = np.random.default_rng(seed)
    z1 = rng.standard_normal(n)
    z2 = rho * z1 + math.sqrt(1 - rho**2) * rng.standard_normal(n)
    return np.column_stack([z1, z2])


def test_every_figure_is_well_formed_xml(tmp_path):
    chain = np.cumsum(np.random.default_rng(1).normal(size=(300, 8, 2)), axis=0)
    svg_figures.plot_fit(_curves(), tmp_path / "fit.svg")
    svg_figures.plot_corner(np.exp(_gauss(2000)), ["a", "b"], tmp_path / "corner.svg",
                            log_params=["a"], truths={"b": 1.0}, title="c")
    svg_figures.plot_trace(chain, ["a", "b"], tmp_path / "trace.svg", burn=50, title="t")
    for name in ("fit", "corner", "trace"):
        root = _parse(tmp_path / f"{name}.svg")
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("viewBox").split()[:2] == ["0", "0"]


@pytest.mark.parametrize("log", [False, True])
def test_markers_sit_where_the_axis_puts_their_data(tmp_path, log):
    """A point's page coordinates, read back from the file and mapped through the panel's
    limits and its box (from the clip path) by an independent formula, are its data values
    (to the file's 0.1 pt resolution)."""
    xlim, ylim = (2.0, 50.0), ((1e-3, 1e2) if log else (-1.0, 3.0))
    x = np.array([2.0, 7.5, 20.0, 50.0])
    y = np.array([1e-3, 0.37, 1.0, 99.0]) if log else np.array([-1.0, 0.1, 2.5, 3.0])
    c = svg.Canvas(300, 200)
    p = c.panel(40, 20, 240, 150, xlim, ylim, logy=log)
    p.markers(x, y)
    c.write(tmp_path / "p.svg")
    root = _parse(tmp_path / "p.svg")
    left, top, w, h = _clip_box(root, 0)
    px, py = _circles(_panel_group(root, 0)).T
    fy = np.log10 if log else (lambda v: v)
    x_back = xlim[0] + (px - left) / w * (xlim[1] - xlim[0])
    y_back = fy(ylim[0]) + (top + h - py) / h * (fy(ylim[1]) - fy(ylim[0]))
    assert np.allclose(x_back, x, atol=0.1 / w * (xlim[1] - xlim[0]))
    assert np.allclose(y_back, fy(y), atol=0.1 / h * (fy(ylim[1]) - fy(ylim[0])))
    # and the Axis object is its own inverse
    assert np.allclose(p.y.inverse(p.y(y)), y, rtol=1e-12)


def test_log_axis_ticks_are_labelled_at_decades():
    labelled, minor = svg.log_ticks(1e-3, 1e2)
    assert np.allclose(labelled, 10.0 ** np.arange(-3, 3))
    assert len(minor) == 5 * 8 and np.allclose(minor[:3], [2e-3, 3e-3, 4e-3])
    assert [plotting.common.power_label(v) for v in labelled[:2]] == ["10⁻³", "10⁻²"]
    # within one decade: 2 and 5 x 10^k are labelled too (a scale needs two labels)
    labelled, _ = svg.log_ticks(1.5e5, 3e6)
    assert np.allclose(labelled, [2e5, 5e5, 1e6, 2e6])
    values, labels, _, _ = svg.Axis(1.5e5, 3e6, 0, 100, log=True).ticks()
    assert labels == ["2×10⁵", "5×10⁵", "10⁶", "2×10⁶"]


def test_linear_ticks_are_round_and_labelled_with_offset_or_scale():
    t = svg.linear_ticks(0.2135, 0.2315, 4)  # the corner plot's beta column of the Ta card
    assert np.allclose(t, [0.215, 0.22, 0.225, 0.23])
    _, labels, _, note = svg.Axis(5.7e9 - 100, 5.7e9 + 100, 0, 1).ticks()
    assert labels == ["−100", "−50", "0", "50", "100"] and note == "+5.7×10⁹"
    _, labels, _, note = svg.Axis(1e-7, 5e-7, 0, 1).ticks()
    assert labels == ["1", "2", "3", "4", "5"] and note == "10⁻⁷"


def test_corner_contour_holds_its_mass_of_the_draws(tmp_path):
    """The 1-sigma contour (39.3 %) of a correlated 2-D Gaussian sample encloses ~39 % of the
    draws: point-in-polygon on the path's coordinates mapped back to data values."""
    samples = _gauss()
    svg_figures.plot_corner(samples, ["a", "b"], tmp_path / "c.svg")
    root = _parse(tmp_path / "c.svg")
    left, top, w, h = _clip_box(root, 1)  # panels row by row: (0,0), (1,0), (1,1)
    xr, yr = (np.quantile(samples[:, i], [0.0005, 0.9995]) for i in (0, 1))
    for mass in plotting.CORNER_MASS:
        path = _panel_group(root, 1).find(f"s:path[@class='contour mass-{100 * mass:.1f}']",
                                          NS)
        inside = np.zeros(len(samples), dtype=bool)
        for ring in _subpaths(path.get("d")):
            dx = xr[0] + (ring[:, 0] - left) / w * (xr[1] - xr[0])
            dy = yr[0] + (top + h - ring[:, 1]) / h * (yr[1] - yr[0])
            inside ^= MplPath(np.column_stack([dx, dy])).contains_points(samples)
        assert inside.mean() == pytest.approx(mass, abs=0.03), mass


def test_one_marker_per_data_point_and_residual(tmp_path):
    curves = _curves(n=17)
    canvas = svg_figures.plot_fit(curves, tmp_path / "fit.svg")
    root = _parse(tmp_path / "fit.svg")
    assert len(canvas.panels) == 2
    assert len(_circles(_panel_group(root, 0))) == 17
    assert len(_circles(_panel_group(root, 1), "residuals")) == 17
    # a point a log axis cannot show (y <= 0) is left out, not drawn at the edge
    ds = curves.datasets[0]
    y = ds.y.copy()
    y[3] = -1.0
    bad = FitCurves("t", (DatasetCurves(**{**vars(ds), "y": y}),))
    svg_figures.plot_fit(bad, tmp_path / "bad.svg")
    assert len(_circles(_panel_group(_parse(tmp_path / "bad.svg"), 0))) == 16


def test_text_is_escaped(tmp_path):
    title = 'card <a> & "b" (group = \'R<1>\')'
    svg_figures.plot_fit(_curves(title=title), tmp_path / "fit.svg")
    raw = (tmp_path / "fit.svg").read_text(encoding="utf-8")
    assert "&lt;a&gt; &amp; &quot;b&quot;" in raw and "<a>" not in raw
    texts = ["".join(t.itertext()) for t in _parse(tmp_path / "fit.svg").iter(
        "{http://www.w3.org/2000/svg}text")]
    assert title in texts


def test_same_input_gives_the_same_bytes(tmp_path):
    chain = np.cumsum(np.random.default_rng(2).normal(size=(200, 6, 3)), axis=0)
    for k in (1, 2):
        svg_figures.plot_fit(_curves(), tmp_path / f"fit{k}.svg")
        svg_figures.plot_corner(_gauss(3000), ["a", "b"], tmp_path / f"corner{k}.svg",
                                title="x")
        svg_figures.plot_trace(chain, ["a", "b", "c"], tmp_path / f"trace{k}.svg", burn=20)
    for name in ("fit", "corner", "trace"):
        first, second = ((tmp_path / f"{name}{k}.svg").read_bytes() for k in (1, 2))
        assert first == second, name
