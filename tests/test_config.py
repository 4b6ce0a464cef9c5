"""tlsbayes.card: model cards parsed through a whitelist into posteriors."""

import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tlsbayes import card as tcard
from tlsbayes import io as tio
from tlsbayes.errors import CardError, DataError, PriorError
from tlsbayes.models import QPower

FIX = Path(__file__).resolve().parent / "fixtures" / "cards"
REAL = Path(os.environ.get("TLSBAYES_REAL_DATA")
            or Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
needs_real = pytest.mark.skipif(not REAL.is_dir(),
                                reason=f"shared real-data directory {REAL} not present "
                                       "(set TLSBAYES_REAL_DATA to point at it)")
RNG = np.random.default_rng(7)


def card_in(tmp_path, text, name="card.toml"):
    """Write a card next to a copy of the simulated fixture data (data/...)."""
    shutil.copytree(FIX / "data", tmp_path / "data", dirs_exist_ok=True)
    p = tmp_path / name
    p.write_text(text)
    return p


def expect(exc, parts, fn, *args, **kw):
    with pytest.raises(exc) as ei:
        fn(*args, **kw)
    msg = str(ei.value)
    assert "\n" not in msg, msg
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    return msg


# --- a full card --------------------------------------------------------------------------------

def test_full_card_round_trip():
    path = FIX / "qpower.toml"
    card = tcard.load_card(path)
    assert card.name == "sim_qpower_5GHz" and card.path == path
    assert card.text == path.read_text()
    assert card.meta["simulated"] is True and card.meta["title"].startswith("Qi vs power")
    assert card.sampler == {"nwalkers": 32, "max_steps": 20000, "seed": 1, "progress": False}
    (ds,) = card.datasets
    assert (ds.name, ds.model, ds.likelihood, ds.suffix) == ("qi", "q_power",
                                                            "gaussian_noise_scale", "")
    assert ds.constants == {"T": 0.012, "f": 5.0e9, "saturation": "power"}
    assert ds.path == FIX / "data" / "qpower_sim.csv"
    assert card.parameters == ("delta0", "delta_other", "P_c", "beta", "noise_scale")

    post, data = tcard.build_posterior(card)
    (d,) = data
    assert post.free_names == ("delta0", "P_c", "beta", "noise_scale")  # delta_other fixed
    assert d.n == 16 and d.n_rows_read == 17  # the fit_ok == 0 row is gone
    assert d.x[0] == pytest.approx(1e-3 * 10 ** (-115 / 10), rel=1e-12)
    assert post.datasets[0].y == pytest.approx(d.y) and d.y_kind == "inverse_q"
    theta = post.priors.sample(64, RNG)
    lp, lprior, llike = post.log_prob(theta)
    assert np.all(np.isfinite(lp)) and np.all(np.isfinite(llike))
    assert np.isfinite(post.log_prob(theta[0])[0])
    # the simulated truth fits: chi^2 per point near 1
    truth = post.priors.from_params(dict(delta0=1e-5, P_c=1e-15, beta=0.3, noise_scale=1.0))
    pw = post.pointwise_log_likelihood(truth)["qi"][0]
    resid = (post.predict(truth)["qi"][0] - d.y) / d.sigma
    assert np.mean(resid ** 2) < 3.0 and np.all(np.isfinite(pw))
    # the sampler table is what SamplerSettings takes
    from tlsbayes.sampling import SamplerSettings
    assert SamplerSettings(**card.sampler).nwalkers == 32


def test_card_priors_override_defaults():
    card = tcard.load_card(FIX / "qpower.toml")
    post, _ = tcard.build_posterior(card)
    pri = post.priors
    assert (pri["beta"].low, pri["beta"].high) == (0.05, 0.9)  # card; default is 0.1..0.6
    assert pri["delta_other"].value == 2e-6
    default = QPower(T=0.012, f=5e9, saturation="power").default_priors()
    assert (pri["P_c"].low, pri["P_c"].high) == (default["P_c"]["low"], default["P_c"]["high"])
    assert post.priors.names == card.parameters  # theta order = model, then likelihood


def test_build_checks_physical_ranges_again():
    # a Card changed after load_card (e.g. by a script) is checked when the posterior is built
    import dataclasses

    card = tcard.load_card(FIX / "qpower.toml")
    bad = dataclasses.replace(card, priors={**card.priors, "beta": {"dist": "uniform",
                                                                   "low": 0.1, "high": 1.5}})
    expect(PriorError, [str(card.path), "[priors]", "'beta'", "physical range [0, 1]"],
           tcard.build_posterior, bad)
    unknown = dataclasses.replace(card, priors={"gamma": {"dist": "fixed", "value": 1.0}})
    expect(PriorError, [str(card.path), "unknown parameter 'gamma'"], tcard.build_posterior,
           unknown)


def test_relative_paths_resolve_against_card_directory(tmp_path, monkeypatch):
    text = (FIX / "qpower.toml").read_text()
    sub = tmp_path / "cards"
    sub.mkdir()
    card_in(sub, text)
    # a different copy of the data next to the card: rows -120 and -115 dBm removed
    lines = (sub / "data" / "qpower_sim.csv").read_text().splitlines(True)
    (sub / "data" / "qpower_sim.csv").write_text("".join(lines[:3] + lines[5:]))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    card = tcard.load_card(Path("..") / "cards" / "card.toml")
    assert card.datasets[0].path.resolve() == (sub / "data" / "qpower_sim.csv").resolve()
    _, (d,) = tcard.build_posterior(card)
    assert d.n == 15 and d.n_rows_read == 15


def test_data_override(tmp_path):
    card = tcard.load_card(FIX / "qpower.toml")
    alt = tmp_path / "alt.csv"
    alt.write_text("power_dBm,Qi,Qi_sigma,fit_ok\n-100,2e5,2e3,1\n-90,3e5,3e3,1\n"
                   "-80,4e5,4e3,1\n")
    post, (d,) = tcard.build_posterior(card, data_override=alt)
    assert d.source == str(alt) and d.n == 3 and post.datasets[0].n == 3
    expect(CardError, [str(card.path), "not found", "--data"], tcard.build_posterior, card,
           data_override=tmp_path / "nope.csv")
    joint = tcard.load_card(FIX / "joint.toml")
    expect(CardError, [str(joint.path), "exactly one [[dataset]]", "has 2"],
           tcard.build_posterior, joint, data_override=alt)


# --- joint card: shared parameters, per-data-set noise -----------------------------------------

def test_two_datasets_share_delta0_and_suffix_noise():
    card = tcard.load_card(FIX / "joint.toml")
    assert [d.suffix for d in card.datasets] == ["freq", "qi"]
    post, (df, dq) = tcard.build_posterior(card)
    names = post.priors.names
    assert names == ("f0", "delta0", "noise_scale_freq", "delta_other", "P_c", "beta",
                     "noise_scale_qi")
    assert names.count("delta0") == 1 and "noise_scale" not in names
    assert post.datasets[0].likelihood_param_names == ("noise_scale_freq",)
    assert post.datasets[1].likelihood_param_names == ("noise_scale_qi",)
    # units from the column names: mK -> K, GHz -> Hz (sigma in Hz)
    assert df.x[0] == pytest.approx(0.020) and df.y[0] == pytest.approx(4.999999766716e9)
    assert df.sigma == pytest.approx(np.full(15, 300.0))
    # f0's default is data dependent, around the measured frequencies
    assert post.priors["f0"].low < df.y.min() < df.y.max() < post.priors["f0"].high
    theta = post.priors.sample(32, RNG)
    assert np.all(np.isfinite(post.log_prob(theta)[0]))
    # delta0 feeds both data sets: changing it changes both predictions
    truth = dict(f0=5e9, delta0=1e-5, noise_scale_freq=1.0, delta_other=2e-6, P_c=1e-15,
                 beta=0.3, noise_scale_qi=1.0)
    t1 = post.priors.from_params(truth)
    t2 = post.priors.from_params({**truth, "delta0": 2e-5})
    p1, p2 = post.predict(t1), post.predict(t2)
    assert np.max(np.abs(p1["freq"] - p2["freq"])) > 1e3  # Hz
    assert np.max(np.abs(p1["qi"] / p2["qi"] - 1)) > 0.1
    # priors for suffixed names are accepted, the bare name is not
    text = (FIX / "joint.toml").read_text() + (
        '\n[priors]\nnoise_scale_qi = { dist = "fixed", value = 1.0 }\n')
    c2 = tcard.parse_card(text, FIX / "joint.toml")
    assert "noise_scale_qi" not in tcard.build_posterior(c2)[0].free_names
    bad = (FIX / "joint.toml").read_text() + (
        '\n[priors]\nnoise_scale = { dist = "fixed", value = 1.0 }\n')
    expect(PriorError, ["joint.toml", "[priors]", "unknown parameter 'noise_scale'",
                        "noise_scale_freq"], tcard.parse_card, bad, FIX / "joint.toml")


def test_real_placeholder_and_env_override(tmp_path, monkeypatch):
    real = tmp_path / "realdir"
    real.mkdir()
    shutil.copy(FIX / "data" / "qpower_sim.csv", real / "q.csv")
    monkeypatch.setenv("TLSBAYES_REAL_DATA", str(real))
    text = (FIX / "qpower.toml").read_text().replace('"data/qpower_sim.csv"', '"{real}/q.csv"')
    p = card_in(tmp_path, text)
    card = tcard.load_card(p)
    assert card.datasets[0].path == real / "q.csv"
    _, (d,) = tcard.build_posterior(card)
    assert d.n == 16
    monkeypatch.setenv("TLSBAYES_REAL_DATA", str(tmp_path / "absent"))
    card = tcard.load_card(p)
    expect(CardError, [str(p), "[dataset.data]", "{real}/q.csv", "not found",
                       "TLSBAYES_REAL_DATA"], tcard.build_posterior, card)


# --- whitelist violations -----------------------------------------------------------------------

BASE = (FIX / "qpower.toml").read_text()


def edit(old, new, text=BASE):
    assert old in text, old
    return text.replace(old, new, 1)


CASES = [
    # (id, card text, exception, parts of the message)
    ("top-level", BASE + "\n[sampling]\nseed = 1\n", CardError,
     ["unknown top-level table or key 'sampling'", "did you mean 'sampler'"]),
    ("card key", edit('title = "', 'titel = "'), CardError,
     ["[card] unknown key 'titel'", "did you mean 'title'"]),
    ("card name missing", edit('name = "sim_qpower_5GHz"\n', ""), CardError,
     ["[card] missing required key 'name'"]),
    ("card name bad", edit('"sim_qpower_5GHz"', '"../evil"'), CardError, ["[card] name"]),
    ("card simulated type", edit("simulated = true", 'simulated = "yes"'), CardError,
     ["[card] simulated must be true or false"]),
    ("no card table", edit("[card]\n", "[cards]\n"), CardError, ["'cards'"]),
    ("dataset key", edit('likelihood = "gaussian_noise_scale"',
                         'likelihod = "gaussian_noise_scale"'), CardError,
     ["[[dataset]] unknown key 'likelihod'", "did you mean 'likelihood'"]),
    ("dataset not array", edit("[[dataset]]", "[dataset]"), CardError,
     ["[[dataset]] (an array of tables)"]),
    ("data key", edit('filter = "fit_ok == 1"', 'fiter = "fit_ok == 1"'), CardError,
     ["[dataset.data] unknown key 'fiter'",
      "(allowed: file, x, y, sigma, filter, window, group, T, status)",
      "did you mean 'filter'"]),
    ("x key", edit('x = { column = "power_dBm"', 'x = { colum = "power_dBm"'), CardError,
     ["[dataset.data.x] unknown key 'colum'", "(allowed: column, unit, kind, label)"]),
    ("y key", edit('y = { column = "Qi", kind = "Qi" }', 'y = { column = "Qi", knd = "Qi" }'),
     CardError, ["[dataset.data.y] unknown key 'knd'"]),
    ("sigma key", edit('sigma = { column = "Qi_sigma" }', 'sigma = { column = "Qi_sigma", u = 1 }'),
     CardError, ["[dataset.data.sigma] unknown key 'u'"]),
    ("window key", edit("window = { min = -150, max = -40 }", "window = { min = -150, mx = -40 }"),
     CardError, ["[dataset.data.window] unknown key 'mx'"]),
    ("window inverted", edit("window = { min = -150, max = -40 }",
                             "window = { min = -40, max = -150 }"), CardError,
     ["[dataset.data.window] is inverted"]),
    ("window type", edit("window = { min = -150, max = -40 }", 'window = { min = "-150" }'),
     CardError, ["[dataset.data.window] min must be a finite number"]),
    ("group key", edit("window = {", 'group = { col = "resonator", value = "R1" }\nwindow = {'),
     CardError, ["[dataset.data.group] unknown key 'col'"]),
    ("unknown model", edit('model = "q_power"', 'model = "qpower"'), CardError,
     ["[[dataset]] unknown model 'qpower'", "did you mean 'q_power'"]),
    ("unknown likelihood", edit('likelihood = "gaussian_noise_scale"', 'likelihood = "cauchy"'),
     CardError, ["[[dataset]] unknown likelihood 'cauchy'"]),
    ("unknown constant", edit("T = 0.012", "Temp = 0.012"), CardError,
     ["[dataset.constants] unknown constant 'Temp'"]),
    ("constant type", edit("T = 0.012", 'T = "12 mK"'), CardError,
     ["[dataset.constants] T must be a number"]),
    ("constant sign", edit("T = 0.012", "T = -0.012"), CardError,
     ["[dataset.constants] T must be a finite number > 0"]),
    ("model ValueError", edit('saturation = "power"', 'saturation = "pwr"'), CardError,
     ["[dataset.constants]", "unknown saturation 'pwr'"]),
    ("model needs constants", edit('saturation = "power"',
                                   'saturation = "power_self_consistent"'), CardError,
     ["[dataset.constants]", "needs positive constants Qc, A0, d"]),
    ("model TypeError: missing T", edit("T = 0.012\n", ""), CardError,
     ["[dataset.constants]", "'T'"]),
    ("x unit vs model", edit('x = { column = "power_dBm", unit = "dBm" }',
                             'x = { column = "power_dBm", unit = "K" }'), CardError,
     ["[dataset.data]", "'power_dBm'", "unit 'K' is not a unit of power"]),
    ("x kind vs model", edit('x = { column = "power_dBm", unit = "dBm" }',
                             'x = { column = "power_dBm", unit = "K", kind = "temperature" }'),
     CardError, ["[dataset.data.x] holds temperature", "saturation 'power' needs power"]),
    ("y kind vs model", edit('y = { column = "Qi", kind = "Qi" }',
                             'y = { column = "Qi", kind = "fractional_shift" }'),
     CardError, ["[dataset.data.y] holds fractional_shift", "predicts inverse_q"]),
    ("y kind missing for q_power", edit('y = { column = "Qi", kind = "Qi" }', 'y = "Qi"'),
     CardError, ["[dataset.data.y] needs kind = \"Qi\" or kind = \"inverse_q\""]),
    ("unknown unit", edit('unit = "dBm"', 'unit = "dbm"'), CardError,
     ["[dataset.data]", "unknown unit 'dbm'", "did you mean 'dBm'"]),
    ("gaussian without sigma", edit('sigma = { column = "Qi_sigma" }\n', "").replace(
        'likelihood = "gaussian_noise_scale"', 'likelihood = "gaussian"'), CardError,
     ["[dataset.data] has no sigma", "'gaussian'"]),
    ("filter eval", edit('filter = "fit_ok == 1"', 'filter = "__import__(\'os\').getcwd()"'),
     CardError, ["[dataset.data]", "filter", "unexpected '('"]),
    ("placeholder", edit('"data/qpower_sim.csv"', '"{home}/x.csv"'), CardError,
     ["[dataset.data]", "unknown placeholder"]),
    ("prior unknown parameter", edit("[priors]\n", '[priors]\nbta = { dist = "uniform", '
                                                   'low = 0.1, high = 0.5 }\n'), PriorError,
     ["[priors]", "unknown parameter 'bta'", "did you mean 'beta'"]),
    ("prior not a table", edit("[priors]\n", "[priors]\nP_c = 1e-15\n"), PriorError,
     ["[priors] P_c must be a table"]),
    ("prior inverted", edit("low = 0.05, high = 0.9", "low = 0.9, high = 0.05"), PriorError,
     ["[priors]", "'beta'", "low (0.9) must be less than high (0.05)"]),
    ("prior loguniform <= 0", edit("[priors]\n", '[priors]\nP_c = { dist = "loguniform", '
                                                 'low = 0, high = 1e-3 }\n'), PriorError,
     ["[priors]", "'P_c'", "low must be > 0"]),
    ("prior beta > 1", edit("low = 0.05, high = 0.9", "low = 0.05, high = 1.5"), PriorError,
     ["[priors]", "'beta'", "physical range [0, 1]"]),
    ("prior delta0 < 0", edit("[priors]\n", '[priors]\ndelta0 = { dist = "uniform", '
                                            'low = -1e-5, high = 1e-4 }\n'), PriorError,
     ["[priors]", "'delta0'", "physical range"]),
    ("prior unknown dist", edit('{ dist = "uniform", low = 0.05',
                                '{ dist = "unifrom", low = 0.05'), PriorError,
     ["[priors]", "unknown distribution"]),
    ("sampler key", edit("seed = 1", "sed = 1"), CardError,
     ["[sampler] unknown key 'sed'", "did you mean 'seed'"]),
    ("sampler int type", edit("nwalkers = 32", 'nwalkers = "32"'), CardError,
     ["[sampler] nwalkers must be an integer"]),
    ("sampler bool is not int", edit("nwalkers = 32", "nwalkers = true"), CardError,
     ["[sampler] nwalkers must be an integer"]),
    ("sampler float", edit("nwalkers = 32", "nwalkers = 32\nrhat_max = \"1.01\""), CardError,
     ["[sampler] rhat_max must be a finite number"]),
    ("sampler bool", edit("progress = false", "progress = 0"), CardError,
     ["[sampler] progress must be true or false"]),
    ("sampler unknown key", edit("seed = 1", "burn_fraction = 5.0"), CardError,
     ["[sampler] unknown key 'burn_fraction'"]),
]


@pytest.mark.parametrize("text, exc, parts", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_whitelist_violations(tmp_path, text, exc, parts):
    p = card_in(tmp_path, text)
    expect(exc, [str(p)] + parts, tcard.load_card, p)


def test_malformed_toml_names_the_line(tmp_path):
    p = card_in(tmp_path, edit("T = 0.012", "T = 0.012 K"))
    line = BASE.splitlines().index("T = 0.012") + 1
    msg = expect(CardError, [str(p), "malformed TOML", f"line {line}"], tcard.load_card, p)
    assert re.search(r"line \d+, column \d+", msg)
    p2 = card_in(tmp_path, BASE + "\n[card]\nname = 'again'\n", "dup.toml")
    expect(CardError, [str(p2), "malformed TOML", "line"], tcard.load_card, p2)


def test_missing_card_and_missing_data_file(tmp_path):
    expect(CardError, [str(tmp_path / "no.toml"), "card file not found"], tcard.load_card,
           tmp_path / "no.toml")
    p = card_in(tmp_path, edit('"data/qpower_sim.csv"', '"data/missing.csv"'))
    card = tcard.load_card(p)  # the file is only needed to build the posterior
    expect(CardError, [str(p), "[dataset.data]", "file = 'data/missing.csv'", "not found"],
           tcard.build_posterior, card)


def test_duplicate_dataset_names(tmp_path):
    text = (FIX / "joint.toml").read_text().replace('name = "qi"', 'name = "freq"')
    p = card_in(tmp_path, text)
    expect(CardError, [str(p), "name 'freq' is already used"], tcard.load_card, p)


def test_multi_dataset_messages_name_the_dataset(tmp_path):
    text = (FIX / "joint.toml").read_text().replace('x = "power_dBm"', 'x = { colum = "p" }')
    p = card_in(tmp_path, text)
    expect(CardError, [str(p), "[dataset.data.x] of dataset 'qi'", "unknown key 'colum'"],
           tcard.load_card, p)


def test_data_errors_name_card_dataset_file_and_line(tmp_path):
    p = card_in(tmp_path, BASE)
    csv = tmp_path / "data" / "qpower_sim.csv"
    lines = csv.read_text().splitlines(True)
    power = lines[6].split(",")[0]  # line 7 of the file (two comment lines, a header)
    lines[6] = f"{power},oops,1,1\n"
    csv.write_text("".join(lines))
    card = tcard.load_card(p)
    expect(DataError, [str(p), "data set 'qi'", str(csv), "line 7", "column 'Qi'",
                       "non-numeric value 'oops'"], tcard.build_posterior, card)
    p2 = card_in(tmp_path, edit('filter = "fit_ok == 1"', 'filter = "fitok == 1"'), "c2.toml")
    expect(DataError, [str(p2), "no column 'fitok'", "did you mean 'fit_ok'"],
           tcard.build_posterior, tcard.load_card(p2))


def test_no_eval_exec_or_pickle():
    for pkg in (tcard, tio):
        for mod in Path(pkg.__file__).parent.glob("*.py"):
            src = mod.read_text()
            assert not re.search(r"(?<![.\w])(eval|exec|compile)\(|\bpickle\b|\.query\(",
                                 src), mod


def test_sampler_keys_exported():
    from tlsbayes.sampling import SamplerSettings
    # Every sampler setting is settable from a card, and nothing else.
    assert set(tcard.SAMPLER_KEYS) == set(SamplerSettings.__dataclass_fields__)


# --- a card on real data -------------------------------------------------------------------------

@needs_real
def test_real_data_card_bcqt(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSBAYES_REAL_DATA", str(REAL))
    text = """
[card]
name = "bcqt_gaas_resB"
attribution = "McRae et al., Boulder Cryogenic Quantum Testbed data (GaAs_Loss_Article)"

[[dataset]]
name = "qi"
model = "q_power"
likelihood = "student_t"
[dataset.constants]
T = 0.012
f = 7.9227e9
saturation = "power"
[dataset.data]
file = "{real}/bcqt_gaas_resA_resB_Qi_vs_power.csv"
x = { column = "power_vna_dBm" }
y = { column = "Qi", kind = "Qi" }
sigma = { column = "Qi_sigma" }
filter = "fit_ok == 1"
group = { column = "resonator", value = "ResonatorB" }
"""
    p = tmp_path / "real.toml"
    p.write_text(text)
    post, (d,) = tcard.build_posterior(tcard.load_card(p))
    assert d.n == 21 and d.sha256 and post.free_names == ("delta0", "delta_other", "P_c",
                                                          "beta", "noise_scale")
    theta = post.priors.sample(16, RNG)
    assert np.all(np.isfinite(post.log_prob(theta)[0]))
    assert math.isclose(d.x.max(), 1e-3, rel_tol=1e-12)  # 0 dBm
