"""Numba kernels of the thermal-quasiparticle models (:mod:`tlsbayes.models.quasiparticle`).

Imported on first prediction, not with the models: the column layout (``PARAMS``,
``CONSTS``) and every index constant are declared once in :mod:`tlsbayes.models.quasiparticle`,
which reading a card needs without numba.
"""

import math

import numba
import numpy as np

from ...physics import constants as K_
from ...physics.quasiparticle import mb_sigma_reduced, qp_inverse_q_scalar, qp_shift_scalar
from ...physics.shift import shift_bracket
from ..specs.quasiparticle import (GAP_DELTA0, FS_F0, FS_DELTA0, FS_ALPHA, FS_GAP, XS_DELTA0, XS_ALPHA,
                             XS_GAP, XS_OFFSET, IQ_DELTA_TLS, IQ_DELTA_OTHER, IQ_ALPHA, IQ_GAP,
                             C_GAP, C_GAP_RATIO, C_F)

__all__ = ["predict_frequency_shift_qp", "predict_fractional_shift_qp", "predict_inverse_q_qp"]


@numba.njit(cache=True)
def _qp_gap(value, by_delta, ratio):
    """(Δ0 [J], Tc [K]) from the gap parameter: Tc [K] or Δ0 [eV], with Δ0 = ratio k_B Tc."""
    if by_delta:
        d0 = value * K_.e
        return d0, d0 / (ratio * K_.k_B)
    return ratio * K_.k_B * value, value


@numba.njit(cache=True)
def _qp_shift_row(T, f, alpha, d0, tc, out, offset):
    """``out[i] = TLS-free quasiparticle shift (α/2)δσ2/σ2(0) + offset``; NaN where T >= Tc.

    Above Tc there is no superconducting resonator, so the prediction is NaN (-inf likelihood).
    """
    s20 = mb_sigma_reduced(0.0, d0 / (K_.h * f), False)[1]
    for i in range(T.size):
        if T[i] >= tc:
            out[i] = np.nan
        else:
            out[i] = offset + qp_shift_scalar(T[i], f, alpha, d0, tc, s20)


@numba.njit(cache=True)
def predict_frequency_shift_qp(P, T, consts):
    by_delta, ratio = int(consts[C_GAP]) == GAP_DELTA0, consts[C_GAP_RATIO]
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    c = K_.h / (2.0 * math.pi * K_.k_B)
    for w in range(nw):
        f0 = P[w, FS_F0]
        scale = P[w, FS_DELTA0] / math.pi
        d0, tc = _qp_gap(P[w, FS_GAP], by_delta, ratio)
        _qp_shift_row(T, f0, P[w, FS_ALPHA], d0, tc, out[w], 0.0)
        for i in range(n):
            y = c * f0 / T[i] if T[i] > 0.0 else np.inf
            out[w, i] = f0 * (1.0 + scale * shift_bracket(y) + out[w, i])
    return out


@numba.njit(cache=True)
def predict_fractional_shift_qp(P, T, consts):
    by_delta, ratio, f = (int(consts[C_GAP]) == GAP_DELTA0, consts[C_GAP_RATIO],
                          consts[C_F])
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    c = K_.h * f / (2.0 * math.pi * K_.k_B)
    for w in range(nw):
        scale = P[w, XS_DELTA0] / math.pi
        d0, tc = _qp_gap(P[w, XS_GAP], by_delta, ratio)
        _qp_shift_row(T, f, P[w, XS_ALPHA], d0, tc, out[w], P[w, XS_OFFSET])
        for i in range(n):
            y = c / T[i] if T[i] > 0.0 else np.inf
            out[w, i] += scale * shift_bracket(y)
    return out


@numba.njit(cache=True)
def predict_inverse_q_qp(P, T, consts):
    by_delta, ratio, f = (int(consts[C_GAP]) == GAP_DELTA0, consts[C_GAP_RATIO],
                          consts[C_F])
    nw, n = P.shape[0], T.size
    out = np.empty((nw, n))
    hf = K_.h * f
    for w in range(nw):
        d_tls, d_other, alpha = P[w, IQ_DELTA_TLS], P[w, IQ_DELTA_OTHER], P[w, IQ_ALPHA]
        d0, tc = _qp_gap(P[w, IQ_GAP], by_delta, ratio)
        for i in range(n):
            t = T[i]
            thermal = math.tanh(hf / (2.0 * K_.k_B * t)) if t > 0.0 else 1.0
            out[w, i] = d_other + d_tls * thermal + qp_inverse_q_scalar(t, f, alpha, d0, tc)
    return out
