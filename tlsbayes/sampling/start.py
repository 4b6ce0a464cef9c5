"""Where a run starts: the MAP point of a multi-start optimisation and a small ball around it.

Typical use (what :func:`tlsbayes.sampling.sample` does)::

    best = find_map(log_prob_one, starts, names=names)           # starts drawn from the prior
    p0 = initial_ball(best.theta, settings.resolve_nwalkers(ndim), rng, log_prob_vec,
                      settings.ball_scale, names=names, support=support_bounds(priors))
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import optimize

from ..errors import SamplingError
from .logprob import log_prob_only
from .settings import resolve_names

__all__ = ["MapStart", "MapResult", "find_map", "initial_ball", "support_bounds"]

# Cost given to the optimiser where the log-probability is -inf/NaN.  Finite (not inf) so that
# Powell's parabolic line search never computes inf - inf.
_BAD_COST = 1.0e100


def support_bounds(priors) -> list[tuple[float, float]]:
    """Support of each free parameter of ``priors`` in sampling coordinates.

    Parameters
    ----------
    priors : tlsbayes PriorSet
        Its ``free_names``, each prior's ``support`` (physical units) and ``transform``.

    Returns
    -------
    list of (low, high), one per free parameter
        ``ln`` of the physical bounds for log-transformed parameters; used by
        :func:`initial_ball` to name the parameter that makes a start point impossible.
    """
    out = []
    for n in priors.free_names:
        lo, hi = priors[n].support
        if priors[n].transform == "log":
            lo, hi = math.log(lo), math.log(hi)
        out.append((lo, hi))
    return out


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
    names = resolve_names(names, ndim)
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


def _normalise_support(support, ndim: int):
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
        Vectorised log-probability, see :mod:`tlsbayes.sampling.logprob`.
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
    names = resolve_names(names, ndim)
    bounds = _normalise_support(support, ndim)
    lp0 = (log_prob_only(log_prob_vec(theta0[None, :]), 1)[0]
           if np.all(np.isfinite(theta0)) else math.nan)
    if not math.isfinite(lp0):
        raise SamplingError(_describe_bad_start(theta0, lp0, names, bounds))

    width = scale * np.maximum(np.abs(theta0), 1.0)
    ball = theta0 + width * rng.standard_normal((nwalkers, ndim))
    bad = ~np.isfinite(log_prob_only(log_prob_vec(ball), nwalkers))
    shrink = 1.0
    for _ in range(max_tries):
        if not bad.any():
            return ball
        shrink *= 0.5
        idx = np.flatnonzero(bad)
        ball[idx] = theta0 + shrink * width * rng.standard_normal((idx.size, ndim))
        bad[idx] = ~np.isfinite(log_prob_only(log_prob_vec(ball[idx]), idx.size))
    if not bad.any():
        return ball
    raise SamplingError(
        f"could not place {int(bad.sum())} of {nwalkers} walkers at a finite log-probability "
        f"near the start point after {max_tries} redraws; is the start on a sharp edge of the "
        "support?"
    )
