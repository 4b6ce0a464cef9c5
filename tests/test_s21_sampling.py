"""Per-trace posteriors sampled to convergence (tlsbayes.s21.fit.fit_trace) on simulated traces."""

import numpy as np
import pytest

from tlsbayes.physics import s21 as k
from tlsbayes.s21.fit import fit_trace
from tlsbayes.s21.readers import make_trace
from tlsbayes.s21.simulate import simulate_trace, theta_from_q

F = np.linspace(5.7e9 - 4e5, 5.7e9 + 4e5, 1001)
TRUTH = theta_from_q(5.7e9 + 2e4, 7e5, 2.2e5, -0.35, 0.08, 3e-9, -1.2, 5.5e-8)


@pytest.mark.parametrize("noise", ["estimate", "free"])
def test_posterior_recovers_simulated_trace(noise):
    sigma = 0.08 * 0.2 / 60  # dip 60 times the noise per point
    z = simulate_trace(F, TRUTH, sigma, np.random.default_rng(21))
    res = fit_trace(make_trace("sim", F, z, -60.0, 0.01), noise=noise, seed=3)
    assert res.status == "ok", res.reason
    v = res.values
    assert v["converged"]
    d = k.derived_q(TRUTH)
    for name, key in (("Qi", "Qi"), ("Ql", "Ql"), ("Qc", "Qc"), ("f_res_Hz", "f_r")):
        lo, hi = v[name + "_q16"], v[name + "_q84"]
        half = 0.5 * (hi - lo)
        assert lo < v[name] < hi
        assert abs(v[name] - d[key]) < 4 * half, (name, v[name], d[key], half)
    if noise == "free":
        s = np.exp(np.median(res.samples[:, -1]))
        assert s == pytest.approx(sigma, rel=0.05)


def test_same_seed_same_chain():
    z = simulate_trace(F, TRUTH, 3e-4, np.random.default_rng(2))
    tr = make_trace("sim", F, z, -60.0, 0.01)
    a, b = fit_trace(tr, seed=7), fit_trace(tr, seed=7)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_failed_trace_is_not_sampled():
    rng = np.random.default_rng(4)
    z = 0.1 + 1e-3 * (rng.normal(size=F.size) + 1j * rng.normal(size=F.size))
    res = fit_trace(make_trace("flat", F, z, -60.0, 0.01))
    assert res.status == "failed" and res.samples is None and res.reason
    row = res.row()
    assert row["status"] == "failed" and row["file"] == "flat"
