"""Physics kernels against analytic limits, independent quadratures and the papers' claims."""

import math

import numpy as np
import pytest
from scipy.special import gamma as gamma_fn
from scipy.special import zeta

from tlsbayes import physics as ph
from tlsbayes.physics.constants import e as EV, h, k_B

OMEGA = 2 * math.pi * 17.5e6
C = 4.3e-5
A_PH = ph.phonon_rate_prefactor_1d(9.8 * EV, 2900.0, 130e-9, 300e-9, 6000.0)
A_EL = ph.electron_rate_prefactor(0.07)


# --- v-integral --------------------------------------------------------------------------

@pytest.mark.parametrize("b", [1e-12, 1e-6, 1e-3, 0.1, 0.7, 1.0, 1.9999, 2.0, 2.5, 10.0, 1e3, 1e8])
def test_v_integral_against_mpmath(b):
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    bb = mp.mpf(b)
    # Break the interval where the Lorentzian in 1 - v² sits, so the quadrature cannot miss it.
    pts = sorted({mp.mpf(0), mp.mpf(1), mp.mpf("0.5")}
                 | {1 - min(bb, mp.mpf("0.5")) * mp.mpf(10) ** -k for k in range(0, 4)})
    ref = mp.quad(lambda v: v * v * bb / ((1 - v * v) ** 2 + bb * bb), pts)
    assert ph.v_integral(b) == pytest.approx(float(ref), rel=5e-15)


def test_v_integral_limits():
    assert ph.v_integral(0.0) == math.pi / 4
    b = 1e-7
    assert ph.v_integral(b) == pytest.approx(math.pi / 4 - b / 4 * (1 + math.log(4 / b)), rel=1e-12)
    b = 1e6
    assert ph.v_integral(b) == pytest.approx(1 / (3 * b) - 8 / (105 * b ** 3), rel=1e-15)
    assert ph.v_integral(math.inf) == 0.0


# --- universal F(a) ----------------------------------------------------------------------

def test_F_plateau_and_low_temperature_law():
    from scipy.integrate import quad

    assert ph.nems_universal_F(0.0) == math.pi / 2
    # Near the plateau F = π/2 - a (Q - P ln a) + O(a² ln² a), from G(b) ≈ π/4 - (b/4)(1 + ln 4/b)
    # with b = a τ(u), τ = tanh(u/2)/u.  P and Q by an independent quadrature:
    def tau(u):
        return math.tanh(u / 2) / u

    def sech2(u):
        return 1 / math.cosh(u / 2) ** 2

    P = quad(lambda u: sech2(u) * tau(u), 0, 200, limit=200)[0] / 4
    Q = quad(lambda u: sech2(u) * tau(u) * (1 + math.log(4) - math.log(tau(u))), 0, 200,
             limit=200)[0] / 4
    a = np.array([1e-9, 1e-8, 1e-7])
    dev = math.pi / 2 - ph.nems_universal_F(a)
    assert dev == pytest.approx(a * (Q - P * np.log(a)), rel=2e-5)
    # F -> π²/(6a) with relative correction O(1/a²).
    for a in (1e3, 1e5, 1e9, 1e14):
        assert ph.nems_universal_F(a) * 6 * a / math.pi ** 2 == pytest.approx(1.0, abs=20 / a ** 2 + 2e-15)


def test_F_continuous_across_table_panels_and_edges():
    t_edges = np.arange(-32, 33, dtype=float)
    for t in t_edges:
        lo, hi = ph.nems_universal_F(np.exp([t - 1e-12, t + 1e-12]))
        assert hi == pytest.approx(lo, rel=1e-12)


def test_F_monotone_decreasing():
    a = np.geomspace(1e-14, 1e14, 20001)
    F = ph.nems_universal_F(a)
    # Steps of 38 % in a: strictly decreasing, with room to spare everywhere.
    assert np.all(np.diff(F[::100]) < 0)
    # Steps of 0.3 %: near the plateau F changes by about an ulp per step, so
    # rounding may tie or invert neighbours by an ulp, never more.
    assert np.all(np.diff(F) <= np.spacing(F[1:]))


# --- damping limits and paper claims -------------------------------------------------------

def test_plateau_pi_omega_C_over_2():
    # The approach is slow (a ln a, a ∝ 1/T): 2 % low at 30 K, 1e-5 at 1e6 K.
    G = ph.nems_damping(np.array([1e6, 1e8]), OMEGA, C, A_PH, A_el=A_EL, x=0.17)
    assert G == pytest.approx(math.pi * OMEGA * C / 2, rel=2e-5)
    G30 = ph.nems_damping(30.0, OMEGA, C, A_PH)
    assert 0.95 < G30 / (math.pi * OMEGA * C / 2) < 1
    # Maillet Fig. 3: plateau Γ/2π ≈ 1.18 kHz.
    assert math.pi * OMEGA * C / 2 / (2 * math.pi) == pytest.approx(1.18e3, rel=0.01)
    # T = inf is the plateau itself, for every n_ph, state and path (table or quadrature)
    for n_ph, A in ((1.0, A_PH), (1.5, 5e41), (2.0, 1e52)):
        for A_el, x in ((0.0, 0.0), (A_EL, 0.17)):
            G = ph.nems_damping(np.inf, OMEGA, C, A, n_ph=n_ph, A_el=A_el, x=x)
            assert G == pytest.approx(math.pi * OMEGA * C / 2, rel=1e-15), (n_ph, x)


def test_superconducting_low_T_is_linear_in_T():
    T = np.array([1e-4, 3e-4, 1e-3])
    G = ph.nems_damping(T, OMEGA, C, A_PH)
    law = math.pi ** 2 / 6 * C * A_PH * k_B * T
    a = OMEGA / (A_PH * k_B * T)
    assert np.all(np.abs(G / law - 1) < 20 / a ** 2)


@pytest.mark.parametrize("n", [1.5, 2.0, 3.0])
def test_power_law_Tn_for_general_n(n):
    """Low-T limit: G(b) -> 1/(3b) gives Γ = (2/3) C A (k_BT)^n ∫ u^n/sinh u du."""
    A = OMEGA / (k_B * 0.3) ** n
    T = np.array([3e-4, 1e-3, 3e-3])
    G = ph.nems_damping(T, OMEGA, C, A, n_ph=n)
    integral = 2 * (1 - 2.0 ** (-n - 1)) * gamma_fn(n + 1) * zeta(n + 1)
    law = 2 / 3 * C * A * (k_B * T) ** n * integral
    assert G == pytest.approx(law, rel=1e-4)
    slope = np.diff(np.log(G)) / np.diff(np.log(T))
    assert slope == pytest.approx(n, rel=1e-4)


def test_n1_quadrature_path_matches_table_path():
    """n_ph = 1 + 1e-15 goes through the general quadrature; it must agree with the table."""
    T = np.geomspace(1e-3, 10, 25)
    table = ph.nems_damping(T, OMEGA, C, A_PH, A_el=A_EL, x=0.17)
    quad = ph.nems_damping(T, OMEGA, C, A_PH, n_ph=1.0 + 1e-15, A_el=A_EL, x=0.17)
    assert quad == pytest.approx(table, rel=1e-10)


def test_n15_tables_match_the_quadrature_over_their_domain():
    """n_ph = 3/2: the 1-D and 2-D tables (and their one-channel reductions) against the
    general quadrature path, at random points, row and panel edges and the reduction edges."""
    from tlsbayes.physics import nems

    rng = np.random.default_rng(15)
    T, om = 0.5, 2 * math.pi * 4e6
    kT = k_B * T

    def quad(x1, x2, electrons=True):
        # a_el = e^x1, a_ph = e^(x1 - x2) -> the prefactors; the quadrature never uses a table.
        A_ph = om / (kT ** 1.5 * math.exp(x1 - x2))
        A_el = om / (kT * math.exp(x1)) if electrons else 0.0
        return nems._damping_integral(T, om, A_ph, 1.5, A_el)

    t = np.concatenate([rng.uniform(-40, 40, 150), np.arange(-40.0, 40.0, 0.25)[::8], [39.999]])
    ph15 = np.array([nems.phonon_F15_of_log(v) for v in t])
    ref = np.array([quad(0.0, -v, electrons=False) for v in t])
    assert np.abs(ph15 / ref - 1).max() < 1e-12
    assert math.isnan(nems.phonon_F15_of_log(40.0)) and math.isnan(nems.phonon_F15_of_log(-40.01))

    lo, hi = nems._N15_ROW_LO, nems._N15_ROW_HI
    x1 = np.concatenate([rng.uniform(-20, 12, 300), np.arange(-20.0, 12.0), [11.999]])
    row = np.minimum((x1 + 20).astype(int), lo.size - 1)
    # x2 across the stored band and 5 units beyond it on each side (the reductions)
    x2 = rng.uniform(lo[row] - 5, hi[row] + 5)
    x2[::10] = lo[row[::10]] + rng.integers(0, 3, x2[::10].size)  # panel edges
    x2[1::10] = hi[row[1::10]] - 1e-9
    got = np.array([nems.both_F15_of_log(a, b) for a, b in zip(x1, x2)])
    ref = np.array([quad(a, b) for a, b in zip(x1, x2)])
    assert np.abs(got / ref - 1).max() < 1e-12
    for a in (-20.001, 12.0, math.nan):
        assert math.isnan(nems.both_F15_of_log(a, 0.0))
    # the public kernel falls back to the quadrature outside the tables and agrees there too
    Ts = np.geomspace(1e-4, 100.0, 30)
    A_el = ph.electron_rate_prefactor(1e-7)  # ln a_el > 12 at low T: outside the 2-D table
    got = ph.nems_damping(Ts, om, C, 5e41, n_ph=1.5, A_el=A_el, x=0.4)
    ref = [C * om * ((0.6 * nems._damping_integral(v, om, 5e41, 1.5, 0.0))
                     + 0.4 * nems._damping_integral(v, om, 5e41, 1.5, A_el)) for v in Ts]
    assert got == pytest.approx(ref, rel=1e-12)


def test_normal_state_is_mixture():
    T = np.geomspace(1e-3, 3, 9)
    GS = ph.nems_damping(T, OMEGA, C, A_PH)
    Gel = ph.nems_damping(T, OMEGA, C, A_PH + A_EL)
    GN = ph.nems_damping(T, OMEGA, C, A_PH, A_el=A_EL, x=0.17)
    assert GN == pytest.approx(0.83 * GS + 0.17 * Gel, rel=1e-14)
    assert np.all(GN >= GS)
    # No electron coupling: the N-state formula reduces to the S state whatever x is.
    assert ph.nems_damping(T, OMEGA, C, A_PH, A_el=0.0, x=0.17) == pytest.approx(GS, rel=1e-15)


def test_crossover_temperatures_of_the_paper():
    """Maillet: T*_ph ≈ 1 K, T*_el ≈ 0.9 mK at γ = 9.8 eV, K = 0.07."""
    T_ph = ph.crossover_temperature(OMEGA, A_PH)
    T_el = ph.crossover_temperature(OMEGA, A_PH + A_EL)
    assert 0.75 < T_ph < 1.25
    assert 0.8e-3 < T_el < 1.0e-3


def test_rate_prefactors():
    assert ph.electron_rate_prefactor(0.07) == pytest.approx(4 * math.pi * 0.07 / 1.054571817e-34)
    gam = 9.8 * 1.602176634e-19
    assert A_PH == pytest.approx(gam ** 2 / (1.054571817e-34 ** 2 * 2900 * 130e-9 * 300e-9 * 6000 ** 3))


# --- frequency shift ---------------------------------------------------------------------

def test_shift_vanishes_as_T_to_0_like_minus_1_over_24y2():
    f0 = 1e9
    T = np.array([1e-5, 3e-5, 1e-4])
    y = h * f0 / (2 * math.pi * k_B * T)
    s = ph.tls_frequency_shift(T, f0, math.pi)  # F δ0 = π makes the result the bracket itself
    # Two leading terms: -1/(24 y²) - 7/(960 y⁴); the next is O(y^-6).
    assert s * 24 * y ** 2 == pytest.approx(-1.0 - 7 * 24 / 960 / y ** 2, rel=1e-8)
    assert ph.tls_frequency_shift(0.0, f0, 1.0) == 0.0


def test_shift_log_slope_is_F_delta0_over_pi():
    f0, Fd = 0.8e9, 1e-5
    T = np.array([20.0, 40.0])
    s = ph.tls_frequency_shift(T, f0, Fd)
    assert (s[1] - s[0]) / math.log(2) == pytest.approx(Fd / math.pi, rel=1e-4)


def test_shift_accurate_on_both_sides_of_regime_boundaries():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    for y0 in (0.2, 7.0):
        for y in (y0 * (1 - 1e-9), y0, y0 * (1 + 1e-9)):
            ref = mp.re(mp.digamma(mp.mpf("0.5") + 1j * mp.mpf(y))) - mp.log(mp.mpf(y))
            assert abs(ph.shift_bracket(y) - float(ref)) < 2e-15


def test_log_shift_form():
    T = np.array([0.1, 0.5, 2.0])
    s = ph.tls_log_shift(T, 2.1e-5, 0.1, a3=1e-7)
    assert s == pytest.approx(2.1e-5 * np.log(T / 0.1) + 1e-7 * T ** 3, rel=1e-15)
    assert ph.tls_log_shift(0.1, 2.1e-5, 0.1) == 0.0


# --- Q-power -----------------------------------------------------------------------------

def test_inverse_q_matches_formula_and_limits():
    T, f = 0.246, 0.809e9
    E = np.geomspace(1e-2, 1e6, 50)
    d0, dother, Ec, beta = 8.9e-6, 0.9e-6, 3.4, 0.20
    got = ph.tls_inverse_q(T, f, E, d0, dother, Ec, beta)
    th = math.tanh(h * f / (2 * k_B * T))
    assert got == pytest.approx(dother + d0 * th / (1 + (E / Ec) ** 2) ** beta, rel=1e-14)
    assert ph.tls_inverse_q(T, f, 0.0, d0, dother, Ec, beta) == pytest.approx(dother + d0 * th)
    # Power-like saturation variable: P ∝ E², so (P/P_c) = (E/E_c)².
    got_p = ph.tls_inverse_q(T, f, (E / 7.0) ** 2, d0, dother, (Ec / 7.0) ** 2, beta,
                             power_like=True)
    assert got_p == pytest.approx(got, rel=1e-13)
    # No overflow for absurd fields: the TLS term goes to zero smoothly.
    assert ph.tls_inverse_q(T, f, 1e200, d0, dother, Ec, 0.5) == pytest.approx(dother)


def test_field_and_photon_number_at_minus_100_dBm():
    """Eq. 6 with the Table 1 geometry gives ~70-90 V/m at -100 dBm, not 500 V/m."""
    P = 10 ** (-100 / 10) * 1e-3
    f, Qc, Qi = 0.81e9, 8e3, 1 / 9.8e-6
    Qr = 1 / (1 / Qi + 1 / Qc)
    E = ph.field_from_power(P, f, Qr, Qc, A0=265e-6 * 1236e-6, d=800e-9)
    assert 60 < E < 95
    N = ph.photon_number(P, f, Qr, Qc)
    # W = N h f and W = ε A0 d E² (two capacitors in series): both are the stored energy.
    eps = 11.68 * 8.8541878128e-12
    assert N * h * f == pytest.approx(eps * 265e-6 * 1236e-6 * 800e-9 * E ** 2 * 2, rel=1e-9)


def test_self_consistent_solution_is_a_fixed_point():
    P = np.geomspace(1e-18, 1e-10, 9)
    args = dict(T=0.246, f=0.809e9, Qc=8e3, delta0=8.9e-6, delta_other=0.9e-6, E_c=3.4,
                beta=0.2, A0=265e-6 * 1236e-6, d=800e-9)
    Qi, E = ph.self_consistent_qi(P, **args)
    Qr = 1 / (1 / Qi + 1 / args["Qc"])
    E_check = ph.field_from_power(P, args["f"], Qr, args["Qc"], args["A0"], args["d"])
    assert E == pytest.approx(E_check, rel=1e-12)
    invq = ph.tls_inverse_q(args["T"], args["f"], E, args["delta0"], args["delta_other"],
                            args["E_c"], args["beta"])
    assert 1 / Qi == pytest.approx(invq, rel=1e-12)
    # Independent root finding on one point.
    from scipy.optimize import brentq

    def resid(q):
        qr = 1 / (1 / q + 1 / args["Qc"])
        e = ph.field_from_power(P[5], args["f"], qr, args["Qc"], args["A0"], args["d"])
        return 1 / q - ph.tls_inverse_q(args["T"], args["f"], e, args["delta0"],
                                        args["delta_other"], args["E_c"], args["beta"])
    assert Qi[5] == pytest.approx(brentq(resid, 1e3, 1e8, xtol=1e-6, rtol=1e-14), rel=1e-12)
