"""Per-trace posteriors as data: the two-stage likelihood of a curve measured trace by trace.

When each point ``k`` of a curve (Q_i at one power, f_res at one temperature) is itself the
posterior of a fitted S21 trace (``tlsbayes s21``), the measurement is that posterior, not a
point and a quoted sigma.  With draws ``z_ks`` (s = 1..S) of ``z = ln y`` under the trace's own
prior ``π_k(z)``, a model value ``m_k(θ)`` and an excess scatter ``σ_x`` between traces
(``ln y_k ~ N(ln m_k, σ_x)`` around the model), trace ``k`` contributes

    L_k(θ, σ_x) = ∫ N(z; ln m_k, σ_x) p(z | d_k) / π_k(z) dz
               ≈ (1/S) Σ_s ∫ N(z; ln m_k, σ_x) N(z; z_ks, h_k) / π_k(z) dz

(importance reweighting: Hogg, Myers & Bovy, ApJ 725, 2166 (2010); Thrane & Talbot, PASA 36,
e010 (2019); the same estimator as :mod:`tlsbayes.population`, here with one draw set per data
point).  The Gaussian kernel of width ``h_k = 0.7 sd_k`` (``sd_k``: the trace's standard
deviation of ``ln y``) keeps the estimate smooth when ``σ_x`` is far below the trace's own
spread; the draws are first pulled towards their mean by ``sqrt(1 - h_k²/sd_k²)`` so that the
smoothed density keeps the draws' mean and variance (West 1993, kernel shrinkage).  For a
Gaussian posterior the smoothed density is then that Gaussian exactly, whatever ``h_k``; a
wide kernel gives up detail of a non-Gaussian shape (finer than ``h_k``) for a likelihood
whose tails do not depend on a few extreme draws.  The traces' priors are powers of y (flat in
1/Q_i or in f_r: ``π(ln y) ∝ y``), so each kernel's integral is done exactly
(:func:`trace_pointwise`).  ``σ_x`` is a fraction of the model
value (``ln y`` is the coordinate), so one definition serves Q_i and f_res alike.

Only draws within ``10 sqrt(σ_x² + h_k²)`` of ``ln m_k`` are summed (they are sorted); a model
value beyond every draw's reach sums all of them.  Every sum is taken relative to its largest
term (log-sum-exp), so the likelihood stays finite and smooth far from the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from ..errors import TLSBayesError

__all__ = ["TraceDraws", "trace_pointwise", "EXCESS_SCATTER", "DEFAULT_MAX_DRAWS"]

#: Name of the excess-scatter parameter (fraction of the model value; ``σ_x``).
EXCESS_SCATTER = "excess_scatter"
#: Draws kept per trace (evenly spaced): the cost of one likelihood call is proportional to it.
DEFAULT_MAX_DRAWS = 256
#: Draws farther than this many kernel widths from the model value are left out of the sum.
_REACH = 10.0
#: Kernel width as a fraction of each trace's own standard deviation of ``ln y``.
_WIDTH = 0.7
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# exp(t) for t <= 0 as 2^(k/32) e^r: t = k ln2/32 + r (Cody-Waite, |r| <= ln2/64), e^r by its
# degree-6 Taylor polynomial (remainder < 4e-18), 2^(k mod 32 / 32) from a table and 2^(k div
# 32) assembled in the exponent bits: within 1 ulp of math.exp.  Written out so that LLVM
# vectorises the loop over the draws (math.exp is a libm call per draw, ~8 ns; this is ~3x
# cheaper).
_EXP_TABLE_BITS = 5
_EXP_N = 1 << _EXP_TABLE_BITS
_EXP_TABLE = np.array([2.0 ** (j / _EXP_N) for j in range(_EXP_N)])
_N_LOG2E = _EXP_N * 1.4426950408889634
_LN2N_HI = 6.93147180369123816490e-01 / _EXP_N  # ln2's leading 32 bits: k * _LN2N_HI exact
_LN2N_LO = 1.90821492927058770002e-10 / _EXP_N
_EXP_FLOOR = -708.0  # e^-708 ~ 3e-308, above the smallest normal number


@numba.njit(cache=True)
def _sum_exp(t, scale, k):
    """``sum(exp(t[:k]))`` for ``t <= 0`` (below ``_EXP_FLOOR`` counts as e^-708 ≈ 0).

    ``t`` is overwritten; ``scale`` is a work array of the same length.  The sum is taken in
    four interleaved partial sums (a fixed order: deterministic).
    """
    bits = scale.view(np.int64)
    for s in range(k):
        x = t[s]
        x = x if x > _EXP_FLOOR else _EXP_FLOOR
        kf = math.floor(x * _N_LOG2E + 0.5)
        r = (x - kf * _LN2N_HI) - kf * _LN2N_LO
        p = 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        ki = np.int64(kf)
        t[s] = (p * r + 1.0) * _EXP_TABLE[ki & (_EXP_N - 1)]
        bits[s] = ((ki >> _EXP_TABLE_BITS) + 1023) << 52
    a0 = a1 = a2 = a3 = 0.0
    s = 0
    while s + 4 <= k:
        a0 += t[s] * scale[s]
        a1 += t[s + 1] * scale[s + 1]
        a2 += t[s + 2] * scale[s + 2]
        a3 += t[s + 3] * scale[s + 3]
        s += 4
    while s < k:
        a0 += t[s] * scale[s]
        s += 1
    return (a0 + a1) + (a2 + a3)


@numba.njit(cache=True)
def trace_pointwise(mu, z, prior_power, width, scatter):
    """Two-stage log-likelihood of each trace, shape ``(nwalkers, n)`` (module docstring).

    With the trace prior ``π(z) ∝ e^{p z}`` (``p = 1``: flat in y; ``p = 0``: flat in ln y)
    each kernel's integral is exact: for a draw ``z'`` (shrunk), ``v = σ_x² + h²``,

        ∫ N(z; m, σ_x) N(z; z', h) e^{-p z} dz
            = N(z'; m, √v) exp(-p (m h² + z' σ_x²)/v + p² σ_x² h² / (2v)).

    The terms are summed relative to the largest, found without a pass over the draws: the
    exponent is a parabola in z' with its vertex at ``m + slope v`` (``slope = -p σ_x²/v``),
    so the largest term is at one of the two draws around it (the draws are sorted).

    Parameters
    ----------
    mu : ndarray, shape (nwalkers, n)
        Model values ``m_k`` (SI unit of y, > 0).
    z : ndarray, shape (n, S)
        ``ln y`` draws of each trace, shrunk, sorted increasing along each row.
    prior_power : float
        ``p`` of the traces' prior ``π(ln y) ∝ y^p``.
    width : ndarray, shape (n,)
        Kernel width ``h_k`` (in ``ln y``).
    scatter : ndarray, shape (nwalkers,)
        Excess scatter ``σ_x`` (>= 0).

    Returns
    -------
    ndarray, shape (nwalkers, n)
        ``-inf`` where ``m_k <= 0``, or ``σ_x`` is negative or not finite.
    """
    nw, n = mu.shape
    S = z.shape[1]
    out = np.empty((nw, n))
    terms = np.empty(S)
    scale = np.empty(S)
    log_S = math.log(S)
    p = prior_power
    for w in range(nw):
        sx = scatter[w]
        for i in range(n):
            m_lin = mu[w, i]
            if not (m_lin > 0.0 and math.isfinite(m_lin) and sx >= 0.0 and math.isfinite(sx)):
                out[w, i] = -np.inf
                continue
            m = math.log(m_lin)
            h2 = width[i] * width[i]
            v = sx * sx + h2
            sd = math.sqrt(v)
            half_prec = 0.5 / v
            slope = -p * sx * sx / v  # the prior term's dependence on z'
            const = -p * m * h2 / v + 0.5 * p * p * sx * sx * h2 / v
            row = z[i]
            if row[0] >= m - _REACH * sd and row[S - 1] < m + _REACH * sd:
                lo, hi = 0, S  # every draw within reach (the usual case): no search
            else:
                lo = np.searchsorted(row, m - _REACH * sd)
                hi = np.searchsorted(row, m + _REACH * sd)
                if lo >= hi:  # beyond every draw's reach: all draws
                    lo, hi = 0, S
            j = min(max(np.searchsorted(row, m + slope * v), lo + 1), hi - 1)
            d = row[j] - m
            top = slope * row[j] - half_prec * d * d
            if j > lo:
                d = row[j - 1] - m
                top = max(top, slope * row[j - 1] - half_prec * d * d)
            k = hi - lo
            for s in range(k):
                d = row[lo + s] - m
                terms[s] = slope * row[lo + s] - half_prec * d * d - top
            acc = _sum_exp(terms, scale, k)
            out[w, i] = const + top + math.log(acc) - log_S - math.log(sd) - _LOG_SQRT_2PI
    return out


@dataclass(frozen=True, eq=False)
class TraceDraws:
    """The per-trace posterior draws of one data set, ready for :func:`trace_pointwise`.

    Attributes
    ----------
    z : ndarray, shape (n, S)
        ``ln y`` draws per trace, shrunk towards the trace's mean and sorted.
    prior_power : float
        ``p`` of the traces' prior ``π(ln y) ∝ y^p`` (1: flat in y; 0: flat in ln y).
    width : ndarray, shape (n,)
        Kernel width per trace (``ln y``).
    sd : ndarray, shape (n,)
        Standard deviation of ``ln y`` per trace (before shrinking).
    """

    z: np.ndarray
    prior_power: float
    width: np.ndarray
    sd: np.ndarray

    @property
    def n(self) -> int:
        return int(self.z.shape[0])

    @classmethod
    def from_samples(cls, y_draws, uniform_in_y=True, max_draws=DEFAULT_MAX_DRAWS,
                     names=None):
        """Build from each trace's draws of ``y`` (SI, > 0).

        Parameters
        ----------
        y_draws : sequence of ndarray
            One 1-D array of draws per trace (any lengths >= 2).
        uniform_in_y : bool
            The trace's prior is uniform in ``y`` (true of ``1/Q_i`` and ``f_r`` of
            :class:`tlsbayes.s21.trace.TracePosterior`): ``π(ln y) ∝ y``.  False: uniform in
            ``ln y``.
        max_draws : int
            Keep at most this many draws per trace (evenly spaced); every trace keeps the
            same number, the smallest available.
        names : sequence of str, optional
            Labels of the traces for error messages.

        Raises
        ------
        TLSBayesError
            A trace with fewer than 2 draws, or a draw that is not finite and positive.
        """
        names = list(names) if names is not None else [f"trace {i}" for i in
                                                        range(len(y_draws))]
        arrays = []
        for lab, y in zip(names, y_draws):
            y = np.asarray(y, dtype=float).reshape(-1)
            if y.size < 2:
                raise TLSBayesError(f"{lab}: fewer than 2 posterior draws (was it sampled?)")
            if not np.all(np.isfinite(y) & (y > 0)):
                raise TLSBayesError(f"{lab}: posterior draws that are not finite and positive")
            arrays.append(y)
        if not arrays:
            raise TLSBayesError("no traces with posterior draws")
        S = int(min(max_draws, min(a.size for a in arrays)))
        n = len(arrays)
        z = np.empty((n, S))
        width = np.empty(n)
        sd = np.empty(n)
        for i, y in enumerate(arrays):
            pick = y[np.linspace(0, y.size - 1, S).round().astype(np.int64)]
            lz = np.log(pick)
            mean, s = float(np.mean(lz)), float(np.std(lz))
            s = s if s > 0 else 1e-12 * max(abs(mean), 1.0)
            h = _WIDTH * s
            shrunk = mean + math.sqrt(max(1.0 - (h / s) ** 2, 0.0)) * (lz - mean)
            order = np.argsort(shrunk, kind="stable")
            z[i] = shrunk[order]
            width[i], sd[i] = h, s
        return cls(np.ascontiguousarray(z), 1.0 if uniform_in_y else 0.0, width, sd)

    def pointwise(self, mu, scatter) -> np.ndarray:
        """:func:`trace_pointwise` of model values ``mu`` (nwalkers, n), ``scatter`` (nwalkers,)."""
        return trace_pointwise(np.ascontiguousarray(mu, dtype=np.float64), self.z,
                               float(self.prior_power), self.width,
                               np.ascontiguousarray(scatter, dtype=np.float64))
