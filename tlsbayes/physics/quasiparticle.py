"""Thermal quasiparticles: BCS gap, Mattis–Bardeen conductivity, resonator shift and loss.

Equations (energies in J, ħω = h f, f the resonance frequency):

* BCS gap, weak coupling, written without the Debye cutoff (the cutoff only sets Tc)::

      ln(Δ0/Δ) = 2 ∫_0^∞ dξ f(E)/E,   E = sqrt(ξ² + Δ²),   Δ0 = π e^(-γ_E) k_B Tc ≈ 1.764 k_B Tc

  (Tinkham, *Introduction to Superconductivity*, 2nd ed., ch. 3; f is the Fermi function).  With ξ = Δ sinh u this is ``ln(1/δ) = 2 ∫_0^∞ du /(exp(δ cosh u/τ) + 1)``
  for δ = Δ(T)/Δ0 and τ = k_B T/Δ0, solved by safeguarded Newton iteration.  The integrand is
  even in u and analytic in the strip |Im u| < π/2, so the trapezoid rule converges
  geometrically (step 1/8: error far below 1e-15).  A card may set Δ0/(k_B Tc) to a value
  other than the BCS one; Δ(T) is then ``Δ0 · δ(T/Tc)`` with the weak-coupling shape δ.

* Mattis–Bardeen conductivity in the local (dirty, thin-film) limit (D. C. Mattis and
  J. Bardeen, Phys. Rev. 111, 412 (1958); Tinkham ch. 3)::

      σ1/σn = (2/ħω) ∫_Δ^∞ [f(E) - f(E+ħω)] g(E) dE
              + (1/ħω) ∫_{Δ-ħω}^{-Δ} [1 - 2 f(E+ħω)] |g(E)| dE        (only if ħω > 2Δ)
      σ2/σn = (1/ħω) ∫_{max(Δ-ħω, -Δ)}^{Δ} [1 - 2 f(E+ħω)] g2(E) dE

      g(E)  = (E² + Δ² + ħωE) / [ sqrt(E² - Δ²) sqrt((E+ħω)² - Δ²) ]
      g2(E) = (E² + Δ² + ħωE) / [ sqrt(Δ² - E²) sqrt((E+ħω)² - Δ²) ]

  Every square-root endpoint singularity is removed by a substitution that makes the
  integrand smooth (E = Δ + ħω sinh² s; E = Δ - ħω cos² φ; E = -Δ cos φ; see the kernel),
  and the smooth integrals are done by fixed Gauss–Legendre panels.  ``f(E) - f(E+ħω)`` is
  evaluated as ``f(E) [1 - f(E+ħω)] (1 - e^(-ħω/k_BT))``, free of cancellation as T -> 0, and
  ``1 - 2f(x) = tanh(x/2k_BT)``; below 2Δ the thermal parts are integrated with the Boltzmann
  factor e^(-Δ/k_BT) taken out (``*_scaled_quadrature``), so that they never underflow.

* Speed: the kernels (:func:`bcs_gap_fraction`, :func:`mb_sigma_reduced`) read the tables of
  :mod:`tlsbayes.physics.mb_table`, built from the quadratures here (the ``*_quadrature``
  functions, kept as the slow twin and used outside the tables' domain);
  :mod:`tlsbayes.physics.quasiparticle_columns` evaluates them for many parameter sets at one
  temperature at once (the model kernels' hot path).

* Resonator response for a thin film (surface impedance Z_s = 1/(σ t), so
  X_s ∝ 1/σ2 and R_s/X_s = σ1/σ2; J. Gao, PhD thesis, Caltech (2008), ch. 2; J. Zmuidzinas,
  Annu. Rev. Condens. Matter Phys. 3, 169 (2012))::

      δf/f0  = -(α/2) δX_s/X_s = (α/2) [σ2(T) - σ2(0)] / σ2(0)      (negative: f drops)
      1/Q_qp = α R_s/X_s      = α σ1(T) / σ2(T)

  α is the kinetic-inductance fraction (for a film that is not thin, α times |γ|, γ = -1/2 in
  the local bulk limit, multiplies both).  δf/f0 is first order in the change of σ2, as in
  the references.  Note: the sign is such that the frequency falls as T rises (σ2 decreases);
  some texts write ``-(α/2) δσ2/σ2`` with δσ2 = σ2(0) - σ2(T).

Low-temperature limits used as checks (not by the kernels), valid for k_BT, ħω << Δ0 with
ξ = ħω/2k_BT (Gao 2008; Zmuidzinas 2012)::

    σ1/σn ≈ (4Δ0/ħω) e^(-Δ0/k_BT) sinh ξ K0(ξ)
    δσ2/σ2 ≈ -e^(-Δ0/k_BT) [ sqrt(2π k_BT/Δ0) + 2 e^(-ξ) I0(ξ) ]
    σ2/σn -> πΔ0/ħω  (T -> 0, ħω << Δ0);   σ2/σn ≈ (πΔ/ħω) tanh(Δ/2k_BT)  (ħω << k_BT, Δ)
"""

import math

import numba
import numpy as np

from ._vec import as_flat, restore
from .constants import BCS_GAP_RATIO, h, k_B
from .mb_table import X_LO as TABLE_X_LO
from .mb_table import (gap_fraction_of_u, sigma2_deficit_of_log, sigma2_zero_of_log,
                       sigma_deficit_and_sigma1_of_log)

# Gauss-Legendre rules on [-1, 1].
_GL24_X, _GL24_W = np.polynomial.legendre.leggauss(24)
_GL32_X, _GL32_W = np.polynomial.legendre.leggauss(32)

_GAP_STEP = 0.125  # trapezoid step in u for the gap equation
_GAP_XMAX = 42.0  # integrand of the gap equation < e^-42 beyond δ cosh u / τ = 42
_THERMAL_CUT = 45.0  # scaled thermal integrands < e^-45 ~ 3e-20 beyond E - Δ = 45 k_BT
_PANELS = 6  # 32-point Gauss-Legendre panels of the T = 0 and thermal integrals (ħω < 2Δ)
#: Δ0/k_BT above which thermal corrections are < e^-45 of σ2
QP_NEGLIGIBLE = 45.0


@numba.njit(cache=True)
def _gap_integral(delta, tau):
    """``I = ∫_0^∞ du /(exp(δ cosh u/τ) + 1)`` and ``dI/dδ`` (trapezoid in u, even integrand)."""
    r = delta / tau
    umax = math.acosh(max(1.0, _GAP_XMAX / r)) if r > 0.0 else 60.0
    n = int(umax / _GAP_STEP) + 1
    s = 0.0
    ds = 0.0
    for k in range(n + 1):
        u = k * _GAP_STEP
        c = math.cosh(u)
        e = math.exp(-r * c)  # the Fermi factor is e/(1+e), overflow-free
        g = e / (1.0 + e)
        wgt = 0.5 if k == 0 else 1.0
        s += wgt * g
        ds += wgt * c * g * (1.0 - g)
    return s * _GAP_STEP, -ds * _GAP_STEP / tau


@numba.njit(cache=True)
def bcs_gap_fraction_quadrature(t):
    """Δ(T)/Δ(0) of weak-coupling BCS theory at reduced temperature t = T/Tc, solved directly.

    The slow twin of :func:`bcs_gap_fraction` (and the source of its table).  Solves
    ``ln(1/δ) = 2 ∫_0^∞ du / (exp(δ cosh u/τ) + 1)``, τ = t/(π e^-γ_E) (the BCS gap
    equation of Tinkham ch. 3, with ξ = Δ sinh u and the cutoff eliminated through Tc) by
    Newton iteration safeguarded by bisection on δ ∈ (0, 1).

    Parameters
    ----------
    t : float
        T/Tc (dimensionless).

    Returns
    -------
    float
        δ = Δ(T)/Δ(0) in [0, 1]: 1 for t <= 0 (and to double precision for t < 0.04),
        0 for t >= 1, NaN for NaN.  Absolute error < 5e-14 (< 5e-15 for t <= 0.99) against the
        Matsubara-sum form of the gap equation (tests/test_quasiparticle.py).
    """
    if t != t:
        return np.nan
    if t >= 1.0:
        return 0.0
    if t <= 0.0:
        return 1.0
    tau = t / BCS_GAP_RATIO
    if tau * _GAP_XMAX < 1.0:  # 1 - δ ≈ 2 ∫ e^(-cosh u/τ) du < 2 e^-42 ≈ 1e-18
        return 1.0
    # Start from the interpolation tanh(1.74 sqrt(1/t - 1)) (~1 % accurate).
    d = math.tanh(1.74 * math.sqrt(1.0 / t - 1.0))
    d = min(max(d, 1e-300), 1.0)
    lo, hi = 0.0, 1.0
    for _ in range(100):
        integral, dint = _gap_integral(d, tau)
        g = -math.log(d) - 2.0 * integral  # decreasing in δ; root is Δ(T)/Δ0
        if g > 0.0:
            lo = d
        else:
            hi = d
        dg = -1.0 / d - 2.0 * dint
        step = g / dg
        new = d - step
        if abs(step) <= 1e-12 * d:
            return new  # Newton converges quadratically: the error of `new` is ~ step²/δ
        if not (lo < new < hi) or not (dg < 0.0):
            new = 0.5 * (lo + hi)
        if hi - lo <= 4e-16 * hi:
            return new
        d = new
    return d


@numba.njit(cache=True)
def bcs_gap_fraction(t):
    """Δ(T)/Δ(0) of weak-coupling BCS theory at t = T/Tc (dimensionless), in [0, 1].

    As :func:`bcs_gap_fraction_quadrature`, read from the table of
    :mod:`tlsbayes.physics.mb_table` (against u = sqrt(1 - t)) for 0.0396 < t < 0.9996; the two
    differ by less than 1e-14 (by the ~1.5e-15/δ scatter of the solver near Tc;
    tests/test_mb_table.py).
    """
    if 0.0 < t < 1.0:
        v = gap_fraction_of_u(math.sqrt(1.0 - t))
        if v == v:
            return min(v, 1.0)  # at low t δ = 1 - O(e^-1.76/t), and the fit scatters by 1e-16
    return bcs_gap_fraction_quadrature(t)


@numba.njit(cache=True)
def _phi_node(phi_max, k):
    """Node k of the composite Gauss–Legendre rule on [0, phi_max]: (node, weight)."""
    hw = 0.5 * phi_max / _PANELS
    p = k // _GL32_X.size
    j = k % _GL32_X.size
    return (2 * p + 1) * hw + hw * _GL32_X[j], hw * _GL32_W[j]


@numba.njit(cache=True)
def sigma2_zero_quadrature(d):
    """σ2(T = 0)/σn = (1/ħω) ∫_{Δ-ħω}^{Δ} g2(E) dE for ħω <= 2Δ (units ħω = 1, d = Δ/ħω >= 1/2).

    E = d - cos² φ: (d - E)(E + 1 - d) = cos² φ sin² φ, dE = 2 sin φ cos φ dφ.
    """
    acc = 0.0
    for k in range(_PANELS * _GL32_X.size):
        phi, w = _phi_node(0.5 * math.pi, k)
        s = math.sin(phi)
        E = d - 1.0 + s * s
        acc += w * (E * E + d * d + E) / math.sqrt((d + E) * (E + 1.0 + d))
    return 2.0 * acc


@numba.njit(cache=True)
def sigma2_deficit_scaled_quadrature(theta, d):
    """``e^(d/θ) [σ2(0) - σ2(T)]/σn = e^(d/θ) (1/ħω) ∫ 2 f(E + ħω) g2(E) dE`` for d >= 1/2.

    Units ħω = 1 (θ = k_BT/ħω > 0).  ``1 - tanh(x/2k_BT) = 2 f(x)``; with v = E + 1 - d =
    sin² φ the scaled occupation is ``2 e^(-v/θ)/(1 + e^(-(d+v)/θ))``, below e^-45 beyond
    v = 45 θ, so the rule covers φ up to asin(sqrt(min(1, 45 θ))) (the peak at v = 0 is then
    resolved however small θ is).  No Boltzmann factor is ever formed: no underflow.
    """
    phi_max = math.asin(math.sqrt(min(1.0, _THERMAL_CUT * theta)))
    acc = 0.0
    for k in range(_PANELS * _GL32_X.size):
        phi, w = _phi_node(phi_max, k)
        s = math.sin(phi)
        v = s * s
        E = d - 1.0 + v
        occ = 2.0 * math.exp(-v / theta) / (1.0 + math.exp(-(d + v) / theta))
        acc += w * occ * (E * E + d * d + E) / math.sqrt((d + E) * (E + 1.0 + d))
    return 2.0 * acc


@numba.njit(cache=True)
def sigma1_scaled_quadrature(theta, d):
    """``e^(d/θ) (2/ħω) ∫_Δ^∞ [f(E) - f(E+ħω)] g(E) dE`` (units ħω = 1, θ = k_BT/ħω > 0).

    E = d + sinh² s turns dE / (sqrt(E²-d²) sqrt((E+1)²-d²)) into
    2 ds / (sqrt(E+d) sqrt(E+1+d)), smooth at s = 0; the scaled factor
    ``e^(d/θ) f(E) [1 - f(E+1)] (1 - e^(-1/θ))`` is below e^-45 beyond E - d = 45 θ.
    Six 32-point panels: a rule of twice the nodes agrees to ~1e-16, also at k_BT >> ħω
    (where the 48 nodes this kernel once used were off by up to 1e-6).
    """
    smax = math.asinh(math.sqrt(_THERMAL_CUT * theta))
    pair = -math.expm1(-1.0 / theta)
    boltz = math.exp(-1.0 / theta)
    acc = 0.0
    for k in range(_PANELS * _GL32_X.size):
        s, w = _phi_node(smax, k)
        sh = math.sinh(s)
        E = d + sh * sh
        ea = math.exp(-E / theta)
        df = math.exp(-sh * sh / theta) / (1.0 + ea) / (1.0 + ea * boltz) * pair
        acc += w * df * (E * E + d * d + E) / math.sqrt((E + d) * (E + 1.0 + d))
    return 4.0 * acc


@numba.njit(cache=True)
def _pair_breaking(theta, d):
    """``(1/ħω) ∫_{Δ-ħω}^{-Δ} [1 - 2 f(E+ħω)] |g(E)| dE`` for ħω > 2Δ (units ħω = 1).

    -E - d = w sin² φ, E + 1 - d = w cos² φ (w = 1 - 2d) make the integrand smooth.
    """
    w = 1.0 - 2.0 * d
    acc = 0.0
    for k in range(_GL24_X.size):
        phi = 0.25 * math.pi * (_GL24_X[k] + 1.0)
        sn = math.sin(phi)
        E = -d - w * sn * sn
        th = math.tanh((E + 1.0) / (2.0 * theta)) if theta > 0.0 else 1.0
        acc += _GL24_W[k] * th * (-(E * E + E + d * d)) / math.sqrt((d - E) * (E + 1.0 + d))
    return 0.5 * math.pi * acc


@numba.njit(cache=True)
def _sigma2_pair_breaking(theta, d):
    """σ2/σn for ħω > 2Δ (units ħω = 1, d < 1/2): E = -d cos φ, dE/sqrt(d² - E²) = dφ."""
    acc = 0.0
    for k in range(_GL24_X.size):
        phi = 0.5 * math.pi * (_GL24_X[k] + 1.0)
        E = -d * math.cos(phi)
        th = math.tanh((E + 1.0) / (2.0 * theta)) if theta > 0.0 else 1.0
        acc += _GL24_W[k] * th * (E * E + d * d + E) / math.sqrt((E + 1.0) ** 2 - d * d)
    return 0.5 * math.pi * acc


@numba.njit(cache=True)
def mb_sigma_quadrature(theta, d, want_sigma1):
    """Mattis–Bardeen (σ1/σn, σ2/σn) in reduced units by quadrature: the slow twin.

    Same arguments and results as :func:`mb_sigma_reduced`, computed from the integrals at
    every call; the source of the tables and the fallback outside their domain.
    """
    if not (theta >= 0.0 and d >= 0.0):
        return np.nan, np.nan
    if d == 0.0:
        return 1.0, 0.0
    # e^(-d/θ): 0 at θ = 0 and once it underflows (d/θ > 745); the thermal terms then vanish
    boltz = math.exp(-d / theta) if theta > 0.0 and d < 745.0 * theta else 0.0
    if d >= 0.5:
        s2 = sigma2_zero_quadrature(d)
        if boltz > 0.0:
            s2 -= boltz * sigma2_deficit_scaled_quadrature(theta, d)
    else:
        s2 = _sigma2_pair_breaking(theta, d)
    s1 = 0.0
    if want_sigma1:
        if boltz > 0.0:
            s1 = boltz * sigma1_scaled_quadrature(theta, d)
        if d < 0.5:
            s1 += _pair_breaking(theta, d)
    return s1, s2


@numba.njit(cache=True)
def mb_sigma_reduced(theta, d, want_sigma1):
    """Mattis–Bardeen (σ1/σn, σ2/σn) in reduced units.

    From the tables of :mod:`tlsbayes.physics.mb_table` (in a = k_BT/Δ = θ/d and
    b = ħω/Δ = 1/d) where they are defined, ħω < Δ, 1.5e-3 <= a < 12 (any a for σ2 alone
    below that), and by :func:`mb_sigma_quadrature` elsewhere; the two agree to 1e-12
    relative over the whole table domain (tests/test_mb_table.py).

    Parameters
    ----------
    theta : float
        k_B T / (h f) (>= 0).
    d : float
        Δ(T) / (h f) (>= 0; 0 is the normal state).
    want_sigma1 : bool
        Compute σ1 (otherwise 0 is returned for it, saving most of the work).

    Returns
    -------
    (float, float)
        σ1/σn and σ2/σn (Mattis & Bardeen, Phys. Rev. 111, 412 (1958); module docstring).
    """
    if theta >= 0.0 and d > 0.0:
        y = -math.log(d)
        pi_d = math.pi * d  # σ = (π/b) × table, π/b = π d
        s0 = sigma2_zero_of_log(y)
        if s0 == s0:
            if theta == 0.0:
                return 0.0, pi_d * s0
            x = math.log(theta / d)
            boltz = math.exp(-d / theta)  # e^(-1/a), a = k_BT/Δ
            if x < TABLE_X_LO:  # e^(-1/a) < e^-665: σ2 is σ2(0) to double precision
                s1 = boltz * sigma1_scaled_quadrature(theta, d) if want_sigma1 else 0.0
                return s1, pi_d * s0
            if want_sigma1:
                th, s1 = sigma_deficit_and_sigma1_of_log(x, y)
                if th == th:
                    return pi_d * boltz * s1, pi_d * (s0 - boltz * th)
            else:
                th = sigma2_deficit_of_log(x, y)
                if th == th:
                    return 0.0, pi_d * (s0 - boltz * th)
    return mb_sigma_quadrature(theta, d, want_sigma1)


@numba.njit(cache=True)
def mb_sigma_scalar(T, f, Delta0, Tc):
    """(σ1/σn, σ2/σn) at temperature T [K], frequency f [Hz], gap Δ0 [J] and Tc [K].

    Δ(T) = Δ0 · :func:`bcs_gap_fraction` (T/Tc).
    """
    hf = h * f
    d = Delta0 * bcs_gap_fraction(T / Tc) / hf
    return mb_sigma_reduced(k_B * T / hf, d, True)


@numba.njit(cache=True)
def qp_shift_scalar(T, f, alpha, Delta0, Tc, sigma2_zero):
    """Quasiparticle fractional frequency shift ``(α/2)[σ2(T) - σ2(0)]/σ2(0)``.

    ``sigma2_zero`` is σ2(0)/σn = ``mb_sigma_reduced(0, Δ0/hf, False)[1]``, passed in so that
    callers evaluate it once per parameter set.  Exactly 0 once Δ0/k_BT > 45 (the thermal
    terms are then below e^-45 ≈ 3e-20 of σ2).
    """
    hf = h * f
    kT = k_B * T
    if not (kT * QP_NEGLIGIBLE < Delta0):
        t = T / Tc
        if t != t or T < 0.0:
            return np.nan
        d = Delta0 * bcs_gap_fraction(t) / hf
        s2 = mb_sigma_reduced(kT / hf, d, False)[1]
        return 0.5 * alpha * (s2 - sigma2_zero) / sigma2_zero
    if T != T or T < 0.0:
        return np.nan
    return 0.0


@numba.njit(cache=True)
def qp_inverse_q_scalar(T, f, alpha, Delta0, Tc):
    """Quasiparticle loss ``1/Q_qp = α σ1(T)/σ2(T)`` (inf in the normal state)."""
    if T != T or T < 0.0:
        return np.nan
    hf = h * f
    d = Delta0 * bcs_gap_fraction(T / Tc) / hf
    s1, s2 = mb_sigma_reduced(k_B * T / hf, d, True)
    if s2 <= 0.0:
        return np.inf
    return alpha * s1 / s2


# --- public, array-friendly wrappers ---------------------------------------------------------

def _gap_J(Tc, Delta0):
    return BCS_GAP_RATIO * k_B * float(Tc) if Delta0 is None else float(Delta0)


@numba.njit(cache=True)
def _gap_fraction_1d(t):
    out = np.empty(t.size)
    for i in range(t.size):
        out[i] = bcs_gap_fraction(t[i])
    return out


@numba.njit(cache=True)
def _sigma_1d(T, f, Delta0, Tc):
    s1 = np.empty(T.size)
    s2 = np.empty(T.size)
    for i in range(T.size):
        s1[i], s2[i] = mb_sigma_scalar(T[i], f, Delta0, Tc)
    return s1, s2


@numba.njit(cache=True)
def _shift_1d(T, f, alpha, Delta0, Tc):
    s20 = mb_sigma_reduced(0.0, Delta0 / (h * f), False)[1]
    out = np.empty(T.size)
    for i in range(T.size):
        out[i] = qp_shift_scalar(T[i], f, alpha, Delta0, Tc, s20)
    return out


@numba.njit(cache=True)
def _inverse_q_1d(T, f, alpha, Delta0, Tc):
    out = np.empty(T.size)
    for i in range(T.size):
        out[i] = qp_inverse_q_scalar(T[i], f, alpha, Delta0, Tc)
    return out


def bcs_gap(T, Tc, Delta0=None):
    """Superconducting gap Δ(T) [J] of weak-coupling BCS theory.

    Parameters
    ----------
    T : float or array_like
        Temperature [K].
    Tc : float
        Critical temperature [K].
    Delta0 : float, optional
        Zero-temperature gap [J]; default ``BCS_GAP_RATIO * k_B * Tc`` (≈ 1.764 k_B Tc).

    Returns
    -------
    float or ndarray
        ``Δ0 · δ(T/Tc)``, δ from :func:`bcs_gap_fraction`; same shape as ``T``.
    """
    arr, flat = as_flat(T)
    return restore(_gap_J(Tc, Delta0) * _gap_fraction_1d(flat / float(Tc)), arr)


def mattis_bardeen_sigma(T, f, Tc, Delta0=None):
    """Mattis–Bardeen complex conductivity (σ1/σn, σ2/σn) of a superconductor.

    Local (dirty) limit, Mattis & Bardeen, Phys. Rev. 111, 412 (1958); see the module
    docstring for the integrals.

    Parameters
    ----------
    T : float or array_like
        Temperature [K] (>= 0).
    f : float
        Frequency [Hz] (> 0).
    Tc : float
        Critical temperature [K].
    Delta0 : float, optional
        Zero-temperature gap [J]; default ≈ 1.764 k_B Tc.

    Returns
    -------
    (float or ndarray, float or ndarray)
        σ1/σn and σ2/σn, each the shape of ``T``.
    """
    arr, flat = as_flat(T)
    s1, s2 = _sigma_1d(flat, float(f), _gap_J(Tc, Delta0), float(Tc))
    return restore(s1, arr), restore(s2, arr)


def qp_frequency_shift(T, f, alpha, Tc, Delta0=None):
    """Fractional frequency shift by thermal quasiparticles, thin film.

    ``δf/f0 = (α/2) [σ2(T) - σ2(0)] / σ2(0)`` (Gao, PhD thesis, Caltech 2008, ch. 2;
    Zmuidzinas, Annu. Rev. CMP 3, 169 (2012)); negative, -> 0 as T -> 0.

    Parameters
    ----------
    T : float or array_like
        Temperature [K].
    f : float
        Resonance frequency [Hz].
    alpha : float
        Kinetic-inductance fraction (dimensionless, 0..1).
    Tc : float
        Critical temperature [K].
    Delta0 : float, optional
        Zero-temperature gap [J]; default ≈ 1.764 k_B Tc.

    Returns
    -------
    float or ndarray
        δf/f0, same shape as ``T``.
    """
    arr, flat = as_flat(T)
    return restore(_shift_1d(flat, float(f), float(alpha), _gap_J(Tc, Delta0), float(Tc)), arr)


def qp_inverse_q(T, f, alpha, Tc, Delta0=None):
    """Internal loss by thermal quasiparticles, thin film: ``1/Q_qp = α σ1(T)/σ2(T)``.

    (Gao 2008; Zmuidzinas 2012; σ from Mattis & Bardeen 1958.)  The parameters
    ``T`` [K], ``f`` [Hz], ``alpha``, ``Tc`` [K] and ``Delta0`` [J] are those of
    :func:`qp_frequency_shift`.

    Returns
    -------
    float or ndarray
        1/Q_qp, same shape as ``T`` (inf at T >= Tc).
    """
    arr, flat = as_flat(T)
    return restore(_inverse_q_1d(flat, float(f), float(alpha), _gap_J(Tc, Delta0), float(Tc)),
                   arr)
