"""The example notebooks run end to end and establish what their prose claims.

Each notebook in ``notebooks/`` is executed in a fresh Jupyter kernel in its small mode
(``TLSBAYES_NB_SMALL=1``: few walkers and steps) without writing outputs back.  Any cell error
fails the test.  The last cell writes the notebook's key numbers to ``$TLSBAYES_NB_RESULTS``;
the assertions below check the physics statements the notebooks make, with margins that hold
for the rough small-mode posteriors (the committed outputs come from the full mode).
"""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tlsbayes import io as tio

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture
def run_notebook(tmp_path, monkeypatch):
    def run(name):
        out = tmp_path / f"{name}.json"
        monkeypatch.setenv("TLSBAYES_NB_SMALL", "1")
        monkeypatch.setenv("TLSBAYES_NB_RESULTS", str(out))
        monkeypatch.setenv("MPLBACKEND", "Agg")
        nb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(NB_DIR)}})
        client.execute()  # raises CellExecutionError (with the cell and traceback) on any error
        key = json.loads(out.read_text())
        assert key["small_mode"] is True
        return key

    return run


def test_notebook_01_Ec_beta_degeneracy(run_notebook):
    key = run_notebook("01_Ec_beta_degeneracy")
    # Every Table 3 resonator shows the positive ln E_c - beta correlation (knee up with slope).
    for label, t in key["table3"].items():
        assert t["rho"] > 0.5, label
    # The contrast delta0 tanh / delta_other orders the widths: A(1) 786 (0.08) vs B(1) 855 (3.6).
    t3 = key["table3"]
    assert t3["A(1) 786 MHz"]["contrast"] < 0.1 < 3 < t3["B(1) 855 MHz"]["contrast"]
    assert t3["A(1) 786 MHz"]["sd_beta"] > 5 * t3["B(1) 855 MHz"]["sd_beta"]
    # Two ends of the ridge agree inside the data window to within a few times the 1 % noise.
    assert key["ridge_ends_max_rel_diff_in_window"] < 0.03
    sc = key["scenarios"]
    paper = sc["246 mK, -150..-70 dBm (paper)"]
    assert paper["rho"] > 0.5
    # Lower temperature shrinks the ellipse (tanh(hf/2kT): 0.08 -> 0.27 -> 0.65) ...
    assert sc["100 mK, -150..-70 dBm"]["sd_beta"] < 0.8 * paper["sd_beta"]
    assert sc["25 mK, -150..-70 dBm"]["sd_beta"] < 0.5 * paper["sd_beta"]
    assert sc["25 mK, -150..-70 dBm"]["sd_lnE_c"] < 0.6 * paper["sd_lnE_c"]
    # ... a window reaching deeper into saturation narrows beta ...
    assert sc["246 mK, -150..-30 dBm"]["sd_beta"] < 0.8 * paper["sd_beta"]
    # ... and cutting the low-power knee lets E_c go.
    assert sc["246 mK, -130..-70 dBm"]["sd_lnE_c"] > 2.5 * paper["sd_lnE_c"]
    real = key["real"]
    if "skipped" in real:
        data = tio.real_data_dir() / "ta_grainsize_Qi_vs_power_LGS1_SGS1.csv"
        assert not data.is_file(), "the notebook skipped the real data although they exist"
    else:
        full, mid = real["-105..-10 dBm (card)"], real["-110..-60 dBm"]
        narrow = real["-110..-75 dBm"]
        assert full["rho"] > 0.3
        assert 0.15 < full["beta_16_50_84"][1] < 0.35  # the literature range
        assert mid["sd_beta"] > 1.5 * full["sd_beta"]
        assert narrow["sd_lnP_c"] > 3 * full["sd_lnP_c"]


def test_notebook_02_nems_x_K_C_gamma(run_notebook):
    key = run_notebook("02_nems_x_K_C_gamma")
    assert 0.8 < key["T_star_ph_K"] < 1.0 and 0.85 < key["T_star_el_mK"] < 1.05
    # Gamma_N at 30 mK: K x 10 is within the 3 % noise, K / 10 is not.
    assert abs(key["GammaN_30mK_rel_change_K_0p7"]) < 0.03 < abs(key["GammaN_30mK_rel_change_K_0p007"])
    cg = key["C_gamma"]
    low, paper, joint = cg["S, 30-200 mK"], cg["S, 30-600 mK"], cg["S + N joint"]
    # Linear regime: only C gamma^2 is measured.
    assert low["rho_lnC_lngamma"] < -0.95
    assert low["sd_ln_Cgamma2"] < 0.2 * low["sd_lnC"]
    # Reaching towards the plateau, then onto it (N state), pins C.
    assert paper["sd_lnC"] < low["sd_lnC"]
    assert joint["sd_lnC"] < 0.5 * paper["sd_lnC"]
    assert abs(joint["rho_lnC_lngamma"]) < abs(low["rho_lnC_lngamma"])
    xk = key["x_K"]
    # Above 30 mK K is barely constrained (posterior width a good part of the prior's) ...
    assert xk["30mK"]["sd_ratio_to_prior"] > 0.35
    assert xk["30mK"]["K_95"][1] > 0.5  # no useful upper bound (truth 0.07)
    # ... colder data narrow it, data at T*_el pin it.
    assert xk["5mK"]["sd_log10K"] < 0.8 * xk["30mK"]["sd_log10K"]
    assert xk["1mK"]["sd_log10K"] < 0.25 * xk["30mK"]["sd_log10K"]
    assert xk["1mK"]["K_95"][0] < 0.07 < xk["1mK"]["K_95"][1]
    # x is measured at every T_min (truth 0.17) and anti-correlated with K.
    for r in xk.values():
        assert abs(r["x_median"] - 0.17) < 0.02 and r["sd_x"] < 0.01
    assert xk["30mK"]["rho_x_lnK"] < -0.3


def test_notebook_03_delta0_fshift_vs_qi(run_notebook):
    key = run_notebook("03_delta0_fshift_vs_qi")
    t3 = key["table3_ratio"]
    assert 0.45 < t3["min"] < 0.55 and 1.8 < t3["max"] < 1.95  # "within a factor of 2"
    assert t3["median_starred"] < t3["median_reliable"]
    b2 = key["B2_809"]
    f, q, j = (b2[k]["delta0_median"] for k in ("fshift", "qpower", "joint"))
    assert f < j < q  # the shared delta0 lies between the separate estimates ...
    assert j - f < q - j  # ... nearer the more precise f(T)
    assert b2["ratio_separate"]["84"] < 1.0  # 7.9e-6 vs 8.9e-6 is resolved
    assert b2["joint"]["chi2_per_point"]["qi"] > b2["qpower"]["chi2_per_point"]["qi"]
    b1 = key["B1_1545"]
    ratio = b1["ratio_separate"]
    assert abs(ratio["median"] / ratio["table3"] - 1) < 0.15
    assert b1["joint"]["chi2_per_point"]["qi"] > 3 * b1["qpower"]["chi2_per_point"]["qi"]
    assert b1["joint"]["beta_median"] > b1["qpower"]["beta_median"] + 0.1
    th = key["thermometry_delta0_ratio"]
    assert abs(th["fshift"] - 1) < 0.02
    assert 1.1 < th["qpower"] < 1.3


def test_notebook_04_quasiparticles_nyu(run_notebook):
    key = run_notebook("04_quasiparticles_nyu")
    if "skipped" in key:
        data = tio.real_data_dir() / "nyu_al_inp_7p72GHz_f0_Qi_vs_T.csv"
        assert not data.is_file(), "the notebook skipped the real data although they exist"
        return
    loo = key["loo"]
    # PSIS-LOO prefers TLS + Mattis-Bardeen decisively over TLS only on f(T) to 315 mK.
    assert loo["tls_qp"]["elpd_loo"] > loo["tls_only"]["elpd_loo"]
    assert key["loo_delta_over_dse"] > 4
    assert loo["tls_qp"]["weight"] > 0.9
    assert 1.0 < key["tls_qp"]["Tc"] < 1.4  # thin-film Al, inside a prior of 0.6-2.5 K
    assert key["tls_only"]["noise_scale"] > 5 * key["tls_qp"]["noise_scale"]


def test_notebook_06_experiment_design(run_notebook):
    key = run_notebook("06_experiment_design")
    sc = key["T_scan"]
    # The Fisher-forecast sigma(beta) and sigma(ln E_c) fall monotonically as T is lowered.
    assert all(b < a for a, b in zip(sc["sd_beta"], sc["sd_beta"][1:]))
    assert all(b < a for a, b in zip(sc["sd_lnE_c"], sc["sd_lnE_c"][1:]))
    plan = key["plan"]
    assert plan["30 mK"]["sd_beta"] < 0.4 * plan["paper, 246 mK"]["sd_beta"]
    assert plan["246 mK, up to -30 dBm"]["sd_beta"] < 0.7 * plan["paper, 246 mK"]["sd_beta"]
    assert plan["paper, 246 mK"]["rho"] > 0.6  # the E_c-beta ridge
    # simulate-and-fit widths agree with the forecast to within the rough small-mode chains
    chk = key["check_paper"]
    assert 0.6 < chk["ratio_sd_beta"] < 1.6 and 0.6 < chk["ratio_sd_lnE_c"] < 1.6


def test_notebook_05_populations_and_model_comparison(run_notebook):
    key = run_notebook("05_populations_and_model_comparison")
    assert key["stage1_max_rel_err"] < 0.05  # each f(T) fit recovers its Table 3 delta0
    a, b = key["recipes"]["A"], key["recipes"]["B"]
    # Recipe A is lossier than B; the hyper-posterior covers the paper's 12e-6 and 7e-6 ...
    assert a["mu_median"] > b["mu_median"] and key["contrast"]["p_median"] > 0.9
    assert a["mean_95"][0] < a["paper"] < a["mean_95"][2]
    assert b["mean_95"][0] < b["paper"] < b["mean_95"][2]
    # ... and B's resonators scatter more than A's (B1 895 and B2 1583 MHz sit low).
    assert a["sigma_95"][1] < 0.5 * b["sigma_95"][1]
    assert key["contrast"]["p_new"] < key["contrast"]["p_median"]
    # PSIS-LOO prefers the true model (beta free, truth 0.20) over beta = 0.5.
    loo = key["loo"]
    assert key["loo_best"] == "beta_free"
    assert loo["beta_free"]["elpd_loo"] > loo["beta_0.5"]["elpd_loo"]
    assert key["loo_delta_over_dse"] > 2 and loo["beta_free"]["weight"] > 0.9
    assert 0.15 < key["beta_free_median"] < 0.25
    # A model with Pareto k > 0.7 terms is named in a warning, and only then.
    for m, r in loo.items():
        warned = any(w.startswith(f"model {m!r}: Pareto k") for w in key["loo_warnings"])
        assert warned == (r["n_k_bad"] > 0), m
