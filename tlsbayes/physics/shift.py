"""Resonant TLS frequency shift: the digamma form (Gao; Defrance Eq. 3/5) and the NEMS log form.

Convention: ``y = h f0 / (2π k_B T)``.  With the 2π the bracket
``Re ψ(1/2 + i y) - ln y`` vanishes as T -> 0, so ``f0`` is the T -> 0 resonance frequency.
(Codes that write ``ln(h f0 / k_B T)`` shift f0 by the constant ``F δ0 ln(2π)/π``.)
"""

import math

import numba
import numpy as np
from scipy.special import bernoulli, zeta

from ._vec import as_flat, restore
from .constants import h, k_B

_PSI_HALF = -0.5772156649015329 - 2.0 * math.log(2.0)  # ψ(1/2) = -γ_E - 2 ln 2

_B = bernoulli(40)
# Taylor series in y² about y = 0 (radius 1/2, the pole of ψ at 1/2 + iy = 0):
#   Re ψ(1/2 + iy) = ψ(1/2) + Σ_m (-1)^(m+1) (2^(2m+1) - 1) ζ(2m+1) y^(2m)
_TAYLOR = np.array([(-1.0) ** (m + 1) * (2.0 ** (2 * m + 1) - 1.0) * zeta(2 * m + 1)
                    for m in range(1, 25)])
# Large-y series of the whole bracket, from ψ(z + 1/2) ~ ln z - Σ B_2k(1/2) / (2k z^2k), z = iy,
# with B_2k(1/2) = -(1 - 2^(1-2k)) B_2k.  Every term is negative; no cancellation as T -> 0.
_LARGE_Y = np.array([(-1.0) ** k * (1.0 - 2.0 ** (1 - 2 * k)) * _B[2 * k] / (2 * k)
                     for k in range(1, 17)])
# Stirling series of ψ(w) for |w| >= 8.5:  ψ(w) ~ ln w - 1/(2w) - Σ B_2k / (2k w^2k)
_STIRLING = np.array([_B[2 * k] / (2 * k) for k in range(1, 13)])

_Y_TAYLOR = 0.2  # 0.16^24 < 1e-19: the 24-term Taylor series is exact to rounding below this
_Y_LARGE = 7.0  # smallest term of the large-y series at y = 7 is ~1e-18
_SHIFT_N = 8  # recurrence steps so that Re w = 8.5 in the Stirling series


@numba.njit(cache=True)
def shift_bracket(y):
    """The bracket ``Re ψ(1/2 + i y) - ln y`` of the TLS frequency shift.

    Parameters
    ----------
    y : float
        ``h f0 / (2π k_B T)`` (dimensionless, >= 0).

    Returns
    -------
    float
        Tends to ``-1/(24 y²)`` as y -> ∞ (T -> 0) and to ``ψ(1/2) - ln y`` as y -> 0.
        0 at y = ∞, NaN for y < 0 or NaN.

    Notes
    -----
    Three regimes, each free of cancellation at its own accuracy target: a Taylor series in
    y² for y < 0.2, the recurrence ψ(z) = ψ(z + N) - Σ 1/(z + k) followed by the Stirling
    series for 0.2 <= y < 7, and the asymptotic series of the whole bracket in 1/y² for
    y >= 7 (absolute error < 1e-16 everywhere).
    """
    if not (y >= 0.0):
        return np.nan
    if y == np.inf:
        return 0.0
    if y < _Y_TAYLOR:
        y2 = y * y
        s = 0.0
        for m in range(_TAYLOR.size - 1, -1, -1):
            s = s * y2 + _TAYLOR[m]
        return _PSI_HALF + s * y2 - math.log(y)
    if y >= _Y_LARGE:
        r2 = 1.0 / (y * y)
        s = 0.0
        for k in range(_LARGE_Y.size - 1, -1, -1):
            s = s * r2 + _LARGE_Y[k]
        return s * r2
    y2 = y * y
    acc = 0.0
    for k in range(_SHIFT_N):
        x = 0.5 + k
        acc += x / (x * x + y2)
    w = complex(0.5 + _SHIFT_N, y)
    iw2 = 1.0 / (w * w)
    s = 0.0 + 0.0j
    for k in range(_STIRLING.size - 1, -1, -1):
        s = s * iw2 + _STIRLING[k]
    # Re ln w - ln y = ½ ln(1 + (Re w / y)²), which keeps the large logs from cancelling.
    xr = 0.5 + _SHIFT_N
    re_log_w_minus_ln_y = 0.5 * math.log1p((xr / y) ** 2)
    return re_log_w_minus_ln_y - (0.5 / w).real - (s * iw2).real - acc


@numba.njit(cache=True)
def _frequency_shift_1d(T, f0, F_delta0):
    out = np.empty(T.size)
    c = h * f0 / (2.0 * math.pi * k_B)
    scale = F_delta0 / math.pi
    for i in range(T.size):
        t = T[i]
        y = np.inf if t == 0.0 else (c / t if t > 0.0 else np.nan)
        out[i] = scale * shift_bracket(y)
    return out


def tls_frequency_shift(T, f0, F_delta0):
    """Fractional resonant frequency shift of a resonator loaded by TLS.

    ``(f(T) - f0)/f0 = (F δ0 / π) [Re ψ(1/2 + i y) - ln y]``,  ``y = h f0 / (2π k_B T)``
    (Defrance et al., arXiv:2403.03534, Eq. 3/5; Gao, PhD thesis (Caltech 2008), App. G).

    Parameters
    ----------
    T : float or array_like
        Temperature [K], >= 0 (T = 0 gives exactly 0).
    f0 : float
        Resonance frequency at T -> 0 [Hz].
    F_delta0 : float
        Filling factor times the zero-temperature, low-field TLS loss tangent (dimensionless).

    Returns
    -------
    float or ndarray
        ``(f(T) - f0)/f0``, same shape as ``T``.
    """
    arr, flat = as_flat(T)
    return restore(_frequency_shift_1d(flat, float(f0), float(F_delta0)), arr)


@numba.njit(cache=True)
def _log_shift_1d(T, C, T0, a3):
    out = np.empty(T.size)
    for i in range(T.size):
        t = T[i]
        out[i] = C * math.log(t / T0) + a3 * t * t * t if t > 0.0 else np.nan
    return out


def tls_log_shift(T, C, T0, a3=0.0):
    """NEMS frequency shift in the logarithmic TLS regime plus an empirical T³ term.

    ``δω/ω = C ln(T/T0) + a3 T³`` (Maillet et al., PRB 107, 064104 (2023), Fig. 2b; the log is
    the high-temperature limit of the digamma form with C = F δ0 / π).

    Parameters
    ----------
    T : float or array_like
        Temperature [K], > 0.
    C : float
        Logarithmic slope (dimensionless; 2.1e-5 for the Maillet SiN beam).
    T0 : float
        Reference temperature at which the shift is zero [K].
    a3 : float, optional
        Coefficient of the T³ term [K^-3] (thermal-expansion mismatch above ~1 K).

    Returns
    -------
    float or ndarray
        ``δω/ω``, same shape as ``T``.
    """
    arr, flat = as_flat(T)
    return restore(_log_shift_1d(flat, float(C), float(T0), float(a3)), arr)
