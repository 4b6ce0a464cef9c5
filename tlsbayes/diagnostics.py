"""Convergence diagnostics of ensemble chains, computed on plain arrays.

* :func:`integrated_time`: integrated autocorrelation time τ per parameter, the estimator of
  Goodman & Weare / emcee (walker-averaged normalised autocorrelation, Sokal's automatic window).
* :func:`split_rhat`: rank-normalised split R-hat, the larger of the bulk and the folded (tail)
  value (Vehtari, Gelman, Simpson, Carpenter & Bürkner, Bayesian Analysis 16, 667 (2021)).
* :func:`ess_bulk`: bulk effective sample size of the rank-normalised split chains with
  Geyer's initial monotone sequence (same reference).

These are the statistics ArviZ reports (``az.rhat(method="rank")``, ``az.ess(method="bulk")``)
and the tests hold them to ArviZ's values to 1e-10.  They exist here because the sampler
evaluates them on the whole chain after every chunk: ArviZ's xarray layer and
``scipy.stats.rankdata`` cost more than the sampling itself on long runs, while the arrays
below need one argsort per parameter and one batched FFT.

All functions take ``chains`` of shape ``(nchains, ndraws, ndim)`` (``integrated_time``: the
emcee layout ``(nsteps, nwalkers, ndim)``) and return one value per parameter, shape ``(ndim,)``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import scipy.fft
from scipy.special import ndtri


def _autocov(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance along the last axis (divided by n), every lag, one batched FFT."""
    n = x.shape[-1]
    size = scipy.fft.next_fast_len(2 * n, real=True)
    f = scipy.fft.rfft(x - x.mean(axis=-1, keepdims=True), n=size, axis=-1)
    return scipy.fft.irfft(f.real ** 2 + f.imag ** 2, n=size, axis=-1)[..., :n] / n


def integrated_time(x: np.ndarray, c: float = 5.0) -> np.ndarray:
    """Integrated autocorrelation time of an ensemble chain, per parameter.

    The estimator of :func:`emcee.autocorr.integrated_time` (walker-averaged normalised
    autocorrelation, automatic window ``M = min{M : M >= c τ(M)}``, no length check), computed
    with one FFT call over all walkers and parameters rather than one per walker.

    Parameters
    ----------
    x : ndarray, shape (nsteps, nwalkers, ndim)
    c : float
        Window constant (Sokal 1997).

    Returns
    -------
    ndarray, shape (ndim,)
        τ in steps; NaN for a parameter that never moves.
    """
    n = x.shape[0]
    # FFT along a contiguous last axis: 2-3x faster than along axis 0 of the emcee layout.
    series = np.ascontiguousarray(np.moveaxis(np.asarray(x, dtype=float), 0, -1))
    acov = _autocov(series)
    with np.errstate(divide="ignore", invalid="ignore"):
        acf = (acov / acov[..., :1]).mean(axis=0)  # (ndim, n)
    taus = 2.0 * np.cumsum(acf, axis=1) - 1.0
    out = np.empty(taus.shape[0])
    lags = np.arange(n)
    for d in range(taus.shape[0]):
        inside = lags < c * taus[d]
        out[d] = taus[d, np.argmin(inside) if np.any(inside) else n - 1]
    return out


@numba.njit(cache=True)
def _average_ranks(values, order):
    """1-based ranks of each row of ``values`` (ties get their average rank)."""
    nrow, n = values.shape
    ranks = np.empty((nrow, n))
    for r in range(nrow):
        i = 0
        while i < n:
            j = i
            v = values[r, order[r, i]]
            while j + 1 < n and values[r, order[r, j + 1]] == v:
                j += 1
            avg = 0.5 * (i + j) + 1.0
            for k in range(i, j + 1):
                ranks[r, order[r, k]] = avg
            i = j + 1
    return ranks


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise each parameter over all chains and draws (Blom offset 3/8)."""
    m, n, ndim = x.shape
    rows = np.ascontiguousarray(x.reshape(m * n, ndim).T)
    ranks = _average_ranks(rows, np.argsort(rows, axis=1))  # ties get their average anyway
    z = ndtri((ranks - 0.375) / (m * n + 0.25))
    return np.ascontiguousarray(z.T).reshape(m, n, ndim)


def _split(x: np.ndarray) -> np.ndarray:
    """Each chain cut into its first and last halves (the middle draw of an odd chain dropped)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _rhat_classic(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), axis=0, ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def split_rhat(chains: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: max of the bulk and the folded-draws value.

    Parameters
    ----------
    chains : ndarray, shape (nchains, ndraws, ndim)
        At least 2 chains of at least 4 draws.

    Returns
    -------
    ndarray, shape (ndim,)
    """
    s = _split(np.asarray(chains, dtype=float))
    bulk = _rhat_classic(_z_scale(s))
    folded = np.abs(s - np.median(s.reshape(-1, s.shape[2]), axis=0))
    return np.maximum(bulk, _rhat_classic(_z_scale(folded)))


@numba.njit(cache=True)
def _geyer_tau(acov_mean, mean_var, var_plus, total):
    """τ from Geyer's initial positive then initial monotone sequence (one parameter)."""
    n = acov_mean.size
    rho = np.zeros(n)
    rho[0] = 1.0
    even = 1.0
    odd = 1.0 - (mean_var - acov_mean[1]) / var_plus
    rho[1] = odd
    bad = math.isnan(odd)
    t = 1
    while t < n - 3 and even + odd > 0.0:
        even = 1.0 - (mean_var - acov_mean[t + 1]) / var_plus
        odd = 1.0 - (mean_var - acov_mean[t + 2]) / var_plus
        if even + odd >= 0.0:
            rho[t + 1] = even
            rho[t + 2] = odd
            bad = bad or math.isnan(even) or math.isnan(odd)
        t += 2
    max_t = t - 2
    if even > 0.0:
        rho[max_t + 1] = even
    t = 1
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = 0.5 * (rho[t - 1] + rho[t])
            rho[t + 2] = rho[t + 1]
        t += 2
    tau = -1.0 + 2.0 * np.sum(rho[: max_t + 1]) + np.sum(rho[max_t + 1: max_t + 2])
    tau = max(tau, 1.0 / math.log10(total))
    return math.nan if bad else tau


def ess_bulk(chains: np.ndarray) -> np.ndarray:
    """Bulk effective sample size of the rank-normalised split chains.

    Parameters
    ----------
    chains : ndarray, shape (nchains, ndraws, ndim)
        At least 4 draws.

    Returns
    -------
    ndarray, shape (ndim,)
    """
    z = _z_scale(_split(np.asarray(chains, dtype=float)))
    m, n, ndim = z.shape
    series = np.ascontiguousarray(np.moveaxis(z, 1, -1))  # (m, ndim, n)
    acov_mean = _autocov(series).mean(axis=0)  # (ndim, n)
    mean_var = acov_mean[:, 0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + np.var(series.mean(axis=2), axis=0, ddof=1)
    out = np.empty(ndim)
    for d in range(ndim):
        if np.ptp(z[:, :, d]) < np.finfo(float).resolution:
            out[d] = m * n  # a constant column: ArviZ's convention
        else:
            out[d] = m * n / _geyer_tau(np.ascontiguousarray(acov_mean[d]), mean_var[d],
                                        var_plus[d], float(m * n))
    return out
