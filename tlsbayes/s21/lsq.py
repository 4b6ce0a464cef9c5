"""Least-squares refinement of an S21 trace from the circle-fit start.

All eight parameters of :data:`tlsbayes.physics.s21.PARAMS` are fitted together to the real and
imaginary parts (Levenberg–Marquardt, :func:`scipy.optimize.least_squares`), in coordinates
scaled by the expected widths so that the problem is well conditioned: f_r in linewidths
``f_r/Q_l``, the loss rates in units of ``1/Q_l``, a1 per span, τ in turns across the span.

The noise level is estimated twice, and both are returned:

* ``sigma_fit``: from the residual sum of squares, ``RSS / (2m - p)`` per quadrature;
* ``sigma_diff``: from point-to-point differences of the residual, ``mean|r_{j+1} - r_j|² / 4``,
  which removes any smooth misfit (S21.md, "Noise").  Their ratio measures misfit that the
  noise does not explain (:mod:`tlsbayes.s21.quality`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..physics import s21 as k

__all__ = ["LsqFit", "refine", "diff_noise", "param_scales"]


@dataclass(frozen=True)
class LsqFit:
    """Result of :func:`refine`.

    Attributes
    ----------
    theta : ndarray, shape (NPARAMS,)
    cov : ndarray, shape (NPARAMS, NPARAMS)
        ``sigma_fit² (JᵀJ)⁻¹``; NaN where JᵀJ is singular.
    sigma_fit, sigma_diff : float
        Noise per quadrature from the residual sum of squares and from point-to-point
        differences of the residual.
    success : bool
    message : str
    nfev : int
    """

    theta: np.ndarray
    cov: np.ndarray
    sigma_fit: float
    sigma_diff: float
    success: bool
    message: str
    nfev: int


def diff_noise(r) -> float:
    """Noise per quadrature from point-to-point differences of complex residuals ``r``."""
    d = np.diff(np.asarray(r, dtype=complex))
    return float(np.sqrt(np.mean(np.abs(d) ** 2) / 4.0)) if d.size else float("nan")


def param_scales(theta, f) -> np.ndarray:
    """Natural scale of each parameter for a trace over frequencies ``f`` (see module doc)."""
    span = float(f[-1] - f[0]) or 1.0
    inv_ql = abs(theta[k.I_INV_QI] + theta[k.I_INV_QC])
    if not np.isfinite(inv_ql) or inv_ql == 0.0:
        inv_ql = span / abs(theta[k.I_FR])
    a = abs(theta[k.I_A]) or 1.0
    s = np.empty(k.NPARAMS)
    s[k.I_FR] = abs(theta[k.I_FR]) * inv_ql
    s[k.I_INV_QI] = inv_ql
    s[k.I_INV_QC] = inv_ql
    s[k.I_PHI] = 1.0
    s[k.I_A] = a
    s[k.I_A1] = a / span
    s[k.I_ALPHA] = 1.0
    s[k.I_TAU] = 1.0 / span
    return s


def refine(f, z, theta0, f_ref, geometry="notch") -> LsqFit:
    """Least-squares fit of all parameters from ``theta0``.

    Parameters
    ----------
    f : ndarray, shape (m,)
        Frequencies [Hz].
    z : ndarray of complex, shape (m,)
    theta0 : ndarray, shape (NPARAMS,)
        Start (:func:`tlsbayes.s21.circle.circle_start`).
    f_ref : float
        Reference frequency [Hz].
    geometry : str or int

    Returns
    -------
    LsqFit
    """
    f = np.ascontiguousarray(f, dtype=float)
    z = np.asarray(z, dtype=complex)
    code = k.geometry_code(geometry)
    theta0 = np.asarray(theta0, dtype=float)
    scale = param_scales(theta0, f)

    def to_theta(p):
        return theta0 + p * scale

    def resid(p):
        model = k.s21_batch(f, to_theta(p)[None, :], f_ref, code)[0]
        r = z - model
        out = np.concatenate([r.real, r.imag])
        return np.where(np.isfinite(out), out, 1e10)

    try:
        res = optimize.least_squares(resid, np.zeros(k.NPARAMS), method="lm",
                                     xtol=1e-10, ftol=1e-10, max_nfev=200 * k.NPARAMS)
    except (ValueError, np.linalg.LinAlgError) as exc:
        nan = np.full((k.NPARAMS, k.NPARAMS), np.nan)
        return LsqFit(theta0, nan, np.nan, np.nan, False, str(exc), 0)
    theta = to_theta(res.x)
    m = f.size
    rss = 2.0 * res.cost
    sigma_fit = float(np.sqrt(rss / max(2 * m - k.NPARAMS, 1)))
    r = z - k.s21_batch(f, theta[None, :], f_ref, code)[0]
    jtj = res.jac.T @ res.jac
    try:
        cov_p = np.linalg.inv(jtj) * sigma_fit ** 2
        cov = cov_p * np.outer(scale, scale)
    except np.linalg.LinAlgError:
        cov = np.full((k.NPARAMS, k.NPARAMS), np.nan)
    return LsqFit(theta, cov, sigma_fit, diff_noise(r), bool(res.success), str(res.message),
                  int(res.nfev))
