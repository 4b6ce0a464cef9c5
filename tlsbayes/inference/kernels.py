"""The compiled (numba) functions of inference: likelihoods and the prior evaluator.

Imported on first evaluation, not with :mod:`tlsbayes.inference`: reading a card needs the
likelihood kinds, parameter names and priors, and numba takes about half a second to import.
The codes and columns they read are declared once in :mod:`~tlsbayes.inference.likelihood`
(``KIND_*``, ``X_*``) and :mod:`~tlsbayes.inference.priors` (``CODE_*``, ``R_*``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .likelihood_codes import (EXTRA_COLUMNS, KIND_GAUSSIAN, KIND_NOISE_SCALE,
                               KIND_STUDENT_T, X_NU, X_SCALE)
from .priors import CODE_LOGUNIFORM, CODE_UNIFORM, R_HIGH, R_LOG_NORM, R_LOW, R_MU, R_SIGMA

__all__ = ["pointwise_log_likelihood", "total_log_likelihood", "prior_rows_and_params",
           "dataset_columns", "sum_log_prob"]

_LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(cache=True)
def pointwise_log_likelihood(kind, mu, y, sigma, extra):
    """Pointwise log-likelihood, shape ``(nwalkers, n)``; ``-inf`` for non-finite residuals.

    Parameters
    ----------
    kind : int
        ``KIND_*`` code.
    mu : ndarray, shape (nwalkers, n)
        Prediction.
    y, sigma : ndarray, shape (n,)
        Data and quoted standard deviations.
    extra : ndarray, shape (nwalkers, len(EXTRA_COLUMNS))
        The likelihood's own parameters (:meth:`Likelihood.extra_matrix`).
    """
    nw, n = mu.shape
    out = np.empty((nw, n))
    for w in range(nw):
        if kind == KIND_STUDENT_T:
            nu = extra[w, X_NU]
            norm = (math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu)
                    - 0.5 * math.log(nu * math.pi))
        for i in range(n):
            r = y[i] - mu[w, i]
            if not math.isfinite(r):
                out[w, i] = -np.inf
                continue
            if kind == KIND_GAUSSIAN:
                s = sigma[i]
            elif kind == KIND_NOISE_SCALE or kind == KIND_STUDENT_T:
                s = extra[w, X_SCALE] * sigma[i]
            else:
                s = math.sqrt(sigma[i] * sigma[i] + extra[w, X_SCALE] * extra[w, X_SCALE])
            if not (s > 0.0):
                out[w, i] = -np.inf
                continue
            z = r / s
            if kind == KIND_STUDENT_T:
                out[w, i] = norm - math.log(s) - 0.5 * (nu + 1.0) * math.log1p(z * z / nu)
            else:
                out[w, i] = -0.5 * z * z - math.log(s) - 0.5 * _LOG_2PI
    return out


@numba.njit(cache=True)
def total_log_likelihood(kind, mu, y, sigma, extra):
    """Log-likelihood summed over points, shape ``(nwalkers,)``: the sampler's hot path.

    Arguments as in :func:`pointwise_log_likelihood`; ``-inf`` (never NaN) where a prediction
    is not finite.
    """
    nw, n = mu.shape
    if kind == KIND_GAUSSIAN or kind == KIND_NOISE_SCALE:
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
                c = 1.0 if kind == KIND_GAUSSIAN else extra[w, X_SCALE]
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
    pw = pointwise_log_likelihood(kind, mu, y, sigma, extra)
    nw, n = pw.shape
    out = np.empty(nw)
    for w in range(nw):
        s = 0.0
        for i in range(n):
            s += pw[w, i]
        out[w] = s if s == s else -np.inf
    return out


@numba.njit(cache=True)
def prior_rows_and_params(theta, codes, table, fixed, free_pos):
    """Log prior and all parameter values of each walker, from the rows of
    :func:`tlsbayes.inference.prior_set.compile_priors` (see
    :func:`~tlsbayes.inference.prior_set.prior_and_params`)."""
    nw, nd = theta.shape
    lp = np.zeros(nw)
    params = np.empty((nw, fixed.size))
    for w in range(nw):
        for j in range(fixed.size):
            params[w, j] = fixed[j]
        for i in range(nd):
            z = theta[w, i]
            lo, hi = table[i, R_LOW], table[i, R_HIGH]
            mu, sig, norm = table[i, R_MU], table[i, R_SIGMA], table[i, R_LOG_NORM]
            c = codes[i]
            if not (lo <= z <= hi):
                lp[w] = -np.inf
            elif c == CODE_UNIFORM or c == CODE_LOGUNIFORM:
                lp[w] += norm
            else:
                r = (z - mu) / sig
                lp[w] += norm - 0.5 * r * r
            params[w, free_pos[i]] = math.exp(z) if c == CODE_LOGUNIFORM else z
    return lp, params


@numba.njit(cache=True)
def dataset_columns(params, mcols, lcols):
    """One data set's model parameters and likelihood ``extra`` matrix from ``params``.

    Parameters
    ----------
    params : ndarray, shape (nwalkers, nparams)
        Every parameter (:func:`tlsbayes.inference.prior_set.prior_and_params`).
    mcols, lcols : ndarray of int64
        Columns of the model's parameters and of the likelihood's own (may be empty).

    Returns
    -------
    P : ndarray, shape (nwalkers, len(mcols))
        C-ordered, as every kernel is compiled for (:func:`tlsbayes.models.base.kernel_array`).
    extra : ndarray, shape (nwalkers, len(EXTRA_COLUMNS))
        The likelihood's parameters padded with ones (:meth:`Likelihood.extra_matrix`).

    One compiled call instead of the half-dozen NumPy temporaries of fancy indexing and
    padding (~10 µs a call, a tenth of a quasiparticle card's log-probability).
    """
    nw = params.shape[0]
    P = np.empty((nw, mcols.size))
    extra = np.ones((nw, len(EXTRA_COLUMNS)))
    for w in range(nw):
        for j in range(mcols.size):
            P[w, j] = params[w, mcols[j]]
        for j in range(lcols.size):
            extra[w, j] = params[w, lcols[j]]
    return P, extra


@numba.njit(cache=True)
def sum_log_prob(lprior, llike):
    """``lprior + llike``, ``-inf`` where that is NaN (shape (nwalkers,))."""
    lp = np.empty(lprior.size)
    for w in range(lprior.size):
        v = lprior[w] + llike[w]
        lp[w] = v if v == v else -np.inf
    return lp
