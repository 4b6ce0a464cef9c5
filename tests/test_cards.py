"""Every shipped model card loads, its data agree with its stated truth, and new families fit.

* all cards under models/ (subdirectories included) parse;
* simulated cards: the posterior is finite at the [simulation] truth and the data's chi² there
  is what the stated noise implies; the data files generated from a card's own [simulation]
  table are exactly what ``tlsbayes simulate`` writes for it;
* real-data cards (skipped when the shared data are absent): the posterior is finite at the MAP
  and the MAP is well inside the prior;
* slow: a small bounded MCMC run per new card family recovers the simulation truth.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from tlsbayes import card as tcard
from tlsbayes import io as tio
from tlsbayes.card import simulate_card
from tlsbayes.errors import CardError
from tlsbayes.fit import run_fit
from tlsbayes.models.papers import DEFRANCE_TABLE3
from tlsbayes.sampling import SamplerSettings, find_map

MODELS = Path(__file__).resolve().parents[1] / "models"


def _is_card(path):
    return "[card]" in path.read_text(encoding="utf-8").splitlines()


# Cards whose data lie outside their folder on purpose (the README's raw-trace quick start reads
# the output of `tlsbayes s21 --out results/s21_nyu`): loaded here with the user's flag.
OUTSIDE = {"nyu_al_inp_fshift_from_s21_output.toml"}


def _load(path):
    return tcard.load_card(path, allow_outside_data=path.name in OUTSIDE)


CARDS = sorted(p for p in MODELS.rglob("*.toml") if _is_card(p))
SIMULATED = [p for p in CARDS if _load(p).meta.get("simulated")]
REAL = [p for p in CARDS if p not in SIMULATED]
# Cards whose data were NOT all drawn at their own [simulation] values, on purpose: joint cards
# with one value of a parameter that the separate data sets were simulated with differently.
TENSION = {"defrance_B2_809MHz_joint", "maillet_SiN_damping_shift_joint"}
# Cards whose data files are generated from the card's own [simulation] table.
FROM_CARD = sorted((MODELS / "defrance2024").glob("*.toml")) + [
    MODELS / "maillet_SiN_fshift.toml", MODELS / "maillet_goalpost_damping_SN_joint.toml"]


def _ids(paths):
    return [p.relative_to(MODELS).as_posix() for p in paths]


def test_card_inventory():
    assert len(list((MODELS / "defrance2024").glob("*_qpower.toml"))) == len(DEFRANCE_TABLE3) == 22
    assert len(list((MODELS / "defrance2024").glob("*_fshift.toml"))) == 22
    assert len(REAL) >= 5
    for p in SIMULATED:
        assert "SIMULATED" in p.read_text().upper(), p


@pytest.mark.parametrize("path", CARDS, ids=_ids(CARDS))
def test_every_card_loads(path):
    card = _load(path)
    assert card.parameters and card.datasets


@pytest.mark.parametrize("path", SIMULATED, ids=_ids(SIMULATED))
def test_simulated_card_is_consistent_with_its_truth(path):
    card = _load(path)
    post, _ = tcard.build_posterior(card)
    truth = card.simulation["parameters"]
    assert set(truth) == set(card.parameters), "every parameter needs a simulation value"
    theta = post.priors.from_params(truth)
    lp, lprior, _ = post.log_prob(theta)
    assert math.isfinite(lp) and math.isfinite(lprior)
    if card.name in TENSION:
        return
    # Data drawn at the truth with the quoted sigma: chi² ~ chi²(n), within 5 standard deviations.
    pred = post.predict(theta[None, :])
    for ds in post.datasets:
        chi2 = float(np.sum(((ds.y - pred[ds.name][0]) / ds.sigma) ** 2))
        assert abs(chi2 - ds.n) < 5 * math.sqrt(2 * ds.n), (ds.name, chi2, ds.n)


@pytest.mark.parametrize("path", FROM_CARD, ids=_ids(FROM_CARD))
def test_shipped_data_are_what_simulate_writes(path):
    card = _load(path)
    for spec in card.datasets:
        table = simulate_card(card, dataset=spec.name)
        shipped = tio.load_xy(spec.path, x=spec.data["x"], y=spec.data["y"],
                              sigma=spec.data.get("sigma"), window=spec.data.get("window"))
        assert table.columns == tio.read_table(spec.path).columns
        assert shipped.n == len(table.rows)
        np.testing.assert_allclose(shipped.x, table.x_si, rtol=1e-11)
        np.testing.assert_allclose(shipped.y, table.y_si, rtol=1e-10)
        np.testing.assert_allclose(shipped.sigma, table.sigma_si, rtol=1e-10)


def test_defrance_cards_carry_table3_and_table1():
    for row in DEFRANCE_TABLE3:
        tag = f"{row.device.replace('(', '').replace(')', '')}_{row.f0 / 1e6:.0f}MHz"
        q = tcard.load_card(MODELS / "defrance2024" / f"{tag}_qpower.toml")
        f = tcard.load_card(MODELS / "defrance2024" / f"{tag}_fshift.toml")
        c = q.datasets[0].constants
        assert (c["A0"], c["Qc"], c["f"]) == (pytest.approx(row.geometry.A0), row.geometry.Qc,
                                             row.f0)
        assert c["saturation"] == "power_self_consistent" and c["T"] == 0.246
        assert q.priors["beta"] == {"dist": "uniform", "low": 0.1, "high": 0.6}
        assert q.simulation["parameters"] == pytest.approx(
            {"delta0": row.delta0_qi, "delta_other": row.delta_other, "E_c": row.E_c,
             "beta": row.beta})
        assert f.simulation["parameters"] == pytest.approx({"f0": row.f0,
                                                            "delta0": row.delta0_fshift})


def _map(post, seed=0, starts=8):
    rng = np.random.default_rng(seed)
    best = find_map(lambda th: post.log_prob(th)[0], post.priors.sample(starts, rng),
                    names=post.free_names)
    return best.theta


@pytest.mark.parametrize("path", REAL, ids=_ids(REAL))
def test_real_card_posterior_finite_at_map(path):
    card = _load(path)
    if any(s.path.is_dir() for s in card.datasets):
        pytest.skip("its data are raw S21 traces, which `tlsbayes fit` fits first "
                    "(tests/test_s21_tls_real.py)")
    if not all(s.path.is_file() for s in card.datasets):
        if path.name in OUTSIDE:
            pytest.skip("its data are the output of the README's `tlsbayes s21` command")
        pytest.skip(f"shared real data not found at {tio.real_data_dir()} "
                    "(set TLSBAYES_REAL_DATA)")
    assert card.meta.get("attribution") and "{real}/" in card.text
    post, data = tcard.build_posterior(card)
    assert all(d.n >= 5 for d in data)
    theta = _map(post)
    lp = post.log_prob(theta)[0]
    assert math.isfinite(lp)
    # the MAP beats the prior median by a wide margin: the data say something
    median = np.array([post.priors[n].to_sampling(post.priors[n].ppf(0.5))
                       for n in post.free_names])
    assert lp > post.log_prob(median)[0] + 10


@pytest.mark.slow
def test_damping_shift_joint_card_shows_the_C_tension():
    """A shared C cannot fit damping (C = 4.3e-5) and shift (C = 2.1e-5) data together."""
    card = tcard.load_card(MODELS / "maillet_SiN_damping_shift_joint.toml")
    post, _ = tcard.build_posterior(card)
    theta = _map(post)
    pred = post.predict(theta[None, :])
    chi2 = {ds.name: float(np.sum(((ds.y - pred[ds.name][0]) / ds.sigma) ** 2))
            for ds in post.datasets}
    n = {ds.name: ds.n for ds in post.datasets}
    worst = max(chi2[k] / n[k] for k in chi2)
    assert worst > 10, chi2  # far outside chi²(n) for some data set
    C = post.params(theta[None, :])["C"][0]
    assert 1.5e-5 < C < 5e-5


# Small bounded MCMC runs (not required to converge) on one card of each new family.
RECOVERY = [
    ("defrance2024/B2_847MHz_qpower.toml", ("delta0", "delta_other", "E_c", "beta")),
    ("defrance2024/A1_859MHz_fshift.toml", ("f0", "delta0")),
    ("maillet_SiN_fshift.toml", ("C", "T0")),
    ("maillet_goalpost_damping_SN_joint.toml", ("C", "A_ph", "x")),
]


@pytest.mark.slow
@pytest.mark.parametrize("rel,names", RECOVERY, ids=[r[0] for r in RECOVERY])
def test_new_card_family_recovers_truth(rel, names, tmp_path):
    card = tcard.load_card(MODELS / rel)
    post, _ = tcard.build_posterior(card)
    settings = SamplerSettings(seed=3, nwalkers=24, chunk=250, max_steps=1500, progress=False)
    res = run_fit(post, settings, tmp_path, plots=False, print_fn=lambda *a: None)
    truth = card.simulation["parameters"]
    for name in names:
        draws = res.idata.posterior[name].values.ravel()
        lo, hi = np.percentile(draws, [0.5, 99.5])
        assert lo < truth[name] < hi, (name, truth[name], lo, hi)


def test_outside_data_cards_need_the_flag():
    """A shipped card reading outside its folder is refused without --allow-outside-data."""
    for name in OUTSIDE:
        path = next(p for p in CARDS if p.name == name)
        with pytest.raises(CardError, match="allow-outside-data"):
            tcard.load_card(path)
