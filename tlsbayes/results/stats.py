"""Posterior statistics of the summary table on plain arrays: ArviZ's definitions, no ArviZ.

========================  ========================================================  ===========
:func:`hdi`               ``az.hdi`` (shortest interval holding ``floor(p n)`` gaps)  unimodal
:func:`ess_bulk`          ``az.ess(method="bulk")``                                   per chain
:func:`ess_tail`          ``az.ess(method="tail")``: min over the 5 % and 95 %
                          quantile indicators of their split-chain ESS
:func:`rhat`              ``az.rhat(method="rank")``                                  >= 2 chains
========================  ========================================================  ===========

The rank-normalised split statistics are those of :mod:`tlsbayes.sampling.diagnostics` (the
convergence gate's); tests/test_results.py holds every function here to ArviZ's value to
1e-10 relative.  ArviZ's conventions are kept: NaN for a parameter with a non-finite draw or
too few draws (fewer than 4, or one chain for R-hat), the number of draws as the ESS of a
constant column.

Every function takes ``draws`` of shape ``(nchain, ndraw)`` and returns a float.
:mod:`tlsbayes.sampling.diagnostics` (scipy.fft, numba and its cached kernels: 0.3-0.7 s) is
imported on the first ESS or R-hat, so a report that reuses stored statistics never loads it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ess_bulk", "ess_tail", "hdi", "rhat"]


def _valid(draws: np.ndarray, min_chains: int = 1) -> bool:
    return (draws.ndim == 2 and draws.shape[0] >= min_chains and draws.shape[1] >= 4
            and bool(np.all(np.isfinite(draws))))


def hdi(draws: np.ndarray, prob: float) -> tuple[float, float]:
    """Highest-density interval of all draws (NaNs left out), as ``az.hdi``.

    Parameters
    ----------
    draws : array_like
        Any shape; flattened.
    prob : float
        Probability mass, in (0, 1).

    Returns
    -------
    (low, high) : tuple of float
        The narrowest ``[x_(i), x_(i + floor(prob n))]`` of the sorted draws.
    """
    x = np.asarray(draws, dtype=float).ravel()
    nans = np.isnan(x)
    if not nans.all():
        x = x[~nans]
    x = np.sort(x)
    inc = int(np.floor(prob * x.size))
    width = x[inc:] - x[: x.size - inc]
    if width.size == 0:
        return math.nan, math.nan
    i = int(np.argmin(width))
    return float(x[i]), float(x[i + inc])


def _diagnostics():
    from tlsbayes.sampling import diagnostics

    return diagnostics


def ess_bulk(draws: np.ndarray) -> float:
    """Bulk ESS of ``(nchain, ndraw)`` draws (rank-normalised split chains)."""
    x = np.asarray(draws, dtype=float)
    if not _valid(x):
        return math.nan
    return float(_diagnostics().ess_bulk(x[:, :, None])[0])


def ess_tail(draws: np.ndarray) -> float:
    """Tail ESS of ``(nchain, ndraw)`` draws: the smaller quantile ESS at 5 % and 95 %.

    The quantile ESS is the ESS of the split chains of the indicator ``draw <= q``.  The
    bulk ESS of an indicator equals it: rank normalisation maps a two-valued series onto two
    values, an affine map, and the ESS is invariant under affine maps.
    """
    x = np.asarray(draws, dtype=float)
    if not _valid(x):
        return math.nan
    out = math.inf
    for q in _type7_quantiles(x, np.array([0.05, 0.95])):
        indicator = (x <= q).astype(float)
        out = min(out, float(_diagnostics().ess_bulk(indicator[:, :, None])[0]))
    return out


def _type7_quantiles(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Type-7 quantiles of all draws, rounded exactly as ArviZ's (``scipy.stats.mstats.
    mquantiles(alphap=1, betap=1)``): the ESS of ``draw <= q`` depends on whether a tied draw
    equal to ``q`` falls below it, so ``numpy.quantile``'s different rounding would not do."""
    s = np.sort(x, axis=None)
    n = s.size
    aleph = n * p + (1.0 + p * (1.0 - 1.0 - 1.0))
    k = np.floor(aleph.clip(1, n - 1)).astype(int)
    gamma = (aleph - k).clip(0, 1)
    return (1.0 - gamma) * s[k - 1] + gamma * s[k]


def rhat(draws: np.ndarray) -> float:
    """Rank-normalised split R-hat of ``(nchain, ndraw)`` draws (bulk and folded, the larger)."""
    x = np.asarray(draws, dtype=float)
    if not _valid(x, min_chains=2):
        return math.nan
    return float(_diagnostics().split_rhat(x[:, :, None])[0])
