"""Property-based tests: no kernel returns NaN or overflows anywhere in the realistic box.

Box: T from 0.1 mK to 100 K, a from 1e-12 to 1e12, f from 1 MHz to 20 GHz, and parameters
spanning every physically sensible decade.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsbayes import physics as ph
from tlsbayes.physics.constants import k_B


def log_uniform(lo, hi):
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)


T_box = log_uniform(1e-4, 100.0)
f_box = log_uniform(1e6, 20e9)
PROFILE = settings(max_examples=300, deadline=None)


@PROFILE
@given(a=log_uniform(1e-12, 1e12))
def test_F_finite_positive_and_bounded(a):
    F = ph.nems_universal_F(a)
    assert math.isfinite(F)
    assert 0.0 < F <= math.pi / 2
    assert F <= math.pi ** 2 / (6 * a) * (1 + 1e-12)


@PROFILE
@given(b=st.one_of(log_uniform(1e-300, 1e300), st.just(0.0), st.just(math.inf)))
def test_v_integral_finite_and_bounded(b):
    g = ph.v_integral(b)
    assert math.isfinite(g) and 0.0 <= g <= math.pi / 4


@PROFILE
@given(T=T_box, f0=f_box, Fd=log_uniform(1e-8, 1e-2))
def test_frequency_shift_finite_and_bounded(T, f0, Fd):
    s = ph.tls_frequency_shift(T, f0, Fd)
    assert math.isfinite(s)
    # Re ψ(1/2 + iy) is increasing in y and below ln|1/2 + iy|, so the bracket lies between
    # the high-T logarithm ψ(1/2) - ln y and ½ ln(1 + 1/4y²).
    y = 6.62607015e-34 * f0 / (2 * math.pi * k_B * T)
    lo = max(-1.9635100260214235 - math.log(y), -0.21)
    hi = 0.5 * math.log1p(1 / (4 * y * y))
    tol = 1e-13 * Fd
    assert Fd / math.pi * lo - tol <= s <= Fd / math.pi * hi + tol


@PROFILE
@given(T=T_box, f=f_box, x=log_uniform(1e-6, 1e12), d0=log_uniform(1e-8, 1e-2),
       do=log_uniform(1e-9, 1e-3), xc=log_uniform(1e-3, 1e6), beta=st.floats(0.05, 1.0),
       power_like=st.booleans())
def test_inverse_q_finite_and_between_its_limits(T, f, x, d0, do, xc, beta, power_like):
    q = ph.tls_inverse_q(T, f, x, d0, do, xc, beta, power_like=power_like)
    assert math.isfinite(q)
    assert do <= q <= do + d0


@PROFILE
@given(T=T_box, omega=log_uniform(2 * math.pi * 1e4, 2 * math.pi * 1e10),
       C=log_uniform(1e-7, 1e-3), a_ph=log_uniform(1e-12, 1e12),
       a_el=log_uniform(1e-12, 1e12), x=st.floats(0.0, 1.0))
def test_damping_n1_finite_and_below_plateau(T, omega, C, a_ph, a_el, x):
    # Parametrise the prefactors by their a at this T, so every a in the box is reached.
    A_ph = omega / (a_ph * k_B * T)
    A_el = omega / (a_el * k_B * T)
    G = ph.nems_damping(T, omega, C, A_ph, A_el=A_el, x=x)
    assert math.isfinite(G)
    assert 0.0 < G <= math.pi * omega * C / 2 * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(T=T_box, n=st.sampled_from([1.5, 2.0, 3.0]), a_ph=log_uniform(1e-12, 1e12),
       a_el=log_uniform(1e-12, 1e12), x=st.floats(0.0, 1.0))
def test_damping_general_n_finite_and_below_plateau(T, n, a_ph, a_el, x):
    omega, C = 2 * math.pi * 17.5e6, 4.3e-5
    A_ph = omega / (a_ph * (k_B * T) ** n)
    A_el = omega / (a_el * k_B * T)
    G = ph.nems_damping(T, omega, C, A_ph, n_ph=n, A_el=A_el, x=x)
    assert math.isfinite(G)
    assert 0.0 <= G <= math.pi * omega * C / 2 * (1 + 1e-9)


@PROFILE
@given(P=log_uniform(1e-22, 1e-6), f=f_box, Qc=log_uniform(1e2, 1e7),
       d0=log_uniform(1e-8, 1e-3), do=log_uniform(1e-9, 1e-4), Ec=log_uniform(1e-2, 1e5),
       beta=st.floats(0.1, 0.6), T=T_box)
def test_self_consistent_finite_and_consistent(P, f, Qc, d0, do, Ec, beta, T):
    A0, d = 265e-6 * 1236e-6, 800e-9
    Qi, E = ph.self_consistent_qi(P, T, f, Qc, d0, do, Ec, beta, A0, d)
    assert math.isfinite(Qi) and math.isfinite(E) and Qi > 0 and E > 0
    assert 1 / (do + d0) * (1 - 1e-12) <= Qi <= 1 / do * (1 + 1e-12)
    Qr = 1 / (1 / Qi + 1 / Qc)
    assert np.isclose(E, ph.field_from_power(P, f, Qr, Qc, A0, d), rtol=1e-9)


@PROFILE
@given(Qc=log_uniform(1e2, 1e7), a=log_uniform(1e-8, 1e-3), do=log_uniform(1e-9, 1e-4),
       beta=st.floats(0.1, 0.6), kc_lo=log_uniform(1e-24, 1e-4), decades=st.floats(0.0, 12.0))
def test_batched_self_consistent_solver_is_the_fixed_point(Qc, a, do, beta, kc_lo, decades):
    """The lockstep solver of the Qi(P) likelihood against brentq on the fixed-point equation.

    Where strong saturation makes the equation bistable (e.g. Qc = 1e6, a = 5.6e-4, δ_other =
    1e-7, β = 0.56, kc = 1.8e-7 has fixed points at Qi = 3124 and 284 724), the solver returns
    the largest Qi (the upper branch, reached from the largest field): the reference is the
    largest root, found by scanning down from Qi at loaded Q = Qc."""
    from scipy.optimize import brentq

    kc = kc_lo * np.geomspace(1.0, 10.0 ** decades, 9)
    out = np.empty(kc.size)
    ph.self_consistent_inverse_q(kc, Qc, a, do, beta, 1e-12, 60, out)
    for k, inv_q in zip(kc, out):
        def h(lq, k=k):
            q = math.exp(lq)
            qr = 1.0 / (1.0 / q + 1.0 / Qc)
            return q - 1.0 / (do + a * (1.0 + k * qr * qr) ** -beta)
        # every root lies between the unsaturated Qi and Qi at loaded Q = Qc (largest field),
        # where h >= 0: the first sign change scanning down from there brackets the largest
        lo = -math.log(do + a) - 1e-9
        hi = -math.log(do + a * (1.0 + k * Qc * Qc) ** -beta) + 1e-9
        grid = np.linspace(hi, lo, 4001)
        top = next(j for j in range(1, grid.size) if h(grid[j]) <= 0.0)
        ref = math.exp(brentq(h, grid[top], grid[top - 1], xtol=1e-16, rtol=1e-15))
        assert 1.0 / inv_q == pytest.approx(ref, rel=1e-11)
        q_scalar, _ = ph.self_consistent_core(k, Qc, a, do, beta, 1e-12, 60)
        assert 1.0 / inv_q == pytest.approx(q_scalar, rel=1e-12)
