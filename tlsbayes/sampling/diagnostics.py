"""Convergence diagnostics of ensemble chains, computed on plain arrays.

* :func:`integrated_time`: integrated autocorrelation time τ per parameter, the estimator of
  Goodman & Weare / emcee (walker-averaged normalised autocorrelation, Sokal's automatic window).
* :func:`split_rhat`: rank-normalised split R-hat, the larger of the bulk and the folded (tail)
  value (Vehtari, Gelman, Simpson, Carpenter & Bürkner, Bayesian Analysis 16, 667 (2021)).
* :func:`ess_bulk`: bulk effective sample size of the rank-normalised split chains with
  Geyer's initial monotone sequence (same reference).
* :func:`rank_diagnostics`: both of the above for an ensemble chain (ESS with every walker a
  chain, R-hat over :func:`walker_blocks`) from one sort per parameter.

These are the statistics ArviZ reports (``az.rhat(method="rank")``, ``az.ess(method="bulk")``)
and the tests hold them to ArviZ's values to 1e-10.  They exist here because the sampler
evaluates them on the whole chain at every check: ArviZ's xarray layer and
``scipy.stats.rankdata`` cost more than the sampling itself on long runs, while the arrays
below need one argsort per parameter and one batched forward FFT (the walker average is
taken on the power spectra, so only one inverse transform per parameter remains).

All functions take ``chains`` of shape ``(nchains, ndraws, ndim)`` (``integrated_time``: the
emcee layout ``(nsteps, nwalkers, ndim)``) and return one value per parameter, shape ``(ndim,)``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import scipy.fft
from scipy.special import ndtri


def _fft_size(n: int, lags: int) -> int:
    """FFT length for the linear autocovariance of ``n`` draws at lags 0 .. ``lags``.

    Zero padding to ``size >= n + lags`` makes the inverse transform the linear (not the
    circular) autocovariance; :func:`scipy.fft.next_fast_len` picks a length of small factors.
    """
    return scipy.fft.next_fast_len(n + lags, real=True)


def _centred_padded(series: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``series`` (..., n) centred along its last axis, written into zeros of shape (..., size).

    One pass builds what the FFT needs (a transposing copy of the chain, the centring and
    the zero padding were three before).  Returns the padded array and the means (..., 1).
    """
    n = series.shape[-1]
    padded = np.zeros(series.shape[:-1] + (size,))
    body = padded[..., :n]
    body[...] = series
    mean = body.mean(axis=-1, keepdims=True)
    body -= mean
    return padded, mean


@numba.njit(cache=True)
def _transpose_into(x, out):
    """``out[w, d, t] = x[t, w, d]``, zeros for ``t >= nsteps``: the emcee layout into an FFT
    buffer, in blocks of steps (numpy's strided copy of a 2000 x 32 x 4 chain took 4x as
    long)."""
    n, nwalkers, ndim = x.shape
    for t0 in range(0, n, 64):
        t1 = min(n, t0 + 64)
        for w in range(nwalkers):
            for k in range(ndim):
                for t in range(t0, t1):
                    out[w, k, t] = x[t, w, k]
    for w in range(nwalkers):  # the zero padding (out comes from np.empty)
        for k in range(ndim):
            for t in range(n, out.shape[2]):
                out[w, k, t] = 0.0


def _mean_autocov(padded: np.ndarray, n: int, weights: np.ndarray, lags: int) -> np.ndarray:
    """Σ_s weights[s] · (biased autocovariance of series s) per parameter, lags 0 .. lags - 1.

    ``padded`` has shape ``(nseries, ndim, size)``: centred series of ``n`` draws followed by
    zeros, ``size >= _fft_size(n, lags)`` (:func:`_centred_padded`); ``weights`` has shape
    ``(nseries, ndim)``; returns ``(ndim, lags)``.  The autocovariance at lag k is
    Σ_t x_t x_{t+k} / n.  The weighted power spectra are summed before the one inverse
    transform per parameter: the inverse FFT is linear, so that equals summing the weighted
    autocovariances of every series, with half the transforms.
    """
    size = padded.shape[-1]
    f = scipy.fft.rfft(padded, axis=-1)
    power = f.real ** 2 + f.imag ** 2
    spectrum = np.einsum("sdk,sd->dk", power, weights)
    return scipy.fft.irfft(spectrum, n=size, axis=-1)[..., :lags] / n


def integrated_time(x: np.ndarray, c: float = 5.0, max_lag: int | None = None) -> np.ndarray:
    """Integrated autocorrelation time of an ensemble chain, per parameter.

    The estimator of :func:`emcee.autocorr.integrated_time` (walker-averaged normalised
    autocorrelation, automatic window ``M = min{M : M >= c τ(M)}``, no length check), computed
    with one FFT call over all walkers and parameters rather than one per walker.

    Parameters
    ----------
    x : ndarray, shape (nsteps, nwalkers, ndim)
    c : float
        Window constant (Sokal 1997).
    max_lag : int, optional
        A guess of how far the window reaches (e.g. ``2 c τ`` from an earlier estimate).  The
        autocorrelation is first computed only up to that lag, with half the zero padding;
        where the window is not reached below it, every lag is computed after all.  The
        result does not depend on ``max_lag`` (beyond rounding); only the cost does.

    Returns
    -------
    ndarray, shape (ndim,)
        τ in steps; NaN for a parameter that never moves.
    """
    n, nwalkers = x.shape[0], x.shape[1]
    attempts = [n] if max_lag is None or max_lag >= n else [max(int(max_lag), 1), n]
    # FFT along a contiguous last axis: 2-3x faster than along axis 0 of the emcee layout.
    x = np.ascontiguousarray(x, dtype=float)
    padded = np.empty((nwalkers, x.shape[2], _fft_size(n, attempts[0])))
    _transpose_into(x, padded)
    centred = padded[..., :n]
    centred -= centred.mean(axis=-1, keepdims=True)  # as _centred_padded: the same bits
    var = np.einsum("wdt,wdt->wd", centred, centred) / n  # lag-0 autocovariance per walker
    with np.errstate(divide="ignore"):
        weights = 1.0 / (nwalkers * var)  # inf for a walker that never moves: NaN below
    for lags in attempts:
        if padded.shape[-1] < _fft_size(n, lags):  # the window was not reached: every lag
            padded = np.zeros(padded.shape[:-1] + (_fft_size(n, lags),))
            padded[..., :n] = centred
        with np.errstate(divide="ignore", invalid="ignore"):
            # the walker mean of acov_w / var_w; a walker that never moves gives NaN (0/0)
            acf = _mean_autocov(padded, n, weights, lags)  # (ndim, lags)
        taus = 2.0 * np.cumsum(acf, axis=1) - 1.0
        inside = np.arange(lags) < c * taus
        reached = ~np.all(inside, axis=1)
        if lags == n or np.all(reached):  # a NaN row (a stuck walker) counts as reached
            break
    out = np.empty(taus.shape[0])
    for d in range(taus.shape[0]):
        # a window never reached: the last lag (every lag was computed then, or τ is NaN)
        out[d] = taus[d, np.argmin(inside[d]) if np.any(inside[d]) else lags - 1]
    return out


@numba.njit(cache=True)
def _scores_from_sorted(ascending, order, table):
    """Blom normal scores of each row of the draws that ``order`` sorts into ``ascending``.

    ``ascending[r, k]`` is the draw ``order[r, k]`` of row ``r``.  ``table[i + j]`` is the
    score of the average rank ``0.5 (i + j) + 1`` of a run of equal values at sorted positions
    ``i .. j`` (:func:`_score_table`): the same numbers as ``_normal_scores(average_ranks, n)``
    (ties get their average rank), with ``2 n - 1`` evaluations of ``ndtri`` shared by every
    row instead of one per draw and row, and the runs found in sorted memory order.
    """
    nrow, n = ascending.shape
    out = np.empty((nrow, n))
    for r in range(nrow):
        i = 0
        while i < n:
            j = i
            while j + 1 < n and ascending[r, j + 1] == ascending[r, i]:
                j += 1
            score = table[i + j]
            for k in range(i, j + 1):
                out[r, order[r, k]] = score
            i = j + 1
    return out


def _score_table(total: int) -> np.ndarray:
    """Blom scores of every average rank ``0.5 k + 1`` (k = 0 .. 2 total - 2) among ``total``."""
    return _normal_scores(0.5 * np.arange(2 * total - 1) + 1.0, total)


@numba.njit(cache=True)
def _folded_order(ascending, order, centre):
    """Ascending order of ``|values - centre|`` per row, merged from the ascending ``order``
    of ``values`` (``ascending[r, k] = values[r, order[r, k]]``), and those folded values in
    that order.

    Walking outwards from ``centre`` through the sorted values yields the folded values in
    ascending order in O(n), instead of a second O(n log n) sort.  Floating-point subtraction
    is monotone, so the order is exact for the computed ``|v - c|`` (``c - v == -(v - c)``
    exactly under round-to-nearest).  The walk reads the sorted copy, in memory order.
    """
    nrow, n = ascending.shape
    out = np.empty((nrow, n), dtype=np.int64)
    folded = np.empty((nrow, n))
    for r in range(nrow):
        c = centre[r]
        lo, hi = 0, n
        while lo < hi:  # first sorted position with value >= c
            mid = (lo + hi) // 2
            if ascending[r, mid] < c:
                lo = mid + 1
            else:
                hi = mid
        left, right = lo - 1, lo
        for k in range(n):
            if right < n and (left < 0 or ascending[r, right] - c <= c - ascending[r, left]):
                out[r, k] = order[r, right]
                folded[r, k] = abs(ascending[r, right] - c)  # as np.abs(values - c)
                right += 1
            else:
                out[r, k] = order[r, left]
                folded[r, k] = abs(ascending[r, left] - c)
                left -= 1
    return out, folded


def _normal_scores(ranks: np.ndarray, total: int) -> np.ndarray:
    """Blom normal scores of 1-based ranks among ``total`` draws (offset 3/8)."""
    return ndtri((ranks - 0.375) / (total + 0.25))


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise each parameter over all chains and draws (Blom offset 3/8)."""
    m, n, ndim = x.shape
    rows = np.ascontiguousarray(x.reshape(m * n, ndim).T)
    order = np.argsort(rows, axis=1)
    z = _scores_from_sorted(np.take_along_axis(rows, order, 1), order, _score_table(m * n))
    return np.ascontiguousarray(z.T).reshape(m, n, ndim)


def _split(x: np.ndarray) -> np.ndarray:
    """Each chain cut into its first and last halves (the middle draw of an odd chain dropped)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


@numba.njit(cache=True)
def _draw_moments(x):
    """``(x.mean(axis=1), x.var(axis=1, ddof=1))`` of a C-ordered (m, n, ndim >= 2) array,
    equal to numpy's bit for bit: numpy sums along a non-contiguous axis in index order,
    as these loops do (``tests/test_diagnostics.py`` compares them), in one pass each
    instead of numpy's three with their temporaries."""
    m, n, d = x.shape
    mean = np.zeros((m, d))
    var = np.zeros((m, d))
    for g in range(m):
        for t in range(n):
            for k in range(d):
                mean[g, k] += x[g, t, k]
        for k in range(d):
            mean[g, k] = mean[g, k] / n
        for t in range(n):
            for k in range(d):
                v = x[g, t, k] - mean[g, k]
                var[g, k] += v * v
        for k in range(d):
            var[g, k] = var[g, k] / (n - 1)
    return mean, var


def _rhat_classic(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    if x.shape[2] >= 2 and x.flags.c_contiguous:
        means, variances = _draw_moments(x)
    else:  # one parameter: numpy sums a contiguous axis pairwise
        means, variances = x.mean(axis=1), np.var(x, axis=1, ddof=1)
    between = n * np.var(means, axis=0, ddof=1)
    within = np.mean(variances, axis=0)
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
    return _ess_of_z(_z_scale(_split(np.asarray(chains, dtype=float))))


def _ess_of_z(z: np.ndarray) -> np.ndarray:
    """Bulk ESS from split, rank-normalised chains ``z`` of shape (nchains, ndraws, ndim)."""
    return _ess_of_series(np.moveaxis(z, 1, -1))


def _ess_of_series(series: np.ndarray) -> np.ndarray:
    """Bulk ESS from split, rank-normalised chains laid out (..., ndim, ndraws): every index
    of the leading axes one chain, in C order (any strides: one copy is made)."""
    ndim, n = series.shape[-2:]
    padded, mean = _centred_padded(series, _fft_size(n, n))
    flat = [np.ptp(series[..., d, :]) < np.finfo(float).resolution for d in range(ndim)]
    return _ess_of_padded(padded, mean, n, flat)


def _ess_of_padded(padded, mean, n, flat) -> np.ndarray:
    """:func:`_ess_of_series` from its centred, padded chains (..., ndim, size), their means
    (..., ndim, 1), the draws per chain ``n`` and, per parameter, whether it is constant."""
    ndim = padded.shape[-2]
    m = padded.size // (ndim * padded.shape[-1])
    acov_mean = _mean_autocov(padded.reshape(m, ndim, -1), n, np.full((m, ndim), 1.0 / m),
                              n)  # (ndim, n)
    mean_var = acov_mean[:, 0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + np.var(mean.reshape(m, ndim), axis=0, ddof=1)
    out = np.empty(ndim)
    for d in range(ndim):
        if flat[d]:
            out[d] = m * n  # a constant column: ArviZ's convention
        else:
            out[d] = m * n / _geyer_tau(np.ascontiguousarray(acov_mean[d]), mean_var[d],
                                        var_plus[d], float(m * n))
    return out


@numba.njit(cache=True)
def _halves_into(z, out, half, nwalkers):
    """``out[s, w, d, t] = z[d, (s half + t) nwalkers + w]``, zeros for ``t >= half``: the
    step-major scores of every parameter as the two halves of every walker's chain, in an
    FFT buffer (blocks of steps; numpy's strided copy took 4x as long)."""
    for d in range(z.shape[0]):
        for s in range(2):
            for t0 in range(0, half, 64):
                t1 = min(half, t0 + 64)
                for w in range(nwalkers):
                    for t in range(t0, t1):
                        out[s, w, d, t] = z[d, (s * half + t) * nwalkers + w]
            for w in range(nwalkers):  # the zero padding (out comes from np.empty)
                for t in range(half, out.shape[3]):
                    out[s, w, d, t] = 0.0


@numba.njit(cache=True)
def _gather_rows(rows, order):
    """``np.take_along_axis(rows, order, 1)`` of two 2-D arrays."""
    out = np.empty(rows.shape)
    for r in range(rows.shape[0]):
        for k in range(rows.shape[1]):
            out[r, k] = rows[r, order[r, k]]
    return out


def walker_blocks(x: np.ndarray, n_groups: int) -> np.ndarray:
    """Chains of consecutive walker blocks from an ensemble chain, for :func:`split_rhat`.

    Parameters
    ----------
    x : ndarray, shape (nsteps, nwalkers, ndim)
    n_groups : int
        Number of blocks; ``nwalkers // n_groups`` walkers each (the remainder is left out).

    Returns
    -------
    ndarray, shape (n_groups, nsteps * (nwalkers // n_groups), ndim)
        Block ``g`` holds its walkers' draws step by step (all of them at step 1, then 2, ...).
    """
    n, _, ndim = x.shape
    size = x.shape[1] // n_groups
    blocks = x[:, : n_groups * size, :].reshape(n, n_groups, size, ndim)
    return blocks.transpose(1, 0, 2, 3).reshape(n_groups, n * size, ndim)


def rank_diagnostics(x: np.ndarray, n_groups: int,
                     ess_floor: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bulk ESS (every walker a chain) and split R-hat (walker blocks) of an ensemble chain.

    Equal, bit for bit, to ``ess_bulk(x.transpose(1, 0, 2))`` and
    ``split_rhat(walker_blocks(x, n_groups))``, at about half the cost: both rank the same
    pooled draws, so one sort per parameter serves both, and the folded draws of the tail
    R-hat are ordered by a merge from that sort (:func:`_folded_order`).  When the two
    statistics would pool different draws (an odd number of steps, whose middle step the
    per-walker split drops, or walkers left out of the blocks) it calls the two functions.

    Parameters
    ----------
    x : ndarray, shape (nsteps, nwalkers, ndim)
    n_groups : int
    ess_floor : float, optional
        When a bulk ESS is below it, R-hat is not computed (returned as NaN): the ESS is
        computed first, and a convergence check that already fails on it needs no R-hat
        (about half the cost of the two).  A NaN ESS does not count as below.

    Returns
    -------
    ess, rhat : ndarray, shape (ndim,)
    """
    x = np.asarray(x, dtype=float)
    n, nwalkers, ndim = x.shape
    size = nwalkers // n_groups

    def skip_rhat(ess):
        return ess_floor is not None and bool(np.any(ess < ess_floor))

    if n % 2 or n < 4 or size < 1 or size * n_groups != nwalkers:
        ess = ess_bulk(x.transpose(1, 0, 2))
        if skip_rhat(ess):
            return ess, np.full(ndim, np.nan)
        return ess, split_rhat(walker_blocks(x, n_groups))
    total = n * nwalkers
    rows = np.ascontiguousarray(x.reshape(total, ndim).T)  # every draw, step-major
    order = np.argsort(rows, axis=1)
    table = _score_table(total)
    ascending = _gather_rows(rows, order)
    z = _scores_from_sorted(ascending, order, table)
    # Each statistic gets its split chains in one copy, in the C-ordered layout (so the same
    # summation order, hence the same bits) that _split/walker_blocks/_ess_of_z would build;
    # the ESS's (2, walkers, ndim, t) directly in its FFT buffer, centred as _centred_padded.
    half = n // 2
    padded = np.empty((2, nwalkers, ndim, _fft_size(half, half)))
    _halves_into(z, padded, half, nwalkers)
    body = padded[..., :half]
    flat = [np.ptp(body[..., d, :]) < np.finfo(float).resolution for d in range(ndim)]
    mean = body.mean(axis=-1, keepdims=True)
    body -= mean
    ess = _ess_of_padded(padded, mean, half, flat)
    if skip_rhat(ess):
        return ess, np.full(ndim, np.nan)
    # the median of np.median: the mean of the two middle draws (total is even here)
    centre = 0.5 * (ascending[:, total // 2 - 1] + ascending[:, total // 2])
    z_fold = _scores_from_sorted(*_folded_order(ascending, order, centre)[::-1], table)

    def split_blocks(scores):  # (2 n_groups, half * size, ndim): halves outer, blocks inner
        blocks = scores.reshape(ndim, 2, half, n_groups, size).transpose(1, 3, 2, 4, 0)
        return blocks.reshape(2 * n_groups, half * size, ndim)

    rhat = np.maximum(_rhat_classic(split_blocks(z)), _rhat_classic(split_blocks(z_fold)))
    return ess, rhat
