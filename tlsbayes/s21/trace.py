"""The posterior of one S21 trace: named parameters, priors, a log-probability over walkers.

Parameters (sampling coordinates) are those of the kernel, :data:`tlsbayes.physics.s21.PARAMS`:
``f_r`` [Hz], ``inv_Qi`` (1/Q_i), ``inv_Qc`` (cos φ/|Q_c|), ``phi``, ``a``, ``a1`` [1/Hz],
``alpha``, ``tau`` [s], then ``b2_re``, ``b2_im`` [1/Hz²] when the least-squares fit chose
the background curvature (:func:`tlsbayes.s21.lsq.choose_background`), plus ``ln_sigma`` when
the noise is free.

Priors (independent, uniform on the box below; ^ marks the least-squares value):

===========  =====================================================================
f_r          within the measured span
inv_Qi       [0, 1]: Q_i >= 1; uniform in 1/Q_i, so ``π(ln Q_i) ∝ 1/Q_i`` (the density the
             two-stage reweighting divides by)
inv_Qc       (0, 1]
phi          (-π/2, π/2): Re(1/Q̂_c) > 0
a            (0, 10 max|z|)
a1           ``|a1| · span < a``: the background amplitude stays positive over the span
alpha        α^ ± π (α is an angle; centring the window on α^ keeps the posterior away from
             the wrap)
tau          τ^ ± 1/span (one turn of the phase across the span)
b2_re, b2_im ± 1/(span/2)²: the curvature changes the background by less than 100 % at the
             edges
ln_sigma     ln σ^ ± ln 100 (Jeffreys, ``noise="free"`` only)
===========  =====================================================================

Likelihood: independent Gaussian noise of standard deviation σ in each quadrature,
``ln L = -Σ|z_j - S(f_j)|² / (2σ²) - 2m ln σ - m ln 2π``.  With ``noise="estimate"`` σ is
fixed at the least-squares ``sigma_fit`` (the residual scatter, which also absorbs a smooth
misfit and so does not understate the errors); with ``noise="free"`` it is sampled.
"""

from __future__ import annotations

import math

import numpy as np

from ..physics import s21 as k
from .lsq import LsqFit, param_scales

__all__ = ["TracePosterior", "NOISE_MODES"]

NOISE_MODES = ("estimate", "free")
_LN_SIGMA_RANGE = math.log(100.0)


class TracePosterior:
    """Posterior of one trace's parameters given its least-squares fit.

    Parameters
    ----------
    f : ndarray, shape (m,)
        Frequencies [Hz], increasing.
    z : ndarray of complex, shape (m,)
    fit : LsqFit
        Least-squares optimum (centre of the start sample and of the α, τ windows).
    f_ref : float
        Reference frequency of the model [Hz].
    geometry : str or int
    noise : {"estimate", "free"}

    Attributes
    ----------
    names : tuple of str
        Names of the sampled parameters, in order.
    ndim : int
    """

    def __init__(self, f, z, fit: LsqFit, f_ref: float, geometry="notch", noise="estimate"):
        if noise not in NOISE_MODES:
            raise ValueError(f"noise = {noise!r}: choose one of {', '.join(NOISE_MODES)}")
        self.f = np.ascontiguousarray(f, dtype=float)
        z = np.asarray(z, dtype=complex)
        self.z_re = np.ascontiguousarray(z.real)
        self.z_im = np.ascontiguousarray(z.imag)
        self.m = self.f.size
        self.step = k.uniform_step(self.f)
        self.fit = fit
        self.f_ref = float(f_ref)
        self.geometry = k.geometry_code(geometry)
        self.noise = noise
        self.free_sigma = noise == "free"
        self.nbg = k.NBG if fit.background else 0
        self.names = k.PARAMS + (k.BG_PARAMS if self.nbg else ()) + \
            (("ln_sigma",) if self.free_sigma else ())
        self.ndim = len(self.names)
        self.sigma = float(fit.sigma_fit)
        span = float(self.f[-1] - self.f[0])
        th = fit.theta
        lo = np.full(self.ndim, -np.inf)
        hi = np.full(self.ndim, np.inf)
        lo[k.I_FR], hi[k.I_FR] = self.f[0], self.f[-1]
        lo[k.I_INV_QI], hi[k.I_INV_QI] = 0.0, 1.0
        lo[k.I_INV_QC], hi[k.I_INV_QC] = 0.0, 1.0
        lo[k.I_PHI], hi[k.I_PHI] = -0.5 * math.pi, 0.5 * math.pi
        lo[k.I_A], hi[k.I_A] = 0.0, 10.0 * float(np.max(np.abs(z)))
        lo[k.I_ALPHA], hi[k.I_ALPHA] = th[k.I_ALPHA] - math.pi, th[k.I_ALPHA] + math.pi
        lo[k.I_TAU], hi[k.I_TAU] = th[k.I_TAU] - 1.0 / span, th[k.I_TAU] + 1.0 / span
        lo[k.NPARAMS:k.NPARAMS + self.nbg] = -4.0 / span ** 2
        hi[k.NPARAMS:k.NPARAMS + self.nbg] = 4.0 / span ** 2
        if self.free_sigma:
            ls = math.log(self.sigma)
            lo[-1], hi[-1] = ls - _LN_SIGMA_RANGE, ls + _LN_SIGMA_RANGE
        self.lower, self.upper = lo, hi
        self.span = span
        self._half_span = 0.5 * span

    def in_support(self, theta) -> np.ndarray:
        """Boolean mask, shape (n,), of the points inside the prior's support."""
        theta = np.atleast_2d(theta)
        inside = np.all((theta > self.lower) & (theta < self.upper), axis=1)
        # |a1| span < a, written with the half span around f_ref at both ends
        a, a1 = theta[:, k.I_A], theta[:, k.I_A1]
        edge = np.maximum(np.abs(self.f[0] - self.f_ref), np.abs(self.f[-1] - self.f_ref))
        return inside & (np.abs(a1) * edge < a)

    def log_prior(self, theta) -> np.ndarray:
        """Log prior density (up to a constant), shape (n,); -inf outside the support."""
        return np.where(self.in_support(theta), 0.0, -np.inf)

    def kernel_params(self, theta) -> np.ndarray:
        """Kernel parameter vectors, shape (n, NPARAMS), of sampling points ``theta``."""
        return np.ascontiguousarray(np.atleast_2d(theta)[:, : k.NPARAMS])

    def log_likelihood(self, theta) -> np.ndarray:
        """Gaussian log-likelihood, shape (n,); evaluated only where the prior allows."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        out = np.full(theta.shape[0], -np.inf)
        ok = self.in_support(theta)
        if ok.any():
            out[ok] = self._log_like(theta[ok])
        return out

    def background_params(self, theta) -> np.ndarray | None:
        """Background curvature, shape (n, NBG), of sampling points; None when not sampled."""
        if not self.nbg:
            return None
        return np.ascontiguousarray(np.atleast_2d(theta)[:, k.NPARAMS:k.NPARAMS + self.nbg])

    def model_params(self, theta) -> np.ndarray:
        """Rows for :func:`tlsbayes.physics.s21.model_batch`: PARAMS and any curvature."""
        return np.ascontiguousarray(np.atleast_2d(theta)[:, : k.NPARAMS + self.nbg])

    def _log_like(self, theta) -> np.ndarray:
        rss = k.sq_residual_batch(self.f, self.z_re, self.z_im, self.kernel_params(theta),
                                  self.f_ref, self.geometry, self.step,
                                  self.background_params(theta))
        if self.free_sigma:
            ln_s = theta[:, -1]
            s2 = np.exp(2.0 * ln_s)
        else:
            ln_s = math.log(self.sigma)
            s2 = self.sigma ** 2
        return -0.5 * rss / s2 - 2.0 * self.m * ln_s - self.m * math.log(2.0 * math.pi)

    def __call__(self, theta):
        """``(log_prob, log_prior, log_likelihood)``, each of shape (n,) (sampler convention)."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        lp = self.log_prior(theta)
        ll = np.full(theta.shape[0], -np.inf)
        ok = np.isfinite(lp)
        if ok.any():
            ll[ok] = self._log_like(theta[ok])
        return lp + ll, lp, ll

    def optimum(self) -> np.ndarray:
        """The least-squares point in sampling coordinates, pulled inside the support."""
        th = np.array(self.fit.theta, dtype=float)
        th[k.I_INV_QI] = max(th[k.I_INV_QI], 1e-3 * abs(th[k.I_INV_QC]) + 1e-15)
        if self.free_sigma:
            th = np.append(th, math.log(self.sigma))
        return th

    def covariance(self) -> np.ndarray:
        """Least-squares covariance in sampling coordinates (a diagonal guess if singular)."""
        cov = np.array(self.fit.cov, dtype=float)
        scale = param_scales(self.fit.theta, self.f)
        if not np.all(np.isfinite(cov)) or np.any(np.linalg.eigvalsh(
                cov / np.outer(scale, scale)) <= 0):
            cov = np.diag((1e-3 * scale) ** 2)
        if self.free_sigma:
            big = np.zeros((self.ndim, self.ndim))
            big[:-1, :-1] = cov
            big[-1, -1] = 1.0 / (2.0 * self.m)  # var(ln σ) of 2m Gaussian values
            cov = big
        return cov

    def start(self, nwalkers: int, rng: np.random.Generator) -> np.ndarray:
        """``nwalkers`` points from N(optimum, covariance) inside the support."""
        mean, cov = self.optimum(), self.covariance()
        out = np.empty((0, self.ndim))
        for _ in range(100):
            draw = rng.multivariate_normal(mean, cov, size=2 * nwalkers, method="cholesky")
            out = np.vstack([out, draw[self.in_support(draw)]])
            if out.shape[0] >= nwalkers:
                return out[:nwalkers]
        outside = [f"{n} = {v:.4g} (allowed {lo:.4g} .. {hi:.4g})" for n, v, lo, hi in
                   zip(self.names, mean, self.lower, self.upper) if not lo < v < hi]
        raise ValueError("cannot draw start points inside the prior support; least-squares "
                         "optimum: " + (", ".join(outside) or "|a1| (span/2) >= a"))

    def derived(self, theta) -> dict:
        """Q_i, Q_c, |Q_c|, Q_l and f_r of sampling points, each of shape (n,)."""
        return k.derived_q(self.kernel_params(theta), self.geometry)
