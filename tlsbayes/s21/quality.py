"""Can a trace's fit be trusted?  A status (``ok``, ``flagged``, ``failed``) and a one-line reason.

The checks, on the least-squares fit (:mod:`tlsbayes.s21.lsq`) of the trace:

``failed`` (no number from this trace should be used):

* the fit did not converge, or gave non-finite parameters, or ``Q_l <= 0``;
* **no resonance**: f_r outside the measured span, or a linewidth ``f_r/Q_l`` wider than the
  span or narrower than ``MIN_POINTS_PER_LINEWIDTH`` point spacings (what a fit of noise
  alone latches onto: a background bend or one or two points), or the circle's diameter
  ``a Q_l/|Q_c|`` below ``MIN_SNR`` times the noise per quadrature (``sigma_diff``);
* **Q_i <= 0**: ``1/Q_i`` below zero by more than twice its least-squares error.

``flagged`` (numbers given, to be looked at):

* **Q_i unresolved**: ``1/Q_i`` within twice its error of zero (only a lower limit on Q_i);
* **short span**: the span covers fewer than ``MIN_LINEWIDTHS`` linewidths ``f_r/Q_l``;
* **distorted lineshape**: the residual scatter (``sigma_fit``) exceeds the point-to-point
  noise (``sigma_diff``) by more than ``MAX_EXCESS``: misfit the noise does not explain
  (nonlinear response near bifurcation, drifts);
* **two dips**: the residual, smoothed over about a linewidth, has a localised excursion
  farther than ``DIP_SEPARATION`` linewidths from f_r that is larger than ``DIP_SNR`` times its
  noise and than ``DIP_FRACTION`` of the main dip: a second resonance in the span;
* more than 5 % of the rows were dropped for non-finite values.

Every check is a comparison of numbers the fit already has; none can raise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..physics import s21 as k

__all__ = ["Quality", "assess", "OK", "FLAGGED", "FAILED"]

OK, FLAGGED, FAILED = "ok", "flagged", "failed"
MIN_SNR = 5.0
MIN_POINTS_PER_LINEWIDTH = 2.0
MIN_LINEWIDTHS = 3.0
MAX_EXCESS = 3.0
DIP_SEPARATION = 4.0
DIP_SNR = 8.0
DIP_FRACTION = 0.2
MAX_DROPPED = 0.05


@dataclass(frozen=True)
class Quality:
    """Status and reason of one trace (``reason`` is ``""`` when ``status == "ok"``)."""

    status: str
    reason: str


def _second_dip(f, resid_norm, fr, linewidth, sigma_n, depth) -> float | None:
    """Frequency of a second resonance in the normalised residual, or None."""
    df = np.median(np.diff(f))
    w = int(max(3, min(f.size // 10, round(0.5 * linewidth / df))))
    kernel = np.ones(w) / w
    smooth = np.abs(np.convolve(resid_norm, kernel, mode="same"))
    far = np.abs(f - fr) > DIP_SEPARATION * linewidth
    far[: w // 2] = far[-(w // 2) or None:] = False  # the convolution's edges are biased
    if not far.any():
        return None
    j = int(np.argmax(np.where(far, smooth, -np.inf)))
    if smooth[j] > DIP_SNR * sigma_n / np.sqrt(w) and smooth[j] > DIP_FRACTION * depth:
        return float(f[j])
    return None


def _no_resonance_in_span(f, fr, ql) -> str:
    """Reason why the fitted resonance is not one the data resolve, or ``""``."""
    span = float(f[-1] - f[0])
    if not f[0] <= fr <= f[-1]:
        return f"no resonance in the span: fit put f_r at {fr:.9g} Hz, outside the data"
    linewidth = fr / ql
    if linewidth > span:
        return f"no resonance: fitted linewidth {linewidth / span:.2g} x the span"
    step = span / max(f.size - 1, 1)
    if linewidth < MIN_POINTS_PER_LINEWIDTH * step:
        return (f"no resonance: fitted linewidth {linewidth / step:.2g} x the point spacing "
                f"(< {MIN_POINTS_PER_LINEWIDTH:g})")
    return ""


def assess(f, z, fit, f_ref, geometry="notch", n_dropped: int = 0) -> Quality:
    """Status and reason of a fitted trace (module docstring).

    Parameters
    ----------
    f : ndarray, shape (m,)
    z : ndarray of complex, shape (m,)
    fit : tlsbayes.s21.lsq.LsqFit
    f_ref : float
    geometry : str or int
    n_dropped : int
        Rows dropped by the reader.

    Returns
    -------
    Quality
    """
    th = fit.theta
    code = k.geometry_code(geometry)
    if not fit.success or not np.all(np.isfinite(th)):
        return Quality(FAILED, f"least-squares fit did not converge ({fit.message})")
    q = k.derived_q(th, code)
    ql = float(q["Ql"])
    if not ql > 0:
        return Quality(FAILED, f"no resonance: fit gave Q_l = {ql:.3g} <= 0")
    gone = _no_resonance_in_span(f, float(th[k.I_FR]), ql)
    if gone:
        return Quality(FAILED, gone)
    qc_abs = float(q["Qc_abs"])
    ratio = ql / qc_abs * (2.0 if code == k.REFLECTION else 1.0)
    depth = abs(th[k.I_A]) * abs(ratio)
    sigma = fit.sigma_diff if np.isfinite(fit.sigma_diff) and fit.sigma_diff > 0 else \
        fit.sigma_fit
    snr = depth / sigma if sigma > 0 else np.inf
    if not snr >= MIN_SNR:
        return Quality(FAILED, f"no resonance: dip {snr:.2g} x the noise (< {MIN_SNR:g})")
    inv_qi = th[k.I_INV_QI]
    err = np.sqrt(fit.cov[k.I_INV_QI, k.I_INV_QI]) if np.isfinite(
        fit.cov[k.I_INV_QI, k.I_INV_QI]) else 0.0
    if inv_qi < -2.0 * err:
        return Quality(FAILED, f"Q_i <= 0: 1/Q_i = {inv_qi:.3g} +- {err:.2g}")
    flags = []
    if inv_qi < 2.0 * err:
        flags.append(f"Q_i unresolved: 1/Q_i = {inv_qi:.3g} +- {err:.2g}")
    fr = th[k.I_FR]
    linewidth = fr / ql
    n_lw = (f[-1] - f[0]) / linewidth
    if n_lw < MIN_LINEWIDTHS:
        flags.append(f"span {n_lw:.2g} linewidths (< {MIN_LINEWIDTHS:g})")
    excess = fit.sigma_fit / fit.sigma_diff if fit.sigma_diff > 0 else 1.0
    if excess > MAX_EXCESS:
        flags.append(f"residuals {excess:.2g} x the noise (distorted lineshape?)")
    model = k.model_batch(f, th[None, :], f_ref, code)[0]
    env = (th[k.I_A] + th[k.I_A1] * (f - f_ref)) * np.exp(
        1j * (th[k.I_ALPHA] - 2 * np.pi * (f - f_ref) * th[k.I_TAU]))
    with np.errstate(divide="ignore", invalid="ignore"):
        resid_norm = (z - model) / env
    if np.all(np.isfinite(resid_norm)):
        f2 = _second_dip(f, resid_norm, fr, linewidth, fit.sigma_diff / abs(th[k.I_A]),
                         abs(ratio))
        if f2 is not None:
            flags.append(f"second dip at {f2:.9g} Hz")
    if n_dropped > MAX_DROPPED * (f.size + n_dropped):
        flags.append(f"{n_dropped} non-finite rows dropped")
    return Quality(FLAGGED, "; ".join(flags)) if flags else Quality(OK, "")
