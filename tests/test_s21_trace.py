"""The per-trace posterior object (tlsbayes.s21.trace)."""

import math

import numpy as np
import pytest

from tlsbayes.physics import s21 as k
from tlsbayes.s21 import circle, lsq
from tlsbayes.s21.simulate import simulate_trace, theta_from_q
from tlsbayes.s21.trace import TracePosterior

F = np.linspace(6e9 - 3e5, 6e9 + 3e5, 401)
TRUTH = theta_from_q(6e9 + 1e4, 6e5, 2.5e5, 0.25, 0.3, 2e-9, 2.0, 3e-8)
SIGMA = 1e-3


@pytest.fixture(scope="module")
def fitted():
    z = simulate_trace(F, TRUTH, SIGMA, np.random.default_rng(5))
    start = circle.circle_start(F, z)
    return z, start, lsq.refine(F, z, start.theta, start.f_ref)


@pytest.mark.parametrize("noise", ["estimate", "free"])
def test_log_prob_is_the_gaussian_likelihood(fitted, noise):
    z, start, fit = fitted
    post = TracePosterior(F, z, fit, start.f_ref, noise=noise)
    assert post.names[:8] == k.PARAMS and post.ndim == 8 + (noise == "free")
    pts = post.start(16, np.random.default_rng(0))
    assert pts.shape == (16, post.ndim) and np.all(post.in_support(pts))
    lp, lprior, ll = post(pts)
    assert lp.shape == (16,) and np.all(np.isfinite(lp))
    for i in range(3):
        s = math.exp(pts[i, -1]) if noise == "free" else fit.sigma_fit
        model = k.s21(F, **dict(zip(k.PARAMS, pts[i, :8])), f_ref=start.f_ref)
        rss = np.sum(np.abs(z - model) ** 2)
        want = -rss / (2 * s * s) - 2 * F.size * math.log(s) - F.size * math.log(2 * math.pi)
        assert ll[i] == pytest.approx(want, rel=1e-10)
    np.testing.assert_array_equal(lp, lprior + ll)


def test_prior_support(fitted):
    z, start, fit = fitted
    post = TracePosterior(F, z, fit, start.f_ref)
    base = post.optimum()
    bad = []
    for name, value in [("inv_Qi", -1e-9), ("f_r", F[0] - 1), ("phi", 1.6), ("a", -0.1),
                        ("alpha", base[k.I_ALPHA] + 3.2), ("a1", 10 * base[k.I_A] / 6e5)]:
        th = base.copy()
        th[post.names.index(name)] = value
        bad.append(th)
    lp, _, ll = post(np.array(bad))
    assert np.all(lp == -np.inf) and np.all(ll == -np.inf)
    with pytest.raises(ValueError, match="noise"):
        TracePosterior(F, z, fit, start.f_ref, noise="fixed")


def test_derived_match_kernel(fitted):
    z, start, fit = fitted
    post = TracePosterior(F, z, fit, start.f_ref)
    d = post.derived(post.optimum()[None, :])
    assert d["Qi"][0] == pytest.approx(6e5, rel=0.2)
    assert d["Qc"][0] == pytest.approx(2.5e5 / math.cos(0.25), rel=0.05)
