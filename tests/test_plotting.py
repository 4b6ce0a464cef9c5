"""The light corner plot (tlsbayes.plotting): contour levels that hold the right mass, and a
figure with the panels, truths and degenerate columns a fit can hand it."""

import math

import numpy as np
import pytest

from tlsbayes import plotting


def _gauss2(rng, n, rho=0.6):
    z1 = rng.standard_normal(n)
    z2 = rho * z1 + math.sqrt(1 - rho ** 2) * rng.standard_normal(n)
    return z1, z2


@pytest.mark.parametrize("mass", plotting.CORNER_MASS + (0.95,))
def test_density_levels_enclose_the_asked_mass_of_fresh_draws(mass):
    """The cells at or above a level hold ``mass`` of the draws the histogram was made of, and
    (an independent check of it being the highest-density region) the same mass of fresh
    draws, and its area is that of the Gaussian's ellipse of that mass."""
    rng = np.random.default_rng(5)
    edges = np.linspace(-5, 5, 61)
    x, y = _gauss2(rng, 400_000)
    counts, _, _ = np.histogram2d(x, y, bins=[edges, edges])
    level = plotting.density_levels(counts, [mass])[0]
    inside = counts >= level
    assert counts[inside].sum() / counts.sum() == pytest.approx(mass, abs=0.01)
    fx, fy = _gauss2(np.random.default_rng(6), 400_000)
    i = np.clip(np.digitize(fx, edges) - 1, 0, 59)
    j = np.clip(np.digitize(fy, edges) - 1, 0, 59)
    assert inside[i, j].mean() == pytest.approx(mass, abs=0.01)
    # HDR of a bivariate normal: the ellipse r^2 <= -2 ln(1 - m), area 2 pi sqrt(det) (-ln(1-m))
    area = inside.sum() * (edges[1] - edges[0]) ** 2
    expect = 2 * math.pi * math.sqrt(1 - 0.6 ** 2) * -math.log(1 - mass)
    assert area == pytest.approx(expect, rel=0.05)


def test_density_levels_decrease_with_mass_and_cover_everything_at_one():
    counts = np.array([[0, 1, 2], [3, 10, 4], [0, 2, 1.0]])
    lv = plotting.density_levels(counts, [0.2, 0.6, 1.0])
    assert lv[0] == 10 and lv[1] == 4  # 10 holds 10/23 >= 0.2; 10 + 4 = 14/23 >= 0.6
    assert lv[2] == 1  # every non-empty cell
    assert np.all(np.diff(lv) <= 0)


def test_corner_titles_stay_clear_of_the_panel_to_their_left(tmp_path):
    """Long diagonal titles (``log10 delta_other = ...``) wider than a panel are split in two
    lines instead of running over the diagonal panel of the previous column."""
    rng = np.random.default_rng(4)
    names = ["delta0", "delta_other_long", "P_c_saturation", "beta", "noise_scale"]
    samples = np.exp(rng.normal(-9.0, 1.5, size=(3000, len(names))))
    fig = plotting.plot_corner(samples, names, tmp_path / "c.png", log_params=names)
    renderer = fig.canvas.get_renderer()
    k = len(names)
    diagonal = [fig.axes[i * (i + 1) // 2 + i] for i in range(k)]  # row by row
    for i in range(1, k):
        title = diagonal[i].title.get_window_extent(renderer)
        left_panel = diagonal[i - 1].get_window_extent(renderer)
        assert title.x0 >= left_panel.x1, (i, diagonal[i].get_title())
    assert any("\n" in ax.get_title() for ax in diagonal)  # the long ones were split


def test_corner_plot_draws_every_panel_with_truths_and_a_fixed_column(tmp_path):
    rng = np.random.default_rng(2)
    x, y = _gauss2(rng, 4000)
    samples = np.column_stack([np.exp(x), y, np.full(4000, 3.0)])  # a column that never moves
    path = tmp_path / "corner.png"
    fig = plotting.plot_corner(samples, ["a", "b", "c"], path, log_params=["a"],
                               truths={"b": 0.5}, title="card x, group y")
    assert fig.texts[0].get_text() == "card x, group y"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axes = fig.axes
    assert len(axes) == 6  # 3 diagonal + 3 below
    # the log-prior parameter (a title too wide for its panel is split after "=")
    assert axes[0].get_title().replace("\n", " ").startswith("log10 a = ")
    # truth of b: a vertical line on its diagonal and in the column below, horizontal beside
    b_diag, b_row = axes[2], axes[1]
    assert any(np.allclose(l.get_xdata(), 0.5) for l in b_diag.get_lines())
    assert any(np.allclose(l.get_ydata(), 0.5) for l in b_row.get_lines())
    # the off-diagonal panels carry the two contours (1 and 2 sigma) for a moving pair
    assert len(b_row.collections) >= 2
    lo, hi = axes[5].get_xlim()
    assert lo < 3.0 < hi  # the fixed column still has an axis around its value


def test_log_axis_labels_are_plain_text_powers_of_ten():
    """PowerFormatter writes what matplotlib's default writes in mathtext, in plain text."""
    fmt = plotting.PowerFormatter()
    assert fmt(1e6) == "10⁶" and fmt(1.0) == "10⁰" and fmt(1e-12) == "10⁻¹²"
    assert fmt(3e-5) == "3×10⁻⁵" and fmt(2.5e7) == "2.5×10⁷"
    assert fmt(0.0) == "" and fmt(-1.0) == ""
    assert plotting.PowerFormatter(labelOnlyBase=True)(3e-5) == ""
