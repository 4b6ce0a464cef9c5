"""Models, likelihoods and posteriors: against scipy.stats and the physics kernels."""

import math
import pickle

import numpy as np
import pytest
from scipy import stats

from tlsbayes import physics as ph
from tlsbayes.errors import TLSBayesError
from tlsbayes.inference.likelihood import Likelihood
from tlsbayes.models import FrequencyShift, LogShift, NemsDamping, QPower, model_from_dict
from tlsbayes.inference.posterior import Dataset, Posterior
from tlsbayes.inference.priors import Fixed, LogUniform, Normal, TruncatedNormal, Uniform
from tlsbayes.inference.prior_set import PriorSet

OMEGA = 2 * math.pi * 17.5e6
RNG = np.random.default_rng(20261120)


# --- likelihoods against scipy.stats ----------------------------------------------------------

def _data(n=25, nw=7):
    y = RNG.normal(size=n)
    sigma = RNG.uniform(0.5, 2.0, n)
    mu = RNG.normal(size=(nw, n))
    return mu, y, sigma


def test_gaussian_against_scipy():
    mu, y, sigma = _data()
    ref = stats.norm.logpdf(y, loc=mu, scale=sigma)
    lk = Likelihood("gaussian")
    assert lk.pointwise(mu, y, sigma) == pytest.approx(ref, rel=1e-13)
    assert lk.total(mu, y, sigma) == pytest.approx(ref.sum(axis=1), rel=1e-13)


def test_noise_scale_and_jitter_against_scipy():
    mu, y, sigma = _data()
    s = RNG.uniform(0.5, 3.0, (mu.shape[0], 1))
    ref = stats.norm.logpdf(y, loc=mu, scale=s * sigma).sum(axis=1)
    assert Likelihood("gaussian_noise_scale").total(mu, y, sigma, s) == pytest.approx(ref,
                                                                                     rel=1e-13)
    ref_j = stats.norm.logpdf(y, loc=mu, scale=np.sqrt(sigma ** 2 + s ** 2)).sum(axis=1)
    assert Likelihood("gaussian_jitter").total(mu, y, sigma, s) == pytest.approx(ref_j, rel=1e-13)


def test_student_t_against_scipy():
    mu, y, sigma = _data()
    s = RNG.uniform(0.5, 3.0, mu.shape[0])
    nu = RNG.uniform(1.5, 10.0, mu.shape[0])
    extra = np.stack([s, nu], axis=1)
    ref = stats.t.logpdf(y, df=nu[:, None], loc=mu, scale=s[:, None] * sigma)
    assert Likelihood("student_t").pointwise(mu, y, sigma, extra) == pytest.approx(ref, rel=1e-12)


def test_nonfinite_prediction_gives_minus_inf_not_nan():
    mu, y, sigma = _data(nw=3)
    mu[1, 4] = np.nan
    mu[2, 0] = np.inf
    tot = Likelihood("gaussian").total(mu, y, sigma)
    assert np.isfinite(tot[0]) and tot[1] == -np.inf and tot[2] == -np.inf


@pytest.mark.parametrize("kind", ["gaussian", "gaussian_noise_scale"])
def test_gaussian_total_fast_path_equals_the_pointwise_sum(kind):
    # The total hoists Σ ln σ out of the walker loop; it must still be the pointwise sum,
    # including a zero or negative noise scale and a σ of zero (the general path).
    mu, y, sigma = _data(nw=4)
    scale = np.array([[0.7], [2.0], [0.0], [-1.0]])
    lk = Likelihood(kind)
    for sig in (sigma, np.where(np.arange(sigma.size) == 3, 0.0, sigma)):
        tot = lk.total(mu, y, sig, scale)
        ref = lk.pointwise(mu, y, sig, scale).sum(axis=1)
        np.testing.assert_allclose(tot, np.where(np.isnan(ref), -np.inf, ref), rtol=1e-13)


def test_unknown_likelihood_named():
    with pytest.raises(ValueError, match="unknown likelihood 'cauchy'"):
        Likelihood("cauchy")


# --- models against the kernels ----------------------------------------------------------------

def test_models_match_physics_kernels_and_shapes():
    T = np.geomspace(0.03, 3.0, 11)
    fs = FrequencyShift()
    p = {"f0": 0.8e9, "delta0": 1.2e-5}
    assert fs.predict(p, T) == pytest.approx(0.8e9 * (1 + ph.tls_frequency_shift(T, 0.8e9, 1.2e-5)),
                                             rel=1e-15)
    pw = {"f0": np.array([0.8e9, 0.9e9]), "delta0": np.array([1e-5, 2e-5])}
    assert fs.predict(pw, T).shape == (2, T.size)

    nm = NemsDamping(omega=OMEGA, state="N")
    A_ph = ph.phonon_rate_prefactor_1d(9.8 * ph.constants.e, 2900, 130e-9, 300e-9, 6000)
    ref = ph.nems_damping(T, OMEGA, 4.3e-5, A_ph, A_el=ph.electron_rate_prefactor(0.07), x=0.17)
    got = nm.predict({"C": 4.3e-5, "gamma": 9.8, "n_ph": 1.0, "x": 0.17, "K": 0.07}, T)
    assert got == pytest.approx(ref, rel=1e-14)
    nmS = NemsDamping(omega=OMEGA, state="S")
    assert nmS.param_names == ("C", "gamma", "n_ph")


@pytest.mark.parametrize("state, params", [
    ("N", {"C": 4.3e-5, "A_ph": 9.07e30, "n_ph": 1.0, "x": 0.17, "K": 0.07}),
    ("N", {"C": 4.3e-5, "A_ph": 9.07e30, "n_ph": 1.0, "x": 0.0, "K": 0.07}),
    ("N", {"C": 4.3e-5, "A_ph": 9.07e30, "n_ph": 1.0, "x": 1.0, "K": 0.0}),
    ("S", {"C": 4.3e-5, "A_ph": 9.07e30, "n_ph": 1.0}),
    ("S", {"C": 4.3e-5, "A_ph": 1e46, "n_ph": 1.0}),    # t = ln a below the table: plateau form
    ("S", {"C": 4.3e-5, "A_ph": 1e12, "n_ph": 1.0}),    # t above the table: 1/a form
    # n_ph = 3/2: the tables, and below 1 mK also the electron-only reduction
    ("N", {"C": 4.3e-5, "A_ph": 3e43, "n_ph": 1.5, "x": 0.12, "K": 0.11}),
    ("S", {"C": 4.3e-5, "A_ph": 1e62, "n_ph": 1.5}),  # ln a_ph < -40 above ~10 K: quadrature
    ("N", {"C": 4.3e-5, "A_ph": 3e43, "n_ph": 1.5, "x": 0.3, "K": 1e-6}),  # ln a_el > 12
    ("N", {"C": 4.3e-5, "A_ph": 1e20, "n_ph": 1.5, "x": 0.3, "K": 0.11}),  # ln a_ph > 40
    ("N", {"C": 4.3e-5, "A_ph": 3e50, "n_ph": 2.0, "x": 0.12, "K": 0.11}),  # quadrature path
])
def test_nems_model_equals_the_physics_kernel_on_every_path(state, params):
    # The model takes ln a = ln(ω/(A k_B)) - ln T by subtraction (one log per walker); the
    # public kernel takes the log of ω/(A k_B T) at every point.  Same Γ to rounding.
    T = np.concatenate([np.geomspace(1e-4, 100.0, 41), [0.25]])
    model = NemsDamping(omega=OMEGA, state=state, phonon="free")
    A_el = ph.electron_rate_prefactor(params.get("K", 0.0))
    ref = ph.nems_damping(T, OMEGA, params["C"], params["A_ph"], n_ph=params["n_ph"],
                          A_el=A_el if state == "N" else 0.0, x=params.get("x", 0.0))
    assert model.predict(params, T) == pytest.approx(ref, rel=2e-14, abs=0)
    # a temperature <= 0 anywhere sends every point through the general per-point path
    bad = model.predict(params, np.concatenate([T, [0.0]]))
    assert bad[:-1] == pytest.approx(ref, rel=2e-14, abs=0)
    assert not np.isfinite(bad[-1])

    qp = QPower(T=0.246, f=0.809e9)
    E = np.geomspace(0.1, 1e4, 9)
    assert qp.predict({"delta0": 8.9e-6, "delta_other": 9e-7, "E_c": 3.4, "beta": 0.2}, E) == \
        pytest.approx(ph.tls_inverse_q(0.246, 0.809e9, E, 8.9e-6, 9e-7, 3.4, 0.2), rel=1e-15)

    ls = LogShift()
    assert ls.predict({"C": 2.1e-5, "T0": 0.1, "a3": 0.0}, T) == \
        pytest.approx(ph.tls_log_shift(T, 2.1e-5, 0.1), rel=1e-15)


def test_self_consistent_qpower_model():
    geo = dict(Qc=8e3, A0=265e-6 * 1236e-6, d=800e-9)
    qp = QPower(T=0.246, f=0.809e9, saturation="power_self_consistent", **geo)
    P = np.geomspace(1e-18, 1e-10, 7)
    got = qp.predict({"delta0": 8.9e-6, "delta_other": 9e-7, "E_c": 3.4, "beta": 0.2}, P)
    Qi, _ = ph.self_consistent_qi(P, 0.246, 0.809e9, 8e3, 8.9e-6, 9e-7, 3.4, 0.2, geo["A0"],
                                  geo["d"])
    assert got == pytest.approx(1 / Qi, rel=1e-11)
    with pytest.raises(ValueError, match="Qc"):
        QPower(T=0.2, f=1e9, saturation="power_self_consistent")


def test_model_from_dict_whitelist():
    m = model_from_dict("q_power", {"T": 0.246, "f": 0.8e9})
    assert isinstance(m, QPower)
    with pytest.raises(KeyError, match="unknown model 'qpower'"):
        model_from_dict("qpower", {})
    with pytest.raises(TypeError, match="Tc"):
        model_from_dict("q_power", {"T": 0.2, "f": 1e9, "Tc": 1.2})


# --- posterior ---------------------------------------------------------------------------------

def _qpower_posterior(likelihood="gaussian"):
    m = QPower(T=0.246, f=0.809e9)
    E = np.geomspace(0.05, 5000, 30)
    truth = {"delta0": 8.9e-6, "delta_other": 0.9e-6, "E_c": 3.4, "beta": 0.2}
    mu = m.predict(truth, E)
    y = mu * (1 + 0.01 * RNG.standard_normal(mu.size))
    ds = Dataset("qi", m, E, y, 0.01 * mu, Likelihood(likelihood))
    return Posterior([ds], PriorSet.from_dict(ds.default_priors())), ds, truth


def test_compiled_prior_matches_priorset():
    pri = PriorSet({"a": Uniform(-1, 2), "b": LogUniform(1e-6, 1e-2), "c": Normal(0.3, 0.1),
                    "d": TruncatedNormal(0.2, 0.3, 0.1, 0.6), "e": Fixed(7.0)})
    from tlsbayes.inference.prior_set import compile_priors, prior_and_params
    comp = compile_priors(pri)
    theta = pri.sample(500, RNG)
    theta[::7] += RNG.normal(scale=3.0, size=theta[::7].shape)  # push some outside the support
    lp, params = prior_and_params(theta, comp)
    # PriorSet.log_prob is the compiled evaluator itself; the independent reference is the sum
    # of each prior's own (numpy) density in the sampling coordinate
    ref_lp = sum(pri[n].log_prob_sampling(theta[:, i]) for i, n in enumerate(pri.free_names))
    assert np.array_equal(np.isfinite(lp), np.isfinite(ref_lp))
    assert np.array_equal(lp, pri.log_prob(theta))
    fin = np.isfinite(lp)
    assert lp[fin] == pytest.approx(ref_lp[fin], rel=1e-12, abs=1e-12)
    ref = pri.to_params(theta)
    for i, n in enumerate(pri.names):
        assert params[fin, i] == pytest.approx(np.asarray(ref[n])[fin], rel=1e-14)


def test_posterior_value_and_short_circuit():
    post, ds, truth = _qpower_posterior()
    theta = post.priors.from_params(truth)
    lp, lprior, llike = post.log_prob(theta)
    ref = stats.norm.logpdf(ds.y, ds.model.predict(truth, ds.x), ds.sigma).sum()
    assert llike == pytest.approx(ref, rel=1e-12)
    assert lprior == pytest.approx(post.priors.log_prob(theta), rel=1e-12)
    assert lp == pytest.approx(lprior + llike, rel=1e-12)
    bad = theta.copy()
    bad[3] = 0.9  # beta outside [0.1, 0.6]
    lp, lprior, llike = post.log_prob(np.stack([theta, bad]))
    assert np.isfinite(lp[0]) and lp[1] == -np.inf and llike[1] == -np.inf


def test_joint_posterior_shares_parameters_by_name():
    post_q, ds_q, truth = _qpower_posterior()
    fs = FrequencyShift()
    T = np.linspace(0.24, 0.45, 20)
    f = fs.predict({"f0": 0.809e9, "delta0": truth["delta0"]}, T)
    ds_f = Dataset("f", fs, T, f + RNG.normal(scale=50, size=T.size), np.full(T.size, 50.0))
    pri = dict(ds_q.default_priors())
    pri.update(ds_f.default_priors())
    joint = Posterior([ds_q, ds_f], PriorSet.from_dict(pri))
    assert joint.free_names.count("delta0") == 1 and joint.ndim == 5
    params = dict(truth, f0=0.809e9)
    theta = joint.priors.from_params(params)
    ll = joint.log_prob(theta)[2]
    single_f = Posterior([ds_f], PriorSet.from_dict(ds_f.default_priors()))
    ll_f = single_f.log_prob(single_f.priors.from_params({"f0": 0.809e9,
                                                           "delta0": truth["delta0"]}))[2]
    ll_q = post_q.log_prob(post_q.priors.from_params(truth))[2]
    assert ll == pytest.approx(ll_f + ll_q, rel=1e-12)
    pw = joint.pointwise_log_likelihood(theta)
    assert set(pw) == {"qi", "f"} and pw["f"].shape == (1, 20)
    assert pw["qi"].sum() + pw["f"].sum() == pytest.approx(ll, rel=1e-12)


def test_posterior_rejects_missing_and_unknown_priors():
    post, ds, _ = _qpower_posterior()
    pri = ds.default_priors()
    del pri["beta"]
    with pytest.raises(TLSBayesError, match="no prior for parameter.*beta"):
        Posterior([ds], PriorSet.from_dict(pri))
    pri = ds.default_priors()
    pri["gamma"] = {"dist": "uniform", "low": 0, "high": 1}
    with pytest.raises(TLSBayesError, match="unknown parameter.*gamma"):
        Posterior([ds], PriorSet.from_dict(pri))


def test_missing_sigma_needs_a_noise_parameter():
    m = LogShift()
    with pytest.raises(TLSBayesError, match="no uncertainties"):
        Dataset("s", m, [0.1, 0.2], [0.0, 1e-6])
    ds = Dataset("s", m, [0.1, 0.2], [0.0, 1e-6], likelihood=Likelihood("gaussian_noise_scale"))
    assert ds.param_names == ("C", "T0", "a3", "noise_scale")


def test_posterior_pickles():
    post, _, truth = _qpower_posterior("gaussian_noise_scale")
    post2 = pickle.loads(pickle.dumps(post))
    theta = post.priors.from_params(dict(truth, noise_scale=1.3))
    assert post2.log_prob(theta) == post.log_prob(theta)


def test_simulate_matches_noise_model_moments():
    post, ds, truth = _qpower_posterior("gaussian_noise_scale")
    theta = np.tile(post.priors.from_params(dict(truth, noise_scale=2.0)), (4000, 1))
    sims = post.simulate(theta, np.random.default_rng(5))["qi"]
    mu = ds.model.predict(truth, ds.x)
    z = (sims - mu) / (2.0 * ds.sigma)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    lk = Likelihood("student_t")
    t = lk.sample(np.zeros((20000, 1)), np.ones(1), np.array([[1.0, 5.0]]),
                  np.random.default_rng(1))
    assert stats.kstest(t.ravel(), stats.t(df=5).cdf).pvalue > 0.01
