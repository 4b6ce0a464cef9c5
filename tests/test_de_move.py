"""The vectorised DE move (tlsbayes.sampling.moves.DEMove) samples the target, as emcee's moves do.

Invariance, tested exactly: the walkers start as independent draws from the target, so after any
number of steps of a valid ensemble move they are still (jointly) distributed as the target and
each pooled coordinate follows its known marginal; a biased move drifts away within a few steps.
2000 walkers x 20 steps give a KS test that separates the two in a fraction of a second. emcee's
stretch and DE moves pass the same test; emcee 3.1.6's DESnookerMove fails it (its proposal is
not the published snooker, dfm/emcee#531), which shows the test has the power to see a biased
move. Ergodicity: from a tiny ball the gated run reaches the Gaussian's known moments.
"""

import emcee
import numpy as np
import pytest
from scipy import stats

from tlsbayes.errors import SamplingError
from tlsbayes.sampling import SamplerSettings, run
from tlsbayes.sampling.moves import DEMove, KDEMove, _three_distinct

ND, NW, STEPS = 5, 2000, 20
_A = np.random.default_rng(2).normal(size=(ND, ND))
L = np.linalg.cholesky(_A @ _A.T + np.eye(ND))  # a correlated Gaussian, condition ~ 100
L_INV = np.linalg.inv(L)


def gauss(x):
    u = x @ L_INV.T
    return -0.5 * np.einsum("ij,ij->i", u, u)


def gauss_white(x):
    """Standard normal coordinates of the correlated Gaussian."""
    return x @ L_INV.T


def banana(x):
    """x0 ~ N(0, 2^2), x1 | x0 ~ N(0.5 (x0^2 - 4), 1), x2.. ~ N(0, 1)."""
    return -0.5 * np.sum(banana_white(x) ** 2, axis=1)


def banana_white(x):
    w = x.copy()
    w[:, 0] = x[:, 0] / 2.0
    w[:, 1] = x[:, 1] - 0.5 * (x[:, 0] ** 2 - 4.0)
    return w


def banana_draws(rng, n):
    w = rng.normal(size=(n, ND))
    x = w.copy()
    x[:, 0] = 2.0 * w[:, 0]
    x[:, 1] = w[:, 1] + 0.5 * (x[:, 0] ** 2 - 4.0)
    return x


TARGETS = {
    "gauss": (gauss, gauss_white, lambda rng, n: rng.normal(size=(n, ND)) @ L.T),
    "banana": (banana, banana_white, banana_draws),
}


def _pvalues(move, target, seed=0, nwalkers=NW):
    """KS p-values after STEPS steps from exact draws: every whitened coordinate against
    N(0, 1) and the squared radius against chi2(ND) (sensitive to a wrong scale)."""
    log_prob, white, draw = TARGETS[target]
    rng = np.random.default_rng(seed)
    sampler = emcee.EnsembleSampler(nwalkers, ND, log_prob, vectorize=True, moves=move)
    sampler._random.seed(seed)
    sampler.run_mcmc(draw(rng, nwalkers), STEPS, progress=False)
    w = white(sampler.get_chain()[-1])
    p = [stats.kstest(w[:, i], "norm").pvalue for i in range(ND)]
    p.append(stats.kstest(np.sum(w * w, axis=1), stats.chi2(ND).cdf).pvalue)
    return np.array(p), float(np.mean(sampler.acceptance_fraction))


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("snooker", [0.0, 0.1, 1.0])
def test_de_move_leaves_target_invariant(target, snooker):
    p, acc = _pvalues(DEMove(snooker=snooker), target)
    assert acc > 0.05  # the walkers did move
    assert p.min() > 0.01, p


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_kde_move_mixed_with_de_leaves_target_invariant(target):
    # 600 walkers: the kernel density costs walkers^2 per step (2000 would take ~20 s)
    p, acc = _pvalues([(DEMove(), 0.5), (KDEMove(), 0.5)], target, nwalkers=600)
    assert acc > 0.05
    assert p.min() > 0.01, p


def test_kde_move_with_a_collapsed_complement_stays_put():
    class Model:
        random = np.random.RandomState(0)

    x = np.zeros((4, 2))
    comp = np.ones((6, 2))  # singular covariance: no kernel to draw from
    q, log_factor, _ = KDEMove().half_proposal(x, comp, Model.random)
    assert np.all(q == x) and np.all(log_factor == -np.inf)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_emcee_moves_pass_the_same_test(target):
    for move in (emcee.moves.StretchMove(), emcee.moves.DEMove()):
        p, _ = _pvalues(move, target)
        assert p.min() > 0.01, (move, p)


def test_the_invariance_test_sees_a_biased_move():
    # 300 walkers: emcee's snooker loops over walkers in Python (p ~ 3e-8 at this seed)
    p, _ = _pvalues(emcee.moves.DESnookerMove(), "gauss", nwalkers=300)
    assert p.min() < 1e-5


def test_three_distinct_indices_are_uniform():
    u = np.random.default_rng(0).random((3, 120_000))
    a, b, c = _three_distinct(5, u)
    assert np.all((a != b) & (a != c) & (b != c))
    counts = np.bincount(25 * a + 5 * b + c, minlength=125)
    counts = counts[counts > 0]
    assert counts.size == 60  # every ordered triple of distinct indices occurs
    assert stats.chisquare(counts).pvalue > 0.01


def test_gated_run_from_a_ball_reaches_the_moments():
    p0 = np.random.default_rng(1).normal(scale=1e-3, size=(32, ND))
    r = run(gauss, p0, SamplerSettings(moves="de", seed=3, progress=False, chunk=100))
    assert r.converged
    x = r.samples(thin=1).reshape(-1, ND)
    cov = L @ L.T
    se = np.sqrt(np.diag(cov) / r.ess)
    assert np.all(np.abs(x.mean(axis=0)) < 4 * se)
    # the variance of a Gaussian coordinate has relative standard error sqrt(2 / ESS)
    assert np.all(np.abs(x.var(axis=0) / np.diag(cov) - 1) < 4 * np.sqrt(2 / r.ess))


def test_too_few_walkers_is_an_error():
    sampler = emcee.EnsembleSampler(4, 1, lambda x: -0.5 * x[:, 0] ** 2, vectorize=True,
                                    moves=DEMove())
    with pytest.raises(SamplingError, match="too few"):
        sampler.run_mcmc(np.linspace(-1, 1, 4)[:, None], 2, progress=False)


def test_bad_snooker_probability():
    with pytest.raises(SamplingError, match="snooker"):
        DEMove(snooker=1.5)


# A saturation ridge in 3-D (the shape of a q_power posterior whose critical scale runs out
# to its prior edge): s = ln x_c uniform on [LO, HI), b = beta ~ N(0.3, 0.05^2), and
# a = ln delta0 with a + P b s ~ N(0, 0.2^2) (P: the saturation power).  The map
# (a, s, b) -> (a + P b s, s, b) has Jacobian 1, so these are exact draws.
LO, HI, P_SAT = -12.0, 4.0, 1.0
RIDGE_AXES = (0.0, 1.0, 2.0, P_SAT, LO, HI)


def ridge(x):
    a, s, b = x.T
    inside = (s >= LO) & (s < HI)
    lp = -0.5 * (((a + P_SAT * b * s) / 0.2) ** 2 + ((b - 0.3) / 0.05) ** 2)
    return np.where(inside, lp, -np.inf)


def ridge_draws(rng, n):
    s = rng.uniform(LO, HI, n)
    b = rng.normal(0.3, 0.05, n)
    return np.column_stack([0.2 * rng.normal(size=n) - P_SAT * b * s, s, b])


def test_the_ridge_jump_leaves_a_ridge_target_invariant_and_crosses_it():
    rng = np.random.default_rng(4)
    x0 = ridge_draws(rng, NW)
    for jump, expect_far in ((0.0, False), (0.5, True)):
        sampler = emcee.EnsembleSampler(NW, 3, ridge, vectorize=True,
                                        moves=DEMove(jump=jump, jump_axes=RIDGE_AXES))
        sampler._random.seed(1)
        sampler.run_mcmc(x0.copy(), STEPS, progress=False)
        x = sampler.get_chain()[-1]
        a, s, b = x.T
        p = [stats.kstest(s, stats.uniform(LO, HI - LO).cdf).pvalue,
             stats.kstest((b - 0.3) / 0.05, "norm").pvalue,
             stats.kstest((a + P_SAT * b * s) / 0.2, "norm").pvalue]
        assert min(p) > 0.01, (jump, p)
        # the jump carries walkers across the ridge's length; DE alone, in 20 steps, not
        far = np.mean(np.abs(s - x0[:, 1]) > 0.5 * (HI - LO))
        assert (far > 0.2) == expect_far, (jump, far)


def test_the_ridge_jump_needs_its_axes():
    with pytest.raises(SamplingError, match="jump"):
        DEMove(jump=0.2)
    with pytest.raises(SamplingError, match="jump"):
        DEMove(snooker=0.9, jump=0.2, jump_axes=RIDGE_AXES)
