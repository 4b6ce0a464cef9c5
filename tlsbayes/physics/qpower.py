"""TLS loss versus readout field or power: the "Q-power" model (Defrance Eq. 2/4, 6, 11).

    1/Qi = δ_other + F δ0 tanh(h f / 2 k_B T) / [1 + (|E|/E_c)²]^β

E² is proportional to the stored energy, hence to the photon number and to the readout power,
so the saturation term can be written with any of them: ``(x/x_c)²`` for a field,
``x/x_c`` for a photon number or a power (in W).
"""

import math

import numba
import numpy as np

from ._vec import as_flat, restore
from .field import field_constant as _field_constant
from .constants import EPS_R_SILICON, eps0, h, k_B


@numba.njit(cache=True)
def saturation_factor(x, x_c, beta, power_like):
    """``[1 + (x/x_c)^p]^-β`` with p = 2 (field) or 1 (power-like), free of overflow.

    Parameters
    ----------
    x : float
        Field [V/m], or photon number, or power [W] (>= 0).
    x_c : float
        Critical value in the same unit as ``x`` (> 0).
    beta : float
        Saturation exponent (0.5 for a log-uniform TLS density of states).
    power_like : bool
        ``x`` is proportional to E² (photon number, power) rather than to E.
    """
    r = x / x_c
    if not power_like:
        if r > 1e150:
            # (x/x_c)² would overflow; ln(1 + r²) = 2 ln r to double precision here.
            return math.exp(-2.0 * beta * math.log(r))
        r = r * r
    return math.exp(-beta * math.log1p(r))


@numba.njit(cache=True)
def inverse_q_scalar(T, f, x, delta0, delta_other, x_c, beta, power_like):
    """1/Qi at one (T, f, x); see :func:`tls_inverse_q`."""
    thermal = math.tanh(h * f / (2.0 * k_B * T)) if T > 0.0 else 1.0
    return delta_other + delta0 * thermal * saturation_factor(x, x_c, beta, power_like)


@numba.njit(cache=True)
def _inverse_q_1d(T, f, x, delta0, delta_other, x_c, beta, power_like):
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = inverse_q_scalar(T[i], f[i], x[i], delta0, delta_other, x_c, beta, power_like)
    return out


def tls_inverse_q(T, f, x, delta0, delta_other, x_c, beta, power_like=False):
    """Internal loss 1/Qi of a resonator with TLS (Defrance et al., arXiv:2403.03534, Eq. 4).

    ``1/Qi = δ_other + δ0 tanh(h f/2k_BT) / [1 + (x/x_c)²]^β`` for a field x, or
    ``... / [1 + x/x_c]^β`` when ``power_like`` (x a photon number, or a power in W).

    Parameters
    ----------
    T : float or array_like
        Temperature [K].
    f : float or array_like
        Resonance frequency [Hz].
    x : float or array_like
        Saturation variable: field |E| [V/m], or (``power_like``) photon number or power [W].
    delta0 : float
        F δ0_TLS: filling factor times the zero-T, low-field TLS loss (dimensionless).
    delta_other : float
        Non-TLS loss (dimensionless).
    x_c : float
        Critical field E_c [V/m], or critical photon number / power in the unit of ``x``.
    beta : float
        Saturation exponent (0.5 for a log-uniform TLS density of states).
    power_like : bool, optional
        See ``x``.

    Returns
    -------
    float or ndarray
        1/Qi, with the broadcast shape of ``T``, ``f`` and ``x``.
    """
    Tb, fb, xb = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (T, f, x)))
    arr, flat_x = as_flat(xb)
    out = _inverse_q_1d(as_flat(Tb)[1], as_flat(fb)[1], flat_x, float(delta0),
                        float(delta_other), float(x_c), float(beta), bool(power_like))
    return restore(out, arr)


def field_from_power(P_read, f, Qr, Qc, A0, d, eps_r=EPS_R_SILICON):
    """RMS field in a parallel-plate capacitor of a lumped resonator (Defrance Eq. 6/10).

    ``|E| = sqrt(1/(ε A0 d)) sqrt(P_read/(2π f) Qr²/Qc)``, ε = ε_r ε0, for two identical
    parallel-plate capacitors in series (each of top-plate area A0 and gap d).

    Parameters
    ----------
    P_read : float or array_like
        Readout power at the device [W].
    f : float or array_like
        Resonance frequency [Hz].
    Qr, Qc : float or array_like
        Loaded and coupling quality factors (1/Qr = 1/Qi + 1/Qc).
    A0 : float
        Top-plate area of one capacitor [m²].
    d : float
        Dielectric thickness [m].
    eps_r : float, optional
        Relative permittivity of the dielectric (11.68 for a-Si:H).

    Returns
    -------
    float or ndarray
        |E| [V/m].
    """
    P, f, Qr, Qc = (np.asarray(v, dtype=np.float64) for v in (P_read, f, Qr, Qc))
    E = np.sqrt(P / (2.0 * np.pi * f) * Qr ** 2 / Qc / (eps_r * eps0 * A0 * d))
    return float(E) if E.ndim == 0 else E


def photon_number(P_read, f, Qr, Qc):
    """Mean photon number in the resonator (Defrance Eq. 11).

    ``N = P_read/(π h f²) Qr²/Qc``.

    Parameters
    ----------
    P_read : float or array_like
        Readout power at the device [W].
    f : float or array_like
        Resonance frequency [Hz].
    Qr, Qc : float or array_like
        Loaded and coupling quality factors.

    Returns
    -------
    float or ndarray
        Photon number (dimensionless).
    """
    P, f, Qr, Qc = (np.asarray(v, dtype=np.float64) for v in (P_read, f, Qr, Qc))
    N = P / (np.pi * h * f ** 2) * Qr ** 2 / Qc
    return float(N) if N.ndim == 0 else N


#: ``k = |E|²/Qr²`` of Eq. 6 [V² m⁻²] (:func:`tlsbayes.physics.field.field_constant`, compiled).
field_constant = numba.njit(cache=True)(_field_constant)


@numba.njit(cache=True)
def _loss_at_field(kc, qr, a, delta_other, beta):
    """D = 1/Qi of Eq. 4 at loaded Q ``qr`` (|E|²/E_c² = kc qr²)."""
    return delta_other + a * math.pow(1.0 + kc * qr * qr, -beta)


@numba.njit(cache=True)
def _newton_step(r, kc, inv_qc, a, delta_other, beta):
    """One Newton step on ``φ(r) = r - D(r)`` for the self-consistent loss ``r = 1/Qi``.

    Working with the loss rather than Qi needs three divisions per step instead of six, and
    none at the end (the likelihood wants 1/Qi).
    """
    qr = 1.0 / (r + inv_qc)
    u = kc * qr * qr
    S = math.pow(1.0 + u, -beta)
    D = delta_other + a * S
    # D'(r) = a β S/(1 + u) · 2 u Qr, from dQr/dr = -Qr²
    dD = 2.0 * a * beta * S * u * qr / (1.0 + u)
    return r - (r - D) / (1.0 - dD)


@numba.njit(cache=True)
def self_consistent_core(kc, Qc, a, delta_other, beta, rtol, max_iter):
    """Fixed point ``Qi = g(Qi)`` of Eq. 4 with Eq. 6, in reduced variables; ``(Qi, iterations)``.

    ``g(q) = 1/(δ_other + a [1 + kc Qr(q)²]^-β)`` with ``Qr = 1/(1/q + 1/Qc)``,
    ``a = F δ0 tanh(hf/2k_BT)`` and ``kc = k/E_c²`` (``k`` from :func:`field_constant`).

    g is increasing in q and bounded by g(∞) (loaded Q = Qc, the largest field, hence the
    largest Qi).  Newton's method runs on the loss ``r = 1/q``, solving ``r = D(r)`` with
    ``D = 1/g``, from ``r = 1/g(∞)``; D' is small (Qi enters the field only through Qr), so
    the iteration is quadratic from the first step.  Where strong saturation makes the
    equation bistable (two stable fixed points, e.g. Qi = 3124 and 284 724 at Qc = 1e6,
    a = 5.6e-4, δ_other = 1e-7, β = 0.56, kc = 1.8e-7), starting from the largest field
    gives the largest Qi, the upper branch (a sweep from high power down); the tests hold
    it to the largest root.  A step of relative size s leaves an
    error of order s², hence the stop at ``s <= sqrt(rtol)/10``: the result is within
    ``rtol`` of the fixed point one Newton step earlier than a test on the step itself would
    allow (two steps instead of three at the papers' parameters; the tests hold the result to
    the fixed point to 1e-12).  Should Newton fail, bisection in ln Qi between the
    unsaturated Qi and g(∞) finishes the job.
    """
    inv_qc = 1.0 / Qc
    stop = 0.1 * math.sqrt(rtol)
    r_min = _loss_at_field(kc, Qc, a, delta_other, beta)
    r = r_min
    for it in range(1, max_iter + 1):
        new = _newton_step(r, kc, inv_qc, a, delta_other, beta)
        if not (new > 0.0):
            break
        done = abs(new - r) <= stop * new
        r = new
        if done:
            return 1.0 / r, it
    # Fallback: bisection of h(q) = q - g(q), negative below the fixed point.
    lo = -math.log(delta_other + a)
    hi = -math.log(r_min)
    it = max_iter
    while hi - lo > rtol and it < max_iter + 200:
        it += 1
        mid = 0.5 * (lo + hi)
        q = math.exp(mid)
        qr = 1.0 / (1.0 / q + inv_qc)
        if q * _loss_at_field(kc, qr, a, delta_other, beta) < 1.0:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi)), it


@numba.njit(cache=True)
def self_consistent_inverse_q(kc, Qc, a, delta_other, beta, rtol, max_iter, out):
    """1/Qi at many powers for one parameter set: :func:`self_consistent_core`, batched.

    The same Newton iteration from the same start, but two steps are taken for all powers in
    lockstep (independent, branch-free loops the processor overlaps), and only the powers whose
    second step was not yet below ``sqrt(rtol)/10`` fall back to the full scalar solver.  At
    the papers' parameters every power converges in those two steps; this makes the
    likelihood of a Qi(P) fit 2-3x cheaper than solving power by power.

    Parameters
    ----------
    kc : ndarray, shape (n,)
        ``k/E_c²`` per power (``k`` from :func:`field_constant`) [1].
    Qc, a, delta_other, beta, rtol, max_iter : float
        As in :func:`self_consistent_core`.
    out : ndarray, shape (n,)
        Receives 1/Qi.
    """
    self_consistent_inverse_q_into(kc, Qc, a, delta_other, beta, rtol, max_iter, out,
                                   np.empty(kc.size))


@numba.njit(cache=True)
def self_consistent_inverse_q_into(kc, Qc, a, delta_other, beta, rtol, max_iter, out, step):
    """:func:`self_consistent_inverse_q` with a caller-supplied work array ``step`` (shape
    (n,)), so that a loop over walkers allocates nothing."""
    n = kc.size
    inv_qc = 1.0 / Qc
    stop = 0.1 * math.sqrt(rtol)
    for i in range(n):
        out[i] = _loss_at_field(kc[i], Qc, a, delta_other, beta)
    for _ in range(2):
        for i in range(n):
            new = _newton_step(out[i], kc[i], inv_qc, a, delta_other, beta)
            step[i] = abs(new - out[i]) - stop * new
            out[i] = new
    for i in range(n):
        if not (step[i] <= 0.0 and out[i] > 0.0):
            q, _ = self_consistent_core(kc[i], Qc, a, delta_other, beta, rtol, max_iter)
            out[i] = 1.0 / q


@numba.njit(cache=True)
def self_consistent_scalar(P_read, T, f, Qc, delta0, delta_other, E_c, beta, A0, d, eps_r,
                           rtol, max_iter):
    """Solve Qi = 1/(1/Qi)(E(Qr(Qi))) for one power; returns (Qi, E, iterations).

    See :func:`self_consistent_core` for the method.
    """
    thermal = math.tanh(h * f / (2.0 * k_B * T)) if T > 0.0 else 1.0
    k = field_constant(P_read, f, Qc, A0, d, eps_r)
    qi, it = self_consistent_core(k / (E_c * E_c), Qc, delta0 * thermal, delta_other, beta,
                                  rtol, max_iter)
    return qi, math.sqrt(k) / (1.0 / qi + 1.0 / Qc), it


@numba.njit(cache=True)
def _self_consistent_1d(P, T, f, Qc, delta0, delta_other, E_c, beta, A0, d, eps_r, rtol,
                        max_iter):
    qi = np.empty(P.size)
    E = np.empty(P.size)
    for i in range(P.size):
        qi[i], E[i], _ = self_consistent_scalar(P[i], T, f, Qc, delta0, delta_other, E_c, beta,
                                                A0, d, eps_r, rtol, max_iter)
    return qi, E


def self_consistent_qi(P_read, T, f, Qc, delta0, delta_other, E_c, beta, A0, d,
                       eps_r=EPS_R_SILICON, rtol=1e-13, max_iter=60):
    """Internal Q and field solved together when only P_read and Qc are known.

    The field depends on the loaded Q (Eq. 6) and the loaded Q on Qi (1/Qr = 1/Qi + 1/Qc),
    which depends on the field (Eq. 4).  This returns the fixed point.

    Parameters
    ----------
    P_read : float or array_like
        Readout power at the device [W].
    T : float
        Temperature [K].
    f : float
        Resonance frequency [Hz].
    Qc : float
        Coupling quality factor.
    delta0, delta_other, E_c, beta : float
        TLS parameters of Eq. 4 (E_c in V/m).
    A0, d, eps_r : float
        Capacitor geometry as in :func:`field_from_power`.
    rtol : float, optional
        Relative tolerance on Qi.
    max_iter : int, optional
        Fixed-point iterations before the bisection fallback.

    Returns
    -------
    (Qi, E) : tuple of float or ndarray
        Internal quality factor and |E| [V/m], each shaped like ``P_read``.
    """
    arr, flat = as_flat(P_read)
    qi, E = _self_consistent_1d(flat, float(T), float(f), float(Qc), float(delta0),
                                float(delta_other), float(E_c), float(beta), float(A0),
                                float(d), float(eps_r), float(rtol), int(max_iter))
    return restore(qi, arr), restore(E, arr)
