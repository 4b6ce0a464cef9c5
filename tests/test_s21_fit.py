"""Circle-fit start, least-squares refinement and quality checks on simulated S21 traces."""

import numpy as np
import pytest

from tlsbayes.physics import s21 as k
from tlsbayes.s21 import circle, lsq, quality
from tlsbayes.s21.simulate import simulate_trace, theta_from_q

F0 = 5.7e9


def grid(n_lw=12.0, Ql=1.5e5, m=1001, center=F0):
    half = 0.5 * n_lw * center / Ql
    return np.linspace(center - half, center + half, m)


@pytest.mark.parametrize("seed", range(5))
def test_pratt_circle_fit_recovers_noisy_circles(seed):
    rng = np.random.default_rng(seed)
    c = complex(*rng.normal(size=2))
    r = rng.uniform(0.05, 3)
    # an arc of 200 degrees only, points bunched at one end (as off-resonant points are)
    ang = rng.uniform(0, 2 * np.pi) + np.deg2rad(200) * rng.beta(0.5, 2, size=400)
    noise = 1e-3 * r
    z = c + r * np.exp(1j * ang) + noise * (rng.normal(size=400) + 1j * rng.normal(size=400))
    fit = circle.fit_circle(z)
    assert abs(fit.center - c) < 20 * noise
    assert fit.radius == pytest.approx(r, abs=20 * noise)
    assert fit.rms == pytest.approx(noise, rel=0.3)
    exact = circle.fit_circle(c + r * np.exp(1j * ang))
    assert abs(exact.center - c) < 1e-9 * r and exact.radius == pytest.approx(r, rel=1e-9)


def test_collinear_points_give_an_infinite_radius():
    assert circle.fit_circle(np.linspace(0, 1, 50) * (1 + 1j)).radius == np.inf


CASES = [
    # Qi, |Qc|, phi, a, a1 (per Hz), alpha, tau, n_lw, sigma (in units of a)
    (8e5, 2e5, 0.3, 0.05, 1e-9, 1.1, 4e-8, 12, 2e-3),
    (3e5, 9e5, -0.6, 0.8, -1e-7, -2.9, 6e-8, 8, 5e-3),
    (2e6, 1.5e5, 0.05, 0.2, 0.0, 3.0, -2e-8, 20, 1e-3),
]


@pytest.mark.parametrize("geometry", ["notch", "reflection", "inverse"])
@pytest.mark.parametrize("case", CASES)
def test_start_and_least_squares_recover_simulated_traces(case, geometry):
    Qi, Qc, phi, a, a1, alpha, tau, n_lw, s = case
    Ql = 1 / (1 / Qi + np.cos(phi) / Qc)
    fr = F0 + 0.1 * F0 / Ql
    f = grid(n_lw, Ql)
    truth = theta_from_q(fr, Qi, Qc, phi, a, a1, alpha, tau)
    rng = np.random.default_rng(11)
    z = simulate_trace(f, truth, s * a, rng, geometry=geometry)
    start = circle.circle_start(f, z, geometry)
    # the start is close enough to be a start: within 30 % on Q and a linewidth on f_r
    q0 = k.derived_q(start.theta, geometry)
    qt = k.derived_q(truth, geometry)
    assert q0["Ql"] == pytest.approx(qt["Ql"], rel=0.3)
    assert abs(start.theta[k.I_FR] - fr) < fr / Ql
    fit = lsq.refine(f, z, start.theta, start.f_ref, geometry)
    assert fit.success
    err = np.sqrt(np.diag(fit.cov))
    pull = (fit.theta - truth) / err
    pull[k.I_ALPHA] = np.angle(np.exp(1j * (fit.theta[k.I_ALPHA] - alpha))) / err[k.I_ALPHA]
    assert np.all(np.abs(pull) < 5), dict(zip(k.PARAMS, pull))
    assert fit.sigma_fit == pytest.approx(s * a, rel=0.1)
    assert fit.sigma_diff == pytest.approx(s * a, rel=0.1)
    assert quality.assess(f, z, fit, start.f_ref, geometry).status == quality.OK


def _fit(f, z, geometry="notch"):
    start = circle.circle_start(f, z, geometry)
    fit = lsq.refine(f, z, start.theta, start.f_ref, geometry)
    return quality.assess(f, z, fit, start.f_ref, geometry)


def test_quality_short_span_is_flagged():
    Ql = 2e5
    f = grid(2.0, Ql, m=401)
    z = simulate_trace(f, theta_from_q(F0, 4e5, 4e5, 0.1, 1.0), 1e-3, np.random.default_rng(1))
    q = _fit(f, z)
    assert q.status == quality.FLAGGED and "linewidths" in q.reason


def test_quality_no_resonance_fails():
    f = grid()
    rng = np.random.default_rng(2)
    z = 0.3 * np.exp(0.4j) * np.ones_like(f) + 1e-3 * (rng.normal(size=f.size)
                                                        + 1j * rng.normal(size=f.size))
    q = _fit(f, z)
    assert q.status == quality.FAILED


def test_quality_second_dip_is_flagged():
    Ql = 1.5e5
    f = grid(30, Ql)
    main = theta_from_q(F0, 5e5, 2e5, 0.1, 1.0, tau=2e-8)
    z = simulate_trace(f, main, 2e-3, np.random.default_rng(3))
    other = theta_from_q(F0 + 9 * F0 / Ql, 4e5, 4e5, 0.0, 1.0, tau=2e-8)
    z = z * k.s21_batch(f, other[None, :], 0.5 * (f[0] + f[-1]), k.NOTCH)[0]
    q = _fit(f, z)
    assert q.status != quality.OK and "second dip" in q.reason


def test_quality_negative_qi_fails():
    f = grid()
    theta = theta_from_q(F0, 1e6, 2e5, 0.0, 1.0)
    theta[k.I_INV_QI] = -0.4 * theta[k.I_INV_QC]  # gain: |S21| above the baseline
    z = simulate_trace(f, theta, 1e-3, np.random.default_rng(4))
    q = _fit(f, z)
    assert q.status == quality.FAILED and "Q_i <= 0" in q.reason


def test_quality_distorted_lineshape_is_flagged():
    # a Duffing-like (bifurcating) response: the resonance is pulled by its own amplitude
    Ql = 1.5e5
    f = grid(12, Ql)
    theta = theta_from_q(F0, 5e5, 2e5, 0.0, 1.0)
    fr = np.full(f.size, F0)
    for _ in range(200):
        s = np.array([k.s21_point(fi, F0, k.NOTCH, fri, *theta[1:]) for fi, fri in zip(f, fr)])
        fr = 0.7 * fr + 0.3 * (F0 - 1.5 * F0 / Ql * np.abs(1 - s) ** 2 / (Ql / 2e5) ** 2)
    z = s + 1e-3 * (np.random.default_rng(5).normal(size=f.size) * (1 + 1j))
    q = _fit(f, z)
    assert q.status != quality.OK and "residuals" in q.reason


def test_circle_traversed_the_other_way_is_conjugated(tmp_path):
    # the opposite time convention conjugates S21: same resonance, circle run clockwise
    from tlsbayes.s21 import fit, readers

    Qi, Qc, phi = 4e5, 2e5, 0.3
    f = grid(12, 1.0 / (1 / Qi + np.cos(phi) / Qc))
    z = simulate_trace(f, theta_from_q(F0, Qi, Qc, phi, 0.6, 1e-9, 1.0, 4e-8), 2e-3,
                       np.random.default_rng(6))
    want = fit.fit_trace(readers.make_trace("a_-30dB.csv", f, z, -30, np.nan), sample=False)
    assert want.status == quality.OK and not want.values["conjugated"]
    # written conjugated and with the frequency column descending
    p = tmp_path / "b_-30dB_10mK.csv"
    zc = np.conj(z)[::-1]
    np.savetxt(p, np.column_stack([f[::-1], 20 * np.log10(np.abs(zc)), np.rad2deg(np.angle(zc))]),
               delimiter=",")
    (tr,) = readers.read_trace(p)
    got = fit.fit_trace(tr, sample=False)
    assert got.status == quality.OK and got.values["conjugated"]
    for key in ("Qi", "Qc", "Ql", "f_res_Hz"):
        assert got.values[key] == pytest.approx(want.values[key], rel=1e-6)
    assert got.values["Qi"] == pytest.approx(Qi, rel=0.1)


def test_curved_background_is_chosen_only_when_the_data_need_it():
    # the NYU traces' case: background phase and amplitude bend across the span
    from tlsbayes.s21 import fit, readers

    Qi, Qc, phi = 3e5, 1.5e5, 0.2
    f = grid(10, 1.0 / (1 / Qi + np.cos(phi) / Qc))
    theta = theta_from_q(F0, Qi, Qc, phi, 0.5, 0.0, 0.4, 3e-8)
    h = 0.5 * (f[-1] - f[0])
    f_ref = 0.5 * (f[0] + f[-1])
    rng = np.random.default_rng(7)
    plain = simulate_trace(f, theta, 2e-3, rng)
    curved = plain * (1 + complex(0.02, 0.03) * ((f - f_ref) / h) ** 2)
    got = {}
    for name, z in (("plain", plain), ("curved", curved)):
        got[name] = fit.fit_trace(readers.make_trace(f"{name}_-30dB.csv", f, z, -30, np.nan),
                                  sample=False)
    assert got["plain"].values["background"] == "linear"
    c = got["curved"]
    assert c.values["background"] == "curved" and c.names[8:10] == k.BG_PARAMS
    assert c.status == quality.OK and c.values["sigma_fit"] < 1.2 * c.values["sigma_diff"]
    half = 0.5 * (c.values["Qi_q84"] - c.values["Qi_q16"])
    assert abs(c.values["Qi"] - Qi) < 4 * half
    # without the curvature the same trace is misfit (the residuals carry the bend)
    start = circle.circle_start(f, curved)
    lin = lsq.refine(f, curved, start.theta, start.f_ref)
    assert lin.sigma_fit > 1.5 * lin.sigma_diff


def test_phi_is_returned_on_the_branch_with_positive_qc():
    # S21 depends on φ only through tan φ: a start on another branch must come back to
    # (-π/2, π/2], where |Q_c| = cos φ/inv_Qc > 0 and the prior of the posterior lives
    f = grid()
    theta = theta_from_q(F0, 5e5, 2e5, -1.3, 0.7, 0.0, 0.5, 2e-8)
    z = simulate_trace(f, theta, 1e-3, np.random.default_rng(8))
    start = circle.circle_start(f, z)
    shifted = start.theta.copy()
    shifted[k.I_PHI] += 2 * np.pi
    a = lsq.refine(f, z, start.theta, start.f_ref)
    b = lsq.refine(f, z, shifted, start.f_ref)
    assert -np.pi / 2 < b.theta[k.I_PHI] <= np.pi / 2
    assert b.theta[k.I_PHI] == pytest.approx(a.theta[k.I_PHI], abs=1e-6)
    assert k.derived_q(b.theta)["Qc_abs"] > 0
