"""``tlsbayes simulate`` and the [simulation] table of a card."""

from pathlib import Path

import numpy as np
import pytest

from tlsbayes import card as tcard
from tlsbayes import io as tio
from tlsbayes.card import simulate_card, simulation_parameters, write_simulated_csv
from tlsbayes.cli import main
from tlsbayes.errors import CardError
from tlsbayes.sampling import find_map

MODELS = Path(__file__).resolve().parents[1] / "models"
FSHIFT = MODELS / "defrance_B2_809MHz_fshift.toml"

CARD = """\
[card]
name = "t"

[[dataset]]
name = "qi"
model = "q_power"
likelihood = "gaussian_noise_scale"
[dataset.constants]
T = 0.012
f = 7.9e9
saturation = "power"
[dataset.data]
file = "absent.csv"
x = { column = "power_vna_dBm" }
y = { column = "Qi", kind = "Qi" }
sigma = { column = "Qi_sigma" }
filter = "fit_ok == 1 and quality >= 0.5 and chip != 'bad'"
group = { column = "resonator", value = "ResonatorB" }
window = { min = -95, max = -5 }

[priors]
P_c = { dist = "loguniform", low = 1e-20, high = 1e-1 }
"""

SIM = """
[simulation]
seed = 4
parameters = { delta0 = 6e-6, delta_other = 4e-7, P_c = 2e-9, beta = 0.45, noise_scale = 2.0 }
[simulation.datasets.qi]
x = { min = -90, max = -10, n = 17 }
noise = { relative = 0.005 }
"""


def _card(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_simulate_writes_card_layout_and_reloads_with_filter_group_window(tmp_path, capsys):
    card_path = _card(tmp_path, CARD + SIM)
    out = tmp_path / "sim.csv"
    assert main(["simulate", str(card_path), "--out", str(out)]) == 0
    table = tio.read_table(out)
    assert table.columns[:3] == ("power_vna_dBm", "Qi", "Qi_sigma")
    assert {"fit_ok", "quality", "chip", "resonator"} <= set(table.columns)
    assert "SIMULATED" in out.read_text().splitlines()[0]
    card = tcard.load_card(card_path)
    # the simulated file is a drop-in data file for the card
    post, data = tcard.build_posterior(card, data_override=out)
    assert data[0].n == 17
    np.testing.assert_allclose(tio.from_si(data[0].x, "dBm"), np.linspace(-90, -10, 17))
    # 1/Qi noise: quoted sigma is 0.5 %, the card's likelihood scales it by noise_scale = 2
    theta = post.priors.from_params(card.simulation["parameters"])
    mu = post.predict(theta[None, :])["qi"][0]
    z = (data[0].y - mu) / data[0].sigma
    assert 1.2 < np.std(z) < 3.2
    np.testing.assert_allclose(data[0].sigma / mu, 0.005, rtol=1e-9)


def test_same_seed_same_file_other_seed_other_noise(tmp_path):
    a, b, c = (tmp_path / n for n in ("a.csv", "b.csv", "c.csv"))
    assert main(["simulate", str(FSHIFT), "--out", str(a), "--seed", "5"]) == 0
    assert main(["simulate", str(FSHIFT), "--out", str(b), "--seed", "5"]) == 0
    assert main(["simulate", str(FSHIFT), "--out", str(c), "--seed", "6"]) == 0
    assert a.read_bytes() == b.read_bytes()
    ya, yc = (tio.read_table(p).numeric("f_res_Hz") for p in (a, c))
    assert not np.array_equal(ya, yc)
    assert tio.read_table(a).columns == tio.read_table(FSHIFT.parent / "data" /
                                                       "defrance_B2_809MHz_f_vs_T.csv").columns


def test_simulate_then_fit_recovers_truth(tmp_path):
    out = tmp_path / "f.csv"
    assert main(["simulate", str(FSHIFT), "--out", str(out), "--seed", "11"]) == 0
    card = tcard.load_card(FSHIFT)
    post, _ = tcard.build_posterior(card, data_override=out)
    rng = np.random.default_rng(0)
    best = find_map(lambda th: post.log_prob(th)[0], post.priors.sample(6, rng),
                    names=post.free_names)
    got = {n: float(v[0]) for n, v in post.params(best.theta[None, :]).items()}
    # δ0 from 22 temperatures with 20 Hz noise: a few per cent (the card fit gives ~2 %)
    assert got["delta0"] == pytest.approx(7.9e-6, rel=0.1)
    assert got["f0"] == pytest.approx(809e6, abs=200)


def test_missing_values_default_to_prior_median(tmp_path):
    card = tcard.load_card(_card(tmp_path, CARD + SIM.replace("P_c = 2e-9, ", "")))
    p = simulation_parameters(card)
    assert p["P_c"] == pytest.approx(1e-20 ** 0.5 * 1e-1 ** 0.5, rel=1e-9)  # log-uniform median
    assert p["delta0"] == 6e-6


def test_multi_dataset_card_needs_dataset_choice(tmp_path, capsys):
    joint = MODELS / "maillet_SiN_damping_SN_joint.toml"
    assert main(["simulate", str(joint), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dataset" in err[0] and "S, N" in err[0]
    assert not (tmp_path / "x.csv").exists()
    # the two data sets of a card get independent noise streams
    card = tcard.load_card(joint)
    s, n = (simulate_card(card, dataset=d, seed=1) for d in ("S", "N"))
    zs, zn = ((t.y_si - t.mu) / t.sigma_si for t in (s, n))
    assert not np.allclose(zs, zn)


@pytest.mark.parametrize("extra,needle", [
    ("\n[simulation]\nseeed = 3\n", "unknown key 'seeed'"),
    ("\n[simulation]\nparameters = { delta00 = 1e-6 }\n", "unknown parameter 'delta00'"),
    ("\n[simulation]\nparameters = { beta = 1.5 }\n", "beta = 1.5 is outside"),
    ("\n[simulation]\nparameters = { beta = 'x' }\n", "beta must be a finite number"),
    ("\n[simulation]\nseed = -1\n", "seed must be an integer >= 0"),
    ("\n[simulation.datasets.q]\nnoise = { relative = 0.1 }\n", "unknown data set 'q'"),
    ("\n[simulation.datasets.qi]\nnoise = { relative = 0.1, absolute = 1 }\n",
     "exactly one of relative or absolute"),
    ("\n[simulation.datasets.qi]\nnoise = { sigma = 0.1 }\n", "unknown key 'sigma'"),
    ("\n[simulation.datasets.qi]\nx = { min = -10, max = -90, n = 5 }\n", "must be below"),
    ("\n[simulation.datasets.qi]\nx = { min = -90, max = -10, n = 1 }\n", "x.n must be"),
    ("\n[simulation.datasets.qi]\nx = { min = -90, max = -10, n = 5, scale = 'log' }\n",
     "x.min must be > 0"),
    ("\n[simulation.datasets.qi]\ngrid = 3\n", "unknown key 'grid'"),
])
def test_bad_simulation_table_exits_2_naming_key_and_file(tmp_path, capsys, extra, needle):
    p = _card(tmp_path, CARD + extra)
    with pytest.raises(CardError, match="c.toml"):
        tcard.load_card(p)
    assert main(["simulate", str(p), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and str(p) in err[0], err


def test_bad_output_and_grid_outside_window(tmp_path, capsys):
    p = _card(tmp_path, CARD + SIM)
    assert main(["simulate", str(p), "--out", str(tmp_path / "no" / "o.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    q = _card(tmp_path, CARD + SIM.replace("min = -90", "min = -120"), "d.toml")
    assert main(["simulate", str(q), "--out", str(tmp_path / "o.csv")]) == 2
    assert "leaves the card's window" in capsys.readouterr().err
    # nothing to take a grid from: data file absent and no [simulation] x
    r = _card(tmp_path, CARD.replace("window = { min = -95, max = -5 }\n", ""), "e.toml")
    assert main(["simulate", str(r), "--out", str(tmp_path / "o.csv")]) == 2
    assert "no x grid" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_too_much_noise_for_a_qi_column_is_refused(tmp_path):
    p = _card(tmp_path, CARD + SIM.replace("relative = 0.005", "relative = 3.0"))
    with pytest.raises(Exception, match="1/Qi <= 0"):
        write_simulated_csv(tcard.load_card(p), tmp_path / "o.csv", seed=0)
    assert not (tmp_path / "o.csv").exists()
