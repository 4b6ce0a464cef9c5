"""Experiment design: Fisher forecasts against analytic results, Monte Carlo and real fits."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tlsbayes import card as tcard
from tlsbayes import design
from tlsbayes.errors import CardError, TLSBayesError
from tlsbayes.inference.likelihood import Likelihood
from tlsbayes.models import FrequencyShift, LogShift, QPower
from tlsbayes.inference.posterior import Dataset, Posterior
from tlsbayes.inference.prior_set import PriorSet

MODELS = Path(__file__).resolve().parents[1] / "models"
B2_CARD = MODELS / "defrance_B2_809MHz_qpower.toml"
B2_TRUTH = {"delta0": 8.9e-6, "delta_other": 0.9e-6, "E_c": 3.4, "beta": 0.20}


def _linear_posterior(rng, likelihood="gaussian", extra_priors=None, n=25):
    """y = C ln(T/T0) + a3 T^3 with T0 fixed: linear in (C, a3), Normal priors."""
    T = np.geomspace(0.03, 1.0, n)
    sigma = 1e-7 * (1.0 + rng.uniform(size=n))
    model = LogShift()
    pri = {"C": {"dist": "normal", "mu": 2e-5, "sigma": 3e-6},
           "T0": {"dist": "fixed", "value": 0.1},
           "a3": {"dist": "normal", "mu": 0.0, "sigma": 2e-6}}
    pri.update(extra_priors or {})
    ds = Dataset("shift", model, T, np.zeros(n), sigma, Likelihood(likelihood))
    return Posterior([ds], PriorSet.from_dict(pri)), T, sigma


def test_fisher_of_linear_gaussian_model_is_the_analytic_posterior_covariance():
    rng = np.random.default_rng(3)
    post, T, sigma = _linear_posterior(rng)
    J = np.column_stack([np.log(T / 0.1), T ** 3])  # d mu / d(C, a3)
    prior_prec = np.diag([1 / 3e-6 ** 2, 1 / 2e-6 ** 2])
    exact = np.linalg.inv(J.T @ (J / sigma[:, None] ** 2) + prior_prec)
    for theta in (np.array([2e-5, 0.0]), np.array([1.1e-5, 3e-6])):  # linear: any point
        fc = design.forecast(post, theta)
        np.testing.assert_allclose(fc.cov, exact, rtol=1e-7)
        # and without the prior, the Cramér-Rao bound (J^T W J)^-1
        fc0 = design.forecast(post, theta, prior=False)
        np.testing.assert_allclose(fc0.cov, np.linalg.inv(J.T @ (J / sigma[:, None] ** 2)),
                                   rtol=1e-7)
        assert fc.error < 1e-6


def test_numerical_derivative_of_a_nonlinear_model_matches_the_analytic_one():
    """f(T) = f0 (1 + δ0 B/π): d f / d ln δ0 = f - f0 exactly, so F = Σ (f - f0)² / σ²."""
    T = np.linspace(0.05, 0.45, 30)
    sigma = np.full(T.size, 20.0)
    ds = Dataset("f", FrequencyShift(), T, np.zeros(T.size), sigma)
    post = Posterior([ds], PriorSet.from_dict({
        "f0": {"dist": "fixed", "value": 809e6},
        "delta0": {"dist": "loguniform", "low": 1e-8, "high": 1e-3}}))
    theta = np.array([math.log(7.9e-6)])
    f = post.predict(theta[None, :])["f"][0]
    F = design.fisher_information(post, theta)["F"]
    assert F[0, 0] == pytest.approx(np.sum((f - 809e6) ** 2 / sigma ** 2), rel=1e-8)


def _mc_score_covariance(post, theta, n_sims, rng, h):
    """Covariance of the numerical score d log L / d theta over simulated data sets."""
    k = theta.size
    pts = [theta]
    for i in range(k):
        for s in (h[i], -h[i]):
            t = theta.copy()
            t[i] += s
            pts.append(t)
    pts = np.array(pts)
    ds = post.datasets[0]
    scores = np.empty((n_sims, k))
    for r in range(n_sims):
        y = post.simulate(theta[None, :], rng)[ds.name][0]
        p = Posterior([Dataset(ds.name, ds.model, ds.x, y, ds.sigma, ds.likelihood)],
                      post.priors)
        ll = p.log_prob(pts)[2]
        scores[r] = (ll[1::2] - ll[2::2]) / (2 * h)
    return np.cov(scores, rowvar=False)


@pytest.mark.parametrize("likelihood,extra,theta_extra", [
    ("gaussian_noise_scale", {"noise_scale": {"dist": "loguniform", "low": 0.1, "high": 10}},
     [math.log(1.7)]),
    ("student_t", {"noise_scale": {"dist": "loguniform", "low": 0.1, "high": 10},
                   "nu": {"dist": "uniform", "low": 1.0, "high": 30.0}},
     [math.log(0.8), 5.0]),
])
def test_noise_parameter_fisher_blocks_match_the_monte_carlo_score_covariance(
        likelihood, extra, theta_extra):
    """Expected Fisher information = covariance of the score (independent of the formulas)."""
    rng = np.random.default_rng(11)
    post, T, sigma = _linear_posterior(rng, likelihood, extra, n=30)
    theta = np.array([2e-5, 1e-6] + theta_extra)
    F = design.fisher_information(post, theta)["F"]
    h = np.array([1e-10, 1e-11] + [1e-5] * len(theta_extra))  # small against each width
    mc = _mc_score_covariance(post, theta, 6000, rng, h)
    scale = np.sqrt(np.outer(np.diag(F), np.diag(F)))
    # 6000 draws: the MC estimate of each element scatters by ~sqrt(2/6000) = 2 % of scale
    np.testing.assert_allclose(mc / scale, F / scale, atol=0.08)
    assert np.all(np.abs(np.diag(mc) / np.diag(F) - 1) < 0.08)


def test_prior_keeps_unconstrained_directions_finite():
    """Fields far below E_c: beta is not seen at all, its forecast width is its prior's."""
    x = np.geomspace(1e-4, 1e-3, 20)  # V/m, E_c = 3.4 V/m: (x/E_c)^2 < 1e-7
    model = QPower(T=0.05, f=809e6, saturation="field")
    ds = Dataset("qi", model, x, np.zeros(x.size), np.full(x.size, 1e-8))
    post = Posterior([ds], PriorSet.from_dict(
        {n: p for n, p in ds.default_priors().items()}))
    theta = post.priors.from_params(B2_TRUTH)
    fc = design.forecast(post, theta)
    i = fc.names.index("beta")
    assert np.all(np.isfinite(fc.sd))
    assert fc.sd[i] == pytest.approx(0.5 / math.sqrt(12), rel=1e-3)
    try:  # without the prior the same direction is (numerically) unbounded
        sd = design.forecast(post, theta, prior=False).sd[i]
    except TLSBayesError:
        sd = math.inf
    assert not sd < 100 * fc.sd[i]


def _write(tmp_path, text, name="plan.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


PLAN = """
[plan]
name = "t"
pair = ["E_c", "beta"]
target = 0.10
check = false

[point]
delta0 = 8.9e-6
delta_other = 0.9e-6
E_c = 3.4
beta = 0.20

[[alternative]]
name = "246 mK"
[[alternative.sweep]]
x = { min = -150, max = -70, n = 33, unit = "dBm" }
T = 0.246
noise = { relative = 0.01 }

[[alternative]]
name = "lower T"
[[alternative.sweep]]
x = { min = -150, max = -70, n = 33 }      # the card's unit for x: dBm
T = { values = [100, 30], unit = "mK" }
noise = { relative = 0.01 }
"""


def test_run_design_writes_report_json_and_figure(tmp_path):
    card = tcard.load_card(B2_CARD)
    plan = design.load_plan(_write(tmp_path, PLAN), card)
    res = design.run_design(card, plan, outdir=tmp_path / "out", print_fn=lambda *a: None)
    for f in ("design.md", "design.json", "design_ellipses.png"):
        assert (tmp_path / "out" / f).stat().st_size > 0
    assert not list((tmp_path / "out").glob(".*"))  # no temporary files left behind
    data = json.loads((tmp_path / "out" / "design.json").read_text())
    fc = res.forecasts["246 mK"]
    np.testing.assert_allclose(data["alternatives"]["246 mK"]["relative_sd"], fc.rel)
    # the point is the plan's, and the 246 mK grid is the card's own data grid: same Fisher
    post, _ = tcard.build_posterior(card)
    theta = post.priors.from_params(B2_TRUTH)
    np.testing.assert_allclose(fc.theta, theta)
    np.testing.assert_allclose(design.forecast(post, theta).sd, fc.sd, rtol=1e-6)
    # two temperatures double the points; lower T puts more of the loss in the TLS part
    low = res.forecasts["lower T"]
    assert low.n_points == 66
    pp = design.plan_posterior(post, plan.alternatives[1], theta)
    np.testing.assert_allclose(pp.datasets[0].x, post.datasets[0].x, rtol=1e-12)  # dBm -> W
    assert [ds.model.T for ds in pp.datasets] == [0.03, 0.1]
    assert np.all(low.rel < fc.rel)
    assert "| 246 mK | 33 |" in (tmp_path / "out" / "design.md").read_text()


@pytest.mark.parametrize("edit,needle", [
    (("[plan]\n", "[plan]\ncolour = 1\n"), "[plan] unknown key 'colour'"),
    (("[point]\n", "[point]\nE_cc = 1.0\n"), "unknown parameter 'E_cc'"),
    (("noise = { relative = 0.01 }\n\n[[alt", "noize = { relative = 0.01 }\n\n[[alt"),
     "unknown key 'noize'"),
    (("n = 33, unit = \"dBm\" }\nT = 0.246", "n = 33, unit = \"K\" }\nT = 0.246"),
     "unit 'K' is not a unit of the x"),
    (("T = 0.246\n", "T = 0.246\ndataset = \"fshift\"\n"), "has no data set 'fshift'"),
    (("noise = { relative = 0.01 }\n\n[[alt", "\n[[alt"), "needs noise"),
    (("[[alternative]]\nname = \"lower T\"", "[[alternative]]\nname = \"246 mK\""),
     "name is used twice"),
    (("check = false", "check = [\"nope\"]"), "no alternative named 'nope'"),
])
def test_bad_plans_name_the_key_and_the_file(tmp_path, edit, needle):
    card = tcard.load_card(B2_CARD)
    assert edit[0] in PLAN
    path = _write(tmp_path, PLAN.replace(edit[0], edit[1], 1))
    with pytest.raises(CardError) as exc:
        design.load_plan(path, card)
    msg = str(exc.value)
    assert needle in msg and msg.startswith(str(path))


def test_fisher_forecast_agrees_with_simulate_and_fit(tmp_path):
    """Well-identified case: B(2) 809 MHz at 30 mK, 1 % noise.  Tolerance 30 %: one simulated
    data set, whose posterior width scatters by a few % around its mean, and the Fisher
    forecast's Gaussian approximation (the E_c and beta marginals are mildly skewed)."""
    card = tcard.load_card(B2_CARD)
    post, _ = tcard.build_posterior(card)
    theta = post.priors.from_params(B2_TRUTH)
    alt = design.Alternative("30 mK", (design.Sweep(
        "qi", x=1e-3 * 10 ** (np.linspace(-150, -70, 33) / 10), temperatures=(0.03,),
        noise=("relative", 0.01)),))
    pp = design.plan_posterior(post, alt, theta)
    fc = design.forecast(pp, theta)
    chk = design.simulate_and_fit(pp, theta, seed=2)
    assert all(chk["converged"])
    ratio = chk["sd"] / fc.sd
    assert np.all(np.abs(ratio - 1) < 0.3), dict(zip(fc.names, ratio))
    i, j = fc.names.index("E_c"), fc.names.index("beta")
    assert abs(chk["corr"][i, j] - fc.corr[i, j]) < 0.1


def test_design_command_writes_outputs_and_bad_plan_exits_2(tmp_path, capsys):
    from tlsbayes.cli import main

    plan = _write(tmp_path, PLAN)
    out = tmp_path / "out"
    assert main(["design", str(B2_CARD), "--plan", str(plan), "--out", str(out)]) == 0
    assert (out / "design.md").is_file() and (out / "design_ellipses.png").is_file()
    capsys.readouterr()
    bad = _write(tmp_path, PLAN.replace("[[alternative.sweep]]\n", "[[alternative.sweep]]\n"
                                        "step = 2\n", 1), "bad.toml")
    assert main(["design", str(B2_CARD), "--plan", str(bad), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "unknown key 'step'" in err[0]
    assert not (tmp_path / "o2").exists()
