"""Convergence diagnostics against ArviZ and emcee (independent implementations) and AR(1) truth."""

import warnings

import arviz as az
import emcee
import numpy as np
import pytest

from tlsbayes.sampling.diagnostics import (_draw_moments, _folded_order, ess_bulk,
                                           integrated_time, rank_diagnostics, split_rhat,
                                           walker_blocks)


def ar1(rng, nchains, ndraws, phi, offsets=None):
    """AR(1) chains, shape (nchains, ndraws, len(phi)); unit innovation variance."""
    phi = np.asarray(phi, dtype=float)
    e = rng.standard_normal((nchains, ndraws, phi.size))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0] / np.sqrt(1 - phi ** 2)  # start in the stationary distribution
    for t in range(1, ndraws):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    if offsets is not None:
        x += offsets
    return x


def arviz_values(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = az.convert_to_dataset(x)
        return (az.rhat(ds, method="rank")["x"].values, az.ess(ds, method="bulk")["x"].values)


@pytest.mark.parametrize("shape", [(8, 101), (4, 57), (32, 1000), (2, 4)])
def test_rhat_and_bulk_ess_equal_arviz(shape):
    rng = np.random.default_rng(sum(shape))
    x = ar1(rng, *shape, [0.0, 0.6, 0.95])
    # ties, as emcee chains have from rejected proposals
    x[:, :, 0] = np.round(x[:, :, 0], 1)
    # one block of chains offset: R-hat must see it
    x[: shape[0] // 2, :, 1] += 0.7
    rhat_ref, ess_ref = arviz_values(x)
    np.testing.assert_allclose(split_rhat(x), rhat_ref, rtol=1e-10)
    np.testing.assert_allclose(ess_bulk(x), ess_ref, rtol=1e-10)


def test_constant_column_follows_arviz_convention():
    rng = np.random.default_rng(1)
    x = ar1(rng, 4, 200, [0.5, 0.5])
    x[:, :, 1] = 3.0
    rhat_ref, ess_ref = arviz_values(x)
    np.testing.assert_allclose(ess_bulk(x), ess_ref, rtol=1e-12)
    assert ess_bulk(x)[1] == 4 * 200


def test_diagnostics_detect_what_they_should():
    rng = np.random.default_rng(7)
    good = ar1(rng, 8, 4000, [0.9])
    stuck = good.copy()
    stuck[:2] += 3.0  # two chains in another mode
    assert split_rhat(good)[0] < 1.01 < split_rhat(stuck)[0]
    # bulk ESS of AR(1) is about N (1 - phi)/(1 + phi)
    expect = 8 * 4000 * (1 - 0.9) / (1 + 0.9)
    assert abs(ess_bulk(good)[0] / expect - 1) < 0.2


def test_integrated_time_matches_emcee_and_ar1_truth():
    rng = np.random.default_rng(3)
    phi = np.array([0.0, 0.5, 0.9, 0.97])
    # odd length (not a power of 2), emcee layout (nsteps, nwalkers, ndim)
    x = ar1(rng, 24, 3001, phi).transpose(1, 0, 2)
    ours = integrated_time(x)
    np.testing.assert_allclose(ours, emcee.autocorr.integrated_time(x, tol=0), rtol=1e-10)
    np.testing.assert_allclose(ours, (1 + phi) / (1 - phi), rtol=0.25)


@pytest.mark.parametrize("nsteps, nwalkers, n_groups", [
    (400, 32, 4),   # the shared-sort path
    (6, 8, 2),      # shortest even chain
    (401, 32, 4),   # odd length: falls back to the two separate functions
    (400, 30, 4),   # walkers left out of the blocks: falls back
])
def test_rank_diagnostics_equal_the_separate_functions_bit_for_bit(nsteps, nwalkers, n_groups):
    rng = np.random.default_rng(nsteps + nwalkers)
    x = ar1(rng, nwalkers, nsteps, [0.0, 0.8, 0.97]).transpose(1, 0, 2).copy()
    x[:, :, 0] = np.round(x[:, :, 0], 1)      # heavy ties, including at the median
    x[:, : nwalkers // 3, 2] += 0.5           # a walker block offset
    x[nsteps // 3: nsteps // 2, 5, 1] = x[nsteps // 3, 5, 1]  # a stuck walker: runs of ties
    ess, rhat = rank_diagnostics(x, n_groups)
    np.testing.assert_array_equal(ess, ess_bulk(x.transpose(1, 0, 2)))
    np.testing.assert_array_equal(rhat, split_rhat(walker_blocks(x, n_groups)))
    rhat_ref, ess_ref = arviz_values(walker_blocks(x, n_groups))
    np.testing.assert_allclose(rhat, rhat_ref, rtol=1e-10)


@pytest.mark.parametrize("nsteps", [400, 401])  # the shared sort, and the fallback
def test_rank_diagnostics_skip_rhat_only_below_the_ess_floor(nsteps):
    rng = np.random.default_rng(nsteps)
    x = ar1(rng, 32, nsteps, [0.0, 0.8, 0.97]).transpose(1, 0, 2).copy()
    ess, rhat = rank_diagnostics(x, 4)
    low, high = float(np.min(ess)), float(np.max(ess))
    # every ESS at or above the floor: the same two statistics, bit for bit
    ess_a, rhat_a = rank_diagnostics(x, 4, ess_floor=low)
    np.testing.assert_array_equal(ess_a, ess)
    np.testing.assert_array_equal(rhat_a, rhat)
    # one below: the ESS still, R-hat not computed
    ess_b, rhat_b = rank_diagnostics(x, 4, ess_floor=high)
    np.testing.assert_array_equal(ess_b, ess)
    assert np.all(np.isnan(rhat_b))


def test_a_check_that_skips_rhat_decides_as_the_full_check():
    # The ESS fails, the tau criteria pass: without R-hat the check fails on the ESS alone,
    # as the full check does, with the same tau, burn-in and ESS.
    from tlsbayes.sampling.convergence import diagnose
    from tlsbayes.sampling.settings import SamplerSettings

    rng = np.random.default_rng(5)
    x = ar1(rng, 32, 2000, [0.0, 0.5, 0.9]).transpose(1, 0, 2).copy()
    x[:, :, 1] += 0.3 * rng.standard_normal(32)  # walker offsets: bulk ESS ~600, tau's ~2e4
    names = ("a", "b", "c")
    tau_prev = np.array([1.0, 3.0, 19.0])
    settings = SamplerSettings(target_ess=1000.0, tau_factor=10.0)
    quick = diagnose(x, tau_prev, settings, names)
    full = diagnose(x, tau_prev, settings, names, full=True)
    assert quick.failures and full.failures
    assert any("ESS <" in f for f in quick.failures)
    assert any("R-hat not evaluated" in f for f in quick.failures)
    assert np.all(np.isnan(quick.rhat)) and np.all(np.isfinite(full.rhat))
    np.testing.assert_array_equal(quick.tau, full.tau)
    np.testing.assert_array_equal(quick.ess, full.ess)
    assert quick.burn_in == full.burn_in
    # with a reachable target both compute R-hat and agree exactly
    easy = SamplerSettings(target_ess=100.0, tau_factor=10.0)
    a, b = diagnose(x, tau_prev, easy, names), diagnose(x, tau_prev, easy, names, full=True)
    np.testing.assert_array_equal(a.rhat, b.rhat)
    assert a.failures == b.failures


def test_folded_order_sorts_the_folded_values():
    rng = np.random.default_rng(3)
    values = np.round(rng.standard_normal((3, 501)), 2)  # ties, and values equal to the centre
    order = np.argsort(values, axis=1)
    centre = np.array([0.0, np.median(values[1]), 5.0])  # 5: every value below the centre
    folded = np.abs(values - centre[:, None])
    got, ascending = _folded_order(np.take_along_axis(values, order, 1), order, centre)
    for r in range(3):
        assert sorted(got[r]) == list(range(501))  # a permutation
        assert np.all(np.diff(folded[r, got[r]]) >= 0)
        assert np.array_equal(ascending[r], folded[r, got[r]])  # the folded values, same bits


def test_draw_moments_equal_numpy_bit_for_bit():
    # R-hat's means and variances along the draws: numpy's own values, same bits
    rng = np.random.default_rng(4)
    for _ in range(60):
        m, n, d = int(rng.integers(2, 10)), int(rng.integers(4, 20000)), int(rng.integers(2, 9))
        x = rng.standard_normal((m, n, d)) * 10 ** rng.uniform(-3, 3) + rng.uniform(-5, 5)
        mean, var = _draw_moments(x)
        assert np.array_equal(mean, x.mean(axis=1))
        assert np.array_equal(var, np.var(x, axis=1, ddof=1))


def test_integrated_time_with_a_lag_guess_equals_the_full_computation():
    rng = np.random.default_rng(11)
    x = ar1(rng, 16, 3000, [0.0, 0.9, 0.99]).transpose(1, 0, 2).copy()
    full = integrated_time(x)
    # a generous guess, one too short for the slowest parameter (falls back), and a tiny one
    for guess in (400, 60, 1, 10 ** 6):
        np.testing.assert_allclose(integrated_time(x, max_lag=guess), full, rtol=1e-10)
    np.testing.assert_allclose(full, emcee.autocorr.integrated_time(x, tol=0), rtol=1e-10)
    stuck = x.copy()
    stuck[:, 3, 1] = 0.5  # a walker that never moves: NaN, not an error
    assert np.isnan(integrated_time(stuck, max_lag=60)[1])
    assert np.isnan(integrated_time(stuck)[1])


def test_thinned_draws_end_at_the_last_step_evenly():
    from tlsbayes.sampling.convergence import thinned

    post = np.arange(101)[:, None, None] * np.ones((1, 2, 1))
    for k in (1, 2, 3, 7, 50, 101, 200):
        steps = thinned(post, k)[:, 0, 0]
        assert steps[-1] == 100
        if k > 1:
            assert np.all(np.diff(steps) == k)
            assert steps.size == 1 or steps.size % 2 == 0
            # no more than one step further apart than k (the first, dropped for an even count)
            assert steps[0] <= k + k


@pytest.mark.parametrize("phi", [0.99, 0.995])
def test_a_thinned_check_estimates_the_same_tau_and_a_conservative_ess(phi):
    # AR(1) truth tau = (1 + phi) / (1 - phi) = 199 and 399: the check thins by tau_prev / 10
    # (19 and 39), yet estimates tau as the whole chain does and an ESS no larger.
    from tlsbayes.sampling.convergence import check_thinning, diagnose
    from tlsbayes.sampling.settings import SamplerSettings

    rng = np.random.default_rng(11)
    truth = (1 + phi) / (1 - phi)
    x = ar1(rng, 32, 60000, [phi, 0.9]).transpose(1, 0, 2).copy()
    settings = SamplerSettings(target_ess=1000.0, tau_factor=50.0)
    tau_prev = np.array([truth, 19.0])
    assert check_thinning(truth, 50000) == int(truth // 10) > 1
    check = diagnose(x, tau_prev, settings, ("a", "b"), full=True)
    burn = check.burn_in
    whole = integrated_time(x[burn:])
    np.testing.assert_allclose(check.tau[0], whole[0], rtol=0.05)
    np.testing.assert_allclose(check.tau[0], truth, rtol=0.15)
    ess_whole = ess_bulk(x[burn:].transpose(1, 0, 2))
    assert check.ess[0] <= 1.05 * ess_whole[0]
    assert check.ess[0] >= 0.8 * ess_whole[0]
    assert check.rhat[0] < 1.01 and not check.failures


def test_a_previous_tau_long_next_to_the_chain_still_leaves_draws_to_estimate_tau():
    # tau_prev 1e5 on a chain of 2000 steps (a stuck walker at the previous check): thinning by
    # tau_prev / 10 would leave one draw and an undefined tau; the cap keeps 200 per walker,
    # so the check fails for what it is, a chain too short.
    from tlsbayes.sampling.convergence import MIN_THINNED, check_thinning, diagnose
    from tlsbayes.sampling.settings import SamplerSettings

    rng = np.random.default_rng(2)
    x = ar1(rng, 32, 2000, [0.97, 0.5]).transpose(1, 0, 2).copy()
    check = diagnose(x, np.array([1e5, 1.0]), SamplerSettings(), ("a", "b"), full=True)
    assert check_thinning(1e5, 2000 - check.burn_in) == (2000 - check.burn_in) // MIN_THINNED
    assert np.all(np.isfinite(check.tau))
    assert any("chain too short" in f for f in check.failures)
    assert not any("not finite" in f for f in check.failures)
