"""PSIS-LOO model comparison (tlsbayes.compare).

* against the closed-form leave-one-out predictive density of a Gaussian-mean model;
* joint results: splitting the same observations over two data sets changes nothing;
* the comparison picks the true model on simulated data (NEMS electron channel, β free vs
  fixed, and, slow, the phonon exponent n_ph);
* loud warnings for Pareto k > 0.7, errors for runs fitted to different data, the CLI.
"""

import math

import numpy as np
import pytest
from scipy import stats

from tlsbayes.models import papers
from tlsbayes import results as R
from tlsbayes import simulate as sim
from tlsbayes.cli import main
from tlsbayes.compare import compare_runs, format_compare, loo
from tlsbayes.errors import TLSBayesError
from tlsbayes.fit import run_fit
from tlsbayes.models import NemsDamping, QPower
from tlsbayes.inference.posterior import Dataset, Posterior
from tlsbayes.inference.prior_set import PriorSet
from tlsbayes.sampling import SamplerSettings

QUIET = dict(print_fn=lambda *a: None)


# ------------------------------------------------------------------------------------------
# Gaussian mean with known noise and a flat prior: everything is closed-form
# ------------------------------------------------------------------------------------------


def gaussian_mean_idata(y, s, split=None, seed=0, nchain=4, ndraw=2000):
    """Exact posterior draws θ ~ N(ȳ, s²/n) and the pointwise log-likelihood, as a result.

    ``split``: number of points in a first data set "a" (the rest in "b").
    """
    rng = np.random.default_rng(seed)
    n = y.size
    theta = rng.normal(y.mean(), s / math.sqrt(n), (nchain, ndraw))
    pw = stats.norm.logpdf(y[None, None, :], theta[..., None], s)
    parts = {"y": slice(0, n)} if split is None else {"a": slice(0, split),
                                                       "b": slice(split, n)}
    lp = pw.sum(axis=2)
    return R.build_inference_data(
        posterior={"theta": theta},
        sample_stats={"lp": lp, "log_prior": np.zeros_like(lp), "log_likelihood": lp},
        log_likelihood={k: pw[..., sl] for k, sl in parts.items()},
        observed_data={k: y[sl] for k, sl in parts.items()},
        attrs={"converged": True})


def exact_elpd_loo(y, s):
    """Σ_i ln N(y_i | mean(y_-i), s² (1 + 1/(n-1))): the LOO predictive of the flat-prior mean."""
    n = y.size
    mean_rest = (y.sum() - y) / (n - 1)
    return float(np.sum(stats.norm.logpdf(y, mean_rest, s * math.sqrt(1 + 1 / (n - 1)))))


def test_psis_loo_matches_closed_form_and_joint_split_changes_nothing():
    rng = np.random.default_rng(1)
    y = rng.normal(2.0, 0.5, 20)
    ref = exact_elpd_loo(y, 0.5)
    one, _, _ = loo(gaussian_mean_idata(y, 0.5))
    two, obs, labels = loo(gaussian_mean_idata(y, 0.5, split=7))
    # PSIS with 8000 exact draws: Monte-Carlo error ~0.01 here
    assert one.elpd_loo == pytest.approx(ref, abs=0.05)
    # the same draws split over two data sets: identical pointwise terms, same sum
    assert two.elpd_loo == pytest.approx(one.elpd_loo, abs=1e-9)
    assert np.allclose(two.loo_i.values, one.loo_i.values)
    assert labels[0] == "a[0]" and labels[7] == "b[0]" and np.array_equal(obs, y)


def test_leave_one_dataset_out_sums_each_dataset_and_warns_on_heavy_tails():
    """Leaving out 18 of 20 points: the posterior without b has 10x the variance of the full
    one, and the ratio of two Gaussians with variance ratio 10 has a Pareto tail with
    k = 1 - 1/10 = 0.9 > 0.7, which must be loud."""
    rng = np.random.default_rng(2)
    y = rng.normal(0.0, 1.0, 20)
    ia = gaussian_mean_idata(y, 1.0, split=2, seed=1)
    ib = gaussian_mean_idata(y + 0.0, 1.0, split=2, seed=2)
    elpd, _, labels = loo(ia, unit="dataset")
    assert labels == ["a", "b"] and elpd.pareto_k.values.size == 2
    assert elpd.pareto_k.values[1] > 0.7
    res = compare_runs([ia, ib], names=["m1", "m2"], unit="dataset")
    assert (res.table["n_k_bad"] >= 1).all()
    text = format_compare(res)
    assert "!!!!" in text and "Pareto k > 0.7" in text and "'m1'" in text


def test_runs_on_different_data_are_refused():
    y = np.random.default_rng(3).normal(0.0, 1.0, 10)
    a = gaussian_mean_idata(y, 1.0)
    with pytest.raises(TLSBayesError, match="different observations .*10 vs 9 points"):
        compare_runs([a, gaussian_mean_idata(y[:9], 1.0)])
    b = gaussian_mean_idata(y + 1e-3, 1.0)
    with pytest.raises(TLSBayesError, match="values differ"):
        compare_runs([a, b])
    with pytest.raises(TLSBayesError, match="at least two"):
        compare_runs([a])


# ------------------------------------------------------------------------------------------
# the comparison picks the true model on simulated data
# ------------------------------------------------------------------------------------------


def _fit(ds, priors, outdir, seed=1):
    res = run_fit(Posterior([ds], PriorSet.from_dict(priors)),
                  SamplerSettings(seed=seed, progress=False), outdir, plots=False, **QUIET)
    assert res.converged, res.verdict
    return outdir


NEMS_PRIORS = {"C": {"dist": "loguniform", "low": 1e-7, "high": 1e-3},
               "gamma": {"dist": "loguniform", "low": 0.1, "high": 100.0},
               "n_ph": {"dist": "fixed", "value": 1.0}}
WITH_ELECTRONS = {"x": {"dist": "uniform", "low": 0.0, "high": 1.0},
                  "K": {"dist": "loguniform", "low": 1e-3, "high": 1.0}}
# K = 0 switches the electron channel off (A_el = 4πK/ħ = 0); x is then meaningless: fix it.
WITHOUT_ELECTRONS = {"x": {"dist": "fixed", "value": 0.0}, "K": {"dist": "fixed", "value": 0.0}}


def test_normal_state_damping_needs_the_electron_channel(tmp_path, capsys):
    """Maillet SiN beam, N state, simulated with x = 0.17, K = 0.07: the model with electrons
    must win by several dse; also exercises the CLI and its files."""
    m, T, G, s, _ = sim.maillet_damping("N", seed=21)
    ds = Dataset("N", m, T, G, s)
    a = _fit(ds, {**NEMS_PRIORS, **WITH_ELECTRONS}, tmp_path / "el")
    b = _fit(ds, {**NEMS_PRIORS, **WITHOUT_ELECTRONS}, tmp_path / "noel")
    res = compare_runs([b, a], names=["no_electrons", "electrons"])
    t = res.table
    assert t.index[0] == "electrons" and t.loc["electrons", "rank"] == 1
    d = -t.loc["no_electrons", "elpd_diff"]
    assert d > 3 * t.loc["no_electrons", "dse"]
    assert t.loc["electrons", "weight"] > 0.9

    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--names", "el,noel", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "best: el" in printed
    assert (out / "compare.csv").read_text().splitlines()[1].startswith("el,1,")
    assert "| el | 1 |" in (out / "compare.md").read_text()


def test_beta_free_beats_beta_fixed_at_half_when_the_truth_is_0p2(tmp_path):
    """Defrance B(2) 809 MHz (β = 0.20): fixing β at the standard-model 0.5 must lose."""
    r = papers.defrance_resonator("B(2)", 809)
    model = QPower(T=0.246, f=r.f0, saturation="field")
    E = np.geomspace(0.1, 1e4, 33)
    truth = {"delta0": r.delta0_qi, "delta_other": r.delta_other, "E_c": r.E_c, "beta": r.beta}
    mu = model.predict(truth, E)
    sg = 0.01 * mu
    ds = Dataset("qi", model, E, mu + sg * np.random.default_rng(3).standard_normal(mu.size), sg)
    pri = ds.default_priors()
    pri["beta"] = {"dist": "uniform", "low": 0.1, "high": 0.6}
    a = _fit(ds, pri, tmp_path / "free")
    b = _fit(ds, {**pri, "beta": {"dist": "fixed", "value": 0.5}}, tmp_path / "half")
    t = compare_runs([b, a], names=["beta_0.5", "beta_free"]).table
    assert t.index[0] == "beta_free"
    assert -t.loc["beta_0.5", "elpd_diff"] > 3 * t.loc["beta_0.5", "dse"]


@pytest.mark.slow
@pytest.mark.parametrize("truth", [1.0, 3.0])
def test_phonon_exponent_is_identified(tmp_path, truth):
    """S-state damping simulated with n_ph = 1 (1D beam) or 3 (bulk): the fitted exponent
    that matches wins.  A_ph is free with a prior 25 decades wide around each exponent's
    natural scale; 16 points keep the n_ph = 3 quadrature affordable (~1 min)."""
    omega = papers.MAILLET["omega"]
    T = np.geomspace(0.03, 0.6, 16)
    A = {1.0: 9.07e30, 3.0: 2.0e79}[truth]
    gen = NemsDamping(omega=omega, state="S", phonon="free")
    mu = gen.predict({"C": 4.3e-5, "A_ph": A, "n_ph": truth}, T)
    sg = 0.03 * mu
    ds = Dataset("S", gen, T, mu + sg * np.random.default_rng(7).standard_normal(T.size), sg)
    runs = []
    for n, lo, hi in ((1.0, 1e20, 1e45), (3.0, 1e65, 1e90)):
        pri = {"C": {"dist": "loguniform", "low": 1e-7, "high": 1e-3},
               "A_ph": {"dist": "loguniform", "low": lo, "high": hi},
               "n_ph": {"dist": "fixed", "value": n}}
        runs.append(_fit(ds, pri, tmp_path / f"n{n:g}"))
    t = compare_runs(runs, names=["n1", "n3"]).table
    win, lose = ("n1", "n3") if truth == 1.0 else ("n3", "n1")
    assert t.index[0] == win
    assert -t.loc[lose, "elpd_diff"] > 2 * t.loc[lose, "dse"]
