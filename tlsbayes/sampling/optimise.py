"""The optimisers of :func:`tlsbayes.sampling.start.find_map`, on a box, from vectorised stencils.

Both work on ``-log_prob`` (the *cost*) in scaled coordinates ``z = theta / scale`` and ask
the log-probability for many points in one vectorised call:

* :func:`quasi_newton`, a projected BFGS driven by a central-difference gradient (``2 n + 1``
  points a call): cheap per iteration, used to screen the starts;
* :func:`trust_newton`, a trust-region Newton method driven by a finite-difference Hessian
  (``n^2 + 3 n + 1`` points a call).  It converges quadratically where BFGS crawls (along a
  curved ridge, a start of ``nyu_al_inp_qi_tls_qp`` took 1000 BFGS iterations), and it stops
  on a *certificate*: the Hessian of the free coordinates positive definite (in the cost) and
  the Newton decrement ``g^T B^-1 g / 2`` below a tolerance in nats, i.e. the maximum of the
  local quadratic model is less than that above the returned point.  A relative-decrease rule
  cannot say this: with one (and a give-up rule for slow starts, the reverted commit
  3faae87) the search returned a point 1.3e-4 nats below the maximum of
  ``nyu_al_inp_fshift_tls_qp_from_traces``, where the Hessian was not negative definite.
"""

from __future__ import annotations

import math

import numpy as np

from .logprob import log_prob_only

__all__ = ["BAD_COST", "StencilCost", "quasi_newton", "trust_newton", "NEWTON_TOL", "NOISE_TOL",
           "BEHIND", "GIVEN_UP"]

# Cost given to the optimiser where the log-probability is -inf/NaN.  Finite (not inf) so that
# a line search never computes inf - inf.
BAD_COST = 1.0e100
#: Newton decrement (nats) below which :func:`trust_newton` calls a point a maximum.
NEWTON_TOL = 1.0e-8
#: ... or below which it does when no trial point gains any more: the log-probability of an
#: iterated model is only known to its evaluation noise (nyu_al_inp_fshift_tls_qp_from_traces,
#: quadrature of the Mattis-Bardeen integrals: scatter of 3-4e-8 nats, at most 1.1e-7, about a
#: smooth curve through 201 points along each axis at its MAP).
NOISE_TOL = 1.0e-6
# Hessian stencil step, as a fraction of each coordinate's conditional posterior sd
# (1 / sqrt(B_ii)): the O(h^2) truncation error of the differences is then ~1e-4 relative
# while the rounding error, eps |log_prob| / h^2, stays ~1e-12 of the curvature.
_STEP_PER_SD = 0.02
# Limits of that step in scaled coordinates (one unit ~ a prior width).
_STEP_MIN, _STEP_MAX = 1.0e-9, 1.0e-2
#: A Newton run more than this many nats below a maximum another start has certified ...
BEHIND = 10.0
# ... is given up when its mean gain over its last _PACE_ITERS iterations, kept up for the rest
# of its iteration budget, would not close the gap.
_PACE_ITERS = 3
#: What the message of a Newton run given up that way says (its caller runs no fallback).
GIVEN_UP = "given up"


class StencilCost:
    """``-log_prob`` at ``z * scale`` and its finite-difference derivatives in ``z``, each
    from one vectorised call.

    Parameters
    ----------
    log_prob_vec : callable
        Vectorised log-probability (see :mod:`tlsbayes.sampling.logprob`).
    scale : ndarray, shape (ndim,)
        Width of each coordinate (``theta = z * scale``).

    Attributes
    ----------
    nfev : int
        Single-point evaluations so far.
    """

    def __init__(self, log_prob_vec, scale):
        self.fn, self.scale, self.nfev = log_prob_vec, scale, 0

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        """Log-probability at the rows of ``z`` (shape ``(m, ndim)``), ``-inf`` for NaN."""
        self.nfev += z.shape[0]
        lp = np.array(log_prob_only(self.fn(z * self.scale), z.shape[0]), dtype=float)
        lp[~np.isfinite(lp)] = -math.inf
        return lp

    def __call__(self, x, lo, hi):
        """Cost and its central-difference gradient at ``x``: ``(f, g)``.

        The step is ``h = 1e-6`` in ``z`` (a millionth of a prior width): small against any
        posterior width worth resolving, large against the rounding of ``theta``.  A
        neighbour outside ``[lo, hi]`` or at a non-finite log-probability is replaced by the
        centre, turning that component into a one-sided difference.
        """
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
            return BAD_COST, np.zeros(n)
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

    def newton_model(self, x, h, lo, hi):
        """Cost, gradient and Hessian at ``x`` from one call of ``n^2 + 3 n + 1`` points at
        most.

        A coordinate on a bound of the box (``bound``) gets only a one-sided difference
        inwards (its gradient, no curvature).  The others (``free``) get points at ``+-h_i``
        and ``+-2 h_i``: a fourth-order central gradient (a second-order one, at the steps
        the Hessian needs, is off by ``h^2 f''' / 6``, which along a curved ridge, times the
        long marginal width, reads as a decrement of 2e-8 nats at the exact maximum), and
        the Hessian ``B[i, j] = (f(x + a + b) + f(x - a - b) - f(x + a) - f(x - a)
        - f(x + b) - f(x - b) + 2 f(x)) / (2 h_i h_j)`` (``a = h_i e_i``, ``b = h_j e_j``;
        exact for a quadratic, O(h^2) otherwise).  A free coordinate closer to a bound than
        twice its step takes a step of half the distance; closer than a thousandth of its
        step, it is put on the bound.

        Returns
        -------
        tuple or None
            ``(x, f, g, B, free)``: the (possibly snapped) point, cost, gradient (n,),
            Hessian (n, n; rows and columns of bound coordinates zero) and the mask of free
            coordinates; ``None`` if a stencil point has a non-finite log-probability.
        """
        x = np.array(x, dtype=float)
        room = np.minimum(x - lo, hi - x)
        near = room < 1.0e-3 * h
        to_lo = near & (x - lo <= hi - x)
        x[to_lo] = lo[to_lo]
        x[near & ~to_lo] = hi[near & ~to_lo]
        bound = (x <= lo) | (x >= hi)
        free = ~bound
        step = np.where(free, np.minimum(h, 0.5 * room), h)
        inward = np.where(x <= lo, 1.0, -1.0)
        fi, bi = np.flatnonzero(free), np.flatnonzero(bound)
        m = fi.size
        ii, jj = np.triu_indices(m, 1)
        E = np.eye(x.size) * step
        Ef = E[fi]
        pts = np.vstack([x[None, :], x + Ef, x - Ef, x + 2 * Ef, x - 2 * Ef,
                         x + inward[bi, None] * E[bi],
                         x + Ef[ii] + Ef[jj], x - Ef[ii] - Ef[jj]])
        lp = self.evaluate(pts)
        if not np.all(np.isfinite(lp)):
            return None
        f = -lp  # the cost
        f0 = f[0]
        fp, fm, fp2, fm2 = f[1:1 + 4 * m].reshape(4, m)
        fb = f[1 + 4 * m:1 + 4 * m + bi.size]
        fpp, fmm = np.split(f[1 + 4 * m + bi.size:], 2)
        g = np.zeros(x.size)
        hf = step[fi]
        g[fi] = (8 * (fp - fm) - (fp2 - fm2)) / (12 * hf)
        g[bi] = inward[bi] * (fb - f0) / step[bi]
        Bf = np.diag((fp + fm - 2 * f0) / hf ** 2)
        even = fp + fm  # f(x + a) + f(x - a) per free coordinate
        Bf[ii, jj] = (fpp + fmm - even[ii] - even[jj] + 2 * f0) / (2 * hf[ii] * hf[jj])
        Bf[jj, ii] = Bf[ii, jj]
        B = np.zeros((x.size, x.size))
        B[np.ix_(fi, fi)] = Bf
        return x, f0, g, B, free


def quasi_newton(cost: StencilCost, x0, lo, hi, maxiter: int, ftol: float):
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
    if f >= BAD_COST:
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
    lp = -float(f) if f < BAD_COST else -math.inf
    return x.copy(), lp, cost.nfev - before, f"quasi-Newton ({it + 1} iterations): {message}"


def _initial_steps(cost: StencilCost, x, lo, hi) -> tuple[np.ndarray, float]:
    """Hessian steps (and the cost at ``x``) from the diagonal second differences at a step
    of ``1e-3`` (a thousandth of a prior width): ``_STEP_PER_SD`` of the conditional sd a
    quadratic with those differences has.  A step this large keeps the differences above the
    evaluation noise of an iterated model (self-consistent fields, quadrature: 1e-9 to 1e-7
    nats on the shipped cards), whatever the posterior width; the steps are refined at every
    iteration."""
    n = x.size
    h = 1.0e-3
    E = np.eye(n) * h
    ok = (x - h >= lo) & (x + h <= hi)
    lp = cost.evaluate(np.vstack([x[None, :], x + E[ok], x - E[ok]]))
    d = np.zeros(n)
    k = int(ok.sum())
    with np.errstate(invalid="ignore"):
        d[ok] = -(lp[1:1 + k] + lp[1 + k:] - 2 * lp[0]) / h ** 2
    return _steps(d, np.full(n, h)), -lp[0]


def _steps(diag, previous) -> np.ndarray:
    """``_STEP_PER_SD`` conditional sd where the curvature is positive, else ``previous``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(np.isfinite(diag) & (diag > 0), _STEP_PER_SD / np.sqrt(diag), previous)
    return np.clip(h, _STEP_MIN, _STEP_MAX)


def _trust_step(w, V, gt, radius):
    """Minimiser of ``gt.q + q.diag(w).q / 2`` over ``|q| <= radius``, back in the original
    basis (``p = V q``); Moré-Sorensen iterations on the secular equation, the 'hard case'
    completed along the lowest eigenvector."""
    lo = max(0.0, -float(w[0]))
    mu = lo + 1.0e-12 * max(float(np.abs(w).max()), 1.0e-300) if w[0] <= 0 else 0.0
    q = -gt / (w + mu)
    if w[0] > 0 and np.linalg.norm(q) <= radius:
        return V @ q
    if np.linalg.norm(q) < radius:  # hard case: |q(mu)| < radius however close mu gets
        tau = math.sqrt(radius ** 2 - float(q @ q))
        q[0] = q[0] - tau if gt[0] >= 0 else q[0] + tau
        return V @ q
    for _ in range(60):
        norm = float(np.linalg.norm(q))
        if abs(norm - radius) <= 1.0e-3 * radius:
            break
        mu += (norm / radius - 1.0) * norm ** 2 / float(np.sum(gt ** 2 / (w + mu) ** 3))
        q = -gt / (w + mu)
    return V @ q


def trust_newton(cost: StencilCost, x0, lo, hi, maxiter: int = 100, tol: float = NEWTON_TOL,
                 behind: float | None = None):
    """Trust-region Newton ascent of the log-probability from ``x0`` inside ``[lo, hi]``.

    Every iteration takes one :meth:`StencilCost.newton_model` (steps ``_STEP_PER_SD`` of the
    conditional sd found at the previous point), solves the trust-region subproblem on the
    free coordinates and accepts the trial point (projected onto the box, one evaluation)
    if it gains at least a tenth of the predicted gain; the radius doubles after a good full
    step and shrinks to a quarter of the step after a poor one.

    ``behind`` is the log-probability of a maximum another start has certified.  A run more
    than :data:`BEHIND` nats below it whose mean gain over its last ``_PACE_ITERS``
    iterations, kept up for the rest of its ``maxiter``, would not close the gap is given up
    (:data:`GIVEN_UP` in the message): it is climbing a flat valley to, at best, a mode e^-10 as
    probable (one of the continued starts of ``ta_SGS1_5p68GHz_qpower``, 76 nats below,
    gained 0.002-0.03 nats per iteration for 50 iterations, 40 % of the search, and then
    reached the same maximum).  The certified maximum itself never depends on this.

    Returns
    -------
    tuple
        ``(end point, log-probability, evaluations, message, decrement)``.  ``decrement`` is
        the Newton decrement (nats) when the point is certified a maximum: ``B`` of the free
        coordinates positive definite, decrement below ``tol``, and every coordinate on a
        bound pushed against it by the gradient.  Otherwise ``nan`` and the message says why
        (a non-finite stencil point, a coordinate on a bound pulled inwards, no gain, the
        iteration limit): the caller falls back to :func:`quasi_newton`.
    """
    before = cost.nfev
    x = np.clip(np.asarray(x0, dtype=float), lo, hi)
    h, f = _initial_steps(cost, x, lo, hi)
    radius = None
    message = f"iteration limit {maxiter} reached"
    history = [f]
    for it in range(maxiter):
        if _hopeless(history, behind, maxiter - it):
            message = (f"{GIVEN_UP}: {-history[-1] - behind:.1f} nats below a certified maximum, "
                       f"gaining {(history[-1 - _PACE_ITERS] - history[-1]) / _PACE_ITERS:.2g} "
                       "nats per iteration")
            break
        model = cost.newton_model(x, h, lo, hi)
        if model is None:
            message = "a Hessian stencil point has a non-finite log-probability"
            break
        x, f, g, B, free = model
        inward = np.where(x <= lo, 1.0, -1.0)
        pulled = ~free & (inward * g < 0)
        if pulled.any():  # leave the bound by a few stencil steps, for a central stencil
            x_in = x.copy()
            x_in[pulled] = np.clip(x[pulled] + 4.0 * inward[pulled] * h[pulled], lo[pulled],
                                   hi[pulled])
            f_in = -cost.evaluate(x_in[None, :])[0]
            if not f_in < f:
                message = "a coordinate on a bound is pulled inwards, but leaving it loses"
                break
            x = x_in
            continue
        fi = np.flatnonzero(free)
        w, V = np.linalg.eigh(B[np.ix_(fi, fi)])
        gt = V.T @ g[fi]
        decrement = math.inf
        if fi.size == 0 or w[0] > 0:
            decrement = 0.5 * float(np.sum(gt ** 2 / w)) if fi.size else 0.0
            if decrement < tol:
                return (x.copy(), -float(f), cost.nfev - before,
                        f"Newton ({it + 1} iterations): maximum, decrement "
                        f"{decrement:.1e} nats", decrement)
        if radius is None:
            radius = float(np.linalg.norm(gt / w)) if w[0] > 0 else 0.1
        h[fi] = _steps(np.diag(B)[fi], h[fi])
        x, f, radius, gained = _trust_update(cost, x, f, g, B, fi, w, V, gt, radius, lo, hi)
        history.append(f)
        if not gained and decrement < NOISE_TOL:
            return (x.copy(), -float(f), cost.nfev - before,
                    f"Newton ({it + 1} iterations): maximum to the evaluation noise, "
                    f"decrement {decrement:.1e} nats", decrement)
        if not gained:
            message = "no gain within the trust region"
            break
    lp = -float(f) if math.isfinite(f) else -math.inf
    return (x.copy(), lp, cost.nfev - before, f"Newton ({it + 1} iterations): {message}",
            math.nan)


def _hopeless(costs, behind, iterations_left: int) -> bool:
    """Whether a Newton run with these costs so far (one per iteration) is given up: more
    than :data:`BEHIND` nats below ``behind`` and, at its mean gain over its last
    ``_PACE_ITERS`` iterations, unable to close that gap in ``iterations_left``."""
    if behind is None or len(costs) <= _PACE_ITERS:
        return False
    gap = costs[-1] + behind  # costs are -log_prob
    pace = (costs[-1 - _PACE_ITERS] - costs[-1]) / _PACE_ITERS
    return gap > BEHIND and pace * iterations_left < gap


def _trust_update(cost, x, f, g, B, fi, w, V, gt, radius, lo, hi):
    """One accepted trust-region step (trial points shrink the radius until one gains):
    ``(x, f, radius, gained)``."""
    for _ in range(30):
        p = np.zeros(x.size)
        p[fi] = _trust_step(w, V, gt, radius)
        x_new = np.clip(x + p, lo, hi)
        s = x_new - x
        predicted = -float(g @ s + 0.5 * s @ B @ s)
        f_new = -cost.evaluate(x_new[None, :])[0]
        gain = f - f_new
        if predicted > 0 and math.isfinite(f_new) and gain >= 0.1 * predicted:
            full = float(np.linalg.norm(p)) >= 0.9 * radius
            if gain >= 0.75 * predicted and full:
                radius *= 2.0
            elif gain < 0.25 * predicted:
                radius = 0.25 * float(np.linalg.norm(s))
            if full or gain >= 0.75 * predicted:
                x_far, f_far = _extrapolate(cost, x, p, x_new, f_new, lo, hi)
                if f_far < f_new:  # the model was too cautious: let the region follow
                    radius = max(radius, float(np.linalg.norm(x_far - x)))
                    x_new, f_new = x_far, f_far
            return x_new, f_new, radius, True
        radius = 0.25 * float(np.linalg.norm(s))
        if radius <= 1.0e-14:
            break
    return x, f, radius, False


def _extrapolate(cost, x, p, x_new, f_new, lo, hi):
    """Points ``x + t p`` (projected onto the box) for t = 2, 4, 8, ... while the cost keeps
    falling: a step the trust region cut short along a flat direction (a parameter drifting
    to a bound where its effect vanishes, a long ridge) costs a few evaluations, not an
    iteration each."""
    t = 2.0
    for _ in range(40):
        x_t = np.clip(x + t * p, lo, hi)
        if np.array_equal(x_t, x_new):
            break
        f_t = -cost.evaluate(x_t[None, :])[0]
        if not f_t < f_new:
            break
        x_new, f_new, t = x_t, f_t, 2.0 * t
    return x_new, f_new
