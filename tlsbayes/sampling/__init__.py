"""MCMC sampling: MAP start, convergence-gated emcee runs, atomic HDF5 checkpoints.

The only package of tlsbayes that imports :mod:`emcee` (through :mod:`.emcee_import`).  It knows nothing about physics: it is
handed a *vectorised* log-probability (:mod:`tlsbayes.sampling.logprob`) and returns chains.

One entry point, :func:`sample`, does MAP -> ball -> run for every pipeline (fit, population,
calibration, bench)::

    sampled = sample(posterior, settings, rng=np.random.default_rng(settings.seed),
                     checkpoint="run/checkpoint.h5")
    sampled.map.theta, sampled.p0, sampled.run.chain

Rooms
-----
settings      :class:`SamplerSettings`, the knobs of a run
moves         the emcee move sets a setting may name
logprob       the vectorised log-probability convention and its emcee adapter
start         :func:`find_map`, :func:`initial_ball`, :func:`support_bounds`
diagnostics   tau, rank-normalised split R-hat, bulk ESS on plain arrays
convergence   the gate, checked 1.25x apart (the rule is written there)
checkpoint    :class:`AtomicHDFBackend` (an emcee backend writing HDF5 atomically)
checkpoint_file  :func:`read_checkpoint` (h5py only)
emcee_import  emcee, imported without scipy.stats (its unused KDE move's import)
runner        :func:`run`, the chunk loop; :func:`sampler_floor` for ``tlsbayes bench``
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..lazy import lazy_getattr
from .moves import MOVES
from .settings import SamplerSettings, ensemble_problem

if TYPE_CHECKING:
    from .runner import SamplerRun
    from .start import MapResult

# Imported on first use (PEP 562): emcee (runner, checkpoint) and scipy.optimize (start) take
# seconds to import, and ``tlsbayes check`` or ``models`` need only the settings.
_LAZY = {
    "Checkpoint": "checkpoint_file", "read_checkpoint": "checkpoint_file",
    "SamplerRun": "runner", "run": "runner", "sampler_floor": "runner", "load_loop": "runner",
    "MapResult": "start", "MapStart": "start", "find_map": "start",
    "initial_ball": "start", "support_bounds": "start",
}


def _load(owner):
    if owner == "checkpoint_file":  # h5py only: no emcee for a look at a checkpoint
        from . import checkpoint_file as module
    elif owner == "runner":
        from . import runner as module
    else:
        from . import start as module
    return module


__getattr__ = lazy_getattr(__name__, _LAZY, globals(), _load)

__all__ = [
    "Sampled",
    "sample",
    "SamplerSettings",
    "MapResult",
    "MapStart",
    "SamplerRun",
    "Checkpoint",
    "find_map",
    "initial_ball",
    "support_bounds",
    "run",
    "read_checkpoint",
    "sampler_floor",
    "load_loop",
    "move_proposal",
    "ensemble_problem",
    "MOVES",
]


@dataclass(frozen=True, eq=False)
class Sampled:
    """What :func:`sample` produced.

    Attributes
    ----------
    map : MapResult
        Best point of the multi-start optimisation (sampling coordinates).
    p0 : ndarray, shape (nwalkers, ndim)
        Initial walker positions, a small ball around ``map.theta``.
    run : SamplerRun
        The convergence-gated chain.
    map_seconds, run_seconds : float
        Wall time of the MAP search and of the run (ball excluded).
    """

    map: MapResult
    p0: np.ndarray
    run: SamplerRun
    map_seconds: float
    run_seconds: float


def sample(target, settings: SamplerSettings, *, rng: np.random.Generator, starts=None,
           support=None, checkpoint=None, resume: bool = False,
           on_map: Callable[[MapResult], None] | None = None) -> Sampled:
    """MAP -> initial ball -> convergence-gated run, the one way tlsbayes samples.

    Random draws, in this order: ``settings.map_starts`` prior draws from ``rng`` (unless
    ``starts`` is given), then the ball from ``rng``; emcee's own stream is seeded from
    ``settings.seed`` (see :func:`tlsbayes.sampling.runner.run`).  The MAP search draws nothing.

    Parameters
    ----------
    target : object
        ``target.log_prob(theta)``: vectorised log-probability, ``theta`` of shape
        ``(n, ndim)`` -> ``(log_prob, log_prior, log_likelihood)``, each of shape ``(n,)``;
        ``target.free_names``: the ``ndim`` parameter names; ``target.priors`` (a PriorSet,
        used for the default ``starts`` and ``support``) unless both are given.
    settings : SamplerSettings
        ``map_starts``, ``ball_scale`` and every knob of the run.
    rng : numpy.random.Generator
        Stream of the MAP starts and of the ball.
    starts : array_like, shape (n_starts, ndim), optional
        MAP starting points; default ``target.priors.sample(settings.map_starts, rng)``.
    support : sequence of (low, high), optional
        Prior support in sampling coordinates, for messages about an impossible start;
        default :func:`support_bounds` of ``target.priors``.
    checkpoint : path-like, optional
        Checkpoint file of the run (see :mod:`tlsbayes.sampling.checkpoint`).
    resume : bool
        Continue the run from ``checkpoint`` (the MAP and the ball are still drawn, so that
        the random streams stay where an uninterrupted run has them; ``p0`` then only fixes
        the ensemble's shape).
    on_map : callable, optional
        Called with the :class:`MapResult` before the run starts (e.g. to print it).

    Returns
    -------
    Sampled
    """
    from .runner import run
    from .start import find_map, initial_ball, support_bounds

    names = tuple(target.free_names)
    log_prob = target.log_prob
    proposal = move_proposal(target, settings.moves)  # before the search: a refusal is quick
    if starts is None:
        starts = target.priors.sample(settings.map_starts, rng)
    if support is None and hasattr(target, "priors"):
        support = support_bounds(target.priors)

    t0 = time.perf_counter()
    best = find_map(log_prob, starts, names=names, bounds=support)
    map_seconds = time.perf_counter() - t0
    if on_map is not None:
        on_map(best)
    p0 = initial_ball(best.theta, settings.resolve_nwalkers(len(names)), rng, log_prob,
                      settings.ball_scale, names=names, support=support)
    t0 = time.perf_counter()
    chain = run(log_prob, p0, settings, checkpoint=checkpoint, names=names, resume=resume,
                proposal=proposal)
    return Sampled(best, p0, chain, map_seconds, time.perf_counter() - t0)


def move_proposal(target, moves: str):
    """What the move set ``moves`` needs from the posterior ``target``, for :func:`run` and
    :func:`sampler_floor`: the saturation ridge's axes for ``"de_jump"``
    (``target.saturation_ridge()``, declared by the model), else None.

    Raises
    ------
    SamplingError
        ``"de_jump"`` for a posterior without a saturation ridge.
    """
    from ..errors import SamplingError, TLSBayesError

    if moves != "de_jump":
        return None
    try:
        return target.saturation_ridge()
    except (AttributeError, TLSBayesError) as exc:
        raise SamplingError(str(exc) if isinstance(exc, TLSBayesError) else
                            "moves 'de_jump' need a posterior with a saturation ridge") from None
