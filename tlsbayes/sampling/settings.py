"""Sampler settings: the knobs of a run, validated once, serialisable for provenance."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import SamplingError
from .moves import MOVES

__all__ = ["SamplerSettings", "ensemble_problem", "resolve_names", "ENGINES"]

#: What takes the steps: ``"emcee"`` (its ``EnsembleSampler``), ``"compiled"``
#: (:mod:`tlsbayes.sampling.compiled`: the same steps, draws and chain with compiled moves,
#: for the stretch and DE move sets; other move sets stay on emcee; past
#: ``runner.LOOP_AFTER`` = 10 000 steps as ``"compiled_loop"``) or ``"compiled_loop"`` (the
#: same, and for a one-data-set posterior with a numba kernel whole chunks in one compiled
#: call, :mod:`tlsbayes.sampling.compiled_loop`: ~2x faster steps, but ~4 s of CPU to compile
#: once per install, which a short fit would not pay back).
ENGINES = ("emcee", "compiled", "compiled_loop")


@dataclass(frozen=True)
class SamplerSettings:
    """Knobs of a sampling run; immutable, serialisable for provenance.

    Parameters
    ----------
    nwalkers : int or None
        Ensemble size.  ``None``: ``max(32, 4 * ndim)`` rounded up to an even number.
    chunk : int
        The steps between the moments a checkpoint may be written (see
        ``checkpoint_seconds``); the convergence checks come 1.25x apart whatever it is
        (:func:`tlsbayes.sampling.convergence.next_check`).
    checkpoint_seconds : float
        A checkpoint is written at a multiple of ``chunk`` steps only once at least this many
        seconds (wall clock) have passed since the previous one (or the start of the session),
        and always when the run stops; a kill therefore loses at most ``checkpoint_seconds``
        plus one chunk of sampling.  ``0``: at every multiple of ``chunk``.  Rewriting the
        whole chain costs O(steps) each time: on runs of a few seconds the writes cost a
        fifth of the sampling, and a checkpoint every few seconds is all that resuming needs.
    max_steps : int
        Hard cap on the number of steps (per walker).
    target_ess : float
        Required effective sample size of every parameter.
    tau_rtol : float or None
        Optional: required relative stability of tau between two checks (0.02 = 2 %).
        ``None`` (default): not checked; the length criterion already makes tau reliable, see
        :mod:`tlsbayes.sampling.convergence`.
    tau_factor : float
        Required post-burn-in chain length in units of the largest tau.
    rhat_max : float
        Split R-hat must be below this for every parameter.
    n_groups : int
        Number of walker blocks forming the chains of the split R-hat.
    burn_factor : float
        Burn-in in units of tau (capped at half of the chain), see
        :mod:`tlsbayes.sampling.convergence`.
    moves : {"stretch", "de", "de_jump", "independence"}
        ``"stretch"``: affine-invariant stretch move; ``"de"``: differential evolution
        (:class:`tlsbayes.sampling.moves.DEMove`, vectorised, no snooker: measured not to pay),
        better for strongly curved or multi-modal posteriors; ``"de_jump"``: DE with a fifth
        of the proposals saturation-ridge jumps (:func:`tlsbayes.sampling.moves.ridge_jump`:
        a q_power posterior whose critical scale runs out to its prior edge);
        ``"independence"``: 0.9 independence Metropolis from a Student-t at a given optimum
        and covariance + 0.1 DE (near-Gaussian posteriors such as one S21 trace; the caller
        passes the proposal to :func:`tlsbayes.sampling.runner.run`).
    ball_scale : float
        Radius of the initial ball, relative to ``|theta0|`` (absolute when ``|theta0| < 1``).
    map_starts : int
        Number of prior draws :func:`tlsbayes.sampling.sample` starts the MAP search from.
    seed : int or None
        Seed of the sampler's random stream; ``None`` draws fresh entropy, which
        :func:`~tlsbayes.sampling.runner.run` records in :attr:`SamplerRun.settings` so that
        the run can be repeated.
    progress : bool
        Show a tqdm progress bar on stderr.
    engine : {"compiled", "emcee", "compiled_loop"}
        What takes the steps (:data:`ENGINES`).  Both write the same chain bit for bit and the
        same checkpoint; ``"compiled"`` costs a few µs per step where emcee's own step costs
        ~15 µs per walker, and falls back to emcee for move sets it does not reproduce
        (``"independence"``).
    """

    nwalkers: int | None = None
    chunk: int = 500
    checkpoint_seconds: float = 5.0
    max_steps: int = 50_000
    target_ess: float = 1000.0
    tau_rtol: float | None = None
    tau_factor: float = 50.0
    rhat_max: float = 1.01
    n_groups: int = 4
    burn_factor: float = 5.0
    moves: str = "stretch"
    ball_scale: float = 1.0e-4
    map_starts: int = 8
    seed: int | None = None
    progress: bool = True
    engine: str = "compiled"

    def __post_init__(self):
        def bad(field, value, why):
            raise SamplingError(f"sampler setting {field} = {value!r} is invalid: {why}")

        if self.nwalkers is not None and (not _is_int(self.nwalkers) or self.nwalkers < 2):
            bad("nwalkers", self.nwalkers, "must be an integer >= 2 or None")
        for name in ("chunk", "max_steps", "n_groups", "map_starts"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                bad(name, value, "must be a positive integer")
        for name in ("target_ess", "tau_rtol", "tau_factor", "burn_factor", "ball_scale"):
            value = getattr(self, name)
            if name == "tau_rtol" and value is None:
                continue
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                bad(name, value, "must be a positive finite number")
        if not (isinstance(self.checkpoint_seconds, (int, float))
                and not isinstance(self.checkpoint_seconds, bool)
                and math.isfinite(self.checkpoint_seconds) and self.checkpoint_seconds >= 0):
            bad("checkpoint_seconds", self.checkpoint_seconds,
                "must be a finite number of seconds >= 0")
        if not (isinstance(self.rhat_max, (int, float)) and self.rhat_max > 1.0):
            bad("rhat_max", self.rhat_max, "must be a number > 1")
        if self.moves not in MOVES:
            bad("moves", self.moves, f"choose one of {', '.join(repr(k) for k in MOVES)}")
        if self.engine not in ENGINES:
            bad("engine", self.engine, f"choose one of {', '.join(repr(k) for k in ENGINES)}")
        if self.seed is not None and (not _is_int(self.seed) or self.seed < 0):
            bad("seed", self.seed, "must be a non-negative integer or None")
        if not isinstance(self.progress, bool):
            bad("progress", self.progress, "must be true or false")
        for name in ("nwalkers", "chunk", "max_steps", "n_groups", "map_starts", "seed"):
            # numpy integers would break the JSON written to checkpoints
            if getattr(self, name) is not None:
                object.__setattr__(self, name, int(getattr(self, name)))

    def resolve_nwalkers(self, ndim: int) -> int:
        """Ensemble size for ``ndim`` parameters (the explicit setting, or the default rule)."""
        if self.nwalkers is not None:
            return int(self.nwalkers)
        n = max(32, 4 * int(ndim))
        return n + (n % 2)

    def to_dict(self) -> dict:
        """Plain-JSON dictionary of all settings (for provenance and checkpoints)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SamplerSettings":
        """Inverse of :meth:`to_dict`; unknown keys are rejected."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SamplingError(f"unknown sampler setting(s): {', '.join(unknown)}")
        return cls(**data)


def ensemble_problem(nwalkers: int, ndim: int, n_groups: int) -> str | None:
    """Why ``nwalkers`` walkers cannot sample ``ndim`` parameters, or None if they can."""
    if nwalkers < 2 * ndim:
        return (f"{nwalkers} walkers are too few for {ndim} parameters; emcee's ensemble moves "
                f"need at least {2 * ndim}")
    if nwalkers < n_groups:
        return f"{nwalkers} walkers cannot form n_groups = {n_groups} R-hat chains"
    return None


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def resolve_names(names: Sequence[str] | None, ndim: int) -> tuple[str, ...]:
    """Parameter names as a tuple (``theta[i]`` when not given); checks count and uniqueness."""
    if names is None:
        return tuple(f"theta[{i}]" for i in range(ndim))
    names = tuple(str(n) for n in names)
    if len(names) != ndim:
        raise SamplingError(f"{len(names)} parameter names given for {ndim} parameters: {names}")
    if len(set(names)) != len(names):
        raise SamplingError(f"duplicate parameter names: {names}")
    return names
