"""The run loop: emcee in segments, a convergence check after each, checkpoints at chunk ends.

:func:`run` samples from given walker positions until the gate of
:mod:`tlsbayes.sampling.convergence` passes or ``settings.max_steps`` is reached, writing an
atomic checkpoint (:mod:`tlsbayes.sampling.checkpoint`) at the end of a chunk once
``settings.checkpoint_seconds`` have passed since the last one, and when it stops; ``resume=True``
continues a checkpoint bit for bit.  :func:`sampler_floor` times emcee itself with a
log-probability that costs nothing (the floor of ``tlsbayes bench``).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import SamplingError
from . import convergence
# The convergence check's numerics (numba, scipy.fft, scipy.special, ~0.13 s): every run
# checks, so they are imported with the sampler, a fixed cost of the process, rather than
# by its first check (convergence imports them lazily for readers of its verdicts only).
from . import diagnostics  # noqa: F401
from .emcee_import import emcee
from .checkpoint import AtomicHDFBackend, Checkpoint, read_checkpoint
from .compiled import CompiledStepper, move_spec
from .compiled_target import FastLogProb, fast_log_prob
from .logprob import LogProbAdapter, split_output
from .moves import build_moves
from .settings import SamplerSettings, ensemble_problem, resolve_names

__all__ = ["SamplerRun", "load_loop", "run", "sampler_floor"]


@dataclass(frozen=True, eq=False)
class SamplerRun:
    """Everything a sampling run produced.

    Attributes
    ----------
    chain : ndarray, shape (nsteps, nwalkers, ndim)
        Full chain including burn-in, sampling coordinates.
    log_prob : ndarray, shape (nsteps, nwalkers)
    blobs : dict of str -> ndarray, shape (nsteps, nwalkers)
        Extra per-sample values (``log_prior``, ``log_likelihood``); empty if the
        log-probability function returned none.
    acceptance_fraction : ndarray, shape (nwalkers,)
    tau : ndarray, shape (ndim,)
        Integrated autocorrelation time (steps) on the post-burn-in chain at the last check.
    tau_history : ndarray, shape (nchecks, ndim)
    tau_history_steps : ndarray, shape (nchecks,)
        Chain length at each check.
    burn_in : int
        Steps to discard (the rule is in :mod:`tlsbayes.sampling.convergence`).
    thin : int
        Suggested thinning, ``max(1, floor(min(tau) / 2))``.
    ess : ndarray, shape (ndim,)
        Effective sample size (the smaller of the bulk ESS and ``nwalkers * n_post / tau``).
    rhat : ndarray, shape (ndim,)
        Rank-normalised split R-hat over the walker blocks.
    converged : bool
    verdict : str
        Human-readable summary; names the failed criteria and parameters if not converged.
    steps : int
    wall_time : float
        Seconds spent sampling, summed over resumed sessions.
    settings : SamplerSettings
        Settings actually used (``nwalkers`` and ``seed`` filled in).
    names : tuple of str
    """

    chain: np.ndarray
    log_prob: np.ndarray
    blobs: dict
    acceptance_fraction: np.ndarray
    tau: np.ndarray
    tau_history: np.ndarray
    tau_history_steps: np.ndarray
    burn_in: int
    thin: int
    ess: np.ndarray
    rhat: np.ndarray
    converged: bool
    verdict: str
    steps: int
    wall_time: float
    settings: SamplerSettings
    names: tuple[str, ...]

    @property
    def log_prior(self) -> np.ndarray | None:
        """Log-prior per sample, shape (nsteps, nwalkers), or ``None``."""
        return self.blobs.get("log_prior")

    @property
    def log_likelihood(self) -> np.ndarray | None:
        """Log-likelihood per sample, shape (nsteps, nwalkers), or ``None``."""
        return self.blobs.get("log_likelihood")

    def samples(self, thin: int | None = None) -> np.ndarray:
        """Post-burn-in draws in ArviZ layout, each walker a chain.

        Parameters
        ----------
        thin : int, optional
            Keep every ``thin``-th step; default :attr:`thin`.  Use 1 for moment estimates.

        Returns
        -------
        ndarray, shape (nwalkers, ndraws, ndim)
        """
        thin = self.thin if thin is None else int(thin)
        return np.ascontiguousarray(self.chain[self.burn_in::thin].transpose(1, 0, 2))

    def sample_stats(self, thin: int | None = None) -> dict[str, np.ndarray]:
        """Post-burn-in ``log_prob`` and blobs, each of shape (nwalkers, ndraws)."""
        thin = self.thin if thin is None else int(thin)
        out = {"log_prob": self.log_prob}
        out.update(self.blobs)
        return {k: np.ascontiguousarray(v[self.burn_in::thin].T) for k, v in out.items()}


def _check_resumable(ck: Checkpoint, nwalkers, ndim, names, names_given, blob_names,
                     settings: SamplerSettings) -> tuple[str, ...]:
    def incompatible(what):
        return SamplingError(f"checkpoint '{ck.path}' is incompatible with this run: {what}")

    if (ck.nwalkers, ck.ndim) != (nwalkers, ndim):
        raise incompatible(f"it has nwalkers = {ck.nwalkers}, ndim = {ck.ndim}; the run has "
                           f"nwalkers = {nwalkers}, ndim = {ndim}")
    if names_given and tuple(names) != ck.names:
        raise incompatible(f"parameter names {ck.names} != {tuple(names)}")
    if ck.blobs is not None and ck.blob_names != tuple(blob_names):
        raise incompatible(f"blob names {ck.blob_names} != {tuple(blob_names)}")
    saved_moves = ck.settings.get("moves")
    if saved_moves != settings.moves:
        raise incompatible(f"it was sampled with moves '{saved_moves}', this run asks for "
                           f"'{settings.moves}'")
    return ck.names


def run(
    log_prob_vec: Callable,
    p0,
    settings: SamplerSettings,
    *,
    checkpoint=None,
    names: Sequence[str] | None = None,
    resume: bool = False,
    blob_names: Sequence[str] = ("log_prior", "log_likelihood"),
    proposal=None,
) -> SamplerRun:
    """Run emcee in chunks until converged or ``settings.max_steps``.

    Parameters
    ----------
    log_prob_vec : callable
        ``log_prob_vec(theta)`` with ``theta`` of shape ``(n, ndim)`` (``n <= nwalkers``;
        emcee updates half of the ensemble at a time) returning either ``log_prob`` of shape
        ``(n,)`` or a tuple ``(log_prob, *blobs)`` of such arrays, one per ``blob_names``.
        ``-inf`` marks impossible points; NaN is an error.
    p0 : array_like, shape (nwalkers, ndim)
        Initial walker positions (see :func:`tlsbayes.sampling.start.initial_ball`).  When
        resuming only its shape is used.
    settings : SamplerSettings
    checkpoint : str or path-like, optional
        HDF5 file rewritten atomically at the end of a chunk (at most every
        ``settings.checkpoint_seconds``) and when the run stops.
    names : sequence of str, optional
        Parameter names (messages, checkpoint).
    resume : bool
        Continue from ``checkpoint``: chain, walker positions, acceptance counts and the random
        state are restored, so the final chain is bit-identical to an uninterrupted run.
    blob_names : sequence of str
        Names of the extra arrays returned by ``log_prob_vec``.
    proposal : tuple (mean, cov), optional
        Proposal of the ``"independence"`` move set (mean of shape ``(ndim,)``, covariance
        ``(ndim, ndim)`` in sampling coordinates); ignored by the other move sets.

    Returns
    -------
    SamplerRun

    Raises
    ------
    SamplingError
        Bad ``p0`` (wrong shape, non-finite log-probability, degenerate ensemble), NaN
        log-probability, missing/corrupt/incompatible checkpoint.
    KeyboardInterrupt
        Re-raised after printing how to resume; the last checkpoint stays intact.

    Notes
    -----
    The random stream of emcee (a legacy ``RandomState``) is seeded from
    ``numpy.random.SeedSequence(settings.seed).spawn(1)[0]``, so it is independent of a
    ``default_rng(settings.seed)`` used by the caller for starts and the initial ball.
    """
    p0 = np.array(p0, dtype=float)
    if p0.ndim != 2:
        raise SamplingError(f"p0 must have shape (nwalkers, ndim), got {p0.shape}")
    nwalkers, ndim = p0.shape
    names_given = names is not None
    names = resolve_names(names, ndim)
    blob_names = tuple(blob_names)
    if settings.nwalkers is not None and settings.nwalkers != nwalkers:
        raise SamplingError(f"p0 has {nwalkers} walkers but settings.nwalkers = "
                            f"{settings.nwalkers}")
    problem = ensemble_problem(nwalkers, ndim, settings.n_groups)
    if problem:
        raise SamplingError(problem)
    if resume and checkpoint is None:
        raise SamplingError("resume=True needs a checkpoint file")
    checkpoint = None if checkpoint is None else Path(checkpoint)

    ck = read_checkpoint(checkpoint) if resume else None
    if ck is not None:
        names = _check_resumable(ck, nwalkers, ndim, names, names_given, blob_names, settings)
    settings = _settings_used(settings, nwalkers, ck)
    session = _Session(log_prob_vec, settings, names, blob_names, checkpoint, ck, ndim,
                       proposal)
    return session.run(p0)


def _settings_used(settings: SamplerSettings, nwalkers: int, ck) -> SamplerSettings:
    """``settings`` with ``nwalkers`` and ``seed`` filled in: the seed that started a resumed
    run, or fresh entropy when none was given (recorded so that the run can be repeated)."""
    if ck is not None:
        # The stream continues from the saved state; record the seed that started it.
        return dataclasses.replace(settings, nwalkers=nwalkers,
                                   seed=ck.settings.get("seed", settings.seed))
    seed = settings.seed
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    return dataclasses.replace(settings, nwalkers=nwalkers, seed=seed)


class _Session:
    """One sampling session: the emcee sampler on a checkpointing backend, the convergence
    history, and the chunk loop of :func:`run`."""

    def __init__(self, log_prob_vec, settings, names, blob_names, checkpoint, ck, ndim,
                 proposal=None):
        self.settings, self.names, self.blob_names = settings, names, blob_names
        self.checkpoint, self.ck, self.ndim = checkpoint, ck, ndim
        if settings.engine != "emcee":
            # the same values, the glue compiled (tlsbayes.sampling.compiled_target)
            log_prob_vec = fast_log_prob(log_prob_vec) or log_prob_vec
        self.adapter = LogProbAdapter(log_prob_vec, blob_names, names)
        self.backend = AtomicHDFBackend(checkpoint, max_steps=settings.max_steps)
        if ck is not None:
            self.backend.restore(ck)
        moves = build_moves(settings.moves, proposal)
        self.sampler = emcee.EnsembleSampler(
            settings.nwalkers, ndim, self.adapter, moves=moves,
            backend=self.backend, vectorize=True, blobs_dtype=self.adapter.blobs_dtype,
        )
        self.stepper = _compiled_stepper(settings, moves, self.adapter)
        self.steps = 0 if ck is None else ck.steps
        self.saved = self.steps
        self.tau_hist, self.tau_steps, self.wall_before, self.diag = [], [], 0.0, None
        self.t0 = self.t_saved = time.perf_counter()

    def run(self, p0) -> SamplerRun:
        bar = None
        try:
            state = self._initial_state(p0)
            bar = _progress_bar(self.settings, self.steps)
            while self.steps < self.settings.max_steps and (self.diag is None
                                                            or self.diag.failures):
                state = self._chunk(state, bar)
        except KeyboardInterrupt:
            if bar is not None:
                bar.close()  # so that the message starts on a clean line
            self._say_interrupted()
            raise
        finally:
            if bar is not None:
                bar.close()
        return self._result()

    def _initial_state(self, p0):
        ck, settings = self.ck, self.settings
        if ck is None:
            return _first_state(self.sampler, self.adapter, p0, settings.seed)
        state = self.backend.get_last_sample()
        _check_same_posterior(self.adapter, state, self.checkpoint)
        self.tau_hist = list(ck.tau_history)
        self.tau_steps = [int(s) for s in ck.tau_history_steps]
        self.wall_before = ck.wall_time
        if self.tau_steps and self.tau_steps[-1] == self.steps or self.steps >= settings.max_steps:
            # Written at a check: repeat it, so that a run that had already converged stops
            # here, exactly where the uninterrupted run stopped.  (A checkpoint written
            # between two checks is of a run that had not stopped: sampling goes on to the
            # next check of the uninterrupted run.)
            self.diag = convergence.diagnose(
                self.backend.get_chain(),
                self.tau_hist[-2] if len(self.tau_hist) > 1 else None,
                settings, self.names, full=self.steps >= settings.max_steps)
            if (self.diag.failures and self.steps < settings.max_steps
                    and not convergence.is_scheduled(self.steps, settings.chunk)):
                # A check made only because an earlier step cap was reached here: not one
                # of the uninterrupted run's, whose checks (and tau_prev) the run now follows.
                self.tau_hist.pop()
                self.tau_steps.pop()
                self.diag = None
        return state

    def _chunk(self, state, bar):
        """Sample to the next check (:func:`tlsbayes.sampling.convergence.next_check` of the
        last one), in pieces that end at multiples of ``chunk``, where a checkpoint is written
        once ``checkpoint_seconds`` have passed; check convergence, write the checkpoint if due
        or if the run stops; the last state."""
        settings = self.settings
        last = self.tau_steps[-1] if self.tau_steps else 0
        target = convergence.next_check(last, settings.chunk, settings.max_steps)
        while self.steps < target:
            n = min(target, (self.steps // settings.chunk + 1) * settings.chunk) - self.steps
            state = self._steps(state, n, bar)
            if self.steps < target and self._checkpoint_due():
                self._save()
        diag = convergence.diagnose(self.backend.get_chain(),
                                    self.tau_hist[-1] if self.tau_hist else None,
                                    settings, self.names, full=self.steps >= settings.max_steps)
        self.diag = diag
        self.tau_hist.append(diag.tau)
        self.tau_steps.append(self.steps)
        rh = np.max(diag.rhat)
        bar.set_postfix(tau=f"{np.max(diag.tau):.3g}", ess=f"{np.min(diag.ess):.0f}",
                        rhat="-" if np.isnan(rh) else f"{rh:.3f}", refresh=False)
        stops = not diag.failures or self.steps >= settings.max_steps
        if stops or self._checkpoint_due():
            self._save()
        return state

    def _steps(self, state, n, bar):
        """``n`` steps by the compiled stepper or emcee's own loop; the last state."""
        if self.stepper is not None:
            state = self._compiled_steps(state, n, bar)
        else:
            for state in self.sampler.sample(state, iterations=n,
                                             skip_initial_state_check=True):
                self.adapter.raise_pending()
                bar.update(1)
        self.steps += n
        return state

    def _checkpoint_due(self) -> bool:
        """At a multiple of ``chunk`` once ``checkpoint_seconds`` have passed since the last
        write: any step is a resume point (the checks made so far are recorded with it)."""
        return (self.checkpoint is not None and self.steps % self.settings.chunk == 0
                and time.perf_counter() - self.t_saved >= self.settings.checkpoint_seconds)

    def _save(self) -> None:
        if self.checkpoint is None:
            return
        self.backend.save(names=self.names, blob_names=self.blob_names, settings=self.settings,
                          tau_history=self.tau_hist, tau_history_steps=self.tau_steps,
                          wall_time=self.wall_before + time.perf_counter() - self.t0)
        self.saved = self.steps
        self.t_saved = time.perf_counter()

    def _compiled_steps(self, state, n, bar):
        """``n`` steps on the compiled path, stored in the backend as emcee stores them; the
        last state (an ``emcee.State``, so that either path can take the next chunk)."""
        random = np.random.RandomState()
        random.set_state(state.random_state)
        coords = np.array(state.coords, dtype=float)
        log_prob = np.array(state.log_prob, dtype=float)
        fields = self.adapter.blob_names if state.blobs is not None else ()
        blobs = (np.stack([state.blobs[k] for k in fields], axis=1) if fields
                 else np.empty((coords.shape[0], 0)))
        if (self.settings.engine == "compiled_loop" or self.steps >= LOOP_AFTER
                or _loop_loaded()):
            self.stepper.take_loop()
        chain, log_probs, blob_chain, accepted = self.stepper.run(
            coords, log_prob, blobs, random, n, on_step=lambda: bar.update(1))
        structured = last = None
        if fields:
            structured = np.empty(blob_chain.shape[:2], dtype=self.adapter.blobs_dtype)
            for k, name in enumerate(fields):
                structured[name] = blob_chain[..., k]
            last = structured[-1].copy()
        random_state = random.get_state(legacy=True)
        self.backend.append_steps(chain, log_probs, structured, accepted, random_state)
        return emcee.State(coords, log_prob=log_prob, blobs=last, random_state=random_state)

    def _say_interrupted(self) -> None:
        checkpoint, saved = self.checkpoint, self.saved
        if checkpoint is not None and saved:
            print(f"tlsbayes: interrupted; checkpoint '{checkpoint}' holds {saved} steps, "
                  f"continue with run(..., checkpoint='{checkpoint}', resume=True)",
                  file=sys.stderr)
        else:
            print("tlsbayes: interrupted before the first checkpoint; nothing to resume",
                  file=sys.stderr)

    def _result(self) -> SamplerRun:
        backend, diag, steps = self.backend, self.diag, self.steps
        blobs = {}
        if backend.has_blobs():
            raw = backend.blobs[:steps]
            blobs = {name: np.array(raw[name]) for name in raw.dtype.names}
        return SamplerRun(
            chain=np.array(backend.chain[:steps]),
            log_prob=np.array(backend.log_prob[:steps]),
            blobs=blobs,
            acceptance_fraction=backend.accepted / float(steps),
            tau=diag.tau,
            tau_history=np.asarray(self.tau_hist, dtype=float).reshape(-1, self.ndim),
            tau_history_steps=np.asarray(self.tau_steps, dtype=np.int64),
            burn_in=diag.burn_in,
            thin=diag.thin,
            ess=diag.ess,
            rhat=diag.rhat,
            converged=not diag.failures,
            verdict=convergence.verdict(diag, steps, self.settings, self.names),
            steps=steps,
            wall_time=self.wall_before + time.perf_counter() - self.t0,
            settings=self.settings,
            names=self.names,
        )


#: On the ``"compiled"`` engine, a run longer than this many steps takes its further chunks
#: in one compiled call each (on ``"compiled_loop"``, every chunk;
#: :mod:`tlsbayes.sampling.compiled_loop`, the same chain bit for bit): the loop costs ~4 s of
#: compiling once per install, which a short fit on an empty cache should not wait for, and
#: halves a long run's sampling (the Ta curve SGS1_5.68GHz of cooldown 4, 113 719 steps:
#: 6.3 -> 4.0 s CPU).  Once a process has loaded it (0.02-0.03 s from the cache, after numba's
#: own start-up; :func:`load_loop`), every run takes it at once (:func:`_loop_loaded`).
LOOP_AFTER = 10_000


class _NoBar:
    """What the run loop calls on a progress bar, doing nothing (``progress`` off)."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(settings: SamplerSettings, steps: int):
    """tqdm's bar on stderr, imported only when shown (a batch worker never shows one)."""
    if not settings.progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=settings.max_steps, initial=steps, unit="step", desc="sampling",
                dynamic_ncols=True)


def load_loop() -> None:
    """Load the compiled loop now (compiling it into the cache if it is not there, ~4 s once
    per install), so that every later run of this process takes it from its first chunk.

    For a process that runs many fits (a batch worker): loading it from the cache costs
    0.02-0.03 s, less than the stepper's first 10 000 steps cost more than the loop's
    (0.2-0.3 s of CPU on the Ta curves).  A single fit does not call it: on a cold cache a short run
    would wait for the compile.  The chain is the same either way.
    """
    from . import compiled_loop  # noqa: F401 - importing it compiles or loads the loop


def _loop_loaded() -> bool:
    """Whether this process has loaded the compiled loop (a batch worker, by
    :func:`load_loop`; a process after its first long run): then a run takes it from its
    first chunk (a step in the loop costs a fifth of one of the stepper's on the Ta curves)."""
    return f"{__package__}.compiled_loop" in sys.modules


def _compiled_stepper(settings: SamplerSettings, moves, adapter) -> CompiledStepper | None:
    """The compiled stepper of ``moves`` when ``settings.engine`` asks for it and it knows
    every move (else ``None``: emcee takes the steps)."""
    if settings.engine not in ("compiled", "compiled_loop"):
        return None
    spec = move_spec(moves)
    if spec is None:
        return None

    def evaluate(q):
        log_prob, blobs = adapter.arrays(q)
        # contiguous: one compiled specialisation of compiled.advance serves every target
        return (np.ascontiguousarray(log_prob),
                np.stack(blobs, axis=1) if blobs else np.empty((q.shape[0], 0)))

    if isinstance(adapter.fn, FastLogProb) and adapter.blob_names == FastLogProb.BLOB_NAMES:
        # already validated (never NaN, blobs in a matrix); one data set: whole chunks compiled
        def loop():
            from .compiled_loop import chunk_runner  # its loop: ~4 s to compile, once

            return chunk_runner(adapter.fn)

        return CompiledStepper(*spec, adapter.fn.matrix, loop=loop)
    return CompiledStepper(*spec, evaluate)


def _first_state(sampler, adapter, p0, seed) -> "emcee.State":
    """Validate ``p0`` and build the starting State with the seeded random stream."""
    nwalkers = p0.shape[0]
    if not emcee.walkers_independent(p0):
        raise SamplingError("the initial walkers are not linearly independent (identical or "
                            "collinear points); draw them with initial_ball()")
    log_prob0, blobs0 = sampler.compute_log_prob(p0)
    adapter.raise_pending()
    bad = ~np.isfinite(log_prob0)
    if bad.any():
        raise SamplingError(f"{int(bad.sum())} of {nwalkers} initial walkers have a non-finite "
                            "log-probability; draw them with initial_ball()")
    stream = np.random.RandomState(np.random.MT19937(np.random.SeedSequence(seed).spawn(1)[0]))
    return emcee.State(p0, log_prob=log_prob0, blobs=blobs0,
                       random_state=stream.get_state(legacy=True))


def _check_same_posterior(adapter, state, checkpoint) -> None:
    # Resuming with another model, prior or data set would silently splice two posteriors.
    log_prob, _ = split_output(adapter.fn(np.array(state.coords)), state.coords.shape[0],
                                adapter.blob_names)
    if not np.allclose(log_prob, state.log_prob, rtol=1e-9, atol=1e-9, equal_nan=True):
        raise SamplingError(
            f"checkpoint '{checkpoint}' is incompatible with this run: the log-probability at "
            "the saved walker positions differs from the stored one (different model, priors "
            "or data?)")


def sampler_floor(nwalkers: int, ndim: int, steps: int, *, seed: int = 0,
                  moves: str = "stretch", proposal=None) -> float:
    """Seconds emcee itself needs for ``steps`` steps with a trivial log-probability.

    The same ensemble size, dimension, move set (its ``proposal`` as for :func:`run`),
    vectorisation and blob layout as :func:`run`, but a log-probability that costs nothing:
    the sampler's own floor, against which the cost of a real likelihood is measured
    (``tlsbayes bench``).
    """
    dtype = [("log_prior", np.float64), ("log_likelihood", np.float64)]

    def trivial(theta):
        lp = -0.5 * np.einsum("ij,ij->i", theta, theta)
        return [(v, 0.0, v) for v in lp]

    sampler = emcee.EnsembleSampler(nwalkers, ndim, trivial, vectorize=True,
                                    moves=build_moves(moves, proposal), blobs_dtype=dtype)
    p0 = np.random.default_rng(seed).normal(size=(nwalkers, ndim))
    t0 = time.perf_counter()
    sampler.run_mcmc(p0, steps, progress=False)
    return time.perf_counter() - t0
