"""Resonator transmission/reflection S21 around one resonance, times the measurement line.

Three coupling geometries share one parameter vector (:data:`PARAMS`, indices ``I_*``):

* ``NOTCH`` — hanger (notch) coupling with impedance mismatch, the diameter correction method
  (DCM) of Khalil, Stoutimore, Wellstood, Osborn, J. Appl. Phys. 111, 054510 (2012), Eq. 11,
  as written by Probst et al., Rev. Sci. Instrum. 86, 024706 (2015), Eq. 1::

      S_res(f) = 1 - (Q_l / |Q_c|) e^{iφ} / (1 + 2i Q_l x),     x = (f - f_r) / f_r

  with ``1/Q̂_c = e^{iφ}/|Q_c|`` and ``1/Q_l = 1/Q_i + Re(1/Q̂_c) = 1/Q_i + cos φ / |Q_c|``.
* ``INVERSE`` — the inverse (INV) form of Megrant et al., Appl. Phys. Lett. 100, 113510
  (2012), Eq. 1::

      1 / S_res(f) = 1 + (Q_i / |Q_c*|) e^{iφ} / (1 + 2i Q_i x)

* ``REFLECTION`` — one-port reflection (Probst et al. 2015, Eq. 2 with the mismatch phase)::

      S_res(f) = 1 - 2 (Q_l / |Q_c|) e^{iφ} / (1 + 2i Q_l x)

and the line (the "environment", Probst et al. 2015 Eq. 1) multiplies every geometry::

      S(f) = (a + a1 (f - f_ref)) · exp(i [α - 2π (f - f_ref) τ]) · S_res(f)

optionally times a complex curvature of the background (:data:`BG_PARAMS`, the ``bg``
argument of :func:`s21_batch` and :func:`sq_residual_batch`)::

      B(f) = 1 + (b2_re + i b2_im) (f - f_ref)²       [b2 in 1/Hz²]

which describes a background whose phase and amplitude bend across the span (a standing wave
on the line, dispersion: the NYU traces need it, their residuals are otherwise twice the
noise), still a smooth factor that a resonance of a few linewidths cannot mimic.

Conventions (where sources differ)
----------------------------------
* Sign of the detuning: ``+2i Q x`` (Probst, Khalil); with the opposite time convention
  (``e^{+iωt}`` vs ``e^{-iωt}``) the circle is traversed the other way, which only mirrors φ.
* ``α`` is the line's phase at the reference frequency ``f_ref`` (the span's midpoint in
  tlsbayes), not at f = 0 as in Probst et al.; theirs is ``α + 2π f_ref τ``.  Referring the
  phase to the span keeps α and τ uncorrelated in a fit.
* The loss parameters are the rates ``inv_Qi = 1/Q_i`` and ``inv_Qc = Re(1/Q̂_c) =
  cos φ / |Q_c|`` (``Q_c`` of the DCM is ``1/inv_Qc``).  The response is nearly linear in
  them and ``Q_i -> ∞`` is the finite point ``inv_Qi = 0``, so a posterior stays near-Gaussian
  in these coordinates where it is badly skewed in ``Q_i``.  For ``INVERSE`` the same slots
  hold Megrant's ``1/Q_i`` and ``cos φ / |Q_c*|``.
* DCM and INV describe the same circle exactly (:func:`inverse_from_notch`): with
  ``δ = sin φ / (2 |Q_c|)``, ``f_r,INV = f_r (1 + δ)``, ``Q_i,INV = Q_i (1 + δ)``,
  ``|Q_c*| = |Q_c| (1 + δ)``, same φ.  The difference in Q_i is of order 1/|Q_c|.

All kernels are numba-compiled, in SI units (f in Hz, τ in s, φ and α in rad), and vectorised
over walkers: ``theta`` has shape ``(n, NPARAMS)``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "PARAMS", "NPARAMS", "I_FR", "I_INV_QI", "I_INV_QC", "I_PHI", "I_A", "I_A1", "I_ALPHA",
    "I_TAU", "BG_PARAMS", "NBG", "I_B2_RE", "I_B2_IM", "NOTCH", "INVERSE", "REFLECTION", "GEOMETRIES", "geometry_code",
    "s21_point", "s21_batch", "model_batch", "sq_residual_batch", "uniform_step", "ANCHOR", "s21", "derived_q", "inverse_from_notch",
    "notch_from_inverse",
]

#: Parameter order of every kernel of this module (declared once; use the ``I_*`` constants).
PARAMS = ("f_r", "inv_Qi", "inv_Qc", "phi", "a", "a1", "alpha", "tau")
NPARAMS = len(PARAMS)
I_FR, I_INV_QI, I_INV_QC, I_PHI, I_A, I_A1, I_ALPHA, I_TAU = range(NPARAMS)
#: Parameters of the optional background curvature B(f), columns of the ``bg`` arguments.
BG_PARAMS = ("b2_re", "b2_im")
NBG = len(BG_PARAMS)
I_B2_RE, I_B2_IM = range(NBG)

#: Geometry codes of the kernels.
NOTCH, INVERSE, REFLECTION = 0, 1, 2
GEOMETRIES = {"notch": NOTCH, "inverse": INVERSE, "reflection": REFLECTION}

_TWO_PI = 2.0 * math.pi


def geometry_code(geometry) -> int:
    """Kernel code of a geometry name (``"notch"``, ``"inverse"``, ``"reflection"``) or code."""
    if isinstance(geometry, (int, np.integer)) and int(geometry) in GEOMETRIES.values():
        return int(geometry)
    try:
        return GEOMETRIES[str(geometry).lower()]
    except KeyError:
        raise ValueError(f"unknown S21 geometry {geometry!r}; choose one of "
                         f"{', '.join(GEOMETRIES)}") from None


@numba.njit(cache=True)
def _resonator_constants(geometry, inv_qi, inv_qc, phi):
    """``(Q, c)`` with S_res = 1 - c/(1 + 2iQx) (notch, reflection) or 1/(1 + c/(1 + 2iQx))."""
    tan_phi = math.tan(phi)
    if geometry == INVERSE:
        q = 1.0 / inv_qi
        # (Q_i/|Q_c*|) e^{iφ} = Q_i (cos φ/|Q_c*|) (1 + i tan φ)
        return q, complex(q * inv_qc, q * inv_qc * tan_phi)
    q = 1.0 / (inv_qi + inv_qc)  # Q_l
    k = 2.0 if geometry == REFLECTION else 1.0
    # (Q_l/|Q_c|) e^{iφ} = Q_l (cos φ/|Q_c|) (1 + i tan φ)
    return q, complex(k * q * inv_qc, k * q * inv_qc * tan_phi)


@numba.njit(cache=True)
def _point(f, f_ref, geometry, fr, q, c, a, a1, alpha, tau):
    """S at ``f`` from the resonator constants of :func:`_resonator_constants`."""
    # f - fr and f - f_ref are exact to ~1e-6 Hz for GHz frequencies in float64.
    u = complex(1.0, 2.0 * q * (f - fr) / fr)
    if geometry == INVERSE:
        res = 1.0 / (1.0 + c / u)
    else:
        res = 1.0 - c / u
    df = f - f_ref
    ph = alpha - _TWO_PI * df * tau
    return (a + a1 * df) * complex(math.cos(ph), math.sin(ph)) * res


@numba.njit(cache=True)
def s21_point(f, f_ref, geometry, fr, inv_qi, inv_qc, phi, a, a1, alpha, tau):
    """S21 (S11 for ``REFLECTION``) at one frequency ``f`` [Hz]; see the module docstring.

    Parameters
    ----------
    f, f_ref : float
        Probe and reference frequency [Hz].
    geometry : int
        ``NOTCH``, ``INVERSE`` or ``REFLECTION``.
    fr, inv_qi, inv_qc, phi, a, a1, alpha, tau : float
        The parameters of :data:`PARAMS` in that order (f_r [Hz], 1/Q_i, cos φ/|Q_c|, φ [rad],
        a, a1 [1/Hz], α [rad], τ [s]).

    Returns
    -------
    complex
    """
    q, c = _resonator_constants(geometry, inv_qi, inv_qc, phi)
    return _point(f, f_ref, geometry, fr, q, c, a, a1, alpha, tau)


@numba.njit(cache=True)
def s21_batch(f, theta, f_ref, geometry, bg=None):
    """Model S21 for every walker: ``out[k, j] = S(f[j]; theta[k])``.

    Parameters
    ----------
    f : ndarray, shape (m,)
        Frequencies [Hz].
    theta : ndarray, shape (n, NPARAMS)
        Parameters in the order of :data:`PARAMS`.
    f_ref : float
        Reference frequency of α and of the amplitude slope [Hz].
    geometry : int
    bg : ndarray, shape (n, NBG), optional
        Background curvature of every walker (:data:`BG_PARAMS`); None: ``B(f) = 1``.

    Returns
    -------
    ndarray of complex128, shape (n, m)
    """
    n, m = theta.shape[0], f.size
    out = np.empty((n, m), dtype=np.complex128)
    for k in range(n):
        t = theta[k]
        q, c = _resonator_constants(geometry, t[I_INV_QI], t[I_INV_QC], t[I_PHI])
        b2 = 0j
        if bg is not None:
            b2 = complex(bg[k, I_B2_RE], bg[k, I_B2_IM])
        for j in range(m):
            df = f[j] - f_ref
            out[k, j] = _point(f[j], f_ref, geometry, t[I_FR], q, c, t[I_A], t[I_A1],
                               t[I_ALPHA], t[I_TAU]) * (1.0 + b2 * (df * df))
    return out


#: Points between exact evaluations of the line's phase on a uniform grid (see
#: :func:`sq_residual_batch`): 64 complex products accumulate < 1e-14 of rounding.
ANCHOR = 64


@numba.njit(cache=True)
def sq_residual_batch(f, z_re, z_im, theta, f_ref, geometry, step=0.0, bg=None):
    """Sum over points of ``|z_j - S(f_j; theta_k)|²`` for every walker, without the model array.

    The Gaussian log-likelihood of complex data with independent noise of standard deviation
    σ in each quadrature is ``-out/(2σ²) - 2m ln σ - m ln 2π``.

    Parameters
    ----------
    f, z_re, z_im : ndarray, shape (m,)
        Frequencies [Hz] and the measured real and imaginary parts.
    theta : ndarray, shape (n, NPARAMS)
    f_ref : float
    geometry : int
    step : float, optional
        The grid spacing [Hz] when ``f`` is uniform (``f[j] = f[0] + j·step``); 0 for any grid.
    bg : ndarray, shape (n, NBG), optional
        Background curvature of every walker (:data:`BG_PARAMS`); None: ``B(f) = 1``.

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    The sampler's inner loop, written out in real arithmetic (the same equations as
    :func:`s21_point`, which the tests hold it to).  On a uniform grid the line's phase factor
    is advanced by one complex product per point, ``e^{-2πi τ step}``, and evaluated exactly
    every :data:`ANCHOR` points; this replaces a cosine and a sine per point, about half of
    the cost.
    """
    n, m = theta.shape[0], f.size
    out = np.empty(n)
    for k in range(n):
        t = theta[k]
        q, c = _resonator_constants(geometry, t[I_INV_QI], t[I_INV_QC], t[I_PHI])
        cr, ci = c.real, c.imag
        two_q_over_fr = 2.0 * q / t[I_FR]
        fr, a, a1, alpha = t[I_FR], t[I_A], t[I_A1], t[I_ALPHA]
        w = -_TWO_PI * t[I_TAU]
        sr, si = math.cos(w * step), math.sin(w * step)
        b2r = b2i = 0.0
        if bg is not None:
            b2r, b2i = bg[k, I_B2_RE], bg[k, I_B2_IM]
        er = ei = 0.0
        acc = 0.0
        for j in range(m):
            df = f[j] - f_ref
            if step == 0.0 or j % ANCHOR == 0:
                ph = alpha + w * df
                er, ei = math.cos(ph), math.sin(ph)
            else:
                er, ei = er * sr - ei * si, er * si + ei * sr
            y = two_q_over_fr * (f[j] - fr)
            if geometry == INVERSE:
                # u/(u + c) with u = 1 + iy
                dr_, di_ = 1.0 + cr, y + ci
                inv_d = 1.0 / (dr_ * dr_ + di_ * di_)
                rr = (dr_ + y * di_) * inv_d
                ri = (y * dr_ - di_) * inv_d
            else:
                # 1 - c/u = 1 - c (1 - iy)/(1 + y²)
                inv_d = 1.0 / (1.0 + y * y)
                rr = 1.0 - (cr + ci * y) * inv_d
                ri = -(ci - cr * y) * inv_d
            amp = a + a1 * df
            pr = amp * (er * rr - ei * ri)
            pi = amp * (er * ri + ei * rr)
            if bg is None:  # compiled away when bg is omitted (numba prunes the branch)
                mr, mi = pr, pi
            else:  # times B(f) = 1 + b2 df²
                g = df * df
                mr = pr * (1.0 + b2r * g) - pi * (b2i * g)
                mi = pi * (1.0 + b2r * g) + pr * (b2i * g)
            dr = z_re[j] - mr
            di = z_im[j] - mi
            acc += dr * dr + di * di
        out[k] = acc
    return out


def model_batch(f, theta, f_ref, geometry):
    """:func:`s21_batch` of parameter rows that may carry the background curvature.

    Parameters
    ----------
    f : ndarray, shape (m,)
    theta : ndarray, shape (n, NPARAMS) or (n, NPARAMS + NBG)
        :data:`PARAMS`, then (optionally) :data:`BG_PARAMS`.
    f_ref : float
    geometry : int

    Returns
    -------
    ndarray of complex128, shape (n, m)
    """
    theta = np.ascontiguousarray(np.atleast_2d(theta), dtype=float)
    f = np.ascontiguousarray(f, dtype=float)
    bg = np.ascontiguousarray(theta[:, NPARAMS:NPARAMS + NBG]) \
        if theta.shape[1] >= NPARAMS + NBG else None
    return s21_batch(f, np.ascontiguousarray(theta[:, :NPARAMS]), f_ref, geometry, bg)


def uniform_step(f) -> float:
    """The spacing of ``f`` [Hz] if it is a uniform grid (to 1e-6 of a step), else 0."""
    f = np.asarray(f, dtype=float)
    if f.size < 3:
        return 0.0
    d = np.diff(f)
    step = (f[-1] - f[0]) / (f.size - 1)
    # the recurrence assumes f[j] - f[j-1] = step exactly; allow the rounding of the stored
    # frequencies, which is far below a step
    dev = np.max(np.abs(f - (f[0] + step * np.arange(f.size))))
    return float(step) if step > 0 and dev <= 1e-6 * step and np.all(d > 0) else 0.0


def s21(f, *, f_r, inv_Qi, inv_Qc, phi=0.0, a=1.0, a1=0.0, alpha=0.0, tau=0.0,
        f_ref=None, geometry="notch"):
    """Model S21 (S11 for reflection) at frequencies ``f``; keyword form of :func:`s21_batch`.

    Parameters
    ----------
    f : array_like
        Frequencies [Hz].
    f_r, inv_Qi, inv_Qc, phi, a, a1, alpha, tau : float
        See :data:`PARAMS` and the module docstring.
    f_ref : float, optional
        Reference frequency of α and a1 [Hz]; default the midpoint of ``f``.
    geometry : {"notch", "inverse", "reflection"}

    Returns
    -------
    ndarray of complex128, shape of ``f``
    """
    f = np.asarray(f, dtype=float)
    flat = np.ascontiguousarray(f).reshape(-1)
    if f_ref is None:
        f_ref = 0.5 * (flat.min() + flat.max())
    theta = np.array([[f_r, inv_Qi, inv_Qc, phi, a, a1, alpha, tau]], dtype=float)
    return s21_batch(flat, theta, float(f_ref), geometry_code(geometry))[0].reshape(f.shape)


def derived_q(theta, geometry="notch") -> dict:
    """Q_i, Q_c, |Q_c|, Q_l and f_r from parameter vectors.

    Parameters
    ----------
    theta : array_like, shape (..., NPARAMS)
    geometry : str or int

    Returns
    -------
    dict of ndarray, shape (...)
        ``Qi = 1/inv_Qi``; ``Qc = 1/inv_Qc`` (the DCM Q_c, ``1/Re(1/Q̂_c)``);
        ``Qc_abs = cos φ/inv_Qc`` (|Q_c|, or |Q_c*| for INV); ``Ql = 1/(inv_Qi + inv_Qc)``;
        ``f_r``.  Q_i <= 0 comes out negative or infinite, never NaN.
    """
    theta = np.asarray(theta, dtype=float)
    geometry_code(geometry)
    inv_qi, inv_qc, phi = theta[..., I_INV_QI], theta[..., I_INV_QC], theta[..., I_PHI]
    with np.errstate(divide="ignore"):
        return {
            "f_r": theta[..., I_FR].copy(),
            "Qi": 1.0 / inv_qi,
            "Qc": 1.0 / inv_qc,
            "Qc_abs": np.cos(phi) / inv_qc,
            "Ql": 1.0 / (inv_qi + inv_qc),
        }


def _mismatch_shift(theta) -> np.ndarray:
    # δ = sin φ / (2|Q_c|) = tan φ · (cos φ/|Q_c|) / 2
    return 0.5 * np.tan(theta[..., I_PHI]) * theta[..., I_INV_QC]


def inverse_from_notch(theta) -> np.ndarray:
    """The INV parameters describing exactly the same S21 as the DCM (notch) parameters.

    Derivation: ``1/S_DCM = 1 + (1/Q̂_c) / (1/Q_l - 1/Q̂_c + 2ix)`` and ``1/Q_l - 1/Q̂_c =
    1/Q_i - i sin φ/|Q_c|``, so the inverse circle is Megrant's form with the resonance at
    ``f_r (1 + δ)``, ``δ = sin φ/(2|Q_c|)``; rescaling x to that frequency multiplies Q_i and
    |Q_c*| by ``1 + δ`` and leaves φ and the environment unchanged.

    Parameters
    ----------
    theta : array_like, shape (..., NPARAMS)
        Notch (DCM) parameters.

    Returns
    -------
    ndarray, shape (..., NPARAMS)
    """
    theta = np.array(theta, dtype=float)
    g = 1.0 + _mismatch_shift(theta)
    out = theta.copy()
    out[..., I_FR] = theta[..., I_FR] * g
    out[..., I_INV_QI] = theta[..., I_INV_QI] / g
    out[..., I_INV_QC] = theta[..., I_INV_QC] / g
    return out


def notch_from_inverse(theta) -> np.ndarray:
    """Notch (DCM) parameters from INV parameters; inverse of :func:`inverse_from_notch`.

    With ``δ' = tan φ · inv_Qc,INV / 2 = δ/(1 + δ)`` the factor is ``1 + δ = 1/(1 - δ')``.
    """
    theta = np.array(theta, dtype=float)
    g = 1.0 / (1.0 - _mismatch_shift(theta))
    out = theta.copy()
    out[..., I_FR] = theta[..., I_FR] / g
    out[..., I_INV_QI] = theta[..., I_INV_QI] * g
    out[..., I_INV_QC] = theta[..., I_INV_QC] * g
    return out
