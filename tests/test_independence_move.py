"""The independence Metropolis move (tlsbayes.sampling.independence) against known truths."""

import numpy as np
import pytest
from scipy import stats

from tlsbayes.errors import SamplingError
from tlsbayes.sampling import SamplerSettings, run
from tlsbayes.sampling.independence import IndependenceMove
from tlsbayes.sampling.moves import build_moves

MEAN = np.array([1.0, -2.0, 0.5])
COV = np.array([[1.0, 0.6, 0.0], [0.6, 2.0, -0.3], [0.0, -0.3, 0.5]])
PREC = np.linalg.inv(COV)


def gauss(theta):
    d = theta - MEAN
    return -0.5 * np.einsum("ij,jk,ik->i", d, PREC, d)


def _chain(seed, proposal):
    settings = SamplerSettings(nwalkers=24, chunk=200, moves="independence", seed=seed,
                               progress=False, max_steps=4000)
    p0 = MEAN + np.random.default_rng(seed).normal(scale=0.1, size=(24, 3))
    return run(lambda t: gauss(t), p0, settings, blob_names=(), proposal=proposal)


def test_samples_gaussian_even_with_poor_proposal():
    # Off-centre by ~1 sd and 40 % too narrow: detailed balance, not the proposal, sets the
    # stationary distribution.
    res = _chain(5, (MEAN + np.array([0.8, -1.0, 0.3]), 0.36 * COV))
    assert res.converged
    draws = res.chain[res.burn_in:].reshape(-1, 3)
    n_eff = float(np.min(res.ess))
    sd = np.sqrt(np.diag(COV))
    # Monte-Carlo error of a mean is sd / sqrt(ESS); 5 of them is a failure, not noise.
    assert np.all(np.abs(draws.mean(0) - MEAN) < 5 * sd / np.sqrt(n_eff))
    # Variance estimates: relative MC error ~ sqrt(2 / ESS).
    rel = np.abs(np.cov(draws.T) - COV) / np.sqrt(np.outer(np.diag(COV), np.diag(COV)))
    assert np.all(rel < 5 * np.sqrt(2.0 / n_eff)), rel


def test_same_seed_same_chain():
    a, b = _chain(9, (MEAN, COV)), _chain(9, (MEAN, COV))
    np.testing.assert_array_equal(a.chain, b.chain)
    assert not np.array_equal(a.chain, _chain(10, (MEAN, COV)).chain)


def test_log_density_is_student_t_up_to_constant():
    move = IndependenceMove(MEAN, COV, dof=8.0, scale=1.3)
    x = np.random.default_rng(0).normal(size=(50, 3)) * 2 + MEAN
    ref = stats.multivariate_t(loc=MEAN, shape=COV * 1.3**2, df=8.0).logpdf(x)
    diff = move.log_density(x) - ref
    np.testing.assert_allclose(diff, diff[0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("proposal, words", [
    (None, "need a proposal"),
    ((MEAN, np.eye(2)), "do not match"),
    ((MEAN, -np.eye(3)), "positive definite"),
])
def test_bad_proposal_is_one_line_error(proposal, words):
    with pytest.raises(SamplingError, match=words) as info:
        build_moves("independence", proposal)
    assert "\n" not in str(info.value)
