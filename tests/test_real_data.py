"""Real measured data, fitted end to end (skipped when the shared real-data directory is absent).

Data: Boulder Cryogenic Quantum Testbed, github.com/Boulder-Cryogenic-Quantum-Testbed/data
@ 2dfc69daca1d8e7417ca06257df55412826e51b4 (TaGrainSize_2023, GaAs_Loss_Article), read from
``{real}`` = $TLSBAYES_REAL_DATA, never copied here.  The cards of models/real/ are the
templates; if one is missing an equivalent inline card is used.

Measured with these tests (2 cores shared, stretch moves replaced by DE moves, see below):

* Ta (ta_grainsize_Qi_vs_power_LGS1_SGS1.csv): all 17 (resonator, cooldown) curves with
  flag_bad_fit == 0 (16-80 points each) converge, about 4-12 s each, 2 min in all.  With the
  card's stretch moves two of them (SGS1_4.49GHz cooldown4, SGS1_4.90GHz cooldown2: no high-power
  plateau, so delta_other has a long tail towards its prior's lower edge) hit 20000 steps
  unconverged; DE moves converge them in ~4000 steps.
* GaAs trilayer, ResonatorA (E06_02, 7.41 GHz), fit_ok == 1 (7 points), beta fixed at the
  standard-tunnelling-model 1/2: delta_other = 4.33e-5 (68 %: 4.19-4.46e-5) against the
  paper's power-independent loss (4.8 +- 0.1)e-5, and delta0 = 5.27e-5 (5.10-5.47e-5) against
  its TLS loss (6.4 +- 0.2)e-5 (McRae et al., arXiv:2009.10101, abstract): ratios 0.90 and
  0.82.  With beta free the 7 points (and all 20) prefer beta ~ 0.1 with delta_other -> 0 and
  the chain does not converge in 40000 steps: the sweep never shows a clean high-power
  plateau in the trustworthy points, so beta and delta_other trade off.
* ResonatorB (A01_01, 7.92 GHz), 20 points: delta0 = 6.7e-6, delta_other = 4.2e-7,
  beta = 0.50, noise scale 12 (the S21-fit errors are ~12 times too small).  Its loss is
  ~10 times below ResonatorA's, so the abstract's trilayer numbers cannot describe it; the
  paper's per-resonator values are not available offline, and no comparison is asserted.
"""

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pytest

from tlsbayes import card as tcard
from tlsbayes import io as tio
from tlsbayes.fit import run_fit
from tlsbayes.sampling import SamplerSettings

REAL = Path(os.environ.get("TLSBAYES_REAL_DATA") or tio.real_data_dir())
CARDS = Path(__file__).resolve().parents[1] / "models" / "real"
TA_FILE = "ta_grainsize_Qi_vs_power_LGS1_SGS1.csv"
GAAS_FILE = "bcqt_gaas_resA_resB_Qi_vs_power.csv"

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(),
    reason=f"shared real-data directory {REAL} is absent (set TLSBAYES_REAL_DATA to run these)")

#: McRae et al., arXiv:2009.10101, abstract: Al/GaAs/Al trilayer resonator at millikelvin.
PAPER_DELTA_OTHER = 4.8e-5   # "power-independent loss (4.8 +- 0.1) x 10^-5"
PAPER_DELTA_TLS = 6.4e-5     # "resonator-induced intrinsic TLS loss (6.4 +- 0.2) x 10^-5"
#: Tolerance on the ratio ours / paper.  The paper's +-2-3 % are statistical only; beyond them:
#: our Qi come from a re-fit of the raw S21 traces made for the shared table, not the authors'
#: fits; the table's lowest power (-80 dBm at the VNA) lies above the single-photon powers the
#: paper reached, so 1/Qi has not reached its low-power plateau (delta0 comes out low); beta
#: is fixed at 1/2 here; and consecutive sweeps of the table disagree by ~10 % where they meet
#: (1/Qi = 9.1e-5 at -65 dBm in one sweep, 8.0e-5 at -60 dBm in the next).
PAPER_RTOL = 0.25

MIN_POINTS = 12  # 4 model parameters and a noise scale: fewer points identify nothing

_INLINE_QPOWER = """
[card]
name = "{name}"
simulated = false
attribution = "Boulder Cryogenic Quantum Testbed data @ 2dfc69daca1d8e7417ca06257df55412826e51b4"

[[dataset]]
name = "qi"
model = "q_power"
likelihood = "gaussian_noise_scale"

[dataset.constants]
T = 0.012
f = 5e9
saturation = "power"

[dataset.data]
file = "{{real}}/{file}"
x = {{ column = "power_vna_dBm" }}
y = {{ column = "Qi", kind = "Qi" }}
sigma = {{ column = "Qi_sigma" }}
group = {{ column = "resonator", value = "{group}" }}

[priors]
delta0 = {{ dist = "loguniform", low = 1e-9, high = 1e-2 }}
delta_other = {{ dist = "loguniform", low = 1e-11, high = 1e-3 }}
P_c = {{ dist = "loguniform", low = 1e-20, high = 1e-1 }}
beta = {{ dist = "uniform", low = 0.05, high = 1.0 }}
noise_scale = {{ dist = "loguniform", low = 0.05, high = 100.0 }}

[sampler]
seed = 57
"""


def _template(card_file, data_file, group):
    """The models/real card, or an equivalent inline card if it is not there."""
    path = CARDS / card_file
    if path.is_file():
        return tcard.load_card(path)
    text = _INLINE_QPOWER.format(name=Path(card_file).stem, file=data_file, group=group)
    return tcard.parse_card(text, CARDS / "inline.toml")


def _variant(card, *, group=None, filter=None, drop=(), constants=None, priors=None):
    spec = card.datasets[0]
    data = {k: v for k, v in spec.data.items() if k not in drop}
    if group is not None:
        data["group"] = {"column": "resonator", "value": group}
    if filter is not None:
        data["filter"] = filter
    spec = dataclasses.replace(spec, data=data, constants=dict(spec.constants,
                                                               **(constants or {})))
    return dataclasses.replace(card, datasets=(spec,),
                               priors=dict(card.priors, **(priors or {})))


def _fit(card, tmp_path, max_steps=40_000, moves="de"):
    posterior, data = tcard.build_posterior(card)
    s = dict(card.sampler, progress=False, moves=moves, max_steps=max_steps)
    res = run_fit(posterior, SamplerSettings.from_dict(s), tmp_path, plots=False,
                  print_fn=lambda *a, **k: None)
    return res, data[0]


def _curves(table):
    """(resonator, cooldown) -> rows with flag_bad_fit == 0, in file order."""
    out = {}
    for i in range(table.n_rows):
        if table.cells["flag_bad_fit"][i] == "0":
            key = (table.cells["resonator"][i], table.cells["cooldown"][i])
            out.setdefault(key, []).append(i)
    return out


@pytest.mark.slow
def test_every_ta_resonator_with_enough_points_converges(tmp_path):
    table = tio.read_table(REAL / TA_FILE)
    curves = {k: r for k, r in _curves(table).items() if len(r) >= MIN_POINTS}
    assert len(curves) >= 15  # 17 in the shared table
    # Left out, named (issue 13, open): only its 3-4 lowest powers (1.6e-11 W up) hint at the
    # low-power plateau (MAP P_c 8e-11 W, log posterior 4.1 above the P_c -> 0 limit), so its P_c
    # posterior has a flat shelf from ~1e-13 W down to the prior edge 1e-20 W holding ~13 % of
    # the mass (Laplace integration over a grid of P_c: benchmarks/move_sets.py). Walkers started
    # at the MAP find and fill it in >= 10 000 steps with any move set tried (DE, stretch, their
    # mixtures, snooker, kernel-density independence moves); DE alone has tau(P_c) ~ 2000 and
    # does not pass the gate in 60 000 steps, and DE + KDE passes it in 2 500-7 000 steps with
    # the shelf empty (a false convergence). The "de_jump" set's saturation-ridge jumps fill it:
    # the next test.
    curves.pop(SHELF_CURVE)
    template = _template("ta_LGS1_5p70GHz_qpower.toml", TA_FILE, "LGS1_5.70GHz")
    failed = []
    for k, ((res, cooldown), rows) in enumerate(sorted(curves.items())):
        med = {c: float(np.median(table.numeric(c, rows))) for c in ("temperature_K", "f_res_Hz")}
        card = _variant(template, group=res, drop=("window",),
                        filter=f"flag_bad_fit == 0 and cooldown == '{cooldown}'",
                        constants={"T": med["temperature_K"], "f": med["f_res_Hz"]})
        fit, data = _fit(card, tmp_path / f"c{k}")
        assert data.n == len(rows)
        s = fit.summary
        if not fit.converged:
            failed.append(f"{res}/{cooldown}: {fit.verdict}")
            continue
        # a converged posterior that is also physically sane: the low-power loss is measured
        # to better than a factor 1.5, beta inside its prior, a finite noise scale
        d0 = s.loc["delta0"]
        assert 1e-7 < d0["median"] < 1e-4 and d0["q84"] / d0["q16"] < 1.5, (res, cooldown)
        assert 0.05 < s.loc["beta", "median"] < 1.0
        assert 0.1 < s.loc["noise_scale", "median"] < 20
    assert not failed, failed


SHELF_CURVE = ("SGS1_4.90GHz", "H2A2_cooldown2")
#: Mass of its P_c shelf (P_c < 1e-13 W) by Laplace integration over a grid of ln P_c
#: (benchmarks/move_sets.py, shelf_reference).
SHELF_MASS = 0.129


@pytest.mark.slow
def test_the_shelf_curve_converges_with_ridge_jumps_and_fills_its_shelf(tmp_path):
    """The curve the previous test leaves out: with the "de_jump" set the gate passes
    (142 149 steps; DE alone: not in 150 000) and the shelf holds its Laplace mass."""
    table = tio.read_table(REAL / TA_FILE)
    rows = _curves(table)[SHELF_CURVE]
    med = {c: float(np.median(table.numeric(c, rows))) for c in ("temperature_K", "f_res_Hz")}
    card = _variant(_template("ta_LGS1_5p70GHz_qpower.toml", TA_FILE, "LGS1_5.70GHz"),
                    group=SHELF_CURVE[0], drop=("window",),
                    filter=f"flag_bad_fit == 0 and cooldown == '{SHELF_CURVE[1]}'",
                    constants={"T": med["temperature_K"], "f": med["f_res_Hz"]})
    fit, data = _fit(card, tmp_path, max_steps=150_000, moves="de_jump")
    assert data.n == len(rows) and fit.converged, fit.verdict
    p_c = np.asarray(fit.idata.posterior["P_c"]).ravel()
    assert abs(np.mean(p_c < 1e-13) - SHELF_MASS) < 0.04, np.mean(p_c < 1e-13)


def _gaas_card(group):
    return _template(f"gaas_trilayer_res{group[-1]}_qpower.toml", GAAS_FILE, group)


def test_gaas_trilayer_losses_against_the_paper(tmp_path):
    """ResonatorA, the trustworthy S21 fits (fit_ok == 1), beta = 1/2: the paper's
    power-independent and TLS losses within PAPER_RTOL (measured ratios 0.90 and 0.82)."""
    card = _variant(_gaas_card("ResonatorA"), group="ResonatorA", filter="fit_ok == 1",
                    constants={"T": 0.012, "f": 7.4126e9},
                    priors={"beta": {"dist": "fixed", "value": 0.5}})
    fit, data = _fit(card, tmp_path / "A")
    assert data.n == 7 and fit.converged, fit.verdict
    s = fit.summary
    other, tls = s.loc["delta_other", "median"], s.loc["delta0", "median"]
    assert abs(other / PAPER_DELTA_OTHER - 1) < PAPER_RTOL, other
    assert abs(tls / PAPER_DELTA_TLS - 1) < PAPER_RTOL, tls
    # the table stops short of the single-photon plateau: its TLS loss is a lower bound
    assert tls < PAPER_DELTA_TLS
    # tanh(hf/2kT) = 1 at 12 mK and 7.4 GHz, so delta0 + delta_other is the T -> 0,
    # low-power loss; the lowest-power point of the table lies within 10 % of it
    lowest = data.y[np.argmin(data.x)]
    assert math.isclose(other + tls, lowest, rel_tol=0.1)

    fitB, dataB = _fit(_variant(_gaas_card("ResonatorB"), group="ResonatorB",
                                constants={"T": 0.012, "f": 7.9227e9}), tmp_path / "B")
    assert fitB.converged, fitB.verdict
    sB = fitB.summary
    # B is the low-loss resonator: ten times below A in both loss terms
    assert sB.loc["delta0", "median"] < tls / 5 and sB.loc["delta_other", "median"] < other / 10
    # its quoted S21-fit errors are far too small, and the report says so
    assert sB.loc["noise_scale", "median"] > 2
    assert "## Quoted uncertainties" in (tmp_path / "B" / "report.md").read_text()
