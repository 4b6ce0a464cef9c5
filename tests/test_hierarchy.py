"""Two-stage population inference (tlsbayes.population).

References the two-stage result is held to:
* the kernel: scipy's logsumexp of the literal Monte-Carlo sum, far-away populations included;
* a Gaussian toy whose hyper-posterior is known in closed form up to a 2-D grid
  (z_obs,i ~ N(μ, σ² + s_i²)), with half the members under a prior that is *not* flat in
  ln δ0, so forgetting to divide by π_i would show;
* a direct joint fit (every resonator's δ0 and the hyperparameters sampled together) on
  four simulated Defrance resonators fitted end to end through run directories;
* calibration over seeded simulated populations (slow).
"""

import math

import numpy as np
import pytest
from scipy import special, stats

from tlsbayes.models import papers
from tlsbayes.cli import main
from tlsbayes.errors import TLSBayesError
from tlsbayes.fit import run_fit
from tlsbayes.population import (JointPopulation, Member, Population,
                                 fit_population, group_contrast, load_member)
from tlsbayes.models import QPower
from tlsbayes.inference.posterior import Dataset, Posterior
from tlsbayes.inference.priors import LogUniform, Uniform
from tlsbayes.inference.prior_set import PriorSet
from tlsbayes.sampling import SamplerSettings

QUIET = dict(print_fn=lambda *a: None)


# ------------------------------------------------------------------------------------------
# Gaussian toy: member i measures z_i = ln δ0_i with standard deviation s_i
# ------------------------------------------------------------------------------------------


def toy_members(n, mu, sigma, seed, K=600, s_range=(0.2, 0.6), group="A"):
    """Members with exact posterior draws.  Even members: log-uniform prior on δ0 (flat in z);
    odd members: uniform prior on δ0, i.e. π(z) ∝ e^z, whose posterior is N(z_obs + s², s)."""
    rng = np.random.default_rng(seed)
    z_true = rng.normal(mu, sigma, n)
    s = rng.uniform(*s_range, n)
    z_obs = z_true + s * rng.standard_normal(n)
    members = []
    for i in range(n):
        if i % 2 == 0:
            prior, centre = LogUniform(1e-9, 1e-3), z_obs[i]
        else:
            prior, centre = Uniform(0.0, 1e-3), z_obs[i] + s[i] ** 2
        z = centre + s[i] * rng.standard_normal(K)
        x = np.exp(z)
        members.append(Member(f"{group}{i}", group, z, np.asarray(prior.log_prob(x)) + z,
                              prior=prior))
    return members, z_obs, s


def grid_posterior(z_obs, s, sigma_scale=1.0):
    """Exact (μ, σ) posterior on a fine grid: uniform μ, half-normal σ, z_obs ~ N(μ, σ²+s²)."""
    c = float(np.mean(z_obs))
    mus = np.linspace(c - 2.0, c + 2.0, 2001)
    sig = np.linspace(1e-5, 3.0, 2001)
    M, S = np.meshgrid(mus, sig, indexing="ij")
    ll = -0.5 * (S / sigma_scale) ** 2
    for a, b in zip(z_obs, s):
        v = S ** 2 + b ** 2
        ll = ll - 0.5 * (a - M) ** 2 / v - 0.5 * np.log(v)
    p = np.exp(ll - ll.max())
    p /= p.sum()

    def quantiles(marg, x):
        cdf = np.cumsum(marg) - 0.5 * marg
        return np.interp([0.16, 0.5, 0.84], cdf, x)

    return quantiles(p.sum(1), mus), quantiles(p.sum(0), sig)


def test_kernel_matches_literal_monte_carlo_sum_including_far_populations():
    members, _, _ = toy_members(5, math.log(8e-6), 0.3, seed=3, K=200)
    pop = Population(members)
    rng = np.random.default_rng(0)
    mu = np.array([[math.log(8e-6)], [math.log(8e-6) + 0.2], [math.log(8e-6) + 40.0],
                   [math.log(8e-6) - 3.0]])
    sigma = np.array([[0.3], [0.05], [0.02], [1e-3]])
    ll, ess = pop.member_terms(mu, sigma)
    for w in range(mu.shape[0]):
        for i, m in enumerate(members):
            logw = stats.norm.logpdf(m.z, mu[w, 0], sigma[w, 0]) - m.log_prior
            ref = special.logsumexp(logw) - math.log(m.K)
            wts = np.exp(logw - logw.max())
            assert ll[w, i] == pytest.approx(ref, rel=1e-10, abs=1e-9), (w, i)
            assert ess[w, i] == pytest.approx(wts.sum() ** 2 / (wts ** 2).sum(), rel=1e-9)
    # the far population (40 nepers away) underflows every term: exact result still finite
    assert np.all(np.isfinite(ll[2])) and np.all(ll[2] < -1e5)
    # σ <= 0 is impossible, never NaN
    bad, _ = pop.member_terms(mu[:1], np.array([[0.0]]))
    assert np.all(bad == -np.inf)
    del rng


def test_two_stage_hyperposterior_matches_exact_grid_posterior():
    """Toy with a closed-form marginal: quantiles of μ and σ within 0.15 posterior sd.

    Monte-Carlo error budget: the hyper-run has ESS >= 1000, so each quantile carries a
    standard error of <= 0.05 sd; the reweighting estimate of ln L has variance
    Σ(1/ESS_i - 1/K) ~ 0.03 here, a negligible distortion.  0.15 sd is 3 standard errors.
    Measured: differences below 0.09 sd; with the prior division dropped the median of μ
    moves by 0.45 sd, which this tolerance catches.
    """
    members, z_obs, s = toy_members(14, math.log(8e-6), 0.3, seed=1)
    res = fit_population(Population(members), SamplerSettings(seed=2, progress=False), **QUIET)
    assert res.converged, res.verdict
    gmu, gsig = grid_posterior(z_obs, s)
    post = res.idata.posterior
    for name, ref in (("mu_A", gmu), ("sigma_A", gsig)):
        x = post[name].values.ravel()
        q = np.percentile(x, [16, 50, 84])
        sd = np.std(x)
        assert np.all(np.abs(q - ref) < 0.15 * sd), (name, q, ref, sd)
    assert not res.warnings


def test_low_ess_member_is_flagged():
    """Many precise members at one value force a narrow population; a member whose own
    posterior is 30x wider then has few draws where the population lives."""
    rng = np.random.default_rng(5)
    prior = LogUniform(1e-9, 1e-3)
    mk = []
    for i in range(12):
        z = math.log(8e-6) + 0.01 * rng.standard_normal() + 0.01 * rng.standard_normal(300)
        mk.append(Member(f"tight{i}", "A", z, np.asarray(prior.log_prob(np.exp(z))) + z,
                         prior=prior))
    z = math.log(8e-6) + 1.5 * rng.standard_normal(300)
    mk.append(Member("wide", "A", z, np.asarray(prior.log_prob(np.exp(z))) + z, prior=prior))
    res = fit_population(Population(mk, sigma_scale=0.1),
                         SamplerSettings(seed=1, progress=False, target_ess=300), **QUIET)
    assert bool(res.members.loc["wide", "low_ess"])
    assert not res.members.drop(index="wide")["low_ess"].any()
    assert any("'wide'" in w and "ESS" in w for w in res.warnings)


def test_group_contrast_probabilities_are_consistent_with_draws():
    a, _, _ = toy_members(8, math.log(12e-6), 0.2, seed=7, group="A", s_range=(0.05, 0.1))
    b, _, _ = toy_members(8, math.log(7e-6), 0.2, seed=8, group="B", s_range=(0.05, 0.1))
    res = fit_population(Population(a + b), SamplerSettings(seed=3, progress=False), **QUIET)
    c = group_contrast(res, "A", "B")
    post = res.idata.posterior
    mua, mub = post["mu_A"].values.ravel(), post["mu_B"].values.ravel()
    sa, sb = post["sigma_A"].values.ravel(), post["sigma_B"].values.ravel()
    # a population 12e-6 vs 7e-6 (0.54 nepers apart) with 8 members each: clearly ordered
    assert c["p_median"] > 0.99
    # new-resonator probability by brute-force simulation from the hyper-draws
    rng = np.random.default_rng(0)
    sim = np.mean(rng.normal(mua, sa) > rng.normal(mub, sb))
    assert c["p_new"] == pytest.approx(sim, abs=0.01)
    assert 0.5 < c["p_new"] < c["p_median"]
    assert c["ratio_median"]["median"] == pytest.approx(math.exp(np.median(mua - mub)))
    with pytest.raises(TLSBayesError, match="no group 'C'"):
        group_contrast(res, "A", "C")


# ------------------------------------------------------------------------------------------
# end to end against the direct joint fit
# ------------------------------------------------------------------------------------------


def _defrance_members(root):
    """Four Defrance B(2) resonators: Qi(E) with only δ0 free, 30 % noise on 12 points (weakly
    measured, so the population shrinks them); alternating log-uniform / uniform δ0 priors."""
    posts, dirs = [], []
    rows = [r for r in papers.DEFRANCE_TABLE3 if r.device == "B(2)"][:4]
    for i, r in enumerate(rows):
        model = QPower(T=0.246, f=r.f0, saturation="field")
        E = np.geomspace(0.1, 1e3, 12)
        truth = {"delta0": r.delta0_fshift, "delta_other": r.delta_other, "E_c": r.E_c,
                 "beta": r.beta}
        mu = model.predict(truth, E)
        sig = 0.3 * mu
        y = mu + sig * np.random.default_rng(50 + i).standard_normal(mu.size)
        ds = Dataset("qi", model, E, y, sig)
        d0 = ({"dist": "loguniform", "low": 1e-8, "high": 1e-3} if i % 2 == 0
              else {"dist": "uniform", "low": 1e-9, "high": 1e-4})
        pri = {"delta0": d0, "delta_other": {"dist": "fixed", "value": r.delta_other},
               "E_c": {"dist": "fixed", "value": r.E_c},
               "beta": {"dist": "fixed", "value": r.beta}}
        post = Posterior([ds], PriorSet.from_dict(pri))
        d = root / f"res{i}"
        res = run_fit(post, SamplerSettings(seed=i + 1, progress=False), d, plots=False, **QUIET)
        assert res.converged
        posts.append(post)
        dirs.append(d)
    return posts, dirs


@pytest.fixture(scope="module")
def defrance_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("population")
    return _defrance_members(root)


def test_two_stage_agrees_with_direct_joint_fit(defrance_runs):
    """Hyper-posterior quantiles (16/50/84 %) of μ and σ agree within 0.2 posterior sd.

    Both are MCMC estimates run to ESS >= 3000: each quantile has a Monte-Carlo standard error
    of about 0.03 sd (more in the long upper tail of σ), so the difference of two has ~0.04;
    0.2 sd is about 5 of those.  (With ESS >= 1000 and the gate that stops as soon as its
    criteria hold, the 84 % quantile of σ differed by 0.25 sd once: Monte-Carlo noise of the
    tail, not a disagreement, hence the longer runs.)
    """
    posts, dirs = defrance_runs
    members = [load_member(d, "delta0", "B") for d in dirs]
    pop = Population(members)
    two = fit_population(pop, SamplerSettings(seed=3, target_ess=3000, progress=False), **QUIET)
    assert two.converged, two.verdict

    joint = JointPopulation(posts, ["B"] * 4, hyperpriors=pop.priors, noncentered=True)
    rng = np.random.default_rng(0)
    starts = np.hstack([rng.normal(size=(8, 1)) for _ in posts] + [pop.priors.sample(8, rng)])
    run = joint.sample(SamplerSettings(seed=4, target_ess=3000, progress=False), starts, **QUIET)
    assert run.converged, run.verdict
    hs = joint.hyper_samples(run)
    for name in ("mu_B", "sigma_B"):
        a = two.idata.posterior[name].values.ravel()
        b = hs[name]
        sd = 0.5 * (np.std(a) + np.std(b))
        qa, qb = np.percentile(a, [16, 50, 84]), np.percentile(b, [16, 50, 84])
        assert np.all(np.abs(qa - qb) < 0.2 * sd), (name, qa, qb, sd)


def test_population_cli_writes_report_and_rejects_bad_input(defrance_runs, tmp_path, capsys):
    _, dirs = defrance_runs
    out = tmp_path / "pop"
    argv = ["population", "--group", "lo", str(dirs[0]), str(dirs[1]), "--group", "hi",
            str(dirs[2]), str(dirs[3]), "--out", str(out), "--no-progress", "--seed", "2"]
    assert main(argv) == 0
    for f in ("population.nc", "summary.csv", "members.csv", "population.md"):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    md = (out / "population.md").read_text()
    assert "mu_lo" in md and "P(median_lo > median_hi)" in md
    members = (out / "members.csv").read_text()
    assert members.count("\n") == 5  # header + 4 resonators
    capsys.readouterr()
    assert main(["population", str(dirs[0]), "--param", "f0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'f0' is not in the posterior" in err[0]
    assert main(["population", str(tmp_path)]) == 2
    assert "not a tlsbayes run directory" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# calibration
# ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_calibration_on_simulated_populations():
    """20 seeded populations of 12 members (μ = ln 8e-6, σ = 0.3): the truth lies inside the
    central 95 % interval for at least 16 of 20 (for a calibrated posterior the count is
    Binomial(20, 0.95): P(<= 15) = 0.3 %).  Measured: μ 20/20, σ 17/20; the exact grid
    posterior of the same 20 data sets covers σ 18/20 (seeds 2 and 13 are unlucky data).
    About 3 min on one core."""
    mu0, s0 = math.log(8e-6), 0.3
    hits = {"mu_A": 0, "sigma_A": 0}
    for seed in range(20):
        members, _, _ = toy_members(12, mu0, s0, seed=100 + seed, K=300)
        res = fit_population(Population(members),
                             SamplerSettings(seed=seed, progress=False, target_ess=400,
                                             tau_factor=30),
                             **QUIET)
        for name, truth in (("mu_A", mu0), ("sigma_A", s0)):
            lo, hi = np.percentile(res.idata.posterior[name].values, [2.5, 97.5])
            hits[name] += int(lo < truth < hi)
    assert hits["mu_A"] >= 16 and hits["sigma_A"] >= 16, hits
