"""Quasiparticle kernels and models: BCS gap, Mattis–Bardeen conductivity, shift and loss.

The references (tests/data/ref_mattis_bardeen.json) come from
tests/reference/generate_mb_references.py, which imports nothing from tlsbayes: the gap from
the Matsubara-sum form of the BCS gap equation and the Mattis–Bardeen integrals done literally
in the energy by mpmath's tanh-sinh quadrature at 30 digits.  The analytic limits (Bessel-
function low-temperature forms, πΔ/ħω, the low-frequency tanh form, Ginzburg–Landau near Tc)
are written out here independently with scipy.special.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import constants as C
from scipy.special import i0e, k0e, zeta

from tlsbayes import physics as ph
from tlsbayes.card import build_posterior, parse_card
from tlsbayes.errors import CardError
from tlsbayes.models import MODELS, FrequencyShift, model_from_dict

REF = json.loads((Path(__file__).parent / "data" / "ref_mattis_bardeen.json").read_text())
CASES = REF["conductivity"]
R_BCS = math.pi * math.exp(-np.euler_gamma)


def _f(s):
    return float(s)


# --- against the independent mpmath twin -----------------------------------------------------

def test_bcs_ratio_is_pi_exp_minus_euler_gamma():
    assert ph.BCS_GAP_RATIO == pytest.approx(_f(REF["bcs_gap_ratio_str"]), rel=1e-15)
    assert round(ph.BCS_GAP_RATIO, 3) == 1.764


def test_gap_against_matsubara_sum_gap_equation():
    t = np.array([g["t"] for g in REF["gap"]])
    ref = np.array([_f(g["delta_str"]) for g in REF["gap"]])
    got = ph.bcs_gap(t * 1.2, 1.2) / (ph.BCS_GAP_RATIO * C.k * 1.2)
    err = np.abs(got - ref)
    assert err.max() < 1e-13, dict(zip(t, err))  # near Tc: the conditioning of the gap equation
    assert err[t <= 0.99].max() < 2e-15


@pytest.mark.parametrize("film", sorted({c["film"] for c in CASES}))
def test_conductivity_against_literal_mattis_bardeen_integrals(film):
    cs = [c for c in CASES if c["film"] == film]
    T = np.array([c["T"] for c in cs])
    s1, s2 = ph.mattis_bardeen_sigma(T, cs[0]["f"], cs[0]["Tc"])
    r1 = np.array([_f(c["sigma1_str"]) for c in cs])
    r2 = np.array([_f(c["sigma2_str"]) for c in cs])
    assert np.all(r1 > 0)
    assert np.max(np.abs(s1 / r1 - 1)) < 3e-14
    assert np.max(np.abs(s2 / r2 - 1)) < 2e-14


@pytest.mark.parametrize("film", sorted({c["film"] for c in CASES}))
def test_shift_and_loss_against_reference(film):
    cs = [c for c in CASES if c["film"] == film]
    T = np.array([c["T"] for c in cs])
    f, Tc, alpha = cs[0]["f"], cs[0]["Tc"], 0.37
    rel = np.array([_f(c["dsigma2_rel_str"]) for c in cs])  # [σ2(T) - σ2(0)]/σ2(0)
    shift = ph.qp_frequency_shift(T, f, alpha, Tc)
    # absolute error of (α/2) δσ2/σ2 at the level of rounding σ2 itself
    assert np.max(np.abs(shift - 0.5 * alpha * rel)) < 5e-16
    big = np.abs(rel) > 1e-8
    assert big.sum() >= 9
    assert np.max(np.abs(shift[big] / (0.5 * alpha * rel[big]) - 1)) < 1e-7
    invq = ph.qp_inverse_q(T, f, alpha, Tc)
    ratio = np.array([_f(c["sigma1_str"]) / _f(c["sigma2_str"]) for c in cs])
    assert np.max(np.abs(invq / (alpha * ratio) - 1)) < 3e-14


def test_reduced_kernel_against_the_twin_live():
    """Three points not in the JSON, recomputed now by the twin (guards against a stale file)."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent / "reference"))
    import mattis_bardeen_twin as tw

    for theta, d in ((0.37, 4.1), (3.0, 0.8), (0.9, 0.2)):
        s1, s2 = ph.mb_sigma_reduced(theta, d, True)
        assert s1 == pytest.approx(float(tw.sigma1(theta, d)), rel=3e-14)
        assert s2 == pytest.approx(float(tw.sigma2(theta, d)), rel=2e-14)


# --- analytic limits -------------------------------------------------------------------------

def _reduced(tau, w):
    """σ1, σ2, σ2(0) at k_BT = τ Δ0 and ħω = w Δ0 (Δ0 the BCS gap)."""
    delta = ph.bcs_gap_fraction(tau * R_BCS)
    s1, s2 = ph.mb_sigma_reduced(tau / w, delta / w, True)
    s20 = ph.mb_sigma_reduced(0.0, 1.0 / w, False)[1]
    return s1, s2, s20


@pytest.mark.parametrize("w", [1e-3, 1e-2, 0.05])
@pytest.mark.parametrize("tau", [0.04, 0.06, 0.08, 0.1])
def test_low_temperature_bessel_forms(tau, w):
    """k_BT, ħω << Δ0 (Gao 2008; Zmuidzinas 2012), ξ = ħω/2k_BT:

    σ1/σn = (4Δ0/ħω) e^(-Δ0/k_BT) sinh ξ K0(ξ),
    δσ2/σ2 = -e^(-Δ0/k_BT) [sqrt(2π k_BT/Δ0) + 2 e^(-ξ) I0(ξ)].
    Their corrections are O(k_BT/Δ0) and O(sqrt(ħω/Δ0)) (σ1), O(k_BT/Δ0, ħω/Δ0) (σ2).
    """
    s1, s2, s20 = _reduced(tau, w)
    xi = w / (2 * tau)
    a1 = 4 / w * math.exp(-1 / tau) * 0.5 * -math.expm1(-2 * xi) * k0e(xi)
    a2 = -math.exp(-1 / tau) * (math.sqrt(2 * math.pi * tau) + 2 * i0e(xi))
    e1 = abs(s1 / a1 - 1)
    e2 = abs((s2 - s20) / s20 / a2 - 1)
    assert e1 < 0.1 * tau + 0.15 * math.sqrt(w), e1
    assert e2 < 0.05 * tau + 0.1 * w, e2


def test_low_temperature_sigma1_error_vanishes_with_temperature():
    errs = []
    for tau in (0.1, 0.07, 0.05, 0.035, 0.025):
        s1, _, _ = _reduced(tau, 1e-4)
        xi = 1e-4 / (2 * tau)
        a1 = 4 / 1e-4 * math.exp(-1 / tau) * 0.5 * -math.expm1(-2 * xi) * k0e(xi)
        errs.append(abs(s1 / a1 - 1))
    assert all(b < a for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < 0.3 * errs[0]


@pytest.mark.parametrize("w", [1e-4, 1e-3, 1e-2, 0.1])
def test_sigma2_at_zero_temperature_is_pi_delta_over_hbar_omega(w):
    s20 = ph.mb_sigma_reduced(0.0, 1.0 / w, False)[1]
    rel = s20 / (math.pi / w) - 1
    # the leading correction is -(ħω/4Δ)²
    assert rel < 0
    assert abs(rel / (-(w / 4) ** 2) - 1) < w


@pytest.mark.parametrize("w", [1e-3, 1e-4])
def test_low_frequency_sigma2_is_pi_delta_tanh(w):
    """ħω << k_BT, Δ: σ2/σn = (πΔ/ħω) tanh(Δ/2k_BT) (Tinkham ch. 3), error O(ħω)."""
    for t in (0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99):
        tau = t / R_BCS
        delta = ph.bcs_gap_fraction(t)
        s2 = ph.mb_sigma_reduced(tau / w, delta / w, False)[1]
        rel = s2 / (math.pi * delta / w * math.tanh(delta / (2 * tau))) - 1
        assert abs(rel) < 3 * w, (t, rel)


def test_gap_limits_low_t_and_ginzburg_landau():
    # 1 - Δ/Δ0 -> sqrt(2π τ) e^(-1/τ) as τ = k_BT/Δ0 -> 0 (relative correction O(τ))
    for t in (0.1, 0.15, 0.2):
        tau = t / R_BCS
        low = math.sqrt(2 * math.pi * tau) * math.exp(-1 / tau)
        got = 1 - ph.bcs_gap_fraction(t)
        assert abs(got / low - 1) < tau, t
    # Δ/(k_B Tc) -> sqrt(8π²/7ζ(3)) sqrt(1 - t) near Tc (correction O(1 - t))
    for eps in (1e-3, 1e-5):
        gl = math.sqrt(8 * math.pi ** 2 / (7 * zeta(3))) * math.sqrt(eps) / R_BCS
        assert abs(ph.bcs_gap_fraction(1 - eps) / gl - 1) < 2 * eps
    assert ph.bcs_gap(0.0, 1.2) == pytest.approx(R_BCS * C.k * 1.2, rel=1e-15)


def test_normal_state_and_edges():
    s1, s2 = ph.mattis_bardeen_sigma(np.array([1.2, 1.5]), 7.7e9, 1.2)
    assert np.all(s1 == 1.0) and np.all(s2 == 0.0)
    # continuity at Tc: σ1 -> 1, σ2 -> 0
    s1, s2 = ph.mattis_bardeen_sigma(1.2 * (1 - 1e-7), 7.7e9, 1.2)
    assert abs(s1 - 1) < 1e-3 and 0 < s2 < 1e-3
    assert math.isnan(ph.bcs_gap_fraction(math.nan))
    assert math.isnan(ph.qp_frequency_shift(math.nan, 7e9, 0.1, 1.2))
    assert math.isnan(ph.qp_inverse_q(-1.0, 7e9, 0.1, 1.2))
    assert ph.qp_frequency_shift(0.0, 7e9, 0.1, 1.2) == 0.0
    assert ph.qp_inverse_q(0.0, 7e9, 0.1, 1.2) == 0.0
    assert ph.qp_inverse_q(1.3, 7e9, 0.1, 1.2) == math.inf
    # a non-BCS gap ratio: Δ0 given explicitly
    d0 = 2.0 * C.k * 1.2
    assert ph.bcs_gap(0.5 * 1.2, 1.2, Delta0=d0) == pytest.approx(
        d0 * ph.bcs_gap_fraction(0.5), rel=1e-15)


@pytest.mark.parametrize("f", [0.8e9, 7.7e9, 60e9])
def test_monotonic_in_temperature(f):
    t = np.linspace(0.0, 0.9999, 1500)
    s1, s2 = ph.mattis_bardeen_sigma(1.2 * t, f, 1.2)
    # σ2 falls with T (to rounding where it is flat at low T); strictly once t > 0.06
    assert np.all(np.diff(s2) <= 4e-16 * s2[1:])
    assert np.all(np.diff(s2[t > 0.06]) < 0)
    # σ1 rises with T up to the coherence peak (near 0.86 Tc at 0.8 GHz), never before 0.7 Tc
    low = t <= 0.7
    assert np.all(np.diff(s1[low]) >= 0)
    assert np.all(np.diff(s1[low & (t > 0.06)]) > 0)
    assert np.all(np.diff(ph.bcs_gap(1.2 * t, 1.2)) <= 0)
    # (α/2) δσ2/σ2 inherits the rounding of σ2 (~4e-16) where it is flat
    assert np.all(np.diff(ph.qp_frequency_shift(1.2 * t, f, 0.1, 1.2)) <= 1e-16)
    assert np.all(np.diff(ph.qp_inverse_q(1.2 * t[low], f, 0.1, 1.2)) >= 0)


def test_coherence_peak_at_low_frequency():
    """σ1/σn exceeds 1 below Tc at ħω << k_BTc (the Mattis–Bardeen coherence peak)."""
    t = np.linspace(0.7, 0.999, 300)
    s1, _ = ph.mattis_bardeen_sigma(1.2 * t, 0.8e9, 1.2)
    assert s1.max() > 1.5
    assert 0.8 < t[np.argmax(s1)] < 0.95


# --- models -------------------------------------------------------------------------------

T_NYU = np.linspace(0.03, 0.315, 20)


def test_models_registered_with_named_parameters():
    assert {"frequency_shift_qp", "fractional_shift_qp", "inverse_q_qp"} <= set(MODELS)
    m = model_from_dict("frequency_shift_qp", {})
    assert m.param_names == ("f0", "delta0", "alpha", "Tc")
    assert model_from_dict("frequency_shift_qp", {"gap": "Delta0"}).param_names[-1] == "Delta0"
    q = model_from_dict("inverse_q_qp", {"f": 7.7e9})
    assert q.param_names == ("delta_tls", "delta_other", "alpha", "Tc")
    fr = model_from_dict("fractional_shift_qp", {"f": 5.6e9})
    assert fr.param_names == ("delta0", "alpha", "Tc", "shift_offset")
    for model in (m, q, fr):
        for p in model.parameters:
            assert p.latex.startswith("$") and p.latex.endswith("$")
        a = {p.name: p for p in model.parameters}["alpha"]
        assert a.physical_range == (0.0, 1.0)
    with pytest.raises(ValueError, match="gap"):
        model_from_dict("frequency_shift_qp", {"gap": "Tcc"})
    with pytest.raises(ValueError, match="needs the constant f"):
        model_from_dict("inverse_q_qp", {})


def test_frequency_shift_qp_is_tls_plus_mattis_bardeen():
    m = model_from_dict("frequency_shift_qp", {})
    p = {"f0": 7.7181e9, "delta0": 7e-6, "alpha": 0.0085, "Tc": 1.13}
    got = m.predict(p, T_NYU)
    tls = FrequencyShift().predict({"f0": p["f0"], "delta0": p["delta0"]}, T_NYU)
    qp_part = p["f0"] * ph.qp_frequency_shift(T_NYU, p["f0"], p["alpha"], p["Tc"])
    assert np.allclose(got, tls + qp_part, rtol=0, atol=1e-6)
    assert np.max(np.abs(qp_part)) > 1e4  # the quasiparticle term matters at 315 mK
    assert np.array_equal(m.predict({**p, "alpha": 0.0}, T_NYU), tls)
    # Δ0 parametrisation: same film, same prediction
    md = model_from_dict("frequency_shift_qp", {"gap": "Delta0"})
    d0_eV = ph.BCS_GAP_RATIO * C.k * p["Tc"] / C.e
    pd = {k: v for k, v in p.items() if k != "Tc"} | {"Delta0": d0_eV}
    assert np.allclose(md.predict(pd, T_NYU), got, rtol=0, atol=1e-6)
    # above Tc there is no resonator: NaN, i.e. zero likelihood
    assert np.all(np.isnan(m.predict({**p, "Tc": 0.2}, T_NYU)[T_NYU >= 0.2]))


def test_walker_vectorisation_matches_single_calls():
    m = model_from_dict("inverse_q_qp", {"f": 7.7e9})
    rng = np.random.default_rng(4)
    P = {"delta_tls": rng.uniform(1e-7, 1e-5, 6), "delta_other": rng.uniform(1e-6, 1e-4, 6),
         "alpha": rng.uniform(0.001, 0.1, 6), "Tc": rng.uniform(0.9, 1.5, 6)}
    many = m.predict(P, T_NYU)
    for w in range(6):
        one = m.predict({k: float(v[w]) for k, v in P.items()}, T_NYU)
        assert np.array_equal(many[w], one)
        expect = (P["delta_other"][w]
                  + P["delta_tls"][w] * np.tanh(C.h * 7.7e9 / (2 * C.k * T_NYU))
                  + ph.qp_inverse_q(T_NYU, 7.7e9, P["alpha"][w], P["Tc"][w]))
        assert np.allclose(one, expect, rtol=1e-14, atol=0)


def test_fractional_shift_qp_offset_and_terms():
    m = model_from_dict("fractional_shift_qp", {"f": 5.62e9})
    T = np.linspace(0.1, 1.7, 17)
    p = {"delta0": 2e-6, "alpha": 0.3, "Tc": 6.0, "shift_offset": -1e-7}
    expect = (ph.tls_frequency_shift(T, 5.62e9, 2e-6) + ph.qp_frequency_shift(T, 5.62e9, 0.3, 6.0)
              - 1e-7)
    assert np.allclose(m.predict(p, T), expect, rtol=1e-13, atol=1e-20)


def test_default_gap_prior_starts_above_the_data():
    m = model_from_dict("frequency_shift_qp", {})
    pri = m.default_priors(T_NYU, np.full(20, 7.7e9))
    assert pri["Tc"]["low"] == pytest.approx(1.05 * 0.315)
    md = model_from_dict("inverse_q_qp", {"f": 7e9, "gap": "Delta0"})
    low = md.default_priors(T_NYU, np.ones(20))["Delta0"]["low"]
    assert low == pytest.approx(ph.BCS_GAP_RATIO * C.k * 1.05 * 0.315 / C.e)


CARD = """
[card]
name = "qp"
[[dataset]]
model = "inverse_q_qp"
[dataset.constants]
f = 7.7e9
gap = "{gap}"
[dataset.data]
file = "d.csv"
x = {{ column = "temperature_K" }}
y = {{ column = "Qi", kind = "Qi" }}
sigma = {{ column = "Qi_sigma" }}
[priors]
{prior}
"""


def test_card_with_quasiparticle_model(tmp_path):
    T = np.linspace(0.05, 0.3, 12)
    truth = {"delta_tls": 2e-6, "delta_other": 5e-5, "alpha": 0.02, "Tc": 1.15}
    inv = model_from_dict("inverse_q_qp", {"f": 7.7e9}).predict(truth, T)
    rows = "\n".join(f"{t:.17g},{1 / v:.17g},{0.001 / v:.17g}" for t, v in zip(T, inv))
    (tmp_path / "d.csv").write_text("temperature_K,Qi,Qi_sigma\n" + rows + "\n")
    card = parse_card(CARD.format(gap="Tc", prior='Tc = { dist = "uniform", low = 0.8, '
                                                    'high = 2.0 }'), tmp_path / "c.toml")
    post, _ = build_posterior(card)
    theta = post.priors.from_params(truth)
    lp = post.log_prob(theta)[0]
    assert math.isfinite(lp)
    # the truth beats a film with a 10 % lower Tc by far
    assert lp > post.log_prob(post.priors.from_params({**truth, "Tc": 1.035}))[0] + 100
    with pytest.raises(CardError, match="gap"):
        parse_card(CARD.format(gap="Tk", prior=""), tmp_path / "c.toml")


def test_columns_equal_the_pointwise_functions_bit_for_bit():
    """The model kernels' hot path (many parameter sets at one T, the table series run
    across them) must give exactly the pointwise values: walkers in one panel, spread over
    several, outside the tables, at T = 0 and above Tc."""
    from tlsbayes.physics import quasiparticle as q
    from tlsbayes.physics import quasiparticle_columns as qc

    rng = np.random.default_rng(11)
    n = 24
    tc = 1.13 * np.exp(np.concatenate([0.01 * rng.standard_normal(12),
                                       1.5 * rng.standard_normal(12)]))
    d0 = q.BCS_GAP_RATIO * C.k * tc
    f = 7.7e9 * np.exp(0.5 * rng.standard_normal(n))
    alpha = 10 ** rng.uniform(-4, 0, n)
    s20 = np.array([q.mb_sigma_reduced(0.0, d0[k] / (C.h * f[k]), False)[1] for k in range(n)])
    work = np.empty((qc.COLUMN_WORK_ROWS, n))
    got = np.empty(n)
    for T in (0.0, 0.02, 0.1, 0.3, 0.9, 2.0, 40.0):
        qc.qp_shift_columns(T, f, alpha, d0, tc, s20, got, work)
        want = [q.qp_shift_scalar(T, f[k], alpha[k], d0[k], tc[k], s20[k]) for k in range(n)]
        np.testing.assert_array_equal(got, want)
        qc.qp_inverse_q_columns(T, 7.7e9, alpha, d0, tc, got, work)
        want = [q.qp_inverse_q_scalar(T, 7.7e9, alpha[k], d0[k], tc[k]) for k in range(n)]
        np.testing.assert_array_equal(got, want)
