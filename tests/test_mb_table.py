"""The gap and Mattis–Bardeen tables against the quadrature they replace, over their whole domain.

The quadratures (``*_quadrature`` in tlsbayes.physics.quasiparticle) are the slow twin: they are
held to the mpmath references in tests/test_quasiparticle.py, and the tables to them here, at
random points of every table's domain (and at the panel edges, where two fits meet).
"""

import math

import numpy as np
import pytest

from tlsbayes.physics import mb_table as M
from tlsbayes.physics import quasiparticle as q

RNG = np.random.default_rng(20261203)


def _xy(n):
    """n points (x = ln k_BT/Δ, y = ln ħω/Δ) at random in the 2-D domain, plus panel corners."""
    x = RNG.uniform(M.X_LO, M.X_HI, n)
    y = RNG.uniform(M.Y_LO, M.Y_HI, n)
    ex = np.arange(M.X_LO, M.X_HI, 0.5)
    ey = np.arange(M.Y_LO, M.Y_HI, 0.5)
    gx, gy = np.meshgrid(ex, ey)
    return np.concatenate([x, gx.ravel()]), np.concatenate([y, gy.ravel()])


def test_domain_is_the_documented_one():
    """The tables cover what the fits need: T/Tc 0.04-0.9996, ħω/Δ 1e-4-1, k_BT/Δ to 12."""
    assert M.U_LO <= 0.02 and 1 - M.U_HI ** 2 <= 0.04
    assert M.Y_LO <= math.log(1e-4) and M.Y_HI >= 0.0
    assert M.X_LO <= math.log(1 / 600) and M.X_HI >= math.log(12)
    assert M.META["generator"] == "tools/build_mb_table.py"


def test_gap_table_against_the_gap_equation():
    u = np.concatenate([RNG.uniform(M.U_LO, M.U_HI, 3000), np.arange(M.U_LO, M.U_HI, 0.02)])
    t = 1 - u * u
    tab = np.array([q.bcs_gap_fraction(x) for x in t])
    quad = np.array([q.bcs_gap_fraction_quadrature(x) for x in t])
    err = np.abs(tab - quad)
    # The real-energy gap equation is ill-conditioned near Tc: its solution scatters by
    # ~1.5e-15/δ, and that (not the fit) is what the difference shows.
    assert np.max(err * quad) < 1e-14
    assert err[t <= 0.99].max() < 1e-14
    assert np.all(tab <= 1.0) and np.all(np.diff(tab[np.argsort(t)]) <= 2.3e-16)


def test_sigma_tables_against_quadrature_to_1e12():
    x, y = _xy(4000)
    theta, d = np.exp(x - y), np.exp(-y)  # θ = k_BT/ħω = a/b, d = Δ/ħω = 1/b
    e1 = e2 = 0.0
    for th, dd in zip(theta, d):
        s1, s2 = q.mb_sigma_reduced(th, dd, True)
        r1, r2 = q.mb_sigma_quadrature(th, dd, True)
        assert r1 > 0.0 and r2 > 0.0
        e1, e2 = max(e1, abs(s1 / r1 - 1)), max(e2, abs(s2 / r2 - 1))
    assert e1 < 1e-12 and e2 < 1e-12, (e1, e2)


def test_thermal_part_of_sigma2_keeps_its_relative_accuracy():
    """σ2(T) - σ2(0) from the tables is accurate relative to itself, however small it is."""
    x, y = _xy(2000)
    worst = 0.0
    for xi, yi in zip(x, y):
        th, dd = math.exp(xi - yi), math.exp(-yi)
        s20 = q.mb_sigma_reduced(0.0, dd, False)[1]
        deficit = s20 - q.mb_sigma_reduced(th, dd, False)[1]
        ref = math.exp(-dd / th) * q.sigma2_deficit_scaled_quadrature(th, dd)
        if ref > 1e-3 * s20:  # below, s20 - s2 loses digits to rounding of s2 itself
            worst = max(worst, abs(deficit / ref - 1))
        else:
            assert abs(deficit - ref) <= 4e-16 * s20
    assert worst < 1e-12


def test_sigma2_at_zero_temperature():
    y = np.concatenate([RNG.uniform(M.Y_LO, M.Y_HI, 2000), np.arange(M.Y_LO, M.Y_HI, 0.25)])
    err = max(abs(q.mb_sigma_reduced(0.0, math.exp(-v), False)[1]
                  / q.sigma2_zero_quadrature(math.exp(-v)) - 1) for v in y)
    assert err < 5e-15


@pytest.mark.parametrize("theta,d", [(1e-3, 0.7), (1e-4, 0.6), (0.4, 0.45), (3.0, 0.2),
                                     (0.2, 1e5), (30.0, 2.0)])
def test_outside_the_table_the_quadrature_answers(theta, d):
    """ħω > Δ (with and without pair breaking), ħω < 1e-4 Δ, k_BT > 12 Δ: the quadrature."""
    assert q.mb_sigma_reduced(theta, d, True) == q.mb_sigma_quadrature(theta, d, True)


@pytest.mark.parametrize("theta,d", [(1e-4, 5.0), (1e-3, 3.0), (2e-3, 1.4)])
def test_deep_cold_sigma2_is_its_zero_temperature_value(theta, d):
    """k_BT < Δ/665: σ2 = σ2(0) to double precision, σ1 (~e^-665 or less) by quadrature."""
    assert math.log(theta / d) < M.X_LO
    s1, s2 = q.mb_sigma_reduced(theta, d, True)
    r1, r2 = q.mb_sigma_quadrature(theta, d, True)
    assert s2 == pytest.approx(r2, rel=5e-15) and s2 == q.mb_sigma_reduced(0.0, d, False)[1]
    assert s1 == r1


def test_missing_file_gives_an_empty_domain(tmp_path):
    t = M.load_tables(tmp_path / "absent.npz")
    assert t["u_lo"] == t["u_hi"] and t["x_lo"] == t["x_hi"] and t["y_lo"] == t["y_hi"]
