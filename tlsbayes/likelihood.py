"""Likelihoods: stateless, picklable, numba-compiled and vectorised over walkers.

Each likelihood turns a prediction ``mu`` of shape ``(nwalkers, n)``, the data ``y`` and the
quoted uncertainties ``sigma`` (shape ``(n,)``) into pointwise log-likelihoods
``(nwalkers, n)`` (for LOO/WAIC) or their sums ``(nwalkers,)``.  Some have parameters of their
own (a noise scale, a jitter, the Student-t ν), declared like model parameters.

* ``gaussian``: σ as quoted.
* ``gaussian_noise_scale``: σ_eff = s σ, with ``noise_scale`` s free, for error bars that are
  optimistic (s > 1) or missing (then σ = 1 and s is the noise in the unit of y).
* ``gaussian_jitter``: σ_eff² = σ² + j², with ``jitter`` j in the unit of y.
* ``student_t``: Student-t of ν degrees of freedom (``nu``) and scale s σ, for outliers.

Non-finite predictions give ``-inf``, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numba
import numpy as np

from .model import Parameter

_LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(cache=True)
def _pointwise(kind, mu, y, sigma, extra):
    nw, n = mu.shape
    out = np.empty((nw, n))
    for w in range(nw):
        if kind == 3:
            nu = extra[w, 1]
            norm = (math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu)
                    - 0.5 * math.log(nu * math.pi))
        for i in range(n):
            r = y[i] - mu[w, i]
            if not math.isfinite(r):
                out[w, i] = -np.inf
                continue
            if kind == 0:
                s = sigma[i]
            elif kind == 1 or kind == 3:
                s = extra[w, 0] * sigma[i]
            else:
                s = math.sqrt(sigma[i] * sigma[i] + extra[w, 0] * extra[w, 0])
            if not (s > 0.0):
                out[w, i] = -np.inf
                continue
            z = r / s
            if kind == 3:
                out[w, i] = norm - math.log(s) - 0.5 * (nu + 1.0) * math.log1p(z * z / nu)
            else:
                out[w, i] = -0.5 * z * z - math.log(s) - 0.5 * _LOG_2PI
    return out


@numba.njit(cache=True)
def _total(kind, mu, y, sigma, extra):
    nw, n = mu.shape
    if kind == 0 or kind == 1:
        # Gaussian with σ_eff = c σ (c = 1, or the noise scale): Σ ln σ is the same for every
        # walker, so the sum costs n logarithms a call instead of n per walker.
        sum_log_sigma = 0.0
        inv_sigma = np.empty(n)
        positive = True
        for i in range(n):
            positive = positive and sigma[i] > 0.0
            inv_sigma[i] = 1.0 / sigma[i] if sigma[i] > 0.0 else 0.0  # numba raises on 1/0
            sum_log_sigma += math.log(sigma[i]) if sigma[i] > 0.0 else 0.0
        if positive:
            base = -sum_log_sigma - 0.5 * n * _LOG_2PI
            out = np.empty(nw)
            for w in range(nw):
                c = 1.0 if kind == 0 else extra[w, 0]
                if not (c > 0.0):
                    out[w] = -np.inf
                    continue
                q = 0.0
                for i in range(n):
                    z = (y[i] - mu[w, i]) * inv_sigma[i]
                    q += z * z
                t = base - 0.5 * (q / c / c) - n * math.log(c)  # not c*c: it underflows to 0
                out[w] = t if t == t else -np.inf  # a NaN prediction: impossible, not NaN
            return out
    pw = _pointwise(kind, mu, y, sigma, extra)
    nw, n = pw.shape
    out = np.empty(nw)
    for w in range(nw):
        s = 0.0
        for i in range(n):
            s += pw[w, i]
        out[w] = s if s == s else -np.inf
    return out


KINDS = ("gaussian", "gaussian_noise_scale", "gaussian_jitter", "student_t")


@dataclass(frozen=True)
class Likelihood:
    """A likelihood family by name; see the module docstring.

    Parameters
    ----------
    kind : str
        One of ``gaussian``, ``gaussian_noise_scale``, ``gaussian_jitter``, ``student_t``.
    """

    kind: str = "gaussian"

    requires_sigma: ClassVar[tuple] = ("gaussian",)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown likelihood {self.kind!r} (allowed: {', '.join(KINDS)})")

    @property
    def parameters(self) -> tuple:
        """Parameters of the likelihood itself (names before any per-data-set suffix)."""
        scale = Parameter("noise_scale", "", r"$s$",
                          {"dist": "loguniform", "low": 0.05, "high": 100.0}, (0.0, math.inf))
        if self.kind == "gaussian":
            return ()
        if self.kind == "gaussian_noise_scale":
            return (scale,)
        if self.kind == "gaussian_jitter":
            return (Parameter("jitter", "y", r"$j$",
                              {"dist": "loguniform", "low": 1e-30, "high": 1e30},
                              (0.0, math.inf)),)
        return (scale, Parameter("nu", "", r"$\nu$", {"dist": "fixed", "value": 4.0},
                                 (0.0, math.inf)))

    def default_priors(self, y=None, sigma=None) -> dict:
        pri = {p.name: dict(p.prior) for p in self.parameters}
        if self.kind == "gaussian_jitter" and y is not None:
            spread = float(np.ptp(y)) or float(abs(np.mean(y))) or 1.0
            pri["jitter"] = {"dist": "loguniform", "low": spread * 1e-8, "high": spread}
        return pri

    @property
    def code(self) -> int:
        return KINDS.index(self.kind)

    def pointwise(self, mu, y, sigma, extra=None) -> np.ndarray:
        """Pointwise log-likelihood, shape ``(nwalkers, n)``.

        Parameters
        ----------
        mu : ndarray, shape (nwalkers, n) or (n,)
            Prediction.
        y, sigma : ndarray, shape (n,)
            Data and quoted standard deviations (ones when none were quoted).
        extra : ndarray, shape (nwalkers, k), optional
            Values of :attr:`parameters`, in order.
        """
        mu2 = np.atleast_2d(np.asarray(mu, dtype=np.float64))
        return _pointwise(self.code, mu2, np.asarray(y, np.float64),
                          np.asarray(sigma, np.float64), self._extra(extra, mu2.shape[0]))

    def total(self, mu, y, sigma, extra=None) -> np.ndarray:
        """Summed log-likelihood, shape ``(nwalkers,)``."""
        mu2 = np.atleast_2d(np.asarray(mu, dtype=np.float64))
        return _total(self.code, mu2, np.asarray(y, np.float64),
                      np.asarray(sigma, np.float64), self._extra(extra, mu2.shape[0]))

    def sample(self, mu, sigma, extra=None, rng=None) -> np.ndarray:
        """Simulated data ``y ~ p(y | mu)`` under this noise model, shape of ``mu``.

        Parameters
        ----------
        mu : ndarray, shape (nwalkers, n)
        sigma : ndarray, shape (n,)
        extra : ndarray, shape (nwalkers, k), optional
        rng : numpy.random.Generator
        """
        mu2 = np.atleast_2d(np.asarray(mu, dtype=np.float64))
        e = self._extra(extra, mu2.shape[0])
        sigma = np.asarray(sigma, dtype=np.float64)
        if self.kind == "gaussian":
            scale = np.broadcast_to(sigma, mu2.shape)
        elif self.kind == "gaussian_jitter":
            scale = np.sqrt(sigma ** 2 + e[:, :1] ** 2)
        else:
            scale = e[:, :1] * sigma
        if self.kind == "student_t":
            z = rng.standard_t(e[:, 1:2], size=mu2.shape)
        else:
            z = rng.standard_normal(mu2.shape)
        return mu2 + scale * z

    @staticmethod
    def _extra(extra, nw):
        if extra is None:
            return np.ones((nw, 2))
        e = np.asarray(extra, dtype=np.float64)
        e = np.atleast_2d(e)
        if e.shape[1] < 2:
            e = np.concatenate([e, np.ones((e.shape[0], 2 - e.shape[1]))], axis=1)
        return np.ascontiguousarray(np.broadcast_to(e, (nw, e.shape[1])))
