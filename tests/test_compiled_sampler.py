"""The compiled engine (tlsbayes.sampling.compiled) takes emcee's steps: the same chain, bit for bit.

* Exact invariance, as for the DE move (tests/test_de_move.py): 2000 walkers start as exact
  draws of a correlated Gaussian and of a banana; after 20 compiled steps every whitened
  coordinate is still N(0, 1) and the squared radius chi2 (KS), for the stretch move, the DE
  move and the DE move with snooker.
* The same chain as emcee: with the same seed the runner's two engines write identical chains,
  log-probabilities, blobs and acceptance counts (stretch, DE, odd ensembles, a weighted mix
  of moves), and on the real Ta card and a stretch card through ``Posterior.log_prob`` and its
  compiled-glue twin (tlsbayes.sampling.compiled_target), whose values are identical too.
* The ``compiled_loop`` engine (whole chunks in one compiled call) gives the same chain on the
  Ta card, DE and stretch.
* Kill/resume: a compiled run stopped at a checkpoint and resumed (by either engine) ends
  with the chain of the uninterrupted run.
"""

import dataclasses
import os
from pathlib import Path

import emcee
import numpy as np
import pytest
from scipy import stats

from tlsbayes.sampling import SamplerSettings, run
from tlsbayes.sampling.compiled import CompiledStepper, move_spec
from tlsbayes.sampling.compiled_target import fast_log_prob
from tlsbayes.sampling.moves import DEMove

# the targets of the DE move's invariance test (a correlated Gaussian and a banana)
from test_de_move import ND, NW, STEPS, L, banana_draws, banana_white, gauss_white  # noqa: E402


TARGETS = {
    "gauss": (gauss_white, lambda rng, n: rng.normal(size=(n, ND)) @ L.T),
    "banana": (banana_white, banana_draws),
}


def _log_prob(white):
    def f(x):
        w = white(x)
        return -0.5 * np.einsum("ij,ij->i", w, w)
    return f


def _with_blobs(log_prob):
    def f(x):
        lp = log_prob(x)
        return lp, 0.25 * lp, 0.75 * lp
    return f


MOVES = {
    "stretch": lambda: [(emcee.moves.StretchMove(), 1.0)],
    "de": lambda: [(DEMove(), 1.0)],
    "snooker": lambda: [(DEMove(snooker=0.3), 1.0)],
}


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("moves", sorted(MOVES))
def test_compiled_steps_leave_the_target_invariant(target, moves):
    white, draw = TARGETS[target]
    log_prob = _log_prob(white)
    stepper = CompiledStepper(*move_spec(MOVES[moves]()),
                              lambda q: (log_prob(q), np.empty((q.shape[0], 0))))
    rng = np.random.default_rng(0)
    x = draw(rng, NW)
    lp, blobs = log_prob(x), np.empty((NW, 0))
    _, _, _, accepted = stepper.run(x, lp, blobs, np.random.RandomState(1), STEPS)
    assert accepted.mean() / STEPS > 0.05  # the walkers did move
    w = white(x)
    p = [stats.kstest(w[:, i], "norm").pvalue for i in range(ND)]
    p.append(stats.kstest(np.sum(w * w, axis=1), stats.chi2(ND).cdf).pvalue)
    assert min(p) > 0.01, p


def test_a_biased_compiled_move_fails_the_test(monkeypatch):
    # the same test sees a wrong acceptance rule: the stretch move without its z^(d-1) factor
    from tlsbayes.sampling import compiled

    exact = compiled.draw_chunk

    def no_jacobian(*args):
        move, labels, draws, rint = exact(*args)
        draws[:, :, 1] = 0.0  # the stretch move's log MH factor, (d - 1) log z
        return move, labels, draws, rint

    monkeypatch.setattr(compiled, "draw_chunk", no_jacobian)
    white, draw = TARGETS["gauss"]
    log_prob = _log_prob(white)
    stepper = CompiledStepper(*move_spec(MOVES["stretch"]()),
                              lambda q: (log_prob(q), np.empty((q.shape[0], 0))))
    x = draw(np.random.default_rng(0), NW)
    stepper.run(x, log_prob(x), np.empty((NW, 0)), np.random.RandomState(1), STEPS)
    r2 = np.sum(white(x) ** 2, axis=1)
    assert stats.kstest(r2, stats.chi2(ND).cdf).pvalue < 1e-5


def _runs(log_prob, p0, moves, **kw):
    out = {}
    for engine in ("emcee", "compiled"):
        s = SamplerSettings(moves=moves, engine=engine, seed=5, chunk=100, max_steps=300,
                            progress=False, **kw)
        out[engine] = run(log_prob, p0, s)
    return out["emcee"], out["compiled"]


def _assert_same(a, b):
    assert np.array_equal(a.chain, b.chain)
    assert np.array_equal(a.log_prob, b.log_prob)
    assert sorted(a.blobs) == sorted(b.blobs)
    for k in a.blobs:
        assert np.array_equal(a.blobs[k], b.blobs[k])
    assert np.array_equal(a.acceptance_fraction, b.acceptance_fraction)
    assert np.array_equal(a.tau, b.tau) and a.steps == b.steps


@pytest.mark.parametrize("moves", ["stretch", "de"])
@pytest.mark.parametrize("nwalkers", [32, 33])
def test_same_chain_as_emcee(moves, nwalkers):
    p0 = np.random.default_rng(1).normal(scale=0.1, size=(nwalkers, ND))
    a, b = _runs(_with_blobs(_log_prob(banana_white)), p0, moves)
    assert a.acceptance_fraction.mean() > 0.1
    _assert_same(a, b)


def test_same_chain_as_emcee_without_blobs_and_with_a_mix_of_moves():
    log_prob = _log_prob(gauss_white)
    moves = [(DEMove(), 0.7), (emcee.moves.StretchMove(a=1.8), 0.3)]
    p0 = np.random.default_rng(2).normal(size=(24, ND))
    sampler = emcee.EnsembleSampler(24, ND, log_prob, vectorize=True, moves=moves)
    sampler.run_mcmc(emcee.State(p0, random_state=np.random.RandomState(9).get_state()), 200,
                     progress=False)
    stepper = CompiledStepper(*move_spec(moves), lambda q: (log_prob(q), np.empty((q.shape[0], 0))))
    x = p0.copy()
    chain, lps, _, acc = stepper.run(x, log_prob(x), np.empty((24, 0)), np.random.RandomState(9),
                                     200)
    assert np.array_equal(chain, sampler.get_chain())
    assert np.array_equal(lps, sampler.get_log_prob())
    assert np.array_equal(acc, sampler.backend.accepted)


def test_moves_it_cannot_reproduce_stay_on_emcee():
    assert move_spec([(emcee.moves.DESnookerMove(), 1.0)]) is None
    assert move_spec([(emcee.moves.StretchMove(nsplits=3), 1.0)]) is None
    assert move_spec([(DEMove(), 0.5), (emcee.moves.KDEMove(), 0.5)]) is None


def test_a_changed_python_move_sends_the_run_back_to_emcee(monkeypatch):
    # the compiled twin replays DEMove's draws and arithmetic; were DEMove to change without
    # it, move_spec's one-step check must refuse the compiled path rather than sample the old
    from tlsbayes.sampling import compiled

    assert move_spec(MOVES["de"]()) is not None
    monkeypatch.setattr(compiled, "_VERIFIED", {})
    exact = DEMove.get_proposal
    monkeypatch.setattr(DEMove, "get_proposal",
                        lambda self, x, comp, u, g: exact(self, x, comp, u, 1.0001 * g))
    assert move_spec(MOVES["de"]()) is None


def test_kill_resume_on_either_engine_continues_the_chain(tmp_path):
    log_prob = _with_blobs(_log_prob(gauss_white))
    p0 = np.random.default_rng(3).normal(scale=0.1, size=(32, ND))
    full = SamplerSettings(moves="de", engine="compiled", seed=8, chunk=100, max_steps=400,
                           target_ess=1e9, progress=False)
    whole = run(log_prob, p0, full)
    for engine in ("compiled", "emcee"):
        ck = tmp_path / f"{engine}.h5"
        run(log_prob, p0, dataclasses.replace(full, max_steps=200), checkpoint=ck)
        resumed = run(log_prob, p0, dataclasses.replace(full, engine=engine), checkpoint=ck,
                      resume=True)
        assert resumed.steps == 400
        assert np.array_equal(resumed.chain, whole.chain)
        assert np.array_equal(resumed.log_prob, whole.log_prob)
        assert np.array_equal(resumed.acceptance_fraction, whole.acceptance_fraction)


# -- real cards ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _posterior(card):
    from tlsbayes import io as tio
    from tlsbayes.fit import prepare_fit

    real = Path(os.environ.get("TLSBAYES_REAL_DATA") or tio.real_data_dir())
    if card.startswith("models/real/") and not real.is_dir():
        pytest.skip("shared real data not found (set TLSBAYES_REAL_DATA)")
    _, posterior, _, settings = prepare_fit(ROOT / card, progress=False)
    return posterior, settings


CARDS = ["models/real/ta_LGS1_5p70GHz_qpower.toml", "models/maillet_SiN_damping_SN_joint.toml",
         "models/defrance_B2_809MHz_joint.toml", "models/real/nyu_al_inp_joint_tls_qp.toml"]


@pytest.mark.parametrize("card", CARDS)
def test_compiled_glue_gives_the_posteriors_values(card):
    posterior, _ = _posterior(card)
    fast = fast_log_prob(posterior.log_prob)
    assert fast is not None
    rng = np.random.default_rng(0)
    theta = posterior.priors.sample(40, rng)
    theta[::3] += rng.normal(scale=3.0, size=theta[::3].shape)  # some off the support
    want, got = posterior.log_prob(theta), fast(theta)
    assert np.isfinite(want[0]).any() and not np.isfinite(want[0]).all()
    for w, g in zip(want, got):
        assert np.array_equal(w, g)


@pytest.mark.parametrize("card", CARDS[:2])
def test_same_chain_as_emcee_on_a_card(card):
    from tlsbayes.sampling import initial_ball

    posterior, settings = _posterior(card)
    theta0 = posterior.priors.sample(64, np.random.default_rng(4))
    best = theta0[np.argmax(posterior.log_prob(theta0)[0])]
    nw = settings.resolve_nwalkers(posterior.ndim)
    p0 = initial_ball(best, nw, np.random.default_rng(3), posterior.log_prob, 1e-3)
    a, b = _runs(posterior.log_prob, p0, settings.moves)
    _assert_same(a, b)


@pytest.mark.parametrize("moves", ["de", "stretch"])
def test_compiled_loop_gives_the_same_chain_on_a_card(moves):
    # engine "compiled_loop": whole chunks in one compiled call (one data set, numba kernel)
    from tlsbayes.sampling import initial_ball
    from tlsbayes.sampling.compiled_loop import chunk_runner

    posterior, settings = _posterior(CARDS[0])
    assert chunk_runner(fast_log_prob(posterior.log_prob)) is not None
    theta0 = posterior.priors.sample(64, np.random.default_rng(4))
    best = theta0[np.argmax(posterior.log_prob(theta0)[0])]
    p0 = initial_ball(best, 32, np.random.default_rng(3), posterior.log_prob, 1e-3)
    out = []
    for engine in ("emcee", "compiled_loop"):
        s = SamplerSettings(moves=moves, engine=engine, seed=5, chunk=100, max_steps=300,
                            progress=False)
        out.append(run(posterior.log_prob, p0, s))
    _assert_same(*out)


def _loop_chunks(monkeypatch, max_steps):
    """Run CARDS[0] on emcee and on the "compiled" engine; assert the same chain; return
    ``(first step, loop taken)`` of each compiled chunk."""
    from tlsbayes.sampling import initial_ball, runner as runner_module

    posterior, settings = _posterior(CARDS[0])
    theta0 = posterior.priors.sample(64, np.random.default_rng(4))
    best = theta0[np.argmax(posterior.log_prob(theta0)[0])]
    p0 = initial_ball(best, 32, np.random.default_rng(3), posterior.log_prob, 1e-3)
    chunks = []
    original = runner_module._Session._compiled_steps

    def spy(self, state, n, bar):
        first = self.steps
        out = original(self, state, n, bar)
        chunks.append((first, self.stepper.chunk_runner is not None))
        return out

    monkeypatch.setattr(runner_module._Session, "_compiled_steps", spy)
    out = []
    for engine in ("emcee", "compiled"):
        s = SamplerSettings(moves="de", engine=engine, seed=5, chunk=100, max_steps=max_steps,
                            progress=False)
        out.append(run(posterior.log_prob, p0, s))
    _assert_same(*out)
    return chunks


def test_a_long_run_switches_to_the_loop_and_keeps_the_chain(monkeypatch):
    # engine "compiled": past runner.LOOP_AFTER steps whole chunks go through the compiled
    # loop; the chain stays emcee's, bit for bit, across the switch
    from tlsbayes.sampling import runner as runner_module

    monkeypatch.setattr(runner_module, "LOOP_AFTER", 150)
    monkeypatch.setattr(runner_module, "_loop_loaded", lambda: False)
    chunks = _loop_chunks(monkeypatch, 400)
    assert chunks[0] == (0, False) and chunks[-1][1]
    assert all(taken == (first >= 150) for first, taken in chunks)


def test_a_process_that_has_loaded_the_loop_takes_it_at_once(monkeypatch):
    # a batch worker after its first long fit: every later run takes the loop from its first
    # chunk; the chain stays emcee's, bit for bit
    from tlsbayes.sampling import compiled_loop  # noqa: F401  (what a long run loads)

    chunks = _loop_chunks(monkeypatch, 300)
    assert chunks[0] == (0, True) and all(taken for _, taken in chunks)


def test_the_ridge_jump_set_gives_emcees_chain_on_every_engine():
    # moves "de_jump" on the Ta card of the shelf: the jump's proposals and the DE ones,
    # per-half stepper and whole-chunk loop, bit for bit with emcee's own run of the move
    from tlsbayes.sampling import initial_ball
    from tlsbayes.sampling.compiled import move_spec
    from tlsbayes.sampling.moves import build_moves

    posterior, _ = _posterior("models/real/ta_SGS1_5p68GHz_qpower.toml")
    ridge = posterior.saturation_ridge()
    assert move_spec(build_moves("de_jump", ridge)) is not None  # the guard passes
    theta0 = posterior.priors.sample(64, np.random.default_rng(4))
    best = theta0[np.argmax(posterior.log_prob(theta0)[0])]
    p0 = initial_ball(best, 32, np.random.default_rng(3), posterior.log_prob, 1e-3)
    out = []
    for engine in ("emcee", "compiled", "compiled_loop"):
        s = SamplerSettings(moves="de_jump", engine=engine, seed=5, chunk=100, max_steps=300,
                            progress=False)
        out.append(run(posterior.log_prob, p0, s, proposal=ridge))
    _assert_same(out[0], out[1])
    _assert_same(out[0], out[2])


def test_the_ridge_jump_set_needs_a_saturation_ridge():
    from tlsbayes.errors import TLSBayesError

    posterior, _ = _posterior("models/maillet_SiN_damping_SN_joint.toml")
    with pytest.raises(TLSBayesError, match="de_jump"):
        posterior.saturation_ridge()
