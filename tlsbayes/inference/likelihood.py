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
* ``trace_posterior``: each point is the posterior of a fitted S21 trace; the two-stage
  reweighting of :mod:`tlsbayes.inference.traces` with a free ``excess_scatter`` between
  traces (the data set carries the draws; the compiled functions here never see this kind).

Non-finite predictions give ``-inf``, never NaN.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..models.base import Parameter, kernel_array
from .likelihood_codes import EXTRA_COLUMNS, KINDS, X_NU, X_SCALE

__all__ = ["Likelihood", "KINDS"]


@functools.cache
def _kernels():
    """The compiled functions (:mod:`tlsbayes.inference.kernels`): numba is imported on the
    first evaluation, not when a card names a likelihood."""
    from . import kernels

    return kernels


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
        if self.kind == "trace_posterior":
            return (Parameter("excess_scatter", "", r"$\sigma_x$",
                              {"dist": "uniform", "low": 0.0, "high": 1.0}, (0.0, math.inf)),)
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
        if self.kind == "trace_posterior" and y is not None and sigma is not None:
            # a fraction of the model value, flat up to 100x a trace's own relative error
            # (measured excess scatter is 4.5-14x, issue 14), at most 1 (a factor e)
            rel = float(np.median(np.asarray(sigma, dtype=float) / np.asarray(y, dtype=float)))
            high = min(1.0, 100.0 * rel) if rel > 0 else 1.0
            pri["excess_scatter"] = {"dist": "uniform", "low": 0.0,
                                     "high": float(f"{high:.2g}")}
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
        return _kernels().pointwise_log_likelihood(self.code, mu2, kernel_array(y),
                                                   kernel_array(sigma),
                                                   self.extra_matrix(extra, mu2.shape[0]))

    def total(self, mu, y, sigma, extra=None) -> np.ndarray:
        """Summed log-likelihood, shape ``(nwalkers,)``."""
        mu2 = np.atleast_2d(np.asarray(mu, dtype=np.float64))
        return _kernels().total_log_likelihood(self.code, mu2, kernel_array(y),
                                               kernel_array(sigma),
                                               self.extra_matrix(extra, mu2.shape[0]))

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
        e = self.extra_matrix(extra, mu2.shape[0])
        sigma = np.asarray(sigma, dtype=np.float64)
        if self.kind == "gaussian":
            scale = np.broadcast_to(sigma, mu2.shape)
        elif self.kind == "gaussian_jitter":
            scale = np.sqrt(sigma ** 2 + e[:, X_SCALE:X_SCALE + 1] ** 2)
        elif self.kind == "trace_posterior":
            scale = np.sqrt(sigma ** 2 + (e[:, X_SCALE:X_SCALE + 1] * mu2) ** 2)
        else:
            scale = e[:, X_SCALE:X_SCALE + 1] * sigma
        if self.kind == "student_t":
            z = rng.standard_t(e[:, X_NU:X_NU + 1], size=mu2.shape)
        else:
            z = rng.standard_normal(mu2.shape)
        return mu2 + scale * z

    @staticmethod
    def extra_matrix(extra, nw):
        """The ``extra`` argument of the compiled likelihoods, shape ``(nw, >= 2)``.

        Parameters
        ----------
        extra : array_like, shape (nw, k) or (k,), or None
            Values of :attr:`parameters`, in order; missing columns are filled with ones.
        nw : int
            Number of walkers.
        """
        k = len(EXTRA_COLUMNS)
        if extra is None:
            return np.ones((nw, k))
        e = np.asarray(extra, dtype=np.float64)
        e = np.atleast_2d(e)
        if e.shape[1] < k:
            e = np.concatenate([e, np.ones((e.shape[0], k - e.shape[1]))], axis=1)
        # a writable C array, as the sampler's own path builds it: one compiled specialisation
        # of each likelihood, not a second one for a read-only broadcast view
        return np.array(np.broadcast_to(e, (nw, e.shape[1])), dtype=np.float64, order="C")
