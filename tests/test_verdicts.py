"""Identification and misfit verdicts (tlsbayes.verdicts) on cases with a known answer.

Exact posteriors (Gaussian toys, draws placed where a known posterior puts them) test the
rules; short real fits of simulated Qi(P) sweeps test them end to end.  The thresholds are
calibrated in benchmarks/verdict_calibration.py.
"""

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from tlsbayes.inference import Dataset, Fixed, Likelihood, LogUniform, Uniform
from tlsbayes.models import QPower
from tlsbayes.verdicts import (DataSpan, check_dataset, check_posterior, data_spans, identify,
                               identify_posterior)
from tlsbayes.verdicts.misfit import ALPHA, lag1_test, runs_test

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import verdict_calibration as vc  # noqa: E402


# --- misfit: the tests themselves -------------------------------------------------------------

@pytest.mark.parametrize("n1,n2", [(4, 5), (6, 6), (1, 7)])
def test_runs_test_matches_enumeration(n1, n2):
    """Exact runs distribution against all arrangements of n1 plus and n2 minus signs."""
    n = n1 + n2
    counts = []
    for pos in itertools.combinations(range(n), n1):
        s = np.zeros(n, bool)
        s[list(pos)] = True
        counts.append(1 + int(np.count_nonzero(s[1:] != s[:-1])))
    counts = np.array(counts)
    for r in sorted(set(counts)):
        s = np.array([True] * n1 + [False] * n2)
        # an arrangement with exactly r runs
        for pos in itertools.combinations(range(n), n1):
            s = np.zeros(n, bool)
            s[list(pos)] = True
            if 1 + int(np.count_nonzero(s[1:] != s[:-1])) == r:
                break
        runs, expected, p = runs_test(s)
        assert runs == r
        assert p == pytest.approx(np.mean(counts <= r), abs=1e-12)
        assert expected == pytest.approx(counts.mean(), rel=1e-12)


def test_lag1_flags_a_trend_not_noise():
    rng = np.random.default_rng(3)
    x = np.linspace(0, 1, 30)
    trend = np.sin(2 * np.pi * x) + 0.3 * rng.standard_normal(30)
    assert lag1_test(trend, rng)[1] < 1e-3
    p = [lag1_test(rng.standard_normal(30), rng, n_perm=400)[1] for _ in range(300)]
    # under no trend the permutation p-value is uniform: about 5 % below 0.05
    assert 0.02 <= np.mean(np.array(p) < 0.05) <= 0.09


def test_model_data_pass_at_nominal_rate_and_a_missed_trend_is_flagged():
    """Straight-line fits with their exact posterior: data from the model are flagged at most
    at the nominal 2 % (trend + scatter, each at ALPHA = 1 %); a parabola is flagged."""
    assert ALPHA == 0.01
    false_alarm = vc.toy_line(300, 0.0, seed=11)
    assert false_alarm <= 0.04  # 300 sets at a true 2 %: 4 % is 2.5 binomial sd above
    assert vc.toy_line(40, 0.2, seed=12) >= 0.9


def test_scatter_beyond_the_noise_model_is_flagged():
    """No trend, but residuals three times the quoted sigma (fixed-sigma Gaussian)."""
    rng = np.random.default_rng(5)
    n, S = 25, 300
    x = np.linspace(0, 1, n)
    y = 3.0 * rng.standard_normal(n)
    mu = 0.05 * rng.standard_normal((S, n))
    y_rep = mu + rng.standard_normal((S, n))
    m = check_dataset("d", x, y, mu, np.ones(n), np.sum((y - mu) ** 2, 1),
                      np.sum((y_rep - mu) ** 2, 1), rng=rng)
    assert m.misfit and m.p_discrepancy < 0.01
    assert "larger than the noise model allows" in m.reason


# --- identification: exact posteriors ---------------------------------------------------------

def _priors():
    return {"a": Uniform(-10.0, 10.0), "P_c": LogUniform(1e-20, 1e-1, unit="W"),
            "delta0": LogUniform(1e-8, 1e-2)}


def test_identified_parameter_is_yes_with_the_width_ratio_in_the_prior_coordinate():
    rng = np.random.default_rng(0)
    draws = {"a": rng.normal(1.0, 0.1, 40000),
             "delta0": 10 ** rng.normal(-5.0, 0.1, 40000)}
    out = identify(draws, _priors())
    assert out["a"].verdict == "yes" and out["delta0"].verdict == "yes"
    # 16-84 % widths: 2 x 0.0995 sd over 0.68 x 20 (uniform) and over 0.68 x 6 decades
    assert out["a"].width_ratio == pytest.approx(0.1989 / 13.6, rel=0.03)
    assert out["delta0"].width_ratio == pytest.approx(0.1989 / 4.08, rel=0.03)
    assert out["delta0"].coordinate == "log10"
    assert "identified" in out["a"].reason


def test_prior_dominated_parameter_is_no():
    rng = np.random.default_rng(1)
    out = identify({"a": rng.uniform(-10, 10, 20000)}, _priors())
    assert out["a"].verdict == "no"
    assert "not constrained by these data" in out["a"].reason


def test_posterior_pressed_against_a_bound_is_weak_and_names_the_bound():
    rng = np.random.default_rng(2)
    out = identify({"a": -10 + np.abs(rng.normal(0, 0.3, 20000))}, _priors())
    assert out["a"].verdict == "weak"
    assert out["a"].edge == -10.0 and out["a"].edge_mass > 0.5
    assert "pressed against its prior bound -10" in out["a"].reason


def test_scale_below_the_measured_powers_is_no_and_its_partner_inherits_it():
    """The issue's case: P_c flat from the 1e-20 W edge up to below the lowest power, delta0
    tied to it by delta0 P_c^beta = const (rho ~ -1)."""
    rng = np.random.default_rng(4)
    lp = rng.uniform(-20, -14.5, 30000)
    d0 = 10 ** (-5.0 - 0.3 * (lp + 17) + 0.05 * rng.standard_normal(lp.size))
    spans = {"P_c": DataSpan(1e-13, 1e-5, "power", "W")}
    beta = 0.3 + 0.01 * rng.standard_normal(lp.size)
    out = identify({"P_c": 10 ** lp, "delta0": d0, "beta": beta},
                   {**_priors(), "beta": Uniform(0.05, 1.0)}, spans=spans)
    pc, d = out["P_c"], out["delta0"]
    assert pc.verdict == "no" and pc.outside == "below"
    assert "reaches the prior edge 1e-20 W" in pc.reason
    assert "below the lowest power measured (1e-13 W = -100 dBm)" in pc.reason
    assert "measure below 1e-13 W = -100 dBm" in pc.reason
    assert d.verdict == "weak" and d.inherits == "P_c" and d.rho < -0.9
    assert "inherits the prior of P_c" in d.reason and "-100 dBm" in d.reason
    assert "or fix beta" in d.reason
    # without the correlation delta0 (ratio ~0.4) would be weak for its own width only
    assert d.width_ratio < 0.5


def test_fixed_parameters_are_skipped_and_spans_come_from_the_data():
    out = identify({"b": np.ones(10)}, {"b": Fixed(0.5)})
    assert out == {}
    x = vc.dbm(np.linspace(-100, -40, 7))
    ds = Dataset("qi", QPower(T=0.02, f=5e9, saturation="power"), x, np.ones(7) * 1e-6,
                 np.ones(7) * 1e-8)
    sp = data_spans([ds])
    assert set(sp) == {"P_c"} and sp["P_c"].low == pytest.approx(1e-13)
    assert sp["P_c"].high == pytest.approx(1e-7) and sp["P_c"].unit == "W"
    # self-consistent field: |E| = sqrt(k) Qr with Qr from the measured Qi (Eq. 6 by hand)
    m = QPower(T=0.2, f=8e8, saturation="power_self_consistent", Qc=8e3, A0=3e-7, d=8e-7)
    y = np.full(7, 1e-5)
    sp = data_spans([Dataset("qi", m, x, y, y * 1e-2)])
    eps0 = 8.8541878128e-12
    k = x / (2 * np.pi * m.f) / m.Qc / (m.eps_r * eps0 * m.A0 * m.d)
    E = np.sqrt(k) / (1e-5 + 1 / m.Qc)
    assert set(sp) == {"E_c"} and sp["E_c"].unit == "V/m"
    assert sp["E_c"].low == pytest.approx(E.min(), rel=1e-6)
    assert sp["E_c"].high == pytest.approx(E.max(), rel=1e-6)


# --- end to end: simulated Qi(P) sweeps, one short emcee fit ----------------------------------

@pytest.fixture(scope="module")
def above_fit():
    """One sweep entirely above the saturation knee (P_c = 1e-17 W, powers -100 to -40 dBm)."""
    return vc.case_qpower("above", 1, 2000, seed=7)[0]


def test_sweep_above_the_knee_leaves_P_c_unidentified(above_fit):
    r = above_fit
    assert r["verdict"]["P_c"] == "no"
    assert r["verdict"]["delta0"] in ("weak", "no")
    assert r["verdict"]["delta_other"] == "yes"
    assert "below the lowest power measured" in r["reason"]["P_c"]
    assert r["misfit"] == [False]


def test_sweep_across_the_knee_identifies_every_parameter():
    """P_c = -110 dBm inside a -140 to -60 dBm sweep (Laplace draws at the MAP)."""
    r = vc.case_qpower("knee", 1, 0, seed=7, laplace=True)[0]
    assert set(r["verdict"].values()) == {"yes"}
    assert max(r["width_ratio"].values()) < 0.1
    assert r["misfit"] == [False]


def test_two_beta_data_fitted_with_one_beta_are_a_misfit():
    """Two TLS populations (beta 0.15 and 0.9) fitted with one beta (Laplace draws at the MAP)."""
    r = vc.case_qpower("two_beta", 1, 0, seed=7, laplace=True)[0]
    assert r["misfit"] == [True]
    assert "misses a trend" in r["misfit_reason"][0]


def test_check_posterior_on_model_data_is_deterministic():
    rng = np.random.default_rng(8)
    truth = {"delta0": 1e-5, "delta_other": 1e-6, "P_c": 1e-14, "beta": 0.4}
    x, y, s = vc.qpower_data(truth, np.linspace(-140, -60, 25), rng)
    post = vc.qpower_posterior(x, y, s)
    # draws from a narrow ball at the truth stand in for a posterior here
    start = post.priors.from_params({**truth, "noise_scale": 1.0})
    theta = start + 1e-3 * rng.standard_normal((300, post.ndim)) * np.abs(start)
    a = check_posterior(post, theta)
    b = check_posterior(post, theta)
    assert a == b and not a[0].misfit
    ident = identify_posterior(post, post.params(theta))
    assert ident["P_c"].verdict == "yes" and math.isfinite(ident["P_c"].width_ratio)


def test_report_texts_from_evaluate():
    """evaluate() on an InferenceData-like posterior; the cells of summary, checks and index."""
    from types import SimpleNamespace

    from tlsbayes.verdicts.report import (CHECKS_COLUMNS, checks_table, evaluate,
                                          identified_column, index_fields, markdown_section,
                                          terminal_lines)

    rng = np.random.default_rng(9)
    truth = {"delta0": 1e-5, "delta_other": 1e-6, "P_c": 1e-17, "beta": 0.4}
    x, y, s = vc.qpower_data(truth, np.linspace(-100, -40, 25), rng)
    post = vc.qpower_posterior(x, y, s)
    n = 4000
    lp = rng.uniform(-20, -14.5, n)
    draws = {"P_c": 10 ** lp, "delta0": 10 ** (-5 - 0.4 * (lp + 17) + 0.02 * rng.standard_normal(n)),
             "delta_other": rng.normal(1e-6, 1e-9, n), "beta": rng.normal(0.4, 0.01, n),
             "noise_scale": rng.normal(1.0, 0.05, n)}
    idata = SimpleNamespace(posterior={k: SimpleNamespace(values=v.reshape(40, 100))
                                       for k, v in draws.items()})
    v = evaluate(post, idata)
    assert v.unidentified == ["P_c"]
    assert identified_column(v, ["delta0", "P_c", "nu"]) == ["weak", "no", ""]
    t = checks_table(v)
    assert tuple(t.columns) == CHECKS_COLUMNS and len(t) == 1
    assert t.loc[0, "misfit"] in ("true", "false")
    assert index_fields(v)["unidentified"] == "P_c"
    md = markdown_section(v)
    assert "| P_c | no |" in md and "## Misfit checks" in md
    lines = terminal_lines(v)
    assert lines[0].startswith("identified: ") and any(ln.startswith("NO: P_c") for ln in lines)
