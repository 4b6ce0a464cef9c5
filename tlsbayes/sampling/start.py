"""Where a run starts: the MAP point of a multi-start optimisation and a small ball around it.

The optimisers themselves are in :mod:`tlsbayes.sampling.optimise`.  Typical use (what
:func:`tlsbayes.sampling.sample` does)::

    best = find_map(log_prob_vec, starts, names=names, bounds=support)  # starts: prior draws
    p0 = initial_ball(best.theta, settings.resolve_nwalkers(ndim), rng, log_prob_vec,
                      settings.ball_scale, names=names, support=support_bounds(priors))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..errors import SamplingError
from .logprob import log_prob_only
from .optimise import GIVEN_UP, StencilCost, quasi_newton, trust_newton
from .settings import resolve_names

__all__ = ["MapStart", "MapResult", "find_map", "initial_ball", "support_bounds"]

# Multi-start schedule of find_map: every start gets _SCREEN_ITER quasi-Newton iterations, the
# _CONTINUED best are then run to a certified maximum by Newton's method.
_SCREEN_ITER = 40
_CONTINUED = 3
# ... unless more than this many log-units below the best screened start (a factor e^-1000).
_CONTINUE_WITHIN = 1000.0


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
    decrement : float
        Newton decrement at ``theta`` (nats) if it is a certified local maximum (see
        :func:`tlsbayes.sampling.optimise.trust_newton`), else NaN (a start only screened,
        or one no Newton run could certify).
    """

    start: np.ndarray
    theta: np.ndarray
    log_prob: float
    nfev: int
    message: str
    decrement: float = math.nan


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
    decrement : float
        Newton decrement at ``theta`` (nats): the local quadratic model's maximum is this far
        above ``log_prob``, the Hessian being negative definite; NaN if not certified.
    """

    theta: np.ndarray
    log_prob: float
    starts: tuple[MapStart, ...]
    names: tuple[str, ...]
    decrement: float = math.nan

    def as_dict(self) -> dict[str, float]:
        """``name -> value`` of the MAP point (sampling coordinates)."""
        return {n: float(v) for n, v in zip(self.names, self.theta)}


def find_map(
    log_prob_vec: Callable,
    starts,
    *,
    names: Sequence[str] | None = None,
    bounds=None,
    maxiter: int | None = None,
) -> MapResult:
    """Maximise a log-probability from several starting points.

    Every start is screened by ``_SCREEN_ITER`` iterations of a projected BFGS
    (:func:`~tlsbayes.sampling.optimise.quasi_newton`: its gradient by central differences,
    the point and its ``2 * ndim`` neighbours in one call of the vectorised ``log_prob_vec``,
    so an iteration costs one Python round trip, not the hundreds of single-point calls of a
    simplex).  The ``_CONTINUED`` best (within ``_CONTINUE_WITHIN`` log-units of the best; a
    start still far below after the screening is at a poor local optimum or on a plateau, and
    rarely overtakes it) are then run by a trust-region Newton method on a finite-difference
    Hessian (:func:`~tlsbayes.sampling.optimise.trust_newton`, ``ndim^2 + 3 ndim + 1`` points
    a call) until their maximum is certified: the Hessian negative definite and the Newton
    decrement below ``NEWTON_TOL`` = 1e-8 nats (``NOISE_TOL`` = 1e-6 where the
    log-probability's own evaluation noise stops every further gain), with every coordinate
    on a bound pushed against it.  Where Newton cannot certify (a stencil point off the
    support), BFGS runs to ``ftol`` 1e-12 and Newton tries again from there.  A continued
    start more than ``BEHIND`` = 10 nats below a maximum already certified that climbs too
    slowly to close the gap within its iteration budget is given up (see
    :func:`~tlsbayes.sampling.optimise.trust_newton`).  Newton converges
    quadratically along the curved ridges where BFGS crawls (one start of
    ``nyu_al_inp_qi_tls_qp`` took 1000 BFGS iterations, 3/4 of the search), and its stopping
    rule, unlike a relative-decrease one, proves the point is a maximum.  The best end point
    is returned, polished by BFGS to ``ftol`` 1e-15 if it is not certified.  Deterministic
    for given ``starts``.

    Parameters
    ----------
    log_prob_vec : callable
        ``log_prob_vec(theta)`` for ``theta`` of shape ``(n, ndim)``, returning the
        log-probability of shape ``(n,)`` or a tuple whose first item it is (see
        :mod:`tlsbayes.sampling.logprob`).  ``-inf`` and NaN are treated as a very large cost.
    starts : array_like, shape (n_starts, ndim)
        Starting points in sampling coordinates (typically prior draws).
    names : sequence of str, optional
        Parameter names, used in messages.
    bounds : sequence of (low, high), optional
        Support of each parameter in sampling coordinates (``None`` or infinite = unbounded);
        the optimiser and its difference stencil stay inside (see :func:`support_bounds`).
    maxiter : int, optional
        Iteration budget of a BFGS fallback run (default ``200 * ndim``).

    Returns
    -------
    MapResult
        ``MapStart.nfev`` counts single-point evaluations (a stencil of ``2 ndim + 1`` points
        counts ``2 ndim + 1``); ``MapResult.decrement`` certifies the maximum (NaN if no
        Newton run could, e.g. without ``bounds`` at a maximum on the edge of the support).

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
    maxiter = int(maxiter) if maxiter is not None else 200 * ndim
    lo, hi = _bounds_arrays(bounds, ndim)
    scale = _coordinate_scale(starts, lo, hi)
    cost = StencilCost(log_prob_vec, scale)
    ok = np.all(np.isfinite(starts), axis=1) & np.all((starts >= lo) & (starts <= hi), axis=1)
    lo, hi = lo / scale, hi / scale  # the optimiser works on theta / scale

    lp_starts = np.full(len(starts), -math.inf)
    if ok.any():
        lp_starts[ok] = cost.evaluate(starts[ok] / scale)
    outcomes = []
    for start, lp0 in zip(starts, lp_starts):
        if not math.isfinite(lp0):
            outcomes.append(MapStart(start.copy(), start.copy(), -math.inf, 1,
                                     "skipped: log-probability not finite at the start"))
            continue
        x, lp, nfev, message = quasi_newton(cost, start / scale, lo, hi, _SCREEN_ITER,
                                            ftol=1e-10)
        outcomes.append(MapStart(start.copy(), x * scale, lp, nfev, message))

    finite = [i for i, o in enumerate(outcomes) if math.isfinite(o.log_prob)]
    if not finite:
        raise SamplingError(
            f"find_map: the log-probability is not finite at any of the {len(outcomes)} starts; "
            "check the priors and that the data are compatible with the model"
        )
    # Screened starts far below the best rarely overtake it: continue only the best few.
    top = max(outcomes[i].log_prob for i in finite)
    certified = None  # the best certified maximum so far: slow starts far below give up
    for i in sorted(finite, key=lambda i: -outcomes[i].log_prob)[:_CONTINUED]:
        o = outcomes[i]
        if o.log_prob < top - _CONTINUE_WITHIN:
            break
        x, lp, nfev, message, decrement = _converge(cost, o.theta / scale, lo, hi, maxiter,
                                                    certified)
        outcomes[i] = MapStart(o.start, x * scale, lp, o.nfev + nfev,
                               f"{o.message}; then {message}", decrement)
        if not math.isnan(decrement) and (certified is None or lp > certified):
            certified = lp
    i_best = max(finite, key=lambda i: outcomes[i].log_prob)
    best = outcomes[i_best]
    if math.isnan(best.decrement):  # not certified: polish, as far as BFGS gets
        x, lp, nfev, message = quasi_newton(cost, best.theta / scale, lo, hi, maxiter,
                                            ftol=1e-15)
        if lp > best.log_prob:
            best = MapStart(best.start, x * scale, lp, best.nfev + nfev,
                            f"{best.message}; polish: {message}")
            outcomes[i_best] = best
    return MapResult(best.theta.copy(), best.log_prob, tuple(outcomes), names, best.decrement)


def _converge(cost: StencilCost, x, lo, hi, maxiter: int, behind=None):
    """Run a screened start to a certified maximum: :func:`trust_newton`; where it cannot
    certify one (a stencil point off the support, a coordinate leaving a bound, no gain), the
    projected BFGS to ``ftol`` 1e-12 from where it got, and Newton again from there.

    Returns ``(z, log_prob, evaluations, message, decrement)``, ``decrement`` NaN if neither
    Newton run certified the point."""
    x, lp, nfev, message, decrement = trust_newton(cost, x, lo, hi, behind=behind)
    if math.isnan(decrement) and GIVEN_UP not in message:
        x, lp_b, nfev_b, message_b = quasi_newton(cost, x, lo, hi, maxiter, ftol=1e-12)
        x_n, lp_n, nfev_n, message_n, decrement = trust_newton(cost, x, lo, hi)
        nfev += nfev_b + nfev_n
        message = f"{message}; {message_b}; {message_n}"
        if lp_n >= lp_b:
            x, lp = x_n, lp_n
        else:
            lp, decrement = lp_b, math.nan
    return x, lp, nfev, message, decrement


def _bounds_arrays(bounds, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.full(ndim, -np.inf), np.full(ndim, np.inf)
    for i, pair in enumerate(_normalise_support(bounds, ndim) or ()):
        lo[i], hi[i] = pair
    return lo, hi


def _coordinate_scale(starts, lo, hi) -> np.ndarray:
    """Typical width of each coordinate: the spread of the (prior-drawn) starts, else the
    width of a finite support, else 1.  The optimiser works on ``theta / scale`` so that one
    unit is about a prior width in every coordinate (a frequency of 8e8 Hz known to 1e6 Hz
    and a log-parameter known to 5 then take steps of the same size)."""
    finite = starts[np.all(np.isfinite(starts), axis=1)]
    spread = finite.std(axis=0) if finite.shape[0] > 1 else np.zeros(starts.shape[1])
    width = np.where(np.isfinite(hi - lo), hi - lo, 0.0)
    scale = np.where(spread > 0, spread, width)
    return np.where(scale > 0, scale, 1.0)


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
