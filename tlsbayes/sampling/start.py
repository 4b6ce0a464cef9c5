"""Where a run starts: the MAP point of a multi-start optimisation and a small ball around it.

Typical use (what :func:`tlsbayes.sampling.sample` does)::

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
from .settings import resolve_names

__all__ = ["MapStart", "MapResult", "find_map", "initial_ball", "support_bounds"]

# Cost given to the optimiser where the log-probability is -inf/NaN.  Finite (not inf) so that
# Powell's parabolic line search never computes inf - inf.
_BAD_COST = 1.0e100
# Multi-start schedule of find_map: every start gets _SCREEN_ITER quasi-Newton iterations, the
# _CONTINUED best are then run to convergence, the best of those polished.
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
    log_prob_vec: Callable,
    starts,
    *,
    names: Sequence[str] | None = None,
    bounds=None,
    maxiter: int | None = None,
) -> MapResult:
    """Maximise a log-probability from several starting points.

    Every start is screened by ``_SCREEN_ITER`` iterations, the ``_CONTINUED`` best (within
    ``_CONTINUE_WITHIN`` log-units of the best) are run to
    convergence (a start still far below the best after the screening is at a poor local
    optimum or on a plateau, and rarely overtakes it).  The optimiser is a projected BFGS on the sampling coordinates
    (:func:`_quasi_newton`), its gradient taken by central finite differences: the point and its ``2 * ndim`` neighbours are one call of the
    vectorised ``log_prob_vec``, so an optimiser step costs one Python round trip instead of
    the hundreds of single-point calls of a simplex.  The best end point is then polished by a
    second run with a tighter tolerance (a fresh curvature model converges further along curved ridges).
    Deterministic for given ``starts``.

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
        Iteration budget per optimiser run (default ``200 * ndim``).

    Returns
    -------
    MapResult
        ``MapStart.nfev`` counts single-point evaluations (a stencil of ``2 ndim + 1`` points
        counts ``2 ndim + 1``).

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
    cost = _StencilCost(log_prob_vec, scale)
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
        x, lp, nfev, message = _quasi_newton(cost, start / scale, lo, hi, _SCREEN_ITER,
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
    for i in sorted(finite, key=lambda i: -outcomes[i].log_prob)[:_CONTINUED]:
        o = outcomes[i]
        if o.log_prob < top - _CONTINUE_WITHIN:
            break
        x, lp, nfev, message = _quasi_newton(cost, o.theta / scale, lo, hi, maxiter, ftol=1e-12)
        outcomes[i] = MapStart(o.start, x * scale, lp, o.nfev + nfev,
                               f"{o.message}; then {message}")
    i_best = max(finite, key=lambda i: outcomes[i].log_prob)
    best = outcomes[i_best]
    x, lp, nfev, message = _quasi_newton(cost, best.theta / scale, lo, hi, maxiter, ftol=1e-15)
    if lp > best.log_prob:
        best = MapStart(best.start, x * scale, lp, best.nfev + nfev, f"{best.message}; polish: {message}")
        outcomes[i_best] = best
    return MapResult(best.theta.copy(), best.log_prob, tuple(outcomes), names)


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


class _StencilCost:
    """``-log_prob`` at ``z * scale`` and its central-difference gradient in ``z``, from one
    vectorised call.

    The stencil step is ``h = 1e-6`` in ``z`` (a millionth of a prior width, see
    :func:`_coordinate_scale`): small against any posterior width worth resolving, large
    against the rounding of ``theta``.  A neighbour outside ``[lo, hi]`` or at a non-finite
    log-probability is replaced by the centre, turning that component into a one-sided
    difference.
    """

    def __init__(self, log_prob_vec, scale):
        self.fn, self.scale, self.nfev = log_prob_vec, scale, 0

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        self.nfev += z.shape[0]
        lp = np.array(log_prob_only(self.fn(z * self.scale), z.shape[0]), dtype=float)
        lp[~np.isfinite(lp)] = -math.inf
        return lp

    def __call__(self, x, lo, hi):
        x = np.asarray(x, dtype=float)
        n = x.size
        h = np.full(n, 1.0e-6)
        up = x + np.diag(h)
        down = x - np.diag(h)
        up_ok = np.diagonal(up) <= hi
        down_ok = np.diagonal(down) >= lo
        pts = np.vstack([x[None, :], up[up_ok], down[down_ok]])
        lp = self.evaluate(pts)
        f0 = lp[0]
        if not math.isfinite(f0):
            return _BAD_COST, np.zeros(n)
        lp_up = np.full(n, -math.inf)
        lp_down = np.full(n, -math.inf)
        lp_up[up_ok] = lp[1:1 + up_ok.sum()]
        lp_down[down_ok] = lp[1 + up_ok.sum():]
        good_up, good_down = np.isfinite(lp_up), np.isfinite(lp_down)
        span = np.where(good_up, h, 0.0) + np.where(good_down, h, 0.0)
        top = np.where(good_up, lp_up, f0)
        bottom = np.where(good_down, lp_down, f0)
        with np.errstate(invalid="ignore", divide="ignore"):
            grad = np.where(span > 0, (top - bottom) / span, 0.0)
        return -f0, -grad


def _quasi_newton(cost: _StencilCost, x0, lo, hi, maxiter: int, ftol: float):
    """Projected BFGS from ``x0`` inside the box ``[lo, hi]``.

    Returns (end point, log-probability, evaluations, message).  Written out rather than
    SciPy's L-BFGS-B, whose compiled driver costs milliseconds per iteration in SciPy >= 1.15
    on a loaded machine (its LAPACK calls start BLAS threads), far more than the vectorised
    stencil it would drive.  Each iteration: one stencil (value and gradient), a direction
    ``-H g`` with the components that would leave the box at an active bound removed, and a
    backtracking Armijo line search on single-point evaluations, each trial projected onto the
    box.  Stops when an accepted step lowers the cost by less than ``ftol`` relative, when the
    projected gradient vanishes, or after ``maxiter`` iterations.
    """
    before = cost.nfev
    x = np.clip(np.asarray(x0, dtype=float), lo, hi)
    f, g = cost(x, lo, hi)
    if f >= _BAD_COST:
        return x, -math.inf, cost.nfev - before, "start not finite"
    n = x.size
    H = np.eye(n) / max(float(np.linalg.norm(g)), 1.0)
    message = f"iteration limit {maxiter} reached"
    for it in range(maxiter):
        free = ~(((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)))
        if not np.any(free & (g != 0)):
            message = "projected gradient is zero"
            break
        d = -H @ np.where(free, g, 0.0)
        d[~free] = 0.0
        slope = float(g @ d)
        if not slope < 0:  # curvature model gone bad: restart from steepest descent
            H = np.eye(n) / max(float(np.linalg.norm(g)), 1.0)
            d = -np.where(free, g, 0.0) / max(float(np.linalg.norm(g)), 1.0)
        t, accepted = 1.0, False
        for _ in range(40):
            x_new = np.clip(x + t * d, lo, hi)
            f_new = -cost.evaluate(x_new[None, :])[0]
            if math.isfinite(f_new) and f_new <= f + 1e-4 * float(g @ (x_new - x)):
                accepted = True
                break
            t *= 0.25
        if not accepted:
            message = "line search found no decrease"
            break
        f_new, g_new = cost(x_new, lo, hi)
        step, dg = x_new - x, g_new - g
        small = abs(f - f_new) <= ftol * max(abs(f), abs(f_new), 1.0)
        sy = float(step @ dg)
        if sy > 1e-12 * float(np.linalg.norm(step) * np.linalg.norm(dg)):
            if it == 0:
                H = np.eye(n) * (sy / float(dg @ dg))
            rho = 1.0 / sy
            V = np.eye(n) - rho * np.outer(step, dg)
            H = V @ H @ V.T + rho * np.outer(step, step)
        x, f, g = x_new, f_new, g_new
        if small:
            message = "relative decrease below ftol"
            break
    lp = -float(f) if f < _BAD_COST else -math.inf
    return x.copy(), lp, cost.nfev - before, f"quasi-Newton ({it + 1} iterations): {message}"


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
