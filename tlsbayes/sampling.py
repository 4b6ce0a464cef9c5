"""MCMC sampling: MAP start, convergence-gated emcee runs, atomic HDF5 checkpoints.

This is the only module of tlsbayes that imports :mod:`emcee`.  It knows nothing about physics:
it is handed a *vectorised* log-probability ``log_prob_vec(theta)`` where ``theta`` has shape
``(n, ndim)`` in sampling coordinates, and returns either the log-probability, shape ``(n,)``,
or a tuple ``(log_prob, log_prior, log_likelihood)`` of such arrays.

Typical use::

    settings = SamplerSettings(seed=1)
    best = find_map(log_prob_one, starts, names=names)           # starts drawn from the prior
    p0 = initial_ball(best.theta, settings.resolve_nwalkers(ndim),
                      np.random.default_rng(settings.seed), log_prob_vec,
                      settings.ball_scale, names=names, support=bounds)
    result = run(log_prob_vec, p0, settings, checkpoint="run/chain.h5", names=names)

Convergence rule (checked every ``settings.chunk`` steps, all conditions for every parameter)
----------------------------------------------------------------------------------------------
Let ``n`` be the number of steps so far and ``tau`` the integrated autocorrelation time.

* **Burn-in.**  ``min(n // 2, ceil(burn_factor * max(tau_prev)))`` steps, where ``tau_prev``
  is the estimate of the previous check (half the chain at the first check, which cannot pass
  anyway for want of a previous estimate); ``burn_factor = 5`` by default.  It is moved by one
  step where needed to leave an even number of steps (so that R-hat and ESS share one sort,
  :func:`tlsbayes.diagnostics.rank_diagnostics`).  The walkers start in a tiny ball at the MAP
  and the memory of that start decays roughly like ``exp(-t / tau)``; after 5 tau the
  residual bias is below 1 % of the initial offset, smaller than the Monte-Carlo error at the
  target ESS.  Whenever the run can pass, ``tau_prev`` agrees with ``tau`` to ``tau_rtol``
  (the stability test below), so the burn-in is 5 of the final tau.  Never discarding more
  than half keeps the rule from chasing a noisy tau estimate; when the cap binds the
  chain-length test fails anyway.  ``tau`` is then estimated on the post-burn-in chain and used
  everywhere below.
* **tau stable**: ``|tau - tau_prev| / tau < tau_rtol`` (the previous check's estimate).
* **long enough**: post-burn-in steps ``>= tau_factor * max(tau)``.
* **split R-hat** (rank-normalised, :func:`tlsbayes.diagnostics.split_rhat`, equal to
  ArviZ's ``rhat(method="rank")``) ``< rhat_max``.  The walkers are cut into ``n_groups``
  blocks of consecutive walker indices; each block is one chain, its draws ordered step by
  step (all walkers of the block at step 1, then at step 2, ...).  Every chain is split in
  half *in time*, so the statistic compares early against late (non-stationarity) and block
  against block (walkers stuck in different modes).  Why blocks rather than one chain per
  walker: R-hat**2 is approximately ``1 + m / ESS`` for ``m`` split chains, so with 32
  walkers (64 split chains) R-hat < 1.01 would need ESS > 3000, whereas 4 blocks (8 split
  chains) reach 1.01 near ESS ~ 400, consistent with ``target_ess``.  Walkers left over when
  ``nwalkers`` is not a multiple of ``n_groups`` (at most ``n_groups - 1``) are left out of
  R-hat only.
* **ESS** ``>= target_ess``, taking the smaller of the bulk ESS (each walker one chain,
  which ignores the coupling between walkers of an ensemble sampler) and
  ``nwalkers * n_post / tau`` (emcee's estimate).

Checkpoint file (HDF5, written atomically at the end of every chunk)
---------------------------------------------------------------------
* group ``mcmc``: exactly the layout of :class:`emcee.backends.HDFBackend` (datasets
  ``chain``, ``log_prob``, ``accepted``, ``blobs`` (compound, one field per blob name);
  attributes ``version``, ``nwalkers``, ``ndim``, ``has_blobs``, ``iteration``,
  ``random_state_0..4``), so ``emcee.backends.HDFBackend(path, read_only=True)`` reads it.
* group ``tlsbayes``: attributes ``format_version``, ``steps``, ``wall_time``, ``settings``,
  ``names`` and ``blob_names`` (JSON text); datasets ``rng_key`` (MT19937 key, with the rest of
  the generator state as its attributes), ``tau_history`` ``(nchecks, ndim)`` and
  ``tau_history_steps`` ``(nchecks,)``.  Plain datasets and attributes only, never pickle.

The file is written to a temporary file in the same directory, fsync'ed and moved over the
previous checkpoint with :func:`os.replace`, so a SIGKILL at any moment leaves either the old or
the new complete checkpoint (plus, if the kill hit a write, a hidden
``.<name>.<pid>.<hex>.tmp`` that is safe to delete).  Rewriting the whole chain every chunk costs O(steps) I/O per
chunk; for the chain sizes of this project (<= 50 000 x 64 x 10 doubles) that is seconds at
most, and it is what makes the replace atomic.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import emcee
import h5py
import numpy as np
from scipy import optimize
from tqdm import tqdm

from .atomic import fsync_directory as _fsync_directory
from .atomic import record_checksum
from .diagnostics import ess_bulk, integrated_time, rank_diagnostics
from .errors import SamplingError

__all__ = [
    "SamplerSettings",
    "MapResult",
    "MapStart",
    "SamplerRun",
    "Checkpoint",
    "find_map",
    "initial_ball",
    "run",
    "read_checkpoint",
    "sampler_floor",
    "MOVES",
]

#: Group written by :class:`emcee.backends.HDFBackend` (its default ``name``).
EMCEE_GROUP = "mcmc"
#: Group holding the tlsbayes bookkeeping in a checkpoint.
STATE_GROUP = "tlsbayes"
CHECKPOINT_FORMAT = 1

# Whitelist: settings name a move set, they never carry code or arbitrary class paths.
MOVES: dict[str, Callable[[], list]] = {
    "stretch": lambda: [(emcee.moves.StretchMove(), 1.0)],
    "de": lambda: [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)],
}

# Cost given to the optimiser where the log-probability is -inf/NaN.  Finite (not inf) so that
# Powell's parabolic line search never computes inf - inf.
_BAD_COST = 1.0e100


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SamplerSettings:
    """Knobs of a sampling run; immutable, serialisable for provenance.

    Parameters
    ----------
    nwalkers : int or None
        Ensemble size.  ``None``: ``max(32, 4 * ndim)`` rounded up to an even number.
    chunk : int
        Steps between convergence checks and checkpoints.
    max_steps : int
        Hard cap on the number of steps (per walker).
    target_ess : float
        Required effective sample size of every parameter.
    tau_rtol : float
        Required relative stability of tau between two checks (0.02 = 2 %).
    tau_factor : float
        Required post-burn-in chain length in units of the largest tau.
    rhat_max : float
        Split R-hat must be below this for every parameter.
    n_groups : int
        Number of walker blocks forming the chains of the split R-hat.
    burn_factor : float
        Burn-in in units of tau (capped at half of the chain), see the module docstring.
    moves : {"stretch", "de"}
        ``"stretch"``: affine-invariant stretch move; ``"de"``: 0.8 differential evolution +
        0.2 DE snooker, better for strongly curved or multi-modal posteriors.
    ball_scale : float
        Radius of the initial ball, relative to ``|theta0|`` (absolute when ``|theta0| < 1``).
    map_starts : int
        Number of prior draws the caller should give :func:`find_map`.
    seed : int or None
        Seed of the sampler's random stream; ``None`` draws fresh entropy, which :func:`run`
        records in :attr:`SamplerRun.settings` so that the run can be repeated.
    progress : bool
        Show a tqdm progress bar on stderr.
    """

    nwalkers: int | None = None
    chunk: int = 500
    max_steps: int = 50_000
    target_ess: float = 1000.0
    tau_rtol: float = 0.02
    tau_factor: float = 50.0
    rhat_max: float = 1.01
    n_groups: int = 4
    burn_factor: float = 5.0
    moves: str = "stretch"
    ball_scale: float = 1.0e-4
    map_starts: int = 8
    seed: int | None = None
    progress: bool = True

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
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                bad(name, value, "must be a positive finite number")
        if not (isinstance(self.rhat_max, (int, float)) and self.rhat_max > 1.0):
            bad("rhat_max", self.rhat_max, "must be a number > 1")
        if self.moves not in MOVES:
            bad("moves", self.moves, f"choose one of {', '.join(repr(k) for k in MOVES)}")
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


def _resolve_names(names, ndim: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"theta[{i}]" for i in range(ndim))
    names = tuple(str(n) for n in names)
    if len(names) != ndim:
        raise SamplingError(f"{len(names)} parameter names given for {ndim} parameters: {names}")
    if len(set(names)) != len(names):
        raise SamplingError(f"duplicate parameter names: {names}")
    return names


# --------------------------------------------------------------------------------------------
# MAP
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapStart:
    """Outcome of one optimisation start.

    Attributes
    ----------
    start, theta : ndarray, shape (ndim,)
        Starting point and end point (sampling coordinates).
    log_prob : float
        Log-probability at ``theta`` (``-inf`` if the start itself was impossible).
    nfev : int
        Number of log-probability evaluations used.
    message : str
        Optimiser messages, or why the start was skipped.
    """

    start: np.ndarray
    theta: np.ndarray
    log_prob: float
    nfev: int
    message: str


@dataclass(frozen=True)
class MapResult:
    """Best point of a multi-start maximisation.

    Attributes
    ----------
    theta : ndarray, shape (ndim,)
        Highest log-probability point found.
    log_prob : float
        Its log-probability.
    starts : tuple of MapStart
        Every start, in input order; compare their ``theta`` to spot multi-modality.
    names : tuple of str
    """

    theta: np.ndarray
    log_prob: float
    starts: tuple[MapStart, ...]
    names: tuple[str, ...]

    def as_dict(self) -> dict[str, float]:
        """``name -> value`` of the MAP point (sampling coordinates)."""
        return {n: float(v) for n, v in zip(self.names, self.theta)}


def find_map(
    log_prob_one: Callable[[np.ndarray], float],
    starts,
    *,
    names: Sequence[str] | None = None,
    maxfev: int | None = None,
) -> MapResult:
    """Maximise a log-probability from several starting points.

    Each start is optimised with Nelder-Mead (robust to the flat ``-inf`` regions outside a
    prior's support) and then polished with Powell (its line searches converge further along
    narrow, curved ridges than a stalled simplex).  Deterministic for given ``starts``.

    Parameters
    ----------
    log_prob_one : callable
        ``log_prob_one(theta) -> float`` for ``theta`` of shape ``(ndim,)``.  ``-inf`` and NaN
        are treated as a very large cost.
    starts : array_like, shape (n_starts, ndim)
        Starting points in sampling coordinates (typically prior draws).
    names : sequence of str, optional
        Parameter names, used in messages.
    maxfev : int, optional
        Evaluation budget per optimiser and start (default ``2000 * ndim``).

    Returns
    -------
    MapResult

    Raises
    ------
    SamplingError
        If no start reaches a finite log-probability.
    """
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    if starts.ndim != 2 or starts.shape[0] == 0:
        raise SamplingError(f"find_map needs starts of shape (n_starts, ndim), got {starts.shape}")
    ndim = starts.shape[1]
    names = _resolve_names(names, ndim)
    maxfev = int(maxfev) if maxfev is not None else 2000 * ndim

    def cost(x):
        lp = float(log_prob_one(np.asarray(x, dtype=float)))
        return -lp if math.isfinite(lp) else _BAD_COST

    outcomes = []
    for start in starts:
        if not np.all(np.isfinite(start)) or cost(start) >= _BAD_COST:
            outcomes.append(MapStart(start.copy(), start.copy(), -math.inf, 1,
                                     "skipped: log-probability not finite at the start"))
            continue
        with warnings.catch_warnings():
            # The optimisers warn when they hit maxfev; the verdict is in the message instead.
            warnings.simplefilter("ignore", RuntimeWarning)
            simplex = optimize.minimize(
                cost, start, method="Nelder-Mead",
                options={"maxfev": maxfev, "xatol": 1e-9, "fatol": 1e-11,
                         "adaptive": ndim > 3},
            )
            polish = optimize.minimize(
                cost, simplex.x, method="Powell",
                options={"maxfev": maxfev, "xtol": 1e-9, "ftol": 1e-13},
            )
        best = polish if polish.fun <= simplex.fun else simplex
        lp = -float(best.fun) if best.fun < _BAD_COST else -math.inf
        outcomes.append(MapStart(
            start.copy(), np.asarray(best.x, dtype=float).copy(), lp,
            int(simplex.nfev + polish.nfev),
            f"Nelder-Mead: {simplex.message}; Powell: {polish.message}",
        ))

    finite = [o for o in outcomes if math.isfinite(o.log_prob)]
    if not finite:
        raise SamplingError(
            f"find_map: the log-probability is not finite at any of the {len(outcomes)} starts; "
            "check the priors and that the data are compatible with the model"
        )
    best = max(finite, key=lambda o: o.log_prob)
    return MapResult(best.theta.copy(), best.log_prob, tuple(outcomes), names)


# --------------------------------------------------------------------------------------------
# Initial ball
# --------------------------------------------------------------------------------------------
def _log_prob_only(out, n: int) -> np.ndarray:
    lp = out[0] if isinstance(out, (tuple, list)) else out
    lp = np.asarray(lp, dtype=float)
    if lp.shape != (n,):
        raise SamplingError(
            f"the log-probability function returned shape {lp.shape} for {n} points; "
            f"expected ({n},)"
        )
    return lp


def _support_bounds(support, ndim: int):
    if support is None:
        return None
    bounds = support() if callable(support) else support
    bounds = list(bounds)
    if len(bounds) != ndim:
        raise SamplingError(f"support has {len(bounds)} (low, high) pairs for {ndim} parameters")
    out = []
    for pair in bounds:
        lo, hi = pair
        out.append((-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi)))
    return out


def _describe_bad_start(theta0, lp0, names, bounds) -> str:
    problems = []
    for i, (name, value) in enumerate(zip(names, theta0)):
        if not math.isfinite(value):
            problems.append(f"'{name}' = {value} is not finite")
        elif bounds is not None:
            lo, hi = bounds[i]
            if not lo <= value <= hi:
                problems.append(f"'{name}' = {value:.6g} not in [{lo:.6g}, {hi:.6g}]")
    if problems:
        return "start point outside the prior support: " + "; ".join(problems)
    where = ", ".join(f"'{n}' = {v:.6g}" for n, v in zip(names, theta0))
    if bounds is not None:
        return (f"log-probability is {lp0} at the start point ({where}) although every "
                "parameter is inside its prior support; the likelihood rejects this point")
    return (f"log-probability is {lp0} at the start point ({where}); "
            "pass support=[(low, high), ...] to find out which parameter is responsible")


def initial_ball(
    theta0,
    nwalkers: int,
    rng: np.random.Generator,
    log_prob_vec: Callable,
    scale: float = 1.0e-4,
    *,
    names: Sequence[str] | None = None,
    support=None,
    max_tries: int = 60,
) -> np.ndarray:
    """Place walkers in a small Gaussian ball around ``theta0``.

    The ball's standard deviation is ``scale * max(|theta0_i|, 1)`` per coordinate: relative for
    large coordinates, absolute near zero (log-parameters are often O(10), offsets O(0)).
    Walkers whose log-probability is not finite (e.g. ``theta0`` sits on a prior bound) are
    redrawn from a ball whose radius halves at every try.

    Parameters
    ----------
    theta0 : array_like, shape (ndim,)
        Centre, usually :attr:`MapResult.theta`.
    nwalkers : int
    rng : numpy.random.Generator
    log_prob_vec : callable
        Vectorised log-probability, see :func:`run`.
    scale : float
        Ball radius (see above).
    names : sequence of str, optional
        Parameter names for error messages.
    support : sequence of (low, high) or callable returning one, optional
        Prior support of each parameter in sampling coordinates (``None`` = unbounded side);
        used only to say which parameter makes ``theta0`` impossible.
    max_tries : int
        Redraw rounds before giving up.

    Returns
    -------
    ndarray, shape (nwalkers, ndim)

    Raises
    ------
    SamplingError
        If ``theta0`` has a non-finite log-probability (the message names the parameters
        outside ``support``) or walkers cannot be placed.
    """
    theta0 = np.asarray(theta0, dtype=float).ravel()
    ndim = theta0.size
    names = _resolve_names(names, ndim)
    bounds = _support_bounds(support, ndim)
    lp0 = (_log_prob_only(log_prob_vec(theta0[None, :]), 1)[0]
           if np.all(np.isfinite(theta0)) else math.nan)
    if not math.isfinite(lp0):
        raise SamplingError(_describe_bad_start(theta0, lp0, names, bounds))

    width = scale * np.maximum(np.abs(theta0), 1.0)
    ball = theta0 + width * rng.standard_normal((nwalkers, ndim))
    bad = ~np.isfinite(_log_prob_only(log_prob_vec(ball), nwalkers))
    shrink = 1.0
    for _ in range(max_tries):
        if not bad.any():
            return ball
        shrink *= 0.5
        idx = np.flatnonzero(bad)
        ball[idx] = theta0 + shrink * width * rng.standard_normal((idx.size, ndim))
        bad[idx] = ~np.isfinite(_log_prob_only(log_prob_vec(ball[idx]), idx.size))
    if not bad.any():
        return ball
    raise SamplingError(
        f"could not place {int(bad.sum())} of {nwalkers} walkers at a finite log-probability "
        f"near the start point after {max_tries} redraws; is the start on a sharp edge of the "
        "support?"
    )


# --------------------------------------------------------------------------------------------
# Convergence diagnostics
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Diagnosis:
    burn_in: int
    tau: np.ndarray
    ess: np.ndarray
    rhat: np.ndarray
    thin: int
    failures: tuple[str, ...]


def _fmt_params(names, idx, values, fmt) -> str:
    return ", ".join(f"'{names[i]}' ({format(values[i], fmt)})" for i in idx)


def _diagnose(chain: np.ndarray, tau_prev, settings: SamplerSettings, names,
              full: bool = False) -> _Diagnosis:
    """Evaluate the convergence criteria on ``chain`` (nsteps, nwalkers, ndim).

    The τ-based criteria (finite, stable, chain >= tau_factor τ, nwalkers·n/τ >= target ESS)
    cost one batched FFT; the rank-normalised R-hat and bulk ESS cost sorts of the whole chain.
    Unless ``full``, those are computed only once the cheap criteria pass: before that the run
    cannot be converged whatever they say.  The last check before the step cap is ``full`` so
    that the verdict names every failed criterion.
    """
    n, nwalkers, ndim = chain.shape
    size = nwalkers // settings.n_groups
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # Early checks run on short chains where the estimators warn or return NaN; the
        # criteria below already refuse to declare convergence on them.
        warnings.simplefilter("ignore")
        # No previous estimate, or one that is not finite (a stuck parameter): burn half.
        tau_prev_max = (float(np.max(tau_prev))
                        if tau_prev is not None and np.all(np.isfinite(tau_prev)) else math.inf)
        burn = (int(min(n // 2, math.ceil(settings.burn_factor * tau_prev_max)))
                if math.isfinite(tau_prev_max) else n // 2)
        if (n - burn) % 2 and n > 1:
            # an even post-burn-in length lets R-hat and ESS share one sort (rank_diagnostics)
            burn += 1 if burn < n // 2 else -1
        post = chain[burn:]
        n_post = post.shape[0]
        # the window reaches ~c tau (c = 5): lags up to twice that of the previous tau first
        tau = integrated_time(post, max_lag=(int(10 * tau_prev_max) + 16
                                             if math.isfinite(tau_prev_max) else None))
        ess_tau = nwalkers * n_post / tau
        tau_max_ = float(np.max(tau)) if np.all(np.isfinite(tau)) else math.inf
        cheap_ok = (tau_prev is not None and np.all(np.isfinite(tau))
                    and np.all(np.abs(tau - tau_prev) / tau < settings.tau_rtol)
                    and n_post >= settings.tau_factor * tau_max_
                    and np.all(ess_tau >= settings.target_ess))
        run_ranks = full or cheap_ok
        ess_bulk_ = np.full(ndim, np.nan)
        rhat = np.full(ndim, np.nan)
        if n_post >= 4 and run_ranks:
            if size >= 1:
                ess_bulk_, rhat = rank_diagnostics(post, settings.n_groups)
            else:
                ess_bulk_ = ess_bulk(post.transpose(1, 0, 2))
    ess = np.fmin(ess_bulk_, ess_tau)  # fmin: a NaN from one estimator defers to the other

    failures = []
    if not np.all(np.isfinite(tau)):
        idx = np.flatnonzero(~np.isfinite(tau))
        failures.append("tau not finite for " + ", ".join(f"'{names[i]}'" for i in idx)
                        + " (parameter does not move?)")
    if tau_prev is None:
        failures.append("tau stability: no previous tau estimate yet (first check)")
    else:
        change = np.abs(tau - tau_prev) / tau
        idx = np.flatnonzero(~(change < settings.tau_rtol))
        if idx.size:
            failures.append(
                f"tau not stable to {100 * settings.tau_rtol:g} %: changed since the last check "
                "by " + ", ".join(f"{100 * change[i]:.1f} % for '{names[i]}'" for i in idx))
    tau_max = float(np.max(tau)) if np.all(np.isfinite(tau)) else math.inf
    if not n_post >= settings.tau_factor * tau_max:
        i = int(np.nanargmax(np.where(np.isfinite(tau), tau, np.inf)))
        failures.append(
            f"chain too short: {n_post} post-burn-in steps < {settings.tau_factor:g} tau = "
            f"{settings.tau_factor * tau_max:.0f} steps (tau('{names[i]}') = {tau[i]:.1f})")
    idx = np.flatnonzero(~(rhat < settings.rhat_max))
    if not run_ranks:
        failures.append("split R-hat and bulk ESS not evaluated yet (the tau criteria fail)")
    elif idx.size:
        failures.append(f"split R-hat >= {settings.rhat_max:g} for "
                        + _fmt_params(names, idx, rhat, ".4f"))
    idx = np.flatnonzero(~(ess >= settings.target_ess))
    if idx.size:
        failures.append(f"ESS < {settings.target_ess:g} for " + _fmt_params(names, idx, ess, ".0f"))

    tau_min = float(np.min(tau)) if np.all(np.isfinite(tau)) else 1.0
    thin = max(1, int(0.5 * tau_min))
    return _Diagnosis(burn, tau, ess, rhat, thin, tuple(failures))


def _verdict(diag: _Diagnosis, steps: int, settings: SamplerSettings, names) -> str:
    if not diag.failures:
        i_tau, i_ess, i_rhat = np.argmax(diag.tau), np.argmin(diag.ess), np.argmax(diag.rhat)
        return (f"converged after {steps} steps (burn-in {diag.burn_in}): "
                f"max tau = {diag.tau[i_tau]:.1f} ('{names[i_tau]}'), "
                f"min ESS = {diag.ess[i_ess]:.0f} ('{names[i_ess]}'), "
                f"max R-hat = {diag.rhat[i_rhat]:.4f} ('{names[i_rhat]}')")
    return (f"NOT converged after {steps} steps (max_steps = {settings.max_steps}): "
            + "; ".join(diag.failures))


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------
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
        Steps to discard (see the module docstring for the rule).
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


# --------------------------------------------------------------------------------------------
# Checkpoint I/O
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Contents of a checkpoint file (see the module docstring for the layout)."""

    path: Path
    chain: np.ndarray
    log_prob: np.ndarray
    blobs: np.ndarray | None
    accepted: np.ndarray
    random_state: tuple
    steps: int
    tau_history: np.ndarray
    tau_history_steps: np.ndarray
    wall_time: float
    settings: dict
    names: tuple[str, ...]
    blob_names: tuple[str, ...]

    @property
    def nwalkers(self) -> int:
        return self.chain.shape[1]

    @property
    def ndim(self) -> int:
        return self.chain.shape[2]


def read_checkpoint(path) -> Checkpoint:
    """Read and validate a checkpoint written by :func:`run`.

    Raises
    ------
    SamplingError
        Naming the file and the problem if it is missing, unreadable or inconsistent.
    """
    path = Path(path)
    if not path.is_file():
        raise SamplingError(f"checkpoint '{path}' does not exist")

    def broken(what):
        return SamplingError(f"checkpoint '{path}' is unusable: {what}")

    try:
        f = h5py.File(path, "r")
    except Exception as exc:  # h5py raises OSError for garbage, other types for odd files
        raise broken(f"not a readable HDF5 file ({exc})") from exc
    try:
        with f:
            for group in (EMCEE_GROUP, STATE_GROUP):
                if group not in f:
                    raise broken(f"group '{group}' is missing")
            g, s = f[EMCEE_GROUP], f[STATE_GROUP]
            if int(s.attrs["format_version"]) != CHECKPOINT_FORMAT:
                raise broken(f"format_version {s.attrs['format_version']} is not "
                             f"{CHECKPOINT_FORMAT}")
            nwalkers, ndim = int(g.attrs["nwalkers"]), int(g.attrs["ndim"])
            iteration = int(g.attrs["iteration"])
            chain = g["chain"][:iteration]
            log_prob = g["log_prob"][:iteration]
            accepted = g["accepted"][...]
            blobs = g["blobs"][:iteration] if bool(g.attrs["has_blobs"]) else None
            key = s["rng_key"][...]
            random_state = (str(s["rng_key"].attrs["algorithm"]), key,
                            int(s["rng_key"].attrs["pos"]), int(s["rng_key"].attrs["has_gauss"]),
                            float(s["rng_key"].attrs["cached_gaussian"]))
            steps = int(s.attrs["steps"])
            tau_history = s["tau_history"][...]
            tau_history_steps = s["tau_history_steps"][...]
            wall_time = float(s.attrs["wall_time"])
            settings = json.loads(s.attrs["settings"])
            names = tuple(json.loads(s.attrs["names"]))
            blob_names = tuple(json.loads(s.attrs["blob_names"]))
    except SamplingError:
        raise
    except Exception as exc:  # truncated datasets, missing keys, bad JSON, ...
        what = (f"a dataset or attribute is missing ({exc.args[0]})" if isinstance(exc, KeyError)
                else f"{type(exc).__name__}: {exc}")
        raise broken(what) from exc

    expected = {
        "chain": (chain.shape, (iteration, nwalkers, ndim)),
        "log_prob": (log_prob.shape, (iteration, nwalkers)),
        "accepted": (accepted.shape, (nwalkers,)),
        "rng_key": (key.shape, (624,)),
        "tau_history": (tau_history.shape, (tau_history_steps.shape[0], ndim)),
    }
    if blobs is not None:
        expected["blobs"] = (blobs.shape, (iteration, nwalkers))
    for name, (got, want) in expected.items():
        if got != want:
            raise broken(f"dataset '{name}' has shape {got}, expected {want}")
    if steps != iteration or iteration < 1:
        raise broken(f"steps = {steps} but the chain holds {iteration} steps")
    if tau_history_steps.size == 0 or int(tau_history_steps[-1]) != steps:
        raise broken(f"tau history does not end at step {steps}")
    try:
        # emcee's random_state setter ignores a bad state silently; a resumed run would then
        # diverge from the uninterrupted one without any error.
        np.random.RandomState().set_state(random_state)
    except Exception as exc:
        raise broken(f"invalid random-generator state ({exc})") from exc
    if len(names) != ndim:
        raise broken(f"{len(names)} parameter names for ndim = {ndim}")
    if blobs is not None and tuple(blobs.dtype.names or ()) != blob_names:
        raise broken(f"blob fields {blobs.dtype.names} do not match blob_names {blob_names}")
    return Checkpoint(path, chain, log_prob, blobs, accepted, random_state, steps, tau_history,
                      tau_history_steps, wall_time, settings, names, blob_names)


def _write_checkpoint(path: Path, backend, *, names, blob_names, settings, tau_history,
                      tau_history_steps, wall_time) -> None:
    """Write the complete state to ``path`` atomically (temp file, fsync, os.replace)."""
    nwalkers, ndim = backend.shape
    it = backend.iteration
    directory = path.parent if str(path.parent) else Path(".")
    # Unique name, created exclusively; not mkstemp, whose 0600 mode would make the
    # checkpoint unreadable to colleagues (emcee's own backend follows the umask).
    tmp = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with h5py.File(tmp, "x") as f:
            g = f.create_group(EMCEE_GROUP)
            # Same attributes, datasets, dtypes and maxshapes as emcee.backends.HDFBackend.
            g.attrs["version"] = emcee.__version__
            g.attrs["nwalkers"] = nwalkers
            g.attrs["ndim"] = ndim
            g.attrs["has_blobs"] = backend.has_blobs()
            g.attrs["iteration"] = it
            g.create_dataset("accepted", data=backend.accepted)
            g.create_dataset("chain", data=backend.chain[:it], maxshape=(None, nwalkers, ndim))
            g.create_dataset("log_prob", data=backend.log_prob[:it], maxshape=(None, nwalkers))
            if backend.has_blobs():
                g.create_dataset("blobs", data=backend.blobs[:it], maxshape=(None, nwalkers))
            for i, v in enumerate(backend.random_state):
                g.attrs[f"random_state_{i}"] = v

            s = f.create_group(STATE_GROUP)
            s.attrs["format_version"] = CHECKPOINT_FORMAT
            s.attrs["steps"] = it
            s.attrs["wall_time"] = float(wall_time)
            s.attrs["settings"] = json.dumps(settings.to_dict())
            s.attrs["names"] = json.dumps(list(names))
            s.attrs["blob_names"] = json.dumps(list(blob_names))
            algorithm, key, pos, has_gauss, cached = backend.random_state
            k = s.create_dataset("rng_key", data=np.asarray(key, dtype=np.uint32))
            k.attrs["algorithm"] = str(algorithm)
            k.attrs["pos"] = int(pos)
            k.attrs["has_gauss"] = int(has_gauss)
            k.attrs["cached_gaussian"] = float(cached)
            s.create_dataset("tau_history", data=np.asarray(tau_history, dtype=float)
                             .reshape(-1, ndim))
            s.create_dataset("tau_history_steps", data=np.asarray(tau_history_steps,
                                                                  dtype=np.int64))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        # Its digest, verified by resume and report (tlsbayes.rundir.verify_checkpoint).
        record_checksum(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        # Includes KeyboardInterrupt mid-write: the previous checkpoint is still in place.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


class _RestorableBackend(emcee.backends.Backend):
    """emcee's in-memory backend that can also be primed with a saved chain.

    Using emcee's own storage (rather than re-implementing it) keeps acceptance counts, blobs
    and ``get_last_sample`` exactly as emcee defines them.
    """

    def restore(self, ck: Checkpoint) -> None:
        self.reset(ck.nwalkers, ck.ndim)
        self.chain = np.array(ck.chain, dtype=self.dtype)
        self.log_prob = np.array(ck.log_prob, dtype=self.dtype)
        self.blobs = None if ck.blobs is None else np.array(ck.blobs)
        self.accepted = np.array(ck.accepted, dtype=self.dtype)
        self.random_state = ck.random_state
        self.iteration = ck.steps


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------
def _split_output(out, n: int, blob_names) -> tuple[np.ndarray, list[np.ndarray]]:
    """Validate what a vectorised log-probability returned: ``(log_prob, [blob arrays])``."""
    if not isinstance(out, (tuple, list)):
        return _log_prob_only(out, n), []
    if len(out) != 1 + len(blob_names):
        raise SamplingError(f"the log-probability function returned {len(out)} arrays; "
                            f"expected log_prob plus the blobs {tuple(blob_names)}")
    arrays = [np.asarray(a, dtype=float) for a in out]
    for name, a in zip(("log_prob",) + tuple(blob_names), arrays):
        if a.shape != (n,):
            raise SamplingError(f"the log-probability function returned {name} of shape "
                                f"{a.shape} for {n} points; expected ({n},)")
    return arrays[0], arrays[1:]


class _LogProbAdapter:
    """Turn the tlsbayes vectorised convention into what emcee expects with vectorize=True.

    emcee iterates over the returned object walker by walker: each item must be the scalar
    log-probability, or a sequence ``(log_prob, blob_1, ...)`` for that walker.  A tuple of
    arrays ``(log_prob, log_prior, log_likelihood)`` would be read as three walkers, so it is
    transposed into per-walker tuples here; emcee then builds a structured blob array with
    one field per blob name (``blobs_dtype``).

    A KeyboardInterrupt in the user function, and a SamplingError for a malformed or NaN
    result, are recorded rather than propagated: emcee's function wrapper would otherwise
    print the walker positions and a traceback before the one-line message.  The proposals get
    -inf (rejected) and :func:`run` raises the recorded exception right after the step; that
    step is never checkpointed.
    """

    def __init__(self, fn, blob_names, names):
        self.fn = fn
        self.blob_names = tuple(blob_names)
        self.names = names
        self.blobs_dtype = [(b, np.float64) for b in self.blob_names] or None
        self.pending: BaseException | None = None
        self._with_blobs = False

    def __call__(self, theta):
        theta = np.asarray(theta, dtype=float)
        n = theta.shape[0]
        if self.pending is None:
            try:
                log_prob, blobs = _split_output(self.fn(theta), n, self.blob_names)
                bad = np.flatnonzero(np.isnan(log_prob))
                if bad.size:
                    where = ", ".join(f"'{k}' = {v:.6g}"
                                      for k, v in zip(self.names, theta[bad[0]]))
                    raise SamplingError(f"log-probability is NaN at {where}; log densities "
                                        "must be -inf for impossible points, never NaN")
            except (KeyboardInterrupt, SamplingError) as exc:
                self.pending = exc
        if self.pending is not None:
            log_prob = np.full(n, -np.inf)
            blobs = [np.full(n, -np.inf) for _ in self.blob_names] if self._with_blobs else []
        self._with_blobs = bool(blobs)
        # Python floats: zipping lists is several times cheaper than iterating numpy arrays,
        # and emcee converts every item with float() anyway.
        return list(zip(log_prob.tolist(), *(b.tolist() for b in blobs))) if blobs else log_prob

    def raise_pending(self) -> None:
        if self.pending is not None:
            raise self.pending


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
        Initial walker positions (see :func:`initial_ball`).  When resuming only its shape is
        used.
    settings : SamplerSettings
    checkpoint : str or path-like, optional
        HDF5 file rewritten atomically at the end of every chunk.
    names : sequence of str, optional
        Parameter names (messages, checkpoint).
    resume : bool
        Continue from ``checkpoint``: chain, walker positions, acceptance counts and the random
        state are restored, so the final chain is bit-identical to an uninterrupted run.
    blob_names : sequence of str
        Names of the extra arrays returned by ``log_prob_vec``.

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
    names = _resolve_names(names, ndim)
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
        # The stream continues from the saved state; record the seed that started it.
        settings = dataclasses.replace(settings, nwalkers=nwalkers,
                                       seed=ck.settings.get("seed", settings.seed))
    else:
        seed = settings.seed
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
        settings = dataclasses.replace(settings, nwalkers=nwalkers, seed=seed)

    adapter = _LogProbAdapter(log_prob_vec, blob_names, names)
    backend = _RestorableBackend()
    if ck is not None:
        backend.restore(ck)
    sampler = emcee.EnsembleSampler(
        nwalkers, ndim, adapter, moves=MOVES[settings.moves](), backend=backend,
        vectorize=True, blobs_dtype=adapter.blobs_dtype,
    )
    steps = 0 if ck is None else ck.steps
    saved = steps
    bar = None
    t0 = time.perf_counter()
    try:
        if ck is None:
            state = _first_state(sampler, adapter, p0, settings.seed)
            tau_hist, tau_steps, wall_before, diag = [], [], 0.0, None
        else:
            state = backend.get_last_sample()
            _check_same_posterior(adapter, state, checkpoint)
            tau_hist = list(ck.tau_history)
            tau_steps = [int(s) for s in ck.tau_history_steps]
            wall_before = ck.wall_time
            # Repeat the check made when this checkpoint was written: a run that had already
            # converged must stop here, exactly where the uninterrupted run stopped.
            diag = _diagnose(backend.get_chain(), tau_hist[-2] if len(tau_hist) > 1 else None,
                             settings, names, full=steps >= settings.max_steps)

        bar = tqdm(total=settings.max_steps, initial=steps, disable=not settings.progress,
                   unit="step", desc="sampling", dynamic_ncols=True)
        while steps < settings.max_steps and (diag is None or diag.failures):
            n = min(settings.chunk, settings.max_steps - steps)
            for state in sampler.sample(state, iterations=n, skip_initial_state_check=True):
                adapter.raise_pending()
                bar.update(1)
            steps += n
            diag = _diagnose(backend.get_chain(), tau_hist[-1] if tau_hist else None,
                             settings, names, full=steps >= settings.max_steps)
            tau_hist.append(diag.tau)
            tau_steps.append(steps)
            rh = np.max(diag.rhat)
            bar.set_postfix(tau=f"{np.max(diag.tau):.3g}", ess=f"{np.min(diag.ess):.0f}",
                            rhat="-" if np.isnan(rh) else f"{rh:.3f}", refresh=False)
            if checkpoint is not None:
                _write_checkpoint(checkpoint, backend, names=names, blob_names=blob_names,
                                  settings=settings, tau_history=tau_hist,
                                  tau_history_steps=tau_steps,
                                  wall_time=wall_before + time.perf_counter() - t0)
                saved = steps
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()  # so that the message starts on a clean line
        if checkpoint is not None and saved:
            print(f"tlsbayes: interrupted; checkpoint '{checkpoint}' holds {saved} steps, "
                  f"continue with run(..., checkpoint='{checkpoint}', resume=True)",
                  file=sys.stderr)
        else:
            print("tlsbayes: interrupted before the first checkpoint; nothing to resume",
                  file=sys.stderr)
        raise
    finally:
        if bar is not None:
            bar.close()

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
        tau_history=np.asarray(tau_hist, dtype=float).reshape(-1, ndim),
        tau_history_steps=np.asarray(tau_steps, dtype=np.int64),
        burn_in=diag.burn_in,
        thin=diag.thin,
        ess=diag.ess,
        rhat=diag.rhat,
        converged=not diag.failures,
        verdict=_verdict(diag, steps, settings, names),
        steps=steps,
        wall_time=wall_before + time.perf_counter() - t0,
        settings=settings,
        names=names,
    )


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
    log_prob, _ = _split_output(adapter.fn(np.array(state.coords)), state.coords.shape[0],
                                adapter.blob_names)
    if not np.allclose(log_prob, state.log_prob, rtol=1e-9, atol=1e-9, equal_nan=True):
        raise SamplingError(
            f"checkpoint '{checkpoint}' is incompatible with this run: the log-probability at "
            "the saved walker positions differs from the stored one (different model, priors "
            "or data?)")


def sampler_floor(nwalkers: int, ndim: int, steps: int, *, seed: int = 0,
                  moves: str = "stretch") -> float:
    """Seconds emcee itself needs for ``steps`` steps with a trivial log-probability.

    The same ensemble size, dimension, move set, vectorisation and blob layout as :func:`run`,
    but a log-probability that costs nothing: the sampler's own floor, against which the cost
    of a real likelihood is measured (``tlsbayes bench``).
    """
    dtype = [("log_prior", np.float64), ("log_likelihood", np.float64)]

    def trivial(theta):
        lp = -0.5 * np.einsum("ij,ij->i", theta, theta)
        return [(v, 0.0, v) for v in lp]

    sampler = emcee.EnsembleSampler(nwalkers, ndim, trivial, vectorize=True,
                                    moves=MOVES[moves](), blobs_dtype=dtype)
    p0 = np.random.default_rng(seed).normal(size=(nwalkers, ndim))
    t0 = time.perf_counter()
    sampler.run_mcmc(p0, steps, progress=False)
    return time.perf_counter() - t0
