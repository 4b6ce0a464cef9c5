"""Tests of tlsbayes.sampling: convergence on a known posterior, reproducibility, MAP and
initial ball, checkpoint format, interruption/kill and resume, corrupt checkpoints."""

import dataclasses
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import emcee
import h5py
import numpy as np
import pytest

from tlsbayes.errors import SamplingError
from tlsbayes.sampling import (
    SamplerSettings,
    find_map,
    initial_ball,
    read_checkpoint,
    run,
)

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "_sampling_worker", Path(__file__).with_name("_sampling_worker.py"))
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)
Gaussian, MU, SD, CORR, NAMES = worker.Gaussian, worker.MU, worker.SD, worker.CORR, worker.NAMES

# checkpoint_seconds=0: a checkpoint at every chunk, which the resume tests count on
SHORT = SamplerSettings(chunk=100, checkpoint_seconds=0, max_steps=500, seed=5, progress=False)


def _start(settings, target=None):
    return worker.start(settings, target or Gaussian())


@pytest.fixture(scope="module")
def short_reference():
    """Uninterrupted 500-step run used as the reference for resume tests."""
    return run(Gaussian(), _start(SHORT), SHORT, names=NAMES)


@pytest.fixture(scope="module")
def short_checkpoint(tmp_path_factory):
    """A valid checkpoint file of the SHORT run (to be copied and damaged)."""
    path = tmp_path_factory.mktemp("ck") / "short.h5"
    result = run(Gaussian(), _start(SHORT), SHORT, names=NAMES, checkpoint=path)
    return path, result


# --------------------------------------------------------------------------------------------
# Statistics on a known posterior
# --------------------------------------------------------------------------------------------
def test_correlated_gaussian_converges_and_recovers_moments(tmp_path):
    settings = SamplerSettings(seed=2024, progress=False)
    rng = np.random.default_rng(settings.seed)
    target = Gaussian()
    starts = rng.uniform(-10, 10, size=(settings.map_starts, 3))
    best = find_map(target, starts, names=NAMES)
    np.testing.assert_allclose(best.theta, MU, atol=1e-4)
    p0 = initial_ball(best.theta, settings.resolve_nwalkers(3), rng, target,
                      settings.ball_scale, names=NAMES)
    ck = tmp_path / "gauss.h5"

    res = run(target, p0, settings, names=NAMES, checkpoint=ck)

    assert res.converged, res.verdict
    assert res.verdict.startswith("converged")
    assert np.all(res.ess >= settings.target_ess) and np.all(res.rhat < settings.rhat_max)
    assert res.steps - res.burn_in >= settings.tau_factor * res.tau.max()
    assert 0.2 < res.acceptance_fraction.mean() < 0.8

    # The run stopped within 1.5x of the first step at which the rule holds on its chain
    # (scanned every 10 steps, burn-in from the final tau).
    from tlsbayes.sampling.convergence import diagnose

    first = next(s for s in range(100, res.steps + 1, 10)
                 if not diagnose(res.chain[:s], res.tau, settings, NAMES).failures)
    assert res.steps <= 1.5 * first, (res.steps, first)

    x = res.samples(thin=1).reshape(-1, 3)
    ess = res.ess
    # Monte-Carlo standard errors: sigma/sqrt(ESS) for a mean, ~1/sqrt(2 ESS) relative for a
    # standard deviation, (1 - rho^2)/sqrt(ESS) for a correlation; allow 4 of them.
    assert np.all(np.abs(x.mean(axis=0) - MU) < 4 * SD / np.sqrt(ess))
    width_err = np.abs(x.std(axis=0) / SD - 1)
    assert np.all(width_err < 4 / np.sqrt(2 * ess)) and np.all(width_err < 0.05)
    corr = np.corrcoef(x.T)
    iu = np.triu_indices(3, 1)
    assert np.all(np.abs(corr[iu] - CORR[iu]) < 4 * (1 - CORR[iu] ** 2) / np.sqrt(ess.min()))

    # Blobs are stored per sample and add up to the log-probability.
    np.testing.assert_array_equal(res.log_prior + res.log_likelihood, res.log_prob)
    assert res.sample_stats(thin=1)["log_likelihood"].shape == (32, res.steps - res.burn_in)

    # Resuming a finished, converged run re-makes the last check and stops at once.
    again = run(target, p0, settings, names=NAMES, checkpoint=ck, resume=True)
    assert again.converged and again.steps == res.steps
    np.testing.assert_array_equal(again.chain, res.chain)


def test_same_seed_identical_different_seed_differs():
    s1 = SamplerSettings(chunk=100, max_steps=200, seed=1, progress=False)
    p0 = _start(s1)
    a = run(Gaussian(), p0, s1)
    b = run(Gaussian(), p0, s1)
    c = run(Gaussian(), p0, SamplerSettings(chunk=100, max_steps=200, seed=2, progress=False))
    assert np.array_equal(a.chain, b.chain) and np.array_equal(a.log_prob, b.log_prob)
    assert np.array_equal(a.log_likelihood, b.log_likelihood)
    assert not np.array_equal(a.chain, c.chain)
    assert a.settings.seed == 1 and a.settings.nwalkers == 32


def test_step_cap_gives_explicit_not_converged_verdict(capsys):
    settings = SamplerSettings(chunk=100, max_steps=300, seed=3, progress=True)
    res = run(Gaussian(), _start(settings), settings, names=NAMES)
    assert not res.converged
    assert res.steps == 300
    assert res.verdict.startswith("NOT converged after 300 steps")
    assert "chain too short" in res.verdict and "ESS < 1000" in res.verdict
    assert any(f"'{n}'" in res.verdict for n in NAMES)
    # checks every 50 steps early on, then 1.25x apart (convergence.next_check), and at the cap
    np.testing.assert_array_equal(res.tau_history_steps, [50, 100, 150, 200, 250, 300])
    assert res.tau_history.shape == (6, 3)
    err = capsys.readouterr().err
    assert "300/300" in err and "rhat=" in err  # progress bar with the diagnostics postfix


def test_log_prob_without_blobs_and_de_moves():
    settings = SamplerSettings(chunk=100, max_steps=200, seed=4, moves="de", progress=False)
    target = Gaussian()
    res = run(lambda t: target(t)[0], _start(settings), settings)
    assert res.blobs == {} and res.log_prior is None
    assert np.all(np.isfinite(res.chain)) and res.chain.shape == (200, 32, 3)
    assert res.samples().shape[0] == 32


def test_nan_log_prob_is_an_error_naming_the_point(capsys):
    def target(theta):
        lp = -0.5 * np.sum(theta ** 2, axis=1)
        return np.where(theta[:, 1] > 0.3, np.nan, lp)

    settings = SamplerSettings(chunk=50, max_steps=400, seed=1, progress=False)
    p0 = np.random.default_rng(0).normal(0, 0.01, (32, 3))
    with pytest.raises(SamplingError, match=r"NaN at .*'b' = 0\.3"):
        run(target, p0, settings, names=NAMES)
    assert "emcee: Exception" not in capsys.readouterr().out  # no traceback dump by emcee


def test_settings_validation_and_round_trip():
    with pytest.raises(SamplingError, match="moves"):
        SamplerSettings(moves="hmc")
    with pytest.raises(SamplingError, match="chunk"):
        SamplerSettings(chunk=0)
    s = SamplerSettings(seed=9, moves="de")
    assert SamplerSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert [SamplerSettings().resolve_nwalkers(n) for n in (3, 9, 11)] == [32, 36, 44]
    assert SamplerSettings(nwalkers=40).resolve_nwalkers(3) == 40


# --------------------------------------------------------------------------------------------
# MAP and initial ball
# --------------------------------------------------------------------------------------------
def _banana(theta):
    x, y = np.atleast_2d(theta).T
    lp = -((x - 1.0) ** 2 / 0.2 + 5.0 * (y - x ** 2) ** 2)
    return np.where(x < -3, -np.inf, lp)  # x < -3: an impossible region, like outside a prior


def test_find_map_finds_the_mode_from_several_starts():
    starts = np.array([[-4.0, 0.0], [0.0, 0.0], [2.5, -1.0], [-2.0, 4.0], [3.0, 9.0]])
    best = find_map(_banana, starts, names=("x", "y"))
    np.testing.assert_allclose(best.theta, [1.0, 1.0], atol=1e-5)
    assert best.log_prob == pytest.approx(0.0, abs=1e-9)
    assert not np.isfinite(best.starts[0].log_prob)  # the impossible start is reported
    assert sum(np.allclose(s.theta, [1, 1], atol=1e-4) for s in best.starts) >= 3
    again = find_map(_banana, starts, names=("x", "y"))
    assert np.array_equal(again.theta, best.theta)
    with pytest.raises(SamplingError, match="not finite at any"):
        find_map(_banana, starts[:1])


def _box_target(bounds):
    lo, hi = np.array(bounds).T

    def target(theta):
        inside = np.all((theta >= lo) & (theta <= hi), axis=1)
        return np.where(inside, -0.5 * np.sum(theta ** 2, axis=1), -np.inf)

    return target


def test_initial_ball_names_the_parameter_outside_the_support():
    bounds = [(0.0, 1.0), (0.1, 0.6)]
    rng = np.random.default_rng(0)
    with pytest.raises(SamplingError) as exc:
        initial_ball([0.5, 0.8], 32, rng, _box_target(bounds), names=("alpha", "beta"),
                     support=bounds)
    assert "start point outside the prior support: 'beta' = 0.8 not in [0.1, 0.6]" in str(
        exc.value)
    assert "alpha" not in str(exc.value)
    with pytest.raises(SamplingError, match="pass support="):
        initial_ball([0.5, 0.8], 32, rng, _box_target(bounds), names=("alpha", "beta"))


def test_initial_ball_redraws_walkers_outside_the_support():
    bounds = [(0.0, 1.0), (0.1, 0.6)]
    target = _box_target(bounds)
    ball = initial_ball([0.0, 0.6], 32, np.random.default_rng(1), target, 1e-3)
    assert ball.shape == (32, 2)
    assert np.all(np.isfinite(target(ball)))
    assert len({tuple(r) for r in ball}) == 32
    assert np.all(np.abs(ball - [0.0, 0.6]) < 5e-3)


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------
def test_checkpoint_is_readable_by_emcee_and_has_its_layout(short_checkpoint, tmp_path):
    path, res = short_checkpoint
    backend = emcee.backends.HDFBackend(str(path), read_only=True)
    assert backend.iteration == res.steps and backend.shape == (32, 3)
    np.testing.assert_array_equal(backend.get_chain(), res.chain)
    np.testing.assert_array_equal(backend.get_log_prob(), res.log_prob)
    np.testing.assert_array_equal(backend.get_blobs()["log_likelihood"], res.log_likelihood)
    np.testing.assert_array_equal(backend.accepted / backend.iteration,
                                  res.acceptance_fraction)
    np.random.RandomState().set_state(backend.random_state)  # a usable generator state
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # like any file, not private 0600

    # Same group, attributes, datasets, dtypes and maxshapes as emcee's own writer.
    ref_path = tmp_path / "emcee.h5"
    sampler = emcee.EnsembleSampler(
        32, 3, lambda x: (-0.5 * x @ x, 0.0, -0.5 * x @ x),
        backend=emcee.backends.HDFBackend(str(ref_path)),
        blobs_dtype=[("log_prior", float), ("log_likelihood", float)])
    sampler.run_mcmc(np.random.default_rng(0).normal(size=(32, 3)), 3)

    def layout(p):
        with h5py.File(p, "r") as f:
            g = f["mcmc"]
            return (sorted(g.attrs), {k: (g[k].dtype, g[k].maxshape) for k in g})

    assert layout(path) == layout(ref_path)
    with h5py.File(path, "r") as f:
        assert "tlsbayes" in f and json.loads(f["tlsbayes"].attrs["names"]) == list(NAMES)
        assert all(ds.dtype != object for ds in f["tlsbayes"].values())


def test_resume_after_keyboard_interrupt_is_bit_identical(short_reference, tmp_path, capsys):
    path = tmp_path / "chain.h5"
    p0 = _start(SHORT)
    # 1 call for the initial walkers, then 2 per step (two half-ensembles): interrupt in
    # step 250, after the checkpoints at steps 100 and 200.
    with pytest.raises(KeyboardInterrupt):
        run(Gaussian(interrupt_after=1 + 2 * 250), p0, SHORT, names=NAMES, checkpoint=path)
    err = [line for line in capsys.readouterr().err.splitlines() if "tlsbayes:" in line]
    assert len(err) == 1 and "200 steps" in err[0] and "resume=True" in err[0]
    # no temp files left: the checkpoint and the checksum written with it (atomic.record_checksum)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.h5", "chain.h5.sha256"]

    saved = read_checkpoint(path)
    assert saved.steps == 200
    np.testing.assert_array_equal(saved.chain, short_reference.chain[:200])
    # the checks at steps 50, 100, 150, 200 (convergence.next_check)
    np.testing.assert_array_equal(saved.tau_history, short_reference.tau_history[:4])

    resumed = run(Gaussian(), p0, SHORT, names=NAMES, checkpoint=path, resume=True)
    ref = short_reference
    assert np.array_equal(resumed.chain, ref.chain)
    assert np.array_equal(resumed.log_prob, ref.log_prob)
    assert np.array_equal(resumed.log_prior, ref.log_prior)
    assert np.array_equal(resumed.acceptance_fraction, ref.acceptance_fraction)
    assert np.array_equal(resumed.tau_history, ref.tau_history)
    assert resumed.verdict == ref.verdict


def _start_worker_and_kill(path, log_path, *args, after=0.25):
    """Start the worker, wait for its first checkpoint, SIGKILL it ``after`` s later."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_sampling_worker.py")), str(path),
             *args], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not path.exists():
            assert proc.poll() is None, Path(log_path).read_text()
            assert time.monotonic() < deadline, "no checkpoint within 60 s"
            time.sleep(0.02)
        time.sleep(after)
        assert proc.poll() is None, "worker finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_mid_run_then_resume(tmp_path):
    path = tmp_path / "killed.h5"
    # 2 ms per call: a 100-step chunk lasts >= 0.4 s, so the kill lands inside the run.
    _start_worker_and_kill(path, tmp_path / "worker.log", "--delay", "0.002")

    saved = read_checkpoint(path)
    assert 100 <= saved.steps < worker.KILL_SETTINGS.max_steps and saved.steps % 100 == 0
    np.testing.assert_array_equal(
        emcee.backends.HDFBackend(str(path), read_only=True).get_chain(), saved.chain)

    resumed = worker.run_kill_job(path, resume=True)
    reference = worker.run_kill_job(None)
    np.testing.assert_array_equal(resumed.chain[: saved.steps], saved.chain)
    assert np.array_equal(resumed.chain, reference.chain)
    assert np.array_equal(resumed.log_prob, reference.log_prob)
    assert read_checkpoint(path).steps == reference.steps


def _truncate(src, dst):
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])


def _garbage(src, dst):
    dst.write_bytes(np.random.default_rng(0).bytes(4096))


def _drop_group(src, dst):
    shutil.copy(src, dst)
    with h5py.File(dst, "a") as f:
        del f["tlsbayes"]


def _drop_dataset(src, dst):
    shutil.copy(src, dst)
    with h5py.File(dst, "a") as f:
        del f["mcmc/log_prob"]


@pytest.mark.parametrize("damage, message", [
    (_truncate, "not a readable HDF5 file|unusable"),
    (_garbage, "not a readable HDF5 file"),
    (_drop_group, "group 'tlsbayes' is missing"),
    (_drop_dataset, "missing"),
])
def test_corrupt_checkpoint_is_a_sampling_error_naming_the_file(short_checkpoint, tmp_path,
                                                                damage, message):
    bad = tmp_path / "damaged-checkpoint.h5"
    damage(short_checkpoint[0], bad)
    with pytest.raises(SamplingError, match=message) as exc:
        run(Gaussian(), _start(SHORT), SHORT, names=NAMES, checkpoint=bad, resume=True)
    assert str(bad) in str(exc.value)


def test_incompatible_checkpoint_is_a_sampling_error(short_checkpoint, tmp_path):
    path = short_checkpoint[0]
    two_d = np.random.default_rng(0).normal(size=(32, 2))
    with pytest.raises(SamplingError, match=r"incompatible.*ndim = 3.*ndim = 2") as exc:
        run(lambda t: -0.5 * np.sum(t ** 2, axis=1), two_d, SHORT, checkpoint=path, resume=True)
    assert str(path) in str(exc.value)

    class Shifted(Gaussian):  # same shapes, different posterior (e.g. other data)
        def __call__(self, theta):
            lp, prior, like = super().__call__(theta)
            return lp - 1.0, prior, like - 1.0

    with pytest.raises(SamplingError, match="log-probability at the saved walker positions"):
        run(Shifted(), _start(SHORT), SHORT, names=NAMES, checkpoint=path, resume=True)
    with pytest.raises(SamplingError, match="does not exist"):
        run(Gaussian(), _start(SHORT), SHORT, checkpoint=tmp_path / "nope.h5", resume=True)


@pytest.mark.slow
def test_repeated_sigkill_at_random_moments_never_corrupts_the_checkpoint(tmp_path):
    # A checkpoint every 20 fast steps with a trivial convergence check: rewriting the growing
    # file is most of the worker's time, so most kills land inside a write.  Every kill must
    # leave a complete checkpoint.
    path = tmp_path / "stress.h5"
    delays = np.random.default_rng(0).uniform(0.0, 1.5, size=6)
    for i, after in enumerate(delays):
        path.unlink(missing_ok=True)
        _start_worker_and_kill(path, tmp_path / f"worker{i}.log", "--delay", "0", "--chunk",
                               "20", "--max-steps", "20000", "--fast-checks", after=after)
        saved = read_checkpoint(path)
        assert saved.steps % 20 == 0 and saved.steps >= 20
    interrupted_writes = len(list(tmp_path.glob(".stress.h5.*.tmp")))
    print(f"{interrupted_writes} of {len(delays)} kills hit a checkpoint write")
    # An unreachable ESS target makes both runs stop at the same step cap.
    same = dict(chunk=20, max_steps=saved.steps + 100, target_ess=1e12)
    resumed = worker.run_kill_job(path, resume=True, **same)
    np.testing.assert_array_equal(resumed.chain[: saved.steps], saved.chain)
    assert resumed.steps == saved.steps + 100
    assert np.array_equal(resumed.chain, worker.run_kill_job(None, **same).chain)


def test_checkpoints_wait_checkpoint_seconds_and_resume_bit_for_bit(tmp_path, monkeypatch):
    # Writes at chunk ends only once checkpoint_seconds have passed, always when the run
    # stops.  A fake clock advanced by the log-probability (10 ms per call, 2 calls per step:
    # a 100-step chunk lasts 2 s); a run interrupted after its time-based checkpoint resumes
    # to the uninterrupted chain.
    from tlsbayes.sampling import runner
    from tlsbayes.sampling.checkpoint import AtomicHDFBackend

    now = [0.0]

    class Timed(Gaussian):
        def __call__(self, theta):
            now[0] += 0.01
            return super().__call__(theta)

    written = []
    save = AtomicHDFBackend.save

    def counting(self, **kw):
        written.append(self.iteration)
        save(self, **kw)

    monkeypatch.setattr(AtomicHDFBackend, "save", counting)
    monkeypatch.setattr(runner.time, "perf_counter", lambda: now[0])
    steps = {}
    for seconds in (0, 2.5, 3600):
        written.clear()
        s = dataclasses.replace(SHORT, checkpoint_seconds=seconds)
        res = run(Timed(), _start(s), s, names=NAMES, checkpoint=tmp_path / f"{seconds}.h5")
        steps[seconds] = list(written)
        assert written[-1] == res.steps == 500
    assert steps[0] == [100, 200, 300, 400, 500]
    assert steps[2.5] == [200, 400, 500]
    assert steps[3600] == [500]

    s = dataclasses.replace(SHORT, checkpoint_seconds=2.5)
    ref = run(Timed(), _start(s), s, names=NAMES)
    partial = tmp_path / "partial.h5"
    with pytest.raises(KeyboardInterrupt):  # in step 350: after the checkpoint at 200 only
        run(Timed(interrupt_after=1 + 2 * 350), _start(s), s, names=NAMES, checkpoint=partial)
    assert read_checkpoint(partial).steps == 200
    resumed = run(Timed(), _start(s), s, names=NAMES, checkpoint=partial, resume=True)
    assert np.array_equal(resumed.chain, ref.chain)
    assert np.array_equal(resumed.log_prob, ref.log_prob)
    assert np.array_equal(resumed.tau_history, ref.tau_history)


def test_checks_grow_geometrically_and_meet_every_chunk_of_a_short_run():
    """The checks read the whole chain: at every chunk while it is short (a check costs
    little next to the steps it may save), then 1.25x apart, so that their total cost stays a
    few times the last one's (a check at every chunk all the way made it quadratic)."""
    from tlsbayes.sampling.convergence import CHUNK_CHECKS, is_scheduled, next_check

    steps, seen = 0, []
    while steps < 150_000:
        nxt = next_check(steps, 500, 150_000)
        # within 1.5x of any step s >= 100 at which the rule first holds: the check that
        # follows s comes at most max(1.25 s, s + 50) steps
        assert nxt <= max(1.25 * steps + 1, steps + 50)
        steps = nxt
        seen.append(steps)
    assert seen[:4] == [50, 100, 150, 200]
    assert set(range(500, 500 * CHUNK_CHECKS + 1, 500)) <= set(seen)  # every chunk while short
    long = [s for s in seen if s > 500 * CHUNK_CHECKS]
    assert all(b >= 1.25 * a for a, b in zip(long, long[1:-1]))  # then geometric only
    assert seen[-1] == 150_000 and len(seen) < 45
    assert sum(long) < 6 * seen[-1]  # steps read by the long run's checks: ~5x the last
    # a check at a step cap (here 150 000, 400) is off the schedule a resumed run follows
    assert all(is_scheduled(s, 500) for s in seen[:-1]) and not is_scheduled(150_000, 500)
    assert [s for s in range(1, 520) if is_scheduled(s, 500)] == [50, 100, 150, 200, 250, 313,
                                                                  392, 490, 500]


def test_resume_from_a_checkpoint_between_two_checks_continues_the_same_chain(tmp_path):
    """Past 10 chunks the checks come 1.25x apart, checkpoints at multiples of ``chunk``: with
    chunk 20 a checkpoint at step 300 lies between the checks at 250 and 313.  Resumed from
    it, the run checks at the uninterrupted run's steps and ends with its chain,
    log-probabilities and tau history."""
    s = SamplerSettings(chunk=20, max_steps=700, seed=12, progress=False,
                        checkpoint_seconds=0)
    ref = run(Gaussian(), _start(s), s, names=NAMES)
    partial = tmp_path / "partial.h5"

    class Stop(Gaussian):
        calls = 0

        def __call__(self, theta):
            Stop.calls += 1
            if Stop.calls > 1 + 2 * 305:  # the first call, then two per step: in step 306
                raise KeyboardInterrupt
            return super().__call__(theta)

    with pytest.raises(KeyboardInterrupt):
        run(Stop(), _start(s), s, names=NAMES, checkpoint=partial)
    ck = read_checkpoint(partial)
    assert ck.steps == 300 and list(ck.tau_history_steps)[-1] == 250
    resumed = run(Gaussian(), _start(s), s, names=NAMES, checkpoint=partial, resume=True)
    np.testing.assert_array_equal(resumed.tau_history_steps, ref.tau_history_steps)
    assert np.array_equal(resumed.chain, ref.chain)
    assert np.array_equal(resumed.log_prob, ref.log_prob)
    assert np.array_equal(resumed.tau_history, ref.tau_history)
    assert resumed.steps == ref.steps


@pytest.mark.parametrize("reserve", ["whole", "doubling"])
def test_the_checkpoint_storage_grows_by_doubling_up_to_the_step_cap(reserve, monkeypatch):
    # emcee's grow copies the whole chain at every append; ours reserves max_steps at once
    # when that is small enough, else at least doubles the room, never past max_steps; both
    # keep every stored step
    from tlsbayes.sampling import checkpoint
    from tlsbayes.sampling.checkpoint import AtomicHDFBackend

    # a row: 4 walkers x (2 coordinates + log_prob + 2 blobs) x 8 bytes = 160 bytes
    monkeypatch.setattr(checkpoint, "RESERVE_BYTES", 160_000 if reserve == "whole" else 159_999)
    b = AtomicHDFBackend(None, max_steps=1000)
    b.reset(4, 2)
    dtype = np.dtype([("log_prior", float), ("log_likelihood", float)])
    sizes, chains = [], []
    rng = np.random.default_rng(0)
    for _ in range(9):
        chain = rng.standard_normal((100, 4, 2))
        blobs = np.zeros((100, 4), dtype=dtype)
        blobs["log_prior"] = chain[..., 0]
        b.append_steps(chain, chain[..., 1], blobs, np.ones(4), None)
        sizes.append(len(b.chain))
        chains.append(chain)
    assert sizes == ([1000] * 9 if reserve == "whole" else
                     [100, 200, 400, 400, 800, 800, 800, 800, 1000])
    whole = np.concatenate(chains)
    np.testing.assert_array_equal(b.get_chain(), whole)
    np.testing.assert_array_equal(b.get_log_prob(), whole[..., 1])
    np.testing.assert_array_equal(b.get_blobs()["log_prior"], whole[..., 0])
    assert b.iteration == 900 and np.all(b.accepted == 9)
