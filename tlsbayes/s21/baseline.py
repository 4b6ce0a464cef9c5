"""The point-estimate method of resonator_tools (Probst et al. 2015): the baseline of the bench.

What the usual tools do with a notch trace (resonator_tools' ``notch_port``; Probst et al.,
Rev. Sci. Instrum. 86, 024706 (2015), Sec. III), implemented here from the paper, not from
their code:

1. **Calibration**: cable delay, algebraic circle fit, phase fit and the off-resonant point
   give ``a``, ``α``, ``τ`` (:func:`tlsbayes.s21.circle.circle_start`, the same published
   steps that start tlsbayes' own fit).  The environment is then *fixed*: no amplitude slope,
   no refit of ``a``, ``α``, ``τ``.
2. **Normalisation**: ``z_n = z e^{2πi (f - f_ref) τ} / (a e^{iα})``, so the off-resonant
   point sits at 1.
3. **Circle of the normalised data**: a second algebraic fit; its centre ``1 - r e^{iφ}``
   and radius ``r = Q_l/(2|Q_c|)`` give φ and |Q_c|, with Q_l and f_r from the phase fit.
4. **Least squares** of ``(f_r, Q_l, |Q_c|, φ)`` on ``z_n`` (the DCM model of
   :mod:`tlsbayes.physics.s21` with ``a = 1``, ``α = τ = 0``) from those values, and
   ``1/Q_i = 1/Q_l - cos φ/|Q_c|`` (Khalil et al. 2012).  Errors from the Jacobian,
   ``s² (JᵀJ)⁻¹`` with ``s² = RSS/(2m - 4)``, propagated linearly to Q_i: a point and a
   quoted sigma, which is what these tools pass onward.

Notch geometry only (the comparison of the bench is on hanger resonators).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..physics import s21 as k
from .circle import circle_start, fit_circle

__all__ = ["PointFit", "circle_lsq_fit"]

_P_FR, _P_QL, _P_QC, _P_PHI = range(4)  # order of the least-squares vector


@dataclass(frozen=True)
class PointFit:
    """Result of :func:`circle_lsq_fit` (NaN everywhere when the fit failed).

    Attributes
    ----------
    f_r : float
        Resonance frequency [Hz].
    Ql, Qc_abs, phi, Qi, Qc : float
        Loaded Q, |Q_c|, mismatch angle [rad], internal Q and DCM Q_c = |Q_c|/cos φ.
    Qi_err : float
        1σ of Q_i from the Jacobian (linear propagation).
    success : bool
    message : str
    """

    f_r: float
    Ql: float
    Qc_abs: float
    phi: float
    Qi: float
    Qc: float
    Qi_err: float
    success: bool
    message: str


def _failed(message: str) -> PointFit:
    nan = math.nan
    return PointFit(nan, nan, nan, nan, nan, nan, nan, False, message)


def _normalised_model(p, f):
    fr, ql, qc, phi = p
    return 1.0 - (ql / qc) * np.exp(1j * phi) / (1.0 + 2j * ql * (f / fr - 1.0))


def circle_lsq_fit(f, z) -> PointFit:
    """Fit one notch trace by the circle method plus least squares (module docstring).

    Parameters
    ----------
    f : ndarray, shape (m,)
        Frequencies [Hz], increasing.
    z : ndarray of complex, shape (m,)

    Returns
    -------
    PointFit
        Never raises for bad data; ``success`` is False with a message instead.
    """
    f = np.asarray(f, dtype=float)
    z = np.asarray(z, dtype=complex)
    try:
        start = circle_start(f, z, "notch")
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        return _failed(f"calibration failed: {exc}")
    th = start.theta
    env = th[k.I_A] * np.exp(1j * (th[k.I_ALPHA] - 2 * np.pi * (f - start.f_ref) * th[k.I_TAU]))
    zn = z / env
    circ = fit_circle(zn)
    ql0 = 1.0 / (th[k.I_INV_QI] + th[k.I_INV_QC])
    if not (np.isfinite(circ.radius) and circ.radius > 0 and np.isfinite(ql0)):
        return _failed("no circle in the normalised data")
    p0 = np.array([th[k.I_FR], ql0, ql0 / (2.0 * circ.radius), float(np.angle(1.0 - circ.center))])
    # scaled coordinates: f_r in linewidths, the Q's relative, φ in rad
    scale = np.array([p0[_P_FR] / abs(p0[_P_QL]), abs(p0[_P_QL]), abs(p0[_P_QC]), 1.0])

    def resid(x):
        r = zn - _normalised_model(p0 + x * scale, f)
        out = np.concatenate([r.real, r.imag])
        return np.where(np.isfinite(out), out, 1e10)

    try:
        res = optimize.least_squares(resid, np.zeros(4), method="lm", xtol=1e-10, ftol=1e-10)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return _failed(f"least squares failed: {exc}")
    fr, ql, qc, phi = p0 + res.x * scale
    dof = max(2 * f.size - 4, 1)
    s2 = 2.0 * res.cost / dof
    inv_qi = 1.0 / ql - math.cos(phi) / qc
    # d(1/Q_i)/dp in scaled coordinates, for the linear error of Q_i = 1/(1/Q_i)
    grad = np.array([0.0, -1.0 / ql ** 2, math.cos(phi) / qc ** 2, math.sin(phi) / qc]) * scale
    try:
        cov = np.linalg.inv(res.jac.T @ res.jac) * s2
        inv_qi_err = float(math.sqrt(max(grad @ cov @ grad, 0.0)))
    except np.linalg.LinAlgError:
        inv_qi_err = math.nan
    qi = 1.0 / inv_qi if inv_qi != 0 else math.inf
    return PointFit(float(fr), float(ql), float(qc), float(phi), float(qi),
                    float(qc / math.cos(phi)), float(inv_qi_err * qi * qi),
                    bool(res.success), str(res.message))
