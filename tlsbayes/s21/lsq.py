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

**Background curvature** (:func:`choose_background`).  When the residual scatter exceeds the
point-to-point noise by more than ``TRY_BACKGROUND``, the fit is repeated with the complex
curvature ``B(f) = 1 + b2 (f - f_ref)²`` of :mod:`tlsbayes.physics.s21` and kept when it
lowers the residual sum of squares by more than the Bayesian information criterion asks of
two more parameters, ``ΔRSS/σ_diff² > 2 ln(2m)``.  The 20 NYU traces need it: with the
linear background their residuals are 1.9-2.2 x the point-to-point noise, smooth across the
span (residual autocorrelation 0.75-0.79 at lags 1, 2 and 5, so not correlated noise, which
would decay with the lag), and a complex quadratic factor brings them to 1.1-1.2 x
(a cubic one to 1.03 x), moving Q_i by +0.3-0.6 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..physics import s21 as k

__all__ = ["LsqFit", "refine", "diff_noise", "param_scales", "choose_background",
           "TRY_BACKGROUND"]

#: Residual scatter over point-to-point noise above which the curved background is tried.
TRY_BACKGROUND = 1.3


@dataclass(frozen=True)
class LsqFit:
    """Result of :func:`refine`.

    Attributes
    ----------
    theta : ndarray, shape (p,)
        :data:`~tlsbayes.physics.s21.PARAMS`, then :data:`~tlsbayes.physics.s21.BG_PARAMS`
        when ``background`` (p = NPARAMS or NPARAMS + NBG).
    cov : ndarray, shape (p, p)
        ``sigma_fit² (JᵀJ)⁻¹``; NaN where JᵀJ is singular.
    sigma_fit, sigma_diff : float
        Noise per quadrature from the residual sum of squares and from point-to-point
        differences of the residual.
    success : bool
    message : str
    nfev : int
    background : bool
        The background curvature was fitted.
    """

    theta: np.ndarray
    cov: np.ndarray
    sigma_fit: float
    sigma_diff: float
    success: bool
    message: str
    nfev: int
    background: bool = False


def diff_noise(r) -> float:
    """Noise per quadrature from point-to-point differences of complex residuals ``r``."""
    d = np.diff(np.asarray(r, dtype=complex))
    return float(np.sqrt(np.mean(np.abs(d) ** 2) / 4.0)) if d.size else float("nan")


def param_scales(theta, f) -> np.ndarray:
    """Natural scale of each parameter for a trace over frequencies ``f`` (see module doc);
    the background curvature, when ``theta`` has it, in units of ``1/(span/2)²``."""
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
    if len(theta) > k.NPARAMS:
        s = np.append(s, np.full(len(theta) - k.NPARAMS, 4.0 / span ** 2))
    return s


def refine(f, z, theta0, f_ref, geometry="notch", background=False) -> LsqFit:
    """Least-squares fit of all parameters from ``theta0``.

    Parameters
    ----------
    f : ndarray, shape (m,)
        Frequencies [Hz].
    z : ndarray of complex, shape (m,)
    theta0 : ndarray, shape (NPARAMS,) or (NPARAMS + NBG,)
        Start (:func:`tlsbayes.s21.circle.circle_start`); a missing curvature starts at 0.
    f_ref : float
        Reference frequency [Hz].
    geometry : str or int
    background : bool
        Also fit the background curvature (:data:`tlsbayes.physics.s21.BG_PARAMS`).

    Returns
    -------
    LsqFit
    """
    f = np.ascontiguousarray(f, dtype=float)
    z = np.asarray(z, dtype=complex)
    code = k.geometry_code(geometry)
    npar = k.NPARAMS + (k.NBG if background else 0)
    given = np.asarray(theta0, dtype=float)[:npar]
    theta0 = np.zeros(npar)
    theta0[: given.size] = given
    scale = param_scales(theta0, f)

    def to_theta(p):
        return theta0 + p * scale

    def resid(p):
        r = z - k.model_batch(f, to_theta(p)[None, :], f_ref, code)[0]
        out = np.concatenate([r.real, r.imag])
        return np.where(np.isfinite(out), out, 1e10)

    try:
        res = optimize.least_squares(resid, np.zeros(npar), method="lm",
                                     xtol=1e-10, ftol=1e-10, max_nfev=200 * npar)
    except (ValueError, np.linalg.LinAlgError) as exc:
        nan = np.full((npar, npar), np.nan)
        return LsqFit(theta0, nan, np.nan, np.nan, False, str(exc), 0, background)
    theta = to_theta(res.x)
    # the model depends on φ only through tan φ (with cos φ/|Q_c| a parameter of its own), so
    # φ is defined modulo π; the branch (-π/2, π/2] is the one with |Q_c| = cos φ/inv_Qc > 0
    if not -0.5 * np.pi < theta[k.I_PHI] <= 0.5 * np.pi:
        theta[k.I_PHI] = -((-theta[k.I_PHI] + 0.5 * np.pi) % np.pi - 0.5 * np.pi)
    m = f.size
    rss = 2.0 * res.cost
    sigma_fit = float(np.sqrt(rss / max(2 * m - npar, 1)))
    r = z - k.model_batch(f, theta[None, :], f_ref, code)[0]
    jtj = res.jac.T @ res.jac
    try:
        cov_p = np.linalg.inv(jtj) * sigma_fit ** 2
        cov = cov_p * np.outer(scale, scale)
    except np.linalg.LinAlgError:
        cov = np.full((npar, npar), np.nan)
    return LsqFit(theta, cov, sigma_fit, diff_noise(r), bool(res.success), str(res.message),
                  int(res.nfev), background)


def choose_background(f, z, fit: LsqFit, f_ref, geometry="notch") -> LsqFit:
    """``fit``, or the fit with the background curvature when the data ask for it.

    Tried when ``sigma_fit > TRY_BACKGROUND * sigma_diff``; kept when it lowers the residual
    sum of squares by more than ``NBG ln(2m) sigma_diff²`` (module docstring) and bends the
    background by less than 100 % at the edges (``|b2| (span/2)² < 1``, the prior's box).

    Parameters
    ----------
    f, z : ndarray, shape (m,)
    fit : LsqFit
        The fit without curvature.
    f_ref : float
    geometry : str or int

    Returns
    -------
    LsqFit
    """
    if fit.background or not fit.success or not fit.sigma_fit > TRY_BACKGROUND * fit.sigma_diff:
        return fit
    alt = refine(f, z, fit.theta, f_ref, geometry, background=True)
    span = float(np.asarray(f)[-1] - np.asarray(f)[0])
    if not alt.success or not np.all(np.isfinite(alt.theta)) or np.any(
            np.abs(alt.theta[k.NPARAMS:]) * (0.5 * span) ** 2 >= 1.0):
        # a bend of the background by 100 % or more at the edges of the span is no
        # background: the curvature is standing in for the resonance (short spans, low SNR)
        return fit
    m = np.asarray(f).size
    rss0 = fit.sigma_fit ** 2 * (2 * m - k.NPARAMS)
    rss1 = alt.sigma_fit ** 2 * (2 * m - k.NPARAMS - k.NBG)
    gain = (rss0 - rss1) / fit.sigma_diff ** 2
    return alt if gain > k.NBG * np.log(2 * m) else fit
