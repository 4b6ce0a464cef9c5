"""S21 kernels (tlsbayes.physics.s21) against an independent slow twin and exact limits."""

import numpy as np
import pytest

from tlsbayes.physics import s21 as k

F0 = 6.0e9
F = np.linspace(F0 - 3e5, F0 + 3e5, 301)


def twin(f, fr, Qi, Qc_abs, phi, a, a1, alpha, tau, f_ref, geometry):
    """Textbook formulas with numpy complex arithmetic, parametrised by (Q_i, |Q_c|, φ).

    Notch: Khalil 2012 / Probst 2015, Ql from 1/Ql = 1/Qi + cos(phi)/|Qc|; reflection: the
    same with 2 Ql/|Qc|; inverse: Megrant 2012 with Qi and |Qc*| directly.
    """
    x = f / fr - 1.0
    env = (a + a1 * (f - f_ref)) * np.exp(1j * alpha) * np.exp(-2j * np.pi * (f - f_ref) * tau)
    if geometry == "inverse":
        res = 1.0 / (1.0 + (Qi / Qc_abs) * np.exp(1j * phi) / (1.0 + 2j * Qi * x))
    else:
        Ql = 1.0 / (1.0 / Qi + np.cos(phi) / Qc_abs)
        kk = 2.0 if geometry == "reflection" else 1.0
        res = 1.0 - kk * (Ql / Qc_abs) * np.exp(1j * phi) / (1.0 + 2j * Ql * x)
    return env * res


CASES = [
    # fr, Qi, |Qc|, phi, a, a1, alpha, tau
    (F0 + 1.2e4, 8e5, 2e5, 0.3, 0.05, 2e-9, 1.1, 4e-8),
    (F0 - 3e4, 3e4, 9e5, -0.8, 1.3, -1e-7, -2.9, -7e-9),
    (F0, 1e7, 1e5, 0.0, 0.2, 0.0, 0.0, 0.0),
]


def theta_of(fr, Qi, Qc_abs, phi, a, a1, alpha, tau):
    return np.array([fr, 1 / Qi, np.cos(phi) / Qc_abs, phi, a, a1, alpha, tau])


@pytest.mark.parametrize("geometry", ["notch", "inverse", "reflection"])
@pytest.mark.parametrize("case", CASES)
def test_kernel_matches_twin(geometry, case):
    f_ref = F0 + 1e3
    theta = theta_of(*case)
    got = k.s21_batch(F, theta[None, :], f_ref, k.geometry_code(geometry))[0]
    want = twin(F, *case, f_ref, geometry)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * case[4])
    one = k.s21_point(F[7], f_ref, k.geometry_code(geometry), *theta)
    assert abs(one - want[7]) < 1e-10 * abs(want[7])
    kw = k.s21(F, **dict(zip(k.PARAMS, theta)), f_ref=f_ref, geometry=geometry)
    np.testing.assert_allclose(kw, want, rtol=1e-10, atol=1e-10 * case[4])


def test_batch_over_walkers_and_residual_kernel():
    thetas = np.array([theta_of(*c) for c in CASES])
    z = twin(F, *CASES[0], F0, "notch") + 1e-3 * (1 + 1j)
    out = k.s21_batch(F, thetas, F0, k.NOTCH)
    assert out.shape == (3, F.size)
    rss = k.sq_residual_batch(F, z.real.copy(), z.imag.copy(), thetas, F0, k.NOTCH)
    want = [np.sum(np.abs(z - twin(F, *c, F0, "notch")) ** 2) for c in CASES]
    np.testing.assert_allclose(rss, want, rtol=1e-10)
    assert rss[0] == pytest.approx(F.size * 2e-6, rel=1e-6)


@pytest.mark.parametrize("geometry", ["notch", "inverse", "reflection"])
def test_uniform_grid_recurrence_matches_exact_phase(geometry):
    f = np.linspace(F0 - 5e5, F0 + 5e5, 1001)
    step = k.uniform_step(f)
    assert step == pytest.approx(1e3)
    assert k.uniform_step(np.r_[f[:500], f[501:]]) == 0.0
    thetas = np.array([theta_of(*c) for c in CASES])
    thetas[:, k.I_TAU] = [3e-7, -8e-8, 1e-6]  # many turns across the span
    g = k.geometry_code(geometry)
    z = twin(f, *CASES[1], F0, geometry) * 1.001
    exact = k.sq_residual_batch(f, z.real.copy(), z.imag.copy(), thetas, F0, g)
    fast = k.sq_residual_batch(f, z.real.copy(), z.imag.copy(), thetas, F0, g, step)
    want = [np.sum(np.abs(z - twin(f, *t, F0, geometry)) ** 2) for t in
            [(th[0], 1 / th[1], np.cos(th[3]) / th[2], *th[3:]) for th in thetas]]
    np.testing.assert_allclose(exact, want, rtol=1e-8)
    np.testing.assert_allclose(fast, exact, rtol=1e-9)


@pytest.mark.parametrize("case", CASES[:2])
def test_dcm_and_inverse_describe_the_same_circle(case):
    theta = theta_of(*case)
    inv = k.inverse_from_notch(theta)
    a = k.s21_batch(F, theta[None, :], F0, k.NOTCH)[0]
    b = k.s21_batch(F, inv[None, :], F0, k.INVERSE)[0]
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(k.notch_from_inverse(inv), theta, rtol=1e-13)
    # Q_i differs by the factor 1 + sin(phi)/(2|Qc|): order 1/|Qc|, not zero for phi != 0
    qd, qi = k.derived_q(theta), k.derived_q(inv, "inverse")
    delta = np.sin(case[3]) / (2 * case[2])
    assert qi["Qi"] == pytest.approx(qd["Qi"] * (1 + delta), rel=1e-12)


def test_limits_on_and_off_resonance():
    fr, Qi, Qc, phi = F0, 2e5, 1e5, 0.0
    theta = theta_of(fr, Qi, Qc, phi, 1.0, 0.0, 0.0, 0.0)
    z = k.s21_batch(np.array([fr, fr * 10]), theta[None, :], F0, k.NOTCH)[0]
    Ql = 1 / (1 / Qi + 1 / Qc)
    assert z[0].real == pytest.approx(1 - Ql / Qc, rel=1e-12)  # depth Ql/Qc = Qi/(Qi+Qc)
    assert abs(z[0].imag) < 1e-12
    assert abs(z[1] - 1) < 1e-4  # far off resonance: the line only
    r = k.s21_batch(np.array([fr]), theta[None, :], F0, k.REFLECTION)[0][0]
    assert r.real == pytest.approx((Qc - Qi) / (Qc + Qi), rel=1e-12)  # critical coupling: 0


def test_derived_quantities():
    theta = theta_of(F0, 4e5, 2e5, 0.5, 1, 0, 0, 0)
    d = k.derived_q(theta)
    assert d["Qi"] == pytest.approx(4e5)
    assert d["Qc_abs"] == pytest.approx(2e5)
    assert d["Qc"] == pytest.approx(2e5 / np.cos(0.5))
    assert 1 / d["Ql"] == pytest.approx(1 / 4e5 + np.cos(0.5) / 2e5)
    with pytest.raises(ValueError, match="unknown S21 geometry"):
        k.geometry_code("transmission")


@pytest.mark.parametrize("geometry", ["notch", "inverse"])
def test_background_curvature_matches_twin(geometry):
    # B(f) = 1 + b2 (f - f_ref)², b2 complex [1/Hz²], on top of every walker's line
    thetas = np.array([theta_of(*c) for c in CASES])
    h = 0.5 * (F[-1] - F[0])
    bg = np.array([[0.3, -0.2], [0.0, 0.5], [-0.4, 0.0]]) / h ** 2
    g = k.geometry_code(geometry)
    want = np.array([twin(F, *c, F0, geometry) * (1 + complex(*b) * (F - F0) ** 2)
                     for c, b in zip(CASES, bg)])
    np.testing.assert_allclose(k.s21_batch(F, thetas, F0, g, bg), want, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(k.model_batch(F, np.hstack([thetas, bg]), F0, g), want,
                               rtol=1e-10, atol=1e-12)
    z = want[0] + 1e-3 * (1 - 2j)
    rss_want = np.sum(np.abs(z - want) ** 2, axis=1)
    for step in (0.0, k.uniform_step(F)):
        rss = k.sq_residual_batch(F, z.real.copy(), z.imag.copy(), thetas, F0, g, step, bg)
        np.testing.assert_allclose(rss, rss_want, rtol=1e-9)
