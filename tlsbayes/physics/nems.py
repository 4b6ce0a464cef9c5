"""Damping of a nanomechanical resonator by relaxation of tunnelling two-level systems.

Maillet et al., PRB 107, 064104 (2023), Eq. 2-4 (also Lulla et al., PRL 110, 177206 (2013)):

    Γ[τ](T) = C ω ∫_0^∞ du ∫_0^1 dv  v²/(1-v²) sech²(u/2) ωτ/(1 + ω²τ²),

with u = ε/k_BT, v = Δ/ε, Δ0²/ε = ε(1 - v²), and relaxation rates

    1/τ_ph = A_ph (Δ0/ε)² ε^n coth(ε/2k_BT)     (n = 1: quasi-1D phonon bath, Eq. 3)
    1/τ_el = A_el (Δ0²/ε) coth(ε/2k_BT)         (conduction electrons, Eq. 4).

Superconducting metal layer: Γ_S = Γ[τ_ph].  Normal state:
Γ_N = (1 - x) Γ[τ_ph] + x Γ[(1/τ_ph + 1/τ_el)^-1], x the fraction of TLS that feel electrons.

Numerics (never a 2-D integral):

* Every rate has the form (1 - v²) R(u), so with s = 1 - v² and ωτ = b/s the v-integral is
  closed: G(b) = ∫_0^1 v² b/(s² + b²) dv = Im[c artanh(1/c)], c = sqrt(1 - i b).  It is
  evaluated as Im[c (ln(1 + c) - ½ ln b + iπ/4)] (the artanh argument 1/c -> 1 cancels
  catastrophically as b -> 0; c² - 1 = -ib exactly removes that), and by its convergent series
  Σ_k (-1)^k m_k b^-(2k+1), m_k = ∫ v² s^2k dv, for b >= 2 where the complex form cancels.
* When all rates scale as ε¹ (n = 1, with or without electrons), Γ = C ω F(a) with one
  universal function of a = ω/(A k_B T), A the sum of the prefactors; F is tabulated as
  piecewise polynomials in ln a (quarter-unit panels, degree 13, Horner's rule; built from
  40-digit mpmath Chebyshev interpolants by tools/build_nems_table.py) with its asymptotic
  forms outside the table.
* For n = 3/2 (the goalpost cantilever) the phonon channel is one function F_n(a_ph) of
  a_ph = ω/(A_ph (k_BT)^n), and the channel with both rates a function H_n(a_el, a_ph) of two;
  both are tabulated in logarithms (tools/build_nems_n_table.py: 1/4-unit panels of degree 13
  for F_n; unit panels of degree 14 in ln a_el and ln(a_el/a_ph) for H_n, with H_n = F(a_el) or
  F_n(a_ph) to 2e-15 where one rate dominates), within 1.4e-14 of a quadrature that agrees
  with mpmath to 1e-15.
* Otherwise (other n, or outside the n = 3/2 tables) the remaining u-integral is done by fixed
  Gauss-Legendre panels, in ln u for u < 1 and in u above.
"""

import json
import math
from pathlib import Path

import numba
import numpy as np

from ._vec import as_flat, restore
from .constants import hbar, k_B
from .mb_table import piecewise_series, tensor_series_14

_TABLE = json.loads(Path(__file__).with_name("nems_F_table.json").read_text())
_COEF = np.ascontiguousarray(np.array(_TABLE["coefficients"], dtype=np.float64))
_T_LO = float(_TABLE["meta"]["t_lo"])
_T_HI = float(_TABLE["meta"]["t_hi"])
_PANELS_PER_UNIT = float(_TABLE["meta"]["panels_per_unit"])
_P = float(_TABLE["P"])
_Q = float(_TABLE["Q"])
_R = float(_TABLE["R"])

# n = 3/2 tables (tools/build_nems_n_table.py; see the module docstring).  A plain .npz read
# with allow_pickle=False: loading it executes nothing.
with np.load(Path(__file__).with_name("nems_n1.5_table.npz"), allow_pickle=False) as _t:
    _N15_F = np.ascontiguousarray(_t["f1d"])
    _N15_T_LO = float(_t["f1d_t_lo"])
    _N15_T_HI = float(_t["f1d_t_hi"])
    _N15_PPU = float(_t["f1d_panels_per_unit"])
    _both = np.ascontiguousarray(_t["both"])
    _N15_X1_LO = float(_t["x1_lo"])
    _N15_ROW_LO = np.ascontiguousarray(_t["row_lo"]).astype(np.float64)
    _N15_ROW_HI = np.ascontiguousarray(_t["row_hi"]).astype(np.float64)
    _N15_ROW_START = np.ascontiguousarray(_t["row_start"])
_N15_NROW = _N15_ROW_LO.size
# numba freezes a global array into the compiled (and cached) code only if it is under 1 MB;
# a larger one is referenced by address and makes every caller uncachable.  So the 2-D table
# is held in four chunks of at most _CHUNK panels.
if _both.shape[1:] != (15, 15):
    raise RuntimeError("nems_n1.5_table.npz: both_F15_of_log expects degree-14 panels")
_CHUNK = int(1e6 // (_both[0].nbytes))
if _both.shape[0] > 4 * _CHUNK:
    raise RuntimeError("nems_n1.5_table.npz: 2-D table too large for four chunks")
_N15_B0, _N15_B1, _N15_B2, _N15_B3 = (np.ascontiguousarray(_both[i * _CHUNK:(i + 1) * _CHUNK])
                                      for i in range(4))
del _both

# m_k = ∫_0^1 v² (1 - v²)^(2k) dv = ½ B(3/2, 2k + 1), with alternating sign built in.
_M = np.empty(40)
_M[0] = 1.0 / 3.0
for _k in range(1, _M.size):
    _M[_k] = -_M[_k - 1] * (2 * _k - 1) * (2 * _k) / ((2 * _k + 0.5) * (2 * _k + 1.5))

# 14-point Gauss-Legendre panels, two units wide in ln u: 5e-12 relative to a 656-node rule
# that agrees with mpmath to 7e-15, at half the cost (n = 1.5, 2, 3; 0.1 mK-100 K; S and N).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(14)
_LNU_EDGES = np.linspace(-34.0, 0.0, 18)  # u from 1.7e-15 to 1 in ln u; below, < 1e-15 of Γ
_U_EDGES = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 48.0, 72.0])  # sech²(36) ~ 1e-31

HALF_PI = 0.5 * math.pi
PI2_6 = math.pi ** 2 / 6.0


@numba.njit(cache=True)
def v_integral(b):
    """Closed-form v-integral G(b) = ∫_0^1 v² b/((1 - v²)² + b²) dv.

    Parameters
    ----------
    b : float
        ωτ(1 - v²), i.e. ω over the v-independent part of the relaxation rate (>= 0, may be inf).

    Returns
    -------
    float
        G(b): π/4 at b = 0, ~ π/4 - (b/4)(1 + ln(4/b)) for small b, ~ 1/(3b) for large b.
    """
    if b >= 2.0:
        rb = 1.0 / b
        rb2 = rb * rb
        p = rb
        s = 0.0
        for k in range(_M.size):
            t = _M[k] * p
            s += t
            if abs(t) < 1e-17 * s:
                break
            p *= rb2
        return s
    if b < 1e-18:
        return 0.25 * math.pi if b >= 0.0 else np.nan
    c = np.sqrt(1.0 - 1.0j * b)
    z = c * (np.log(1.0 + c) - 0.5 * math.log(b) + 0.25j * math.pi)
    return z.imag


@numba.njit(cache=True)
def nems_universal_F_scalar(a):
    """Universal damping function F(a) = Γ/(Cω) for rates A (Δ0²/ε) coth(ε/2k_BT).

    Parameters
    ----------
    a : float
        ω/(A k_B T) (dimensionless, >= 0).

    Returns
    -------
    float
        F(a); π/2 at a = 0 (the plateau Γ = πωC/2), π²/(6a) as a -> ∞, 0 at a = inf.
    """
    if not (a >= 0.0):
        return np.nan
    if a == 0.0:
        return HALF_PI
    if a == np.inf:
        return 0.0
    return universal_F_of_log(math.log(a))


@numba.njit(cache=True)
def universal_F_of_log(t):
    """F(a) of :func:`nems_universal_F_scalar` as a function of t = ln a (finite t).

    Callers that evaluate F for many temperatures at one rate prefactor form
    t = ln(ω/(A k_B)) - ln T by a subtraction instead of a division and a logarithm per point.
    """
    if t < _T_LO:
        a = math.exp(t)
        return HALF_PI - a * (_Q - _P * t)
    if t >= _T_HI:
        a = math.exp(t)
        return (PI2_6 - _R / (a * a)) / a
    return _piecewise_power_series(_COEF, t, _T_LO, _PANELS_PER_UNIT)


@numba.njit(cache=True)
def _piecewise_power_series(coef, t, t_lo, panels_per_unit):
    """Horner's rule on the power series of the panel holding t (tools/build_nems_table.py).

    ``coef[i]`` holds ascending powers of x = 2 (t - t_i) panels_per_unit - 1 in [-1, 1] for
    the panel starting at t_i = t_lo + i / panels_per_unit; t >= t_lo is the caller's job.
    """
    return piecewise_series(coef, (t - t_lo) * panels_per_unit)


@numba.njit(cache=True)
def phonon_F15_of_log(t):
    """Γ_S/(Cω) for n_ph = 3/2 as a function of t = ln a_ph, a_ph = ω/(A_ph (k_BT)^{3/2}).

    ``F(a) = ∫_0^∞ du sech²(u/2) G(a tanh(u/2)/u^{3/2})`` (Maillet Eq. 2 with the rate
    A_ph (Δ0/ε)² ε^{3/2} coth(ε/2k_BT)), from the table; NaN outside t in [-40, 40), where the
    caller integrates instead.
    """
    if not (_N15_T_LO <= t < _N15_T_HI):
        return np.nan
    return _piecewise_power_series(_N15_F, t, _N15_T_LO, _N15_PPU)


@numba.njit(cache=True)
def both_F15_of_log(x1, x2):
    """Γ/(Cω) of the channel with both rates, n_ph = 3/2, from the table.

    ``H(a_el, a_ph) = ∫_0^∞ du sech²(u/2) G(tanh(u/2) / (u/a_el + u^{3/2}/a_ph))`` with
    ``a_el = ω/(A_el k_BT)`` and ``a_ph = ω/(A_ph (k_BT)^{3/2})`` (Maillet Eq. 2-4).

    Parameters
    ----------
    x1 : float
        ln a_el.
    x2 : float
        ln(a_el/a_ph), the log of the ratio of the phonon to the electron rate at ε = k_BT.

    Returns
    -------
    float
        H; NaN for x1 outside [-20, 12) (or a reduction outside the phonon table), where the
        caller integrates instead.
    """
    r = x1 - _N15_X1_LO
    if not (0.0 <= r < _N15_NROW):
        return np.nan
    k = int(r)
    lo = _N15_ROW_LO[k]
    if x2 < lo:
        return universal_F_of_log(x1)  # phonons negligible: the n = 1 function of a_el
    if x2 >= _N15_ROW_HI[k]:
        return phonon_F15_of_log(x1 - x2)  # electrons negligible
    j = min(int(x2 - lo), int(_N15_ROW_HI[k] - lo) - 1)
    X = 2.0 * (r - k) - 1.0
    Y = 2.0 * (x2 - lo - j) - 1.0
    p = _N15_ROW_START[k] + j
    if p < _CHUNK:
        c = _N15_B0[p]
    elif p < 2 * _CHUNK:
        c = _N15_B1[p - _CHUNK]
    elif p < 3 * _CHUNK:
        c = _N15_B2[p - 2 * _CHUNK]
    else:
        c = _N15_B3[p - 3 * _CHUNK]
    # Estrin's scheme in X: about 45 ns instead of Horner's 75 ns per value
    return tensor_series_14(c, X, Y)


@numba.njit(cache=True)
def damping_F15_of_log(t_ph, x1, x):
    """Γ/(Cω) = (1 - x) F_3/2(a_ph) + x H(a_el, a_ph) for n_ph = 3/2, from the tables.

    ``t_ph = ln a_ph`` and ``x1 = ln a_el`` (see :func:`phonon_F15_of_log` and
    :func:`both_F15_of_log`; ``x1`` is not read when ``x = 0``, the superconducting state).
    NaN outside the tables, where the caller integrates instead.
    """
    g = phonon_F15_of_log(t_ph)
    if x == 0.0:
        return g
    return (1.0 - x) * g + x * both_F15_of_log(x1, x1 - t_ph)


@numba.njit(cache=True)
def _damping_integral(T, omega, A_ph, n_ph, A_el):
    """Γ/(Cω) for rate (1 - v²) coth(u/2) [A_ph (k_BT u)^n + A_el k_BT u], by quadrature in u."""
    kT = k_B * T
    ln_Aph = math.log(A_ph) if A_ph > 0.0 else -np.inf

    total = 0.0
    for p in range(_LNU_EDGES.size + _U_EDGES.size - 2):
        in_log = p < _LNU_EDGES.size - 1
        if in_log:
            lo = _LNU_EDGES[p]
            hi = _LNU_EDGES[p + 1]
        else:
            q = p - (_LNU_EDGES.size - 1)
            lo = _U_EDGES[q]
            hi = _U_EDGES[q + 1]
        half = 0.5 * (hi - lo)
        mid = 0.5 * (hi + lo)
        acc = 0.0
        for j in range(_GL_X.size):
            s = mid + half * _GL_X[j]
            u = math.exp(s) if in_log else s
            eu = math.exp(-u)
            sech2 = 4.0 * eu / ((1.0 + eu) * (1.0 + eu))
            coth = (1.0 + eu) / (1.0 - eu) if u > 1e-8 else 2.0 / u
            rate = A_el * kT * u
            if A_ph > 0.0:
                rate += math.exp(ln_Aph + n_ph * math.log(kT * u))
            rate *= coth
            b = omega / rate if rate > 0.0 else np.inf
            g = v_integral(b)
            acc += _GL_W[j] * sech2 * g * (u if in_log else 1.0)
        total += half * acc
    return total


@numba.njit(cache=True)
def damping_over_Comega(T, omega, A_ph, n_ph, A_el, x):
    """Γ_N/(Cω) at one temperature (Γ_S when x = 0 or A_el = 0).

    Parameters
    ----------
    T : float
        Temperature [K], > 0.
    omega : float
        Angular frequency of the mode [rad/s].
    A_ph : float
        Phonon rate prefactor [J^-n s^-1].
    n_ph : float
        Power of ε in the phonon rate (1: 1D bath; 3/2: goalpost; 3: bulk).
    A_el : float
        Electron rate prefactor 4πK/ħ [J^-1 s^-1].
    x : float
        Fraction of TLS coupled to electrons, in [0, 1].
    """
    if not (0.0 < T < np.inf):
        return HALF_PI if T == np.inf else np.nan
    kT = k_B * T
    if n_ph == 1.5 and omega > 0.0 and A_ph > 0.0 and A_el >= 0.0:
        ln_w = math.log(omega)
        t_ph = ln_w - math.log(A_ph) - 1.5 * math.log(kT)
        if A_el > 0.0:
            g = damping_F15_of_log(t_ph, ln_w - math.log(A_el * kT), x)
        else:
            g = damping_F15_of_log(t_ph, 0.0, 0.0)  # no electrons: Γ_S whatever x is
        if g == g:
            return g
    if n_ph == 1.0:
        return damping_n1_over_Comega(T, omega, A_ph, A_el, x)
    g_ph = _damping_integral(T, omega, A_ph, n_ph, 0.0)
    if x == 0.0 or A_el == 0.0:
        return g_ph
    return (1.0 - x) * g_ph + x * _damping_integral(T, omega, A_ph, n_ph, A_el)


@numba.njit(cache=True)
def damping_n1_over_Comega(T, omega, A_ph, A_el, x):
    """:func:`damping_over_Comega` for n_ph = 1: two look-ups of the universal F, no quadrature.

    Its own function so that a kernel whose phonon power is 1 compiles neither the n = 3/2
    tables nor the quadrature (they dominate the first-fit compile time, see the README's
    cold start).
    """
    if not (0.0 < T < np.inf):
        return HALF_PI if T == np.inf else np.nan
    kT = k_B * T
    g_ph = nems_universal_F_scalar(omega / (A_ph * kT)) if A_ph > 0.0 else 0.0
    if x == 0.0:
        return g_ph
    a_both = A_ph + A_el
    g_both = nems_universal_F_scalar(omega / (a_both * kT)) if a_both > 0.0 else 0.0
    return (1.0 - x) * g_ph + x * g_both


@numba.njit(cache=True)
def _nems_damping_1d(T, omega, C, A_ph, n_ph, A_el, x):
    out = np.empty(T.size)
    scale = C * omega
    for i in range(T.size):
        out[i] = scale * damping_over_Comega(T[i], omega, A_ph, n_ph, A_el, x)
    return out


@numba.njit(cache=True)
def _universal_F_1d(a):
    out = np.empty(a.size)
    for i in range(a.size):
        out[i] = nems_universal_F_scalar(a[i])
    return out


def nems_universal_F(a):
    """Universal TLS damping function F(a) = Γ/(Cω) for one rate channel.

    For relaxation rates 1/τ = A (Δ0²/ε) coth(ε/2k_BT) (Maillet Eq. 3 or 4, or both summed),
    Γ = C ω F(a) with a = ω/(A k_B T) (Maillet et al., PRB 107, 064104 (2023), Eq. 2).

    Parameters
    ----------
    a : float or array_like
        ω/(A k_B T) (dimensionless, >= 0).

    Returns
    -------
    float or ndarray
        F(a): π/2 at a = 0 (plateau Γ = πωC/2); π²/(6a) for a -> ∞ (Γ -> (π²/6) C A k_B T).
        Relative accuracy ~1e-15 for every a.
    """
    arr, flat = as_flat(a)
    return restore(_universal_F_1d(flat), arr)


def nems_damping(T, omega, C, A_ph, *, n_ph=1.0, A_el=0.0, x=0.0):
    """TLS damping rate Γ of a nanomechanical mode [s^-1].

    ``Γ = (1 - x) Γ[τ_ph] + x Γ[(1/τ_ph + 1/τ_el)^-1]`` with
    ``1/τ_ph = A_ph (Δ0/ε)² ε^n_ph coth(ε/2k_BT)`` and ``1/τ_el = A_el (Δ0²/ε) coth(ε/2k_BT)``
    (Maillet et al., PRB 107, 064104 (2023), Eq. 2-4).  ``x = 0`` or ``A_el = 0`` is the
    superconducting state Γ_S.  The paper plots Γ/2π in Hz.

    Parameters
    ----------
    T : float or array_like
        Temperature [K], > 0.
    omega : float
        Angular frequency of the mode [rad/s].
    C : float
        Dimensionless TLS coupling constant (the high-T plateau is πωC/2).
    A_ph : float
        Phonon rate prefactor [J^-n_ph s^-1]; see :func:`phonon_rate_prefactor_1d` for n_ph = 1.
    n_ph : float, optional
        Power of ε in the phonon rate: 1 (1D bath), 3/2 (goalpost cantilever), 3 (bulk 3D).
    A_el : float, optional
        Electron rate prefactor [J^-1 s^-1]; see :func:`electron_rate_prefactor`.
    x : float, optional
        Fraction of TLS that relax through electrons, in [0, 1].

    Returns
    -------
    float or ndarray
        Γ [s^-1], same shape as ``T``.

    Notes
    -----
    For n_ph = 1 the cost is two table look-ups per temperature, for n_ph = 3/2 a 1-D and a
    2-D table look-up (relative error ~1e-14; quadrature outside the tables, see the module
    docstring); otherwise a 1-D quadrature of 336 nodes per temperature and channel (relative
    error ~1e-11).
    """
    arr, flat = as_flat(T)
    out = _nems_damping_1d(flat, float(omega), float(C), float(A_ph), float(n_ph),
                           float(A_el), float(x))
    return restore(out, arr)


@numba.njit(cache=True)
def phonon_rate_prefactor_1d_scalar(gamma, rho, e, w, c_l):
    """Maillet Eq. 3, ``A_ph = γ² / (ħ² ρ e w c_l³)`` [J^-1 s^-1], for numba callers.

    The one place the formula is written: the NEMS model kernel and
    :func:`phonon_rate_prefactor_1d` (arguments and units there) both call it.  The products
    are spelt out left to right (not ``**``) because that is the operation order the sampler
    has always used; another order would move the chains in the last bit.
    """
    return gamma * gamma / (hbar * hbar * rho * e * w * c_l * c_l * c_l)


@numba.njit(cache=True)
def electron_rate_prefactor_scalar(K):
    """Maillet Eq. 4, ``A_el = 4π K / ħ`` [J^-1 s^-1], for numba callers (``K`` dimensionless).

    The one place the formula is written: the NEMS model kernel and
    :func:`electron_rate_prefactor` both call it.
    """
    return 4.0 * math.pi * K / hbar


def _scalar_or_array(kernel, *args):
    """``kernel`` (a numba scalar function) on floats, or elementwise on broadcast arrays."""
    if all(np.ndim(a) == 0 for a in args):
        return float(kernel(*(float(a) for a in args)))
    return np.vectorize(kernel, otypes=[np.float64])(*args)


def phonon_rate_prefactor_1d(gamma, rho, e, w, c_l):
    """Prefactor of the quasi-1D phonon relaxation rate (Maillet Eq. 3) [J^-1 s^-1].

    ``A_ph = γ² / (ħ² ρ e w c_l³)``, so that ``1/τ_ph = A_ph (Δ0²/ε) coth(ε/2k_BT)``.

    Parameters
    ----------
    gamma : float
        Deformation potential [J] (multiply eV by ``tlsbayes.physics.constants.e``).
    rho : float
        Mass density [kg/m³].
    e, w : float
        Thickness and width of the beam [m].
    c_l : float
        Longitudinal sound velocity [m/s].
    """
    return _scalar_or_array(phonon_rate_prefactor_1d_scalar, gamma, rho, e, w, c_l)


def electron_rate_prefactor(K):
    """Prefactor of the electron-assisted relaxation rate (Maillet Eq. 4) [J^-1 s^-1].

    ``A_el = 4π K / ħ``, so that ``1/τ_el = A_el (Δ0²/ε) coth(ε/2k_BT)``.

    Parameters
    ----------
    K : float
        Dimensionless electron-TLS coupling (n0 V Ω)², weak coupling K < 1.
    """
    return _scalar_or_array(electron_rate_prefactor_scalar, K)


def crossover_temperature(omega, A, n_ph=1.0):
    """Temperature T* at which ω τ = 1 for a TLS with Δ0 = ε = k_BT*, i.e. a = 1 [K].

    ``ω = A (k_B T*)^n_ph``: the boundary between the plateau (T > T*) and the power law.
    For two channels with n = 1 pass ``A = A_ph + A_el``.
    """
    return (omega / A) ** (1.0 / n_ph) / k_B
