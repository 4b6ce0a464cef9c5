"""TLS fits from S21 traces: the two-stage likelihood, cards that name a traces table or folder,
per-point temperatures, the joint check against a direct fit, and the real GaAs and NYU cards.

The two-stage likelihood (tlsbayes/inference/traces.py) is checked against the exact Gaussian
convolution it estimates; a card on a simulated power x temperature sweep run through
``tlsbayes s21`` must recover the TLS parameters used to simulate it; the direct joint fit of
every trace and the TLS parameters (tests/_s21_joint.py) must give the same medians within
0.1 sd.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from tlsbayes import card as tcard
from tlsbayes.errors import DataError, TLSBayesError
from tlsbayes.inference.likelihood import Likelihood
from tlsbayes.inference.posterior import Dataset, Posterior
from tlsbayes.inference.prior_set import PriorSet
from tlsbayes.inference.traces import TraceDraws
from tlsbayes.models.qpower import QPower
from tlsbayes.physics import s21 as k
from tlsbayes.s21.simulate import simulate_trace, theta_from_q, write_trace_file

F_R = 6e9
QC = 5e4
TRUTH = {"delta0": 2e-5, "delta_other": 5e-6, "P_c": 1e-14, "beta": 0.5}


# --------------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scatter_over_sd", [0.0, 0.5, 3.0])
def test_two_stage_term_is_the_gaussian_convolution(scatter_over_sd):
    """Draws of ln y ~ N(c, s) under a prior flat in ln y: the estimate must be the exact
    ln N(c; ln m, sqrt(s² + σ_x²)) wherever the model is within 1 sd of the trace, to the
    Monte-Carlo error of the 256 draws kept (~0.05 at 1 sd when σ_x = 0)."""
    rng = np.random.default_rng(5)
    centres, s = np.array([-9.0, -10.0, -11.0]), 0.02
    draws = TraceDraws.from_samples([np.exp(rng.normal(c, s, 4000)) for c in centres],
                                    uniform_in_y=False)
    sx = scatter_over_sd * s
    for off in (-1.0, -0.5, 0.0, 0.5, 1.0):
        m = np.exp(centres + off * s)[None, :]
        got = draws.pointwise(m, np.array([sx]))[0]
        want = norm.logpdf(centres, np.log(m[0]), math.hypot(s, sx))
        np.testing.assert_allclose(got, want, atol=0.08)


def test_two_stage_term_divides_by_the_trace_prior():
    """A prior flat in y (1/Q_i, f_r of a trace) tilts the posterior by y: the estimate must
    divide it out and give the likelihood's own ln N(c; ln m, s) (up to a constant).  A wide
    posterior (s = 0.5) makes the tilt large: without the division the differences below
    would be off by 0.3 and 0.4."""
    rng = np.random.default_rng(6)
    c, s = -9.0, 0.5
    # the posterior under a prior ∝ y, in ln y: N(c + s², s)
    tilted = TraceDraws.from_samples([np.exp(rng.normal(c + s * s, s, 4000))],
                                     uniform_in_y=True, max_draws=4000)
    m = np.exp(np.array([[c - 0.3], [c], [c + 0.4]]))
    got = tilted.pointwise(m, np.zeros(3))[:, 0]
    want = norm.logpdf(c, np.log(m[:, 0]), s)
    np.testing.assert_allclose(np.diff(got), np.diff(want), atol=0.04)
    wide = tilted.pointwise(m, np.full(3, 0.3))[:, 0]
    np.testing.assert_allclose(np.diff(wide), np.diff(norm.logpdf(c, np.log(m[:, 0]),
                                                                  math.hypot(s, 0.3))),
                               atol=0.04)


def test_far_model_values_stay_finite_and_ordered():
    draws = TraceDraws.from_samples([np.exp(np.random.default_rng(1).normal(0, 0.01, 500))])
    ll = draws.pointwise(np.exp(np.array([[0.5], [1.0], [3.0]])), np.zeros(3))[:, 0]
    assert np.all(np.isfinite(ll)) and ll[0] > ll[1] > ll[2]
    assert draws.pointwise(np.array([[-1.0], [np.nan]]), np.zeros(2))[:, 0].tolist() == \
        [-np.inf, -np.inf]


def test_pointwise_equals_logsumexp_of_the_closed_form_terms():
    """The compiled sum (own vectorised exp, relative to the largest term) against scipy's
    logsumexp of the same closed-form kernel integrals, near the draws and far beyond them
    (where every term underflows a plain sum), to rounding."""
    from scipy.special import logsumexp

    rng = np.random.default_rng(3)
    draws = TraceDraws.from_samples([np.exp(rng.normal(c, 0.03, 300)) for c in (-9.0, 2.0)],
                                    uniform_in_y=True)
    m = np.exp(np.array([[-9.0, 2.0], [-9.05, 2.1], [-3.0, 40.0], [-60.0, -1.0]]))
    sx = np.array([0.0, 0.02, 0.5, 0.01])
    got = draws.pointwise(m, sx)
    for w in range(m.shape[0]):
        for i in range(2):
            z, h2, lm = draws.z[i], draws.width[i] ** 2, math.log(m[w, i])
            v = sx[w] ** 2 + h2
            # ln ∫ N(z; lm, sx) N(z; z', h) e^{-z} dz per draw z' (module docstring)
            terms = (norm.logpdf(z, lm, math.sqrt(v)) - (lm * h2 + z * sx[w] ** 2) / v
                     + 0.5 * sx[w] ** 2 * h2 / v)
            want = logsumexp(terms) - math.log(z.size)
            assert got[w, i] == pytest.approx(want, rel=1e-13, abs=1e-12)


def test_trace_posterior_needs_draws_and_draws_need_it():
    m = QPower(T=0.012, f=F_R, saturation="power")
    d = TraceDraws.from_samples([np.full(10, 1e-5) * (1 + 0.01 * np.arange(10))] * 2)
    with pytest.raises(TLSBayesError, match="needs per-trace posteriors"):
        Dataset("q", m, [1e-15, 1e-14], [1e-5, 1e-5], likelihood=Likelihood("trace_posterior"))
    with pytest.raises(TLSBayesError, match="need likelihood 'trace_posterior'"):
        Dataset("q", m, [1e-15, 1e-14], [1e-5, 1e-5], sigma=[1e-7, 1e-7], draws=d)


def test_point_temperatures_evaluate_each_point_at_its_own_T():
    """Per-point T must equal the model built at each point's T (and differ from one T)."""
    x = np.array([1e-15, 1e-13, 1e-15, 1e-13])
    T = np.array([0.02, 0.02, 0.3, 0.3])
    m = QPower(T=0.1, f=F_R, saturation="power")
    ds = Dataset("q", m, x, np.ones(4), sigma=np.ones(4), point_constants={"T": T})
    P = np.array([[2e-5, 5e-6, 1e-14, 0.5]])
    got = ds.predict_matrix(P)[0]
    want = [QPower(T=t, f=F_R, saturation="power").predict(TRUTH, [xi])[0]
            for xi, t in zip(x, T)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert abs(got[2] / got[0] - 1) > 0.05  # hot points lose TLS loss: T matters here


# --------------------------------------------------------------------------------------------
# a simulated power x temperature sweep through `tlsbayes s21` and a card
# --------------------------------------------------------------------------------------------
def _sweep(folder: Path, powers, temps, seed=0, scatter=0.0, sigma=0.01, npts=301):
    """Write one trace file per (power, T); returns the true 1/Q_i per file name."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for T in temps:
        model = QPower(T=T, f=F_R, saturation="power")
        for p in powers:
            inv_qi = model.predict(TRUTH, [1e-3 * 10 ** (p / 10)])[0]
            inv_qi *= math.exp(scatter * rng.standard_normal())
            ql = 1.0 / (inv_qi + 1.0 / QC)
            f = np.linspace(F_R * (1 - 6 / ql), F_R * (1 + 6 / ql), npts)
            th = theta_from_q(F_R, 1.0 / inv_qi, QC, phi=0.1, a=0.8, alpha=0.3, tau=5e-9)
            name = f"sim_{p:.0f}dB_{T * 1e3:.0f}mK.csv"
            write_trace_file(folder / name, f, simulate_trace(f, th, sigma, rng))
            truth[name] = inv_qi
    return truth


CARD = """
[card]
name = "sim_traces"

[[dataset]]
name = "qi"
model = "q_power"
likelihood = "trace_posterior"

[dataset.constants]
f = 6e9
saturation = "power"

[dataset.data]
file = "{file}"
x = {{ column = "power_dBm" }}
y = {{ column = "Qi", kind = "Qi" }}
T = {{ column = "temperature_K" }}

[priors]
delta0 = {{ dist = "loguniform", low = 1e-7, high = 1e-3 }}
delta_other = {{ dist = "loguniform", low = 1e-8, high = 1e-3 }}
P_c = {{ dist = "fixed", value = 1e-14 }}
beta = {{ dist = "fixed", value = 0.5 }}
"""


@pytest.fixture(scope="module")
def sim_s21(tmp_path_factory):
    """A 3 power x 2 temperature sweep plus a trace without a resonance, fitted by s21."""
    from tlsbayes.s21.run import run_s21

    root = tmp_path_factory.mktemp("sweep")
    truth = _sweep(root / "raw", [-140, -110, -80], [0.02, 0.25], seed=2)
    f = np.linspace(F_R - 1e6, F_R + 1e6, 301)
    noise = 0.01 * (np.random.default_rng(3).standard_normal(301) + 1j)
    write_trace_file(root / "raw" / "sim_-100dB_20mK.csv", f, 0.8 + noise)  # no dip
    res = run_s21([root / "raw"], root / "out", progress=False, plots=False)
    return root, truth, res


def test_card_names_traces_table_and_uses_each_points_T(sim_s21):
    root, truth, res = sim_s21
    assert (res.table["status"] == "failed").sum() == 1
    assert "posterior" in res.table.columns
    card = tcard.parse_card(CARD.format(file="out"), root / "c.toml")  # in the card's folder
    post, loaded = tcard.build_posterior(card)
    ds = post.datasets[0]
    assert ds.n == 6 and ds.draws.n == 6
    notes = " ".join(loaded[0].notes)
    assert "1 traces left out" in notes and "sim_-100dB_20mK.csv failed" in notes
    # ... and run.json / the report list them
    from tlsbayes.fit import _data_info
    from tlsbayes.reporting.context import _dataset_info

    info = _data_info(loaded)[0]
    assert any("sim_-100dB_20mK.csv failed" in t for t in info["traces"])
    shown = _dataset_info(card.datasets[0], ds, info)
    assert any("left out" in t for t in shown.traces)
    # the two temperatures are two groups of constants; the model draws its curve at the median
    assert sorted(set(ds.point_constants["T"])) == [0.02, 0.25]
    assert ds.model.T == pytest.approx(0.135)
    # MAP over (ln delta0, ln delta_other, excess_scatter) recovers the simulation
    from tlsbayes.sampling import find_map

    best = find_map(post.log_prob, post.priors.sample(8, np.random.default_rng(0)))
    got = post.params(best.theta[None, :])
    assert got["delta0"][0] == pytest.approx(TRUTH["delta0"], rel=0.1)
    assert got["delta_other"][0] == pytest.approx(TRUTH["delta_other"], rel=0.15)


def test_flagged_traces_only_on_request_and_bad_status_is_one_line(sim_s21, tmp_path):
    root, _, _ = sim_s21
    text = CARD.format(file="out/traces.csv")
    bad = text.replace('T = { column = "temperature_K" }',
                       'T = { column = "temperature_K" }\nstatus = ["ok", "failed"]')
    with pytest.raises(TLSBayesError, match="status must be"):
        tcard.parse_card(bad, tmp_path / "c.toml")
    # a y column without per-trace draws, and a missing posterior: one line naming them
    qc = text.replace('y = { column = "Qi", kind = "Qi" }', 'y = { column = "Qc", kind = "Qi" }')
    with pytest.raises(DataError, match="y column 'Qc' has no per-trace draws"):
        tcard.build_posterior(tcard.parse_card(qc, root / "c.toml"))
    import shutil

    shutil.copytree(root / "out", tmp_path / "out")
    victim = sorted((tmp_path / "out" / "posteriors").glob("sim_-80dB_250mK*.nc"))[0]
    victim.unlink()
    # the same card text beside the copy: its data are the copy (paths relative to the card)
    with pytest.raises(DataError, match="sim_-80dB_250mK.csv.*posterior NetCDF is missing") as ei:
        tcard.build_posterior(tcard.parse_card(text, tmp_path / "c.toml"))
    assert "\n" not in str(ei.value)
    raw = text.replace("out/traces.csv", "raw")
    card = tcard.parse_card(raw, root / "c.toml")
    os.environ["TLSBAYES_S21_CACHE"] = str(tmp_path / "empty-cache")
    try:
        with pytest.raises(DataError, match="folder of raw traces without traces.csv"):
            tcard.build_posterior(card)
    finally:
        del os.environ["TLSBAYES_S21_CACHE"]


# --------------------------------------------------------------------------------------------
# joint check
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_two_stage_agrees_with_direct_joint_fit():
    """6 simulated traces, TLS loss with excess scatter 0.05: medians of (delta0, delta_other,
    excess_scatter) from the two-stage fit and from the direct joint fit of all 6 x 8 trace
    parameters and the TLS parameters agree within 0.1 sd (16-84 % half width)."""
    from _s21_joint import JointTraces

    from tlsbayes.s21.circle import circle_start
    from tlsbayes.s21.fit import fit_trace
    from tlsbayes.s21.lsq import refine
    from tlsbayes.s21.readers import Trace
    from tlsbayes.s21.trace import TracePosterior
    from tlsbayes.sampling import SamplerSettings, sample

    rng = np.random.default_rng(3)
    n = 6
    p_dbm = np.linspace(-140, -80, n)
    model = QPower(T=0.012, f=F_R, saturation="power")
    inv_true = model.predict(TRUTH, 1e-3 * 10 ** (p_dbm / 10)) * np.exp(
        0.05 * rng.standard_normal(n))
    draws, traces = [], []
    notch = k.geometry_code("notch")
    for j in range(n):
        ql = 1.0 / (inv_true[j] + 1.0 / QC)
        f = np.linspace(F_R * (1 - 6 / ql), F_R * (1 + 6 / ql), 201)
        th = theta_from_q(F_R, 1.0 / inv_true[j], QC, phi=0.1, a=0.8, alpha=0.3, tau=5e-9)
        z = simulate_trace(f, th, 0.008, rng)
        res = fit_trace(Trace(file=f"t{j}", f=f, z=z, power_dBm=p_dbm[j],
                              temperature_K=0.012), seed=j)
        assert res.status == "ok", res.reason
        draws.append(res.samples[:, k.I_INV_QI])
        st = circle_start(f, z, notch)
        traces.append(TracePosterior(f, z, refine(f, z, st.theta, st.f_ref, notch),
                                     st.f_ref, "notch"))
    ds = Dataset("qi", model, 1e-3 * 10 ** (p_dbm / 10), [np.median(d) for d in draws],
                 likelihood=Likelihood("trace_posterior"), draws=TraceDraws.from_samples(draws))
    pri = PriorSet.from_dict({
        "delta0": {"dist": "loguniform", "low": 1e-7, "high": 1e-3},
        "delta_other": {"dist": "loguniform", "low": 1e-8, "high": 1e-3},
        "P_c": {"dist": "fixed", "value": 1e-14}, "beta": {"dist": "fixed", "value": 0.5},
        "excess_scatter": {"dist": "uniform", "low": 0.0, "high": 1.0}})
    post = Posterior([ds], pri)
    run = sample(post, SamplerSettings(seed=1, target_ess=2000, progress=False),
                 rng=np.random.default_rng(1)).run
    two = run.chain[run.burn_in:].reshape(-1, post.ndim)
    joint = JointTraces(traces, post)
    out, acc_traces, acc_theta = joint.sample(two[rng.choice(two.shape[0], 16)], np.cov(two.T),
                                              sweeps=800, chains=16, rng=rng)
    direct = out[150:].reshape(-1, post.ndim)
    assert acc_traces > 0.3 and acc_theta > 0.05
    for i, name in enumerate(post.free_names):
        q16, q50, q84 = np.percentile(two[:, i], [16, 50, 84])
        half = 0.5 * (q84 - q16)
        d16, d50, d84 = np.percentile(direct[:, i], [16, 50, 84])
        print(f"{name}: two-stage {q50:.5g} (half width {half:.3g}), joint {d50:.5g} "
              f"(half width {0.5 * (d84 - d16):.3g}), difference {(d50 - q50) / half:+.3f} sd")
        assert abs(d50 - q50) < 0.1 * half, name
        assert 0.8 < (d84 - d16) / (q84 - q16) < 1.25, name
